//! Task-group counts: how many tasks of each group (a service, or a RunTask task group) run per
//! host and per AZ. Spread strategies and `distinctInstance` read them.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use crate::model::{AzId, HostId};

/// Index of an interned task-group name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub u32);

#[derive(Debug, Clone, Default)]
pub struct GroupCounts {
    names: Vec<String>,
    by_name: BTreeMap<String, GroupId>,
    /// `[group][az]`.
    per_az: Vec<Vec<u32>>,
    /// Sparse: most hosts hold no task of a given group. Looked up, never iterated into results.
    per_host: FxHashMap<(u32, u32), u32>,
    az_count: usize,
    /// Per group: whether per-host counts are kept. Only spread(instanceId), spread over a
    /// non-AZ attribute, distinctInstance, `task:group` expressions and user strategies read
    /// them; keeping them for every group costs a hash update per task start and stop.
    host_tracked: Vec<bool>,
}

impl GroupCounts {
    pub fn new(az_count: usize) -> GroupCounts {
        GroupCounts { az_count, ..GroupCounts::default() }
    }

    /// Interns a group name.
    pub fn intern(&mut self, name: &str) -> GroupId {
        if let Some(&id) = self.by_name.get(name) {
            return id;
        }
        let id = GroupId(self.names.len() as u32);
        self.names.push(name.to_string());
        self.by_name.insert(name.to_string(), id);
        self.per_az.push(vec![0; self.az_count]);
        self.host_tracked.push(true);
        id
    }

    /// Stops keeping per-host counts for `group` (call before any task of it is placed).
    /// [`GroupCounts::on_host`] then answers 0 for it, so only do this for groups nothing asks.
    pub fn untrack_hosts(&mut self, group: GroupId) {
        debug_assert!(self.per_host.keys().all(|(g, _)| *g != group.0), "untracking a group with tasks");
        self.host_tracked[group.0 as usize] = false;
    }

    pub fn id_of(&self, name: &str) -> Option<GroupId> {
        self.by_name.get(name).copied()
    }

    pub fn name(&self, id: GroupId) -> &str {
        &self.names[id.0 as usize]
    }

    pub fn on_host(&self, group: GroupId, host: HostId) -> u32 {
        self.per_host.get(&(group.0, host.0)).copied().unwrap_or(0)
    }

    pub fn in_az(&self, group: GroupId, az: AzId) -> u32 {
        self.per_az[group.0 as usize][az.0 as usize]
    }

    pub fn add(&mut self, group: GroupId, host: HostId, az: AzId) {
        if self.host_tracked[group.0 as usize] {
            *self.per_host.entry((group.0, host.0)).or_insert(0) += 1;
        }
        self.per_az[group.0 as usize][az.0 as usize] += 1;
    }

    /// A task of the group with no host (Fargate): counts towards its AZ only.
    pub fn add_hostless(&mut self, group: GroupId, az: AzId) {
        self.per_az[group.0 as usize][az.0 as usize] += 1;
    }

    pub fn remove_hostless(&mut self, group: GroupId, az: AzId) {
        let az_count = &mut self.per_az[group.0 as usize][az.0 as usize];
        *az_count = az_count.checked_sub(1).expect("group count underflow in AZ");
    }

    pub fn remove(&mut self, group: GroupId, host: HostId, az: AzId) {
        if self.host_tracked[group.0 as usize] {
            let key = (group.0, host.0);
            let count = self.per_host.get_mut(&key).expect("group count underflow on host");
            *count -= 1;
            if *count == 0 {
                self.per_host.remove(&key);
            }
        }
        let az_count = &mut self.per_az[group.0 as usize][az.0 as usize];
        *az_count = az_count.checked_sub(1).expect("group count underflow in AZ");
    }
}
