//! Egress keys: `[images]` (sizes, pull behaviour, SOCI), the NAT and endpoint keys of
//! `[network]`, `[logs]` (awslogs rates), `[prices]`, and a workload's `awsvpc_configuration`.
//!
//! ```toml
//! [images]
//! default_size = "200MB"
//! pull_behavior = "default"        # ECS_IMAGE_PULL_BEHAVIOR: default, always, once, prefer-cached
//! pull_timeout = "1m"
//! image_pull_timeout = "2h"
//! container_start_delay = "1s"
//! soci = ["123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1"]   # images with a SOCI index
//! soci_start_fraction = 0.064
//! [images.sizes]
//! "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1" = "500MB"
//!
//! [network]
//! nat = "per_az"                   # or "single" (with nat_az) or "none"
//! nat_bandwidth = "5Gbps"
//! fargate_task_bandwidth = "100MB/s"
//! host_bandwidth = "baseline"      # or "burst"
//! [network.endpoints]
//! ecr = true
//! logs = true
//! s3_gateway = true
//!
//! [logs]
//! default_rate = "0B/s"
//! [logs.rates]
//! "web" = "20KB/s"                 # every container of family web
//! "web/envoy" = "2KB/s"            # one container
//!
//! [prices]
//! nat_gateway_hour = 0.045
//!
//! [workload.web.awsvpc_configuration]
//! assign_public_ip = "ENABLED"
//! ```

use super::ScenarioError;
use super::reader::Table;
use super::units;
use crate::engine::SimTime;
use crate::model::AzId;
use crate::model::cost::Prices;
use crate::model::egress::{
    BYTES_PER_GBIT, Endpoints, NatLayout, Origin, PullBehavior, RouteTable, SubnetRouting, Traffic, is_private_ecr,
};

/// How an EC2 host's link is sized from its instance type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostBandwidth {
    /// The sustained figure (e.g. m5.large 0.75 Gbps).
    Baseline,
    /// The "up to" figure instances reach on network credits (e.g. 10 Gbps), best effort.
    Burst,
}

/// The NAT layout as written: `nat_az` is resolved against the subnets at validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NatChoice {
    PerAz,
    Single(Option<AzId>),
    None,
}

/// The egress keys of `[network]`.
#[derive(Debug, Clone, PartialEq)]
pub struct EgressNetwork {
    pub nat: NatChoice,
    /// Each NAT gateway's bandwidth, bytes/s: 5 Gbps, which AWS scales up to 100 Gbps
    /// (https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-basics.html).
    pub nat_bandwidth_bps: f64,
    /// A Fargate task ENI's bandwidth, bytes/s [unsourced: AWS publishes none; 100 MB/s].
    pub fargate_task_bandwidth_bps: f64,
    pub host_bandwidth: HostBandwidth,
    pub endpoints: Endpoints,
    /// Each interface endpoint's bandwidth per AZ: 10 Gbps, scaling to 100 Gbps
    /// (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-limits-endpoints.html).
    pub endpoint_bandwidth_bps: f64,
}

impl Default for EgressNetwork {
    fn default() -> Self {
        EgressNetwork {
            nat: NatChoice::PerAz,
            nat_bandwidth_bps: 5.0 * BYTES_PER_GBIT,
            fargate_task_bandwidth_bps: 100e6,
            host_bandwidth: HostBandwidth::Baseline,
            endpoints: Endpoints::default(),
            endpoint_bandwidth_bps: 10.0 * BYTES_PER_GBIT,
        }
    }
}

/// `[images]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImagesSpec {
    pub default_size_bytes: u64,
    /// (image name, bytes), sorted by name.
    pub sizes: Vec<(String, u64)>,
    /// Images with a SOCI index, sorted.
    pub soci: Vec<String>,
    pub soci_start_fraction: f64,
    pub pull_behavior: PullBehavior,
    /// How long a pull with no route waits before it fails: the agent's manifest pull timeout,
    /// `ECS_MANIFEST_PULL_TIMEOUT`, 1 minute (https://github.com/aws/amazon-ecs-agent/blob/master/README.md).
    pub pull_timeout: SimTime,
    /// How long a pull may take before the agent gives it up and the task stops with
    /// `CannotPullContainerError`: `ECS_IMAGE_PULL_TIMEOUT`, 2 hours
    /// (https://github.com/aws/amazon-ecs-agent/blob/master/README.md). Reached by pulls stalled
    /// behind a NAT gateway outage or crawling through a saturated link.
    pub image_pull_timeout: SimTime,
    /// From the images being present to RUNNING (create and start the containers): about 1 s
    /// observed on Fargate [unsourced beyond one trace].
    pub container_start_delay: SimTime,
}

