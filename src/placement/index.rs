//! Hosts bucketed by free CPU and by free memory, per AZ, so that binpack finds the tightest fit
//! in O(log distinct-values) instead of scanning every host, and random/tie-break picks are O(1).

use std::collections::BTreeMap;

use crate::model::{AzId, Cluster, HostId};

use super::Resource;

/// Per AZ, the free amounts of one resource that some host has, each naming its bucket.
#[derive(Debug, Clone, Default)]
struct Buckets {
    per_az: Vec<KeyMap>,
}

/// Free amounts in increasing order, each with its bucket: a sorted vector while there are few
/// (a binary search over a few cache lines beats a B-tree's node walk, and a new or vanished
/// amount moves at most [`KeyMap::SMALL_MAX`] entries), a B-tree once there are many (hosts of
/// many sizes with tasks of many sizes), so that no update costs more than O(log n).
#[derive(Debug, Clone)]
enum KeyMap {
    Small(Vec<(u32, u32)>),
    Large(BTreeMap<u32, u32>),
}

impl Default for KeyMap {
    fn default() -> KeyMap {
        KeyMap::Small(Vec::new())
    }
}

/// The entries of a [`KeyMap`] in a key range, in increasing order.
enum KeyRange<'a> {
    Small(std::slice::Iter<'a, (u32, u32)>),
    Large(std::collections::btree_map::Range<'a, u32, u32>),
}

impl Iterator for KeyRange<'_> {
    type Item = (u32, u32);

    fn next(&mut self) -> Option<(u32, u32)> {
        match self {
            KeyRange::Small(it) => it.next().copied(),
            KeyRange::Large(it) => it.next().map(|(k, b)| (*k, *b)),
        }
    }
}

impl KeyMap {
    /// Above this many amounts the vector becomes a B-tree …
    const SMALL_MAX: usize = 256;
    /// … and below this many the B-tree becomes a vector again (hysteresis: no flapping).
    const LARGE_MIN: usize = 64;

    fn get(&self, key: u32) -> Option<u32> {
        match self {
            KeyMap::Small(v) => v.binary_search_by_key(&key, |e| e.0).ok().map(|i| v[i].1),
            KeyMap::Large(m) => m.get(&key).copied(),
        }
    }

    /// Adds an amount not yet present.
    fn insert(&mut self, key: u32, bucket: u32) {
        match self {
            KeyMap::Small(v) => {
                let i = v.partition_point(|e| e.0 < key);
                debug_assert!(v.get(i).is_none_or(|e| e.0 != key), "amount {key} filed twice");
                v.insert(i, (key, bucket));
                if v.len() > Self::SMALL_MAX {
                    *self = KeyMap::Large(v.iter().copied().collect());
                }
            }
            KeyMap::Large(m) => {
                m.insert(key, bucket);
            }
        }
    }

    fn remove(&mut self, key: u32) -> Option<u32> {
        match self {
            KeyMap::Small(v) => v.binary_search_by_key(&key, |e| e.0).ok().map(|i| v.remove(i).1),
            KeyMap::Large(m) => {
                let bucket = m.remove(&key);
                if m.len() < Self::LARGE_MIN {
                    *self = KeyMap::Small(m.iter().map(|(k, b)| (*k, *b)).collect());
                }
                bucket
            }
        }
    }

