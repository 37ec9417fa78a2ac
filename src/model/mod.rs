//! The world being simulated: the cluster (AZs, instance types, hosts and their reserved
//! resources) and tasks (definitions, runtime records, lifecycle states).
//!
//! Architecture invariant: `model` knows nothing of files, threads, placement policy or the event
//! loop. It offers state and the operations that keep that state consistent (reserve/release),
//! with assertions on both sides of every boundary.

pub mod cluster;
pub mod cost;
pub mod cpu;
pub mod egress;
pub mod instance_types;
pub mod memory;
pub mod network;
pub mod task;
pub mod taskdef;

pub use cluster::{AzId, Cluster, Host, HostId, HostPorts, Resources};
pub use instance_types::InstanceType;
pub use network::{Cidr, Subnet, SubnetId};
pub use task::{StopReason, Task, TaskId, TaskIp, TaskState};
