//! Hosts bucketed by free CPU and by free memory, per AZ, so that binpack finds the tightest fit
//! in O(log distinct-values) instead of scanning every host, and random/tie-break picks are O(1).

use std::collections::BTreeMap;

use crate::model::{AzId, Cluster, HostId};

use super::Resource;

/// Hosts of one AZ keyed by the free amount of one resource.
#[derive(Debug, Clone, Default)]
struct Buckets {
    per_az: Vec<BTreeMap<u32, Vec<HostId>>>,
}

#[derive(Debug, Clone)]
pub struct PlacementIndex {
    cpu: Buckets,
    memory: Buckets,
    /// Per host: (free cpu key, position in its cpu bucket, free memory key, position).
    slots: Vec<Slot>,
    /// Every host of each AZ, in id order (random and scan candidates).
    az_hosts: Vec<Vec<HostId>>,
    /// Emptied bucket vectors kept for reuse: no allocation per event in steady state.
    spare: Vec<Vec<HostId>>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    az: u32,
    cpu_key: u32,
    cpu_pos: u32,
    mem_key: u32,
    mem_pos: u32,
}

impl PlacementIndex {
    pub fn build(cluster: &Cluster) -> PlacementIndex {
        let azs = cluster.azs.len();
        let mut index = PlacementIndex {
            cpu: Buckets { per_az: vec![BTreeMap::new(); azs] },
            memory: Buckets { per_az: vec![BTreeMap::new(); azs] },
            slots: vec![Slot::default(); cluster.hosts.len()],
            az_hosts: vec![Vec::new(); azs],
            spare: Vec::new(),
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
        self.buckets(resource).per_az[az.0 as usize].range(at_least..).map(|(k, v)| (*k, v.as_slice()))
    }

    /// Buckets of `resource` in `az` with a free amount < `below`.
    pub fn buckets_below(&self, resource: Resource, az: AzId, below: u32) -> impl Iterator<Item = &[HostId]> {
        self.buckets(resource).per_az[az.0 as usize].range(..below).map(|(_, v)| v.as_slice())
    }

    /// Hosts of `az` with less than `below` of `resource` free.
    pub fn hosts_below(&self, resource: Resource, az: AzId, below: u32) -> usize {
        self.buckets_below(resource, az, below).map(<[HostId]>::len).sum()
    }

    /// Re-files a host whose free resources changed.
    pub fn update(&mut self, host: HostId, free_cpu: u32, free_memory: u32) {
        let slot = self.slots[host.index()];
        if slot.cpu_key != free_cpu {
            self.remove(Resource::Cpu, host);
            self.insert(Resource::Cpu, host, free_cpu);
        }
        if slot.mem_key != free_memory {
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
        match resource {
            Resource::Cpu => &self.cpu,
            Resource::Memory => &self.memory,
        }
    }

    fn insert(&mut self, resource: Resource, host: HostId, key: u32) {
        let az = self.slots[host.index()].az as usize;
        let spare = &mut self.spare;
        let buckets = match resource {
            Resource::Cpu => &mut self.cpu,
            Resource::Memory => &mut self.memory,
        };
        let bucket = buckets.per_az[az].entry(key).or_insert_with(|| spare.pop().unwrap_or_default());
        let pos = bucket.len() as u32;
        bucket.push(host);
        let slot = &mut self.slots[host.index()];
        match resource {
            Resource::Cpu => (slot.cpu_key, slot.cpu_pos) = (key, pos),
            Resource::Memory => (slot.mem_key, slot.mem_pos) = (key, pos),
        }
    }

    fn remove(&mut self, resource: Resource, host: HostId) {
        let slot = self.slots[host.index()];
        let (key, pos) = match resource {
            Resource::Cpu => (slot.cpu_key, slot.cpu_pos),
            Resource::Memory => (slot.mem_key, slot.mem_pos),
        };
        let buckets = match resource {
            Resource::Cpu => &mut self.cpu,
            Resource::Memory => &mut self.memory,
        };
        let map = &mut buckets.per_az[slot.az as usize];
        let bucket = map.get_mut(&key).expect("indexed host missing from its bucket");
        debug_assert_eq!(bucket[pos as usize], host);
        bucket.swap_remove(pos as usize);
        if let Some(&moved) = bucket.get(pos as usize) {
            let s = &mut self.slots[moved.index()];
            match resource {
                Resource::Cpu => s.cpu_pos = pos,
                Resource::Memory => s.mem_pos = pos,
            }
        }
        if bucket.is_empty() {
            let emptied = map.remove(&key).expect("bucket just seen");
            self.spare.push(emptied);
        }
    }

    /// Checks the index against the cluster (debug builds and tests).
    pub fn verify(&self, cluster: &Cluster) -> Result<(), String> {
        for host in cluster.hosts.iter().filter(|h| h.active) {
            let slot = self.slots[host.id.index()];
            let free = host.free();
            if slot.cpu_key != free.cpu_units || slot.mem_key != free.memory_mib {
                return Err(format!("host {} indexed with stale free resources", host.id.0));
            }
            let cpu = &self.cpu.per_az[slot.az as usize][&slot.cpu_key];
            let mem = &self.memory.per_az[slot.az as usize][&slot.mem_key];
            if cpu[slot.cpu_pos as usize] != host.id || mem[slot.mem_pos as usize] != host.id {
                return Err(format!("host {} at the wrong bucket position", host.id.0));
            }
        }
        let filed: usize = self.memory.per_az.iter().flat_map(|m| m.values()).map(Vec::len).sum();
        let listed: usize = self.az_hosts.iter().map(Vec::len).sum();
        let active = cluster.hosts.iter().filter(|h| h.active).count();
        if filed != active || listed != active {
            return Err(format!("{filed} hosts filed and {listed} listed for {active} active hosts"));
        }
        Ok(())
    }
}
