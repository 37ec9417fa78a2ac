//! Which container the OOM killer picks.
//!
//! Linux's global OOM killer kills the process with the highest `oom_score` — about its resident
//! memory, since Docker leaves containers at `oom_score_adj` 0 — whatever caused the pressure, and
//! `memory.low` (the container's reservation) does not protect against it
//! (https://docs.docker.com/engine/containers/resource_constraints/,
//! https://docs.kernel.org/admin-guide/cgroup-v2.html "memory.low"). That is
//! [`VictimPolicy::Largest`], the default. [`VictimPolicy::FurthestAboveReservation`] is the
//! alternative a study can compare against: the container furthest above its reservation dies,
//! and those within their reservation are spared while any other candidate exists.
//!
//! Ties go to the container that started first (lowest task id, then container index): the
//! kernel keeps the first process it finds with the highest score, and it walks processes
//! oldest first.

/// The host-level victim rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VictimPolicy {
    /// The container with the largest usage (Linux's `oom_score`).
    #[default]
    Largest,
    /// The container furthest above its reservation; within-reservation ones last.
    FurthestAboveReservation,
}

impl VictimPolicy {
    pub const ALL: [VictimPolicy; 2] = [VictimPolicy::Largest, VictimPolicy::FurthestAboveReservation];

    pub fn as_str(self) -> &'static str {
        match self {
            VictimPolicy::Largest => "largest",
            VictimPolicy::FurthestAboveReservation => "furthest_above_reservation",
        }
    }

    pub fn from_name(name: &str) -> Option<VictimPolicy> {
        VictimPolicy::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// One live container the killer may choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The model's slot of the container's task.
    pub slot: u32,
    /// Arrival order: (task serial, container index). Lower = arrived first.
    pub order: (u32, u16),
    pub usage_mib: u32,
    pub reservation_mib: u32,
}

/// The victim among `candidates` under `policy`; `None` when there are none.
pub fn choose(policy: VictimPolicy, candidates: impl Iterator<Item = Candidate>) -> Option<Candidate> {
    // The larger key dies first.
    let key = |c: &Candidate| -> (u32, u32) {
        match policy {
            VictimPolicy::Largest => (0, c.usage_mib),
            // First by "above its reservation at all", then by how far, so a container within its
            // reservation is chosen only when no other is left.
            VictimPolicy::FurthestAboveReservation => {
                let above = c.usage_mib.saturating_sub(c.reservation_mib);
                if above > 0 { (1, above) } else { (0, c.usage_mib) }
            }
        }
    };
    let mut best: Option<(Candidate, (u32, u32))> = None;
    for c in candidates {
        let k = key(&c);
        let better = match &best {
            None => true,
            Some((b, bk)) => k > *bk || (k == *bk && c.order < b.order),
        };
        if better {
            best = Some((c, k));
        }
    }
    best.map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(task: u32, usage_mib: u32, reservation_mib: u32) -> Candidate {
        Candidate { slot: task, order: (task, 0), usage_mib, reservation_mib }
    }

    #[test]
    fn largest_kills_the_biggest_container_even_within_its_reservation() {
        // Task 0 uses 3 GiB of a 4 GiB reservation; task 1 uses 1 GiB over a 256 MiB reservation.
        let v = choose(VictimPolicy::Largest, [c(0, 3072, 4096), c(1, 1024, 256)].into_iter());
        assert_eq!(v.map(|v| v.order.0), Some(0));
    }

    #[test]
    fn furthest_above_reservation_spares_those_within_their_reservation() {
        let v = choose(VictimPolicy::FurthestAboveReservation, [c(0, 3072, 4096), c(1, 1024, 256), c(2, 900, 512)].into_iter());
        assert_eq!(v.map(|v| v.order.0), Some(1));
    }

    #[test]
    fn furthest_above_reservation_falls_back_to_the_largest_when_all_are_within() {
        let v = choose(VictimPolicy::FurthestAboveReservation, [c(0, 100, 4096), c(1, 300, 512), c(2, 200, 512)].into_iter());
        assert_eq!(v.map(|v| v.order.0), Some(1));
    }

    #[test]
    fn ties_go_to_the_container_that_started_first() {
        for policy in VictimPolicy::ALL {
            let v = choose(policy, [c(5, 700, 100), c(2, 700, 100), c(9, 700, 100)].into_iter());
            assert_eq!(v.map(|v| v.order.0), Some(2), "{policy:?}");
        }
        assert_eq!(choose(VictimPolicy::Largest, std::iter::empty()), None);
    }

    #[test]
    fn policy_names_round_trip() {
        for p in VictimPolicy::ALL {
            assert_eq!(VictimPolicy::from_name(p.as_str()), Some(p));
        }
        assert_eq!(VictimPolicy::from_name("oldest"), None);
    }
}
