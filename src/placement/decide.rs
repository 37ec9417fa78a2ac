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
use super::query::InstanceFacts;
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
            candidates: Vec::new(),
            keys: Vec::new(),
            az_order: Vec::new(),
            attr_counts: Vec::new(),
        }
    }

    /// Must be called after every reserve/release on `host`.
    pub fn host_changed(&mut self, cluster: &Cluster, host: HostId) {
        let free = cluster.host(host).free();
        self.index.update(host, free.cpu_units, free.memory_mib);
    }

    pub fn verify(&self, cluster: &Cluster) -> Result<(), String> {
        self.index.verify(cluster)
    }

    /// Chooses a host for the request, or says why none fits.
    pub fn decide(&mut self, req: &PlacementRequest<'_>, view: &ClusterView<'_>, rng: &mut ChaCha8Rng) -> Result<HostId, PlacementFailure> {
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
                let mut at_least = need;
                loop {
                    // The tightest free amount ≥ at_least in any AZ of the tier.
                    let key = azs.iter().filter_map(|&az| self.index.buckets_from(*resource, az, at_least).next().map(|(k, _)| k)).min()?;
                    let mut sets: [&[HostId]; MAX_AZS] = [&[]; MAX_AZS];
                    let mut n = 0;
                    for &az in azs {
                        if let Some((k, hosts)) = self.index.buckets_from(*resource, az, key).next()
                            && k == key
                        {
                            sets[n] = hosts;
                            n += 1;
                        }
                    }
                    if let Some(h) =
                        pick(&sets[..n], &chain[1..], req, view, rng, &mut self.candidates, &mut self.keys, &mut self.attr_counts)
                    {
                        return Some(h);
                    }
                    at_least = key.checked_add(1)?;
                }
            }
            Some(StrategySpec::Random) | None => {
                let mut sets: [&[HostId]; MAX_AZS] = [&[]; MAX_AZS];
                for (slot, &az) in sets.iter_mut().zip(azs) {
                    *slot = self.index.az_hosts(az);
                }
                pick(&sets[..azs.len()], &[], req, view, rng, &mut self.candidates, &mut self.keys, &mut self.attr_counts)
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

    /// ECS reports one reason: here, the check that rejected the most hosts, each host counted
    /// under the first check it fails in the order location, CPU, memory, ports, ENI,
    /// constraints. Hosts outside the task's AZs only count when no host is inside them: the
    /// reason a planner needs is what blocked the task where it could have gone.
    fn failure_reason(&self, req: &PlacementRequest<'_>, view: &ClusterView<'_>) -> PlacementFailure {
        if view.cluster.hosts.is_empty() {
            return PlacementFailure::NoContainerInstances;
        }
        let mut counts = [0u32; PlacementFailure::ALL.len()];
        for host in &view.cluster.hosts {
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
        let mut e = Explanation { hosts: view.cluster.hosts.len() as u32, ..Explanation::default() };
        self.candidates.clear();
        for host in &view.cluster.hosts {
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

fn is_az_spread(s: &StrategySpec) -> bool {
    matches!(s, StrategySpec::Spread(SpreadField::Attribute(a)) if a == AZ_ATTRIBUTE)
}

fn in_mask(req: &PlacementRequest<'_>, az: AzId) -> bool {
    az.0 >= 32 || req.az_mask & (1 << az.0) != 0
}

fn passes_resources(req: &PlacementRequest<'_>, view: &ClusterView<'_>, host: HostId) -> bool {
    let h = view.cluster.host(host);
    in_mask(req, h.az) && req.need.fits_in(h.free()) && h.ports.all_free(req.ports) && (!req.eni || h.eni_tasks < h.eni_task_limit)
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
    if !in_mask(req, h.az) {
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