impl Default for ImagesSpec {
    fn default() -> Self {
        ImagesSpec {
            default_size_bytes: 200_000_000,
            sizes: Vec::new(),
            soci: Vec::new(),
            soci_start_fraction: 0.064,
            pull_behavior: PullBehavior::Default,
            pull_timeout: SimTime::from_secs(60),
            image_pull_timeout: SimTime::from_secs(2 * 3600),
            container_start_delay: SimTime::from_secs(1),
        }
    }
}

impl ImagesSpec {
    pub fn size_bytes(&self, image: &str) -> u64 {
        self.sizes.binary_search_by(|(n, _)| n.as_str().cmp(image)).map_or(self.default_size_bytes, |i| self.sizes[i].1)
    }

    pub fn has_soci_index(&self, image: &str) -> bool {
        self.soci.binary_search_by(|n| n.as_str().cmp(image)).is_ok()
    }
}

/// `[logs]`: awslogs rates, bytes/s, by family or family/container.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogsSpec {
    pub default_rate_bps: f64,
    /// (family, container or None for every container, bytes/s), sorted.
    pub rates: Vec<(String, Option<String>, f64)>,
}

impl LogsSpec {
    /// The rate of one container: its own entry, else its family's, else the default.
    pub fn rate_bps(&self, family: &str, container: &str) -> f64 {
        let own = self.rates.iter().find(|(f, c, _)| f == family && c.as_deref() == Some(container));
        let fam = self.rates.iter().find(|(f, c, _)| f == family && c.is_none());
        own.or(fam).map_or(self.default_rate_bps, |r| r.2)
    }
}

/// A workload's `awsvpc_configuration` (ECS's `awsvpcConfiguration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WorkloadEgress {
    /// `assignPublicIp`: only Fargate tasks may have one (EC2 task ENIs never get public IPs).
    pub assign_public_ip: bool,
}

/// Everything egress reads from a scenario.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EgressSpec {
    /// Pulls and logs are simulated: the scenario has `[images]` or `[logs]`. Without them a run
    /// keeps the workloads' constant `start_delay` and no bytes are counted.
    pub enabled: bool,
    pub images: ImagesSpec,
    pub logs: LogsSpec,
    pub prices: Prices,
    /// Per workload, in the scenario's workload order.
    pub workloads: Vec<WorkloadEgress>,
    /// `[[failures.nat_outage]]`: windows in which a NAT gateway passes no traffic, sorted by
    /// start time.
    pub nat_outages: Vec<NatOutage>,
}

/// From `start` to `end` the NAT gateway of `az` passes no traffic: pulls through it stall and
/// resume afterwards, logs fill their drivers' buffers (docs/model.md#nat-gateway-outages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatOutage {
    pub az: AzId,
    pub start: SimTime,
    pub end: SimTime,
}

/// `[[failures.nat_outage]]` entries (`az`, `start`, `end`). The AZ must hold a NAT gateway, the
/// window must lie in the run and must not overlap another of the same gateway, and something
/// must cross the gateway (`[images]` or `[logs]`).
pub fn read_nat_outages(
    failures: &mut Table<'_>,
    file: &str,
    azs: &[String],
    subnets: &[super::SubnetSpec],
    horizon: SimTime,
    egress_enabled: bool,
) -> Result<Vec<NatOutage>, ScenarioError> {
    let Some(items) = failures.opt_array("nat_outage")? else { return Ok(Vec::new()) };
    let mut out: Vec<NatOutage> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let key = format!("nat_outage[{i}]");
        let table = item
            .as_table()
            .ok_or_else(|| failures.error(&key, "expected a table such as { az = \"us-east-1a\", start = \"1h\", end = \"1h30m\" }"))?;
        let mut t = Table::nested(file, failures.key(&key), table);
        if !egress_enabled {
            return Err(t.error("az", "a NAT gateway outage needs [images] or [logs]: without them no traffic crosses a NAT gateway"));
        }
        let name = t.str("az")?;
        let az = azs
            .iter()
            .position(|a| a == name)
            .map(|i| AzId(i as u32))
            .ok_or_else(|| t.error("az", format!("unknown AZ `{name}`; cluster.azs: {}", azs.join(", "))))?;
        if !subnets.iter().any(|s| s.az == az && s.nat_gateway) {
            let with: Vec<&str> = subnets.iter().filter(|s| s.nat_gateway).map(|s| azs[s.az.0 as usize].as_str()).collect();
            return Err(t.error(
                "az",
                format!(
                    "no NAT gateway in `{name}` (a subnet there with nat_gateway = true); AZs with one: {}",
                    if with.is_empty() { "none".to_string() } else { with.join(", ") }
                ),
            ));
        }
        let start = t.duration("start")?;
        let end = t.duration("end")?;
        if end <= start {
            return Err(t.error("end", "must be later than start"));
        }
        if start >= horizon {
            return Err(t.error("start", "must be before the horizon"));
        }
        if let Some(other) = out.iter().position(|o| o.az == az && o.start < end && start < o.end) {
            return Err(t.error("start", format!("overlaps failures.nat_outage[{other}] of the same NAT gateway; merge the two windows")));
        }
        t.finish()?;
        out.push(NatOutage { az, start, end });
    }
    out.sort_by_key(|o| (o.start, o.az));
    Ok(out)
}

