//! The bill: a pure function from what a run used (hours, bytes) to cost lines in USD, for the
//! run and extrapolated to a 730-hour month.
//!
//! Prices default to us-east-1 list prices (documented with their sources in `docs/model.md`,
//! section "Egress"); a scenario's `[prices]` table overrides any of them.

/// Hours in the month AWS prices by.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// Bytes in a billed GB (decimal).
pub const BYTES_PER_GB: f64 = 1e9;

/// Unit prices in USD.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices {
    /// Per NAT gateway hour (https://aws.amazon.com/vpc/pricing/).
    pub nat_gateway_hour: f64,
    /// Per GB processed by a NAT gateway, either direction.
    pub nat_gateway_gb: f64,
    /// Per public IPv4 address hour, in use or idle (since 1 February 2024).
    pub public_ipv4_hour: f64,
    /// Per GB crossing AZs, charged in each direction (so twice per GB moved).
    pub cross_az_gb_each_direction: f64,
    /// Per interface endpoint per AZ hour (https://aws.amazon.com/privatelink/pricing/).
    pub interface_endpoint_hour: f64,
    /// Per GB processed by interface endpoints (first PB per month).
    pub interface_endpoint_gb: f64,
    /// Per GB out to the internet (first 10 TB per month).
    pub internet_egress_gb: f64,
    /// Fargate Linux/x86 per vCPU hour and per GB of memory hour (https://aws.amazon.com/fargate/pricing/).
    pub fargate_x86_vcpu_hour: f64,
    pub fargate_x86_gb_hour: f64,
    /// Fargate Linux/Arm (Graviton): 20 % below x86.
    pub fargate_arm_vcpu_hour: f64,
    pub fargate_arm_gb_hour: f64,
    /// Fargate Spot's discount off the x86 On-Demand rates: "up to 70 %"
    /// (https://aws.amazon.com/fargate/pricing/); Spot rates move with supply and demand.
    pub fargate_spot_discount: f64,
}

impl Default for Prices {
    fn default() -> Self {
        Prices {
            nat_gateway_hour: 0.045,
            nat_gateway_gb: 0.045,
            public_ipv4_hour: 0.005,
            cross_az_gb_each_direction: 0.01,
            interface_endpoint_hour: 0.01,
            interface_endpoint_gb: 0.01,
            internet_egress_gb: 0.09,
            fargate_x86_vcpu_hour: 0.04048,
            fargate_x86_gb_hour: 0.004445,
            fargate_arm_vcpu_hour: 0.03238,
            fargate_arm_gb_hour: 0.00356,
            fargate_spot_discount: 0.7,
        }
    }
}

/// What a run used.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Usage {
    /// Length of the run the usage covers, in hours (the month is extrapolated from it).
    pub run_hours: f64,
    /// Σ over NAT gateways of the hours each existed.
    pub nat_gateway_hours: f64,
    pub nat_processed_bytes: f64,
    /// Σ over public IPv4 addresses of the hours each was held (hosts, Fargate tasks, NAT EIPs).
    pub public_ipv4_hours: f64,
    /// Bytes that crossed an AZ boundary (each is billed on both sides).
    pub cross_az_bytes: f64,
    /// Σ over interface endpoints and their AZs of the hours each existed.
    pub interface_endpoint_az_hours: f64,
    pub interface_endpoint_bytes: f64,
    pub internet_egress_bytes: f64,
    /// EC2 instance cost: Σ hours × the instance type's hourly price, in USD.
    pub ec2_instance_usd: f64,
    pub fargate_x86_vcpu_hours: f64,
    pub fargate_x86_gb_hours: f64,
    pub fargate_arm_vcpu_hours: f64,
    pub fargate_arm_gb_hours: f64,
    /// Fargate Spot (x86 only).
    pub fargate_spot_vcpu_hours: f64,
    pub fargate_spot_gb_hours: f64,
}

