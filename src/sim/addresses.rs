//! Addresses: the VPC's subnets and who holds their addresses — hosts' primary and trunk ENIs,
//! NAT gateways (held for the whole run) and task ENIs (awsvpc on EC2, every Fargate task),
//! taken after placement and released one clean-up delay after the task stops.
//!
//! Owns: the [`Subnet`]s, the ENI attach-delay stream, the clean-up event ([`AddressEvent`]).
//! Is told: take an address for a task ENI, begin and finish its release.
//!
//! Architecture invariant: placement never looks here (ECS places awsvpc tasks without checking
//! free addresses; docs/model.md#subnets-and-addresses). Every held address has exactly one owner, checked by
//! `invariants.rs`. Load-balancer nodes hold theirs for the whole run, as NAT gateways do.

use rand_chacha::ChaCha8Rng;

use crate::engine::{RngStreams, SimTime};
use crate::model::{Cluster, Subnet, SubnetId, TaskId};
use crate::scenario::Scenario;

use super::world::{Event, World};

#[derive(Debug, Clone, Copy)]
pub(super) enum AddressEvent {
    /// A stopped task's ENI clean-up ends: its address returns to the subnet.
    EniReleased { task: TaskId },
    /// An ALB's nodes change (its `scaling`): from now, this many addresses per AZ.
    LbScale { lb: u32, per_az: u32 },
    /// An ALB short of addresses tries again.
    LbRetry { lb: u32 },
}

/// How often an ALB short of addresses in a subnet tries again.
const LB_RETRY: SimTime = SimTime::from_secs(60);

/// A load balancer's nodes: the addresses per AZ it wants, and those it holds in each of its
/// subnets (fewer when a subnet had no free address when it grew).
struct LbNodes {
    want: u32,
    held: Vec<u32>,
    retry_queued: bool,
}

pub(super) struct Addresses {
    subnets: Vec<Subnet>,
    /// ENI attach delays: a stream of their own, so a distribution here moves nothing else.
    rng_eni: ChaCha8Rng,
    lbs: Vec<LbNodes>,
    /// Most addresses the load balancers held at once.
    lb_peak: u32,
    /// Times a load balancer grew and found a subnet without enough free addresses.
    lb_short: u32,
}

impl Addresses {
    pub fn new(scenario: &Scenario, streams: &RngStreams) -> Addresses {
        let subnets = scenario
            .network
            .iter()
            .flat_map(|n| &n.subnets)
            .map(|s| Subnet::new(s.name.clone(), s.az, s.cidr, s.public, s.nat_gateway))
            .collect();
        let lbs: Vec<LbNodes> = scenario
            .load_balancers
            .iter()
            .map(|l| LbNodes { want: l.addresses_per_az, held: vec![l.addresses_per_az; l.subnets.len()], retry_queued: false })
            .collect();
        let lb_peak = lbs.iter().map(|l| l.held.iter().sum::<u32>()).sum();
        Addresses { subnets, rng_eni: streams.stream("eni_attach", 0), lbs, lb_peak, lb_short: 0 }
    }

    /// Per subnet, the addresses load-balancer nodes hold now.
    pub fn lb_held(&self, scenario: &Scenario) -> Vec<u32> {
        let mut held = vec![0u32; self.subnets.len()];
        for (nodes, spec) in self.lbs.iter().zip(&scenario.load_balancers) {
            for (&subnet, &n) in spec.subnets.iter().zip(&nodes.held) {
                held[subnet.0 as usize] += n;
            }
        }
        held
    }

    /// Load balancer `lb` wants `want` addresses per AZ (`None`: as before): it takes what its
    /// subnets have free, up to that, or gives back what it no longer needs. Returns whether a
    /// subnet was short.
    fn resize_lb(&mut self, scenario: &Scenario, lb: u32, want: Option<u32>) -> bool {
        let nodes = &mut self.lbs[lb as usize];
        let grew = want.is_some_and(|w| w > nodes.want);
        if let Some(w) = want {
            nodes.want = w;
        }
        let mut short = false;
        for (&subnet, held) in scenario.load_balancers[lb as usize].subnets.iter().zip(nodes.held.iter_mut()) {
            let s = &mut self.subnets[subnet.0 as usize];
            while *held < nodes.want && s.try_take() {
                *held += 1;
            }
            while *held > nodes.want {
                s.give_back();
                *held -= 1;
            }
            short |= *held < nodes.want;
        }
        let total: u32 = self.lbs.iter().map(|l| l.held.iter().sum::<u32>()).sum();
        self.lb_peak = self.lb_peak.max(total);
        if short && grew {
            self.lb_short += 1;
        }
        short
    }

    /// The load balancers' peak addresses and the scale-ups that found a subnet short.
    pub fn lb_figures(&self) -> (u32, u32) {
        (self.lb_peak, self.lb_short)
    }

