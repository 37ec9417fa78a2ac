//! Hosts of a task group bucketed by how many of the group's tasks they hold, per AZ, so that
//! `spread(instanceId)` finds the feasible hosts with the fewest tasks without scanning every
//! host.
//!
//! Each (group, AZ, count) level is a segment tree over the AZ's hosts in id order. A node keeps
//! how many hosts of the level lie below it and the least and greatest free CPU and memory and the
//! fewest free ENI slots among them. Counting the feasible hosts of a level prunes a subtree as a
//! whole when every host under it fits (or none can), and only looks at single hosts near the
//! boundary, or when a check the tree does not summarise applies (static ports, `memberOf`).
//! Selecting the k-th feasible host walks the same tree, in id order, so the candidates are
//! enumerated exactly as the full scan lists them and the random tie-break draws the same number
//! from the same range: the decision is the one the scan would make.
//!
//! A group's levels are built on its first `spread(instanceId)` decision. The placer is told
//! which hosts changed ([`SpreadIndex::host_changed`]) before their group counts are updated, so
//! the hosts are only re-filed at the next decision ([`SpreadIndex::sync`]), when the counts
//! are current.

use crate::model::{Cluster, HostId};

use super::{ClusterView, GroupId};

/// One host's entry in a level tree (or the summary of a subtree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Node {
    hosts: u32,
    min_cpu: u32,
    max_cpu: u32,
    min_memory: u32,
    max_memory: u32,
    min_eni_free: u32,
}

const EMPTY: Node = Node { hosts: 0, min_cpu: u32::MAX, max_cpu: 0, min_memory: u32::MAX, max_memory: 0, min_eni_free: u32::MAX };

impl Node {
    /// A host that left the cluster is filed as no host at all.
    fn of(cluster: &Cluster, host: HostId) -> Node {
        let h = cluster.host(host);
        if !h.active {
            return EMPTY;
        }
        let free = h.free();
        Node {
            hosts: 1,
            min_cpu: free.cpu_units,
            max_cpu: free.cpu_units,
            min_memory: free.memory_mib,
            max_memory: free.memory_mib,
            min_eni_free: h.eni_task_limit.saturating_sub(h.eni_tasks),
        }
    }

    fn join(a: Node, b: Node) -> Node {
        Node {
            hosts: a.hosts + b.hosts,
            min_cpu: a.min_cpu.min(b.min_cpu),
            max_cpu: a.max_cpu.max(b.max_cpu),
            min_memory: a.min_memory.min(b.min_memory),
            max_memory: a.max_memory.max(b.max_memory),
            min_eni_free: a.min_eni_free.min(b.min_eni_free),
        }
    }
}

/// What a host must offer, as far as the tree summarises it.
#[derive(Debug, Clone, Copy)]
pub struct Need {
    pub cpu_units: u32,
    pub memory_mib: u32,
    pub eni: bool,
    /// Whether the summary decides feasibility on its own (no static ports, no constraint left
    /// to evaluate per host); otherwise each host the summary does not rule out is asked.
    pub summarised: bool,
}

impl Need {
    /// Every host under `n` fits.
    fn all_fit(&self, n: &Node) -> bool {
        self.summarised && n.min_cpu >= self.cpu_units && n.min_memory >= self.memory_mib && (!self.eni || n.min_eni_free > 0)
    }

    /// No host under `n` can fit.
    fn none_fit(&self, n: &Node) -> bool {
        n.hosts == 0 || n.max_cpu < self.cpu_units || n.max_memory < self.memory_mib
    }
}

/// The hosts of one AZ holding exactly one count of a group's tasks.
#[derive(Debug, Clone)]
struct Level {
    /// Leaves start at `leaves`; node `i` has children `2i`, `2i + 1`.
    leaves: usize,
    nodes: Vec<Node>,
}

impl Level {
    fn new(hosts: usize) -> Level {
        let leaves = hosts.max(1).next_power_of_two();
        Level { leaves, nodes: vec![EMPTY; 2 * leaves] }
    }

    fn set(&mut self, pos: usize, node: Node) {
        let mut i = self.leaves + pos;
        self.nodes[i] = node;
        while i > 1 {
            i /= 2;
            self.nodes[i] = Node::join(self.nodes[2 * i], self.nodes[2 * i + 1]);
        }
    }

    fn rebuild(&mut self) {
        for i in (1..self.leaves).rev() {
            self.nodes[i] = Node::join(self.nodes[2 * i], self.nodes[2 * i + 1]);
        }
    }

