//! The placement decision: filter → constraints → strategies → tie-break.
//!
//! Two implementations of the same rule live here on purpose:
//! - [`Placer::decide`] uses the [`PlacementIndex`]: leading `spread(AZ)` strategies order the AZs
//!   into tiers by the group's task count; `binpack` walks free-resource buckets tightest-first and
//!   stops at the first bucket holding a feasible host; `random` and final ties pick uniformly by
//!   rejection sampling (falling back to a scan of the tied set after a few misses, which keeps the
//!   choice exactly uniform). Only strategies without an index (`spread(instanceId)`, other
//!   attributes, user strategies) scan — and only the hosts the earlier strategies left.
//! - [`Placer::explain`] scans every host and applies the chain literally. It feeds the decision
//!   log and is the oracle the tests hold `decide` to.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::index::PlacementIndex;
use super::query::{Expression, InstanceFacts};
use super::spread::{Need, SpreadIndex};
use super::strategy::AZ_ATTRIBUTE;
use super::{ClusterView, Constraint, HostFacts, PlacementFailure, PlacementRequest, Resource, SpreadField, StrategySpec};
use crate::model::{AzId, Cluster, HostId};

/// Most AZs a scenario may have (a Region has at most six today).
pub const MAX_AZS: usize = 16;
/// Random picks tried before scanning the tied set.
const REJECTION_TRIES: u32 = 8;

/// How many hosts survived each stage of one decision (for `decisions.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Explanation {
    pub hosts: u32,
    pub after_resources: u32,
    pub after_constraints: u32,
    /// Hosts tied for best after every strategy, before the random tie-break.
    pub best: u32,
}

pub struct Placer {
    index: PlacementIndex,
    spread: SpreadIndex,
    /// One host of each class of hosts that share every attribute (host group, instance type,
    /// AZ), in host id order: a `memberOf` over attributes alone is decided per class.
    class_hosts: Vec<HostId>,
    /// Decide as before the spread index and the indexed failure reason existed, apart from
    /// the `memberOf` short cut (tests compare the two decision by decision).
    #[cfg(test)]
    by_scan: bool,
    /// Scratch space reused across decisions.
    candidates: Vec<HostId>,
    keys: Vec<i64>,
    az_order: Vec<(u32, AzId)>,
    attr_counts: Vec<(String, u32)>,
}

impl Placer {
    pub fn new(cluster: &Cluster) -> Placer {
        assert!(cluster.azs.len() <= MAX_AZS, "at most {MAX_AZS} AZs");
        Placer {
            index: PlacementIndex::build(cluster),
            spread: SpreadIndex::new(cluster),
            class_hosts: class_hosts(cluster),
            #[cfg(test)]
            by_scan: false,
            candidates: Vec::new(),
            keys: Vec::new(),
            az_order: Vec::new(),
            attr_counts: Vec::new(),
        }
    }

    /// A placer that scans where the spread index and the failure counts would be used.
    #[cfg(test)]
    pub(crate) fn scanning(cluster: &Cluster) -> Placer {
        Placer { by_scan: true, ..Placer::new(cluster) }
    }

    /// Must be called after every reserve/release on `host`.
    pub fn host_changed(&mut self, cluster: &Cluster, host: HostId) {
        let h = cluster.host(host);
        if h.active {
            let free = h.free();
            self.index.update(host, free.cpu_units, free.memory_mib);
        }
        self.spread.host_changed(host);
    }

    /// `host` was just deactivated: no decision considers it until it joins again.
    pub fn host_left(&mut self, cluster: &Cluster, host: HostId) {
        debug_assert!(!cluster.host(host).active);
        self.index.remove_host(host);
        self.spread.host_changed(host);
    }

    /// `host` was just activated (a replacement registered in its place).
    pub fn host_joined(&mut self, cluster: &Cluster, host: HostId) {
        let h = cluster.host(host);
        debug_assert!(h.active);
        let free = h.free();
        self.index.insert_host(host, free.cpu_units, free.memory_mib);
        self.spread.host_changed(host);
    }

    pub fn verify(&self, cluster: &Cluster) -> Result<(), String> {
        self.index.verify(cluster)
    }

    /// Checks the per-group spread index against the cluster and the group counts (tests).
    pub fn verify_spread(&self, view: &ClusterView<'_>) -> Result<(), String> {
        self.spread.verify(view)
    }

