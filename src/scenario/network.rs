//! The `[network]` and `[fargate]` tables: subnets (CIDR, AZ, public or private, NAT gateway),
//! ENI timing, trunking, and the Fargate quotas (docs/model.md#awsvpc-task-enis-eni-slots-and-trunking,
//! docs/model.md#subnets-and-addresses, docs/model.md#fargate).

use super::ScenarioError;
use super::reader::Table;
use crate::engine::SimTime;
use crate::model::AzId;
use crate::model::network::{Cidr, PREFIX_RANGE, SubnetId};
use crate::workload::RunTime;

/// One subnet as the scenario declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct SubnetSpec {
    pub name: String,
    pub az: AzId,
    pub cidr: Cidr,
    pub public: bool,
    pub nat_gateway: bool,
}

/// `[network]`.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkSpec {
    /// In name order; `SubnetId(i)` is `subnets[i]`.
    pub subnets: Vec<SubnetSpec>,
    /// The account setting `awsvpcTrunking` (docs/model.md#awsvpc-task-enis-eni-slots-and-trunking).
    pub trunking: bool,
    /// PROVISIONING time of an awsvpc task's ENI: a constant or a distribution, drawn per task.
    pub eni_attach_delay: RunTime,
    /// How long a stopped task's address stays held (DEPROVISIONING: detach and delete the ENI).
    pub eni_cleanup_delay: SimTime,
    /// NAT layout, bandwidths and VPC endpoints (image pulls and logs).
    pub egress: super::egress::EgressNetwork,
}

impl NetworkSpec {
    pub fn subnet_id(&self, name: &str) -> Option<SubnetId> {
        self.subnets.iter().position(|s| s.name == name).map(|i| SubnetId(i as u32))
    }

