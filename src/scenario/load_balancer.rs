//! `[load_balancers.<name>]` (Application and Network Load Balancers: their subnets and the
//! addresses their nodes hold) and a service's target group: `load_balancer`,
//! `target_health_check`, `health_check_grace_period` and `health_failures`
//! (docs/model.md#load-balancers-and-health-checks).

use super::ScenarioError;
use super::network::NetworkSpec;
use super::reader::Table;
use crate::engine::SimTime;
use crate::model::{AzId, SubnetId};

/// Smallest subnet an ALB accepts (/27), and the free addresses each of its subnets (and an
/// internet-facing NLB's) must have when it is created.
pub const ALB_MIN_PREFIX_LEN: u8 = 27;
pub const LB_MIN_FREE_ADDRESSES: u32 = 8;
/// Most addresses an ALB grows to, over all its subnets.
pub const ALB_MAX_ADDRESSES: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LbType {
    Application,
    Network,
}

impl LbType {
    pub fn as_str(self) -> &'static str {
        match self {
            LbType::Application => "alb",
            LbType::Network => "nlb",
        }
    }
}

/// One load balancer.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadBalancerSpec {
    pub name: String,
    pub kind: LbType,
    /// One subnet per enabled AZ.
    pub subnets: Vec<SubnetId>,
    /// Addresses its nodes hold in each subnet at the start (an NLB: exactly 1).
    pub addresses_per_az: u32,
    /// An ALB's nodes as they change: from each time, this many addresses per AZ (in time order).
    pub scaling: Vec<(SimTime, u32)>,
    pub internet_facing: bool,
}

impl LoadBalancerSpec {
    /// The AZs it is enabled in.
    pub fn azs<'a>(&'a self, net: &'a NetworkSpec) -> impl Iterator<Item = AzId> + 'a {
        self.subnets.iter().map(|s| net.subnets[s.0 as usize].az)
    }
}

/// A target group's health check (the ALB and NLB defaults differ only in the timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetHealthCheck {
    pub interval: SimTime,
    pub timeout: SimTime,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
}

impl TargetHealthCheck {
    pub fn default_for(kind: LbType) -> TargetHealthCheck {
        let timeout = match kind {
            LbType::Application => 5,
            LbType::Network => 10,
        };
        TargetHealthCheck {
            interval: SimTime::from_secs(30),
            timeout: SimTime::from_secs(timeout),
            healthy_threshold: 5,
            unhealthy_threshold: 2,
        }
    }
}

/// The service's target group on a load balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetGroupSpec {
    /// Index into `Scenario::load_balancers`.
    pub load_balancer: u32,
    /// The load balancer's type (CodeDeploy shifts an NLB's traffic only all at once).
    pub kind: LbType,
    pub health_check: TargetHealthCheck,
}

/// How a service's tasks fail their health checks: a fraction of the tasks, drawn per task, fail
/// every check from `after` their start on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthFailures {
    /// Fraction of tasks whose target-group checks fail.
    pub target: f64,
    /// Fraction of tasks whose container health check fails.
    pub container: f64,
    /// From when after RUNNING a failing task's checks fail (0: they never pass).
    pub after: SimTime,
}