/// One line of the bill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CostItem {
    NatGatewayHours,
    NatGatewayData,
    PublicIpv4,
    CrossAz,
    InterfaceEndpointHours,
    InterfaceEndpointData,
    InternetEgress,
    Ec2Instances,
    FargateVcpu,
    FargateMemory,
}

impl CostItem {
    pub const ALL: [CostItem; 10] = [
        CostItem::NatGatewayHours,
        CostItem::NatGatewayData,
        CostItem::PublicIpv4,
        CostItem::CrossAz,
        CostItem::InterfaceEndpointHours,
        CostItem::InterfaceEndpointData,
        CostItem::InternetEgress,
        CostItem::Ec2Instances,
        CostItem::FargateVcpu,
        CostItem::FargateMemory,
    ];

    /// Column-friendly name.
    pub fn name(self) -> &'static str {
        match self {
            CostItem::NatGatewayHours => "nat_gateway_hours",
            CostItem::NatGatewayData => "nat_gateway_data",
            CostItem::PublicIpv4 => "public_ipv4",
            CostItem::CrossAz => "cross_az",
            CostItem::InterfaceEndpointHours => "interface_endpoint_hours",
            CostItem::InterfaceEndpointData => "interface_endpoint_data",
            CostItem::InternetEgress => "internet_egress",
            CostItem::Ec2Instances => "ec2_instances",
            CostItem::FargateVcpu => "fargate_vcpu",
            CostItem::FargateMemory => "fargate_memory",
        }
    }
}

/// The bill of a run: every line in `CostItem::ALL` order, then the totals.
#[derive(Debug, Clone, PartialEq)]
pub struct Bill {
    /// (item, USD over the run, USD per 730-hour month).
    pub lines: Vec<(CostItem, f64, f64)>,
    pub total_run_usd: f64,
    pub total_month_usd: f64,
}

impl Bill {
    pub fn line(&self, item: CostItem) -> (f64, f64) {
        self.lines.iter().find(|l| l.0 == item).map_or((0.0, 0.0), |l| (l.1, l.2))
    }
}