    /// Hosts of the level that fit; `fits` answers for single hosts the summary cannot settle.
    fn count(&self, need: &Need, fits: &mut dyn FnMut(usize) -> bool) -> usize {
        self.count_below(1, need, fits)
    }

    fn count_below(&self, i: usize, need: &Need, fits: &mut dyn FnMut(usize) -> bool) -> usize {
        let n = &self.nodes[i];
        if need.none_fit(n) {
            0
        } else if need.all_fit(n) {
            n.hosts as usize
        } else if i >= self.leaves {
            usize::from(fits(i - self.leaves))
        } else {
            self.count_below(2 * i, need, fits) + self.count_below(2 * i + 1, need, fits)
        }
    }

    /// Position of the `k`-th (from 0) fitting host in id order, or `None` after subtracting the
    /// fitting hosts of this level from `k`.
    fn nth(&self, k: &mut usize, need: &Need, fits: &mut dyn FnMut(usize) -> bool) -> Option<usize> {
        self.nth_below(1, k, need, fits)
    }

    fn nth_below(&self, i: usize, k: &mut usize, need: &Need, fits: &mut dyn FnMut(usize) -> bool) -> Option<usize> {
        let n = &self.nodes[i];
        if need.none_fit(n) {
            return None;
        }
        if need.all_fit(n) {
            if *k >= n.hosts as usize {
                *k -= n.hosts as usize;
                return None;
            }
            // Every host below fits: descend by host counts alone.
            let mut i = i;
            while i < self.leaves {
                let left = self.nodes[2 * i].hosts as usize;
                if *k < left {
                    i *= 2;
                } else {
                    *k -= left;
                    i = 2 * i + 1;
                }
            }
            return Some(i - self.leaves);
        }
        if i >= self.leaves {
            let pos = i - self.leaves;
            if fits(pos) {
                if *k == 0 {
                    return Some(pos);
                }
                *k -= 1;
            }
            return None;
        }
        self.nth_below(2 * i, k, need, fits).or_else(|| self.nth_below(2 * i + 1, k, need, fits))
    }

    /// Calls `visit` with the position of every host of the level the summary does not rule
    /// out, in id order.
    fn collect_below(&self, i: usize, need: &Need, visit: &mut dyn FnMut(usize)) {
        if need.none_fit(&self.nodes[i]) {
            return;
        }
        if i >= self.leaves {
            visit(i - self.leaves);
        } else {
            self.collect_below(2 * i, need, visit);
            self.collect_below(2 * i + 1, need, visit);
        }
    }
}

/// One group's levels: `levels[az][count]`.
#[derive(Debug, Clone)]
struct GroupLevels {
    group: GroupId,
    /// Per host: the count it is filed under.
    level_of: Vec<u32>,
    levels: Vec<Vec<Level>>,
}

#[derive(Debug, Clone)]
pub struct SpreadIndex {
    /// Per host: its AZ and its position among the AZ's hosts (id order).
    az_pos: Vec<(u32, u32)>,
    /// Every host of each AZ, in id order.
    az_hosts: Vec<Vec<HostId>>,
    built: Vec<GroupLevels>,
    /// Hosts changed since the last [`SpreadIndex::sync`] (only kept once a group is built).
    dirty: Vec<HostId>,
}

impl SpreadIndex {
    pub fn new(cluster: &Cluster) -> SpreadIndex {
        let mut az_hosts = vec![Vec::new(); cluster.azs.len()];
        let mut az_pos = Vec::with_capacity(cluster.hosts.len());
        for host in &cluster.hosts {
            let list: &mut Vec<HostId> = &mut az_hosts[host.az.0 as usize];
            az_pos.push((host.az.0, list.len() as u32));
            list.push(host.id);
        }
        SpreadIndex { az_pos, az_hosts, built: Vec::new(), dirty: Vec::new() }
    }

    pub fn host_changed(&mut self, host: HostId) {
        if !self.built.is_empty() {
            self.dirty.push(host);
        }
    }

    /// Re-files the hosts changed since the last call under their current counts and free
    /// resources.
    #[inline]
    pub fn sync(&mut self, view: &ClusterView<'_>) {
        for host in self.dirty.drain(..) {
            let (az, pos) = self.az_pos[host.index()];
            let node = Node::of(view.cluster, host);
            for g in &mut self.built {
                let count = view.groups.on_host(g.group, host);
                let old = g.level_of[host.index()];
                let levels = &mut g.levels[az as usize];
                if old != count {
                    levels[old as usize].set(pos as usize, EMPTY);
                    g.level_of[host.index()] = count;
                    while levels.len() <= count as usize {
                        levels.push(Level::new(self.az_hosts[az as usize].len()));
                    }
                }
                levels[count as usize].set(pos as usize, node);
            }
        }
    }