/// Parses a bandwidth: bits (`"5Gbps"`, `"750Mbps"`, `"100kbps"`, `"8bps"`) or bytes per second
/// (`"100MB/s"`, `"20KiB/s"`, `"0B/s"`).
pub fn parse_rate_bps(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let hint =
        || format!("`{text}` is not a rate; write bits per second (\"5Gbps\", \"750Mbps\") or bytes per second (\"100MB/s\", \"20KiB/s\")");
    if let Some(size) = t.strip_suffix("/s") {
        return units::parse_bytes(size).map(|b| b as f64).map_err(|_| hint());
    }
    let lower = t.to_ascii_lowercase();
    let (number, scale) = [("gbps", 1e9), ("mbps", 1e6), ("kbps", 1e3), ("bps", 1.0)]
        .iter()
        .find_map(|(suffix, scale)| lower.strip_suffix(suffix).map(|n| (n.trim().to_string(), *scale)))
        .ok_or_else(hint)?;
    let v: f64 = number.parse().map_err(|_| hint())?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("rate `{text}` must be zero or positive"));
    }
    Ok(v * scale / 8.0)
}

fn opt_rate(t: &mut Table<'_>, key: &str, min_bps: f64) -> Result<Option<f64>, ScenarioError> {
    let Some(text) = t.opt_str(key)? else { return Ok(None) };
    let bps = parse_rate_bps(text).map_err(|m| t.error(key, m))?;
    if bps < min_bps {
        return Err(t.error(key, format!("`{text}` is too small; at least {min_bps} bytes/s")));
    }
    Ok(Some(bps))
}

fn opt_size(t: &mut Table<'_>, key: &str) -> Result<Option<u64>, ScenarioError> {
    match t.opt_value(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) => units::parse_bytes(s).map(Some).map_err(|m| t.error(key, m)),
        Some(toml::Value::Integer(i)) if *i >= 0 => Ok(Some(*i as u64)),
        Some(v) => Err(t.error(key, format!("expected a size such as \"500MB\", found {} `{v}`", v.type_str()))),
    }
}

