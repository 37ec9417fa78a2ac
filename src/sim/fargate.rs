//! Fargate's account-level admission: the launch token bucket (burst 100, 20 per second; RunTask
//! beyond it gets `ThrottlingException`) and the concurrent vCPU quota, plus the AZ-balanced
//! choice of a subnet for a new task (docs/model.md#fargate).
//!
//! Owns: the bucket and the vCPU units in use. Is told: a task was admitted or stopped.
//!
//! Architecture invariant: Fargate has no hosts; nothing here touches the fleet's reservations.
//! Fargate Spot capacity and interruptions, when modelled, live here.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::services::TokenBucket;
use crate::engine::SimTime;
use crate::model::{AzId, Subnet, SubnetId};
use crate::scenario::Scenario;

pub(super) struct Fargate {
    bucket: TokenBucket,
    vcpu_quota: Option<u32>,
    cpu_units: u64,
}

impl Fargate {
    pub fn new(scenario: &Scenario) -> Fargate {
        Fargate {
            bucket: TokenBucket::new(scenario.fargate.launch_burst, scenario.fargate.launch_rate_per_s),
            vcpu_quota: scenario.fargate.vcpu_quota,
            cpu_units: 0,
        }
    }

    /// Takes a launch token; false when the bucket is empty (the launch is throttled).
    pub fn try_launch(&mut self, now: SimTime) -> bool {
        self.bucket.try_take(now)
    }

    pub fn next_token_at(&mut self, now: SimTime) -> SimTime {
        self.bucket.next_token_at(now)
    }

    /// Whether `cpu_units` more fit under the vCPU quota.
    pub fn within_quota(&self, cpu_units: u32) -> bool {
        self.vcpu_quota.is_none_or(|quota| self.cpu_units + u64::from(cpu_units) <= u64::from(quota) * 1024)
    }

    pub fn started(&mut self, cpu_units: u32) {
        self.cpu_units += u64::from(cpu_units);
    }

    pub fn stopped(&mut self, cpu_units: u32) {
        self.cpu_units -= u64::from(cpu_units);
    }

    /// The workload's subnets in the order Fargate tries them: fewest tasks of the group in the
    /// subnet's AZ first, ties broken at random (from the placement stream). The first with a
    /// free address wins; `Err(first)` when none has one.
    pub fn choose_subnet(
        candidates: &[SubnetId],
        subnets: &[Subnet],
        tasks_in_az: impl Fn(AzId) -> u32,
        rng: &mut ChaCha8Rng,
    ) -> Result<SubnetId, SubnetId> {
        let mut order: Vec<(u32, u32, SubnetId)> =
            candidates.iter().map(|&s| (tasks_in_az(subnets[s.0 as usize].az), rng.random::<u32>(), s)).collect();
        order.sort_unstable();
        order.iter().map(|o| o.2).find(|s| subnets[s.0 as usize].free() > 0).ok_or(order[0].2)
    }
}
