//! The `[failures]` table: per host group, a failure process (mean time between failures,
//! exponential or Weibull) and the delay before a replacement instance registers; AZ outage
//! windows (`[[failures.az_outage]]`); the running fraction below which a service counts as
//! degraded (docs/model.md#host-failures-and-az-outages).

use toml::Value;

use super::reader::Table;
use super::{HostGroupSpec, ScenarioError};
use crate::engine::SimTime;
use crate::model::AzId;

/// How long a host lives between (re)joining the cluster and failing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FailureProcess {
    /// Memoryless: failures at a constant rate 1 / MTBF.
    Exponential { mtbf: SimTime },
    /// Weibull with this shape and a scale chosen so that its mean is the MTBF (shape < 1: early
    /// failures; > 1: wear-out).
    Weibull { mtbf: SimTime, shape: f64 },
}

impl FailureProcess {
    pub fn mtbf(self) -> SimTime {
        match self {
            FailureProcess::Exponential { mtbf } | FailureProcess::Weibull { mtbf, .. } => mtbf,
        }
    }
}

/// One host group's failures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostGroupFailures {
    /// `None`: the group's hosts fail only with their AZ.
    pub process: Option<FailureProcess>,
    /// From a host's failure (or its AZ's return) until its replacement registers.
    pub replacement_delay: SimTime,
}

/// An AZ unavailable from `start` to `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AzOutage {
    pub az: AzId,
    pub start: SimTime,
    pub end: SimTime,
}

/// `[failures]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FailuresSpec {
    /// Per host group, in `Scenario::host_groups` order.
    pub host_groups: Vec<HostGroupFailures>,
    /// In start order.
    pub az_outages: Vec<AzOutage>,
    /// A service counts as degraded while fewer than this fraction of its desired count run.
    pub degraded_below: f64,
    /// For instances of a capacity provider's Auto Scaling group: from a failure until the
    /// group's health check finds the instance impaired, terminates it and launches a
    /// replacement (which registers after the provider's `instance_launch_time`).
    pub asg_health_check_delay: SimTime,
}

/// [unsourced] EC2 status checks run every minute and an Auto Scaling group replaces an unhealthy
/// instance after them; a new instance registers 60–90 s after launch (observed). 3 minutes in
/// all; set it from your own fleet.
pub const DEFAULT_REPLACEMENT_DELAY: SimTime = SimTime::from_secs(180);
/// [unsourced] EC2 status checks run every minute; an Auto Scaling group replaces an instance
/// that fails them. One minute from a failure to the replacement's launch.
pub const DEFAULT_ASG_HEALTH_CHECK_DELAY: SimTime = SimTime::from_secs(60);
/// Shortest MTBF: below it a run is a storm of failures, not a study of them.
const MIN_MTBF: SimTime = SimTime::from_secs(60);
/// Most host failures a run may expect.
const MAX_EXPECTED_FAILURES: f64 = 1e8;