    /// Builds `group`'s levels unless built; returns its slot.
    fn slot(&mut self, group: GroupId, view: &ClusterView<'_>) -> usize {
        if let Some(i) = self.built.iter().position(|g| g.group == group) {
            return i;
        }
        let mut g = GroupLevels { group, level_of: vec![0; self.az_pos.len()], levels: vec![Vec::new(); self.az_hosts.len()] };
        for (az, hosts) in self.az_hosts.iter().enumerate() {
            for (pos, &host) in hosts.iter().enumerate() {
                let count = view.groups.on_host(group, host);
                g.level_of[host.index()] = count;
                let levels = &mut g.levels[az];
                while levels.len() <= count as usize {
                    levels.push(Level::new(hosts.len()));
                }
                let level = &mut levels[count as usize];
                level.nodes[level.leaves + pos] = Node::of(view.cluster, host);
            }
            g.levels[az].iter_mut().for_each(Level::rebuild);
        }
        self.built.push(g);
        self.built.len() - 1
    }

    /// The fitting hosts with the fewest tasks of `group` over the AZs `azs`: their count (the
    /// level) and how many there are; `None` when no host of those AZs fits. `max_count` bounds
    /// the levels looked at (0 under `distinctInstance`).
    pub fn fewest(
        &mut self,
        group: GroupId,
        azs: &[crate::model::AzId],
        max_count: u32,
        need: &Need,
        view: &ClusterView<'_>,
        fits: &mut dyn FnMut(HostId) -> bool,
    ) -> Option<(u32, usize)> {
        let slot = self.slot(group, view);
        let g = &self.built[slot];
        let deepest = azs.iter().map(|az| g.levels[az.0 as usize].len()).max().unwrap_or(0);
        for count in 0..deepest.min(max_count as usize + 1) {
            let mut n = 0;
            for az in azs {
                let hosts = &self.az_hosts[az.0 as usize];
                if let Some(level) = g.levels[az.0 as usize].get(count) {
                    n += level.count(need, &mut |pos| fits(hosts[pos]));
                }
            }
            if n > 0 {
                return Some((count as u32, n));
            }
        }
        None
    }

    /// The `k`-th fitting host of level `count` over `azs`, in the full scan's order (AZs as
    /// given, hosts by id).
    #[allow(clippy::too_many_arguments)]
    pub fn nth(
        &self,
        group: GroupId,
        azs: &[crate::model::AzId],
        count: u32,
        mut k: usize,
        need: &Need,
        fits: &mut dyn FnMut(HostId) -> bool,
    ) -> Option<HostId> {
        let g = self.built.iter().find(|g| g.group == group)?;
        for az in azs {
            let hosts = &self.az_hosts[az.0 as usize];
            if let Some(level) = g.levels[az.0 as usize].get(count as usize)
                && let Some(pos) = level.nth(&mut k, need, &mut |pos| fits(hosts[pos]))
            {
                return Some(hosts[pos]);
            }
        }
        None
    }

    /// Every fitting host of level `count` over `azs`, in the full scan's order.
    pub fn collect(
        &self,
        group: GroupId,
        azs: &[crate::model::AzId],
        count: u32,
        need: &Need,
        fits: &mut dyn FnMut(HostId) -> bool,
        out: &mut Vec<HostId>,
    ) {
        out.clear();
        let Some(g) = self.built.iter().find(|g| g.group == group) else { return };
        for az in azs {
            let hosts = &self.az_hosts[az.0 as usize];
            if let Some(level) = g.levels[az.0 as usize].get(count as usize) {
                level.collect_below(1, need, &mut |pos| {
                    if fits(hosts[pos]) {
                        out.push(hosts[pos]);
                    }
                });
            }
        }
    }

    /// Checks every built group's levels against the cluster and the group counts.
    pub fn verify(&self, view: &ClusterView<'_>) -> Result<(), String> {
        if !self.dirty.is_empty() {
            return Ok(()); // re-filed at the next decision
        }
        for g in &self.built {
            for (az, hosts) in self.az_hosts.iter().enumerate() {
                for (pos, &host) in hosts.iter().enumerate() {
                    let count = view.groups.on_host(g.group, host);
                    for (l, level) in g.levels[az].iter().enumerate() {
                        let want = if l as u32 == count { Node::of(view.cluster, host) } else { EMPTY };
                        if level.nodes[level.leaves + pos] != want {
                            return Err(format!("host {} misfiled in the spread index at count {l}", host.0));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