    /// Chooses a host for the request, or says why none fits.
    pub fn decide(&mut self, req: &PlacementRequest<'_>, view: &ClusterView<'_>, rng: &mut ChaCha8Rng) -> Result<HostId, PlacementFailure> {
        self.spread.sync(view);
        // Known from one host per class of hosts sharing their attributes, without a scan. Unlike
        // the scan this skips the random picks a doomed search would have tried.
        if req.spec.constraints.iter().any(|c| matches!(c, Constraint::MemberOf(e) if self.matches_no_host(e, req, view))) {
            return Err(self.failure_reason(req, view));
        }
        #[cfg(test)]
        if self.by_scan {
            return self.decide_by_scan(req, view, rng);
        }
        let chain = &req.spec.strategies;
        let lead = chain.iter().take_while(|s| is_az_spread(s)).count();
        let az_count = view.cluster.azs.len() as u32;
        self.az_order.clear();
        for az in (0..az_count).map(AzId).filter(|az| in_mask(req, *az)) {
            let key = if lead > 0 { view.groups.in_az(req.group, az) } else { 0 };
            self.az_order.push((key, az));
        }
        self.az_order.sort_unstable();
        let mut start = 0;
        while start < self.az_order.len() {
            let key = self.az_order[start].0;
            let end = start + self.az_order[start..].iter().take_while(|(k, _)| *k == key).count();
            let mut tier = [AzId(0); MAX_AZS];
            for (slot, &(_, az)) in tier.iter_mut().zip(&self.az_order[start..end]) {
                *slot = az;
            }
            if let Some(host) = self.best_in(&tier[..end - start], &chain[lead..], req, view, rng) {
                return Ok(host);
            }
            start = end;
        }
        Err(self.failure_reason(req, view))
    }