/// The failures model's keys of the `[failures]` table `f` (the caller finishes the table:
/// `nat_outage` is read by egress). `asg_slots[g]`: for a host group of a capacity provider, the
/// most instances it may run per AZ (its provider's `max_size`).
pub fn read_failures(
    f: &mut Table<'_>,
    groups: &[HostGroupSpec],
    asg_slots: &[Option<u32>],
    azs: &[String],
    horizon: SimTime,
) -> Result<FailuresSpec, ScenarioError> {
    let default_delay = f.opt_duration("replacement_delay")?.unwrap_or(DEFAULT_REPLACEMENT_DELAY);
    let asg_health_check_delay = match f.opt_duration("asg_health_check_delay")? {
        Some(_) if asg_slots.iter().all(Option::is_none) => {
            return Err(f.error("asg_health_check_delay", "only with a capacity provider's Auto Scaling group ([capacity_providers])"));
        }
        d => d.unwrap_or(DEFAULT_ASG_HEALTH_CHECK_DELAY),
    };
    let degraded_below = f.opt_f64_in("degraded_below", 0.0, 1.0)?.unwrap_or(0.9);
    let mut host_groups = vec![HostGroupFailures { process: None, replacement_delay: default_delay }; groups.len()];
    for (name, mut g) in f.named_tables("host_groups")? {
        let i = groups.iter().position(|x| x.name == name).ok_or_else(|| {
            let known: Vec<&str> = groups.iter().map(|x| x.name.as_str()).collect();
            ScenarioError::new(
                g.file(),
                g.path(),
                format!("no host group `{name}`; known: {}", if known.is_empty() { "none".into() } else { known.join(", ") }),
            )
        })?;
        let mtbf = g.duration("mtbf")?;
        if mtbf < MIN_MTBF {
            return Err(g.error("mtbf", "must be at least 1 minute, e.g. \"30d\""));
        }
        let hosts = u64::from(asg_slots[i].unwrap_or(groups[i].count_per_az)) * groups[i].azs.len() as u64;
        let expected = hosts as f64 * horizon.as_secs_f64() / mtbf.as_secs_f64();
        if expected > MAX_EXPECTED_FAILURES {
            return Err(g.error(
                "mtbf",
                format!("{hosts} hosts would fail about {expected:.3e} times over the horizon; at most {MAX_EXPECTED_FAILURES:e} per run"),
            ));
        }
        let process = match g.opt_str("distribution")?.unwrap_or("exponential") {
            "exponential" => {
                if g.has("weibull_shape") {
                    return Err(g.error("weibull_shape", "only with distribution = \"weibull\""));
                }
                FailureProcess::Exponential { mtbf }
            }
            "weibull" => {
                let shape = g
                    .opt_f64_in("weibull_shape", 0.1, 10.0)?
                    .ok_or_else(|| g.error("weibull_shape", "missing (required with distribution = \"weibull\"), from 0.1 to 10"))?;
                FailureProcess::Weibull { mtbf, shape }
            }
            other => return Err(g.error("distribution", format!("unknown distribution `{other}`; allowed: exponential, weibull"))),
        };
        if asg_slots[i].is_some() && g.has("replacement_delay") {
            return Err(g.error(
                "replacement_delay",
                "a capacity provider's Auto Scaling group replaces its failed instances itself: set [failures] asg_health_check_delay and the provider's instance_launch_time instead",
            ));
        }
        let replacement_delay = g.opt_duration("replacement_delay")?.unwrap_or(default_delay);
        g.finish()?;
        host_groups[i] = HostGroupFailures { process: Some(process), replacement_delay };
    }
    let mut az_outages: Vec<AzOutage> = Vec::new();
    let mut keys = Vec::new();
    for (i, v) in f.opt_array("az_outage")?.unwrap_or(&[]).iter().enumerate() {
        let key = format!("az_outage[{i}]");
        let Value::Table(t) = v else {
            return Err(f.error(&key, format!("expected a table such as {{ az = \"{}\", start = \"1h\", end = \"2h\" }}", azs[0])));
        };
        let mut o = Table::nested(f.file(), f.key(&key), t);
        let az_name = o.str("az")?;
        let az = azs
            .iter()
            .position(|a| a == az_name)
            .ok_or_else(|| o.error("az", format!("`{az_name}` is not one of cluster.azs ({})", azs.join(", "))))?;
        let start = o.duration("start")?;
        let end = o.duration("end")?;
        if start >= horizon {
            return Err(o.error("start", "must be before the horizon"));
        }
        if end <= start {
            return Err(o.error("end", "must be after start"));
        }
        let outage = AzOutage { az: AzId(az as u32), start, end };
        if let Some(j) = az_outages.iter().position(|p| p.az == outage.az && p.start < outage.end && outage.start < p.end) {
            return Err(o.error("start", format!("overlaps {} (same AZ); merge the two windows", keys[j])));
        }
        o.finish()?;
        az_outages.push(outage);
        keys.push(f.key(&key));
    }
    az_outages.sort_by_key(|o| (o.start, o.az));
    Ok(FailuresSpec { host_groups, az_outages, degraded_below, asg_health_check_delay })
}