/// The egress keys of `[network]`, read before the table is finished.
pub fn read_network_egress(n: &mut Table<'_>, azs: &[String]) -> Result<EgressNetwork, ScenarioError> {
    let d = EgressNetwork::default();
    let nat = match n.opt_str("nat")? {
        None | Some("per_az") => {
            if n.has("nat_az") {
                return Err(n.error("nat_az", "only with nat = \"single\" (the AZ of the one NAT gateway every private subnet uses)"));
            }
            NatChoice::PerAz
        }
        Some("single") => NatChoice::Single(match n.opt_str("nat_az")? {
            None => None,
            Some(a) => Some(AzId(
                azs.iter()
                    .position(|x| x == a)
                    .ok_or_else(|| n.error("nat_az", format!("`{a}` is not one of cluster.azs ({})", azs.join(", "))))?
                    as u32,
            )),
        }),
        Some("none") => NatChoice::None,
        Some(other) => return Err(n.error("nat", format!("unknown NAT layout `{other}`; allowed: per_az, single, none"))),
    };
    let host_bandwidth = match n.opt_str("host_bandwidth")? {
        None | Some("baseline") => HostBandwidth::Baseline,
        Some("burst") => HostBandwidth::Burst,
        Some(other) => return Err(n.error("host_bandwidth", format!("unknown `{other}`; allowed: baseline, burst"))),
    };
    // 5 Gbps to 100 Gbps is the range AWS documents for one NAT gateway.
    let nat_bandwidth_bps = opt_rate(n, "nat_bandwidth", 1.0)?.unwrap_or(d.nat_bandwidth_bps);
    if nat_bandwidth_bps > 100.0 * BYTES_PER_GBIT {
        return Err(n.error("nat_bandwidth", "a NAT gateway scales to at most 100 Gbps"));
    }
    let fargate_task_bandwidth_bps = opt_rate(n, "fargate_task_bandwidth", 1.0)?.unwrap_or(d.fargate_task_bandwidth_bps);
    let mut endpoints = Endpoints::default();
    let mut endpoint_bandwidth_bps = d.endpoint_bandwidth_bps;
    if let Some(mut e) = n.opt_table("endpoints")? {
        endpoints.ecr = e.opt_bool("ecr")?.unwrap_or(false);
        endpoints.logs = e.opt_bool("logs")?.unwrap_or(false);
        endpoints.s3_gateway = e.opt_bool("s3_gateway")?.unwrap_or(false);
        if let Some(list) = e.opt_strings("azs")? {
            for a in list {
                let i = azs
                    .iter()
                    .position(|x| x == a)
                    .ok_or_else(|| e.error("azs", format!("`{a}` is not one of cluster.azs ({})", azs.join(", "))))?;
                endpoints.azs.push(AzId(i as u32));
            }
            endpoints.azs.sort();
            endpoints.azs.dedup();
            if endpoints.azs.is_empty() {
                return Err(e.error("azs", "list at least one AZ, or leave the key out for every AZ"));
            }
        }
        endpoint_bandwidth_bps = opt_rate(&mut e, "bandwidth", 1.0)?.unwrap_or(endpoint_bandwidth_bps);
        e.finish()?;
    }
    Ok(EgressNetwork { nat, nat_bandwidth_bps, fargate_task_bandwidth_bps, host_bandwidth, endpoints, endpoint_bandwidth_bps })
}

/// Checks the NAT layout against the AZs whose subnets hold NAT gateways; resolves `single`
/// without `nat_az` to the only AZ with one.
pub fn check_nat_layout(n: &Table<'_>, egress: &mut EgressNetwork, nat_azs: &[AzId], azs: &[String]) -> Result<(), ScenarioError> {
    if let NatChoice::Single(choice) = egress.nat {
        let az = match (choice, nat_azs) {
            (Some(az), _) if nat_azs.contains(&az) => az,
            (Some(az), _) => {
                return Err(n.error(
                    "nat_az",
                    format!(
                        "no subnet in {} has nat_gateway = true; the shared NAT gateway lives in a public subnet of its AZ",
                        azs[az.0 as usize]
                    ),
                ));
            }
            (None, [one]) => *one,
            (None, _) => {
                return Err(n.error(
                    "nat_az",
                    format!("missing: with nat = \"single\", name the AZ of the shared NAT gateway ({} AZs hold one)", nat_azs.len()),
                ));
            }
        };
        egress.nat = NatChoice::Single(Some(az));
    }
    Ok(())
}