    pub fn subnets(&self) -> &[Subnet] {
        &self.subnets
    }

    pub fn subnet(&self, subnet: SubnetId) -> &Subnet {
        &self.subnets[subnet.0 as usize]
    }

    /// Takes the addresses held for the whole run. Returns, per subnet, how many were taken.
    pub fn take_infrastructure(&mut self, scenario: &Scenario, cluster: &Cluster) -> Vec<u32> {
        let held = infrastructure_ips(scenario, cluster, &self.subnets, &self.lb_held(scenario));
        for (subnet, &n) in self.subnets.iter_mut().zip(&held) {
            for _ in 0..n {
                assert!(subnet.try_take(), "validation checked that the hosts fit their subnets");
            }
        }
        held
    }

    /// Takes one address of `subnet` for a task ENI; false if the subnet is full.
    pub fn take(&mut self, subnet: SubnetId) -> bool {
        self.subnets[subnet.0 as usize].try_take()
    }

    /// A stopped task's ENI enters clean-up; its address stays held until `finish_release`.
    pub fn begin_release(&mut self, subnet: SubnetId) {
        self.subnets[subnet.0 as usize].begin_release();
    }

    pub fn finish_release(&mut self, subnet: SubnetId) {
        self.subnets[subnet.0 as usize].finish_release();
    }

    /// A host's instance terminated: its primary (and trunk) ENI addresses go back at once.
    pub fn host_left(&mut self, subnet: SubnetId, addresses: u32) {
        for _ in 0..addresses {
            self.subnets[subnet.0 as usize].give_back();
        }
    }

    /// A replacement instance takes `addresses` of `subnet`; false, taking none, when the subnet
    /// has fewer free (EC2 cannot launch it).
    pub fn host_joins(&mut self, subnet: SubnetId, addresses: u32) -> bool {
        let s = &mut self.subnets[subnet.0 as usize];
        if s.free() < addresses {
            return false;
        }
        for _ in 0..addresses {
            assert!(s.try_take());
        }
        true
    }

    /// How long a stopped task's ENI keeps its address.
    pub fn cleanup_delay(scenario: &Scenario) -> SimTime {
        scenario.network.as_ref().map_or(SimTime::ZERO, |n| n.eni_cleanup_delay)
    }

    /// One task's ENI attach delay, drawn from the scenario's constant or distribution.
    pub fn attach_delay(&mut self, scenario: &Scenario) -> SimTime {
        match &scenario.network {
            Some(n) => n.eni_attach_delay.sample(&mut self.rng_eni).unwrap_or(SimTime::ZERO),
            None => SimTime::ZERO,
        }
    }
}

/// Addresses one host holds while it is in the cluster: its primary ENI, and its trunk ENI.
pub(super) fn host_ips(scenario: &Scenario, cluster: &Cluster, host: crate::model::HostId) -> u32 {
    let trunking = scenario.network.as_ref().is_some_and(|n| n.trunking);
    let h = cluster.host(host);
    1 + u32::from(trunking && cluster.instance_types[h.instance_type as usize].trunk_task_limit.is_some())
}

/// Addresses held by the infrastructure, per subnet: each active host's primary ENI and trunk
/// ENI, each NAT gateway, each load balancer's nodes.
pub(super) fn infrastructure_ips(scenario: &Scenario, cluster: &Cluster, subnets: &[Subnet], lb_held: &[u32]) -> Vec<u32> {
    let mut held = vec![0u32; subnets.len()];
    for h in cluster.hosts.iter().filter(|h| h.active) {
        if let Some(s) = h.subnet {
            held[s.0 as usize] += host_ips(scenario, cluster, h.id);
        }
    }
    for (i, s) in subnets.iter().enumerate() {
        held[i] += u32::from(s.nat_gateway) + lb_held[i];
    }
    held
}

impl World<'_> {
    /// Schedules each ALB's `scaling` changes.
    pub(super) fn schedule_load_balancers(&mut self) {
        for (lb, spec) in self.scenario.load_balancers.iter().enumerate() {
            for &(at, per_az) in &spec.scaling {
                self.queue.schedule(at, Event::Address(AddressEvent::LbScale { lb: lb as u32, per_az }));
            }
        }
    }

    /// An ALB's nodes change, or one short of addresses tries again (each minute while short).
    pub(super) fn on_lb(&mut self, lb: u32, want: Option<u32>) {
        if want.is_none() {
            self.addresses.lbs[lb as usize].retry_queued = false;
        }
        let short = self.addresses.resize_lb(self.scenario, lb, want);
        if short && !self.addresses.lbs[lb as usize].retry_queued {
            self.addresses.lbs[lb as usize].retry_queued = true;
            let at = self.now() + LB_RETRY;
            self.queue.schedule(at, Event::Address(AddressEvent::LbRetry { lb }));
        }
        self.check_after_rare_event();
    }
}