    /// Entries with an amount ≥ `at_least`.
    fn from(&self, at_least: u32) -> KeyRange<'_> {
        match self {
            KeyMap::Small(v) => KeyRange::Small(v[v.partition_point(|e| e.0 < at_least)..].iter()),
            KeyMap::Large(m) => KeyRange::Large(m.range(at_least..)),
        }
    }

    /// Entries with an amount < `below`.
    fn below(&self, below: u32) -> KeyRange<'_> {
        match self {
            KeyMap::Small(v) => KeyRange::Small(v[..v.partition_point(|e| e.0 < below)].iter()),
            KeyMap::Large(m) => KeyRange::Large(m.range(..below)),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        match self {
            KeyMap::Small(v) => v.len(),
            KeyMap::Large(m) => m.len(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlacementIndex {
    /// Indexed by [`Resource`]: CPU, memory.
    buckets: [Buckets; 2],
    /// The hosts of each bucket; a host leaves its bucket by position, without a map lookup.
    /// Emptied buckets keep their capacity and are reused (no allocation per event).
    bucket_hosts: Vec<Vec<HostId>>,
    /// Buckets not in use.
    unused: Vec<u32>,
    /// Per host: where it is filed for each resource.
    slots: Vec<Slot>,
    /// Every host of each AZ, in id order (random and scan candidates).
    az_hosts: Vec<Vec<HostId>>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    az: u32,
    /// Indexed by [`Resource`]: CPU, memory.
    filed: [Filed; 2],
}

/// A host's free amount of one resource, its bucket and its position there.
#[derive(Debug, Clone, Copy, Default)]
struct Filed {
    key: u32,
    bucket: u32,
    pos: u32,
}

impl PlacementIndex {
    pub fn build(cluster: &Cluster) -> PlacementIndex {
        let azs = cluster.azs.len();
        let mut index = PlacementIndex {
            buckets: std::array::from_fn(|_| Buckets { per_az: vec![KeyMap::default(); azs] }),
            bucket_hosts: Vec::new(),
            unused: Vec::new(),
            slots: vec![Slot::default(); cluster.hosts.len()],
            az_hosts: vec![Vec::new(); azs],
        };
        for host in &cluster.hosts {
            index.slots[host.id.index()].az = host.az.0;
            if !host.active {
                continue;
            }
            index.az_hosts[host.az.0 as usize].push(host.id);
            let free = host.free();
            index.insert(Resource::Cpu, host.id, free.cpu_units);
            index.insert(Resource::Memory, host.id, free.memory_mib);
        }
        index
    }

    pub fn az_hosts(&self, az: AzId) -> &[HostId] {
        &self.az_hosts[az.0 as usize]
    }

    /// Buckets of `resource` in `az` with a free amount ≥ `at_least`, tightest first.
    pub fn buckets_from(&self, resource: Resource, az: AzId, at_least: u32) -> impl Iterator<Item = (u32, &[HostId])> {
        self.buckets(resource).per_az[az.0 as usize].from(at_least).map(|(k, b)| (k, self.bucket_hosts[b as usize].as_slice()))
    }

    /// Buckets of `resource` in `az` with a free amount < `below`.
    pub fn buckets_below(&self, resource: Resource, az: AzId, below: u32) -> impl Iterator<Item = &[HostId]> {
        self.buckets(resource).per_az[az.0 as usize].below(below).map(|(_, b)| self.bucket_hosts[b as usize].as_slice())
    }

    /// Hosts of `az` with less than `below` of `resource` free.
    pub fn hosts_below(&self, resource: Resource, az: AzId, below: u32) -> usize {
        self.buckets_below(resource, az, below).map(<[HostId]>::len).sum()
    }

    /// Re-files a host whose free resources changed.
    pub fn update(&mut self, host: HostId, free_cpu: u32, free_memory: u32) {
        let slot = self.slots[host.index()];
        if slot.filed[Resource::Cpu as usize].key != free_cpu {
            self.remove(Resource::Cpu, host);
            self.insert(Resource::Cpu, host, free_cpu);
        }
        if slot.filed[Resource::Memory as usize].key != free_memory {
            self.remove(Resource::Memory, host);
            self.insert(Resource::Memory, host, free_memory);
        }
    }

    /// Takes a host that left the cluster out of every bucket and of its AZ's list.
    pub fn remove_host(&mut self, host: HostId) {
        self.remove(Resource::Cpu, host);
        self.remove(Resource::Memory, host);
        let list = &mut self.az_hosts[self.slots[host.index()].az as usize];
        let pos = list.binary_search(&host).expect("an indexed host is in its AZ's list");
        list.remove(pos);
    }

    /// Files a host that joined the cluster (its AZ's list stays in id order).
    pub fn insert_host(&mut self, host: HostId, free_cpu: u32, free_memory: u32) {
        let list = &mut self.az_hosts[self.slots[host.index()].az as usize];
        let pos = list.binary_search(&host).expect_err("a joining host is not indexed");
        list.insert(pos, host);
        self.insert(Resource::Cpu, host, free_cpu);
        self.insert(Resource::Memory, host, free_memory);
    }

    fn buckets(&self, resource: Resource) -> &Buckets {
        &self.buckets[resource as usize]
    }

    fn insert(&mut self, resource: Resource, host: HostId, key: u32) {
        let az = self.slots[host.index()].az as usize;
        let keys = &mut self.buckets[resource as usize].per_az[az];
        let bucket = match keys.get(key) {
            Some(bucket) => bucket,
            None => {
                let bucket = self.unused.pop().unwrap_or_else(|| {
                    self.bucket_hosts.push(Vec::new());
                    (self.bucket_hosts.len() - 1) as u32
                });
                keys.insert(key, bucket);
                bucket
            }
        };
        let hosts = &mut self.bucket_hosts[bucket as usize];
        let pos = hosts.len() as u32;
        hosts.push(host);
        self.slots[host.index()].filed[resource as usize] = Filed { key, bucket, pos };
    }

    fn remove(&mut self, resource: Resource, host: HostId) {
        let slot = self.slots[host.index()];
        let filed = slot.filed[resource as usize];
        let hosts = &mut self.bucket_hosts[filed.bucket as usize];
        debug_assert_eq!(hosts[filed.pos as usize], host);
        hosts.swap_remove(filed.pos as usize);
        if let Some(&moved) = hosts.get(filed.pos as usize) {
            self.slots[moved.index()].filed[resource as usize].pos = filed.pos;
        } else if hosts.is_empty() {
            self.buckets[resource as usize].per_az[slot.az as usize].remove(filed.key).expect("a filed host's key is in its AZ's map");
            self.unused.push(filed.bucket);
        }
    }

    /// Checks the index against the cluster (debug builds and tests).
    pub fn verify(&self, cluster: &Cluster) -> Result<(), String> {
        for host in cluster.hosts.iter().filter(|h| h.active) {
            let slot = self.slots[host.id.index()];
            let free = host.free();
            for (resource, want) in [(Resource::Cpu, free.cpu_units), (Resource::Memory, free.memory_mib)] {
                let filed = slot.filed[resource as usize];
                if filed.key != want {
                    return Err(format!("host {} indexed with stale free resources", host.id.0));
                }
                if self.buckets(resource).per_az[slot.az as usize].get(filed.key) != Some(filed.bucket) {
                    return Err(format!("host {} filed under an amount the index does not list", host.id.0));
                }
                if self.bucket_hosts[filed.bucket as usize].get(filed.pos as usize) != Some(&host.id) {
                    return Err(format!("host {} at the wrong bucket position", host.id.0));
                }
            }
        }
        let filed: usize =
            self.buckets(Resource::Memory).per_az.iter().flat_map(|m| m.from(0)).map(|(_, b)| self.bucket_hosts[b as usize].len()).sum();
        let empty =
            self.buckets.iter().flat_map(|r| &r.per_az).flat_map(|m| m.from(0)).any(|(_, b)| self.bucket_hosts[b as usize].is_empty());
        if empty {
            return Err("an empty bucket is still listed".to_string());
        }
        let listed: usize = self.az_hosts.iter().map(Vec::len).sum();
        let active = cluster.hosts.iter().filter(|h| h.active).count();
        if filed != active || listed != active {
            return Err(format!("{filed} hosts filed and {listed} listed for {active} active hosts"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::KeyMap;

    fn entries(m: &KeyMap) -> Vec<(u32, u32)> {
        m.from(0).collect()
    }

    /// The vector and the B-tree agree with a plain sorted model through both switches.
    #[test]
    fn key_map_switches_representation_and_keeps_order() {
        let mut m = KeyMap::default();
        let mut model = std::collections::BTreeMap::new();
        // Keys in a scrambled order: 0, 7, 14, … modulo a prime.
        let keys: Vec<u32> = (0..400u32).map(|i| i * 7 % 401).collect();
        for (bucket, &k) in keys.iter().enumerate() {
            m.insert(k, bucket as u32);
            model.insert(k, bucket as u32);
        }
        assert!(matches!(m, KeyMap::Large(_)), "400 amounts are held in a B-tree");
        assert_eq!(entries(&m), model.iter().map(|(k, b)| (*k, *b)).collect::<Vec<_>>());
        assert_eq!(m.from(200).next(), model.range(200..).next().map(|(k, b)| (*k, *b)));
        assert_eq!(m.below(10).count(), model.range(..10).count());
        for &k in keys.iter().take(350) {
            assert_eq!(m.remove(k), model.remove(&k));
        }
        assert!(matches!(m, KeyMap::Small(_)), "50 amounts are held in a vector again");
        assert_eq!(m.len(), 50);
        assert_eq!(entries(&m), model.iter().map(|(k, b)| (*k, *b)).collect::<Vec<_>>());
        for probe in [0, 1, 200, 398, 399, 400, 1000] {
            assert_eq!(m.get(probe), model.get(&probe).copied());
            assert_eq!(m.from(probe).next(), model.range(probe..).next().map(|(k, b)| (*k, *b)));
            assert_eq!(m.below(probe).collect::<Vec<_>>(), model.range(..probe).map(|(k, b)| (*k, *b)).collect::<Vec<_>>());
        }
        assert_eq!(m.remove(1000), None);
    }
}