/// `[images]`, `[logs]` and `[prices]`.
pub fn read_egress(root: &mut Table<'_>) -> Result<EgressSpec, ScenarioError> {
    let mut spec = EgressSpec::default();
    if let Some(mut t) = root.opt_table("images")? {
        spec.enabled = true;
        let im = &mut spec.images;
        im.default_size_bytes = opt_size(&mut t, "default_size")?.unwrap_or(im.default_size_bytes);
        if let Some(b) = t.opt_str("pull_behavior")? {
            im.pull_behavior = PullBehavior::parse(b).ok_or_else(|| {
                t.error("pull_behavior", format!("unknown pull behavior `{b}`; allowed: {}", PullBehavior::NAMES.join(", ")))
            })?;
        }
        im.pull_timeout = t.opt_duration("pull_timeout")?.unwrap_or(im.pull_timeout);
        if im.pull_timeout == SimTime::ZERO {
            return Err(t.error("pull_timeout", "must be greater than zero"));
        }
        im.image_pull_timeout = t.opt_duration("image_pull_timeout")?.unwrap_or(im.image_pull_timeout);
        if im.image_pull_timeout == SimTime::ZERO {
            return Err(t.error("image_pull_timeout", "must be greater than zero"));
        }
        im.container_start_delay = t.opt_duration("container_start_delay")?.unwrap_or(im.container_start_delay);
        im.soci_start_fraction = t.opt_f64_in("soci_start_fraction", 0.0, 1.0)?.unwrap_or(im.soci_start_fraction);
        if let Some(list) = t.opt_strings("soci")? {
            im.soci = list.into_iter().map(str::to_string).collect();
            im.soci.sort();
            im.soci.dedup();
        }
        if let Some(mut sizes) = t.opt_table("sizes")? {
            for (name, v) in sizes.entries() {
                let bytes = match v {
                    toml::Value::String(s) => units::parse_bytes(s).map_err(|m| sizes.error(name, m))?,
                    toml::Value::Integer(i) if *i >= 0 => *i as u64,
                    other => return Err(sizes.error(name, format!("expected a size such as \"500MB\", found {}", other.type_str()))),
                };
                im.sizes.push((name.to_string(), bytes));
            }
            im.sizes.sort();
        }
        t.finish()?;
    }
    if let Some(mut t) = root.opt_table("logs")? {
        spec.enabled = true;
        spec.logs.default_rate_bps = opt_rate(&mut t, "default_rate", 0.0)?.unwrap_or(0.0);
        if let Some(mut rates) = t.opt_table("rates")? {
            for (key, v) in rates.entries() {
                let text = v.as_str().ok_or_else(|| rates.error(key, "expected a rate such as \"20KB/s\""))?;
                let bps = parse_rate_bps(text).map_err(|m| rates.error(key, m))?;
                let (family, container) = match key.split_once('/') {
                    Some((f, c)) if !f.is_empty() && !c.is_empty() => (f.to_string(), Some(c.to_string())),
                    Some(_) => return Err(rates.error(key, "write \"family\" or \"family/container\"")),
                    None => (key.to_string(), None),
                };
                spec.logs.rates.push((family, container, bps));
            }
            spec.logs.rates.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        }
        t.finish()?;
    }
    if let Some(mut t) = root.opt_table("prices")? {
        let p = &mut spec.prices;
        for (key, slot) in [
            ("nat_gateway_hour", &mut p.nat_gateway_hour),
            ("nat_gateway_gb", &mut p.nat_gateway_gb),
            ("public_ipv4_hour", &mut p.public_ipv4_hour),
            ("cross_az_gb_each_direction", &mut p.cross_az_gb_each_direction),
            ("interface_endpoint_hour", &mut p.interface_endpoint_hour),
            ("interface_endpoint_gb", &mut p.interface_endpoint_gb),
            ("internet_egress_gb", &mut p.internet_egress_gb),
            ("fargate_x86_vcpu_hour", &mut p.fargate_x86_vcpu_hour),
            ("fargate_x86_gb_hour", &mut p.fargate_x86_gb_hour),
            ("fargate_arm_vcpu_hour", &mut p.fargate_arm_vcpu_hour),
            ("fargate_arm_gb_hour", &mut p.fargate_arm_gb_hour),
        ] {
            if let Some(v) = t.opt_f64_in(key, 0.0, 1e6)? {
                *slot = v;
            }
        }
        if let Some(v) = t.opt_f64_in("fargate_spot_discount", 0.0, 1.0)? {
            p.fargate_spot_discount = v;
        }
        t.finish()?;
    }
    Ok(spec)
}

/// A workload's `awsvpc_configuration` table; `fargate` and `awsvpc` say what the workload is.
pub fn read_workload_egress(w: &mut Table<'_>, fargate: bool, awsvpc: bool) -> Result<WorkloadEgress, ScenarioError> {
    let Some(mut t) = w.opt_table("awsvpc_configuration")? else { return Ok(WorkloadEgress::default()) };
    if !awsvpc {
        return Err(t.error("assign_public_ip", "only awsvpc tasks have an awsvpcConfiguration"));
    }
    let assign_public_ip = match t.opt_str("assign_public_ip")? {
        None | Some("DISABLED") => false,
        Some("ENABLED") if fargate => true,
        Some("ENABLED") => {
            return Err(t.error("assign_public_ip", "EC2 task ENIs never get public IPs (ECS); put the hosts in a public subnet instead"));
        }
        Some(other) => return Err(t.error("assign_public_ip", format!("unknown value `{other}`; allowed: ENABLED, DISABLED"))),
    };
    t.finish()?;
    Ok(WorkloadEgress { assign_public_ip })
}

