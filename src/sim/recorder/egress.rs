//! What the egress part tells the recorder: pull times, start failures for egress reasons, and
//! at the end the bytes per path, NAT use, lost logs, time to running and the bill.

use super::{FinishContext, Recorder};
use crate::engine::SimTime;
use crate::metrics::{Metric, MetricValues, stats};
use crate::model::cost::{Bill, CostItem};
use crate::model::egress::StartFailure;

impl Recorder {
    /// A task's images are all present after `took` in PENDING.
    pub fn pull_finished(&mut self, took: SimTime) {
        if self.warm {
            self.pull_times_s.push(took.as_secs_f64());
        }
    }

    /// A task cannot start for an egress reason.
    pub fn pull_failed(&mut self, why: StartFailure) {
        if self.warm {
            self.pull_failures[StartFailure::ALL.iter().position(|f| *f == why).expect("listed")] += 1;
        }
    }

    /// The egress metrics: time to running and its parts, pulls, bytes, logs, the bill.
    pub(super) fn finish_egress(&mut self, m: &mut MetricValues, ctx: &FinishContext<'_>) {
        self.tally.set_time_to_running(m);
        self.pull_times_s.sort_by(f64::total_cmp);
        let pulls = &self.pull_times_s;
        let with_egress = |v: f64| if ctx.egress.is_some() { v } else { f64::NAN };
        m.set(Metric::PullTimeMean, with_egress(if pulls.is_empty() { 0.0 } else { pulls.iter().sum::<f64>() / pulls.len() as f64 }));
        m.set(Metric::PullTimeP95, with_egress(if pulls.is_empty() { 0.0 } else { stats::quantile_sorted(pulls, 0.95) }));
        let f = &self.pull_failures;
        m.set(Metric::PullFailedCannotPull, f[0] as f64);
        m.set(Metric::PullFailedRegistryAuth, f[1] as f64);
        m.set(Metric::PullFailedLogger, f[2] as f64);
        m.set(Metric::PullFailedExecutionRole, (f[3] + f[4]) as f64);
        m.set(Metric::PullFailedTimeout, f[5] as f64);
        let gb = |b: f64| with_egress(b / crate::model::cost::BYTES_PER_GB);
        let e = ctx.egress.cloned().unwrap_or_default();
        m.set(Metric::NatGb, gb(e.nat_bytes));
        m.set(Metric::IgwGb, gb(e.igw_bytes));
        m.set(Metric::S3GatewayGb, gb(e.s3_gateway_bytes));
        m.set(Metric::EndpointGb, gb(e.endpoint_bytes));
        m.set(Metric::CrossAzGb, gb(e.cross_az_bytes));
        m.set(Metric::NatUtilPeak, with_egress(e.nat_util_peak));
        m.set(Metric::LostLogBytes, with_egress(e.lost_log_bytes));
        m.set(Metric::LogStalledS, with_egress(e.log_stalled_s));
        m.set(Metric::PullsJoined, with_egress(e.pulls_joined as f64));
        set_bill(m, ctx.bill);
    }
}

/// Every cost line, per month, and the totals.
fn set_bill(m: &mut MetricValues, bill: &Bill) {
    for &(item, _, month) in &bill.lines {
        let metric = match item {
            CostItem::NatGatewayHours => Metric::CostNatHours,
            CostItem::NatGatewayData => Metric::CostNatData,
            CostItem::PublicIpv4 => Metric::CostPublicIpv4,
            CostItem::CrossAz => Metric::CostCrossAz,
            CostItem::InterfaceEndpointHours => Metric::CostEndpointHours,
            CostItem::InterfaceEndpointData => Metric::CostEndpointData,
            CostItem::InternetEgress => Metric::CostInternetEgress,
            CostItem::Ec2Instances => Metric::CostEc2,
            CostItem::FargateVcpu => Metric::CostFargateVcpu,
            CostItem::FargateMemory => Metric::CostFargateMemory,
        };
        m.set(metric, month);
    }
    m.set(Metric::CostMonthTotal, bill.total_month_usd);
    m.set(Metric::CostRunTotal, bill.total_run_usd);
}