    /// The decision as it was made before the spread index: tiers, then a scan of the tier.
    #[cfg(test)]
    fn decide_by_scan(
        &mut self,
        req: &PlacementRequest<'_>,
        view: &ClusterView<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<HostId, PlacementFailure> {
        let chain = &req.spec.strategies;
        let lead = chain.iter().take_while(|s| is_az_spread(s)).count();
        self.az_order.clear();
        for az in (0..view.cluster.azs.len() as u32).map(AzId).filter(|az| in_mask(req, *az)) {
            let key = if lead > 0 { view.groups.in_az(req.group, az) } else { 0 };
            self.az_order.push((key, az));
        }
        self.az_order.sort_unstable();
        let mut start = 0;
        while start < self.az_order.len() {
            let key = self.az_order[start].0;
            let end = start + self.az_order[start..].iter().take_while(|(k, _)| *k == key).count();
            let tier: Vec<AzId> = self.az_order[start..end].iter().map(|&(_, az)| az).collect();
            let found = if matches!(chain[lead..].first(), Some(StrategySpec::Spread(SpreadField::InstanceId))) {
                let sets: Vec<&[HostId]> = tier.iter().map(|&az| self.index.az_hosts(az)).collect();
                collect_feasible(&sets, req, view, &mut self.candidates);
                narrow(&chain[lead..], req, view, &mut self.candidates, &mut self.keys, &mut self.attr_counts);
                choose(&self.candidates, rng)
            } else {
                self.best_in(&tier, &chain[lead..], req, view, rng)
            };
            if let Some(host) = found {
                return Ok(host);
            }
            start = end;
        }
        Err(self.failure_reason_by_scan(req, view))
    }

    fn best_in(
        &mut self,
        azs: &[AzId],
        chain: &[StrategySpec],
        req: &PlacementRequest<'_>,
        view: &ClusterView<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Option<HostId> {
        match chain.first() {
            Some(StrategySpec::Binpack(resource)) => {
                let need = match resource {
                    Resource::Cpu => req.need.cpu_units,
                    Resource::Memory => req.need.memory_mib,
                };
                // Per AZ of the tier, its tightest bucket with at least `need` free; an AZ's entry
                // is looked up again only after its bucket was tried and held no feasible host.
                let mut firsts: [Option<(u32, &[HostId])>; MAX_AZS] = [None; MAX_AZS];
                for (first, &az) in firsts.iter_mut().zip(azs) {
                    *first = self.index.buckets_from(*resource, az, need).next();
                }
                let firsts = &mut firsts[..azs.len()];
                loop {
                    // The tightest free amount in any AZ of the tier.
                    let key = firsts.iter().flatten().map(|&(k, _)| k).min()?;
                    let mut sets: [&[HostId]; MAX_AZS] = [&[]; MAX_AZS];
                    let mut n = 0;
                    for &(k, hosts) in firsts.iter().flatten() {
                        if k == key {
                            sets[n] = hosts;
                            n += 1;
                        }
                    }
                    if let Some(h) =
                        pick(&sets[..n], &chain[1..], req, view, rng, &mut self.candidates, &mut self.keys, &mut self.attr_counts)
                    {
                        return Some(h);
                    }
                    let next = key.checked_add(1)?;
                    for (first, &az) in firsts.iter_mut().zip(azs) {
                        if matches!(first, Some((k, _)) if *k == key) {
                            *first = self.index.buckets_from(*resource, az, next).next();
                        }
                    }
                }
            }
            Some(StrategySpec::Random) | None => {
                let mut sets: [&[HostId]; MAX_AZS] = [&[]; MAX_AZS];
                for (slot, &az) in sets.iter_mut().zip(azs) {
                    *slot = self.index.az_hosts(az);
                }
                pick(&sets[..azs.len()], &[], req, view, rng, &mut self.candidates, &mut self.keys, &mut self.attr_counts)
            }
            Some(StrategySpec::Spread(SpreadField::InstanceId)) => {
                let distinct = req.spec.constraints.iter().any(|c| matches!(c, Constraint::DistinctInstance));
                let need = Need {
                    cpu_units: req.need.cpu_units,
                    memory_mib: req.need.memory_mib,
                    eni: req.eni,
                    summarised: req.ports.is_empty()
                        && req.host_groups == u64::MAX
                        && req.spec.constraints.iter().all(|c| matches!(c, Constraint::DistinctInstance)),
                };
                // Under distinctInstance only hosts without a task of the group qualify.
                let max_count = if distinct { 0 } else { u32::MAX };
                let mut fits = |h| feasible(req, view, h);
                let (count, n) = self.spread.fewest(req.group, azs, max_count, &need, view, &mut fits)?;
                let tail = &chain[1..];
                if matches!(tail.first(), None | Some(StrategySpec::Random)) {
                    // The same draw `choose` makes over the scan's candidate list.
                    let k = if n == 1 { 0 } else { rng.random_range(0..n) };
                    let host = self.spread.nth(req.group, azs, count, k, &need, &mut fits);
                    debug_assert!(host.is_some(), "the spread index counted {n} hosts but has no host {k}");
                    return host;
                }
                self.spread.collect(req.group, azs, count, &need, &mut fits, &mut self.candidates);
                narrow(tail, req, view, &mut self.candidates, &mut self.keys, &mut self.attr_counts);
                choose(&self.candidates, rng)
            }
            Some(_) => {
                let mut sets: [&[HostId]; MAX_AZS] = [&[]; MAX_AZS];
                for (slot, &az) in sets.iter_mut().zip(azs) {
                    *slot = self.index.az_hosts(az);
                }
                collect_feasible(&sets[..azs.len()], req, view, &mut self.candidates);
                narrow(chain, req, view, &mut self.candidates, &mut self.keys, &mut self.attr_counts);
                choose(&self.candidates, rng)
            }
        }
    }

    /// The reason [`Placer::failure_reason_by_scan`] names, counted from the indices: hosts short
    /// of CPU and of memory come from the free-resource buckets (the hosts short of both are
    /// found by walking the smaller of the two sets), and when one of them outnumbers every host
    /// left, it is the reason without looking further. Only hosts that pass CPU and memory are
    /// looked at one by one, unless a `memberOf` over attributes matches none of them.
    fn failure_reason(&self, req: &PlacementRequest<'_>, view: &ClusterView<'_>) -> PlacementFailure {
        if req.host_groups != u64::MAX {
            // The indices count every host of an AZ; a capacity provider's task sees only its groups.
            return self.failure_reason_by_scan(req, view);
        }
        let reason = self.failure_reason_indexed(req, view);
        debug_assert_eq!(reason, self.failure_reason_by_scan(req, view), "indexed failure reason differs from the full scan");
        reason
    }

    fn failure_reason_indexed(&self, req: &PlacementRequest<'_>, view: &ClusterView<'_>) -> PlacementFailure {
        if (0..view.cluster.azs.len() as u32).all(|az| self.index.az_hosts(AzId(az)).is_empty()) {
            return PlacementFailure::NoContainerInstances;
        }
        let mut azs = [AzId(0); MAX_AZS];
        let mut az_count = 0;
        for az in (0..view.cluster.azs.len() as u32).map(AzId).filter(|az| in_mask(req, *az)) {
            azs[az_count] = az;
            az_count += 1;
        }
        let azs = &azs[..az_count];
        let inside: usize = azs.iter().map(|&az| self.index.az_hosts(az).len()).sum();
        if inside == 0 {
            return PlacementFailure::Location;
        }
        let (cpu_need, memory_need) = (req.need.cpu_units, req.need.memory_mib);
        let cpu_short: usize = azs.iter().map(|&az| self.index.hosts_below(Resource::Cpu, az, cpu_need)).sum();
        let memory_short_any: usize = azs.iter().map(|&az| self.index.hosts_below(Resource::Memory, az, memory_need)).sum();
        let free = |h: HostId| view.cluster.host(h).free();
        let short_of_both: usize = if cpu_short <= memory_short_any {
            azs.iter()
                .flat_map(|&az| self.index.buckets_below(Resource::Cpu, az, cpu_need))
                .map(|hosts| hosts.iter().filter(|&&h| free(h).memory_mib < memory_need).count())
                .sum()
        } else {
            azs.iter()
                .flat_map(|&az| self.index.buckets_below(Resource::Memory, az, memory_need))
                .map(|hosts| hosts.iter().filter(|&&h| free(h).cpu_units < cpu_need).count())
                .sum()
        };
        let memory_short = memory_short_any - short_of_both;
        let rest = inside - cpu_short - memory_short;
        // Ties go to the check listed first (CPU, then memory, then the rest).
        if cpu_short >= memory_short && cpu_short >= rest {
            return PlacementFailure::ResourceCpu;
        }
        if memory_short > cpu_short && memory_short >= rest {
            return PlacementFailure::ResourceMemory;
        }
        let mut counts = [0usize; PlacementFailure::ALL.len()];
        counts[slot(PlacementFailure::ResourceCpu)] = cpu_short;
        counts[slot(PlacementFailure::ResourceMemory)] = memory_short;
        let first_is_unmatched_member_of =
            matches!(req.spec.constraints.first(), Some(Constraint::MemberOf(e)) if self.matches_no_host(e, req, view));
        if req.ports.is_empty() && !req.eni && first_is_unmatched_member_of {
            counts[slot(PlacementFailure::MemberOf)] = rest;
        } else {
            for &az in azs {
                for (_, hosts) in self.index.buckets_from(Resource::Memory, az, memory_need) {
                    for &h in hosts.iter().filter(|&&h| free(h).cpu_units >= cpu_need) {
                        match first_failure(req, view, h) {
                            Some(reason) => counts[slot(reason)] += 1,
                            None => debug_assert!(false, "failure reported while host {} is feasible", h.0),
                        }
                    }
                }
            }
        }
        let best = counts.iter().enumerate().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0))).map_or(0, |(i, _)| i);
        PlacementFailure::ALL[best]
    }

    /// Whether `expr` asks only about attributes and no host in the request's AZs has them.
    fn matches_no_host(&self, expr: &Expression, req: &PlacementRequest<'_>, view: &ClusterView<'_>) -> bool {
        expr.reads_only_attributes()
            && !self.class_hosts.iter().any(|&h| in_mask(req, view.cluster.host(h).az) && expr.matches(&HostFacts { view: *view, host: h }))
    }

    /// The full scan of the same rule: the check that rejected the most hosts, each host counted
    /// under the first check it fails in the order location, CPU, memory, ports, ENI,
    /// constraints. Hosts outside the task's AZs only count when no host is inside them: the
    /// reason a planner needs is what blocked the task where it could have gone.
    pub fn failure_reason_by_scan(&self, req: &PlacementRequest<'_>, view: &ClusterView<'_>) -> PlacementFailure {
        if !view.cluster.hosts.iter().any(|h| h.active) {
            return PlacementFailure::NoContainerInstances;
        }
        let mut counts = [0u32; PlacementFailure::ALL.len()];
        for host in view.cluster.hosts.iter().filter(|h| h.active) {
            if let Some(reason) = first_failure(req, view, host.id) {
                counts[PlacementFailure::ALL.iter().position(|r| *r == reason).expect("listed")] += 1;
            } else {
                debug_assert!(false, "failure reported while host {} is feasible", host.id.0);
            }
        }
        let location = PlacementFailure::ALL.iter().position(|r| *r == PlacementFailure::Location).expect("listed");
        if counts.iter().enumerate().any(|(i, c)| i != location && *c > 0) {
            counts[location] = 0;
        }
        let best = counts.iter().enumerate().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0))).map_or(0, |(i, _)| i);
        PlacementFailure::ALL[best]
    }

    /// Full scan: how many hosts survive each stage, and which hosts tie for best.
    pub fn explain(&mut self, req: &PlacementRequest<'_>, view: &ClusterView<'_>) -> (Explanation, Vec<HostId>) {
        let active = view.cluster.hosts.iter().filter(|h| h.active);
        let mut e = Explanation { hosts: active.clone().count() as u32, ..Explanation::default() };
        self.candidates.clear();
        for host in active {
            if passes_resources(req, view, host.id) {
                e.after_resources += 1;
                if passes_constraints(req, view, host.id) {
                    e.after_constraints += 1;
                    self.candidates.push(host.id);
                }
            }
        }
        narrow(&req.spec.strategies, req, view, &mut self.candidates, &mut self.keys, &mut self.attr_counts);
        e.best = self.candidates.len() as u32;
        (e, self.candidates.clone())
    }
}