impl EgressNetwork {
    /// The routes of this layout over `subnets` (NAT gateways are the subnets marked `nat_gateway`).
    pub fn route_table(&self, subnets: &[super::SubnetSpec]) -> RouteTable {
        let mut nat_azs: Vec<AzId> = subnets.iter().filter(|s| s.nat_gateway).map(|s| s.az).collect();
        nat_azs.sort();
        nat_azs.dedup();
        let nat = match self.nat {
            NatChoice::PerAz => NatLayout::PerAz,
            NatChoice::Single(Some(az)) => NatLayout::Single(az),
            // Unresolved only if validation was skipped; no shared NAT then.
            NatChoice::Single(None) | NatChoice::None => NatLayout::None,
        };
        RouteTable { nat, nat_azs, endpoints: self.endpoints.clone() }
    }
}

/// Layouts where some task could never pull its images or ship its logs (a private subnet
/// with neither NAT nor endpoints; a Fargate task in a public subnet without a public IP): one
/// line per workload and subnet, for `validate` to print before anything runs.
pub fn unrouted_warnings(s: &super::Scenario) -> Vec<String> {
    let (true, Some(net)) = (s.egress.enabled, s.network.as_ref()) else { return Vec::new() };
    let table = net.egress.route_table(&net.subnets);
    let mut out = Vec::new();
    for (w, we) in s.workloads.iter().zip(&s.egress.workloads) {
        let td = &s.task_definitions[w.task_definition as usize];
        let fargate = w.launch_type == crate::workload::LaunchType::Fargate;
        // Fargate: the task's subnets; EC2: the subnets of every host (the daemon's ENI).
        let mut origins: Vec<(super::SubnetSpec, bool)> = Vec::new();
        if fargate {
            origins.extend(w.subnets.iter().map(|id| (net.subnets[id.0 as usize].clone(), we.assign_public_ip)));
        } else {
            for g in &s.host_groups {
                for id in &g.subnets {
                    let sub = &net.subnets[id.0 as usize];
                    if !origins.iter().any(|(o, _)| o.name == sub.name) {
                        origins.push((sub.clone(), sub.public));
                    }
                }
            }
        }
        for (sub, public_ip) in origins {
            let origin = Origin { subnet: SubnetRouting { az: sub.az, public: sub.public }, public_ip };
            for c in &td.containers {
                let ecr = is_private_ecr(&c.image);
                if table.route(origin, Traffic::Image { ecr }).is_none() {
                    out.push(format!(
                        "workload `{}`: image `{}` cannot be pulled from subnet `{}` ({}); its tasks will stop with {}",
                        w.name,
                        c.image,
                        sub.name,
                        why_unrouted(&sub, public_ip),
                        if fargate && ecr { "ResourceInitializationError" } else { "CannotPullContainerError" },
                    ));
                }
                if c.log_driver.as_deref() == Some("awslogs") && table.route(origin, Traffic::Logs).is_none() {
                    out.push(format!(
                        "workload `{}`: container `{}` cannot reach CloudWatch Logs from subnet `{}` ({})",
                        w.name,
                        c.name,
                        sub.name,
                        why_unrouted(&sub, public_ip)
                    ));
                }
            }
        }
    }
    out
}

fn why_unrouted(sub: &super::SubnetSpec, public_ip: bool) -> &'static str {
    match (sub.public, public_ip) {
        (true, false) => "a public subnet, but no public IP: set assign_public_ip = \"ENABLED\"",
        _ => "a private subnet with no NAT gateway route and no VPC endpoints for it",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_in_bits_and_bytes_per_second() {
        assert_eq!(parse_rate_bps("5Gbps").unwrap(), 625e6);
        assert_eq!(parse_rate_bps("750Mbps").unwrap(), 93.75e6);
        assert_eq!(parse_rate_bps("100MB/s").unwrap(), 104_857_600.0, "MB is binary, as everywhere in a scenario");
        assert_eq!(parse_rate_bps("20KiB/s").unwrap(), 20_480.0);
        assert_eq!(parse_rate_bps("0B/s").unwrap(), 0.0);
        assert!(parse_rate_bps("fast").unwrap_err().contains("5Gbps"));
        assert!(parse_rate_bps("-1Gbps").is_err());
    }

    #[test]
    fn container_log_rate_falls_back_to_family_then_default() {
        let logs = LogsSpec { default_rate_bps: 1.0, rates: vec![("web".into(), None, 10.0), ("web".into(), Some("envoy".into()), 2.0)] };
        assert_eq!(logs.rate_bps("web", "envoy"), 2.0);
        assert_eq!(logs.rate_bps("web", "app"), 10.0);
        assert_eq!(logs.rate_bps("batch", "app"), 1.0);
    }
}
