//! Runtime task records and their lifecycle.
//!
//! ECS lifecycle (docs/model.md#task-lifecycle): PROVISIONING → PENDING → ACTIVATING → RUNNING →
//! DEACTIVATING → STOPPING → DEPROVISIONING → STOPPED. The simulator keeps the states that change
//! what a planner measures: waiting for placement, provisioning (ENI, image pull — the start delay),
//! running, and stopped with a reason.

use crate::engine::{EventId, SimTime};

use super::cluster::HostId;
use super::network::SubnetId;

/// Where a task's ENI address is (awsvpc tasks only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskIp {
    /// No ENI: not awsvpc, or not (yet) provisioned.
    None,
    /// Attached, holding an address of `Task::subnet`.
    Held,
    /// The task stopped; its ENI is being detached and deleted, the address still held.
    Releasing,
    /// Given back to the subnet.
    Released,
}

/// Slot of a task in the run's task arena. A slot is reused once its task has stopped and no
/// queued event names it; [`Task::serial`] is the task's number in arrival order, the id users
/// see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub u32);

impl TaskId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Arrived (or wanted by a service) but not placed yet.
    AwaitingPlacement,
    /// Placed on a host; resources reserved; not running yet (ENI attach, image pull).
    Provisioning,
    Running,
    /// Stopped by the service scheduler: deregistering from its load balancer (the
    /// deregistration delay); containers still run, ENI and address held.
    Deactivating,
    /// SIGTERM sent; SIGKILL after the stop timeout. ECS treats the task's CPU, memory and ports
    /// as free from here (docs/model.md#rolling-deployments).
    Stopping,
    Stopped,
}

impl TaskState {
    /// Its containers exist and run: RUNNING, or on the way out after the scheduler stopped it.
    pub fn has_containers(self) -> bool {
        matches!(self, TaskState::Running | TaskState::Deactivating | TaskState::Stopping)
    }

    /// Placed and not yet stopped: it holds a host's resources (or a Fargate slot), an ENI.
    pub fn is_placed(self) -> bool {
        matches!(self, TaskState::Provisioning | TaskState::Running | TaskState::Deactivating | TaskState::Stopping)
    }
}

/// Why a task stopped or never started, in ECS's words where ECS has some.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StopReason {
    /// Its run time elapsed (`EssentialContainerExited`, exit 0).
    Completed,
    /// RunTask could not place it: ECS returns it in `failures[]` and never starts it.
    PlacementFailed,
    /// Still running (or waiting) when the horizon was reached.
    HorizonReached,
    /// Placed (or accepted by Fargate), then stopped in PROVISIONING: its subnet had no free
    /// address for the task ENI (docs/model.md#subnets-and-addresses).
    InsufficientFreeAddresses,
    /// Fargate refused the launch: the account's vCPU quota is reached (docs/model.md#fargate).
    FargateVcpuQuota,
    /// RunTask on Fargate found the account's launch token bucket empty (ThrottlingException).
    FargateThrottled,
    /// Stopped before running for an egress reason: no route to the registry or to CloudWatch
    /// Logs (after the pull timeout), or no execution role (at once).
    PullFailed(super::egress::StartFailure),
    /// An essential container was OOM-killed (exit code 137); stop code
    /// `EssentialContainerExited`.
    OutOfMemory,
    /// Its EC2 host's instance failed or its AZ went down: ECS reports `Host EC2 (instance
    /// i-…) terminated` (docs/model.md#host-failures-and-az-outages).
    HostTerminated,
    /// A Fargate task whose AZ went down.
    AzUnavailable,
    /// Stopped by the service scheduler during a deployment (stop code
    /// `ServiceSchedulerInitiated`).
    ServiceSchedulerInitiated,
    /// Stopped by the service scheduler because its target failed the target group's health
    /// checks (after a drain); ECS's reason: `Task failed ELB health checks in (target-group …)`.
    ElbHealthCheck,
    /// Stopped because an essential container's health check found it UNHEALTHY.
    ContainerHealthCheck,
    /// Waited in PROVISIONING for a capacity provider's Auto Scaling group to grow, and gave up
    /// after the provisioning timeout (docs/model.md#capacity-providers-and-cluster-auto-scaling).
    CapacityTimeout,
    /// Stopped by the service scheduler because service auto scaling lowered the desired count.
    ScaledIn,
    /// Fargate Spot took its capacity back: SIGTERM with the two-minute notice, then the kill.
    SpotInterrupted,
    /// Its instance drained before an Auto Scaling group terminated it (managed draining).
    InstanceDraining,
}