fn slot(reason: PlacementFailure) -> usize {
    PlacementFailure::ALL.iter().position(|r| *r == reason).expect("listed")
}

/// One host per (host group, instance type, AZ), the first by id.
fn class_hosts(cluster: &Cluster) -> Vec<HostId> {
    let mut seen = std::collections::BTreeSet::new();
    cluster.hosts.iter().filter(|h| seen.insert((h.group, h.instance_type, h.az))).map(|h| h.id).collect()
}

fn is_az_spread(s: &StrategySpec) -> bool {
    matches!(s, StrategySpec::Spread(SpreadField::Attribute(a)) if a == AZ_ATTRIBUTE)
}

fn in_mask(req: &PlacementRequest<'_>, az: AzId) -> bool {
    az.0 >= 32 || req.az_mask & (1 << az.0) != 0
}

/// Whether the host is one the task may use at all: in its AZs and its capacity provider's groups.
fn in_scope(req: &PlacementRequest<'_>, h: &crate::model::Host) -> bool {
    // Groups from 63 on share bit 63, which no capacity provider's group uses.
    in_mask(req, h.az) && (req.host_groups >> h.group.min(63)) & 1 != 0
}

fn passes_resources(req: &PlacementRequest<'_>, view: &ClusterView<'_>, host: HostId) -> bool {
    let h = view.cluster.host(host);
    in_scope(req, h) && req.need.fits_in(h.free()) && h.ports.all_free(req.ports) && (!req.eni || h.eni_tasks < h.eni_task_limit)
}