/// Reads `[load_balancers.<name>]`; checks what Elastic Load Balancing refuses at creation.
/// `held`: per subnet, the addresses the hosts and NAT gateways already hold.
pub(super) fn read_load_balancers(
    root: &mut Table<'_>,
    network: Option<&NetworkSpec>,
    azs: &[String],
    held: &[u64],
    horizon: SimTime,
) -> Result<Vec<LoadBalancerSpec>, ScenarioError> {
    let mut out = Vec::new();
    let mut taken = held.to_vec();
    for (name, mut t) in root.named_tables("load_balancers")? {
        let net =
            network.ok_or_else(|| t.error("subnets", "a load balancer lives in subnets; there is no [network] table declaring them"))?;
        let kind = match t.str("type")? {
            "alb" | "application" => LbType::Application,
            "nlb" | "network" => LbType::Network,
            other => return Err(t.error("type", format!("unknown `{other}`; allowed: alb, nlb"))),
        };
        let names = t
            .opt_strings("subnets")?
            .ok_or_else(|| t.error("subnets", format!("missing; list one subnet per AZ from [network.subnets] ({})", net.names())))?;
        let mut subnets: Vec<SubnetId> = Vec::new();
        for n in names {
            let id = net.subnet_id(n).ok_or_else(|| t.error("subnets", format!("unknown subnet `{n}`; declared: {}", net.names())))?;
            let az = net.subnets[id.0 as usize].az;
            if subnets.iter().any(|s| net.subnets[s.0 as usize].az == az) {
                return Err(t.error("subnets", format!("a load balancer takes one subnet per AZ; two are in {}", azs[az.0 as usize])));
            }
            subnets.push(id);
        }
        if subnets.is_empty() {
            return Err(t.error("subnets", "list at least one subnet"));
        }
        let internet_facing = match t.opt_str("scheme")? {
            None | Some("internal") => false,
            Some("internet-facing") => true,
            Some(other) => return Err(t.error("scheme", format!("unknown `{other}`; allowed: internal, internet-facing"))),
        };
        let addresses_per_az = match kind {
            LbType::Application => {
                if subnets.len() < 2 {
                    return Err(t.error(
                        "subnets",
                        "an Application Load Balancer needs subnets in at least two Availability Zones \
                         (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#availability-zones)",
                    ));
                }
                // [unsourced] AWS does not publish how many nodes an idle ALB runs; 2 per AZ is
                // a planning default. It grows with traffic, which is not modelled: set it, and
                // how it grows (`scaling`).
                let n = t.opt_u32_min("addresses_per_az", 1)?.unwrap_or(2);
                at_most_alb_max(&t, "addresses_per_az", n, subnets.len())?;
                n
            }
            LbType::Network => {
                for key in ["addresses_per_az", "scaling"] {
                    if t.has(key) {
                        return Err(t.error(key, "a Network Load Balancer has exactly one address per AZ"));
                    }
                }
                1
            }
        };
        for &id in &subnets {
            let s = &net.subnets[id.0 as usize];
            if kind == LbType::Application && s.cidr.prefix > ALB_MIN_PREFIX_LEN {
                return Err(t.error(
                    "subnets",
                    format!("subnet `{}` is {}; an ALB's subnets must be /{ALB_MIN_PREFIX_LEN} or larger", s.name, s.cidr),
                ));
            }
            let free = u64::from(s.cidr.usable()).saturating_sub(taken[id.0 as usize]);
            let needs_free = kind == LbType::Application || internet_facing;
            if needs_free && free < u64::from(LB_MIN_FREE_ADDRESSES) {
                return Err(t.error(
                    "subnets",
                    format!(
                        "subnet `{}` has {free} free addresses after the hosts, NAT gateways and other load balancers; \
                         a load balancer needs at least {LB_MIN_FREE_ADDRESSES}",
                        s.name
                    ),
                ));
            }
            if free < u64::from(addresses_per_az) {
                return Err(t.error("addresses_per_az", format!("subnet `{}` has only {free} free addresses", s.name)));
            }
            taken[id.0 as usize] += u64::from(addresses_per_az);
        }
        let scaling = read_scaling(&mut t, subnets.len(), horizon)?;
        t.finish()?;
        out.push(LoadBalancerSpec { name: name.to_string(), kind, subnets, addresses_per_az, scaling, internet_facing });
    }
    Ok(out)
}

/// An ALB uses at most 100 addresses over all its subnets.
fn at_most_alb_max(t: &Table<'_>, key: &str, per_az: u32, azs: usize) -> Result<(), ScenarioError> {
    if u64::from(per_az) * azs as u64 > u64::from(ALB_MAX_ADDRESSES) {
        return Err(
            t.error(key, format!("{per_az} per AZ in {azs} AZs is more than the {ALB_MAX_ADDRESSES} addresses an ALB uses at most"))
        );
    }
    Ok(())
}

