//! Named, independent random streams (common random numbers).
//!
//! Every consumer of randomness draws from its own `ChaCha8Rng`, keyed by (run seed, stream name,
//! index). Changing how one component uses randomness (say, a different placement strategy
//! breaking ties) therefore leaves every other stream — arrivals, run times — untouched, so two
//! configurations are compared on identical work. ChaCha is used because rand documents it as
//! portable and value-stable, unlike `StdRng`/`SmallRng`.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Factory for the named streams of one run.
#[derive(Debug, Clone, Copy)]
pub struct RngStreams {
    seed: u64,
}

impl RngStreams {
    pub fn new(seed: u64) -> RngStreams {
        RngStreams { seed }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The stream `name`/`index`, e.g. `("arrivals", workload_index)`.
    ///
    /// The 256-bit key is derived from the seed and the name; the index selects one of ChaCha's
    /// 2^64 streams. Stream 0 equals the unstreamed generator, which is harmless
    /// here because the key already differs per name.
    pub fn stream(&self, name: &str, index: u64) -> ChaCha8Rng {
        let mut key = [0u8; 32];
        let mut state = stable_hash64(name.as_bytes()) ^ self.seed.rotate_left(17);
        for chunk in key.chunks_exact_mut(8) {
            chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
        }
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(index);
        rng
    }
}

/// Seed of replication `replication` of a scenario whose seed is `scenario_seed`.
///
/// Every sweep point uses the same replication seeds, so all points see the same arrivals.
pub fn derive_seed(scenario_seed: u64, replication: u64) -> u64 {
    let mut state = scenario_seed ^ 0x5EED_0FC1_057E_2500_u64.wrapping_mul(replication.wrapping_add(1));
    splitmix64(&mut state)
}

/// FNV-1a, 64-bit: a hash whose value is fixed forever (unlike `std`'s `DefaultHasher`).
pub fn stable_hash64(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn same_name_and_index_give_the_same_stream() {
        let s = RngStreams::new(7);
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = s.stream("arrivals", 2);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = s.stream("arrivals", 2);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn different_names_indices_and_seeds_give_different_streams() {
        let s = RngStreams::new(7);
        let first = |mut r: ChaCha8Rng| r.next_u64();
        let base = first(s.stream("arrivals", 0));
        assert_ne!(base, first(s.stream("arrivals", 1)));
        assert_ne!(base, first(s.stream("placement", 0)));
        assert_ne!(base, first(RngStreams::new(8).stream("arrivals", 0)));
    }

    #[test]
    fn stream_values_are_pinned_so_results_stay_comparable_across_releases() {
        // If this changes, every published result changes: bump the major version.
        let mut r = RngStreams::new(42).stream("arrivals", 0);
        let v = r.next_u64();
        assert_eq!(v, 17_120_568_608_852_869_962);
        assert_eq!(stable_hash64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn replication_seeds_differ_and_are_stable() {
        assert_ne!(derive_seed(1, 0), derive_seed(1, 1));
        assert_ne!(derive_seed(1, 0), derive_seed(2, 0));
        assert_eq!(derive_seed(1, 3), derive_seed(1, 3));
    }
}