/// An AZ outage takes the AZ's NAT gateway down with it: a NAT gateway outage of the same AZ must
/// not overlap it (merge the two windows, or let the AZ outage stand for both).
pub fn check_outages_apart(f: &Table<'_>, spec: &FailuresSpec, nat: &[super::NatOutage], azs: &[String]) -> Result<(), ScenarioError> {
    for o in &spec.az_outages {
        if let Some(n) = nat.iter().find(|n| n.az == o.az && n.start < o.end && o.start < n.end) {
            return Err(f.error(
                "nat_outage",
                format!(
                    "the NAT gateway outage of {} from {} s overlaps that AZ's outage from {} s, which already takes its NAT gateway down",
                    azs[o.az.0 as usize],
                    n.start.as_secs_f64(),
                    o.start.as_secs_f64()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Option<FailuresSpec>, ScenarioError> {
        let table: toml::Table = toml::from_str(text).unwrap();
        let mut root = Table::root("s.toml", &table);
        let Some(mut f) = root.opt_table("failures")? else { return Ok(None) };
        let groups = [HostGroupSpec {
            name: "main".into(),
            instance_type: 0,
            count_per_az: 1,
            azs: vec![AzId(0), AzId(1)],
            attributes: vec![],
            subnets: vec![],
        }];
        let spec = read_failures(&mut f, &groups, &[None], &["a".into(), "b".into()], SimTime::from_secs(36_000))?;
        f.finish()?;
        Ok(Some(spec))
    }

    #[test]
    fn a_group_without_a_process_fails_only_with_its_az_and_uses_the_default_delay() {
        let spec = read("[failures]\n[[failures.az_outage]]\naz = \"b\"\nstart = \"1h\"\nend = \"2h\"").unwrap().unwrap();
        assert_eq!(spec.host_groups, vec![HostGroupFailures { process: None, replacement_delay: DEFAULT_REPLACEMENT_DELAY }]);
        assert_eq!(spec.az_outages, vec![AzOutage { az: AzId(1), start: SimTime::from_secs(3600), end: SimTime::from_secs(7200) }]);
        assert_eq!(spec.degraded_below, 0.9);
    }

    #[test]
    fn weibull_needs_its_shape_and_exponential_refuses_one() {
        let w = read("[failures.host_groups.main]\nmtbf = \"30d\"\ndistribution = \"weibull\"\nweibull_shape = 1.5").unwrap().unwrap();
        assert_eq!(w.host_groups[0].process, Some(FailureProcess::Weibull { mtbf: SimTime::from_secs(30 * 86_400), shape: 1.5 }));
        let e = read("[failures.host_groups.main]\nmtbf = \"30d\"\ndistribution = \"weibull\"").unwrap_err();
        assert_eq!(e.key, "failures.host_groups.main.weibull_shape");
        let e = read("[failures.host_groups.main]\nmtbf = \"30d\"\nweibull_shape = 2").unwrap_err();
        assert_eq!(e.key, "failures.host_groups.main.weibull_shape");
    }

    #[test]
    fn bad_windows_name_their_key_and_what_is_allowed() {
        let e = read("[[failures.az_outage]]\naz = \"z\"\nstart = \"1h\"\nend = \"2h\"").unwrap_err();
        assert_eq!(e.key, "failures.az_outage[0].az");
        assert!(e.message.contains("a, b"), "{}", e.message);
        let e = read("[[failures.az_outage]]\naz = \"a\"\nstart = \"2h\"\nend = \"2h\"").unwrap_err();
        assert_eq!((e.key.as_str(), e.message.as_str()), ("failures.az_outage[0].end", "must be after start"));
        let e = read("[[failures.az_outage]]\naz = \"a\"\nstart = \"1h\"\nend = \"3h\"\n[[failures.az_outage]]\naz = \"a\"\nstart = \"2h\"\nend = \"4h\"")
            .unwrap_err();
        assert_eq!(e.key, "failures.az_outage[1].start");
        assert!(e.message.contains("failures.az_outage[0]"), "{}", e.message);
        let e = read("[failures.host_groups.main]\nmtbf = \"1s\"").unwrap_err();
        assert_eq!((e.key.as_str(), e.message.as_str()), ("failures.host_groups.main.mtbf", "must be at least 1 minute, e.g. \"30d\""));
        let e = read("[failures.host_groups.other]\nmtbf = \"1d\"").unwrap_err();
        assert!(e.message.contains("known: main"), "{}", e.message);
        let e = read("[[failures.az_outage]]\naz = \"a\"\nstart = \"1h\"\nend = \"2h\"\nduration = \"1h\"").unwrap_err();
        assert!(e.message.contains("unknown key"), "{}", e.message);
    }
}