    pub fn names(&self) -> String {
        self.subnets.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// `[fargate]`: account and service limits on Fargate launches (docs/model.md#fargate).
#[derive(Debug, Clone, PartialEq)]
pub struct FargateSpec {
    /// "Fargate On-Demand vCPU resource count": concurrent vCPUs. AWS does not publish the
    /// default (new accounts start low and are raised automatically) — unlimited unless set.
    pub vcpu_quota: Option<u32>,
    /// Task-launch token bucket: burst 100, 20 per second.
    pub launch_burst: u32,
    pub launch_rate_per_s: f64,
    /// Service scheduler rate on Fargate: 500 tasks per minute per service.
    pub service_launch_rate_per_min: u32,
}

impl Default for FargateSpec {
    fn default() -> Self {
        FargateSpec { vcpu_quota: None, launch_burst: 100, launch_rate_per_s: 20.0, service_launch_rate_per_min: 500 }
    }
}

pub fn read_network(root: &mut Table<'_>, azs: &[String]) -> Result<Option<NetworkSpec>, ScenarioError> {
    let Some(mut n) = root.opt_table("network")? else { return Ok(None) };
    let trunking = n.opt_bool("awsvpc_trunking")?.unwrap_or(false);
    // docs/model.md#awsvpc-task-enis-eni-slots-and-trunking: AWS says "several seconds", ~5 s (uniform 2–10 s
    // observed); the default is the constant 5 s, `{ distribution = "uniform", min = "2s",
    // max = "10s" }` gives the observed spread.
    let eni_attach_delay =
        super::workload::read_distribution(&mut n, "eni_attach_delay", false)?.unwrap_or(RunTime::Constant(SimTime::from_secs(5)));
    // [unsourced] No published figure: DEPROVISIONING detaches and deletes the ENI (EC2
    // DetachNetworkInterface then DeleteNetworkInterface, each asynchronous; detaching takes
    // seconds — aws/amazon-vpc-cni-k8s#608). 30 s is a planning default; set it from your logs.
    let eni_cleanup_delay = n.opt_duration("eni_cleanup_delay")?.unwrap_or(SimTime::from_secs(30));
    let mut egress = super::egress::read_network_egress(&mut n, azs)?;
    let mut subnets = Vec::new();
    for (name, mut t) in n.named_tables("subnets")? {
        let az_name = t.str("az")?;
        let az = azs
            .iter()
            .position(|a| a == az_name)
            .ok_or_else(|| t.error("az", format!("`{az_name}` is not one of cluster.azs ({})", azs.join(", "))))?;
        let cidr_text = t.str("cidr")?;
        let cidr = Cidr::parse(cidr_text).map_err(|m| t.error("cidr", m))?;
        if !PREFIX_RANGE.contains(&cidr.prefix) {
            return Err(t.error("cidr", format!("`{cidr_text}`: a subnet is /16 (largest) to /28 (smallest) (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html)")));
        }
        let public = t.opt_bool("public")?.unwrap_or(false);
        let nat_gateway = t.opt_bool("nat_gateway")?.unwrap_or(false);
        if nat_gateway && !public {
            return Err(t.error("nat_gateway", "a NAT gateway lives in a public subnet (it routes to the internet gateway)"));
        }
        t.finish()?;
        subnets.push(SubnetSpec { name: name.to_string(), az: AzId(az as u32), cidr, public, nat_gateway });
    }
    for (i, a) in subnets.iter().enumerate() {
        if let Some(b) = subnets[..i].iter().find(|b| b.cidr.overlaps(a.cidr)) {
            return Err(n.error(&format!("subnets.{}.cidr", a.name), format!("{} overlaps subnet `{}` ({})", a.cidr, b.name, b.cidr)));
        }
    }
    if subnets.is_empty() {
        return Err(n.error(
            "subnets",
            "declare at least one subnet, e.g. [network.subnets.private-a] az = \"us-east-1a\", cidr = \"10.0.1.0/24\"",
        ));
    }
    let mut nat_azs: Vec<AzId> = subnets.iter().filter(|s| s.nat_gateway).map(|s| s.az).collect();
    nat_azs.sort();
    nat_azs.dedup();
    super::egress::check_nat_layout(&n, &mut egress, &nat_azs, azs)?;
    n.finish()?;
    Ok(Some(NetworkSpec { subnets, trunking, eni_attach_delay, eni_cleanup_delay, egress }))
}

pub fn read_fargate(root: &mut Table<'_>) -> Result<FargateSpec, ScenarioError> {
    let d = FargateSpec::default();
    let Some(mut f) = root.opt_table("fargate")? else { return Ok(d) };
    let spec = FargateSpec {
        vcpu_quota: f.opt_u32_min("vcpu_quota", 1)?,
        launch_burst: f.opt_u32_min("launch_burst", 1)?.unwrap_or(d.launch_burst),
        launch_rate_per_s: f.opt_f64_in("launch_rate_per_s", 0.001, 1e6)?.unwrap_or(d.launch_rate_per_s),
        service_launch_rate_per_min: f.opt_u32_min("service_launch_rate_per_min", 1)?.unwrap_or(d.service_launch_rate_per_min),
    };
    f.finish()?;
    Ok(spec)
}

/// Picks, for each AZ a host group uses, its subnet from the group's `subnets` list.
pub fn host_group_subnets(
    g: &mut Table<'_>,
    network: Option<&NetworkSpec>,
    group_azs: &[AzId],
    azs: &[String],
) -> Result<Vec<SubnetId>, ScenarioError> {
    let names = g.opt_strings("subnets")?;
    let (Some(net), Some(names)) = (network, names.as_ref()) else {
        return match (network, names) {
            (Some(net), None) => Err(
                g.error("subnets", format!("hosts need a subnet in each of their AZs; list them from [network.subnets] ({})", net.names()))
            ),
            (None, Some(_)) => Err(g.error("subnets", "there is no [network] table declaring subnets")),
            _ => Ok(Vec::new()),
        };
    };
    let mut ids = Vec::new();
    for name in names {
        ids.push(net.subnet_id(name).ok_or_else(|| g.error("subnets", format!("unknown subnet `{name}`; declared: {}", net.names())))?);
    }
    group_azs
        .iter()
        .map(|az| {
            let here: Vec<SubnetId> = ids.iter().copied().filter(|id| net.subnets[id.0 as usize].az == *az).collect();
            match here.as_slice() {
                [one] => Ok(*one),
                [] => Err(g.error("subnets", format!("no listed subnet is in {}, where this group has hosts", azs[az.0 as usize]))),
                _ => Err(g.error("subnets", format!("list one subnet per AZ; several are in {}", azs[az.0 as usize]))),
            }
        })
        .collect()
}
