//! The built-in EC2 instance-type table (docs/model.md#awsvpc-task-enis-eni-slots-and-trunking; prices from
//! <https://aws.amazon.com/ec2/pricing/on-demand/>). A scenario can add types or override these.

use serde::Serialize;

/// What the simulator needs to know about an EC2 instance type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceType {
    pub name: String,
    pub vcpu: u32,
    pub memory_mib: u32,
    /// Maximum ENIs, the primary included (docs/model.md#awsvpc-task-enis-eni-slots-and-trunking).
    pub max_enis: u32,
    /// awsvpc tasks per instance with `awsvpcTrunking`; `None` where the type cannot trunk (t3).
    pub trunk_task_limit: Option<u32>,
    pub baseline_gbps: f64,
    pub burst_gbps: f64,
    /// On-demand price, us-east-1, Linux.
    pub hourly_usd: f64,
}

impl InstanceType {
    /// CPU units ECS registers: 1,024 per vCPU (docs/model.md#what-an-instance-registers-and-what-a-task-reserves).
    pub fn cpu_units(&self) -> u32 {
        self.vcpu * 1024
    }

    /// awsvpc tasks one host of this type can hold: the trunking limit when the account setting
    /// `awsvpcTrunking` is on and the type can trunk, else max ENIs − 1 (the primary ENI counts).
    pub fn eni_task_limit(&self, trunking: bool) -> u32 {
        match (trunking, self.trunk_task_limit) {
            (true, Some(limit)) => limit,
            _ => self.max_enis.saturating_sub(1),
        }
    }
}

/// (name, vCPU, GiB, max ENIs, trunk task limit, baseline Gbps, burst Gbps, $/h).
///
/// ENIs, trunk limits and bandwidth: docs/model.md#awsvpc-task-enis-eni-slots-and-trunking. Hourly prices are us-east-1 Linux
/// on-demand list prices [2nd: aws.amazon.com/ec2/pricing/on-demand, 2024–2026 unchanged];
/// override them in a scenario for other Regions.
type Row = (&'static str, u32, u32, u32, Option<u32>, f64, f64, f64);

const BUILT_IN: &[Row] = &[
    ("m5.large", 2, 8, 3, Some(10), 0.75, 10.0, 0.096),
    ("m5.xlarge", 4, 16, 4, Some(20), 1.25, 10.0, 0.192),
    ("m5.2xlarge", 8, 32, 4, Some(40), 2.5, 10.0, 0.384),
    ("m5.4xlarge", 16, 64, 8, Some(60), 5.0, 10.0, 0.768),
    ("c5.large", 2, 4, 3, Some(10), 0.75, 10.0, 0.085),
    ("c5.xlarge", 4, 8, 4, Some(20), 1.25, 10.0, 0.17),
    ("r5.large", 2, 16, 3, Some(10), 0.75, 10.0, 0.126),
    ("t3.medium", 2, 4, 3, None, 0.256, 5.0, 0.0416),
];

/// The built-in table, sorted by name.
pub fn built_in() -> Vec<InstanceType> {
    let mut types: Vec<InstanceType> = BUILT_IN
        .iter()
        .map(|&(name, vcpu, gib, max_enis, trunk, base, burst, usd)| InstanceType {
            name: name.to_string(),
            vcpu,
            memory_mib: gib * 1024,
            max_enis,
            trunk_task_limit: trunk,
            baseline_gbps: base,
            burst_gbps: burst,
            hourly_usd: usd,
        })
        .collect();
    types.sort_by(|a, b| a.name.cmp(&b.name));
    types
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_table_matches_the_reference() {
        let t = built_in();
        let m5 = t.iter().find(|t| t.name == "m5.xlarge").unwrap();
        assert_eq!((m5.cpu_units(), m5.memory_mib, m5.max_enis), (4096, 16384, 4));
        assert_eq!(m5.trunk_task_limit, Some(20));
        let t3 = t.iter().find(|t| t.name == "t3.medium").unwrap();
        assert_eq!(t3.trunk_task_limit, None, "t3 is not trunk-compatible");
    }
}