/// Prices `usage`; the month is the run scaled by 730 / run hours (0 when the run has no length).
pub fn bill(prices: &Prices, usage: &Usage) -> Bill {
    let gb = |bytes: f64| bytes / BYTES_PER_GB;
    let run = |item: CostItem| -> f64 {
        match item {
            CostItem::NatGatewayHours => usage.nat_gateway_hours * prices.nat_gateway_hour,
            CostItem::NatGatewayData => gb(usage.nat_processed_bytes) * prices.nat_gateway_gb,
            CostItem::PublicIpv4 => usage.public_ipv4_hours * prices.public_ipv4_hour,
            CostItem::CrossAz => gb(usage.cross_az_bytes) * prices.cross_az_gb_each_direction * 2.0,
            CostItem::InterfaceEndpointHours => usage.interface_endpoint_az_hours * prices.interface_endpoint_hour,
            CostItem::InterfaceEndpointData => gb(usage.interface_endpoint_bytes) * prices.interface_endpoint_gb,
            CostItem::InternetEgress => gb(usage.internet_egress_bytes) * prices.internet_egress_gb,
            CostItem::Ec2Instances => usage.ec2_instance_usd,
            CostItem::FargateVcpu => {
                usage.fargate_x86_vcpu_hours * prices.fargate_x86_vcpu_hour
                    + usage.fargate_arm_vcpu_hours * prices.fargate_arm_vcpu_hour
                    + usage.fargate_spot_vcpu_hours * prices.fargate_x86_vcpu_hour * (1.0 - prices.fargate_spot_discount)
            }
            CostItem::FargateMemory => {
                usage.fargate_x86_gb_hours * prices.fargate_x86_gb_hour
                    + usage.fargate_arm_gb_hours * prices.fargate_arm_gb_hour
                    + usage.fargate_spot_gb_hours * prices.fargate_x86_gb_hour * (1.0 - prices.fargate_spot_discount)
            }
        }
    };
    let scale = if usage.run_hours > 0.0 { HOURS_PER_MONTH / usage.run_hours } else { 0.0 };
    let lines: Vec<(CostItem, f64, f64)> = CostItem::ALL.iter().map(|&i| (i, run(i), run(i) * scale)).collect();
    let total_run_usd = lines.iter().map(|l| l.1).sum();
    let total_month_usd = lines.iter().map(|l| l.2).sum();
    Bill { lines, total_run_usd, total_month_usd }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn a_day_with_two_nats_and_a_crash_looping_service_costs_what_the_price_list_says() {
        // 24 h; 2 NAT gateways (48 NAT-hours, 2 EIPs = 48 address-hours); 122 GB through NAT, 10 GB
        // of it across AZs; 3 interface endpoints in 3 AZs (216 endpoint-AZ-hours), 5 GB through them;
        // 4 m5.large for 24 h; 10 Fargate x86 tasks of 0.25 vCPU / 0.5 GB for 24 h.
        let usage = Usage {
            run_hours: 24.0,
            nat_gateway_hours: 48.0,
            nat_processed_bytes: 122e9,
            public_ipv4_hours: 48.0,
            cross_az_bytes: 10e9,
            interface_endpoint_az_hours: 216.0,
            interface_endpoint_bytes: 5e9,
            internet_egress_bytes: 0.0,
            ec2_instance_usd: 4.0 * 24.0 * 0.096,
            fargate_x86_vcpu_hours: 10.0 * 0.25 * 24.0,
            fargate_x86_gb_hours: 10.0 * 0.5 * 24.0,
            ..Usage::default()
        };
        let b = bill(&Prices::default(), &usage);
        let expect = [
            (CostItem::NatGatewayHours, 48.0 * 0.045), // 2.16
            (CostItem::NatGatewayData, 122.0 * 0.045), // 5.49
            (CostItem::PublicIpv4, 48.0 * 0.005),      // 0.24
            (CostItem::CrossAz, 10.0 * 0.01 * 2.0),    // 0.20
            (CostItem::InterfaceEndpointHours, 2.16),  // 216 × 0.01
            (CostItem::InterfaceEndpointData, 0.05),   // 5 × 0.01
            (CostItem::InternetEgress, 0.0),
            (CostItem::Ec2Instances, 9.216),             // 96 h × 0.096
            (CostItem::FargateVcpu, 60.0 * 0.04048),     // 2.4288
            (CostItem::FargateMemory, 120.0 * 0.004445), // 0.5334
        ];
        for (item, usd) in expect {
            let (run, month) = b.line(item);
            assert!(close(run, usd), "{}: {run} ≠ {usd}", item.name());
            assert!(close(month, usd * 730.0 / 24.0), "{} per month", item.name());
        }
        let total: f64 = 2.16 + 5.49 + 0.24 + 0.20 + 2.16 + 0.05 + 9.216 + 2.4288 + 0.5334;
        assert!(close(b.total_run_usd, total), "{} ≠ {total}", b.total_run_usd);
        assert!(close(b.total_month_usd, total * 730.0 / 24.0));
    }

    #[test]
    fn arm_fargate_is_priced_at_its_own_rates() {
        let usage = Usage { run_hours: 1.0, fargate_arm_vcpu_hours: 1.0, fargate_arm_gb_hours: 2.0, ..Usage::default() };
        let b = bill(&Prices::default(), &usage);
        assert!(close(b.line(CostItem::FargateVcpu).0, 0.03238));
        assert!(close(b.line(CostItem::FargateMemory).0, 0.00712));
    }

    #[test]
    fn a_run_of_no_length_extrapolates_to_nothing() {
        let b = bill(&Prices::default(), &Usage { nat_gateway_hours: 1.0, ..Usage::default() });
        assert_eq!(b.total_month_usd, 0.0);
        assert!(close(b.total_run_usd, 0.045));
    }
}