impl StopReason {
    /// Placed or accepted, then stopped before it ever ran.
    /// A failure the launch itself meets (no address, the vCPU quota): the service scheduler's
    /// launch loop backs off and replaces the task, whenever the stop itself happens.
    pub fn fails_the_launch(self) -> bool {
        matches!(self, StopReason::InsufficientFreeAddresses | StopReason::FargateVcpuQuota)
    }

    pub fn failed_to_start(self) -> bool {
        matches!(self, StopReason::InsufficientFreeAddresses | StopReason::FargateVcpuQuota | StopReason::PullFailed(_))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Completed => "completed",
            StopReason::PlacementFailed => "placement_failed",
            StopReason::HorizonReached => "horizon",
            StopReason::InsufficientFreeAddresses => "TaskFailedToStart: InsufficientFreeAddressesInSubnet",
            StopReason::FargateVcpuQuota => "You've reached the limit on the number of vCPUs you can run concurrently",
            StopReason::FargateThrottled => "ThrottlingException",
            StopReason::PullFailed(f) => f.as_str(),
            StopReason::OutOfMemory => crate::model::memory::OOM_REASON,
            StopReason::HostTerminated => "Host EC2 terminated",
            StopReason::AzUnavailable => "InfrastructureHealth: Availability Zone unavailable",
            StopReason::ServiceSchedulerInitiated => "ServiceSchedulerInitiated: Scaling activity initiated by deployment",
            StopReason::ElbHealthCheck => "ServiceSchedulerInitiated: Task failed ELB health checks",
            StopReason::ContainerHealthCheck => "ServiceSchedulerInitiated: Task failed container health checks",
            // ECS publishes no exact string for this; its TaskFailedToStart form is used.
            StopReason::CapacityTimeout => "TaskFailedToStart: RESOURCE: no capacity within the provisioning timeout",
            // A lower desired count is applied by the service's deployment, in ECS's words.
            StopReason::ScaledIn => "ServiceSchedulerInitiated: Scaling activity initiated by deployment",
            StopReason::SpotInterrupted => "TerminationNotice: Your Spot Task was interrupted.",
            StopReason::InstanceDraining => "ServiceSchedulerInitiated: Container instance is draining",
        }
    }

    /// The stopped reason as ECS words it for a task that ran on `host`: a host termination
    /// names the instance (`Host EC2 (instance i-00000042) terminated`).
    pub fn stopped_reason(self, host: Option<super::cluster::HostId>) -> String {
        match (self, host) {
            (StopReason::HostTerminated, Some(h)) => format!("Host EC2 (instance {}) terminated", super::cluster::instance_name(h)),
            _ => self.as_str().to_string(),
        }
    }
}

/// One task, from arrival to stop.
#[derive(Debug, Clone)]
pub struct Task {
    pub id: TaskId,
    /// The task's number in arrival order (0, 1, …): the id in `tasks.csv` and
    /// `decisions.csv`, and the order "oldest first" follows.
    pub serial: u32,
    /// Queued events that name this task (its start, ENI clean-up, pull deadline, memory
    /// changes): its record is kept until they have all been handled.
    pub pins: u8,
    /// The slot is free: its task was folded into the totals and is gone.
    pub recycled: bool,
    /// It runs on FARGATE_SPOT.
    pub spot: bool,
    /// Its service has already replaced it (a Spot notice, an instance drain) and is not told of
    /// its stop.
    pub interrupted: bool,
    /// Index of the workload that launched it.
    pub workload: u32,
    /// Index of its task definition in the scenario.
    pub task_definition: u32,
    pub arrived_at: SimTime,
    pub placed_at: Option<SimTime>,
    pub running_at: Option<SimTime>,
    pub stopped_at: Option<SimTime>,
    pub host: Option<HostId>,
    pub state: TaskState,
    pub stop_reason: Option<StopReason>,
    /// How long it runs once RUNNING; `None` = until stopped by something else (a service task).
    pub run_time: Option<SimTime>,
    /// The subnet of its ENI (awsvpc), once chosen.
    pub subnet: Option<SubnetId>,
    pub ip: TaskIp,
    /// The scheduled end of its run time while RUNNING, cancelled when something else stops it
    /// first (an OOM kill, a host failure).
    pub finish_event: Option<EventId>,
}
