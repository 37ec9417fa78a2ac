//! One simulation run: a single-threaded event loop over the cluster model, placement and the
//! workloads. This is the only module where those pieces meet.
//!
//! A run is a coordinator ([`world`]) over parts that each own their state and the events that
//! change it. Follow one task through them:
//!
//! | part | owns | file |
//! | --- | --- | --- |
//! | workloads | arrival and run-time random streams; when the next task arrives | `workloads.rs` |
//! | lifecycle | task records and their state machine (AWAITING → PROVISIONING → RUNNING → STOPPED) | `lifecycle.rs` |
//! | fleet | hosts, reservations, ports, ENI slots, placement index, group counts | `fleet.rs` |
//! | addresses | subnets, task-ENI addresses, ENI attach delay and clean-up | `addresses.rs` |
//! | fargate | the account launch bucket and the vCPU quota | `fargate.rs` |
//! | services | desired count, waiting tasks, launch rate, back-off | `services.rs` |
//! | egress | links, pull flows (max-min fair), image caches, log paths and buffers | `egress.rs` |
//! | memory | containers' memory usage processes, limits, OOM kills (with `[memory]`) | `memory.rs` |
//! | cpu | containers' CPU shares and caps, CPU-second work (with `[cpu]`) | `cpu.rs` |
//! | failures | host failure clocks, replacement delays, AZ outage windows (with `[failures]`) | `failures.rs` |
//! | autoscaling | scaled services' alarms and cooldowns, their RUNNING counts (with `auto_scaling`) | `autoscaling.rs` |
//! | capacity | Auto Scaling groups' instances, managed scaling, tasks waiting for capacity (with `[capacity_providers]`) | `capacity.rs` |
//! | recorder | every metric accumulator, the time series, the decision log | `recorder.rs` |
//!
//! None of the parts reaches into another's fields. The coordinator's handlers (`world.rs` for
//! the loop and dispatch, `launch.rs` for the way into RUNNING, `stop.rs` for the way out,
//! `outages.rs` for hosts and AZs that fail, `scaling.rs` for groups that grow and shrink, `service_scaling.rs` for desired counts that
//! move) are
//! the only code that calls more than one part; the recorder is told what happened and is never
//! consulted by the models.
//!
//! Architecture invariant: `sim` does no file I/O and spawns no threads; it turns a
//! [`Scenario`](crate::scenario::Scenario) and a seed into a [`RunResult`] (plain data),
//! deterministically.

mod addresses;
mod asg_failures;
mod autoscaling;
mod capacity;
mod contention;
mod cpu;
mod deployments;
mod egress;
mod failures;
mod fargate;
mod fleet;
mod health;
mod invariants;
mod launch;
mod lifecycle;
mod memory;
mod outages;
mod pulls;
mod recorder;
mod result;
mod rollout;
mod scaling;
mod service_scaling;
mod services;
mod stop;
mod workloads;
mod world;

pub use fleet::build_cluster;
pub use result::{DecisionRow, DeploymentRow, EventRow, RunOptions, RunResult, SubnetRow, TaskRow};
pub use world::run;