/// An ALB's `scaling = [{ at = "8h", addresses_per_az = 6 }, …]`: its nodes as traffic changes.
fn read_scaling(t: &mut Table<'_>, azs: usize, horizon: SimTime) -> Result<Vec<(SimTime, u32)>, ScenarioError> {
    let mut out = Vec::new();
    let entries = t.timed_tables("scaling", "{ at = \"8h\", addresses_per_az = 6 }", horizon, "the change would never happen")?;
    for (at, mut e) in entries {
        let n = e.opt_u32_min("addresses_per_az", 1)?.ok_or_else(|| e.error("addresses_per_az", "missing; 1 or more"))?;
        at_most_alb_max(&e, "addresses_per_az", n, azs)?;
        e.finish()?;
        out.push((at, n));
    }
    Ok(out)
}

/// Reads a service's `load_balancer`, `target_health_check`; checks that the load balancer
/// covers every AZ the service's tasks can run in (`task_azs`).
pub(super) fn read_target_group(
    w: &mut Table<'_>,
    load_balancers: &[LoadBalancerSpec],
    network: Option<&NetworkSpec>,
    task_azs: &[AzId],
    azs: &[String],
) -> Result<Option<TargetGroupSpec>, ScenarioError> {
    let Some(name) = w.opt_str("load_balancer")? else {
        if w.has("target_health_check") {
            return Err(w.error("target_health_check", "needs a `load_balancer` (a target group health-checks load-balancer targets)"));
        }
        return Ok(None);
    };
    let index = load_balancers.iter().position(|l| l.name == name).ok_or_else(|| {
        let known: Vec<&str> = load_balancers.iter().map(|l| l.name.as_str()).collect();
        w.error(
            "load_balancer",
            format!(
                "unknown load balancer `{name}`; declared under [load_balancers]: {}",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ),
        )
    })?;
    let lb = &load_balancers[index];
    let net = network.expect("a load balancer implies a network");
    let covered: Vec<AzId> = lb.azs(net).collect();
    if let Some(az) = task_azs.iter().find(|az| !covered.contains(az)) {
        return Err(w.error(
            "load_balancer",
            format!("the service's tasks can run in {}, where load balancer `{name}` has no subnet; its subnets must cover every AZ the tasks use", azs[az.0 as usize]),
        ));
    }
    let mut hc = TargetHealthCheck::default_for(lb.kind);
    if let Some(mut t) = w.opt_table("target_health_check")? {
        if let Some(i) = t.opt_duration("interval")? {
            if !(SimTime::from_secs(5)..=SimTime::from_secs(300)).contains(&i) || i.0 % SimTime::from_secs(1).0 != 0 {
                return Err(t.error("interval", "whole seconds from 5 to 300"));
            }
            hc.interval = i;
        }
        if let Some(x) = t.opt_duration("timeout")? {
            if !(SimTime::from_secs(2)..=SimTime::from_secs(120)).contains(&x) {
                return Err(t.error("timeout", "2 to 120 s"));
            }
            hc.timeout = x;
        }
        hc.healthy_threshold = t.opt_u32_range("healthy_threshold", 2, 10)?.unwrap_or(hc.healthy_threshold);
        hc.unhealthy_threshold = t.opt_u32_range("unhealthy_threshold", 2, 10)?.unwrap_or(hc.unhealthy_threshold);
        t.finish()?;
    }
    if hc.timeout >= hc.interval {
        return Err(w.error("target_health_check.timeout", "must be shorter than the interval"));
    }
    Ok(Some(TargetGroupSpec { load_balancer: index as u32, kind: lb.kind, health_check: hc }))
}

/// Reads a service's `health_failures = { target, container, after }`.
pub(super) fn read_health_failures(
    w: &mut Table<'_>,
    target_group: bool,
    container_check: bool,
) -> Result<Option<HealthFailures>, ScenarioError> {
    let Some(mut t) = w.opt_table("health_failures")? else { return Ok(None) };
    let target = t.opt_f64_in("target", 0.0, 1.0)?.unwrap_or(0.0);
    let container = t.opt_f64_in("container", 0.0, 1.0)?.unwrap_or(0.0);
    let after = t.opt_duration("after")?.unwrap_or(SimTime::ZERO);
    if target > 0.0 && !target_group {
        return Err(t.error("target", "the service has no `load_balancer`, so no target-group health checks"));
    }
    if container > 0.0 && !container_check {
        return Err(t.error("container", "no essential container of the service's task definition has a healthCheck"));
    }
    t.finish()?;
    Ok(Some(HealthFailures { target, container, after }))
}