fn passes_constraints(req: &PlacementRequest<'_>, view: &ClusterView<'_>, host: HostId) -> bool {
    req.spec.constraints.iter().all(|c| match c {
        Constraint::DistinctInstance => view.groups.on_host(req.group, host) == 0,
        Constraint::MemberOf(expr) => expr.matches(&HostFacts { view: *view, host }),
    })
}

fn first_failure(req: &PlacementRequest<'_>, view: &ClusterView<'_>, host: HostId) -> Option<PlacementFailure> {
    let h = view.cluster.host(host);
    let free = h.free();
    if !in_scope(req, h) {
        return Some(PlacementFailure::Location);
    }
    if req.need.cpu_units > free.cpu_units {
        return Some(PlacementFailure::ResourceCpu);
    }
    if req.need.memory_mib > free.memory_mib {
        return Some(PlacementFailure::ResourceMemory);
    }
    if !h.ports.all_free(req.ports) {
        return Some(PlacementFailure::ResourcePorts);
    }
    if req.eni && h.eni_tasks >= h.eni_task_limit {
        return Some(PlacementFailure::ResourceEni);
    }
    req.spec.constraints.iter().find_map(|c| match c {
        Constraint::DistinctInstance if view.groups.on_host(req.group, host) > 0 => Some(PlacementFailure::DistinctInstance),
        Constraint::MemberOf(expr) if !expr.matches(&HostFacts { view: *view, host }) => Some(PlacementFailure::MemberOf),
        _ => None,
    })
}

fn feasible(req: &PlacementRequest<'_>, view: &ClusterView<'_>, host: HostId) -> bool {
    passes_resources(req, view, host) && passes_constraints(req, view, host)
}

fn collect_feasible(sets: &[&[HostId]], req: &PlacementRequest<'_>, view: &ClusterView<'_>, out: &mut Vec<HostId>) {
    out.clear();
    out.extend(sets.iter().flat_map(|s| s.iter()).copied().filter(|&h| feasible(req, view, h)));
}

/// A uniformly random feasible host of the union of `sets`, after the `tail` strategies narrowed
/// the feasible ones; `None` if none is feasible.
#[allow(clippy::too_many_arguments)]
fn pick(
    sets: &[&[HostId]],
    tail: &[StrategySpec],
    req: &PlacementRequest<'_>,
    view: &ClusterView<'_>,
    rng: &mut ChaCha8Rng,
    scratch: &mut Vec<HostId>,
    keys: &mut Vec<i64>,
    attr_counts: &mut Vec<(String, u32)>,
) -> Option<HostId> {
    let total: usize = sets.iter().map(|s| s.len()).sum();
    if total == 0 {
        return None;
    }
    if matches!(tail.first(), None | Some(StrategySpec::Random)) {
        for _ in 0..REJECTION_TRIES {
            let mut i = rng.random_range(0..total);
            let host = sets
                .iter()
                .find_map(|s| {
                    if i < s.len() {
                        Some(s[i])
                    } else {
                        i -= s.len();
                        None
                    }
                })
                .expect("index within total");
            if feasible(req, view, host) {
                return Some(host);
            }
        }
    }
    collect_feasible(sets, req, view, scratch);
    narrow(tail, req, view, scratch, keys, attr_counts);
    choose(scratch, rng)
}

fn choose(candidates: &[HostId], rng: &mut ChaCha8Rng) -> Option<HostId> {
    match candidates.len() {
        0 => None,
        1 => Some(candidates[0]),
        n => Some(candidates[rng.random_range(0..n)]),
    }
}

/// Keeps only the candidates with the best (lowest) key under each strategy in turn; stops at
/// `random`, whose choice is the final random pick.
fn narrow(
    chain: &[StrategySpec],
    req: &PlacementRequest<'_>,
    view: &ClusterView<'_>,
    candidates: &mut Vec<HostId>,
    keys: &mut Vec<i64>,
    attr_counts: &mut Vec<(String, u32)>,
) {
    for strategy in chain {
        if candidates.len() <= 1 || matches!(strategy, StrategySpec::Random) {
            return;
        }
        if let StrategySpec::Spread(SpreadField::Attribute(a)) = strategy
            && a != AZ_ATTRIBUTE
        {
            count_by_attribute(a, req, view, attr_counts);
        }
        keys.clear();
        keys.extend(candidates.iter().map(|&h| strategy_key(strategy, req, view, h, attr_counts)));
        let best = keys.iter().copied().min().expect("non-empty");
        let mut kept = 0;
        for i in 0..candidates.len() {
            if keys[i] == best {
                candidates[kept] = candidates[i];
                kept += 1;
            }
        }
        candidates.truncate(kept);
    }
}

/// Tasks of the request's group per value of attribute `name` (hosts without it count under "").
fn count_by_attribute(name: &str, req: &PlacementRequest<'_>, view: &ClusterView<'_>, out: &mut Vec<(String, u32)>) {
    out.clear();
    for host in &view.cluster.hosts {
        let n = view.groups.on_host(req.group, host.id);
        if n == 0 {
            continue;
        }
        let value = HostFacts { view: *view, host: host.id }.attribute(name).unwrap_or("").to_string();
        match out.binary_search_by(|(v, _)| v.as_str().cmp(&value)) {
            Ok(i) => out[i].1 += n,
            Err(i) => out.insert(i, (value, n)),
        }
    }
}

fn strategy_key(
    strategy: &StrategySpec,
    req: &PlacementRequest<'_>,
    view: &ClusterView<'_>,
    host: HostId,
    attr_counts: &[(String, u32)],
) -> i64 {
    let h = view.cluster.host(host);
    match strategy {
        StrategySpec::Binpack(Resource::Memory) => i64::from(h.free().memory_mib),
        StrategySpec::Binpack(Resource::Cpu) => i64::from(h.free().cpu_units),
        StrategySpec::Spread(SpreadField::InstanceId) => i64::from(view.groups.on_host(req.group, host)),
        StrategySpec::Spread(SpreadField::Attribute(a)) if a == AZ_ATTRIBUTE => i64::from(view.groups.in_az(req.group, h.az)),
        StrategySpec::Spread(SpreadField::Attribute(a)) => {
            let facts = HostFacts { view: *view, host };
            let value = facts.attribute(a).unwrap_or("");
            attr_counts.binary_search_by(|(v, _)| v.as_str().cmp(value)).map_or(0, |i| i64::from(attr_counts[i].1))
        }
        StrategySpec::Random => 0,
        StrategySpec::Custom(s) => s.rank(req, view, host),
    }
}
