//! What a run measures: the metric catalog (name, unit, which direction is better), time-weighted
//! accumulators, time series, and the statistics over replications.
//!
//! Adding a metric is a one-place change: a variant in [`Metric`] and its row (column name, a
//! short title for charts, unit, direction, meaning) in the `metrics!` table;
//! `sim` sets its value, and CSVs, summaries, charts and `check` pick it up by iteration.
//!
//! Architecture invariant: `metrics` does no I/O.

pub mod stats;
mod timeseries;

pub use timeseries::TimeSeries;

/// Which way a metric should move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
    /// Describes the input (e.g. arrivals): never a regression.
    Neutral,
}

macro_rules! metrics {
    ($($variant:ident => ($name:literal, $title:literal, $unit:literal, $dir:ident, $doc:literal),)*) => {
        /// Every per-run metric, in `runs.csv` column order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Metric { $($variant,)* }

        impl Metric {
            pub const ALL: &'static [Metric] = &[$(Metric::$variant,)*];
            pub const COUNT: usize = Self::ALL.len();

            /// (column name, title, unit, direction, meaning)
            fn info(self) -> (&'static str, &'static str, &'static str, Direction, &'static str) {
                match self { $(Metric::$variant => ($name, $title, $unit, Direction::$dir, $doc),)* }
            }
        }
    };
}

metrics! {
    TasksArrived => ("tasks_arrived", "Tasks arrived", "tasks", Neutral, "Tasks that arrived after the warm-up: RunTask arrivals plus service tasks created (initial and replacements)."),
    TasksPlaced => ("tasks_placed", "Tasks placed", "tasks", HigherIsBetter, "Tasks placed on a host after the warm-up."),
    TasksFailed => ("tasks_failed", "RunTask tasks that never ran", "tasks", LowerIsBetter, "RunTask tasks that never ran, whatever the reason: not placed (ECS returns them in failures[]), throttled by the Fargate launch bucket, refused by the Fargate vCPU quota, or stopped in PROVISIONING without an address. Service tasks are retried instead: see the tasks_outcome_* columns."),
    TasksCompleted => ("tasks_completed", "Tasks completed", "tasks", Neutral, "Tasks that ran to the end of their run time."),
    OutcomeCompleted => ("tasks_outcome_completed", "Tasks that completed", "tasks", Neutral, "Per task, of the tasks_arrived: ran to the end of its run time by the horizon. The tasks_outcome_* columns add up to tasks_arrived: each task counted once, by how it ended."),
    OutcomeNotPlaced => ("tasks_outcome_not_placed", "RunTask tasks never placed", "tasks", LowerIsBetter, "Per task: a RunTask task no host could take (never started)."),
    OutcomeThrottled => ("tasks_outcome_throttled", "RunTask tasks throttled", "tasks", LowerIsBetter, "Per task: a Fargate RunTask task refused by the account's launch bucket (ThrottlingException)."),
    OutcomeNoAddress => ("tasks_outcome_failed_no_ip", "Tasks failed to start: no address", "tasks", LowerIsBetter, "Per task: placed or accepted, then stopped in PROVISIONING with InsufficientFreeAddressesInSubnet (a service creates a new task in its place)."),
    OutcomeVcpuQuota => ("tasks_outcome_failed_vcpu_quota", "Tasks failed to start: vCPU quota", "tasks", LowerIsBetter, "Per task: accepted by Fargate, then stopped because the account's vCPU quota was reached (a service creates a new task in its place)."),
    OutcomeRunningEnd => ("tasks_outcome_running_end", "Tasks running at the end", "tasks", Neutral, "Per task: still running at the horizon."),
    OutcomeProvisioningEnd => ("tasks_outcome_provisioning_end", "Tasks provisioning at the end", "tasks", Neutral, "Per task: placed but not yet running at the horizon."),
    OutcomeWaitingEnd => ("tasks_outcome_waiting_end", "Tasks waiting at the end", "tasks", LowerIsBetter, "Per task: a service task still waiting for placement at the horizon."),
    TaskFailureFraction => ("task_failure_fraction", "Share of tasks that failed", "fraction", LowerIsBetter, "Per task: (not placed + throttled + failed to start + gave up waiting for capacity) / tasks_arrived. Unlike placement_failure_rate, retries do not count: each task counts once."),
    PlacementAttempts => ("placement_attempts", "Placement attempts", "attempts", Neutral, "Placement decisions made (RunTask arrivals plus every service attempt, retries included): a per-attempt count, not per task."),
    PlacementFailures => ("placement_failures", "Failed placement attempts", "attempts", LowerIsBetter, "Placement decisions that found no host (per attempt: a service retrying with back-off counts every retry)."),
    PlacementFailureRate => ("placement_failure_rate", "Placement failure rate", "fraction", LowerIsBetter, "placement_failures / placement_attempts, per attempt. With RunTask only, the blocking probability; with services it follows the back-off schedule, so read task_failure_fraction for how many tasks failed."),
    FailedResourceCpu => ("failed_resource_cpu", "Placements failed for CPU", "attempts", LowerIsBetter, "Failed attempts whose reason was RESOURCE:CPU."),
    FailedResourceMemory => ("failed_resource_memory", "Placements failed for memory", "attempts", LowerIsBetter, "Failed attempts whose reason was RESOURCE:MEMORY."),
    FailedResourcePorts => ("failed_resource_ports", "Placements failed for host ports", "attempts", LowerIsBetter, "Failed attempts whose reason was RESOURCE:PORTS."),
    FailedResourceEni => ("failed_resource_eni", "Placements failed for ENI slots", "attempts", LowerIsBetter, "Failed attempts whose reason was RESOURCE:ENI (no free ENI slot for an awsvpc task)."),
    FailedLocation => ("failed_location", "Placements failed for location", "attempts", LowerIsBetter, "Failed attempts whose reason was LOCATION (no host in an AZ of the task's subnets)."),
    FailedDistinctInstance => ("failed_constraint_distinct_instance", "Placements blocked by distinctInstance", "attempts", LowerIsBetter, "Failed attempts blocked by distinctInstance."),
    FailedMemberOf => ("failed_constraint_member_of", "Placements blocked by memberOf", "attempts", LowerIsBetter, "Failed attempts blocked by a memberOf constraint."),
    StartFailedNoIps => ("start_failed_insufficient_ips", "Tasks stopped for lack of addresses", "tasks", LowerIsBetter, "Tasks that were placed (or accepted by Fargate) and then stopped in PROVISIONING with TaskFailedToStart / InsufficientFreeAddressesInSubnet: the silent failures."),
    FargateFailedQuota => ("fargate_failed_vcpu_quota", "Fargate launches over the vCPU quota", "tasks", LowerIsBetter, "Fargate launches refused because the account's vCPU quota was reached."),
    FargateThrottled => ("fargate_launches_throttled", "Fargate launches throttled", "launches", LowerIsBetter, "Fargate launches that found the account's launch token bucket empty (RunTask: dropped; services: retried)."),
    FargateLaunched => ("fargate_tasks_started", "Fargate tasks started", "tasks", Neutral, "Fargate tasks that got an ENI and started."),
    MinFreeIps => ("min_free_ips", "Fewest free addresses in a subnet", "addresses", HigherIsBetter, "Fewest free addresses any subnet used by task ENIs had at any time (per subnet: timeseries free_ips_<subnet>)."),
    TaskEnisPeak => ("task_enis_peak", "Peak task ENIs", "ENIs", Neutral, "Most task ENIs (EC2 awsvpc and Fargate) attached or being cleaned up at once."),
    CpuReservedMean => ("cpu_reserved_util_mean", "Mean reserved CPU", "fraction", Neutral, "Time-weighted mean of reserved / registered CPU units over the cluster, after the warm-up."),
    CpuReservedPeak => ("cpu_reserved_util_peak", "Peak reserved CPU", "fraction", Neutral, "Highest reserved / registered CPU units reached."),
    MemReservedMean => ("mem_reserved_util_mean", "Mean reserved memory", "fraction", Neutral, "Time-weighted mean of reserved / registered memory."),
    MemReservedPeak => ("mem_reserved_util_peak", "Peak reserved memory", "fraction", Neutral, "Highest reserved / registered memory reached."),
    HostsUsedMean => ("hosts_used_mean", "Mean hosts running tasks", "hosts", LowerIsBetter, "Time-weighted mean number of hosts running at least one task (what binpack minimises)."),
    HostsUsedPeak => ("hosts_used_peak", "Peak hosts running tasks", "hosts", LowerIsBetter, "Most hosts running at least one task at once."),
    ServiceWaitMean => ("service_wait_mean_s", "Mean service-task wait", "s", LowerIsBetter, "Mean time a service task waited from being wanted to being placed. Tasks still waiting at the horizon count with their wait so far (right-censored; how many: service_waits_censored), so the statistics never hide the longest waits."),
    ServiceWaitP95 => ("service_wait_p95_s", "95th-percentile service-task wait", "s", LowerIsBetter, "95th percentile of that wait (censored waits included)."),
    ServiceWaitMax => ("service_wait_max_s", "Longest service-task wait", "s", LowerIsBetter, "Longest wait (censored waits included: at least as long as any task waited)."),
    ServiceWaitsCensored => ("service_waits_censored", "Service waits cut off by the horizon", "tasks", LowerIsBetter, "Of the service waits, those still going on at the horizon (counted up to the horizon)."),
    ServiceTasksUnplaced => ("service_tasks_waiting_end", "Service tasks waiting at the end", "tasks", LowerIsBetter, "Service tasks still waiting for placement at the horizon."),
    Events => ("events", "Events processed", "events", Neutral, "Events the loop processed (cancelled ones are not counted; a pull flow's event re-armed after the flow slowed down counts each time it fires)."),
    OutcomeOom => ("tasks_outcome_oom", "Tasks stopped by an OOM kill", "tasks", LowerIsBetter, "Per task: ran, then stopped because an essential container was OOM-killed (with [memory])."),
    OomKillsContainer => ("oom_kills_container", "OOM kills: container limit", "kills", LowerIsBetter, "Containers OOM-killed (exit 137, OutOfMemoryError) for going above their own hard `memory` (with [memory])."),
    OomKillsTask => ("oom_kills_task", "OOM kills: task limit", "kills", LowerIsBetter, "Containers OOM-killed because their task's containers together went above the task's `memory` (always enforced on Fargate)."),
    OomKillsHost => ("oom_kills_host", "OOM kills: host memory", "kills", LowerIsBetter, "Containers killed by a host's OOM killer (the host's memory less OS and agent ran out), chosen by memory.victim_policy."),
    OomKillsPer1000TaskHours => ("oom_kills_per_1000_task_hours", "OOM kills per 1,000 task-hours", "kills", LowerIsBetter, "OOM kills at all three levels per 1,000 hours of running tasks."),
    TasksStoppedOom => ("tasks_stopped_oom", "Tasks stopped by OOM", "tasks", LowerIsBetter, "Tasks stopped because an essential container was OOM-killed (EssentialContainerExited)."),
    OomReplacements => ("oom_replacements", "Service tasks replacing OOM-killed ones", "tasks", LowerIsBetter, "Service tasks the scheduler had to start to replace tasks an OOM kill stopped."),
    OomLostCpuSeconds => ("oom_lost_cpu_s", "RunTask CPU work lost to OOM", "CPU-s", LowerIsBetter, "RunTask tasks with CPU-second work stopped by an OOM kill: the CPU-seconds of work they had done, lost."),
    OomLostTaskSeconds => ("oom_lost_task_s", "RunTask run time lost to OOM", "s", LowerIsBetter, "RunTask tasks stopped by an OOM kill: the time they had run, lost."),
    TasksPerHostMean => ("tasks_per_host_mean", "Mean running tasks per host", "tasks", Neutral, "Time-weighted mean of running EC2 tasks per host in use (with [memory]): the density a reservation setting buys."),
    MemUsedMean => ("mem_used_util_mean", "Mean memory in use", "fraction", Neutral, "Time-weighted mean of the containers' memory usage / registered memory over the EC2 hosts (with [memory])."),
    MemUsedP95 => ("mem_used_util_p95", "95th-percentile memory in use", "fraction", Neutral, "95th percentile of that, over the time-series samples after the warm-up."),
    MemReservedP95 => ("mem_reserved_util_p95", "95th-percentile reserved memory", "fraction", Neutral, "95th percentile of reserved / registered memory, over the time-series samples after the warm-up."),
    CpuUsedMean => ("cpu_used_util_mean", "Mean CPU in use", "fraction", Neutral, "Time-weighted mean of the CPU units containers get / registered CPU units over the EC2 hosts (with [cpu])."),
    CpuSlowdownMean => ("cpu_slowdown_mean", "Mean slowdown of CPU work", "factor", LowerIsBetter, "Tasks whose CPU-second work completed: time taken / time it would take alone on an idle host, mean."),
    CpuSlowdownP95 => ("cpu_slowdown_p95", "95th-percentile slowdown of CPU work", "factor", LowerIsBetter, "95th percentile of that slowdown."),
    TimeToRunningP50 => ("time_to_running_p50_s", "Median time to running", "s", LowerIsBetter, "Median time from arrival (or, for a service task, from being wanted) to RUNNING, over tasks that arrived after the warm-up and ran. Its parts: placement_wait_mean_s, provisioning_mean_s (ENI, pulls, container start), pull_time_mean_s."),
    TimeToRunningP95 => ("time_to_running_p95_s", "95th-percentile time to running", "s", LowerIsBetter, "95th percentile of the time from arrival to RUNNING."),
    TimeToRunningP99 => ("time_to_running_p99_s", "99th-percentile time to running", "s", LowerIsBetter, "99th percentile of the time from arrival to RUNNING."),
    PlacementWaitMean => ("placement_wait_mean_s", "Mean wait for placement", "s", LowerIsBetter, "Mean time from arrival to placement (EC2) or Fargate acceptance, over tasks that ran."),
    ProvisioningMean => ("provisioning_mean_s", "Mean provisioning time", "s", LowerIsBetter, "Mean time from placement to RUNNING: ENI attach, image pulls, container start."),
    PullTimeMean => ("pull_time_mean_s", "Mean image pull time", "s", LowerIsBetter, "Mean time a task spent pulling its images (PENDING: from the ENI attach to every image present; 0 for cached images). NaN without [images]/[logs]."),
    PullTimeP95 => ("pull_time_p95_s", "95th-percentile image pull time", "s", LowerIsBetter, "95th percentile of the pull time."),
    OutcomePullFailed => ("tasks_outcome_failed_pull", "Tasks failed to start: egress", "tasks", LowerIsBetter, "Per task: stopped before running for an egress reason (no route to the registry or CloudWatch Logs, or no execution role)."),
    PullsJoined => ("pulls_joined", "Pulls that joined a download in progress", "pulls", Neutral, "EC2: pulls of an image whose download another task on the same host had begun; they wait for it instead of downloading again (no bytes of their own)."),
    PullFailedCannotPull => ("pull_failed_cannot_pull_container", "Stopped: CannotPullContainerError", "tasks", LowerIsBetter, "Tasks stopped with CannotPullContainerError after the pull timeout (no route to the registry)."),
    PullFailedTimeout => ("pull_failed_timeout", "Stopped: pull took longer than the image pull timeout", "tasks", LowerIsBetter, "Tasks stopped with CannotPullContainerError because a pull with a route did not finish within [images] image_pull_timeout (stalled behind a NAT gateway outage, or crawling)."),
    PullFailedRegistryAuth => ("pull_failed_registry_auth", "Stopped: registry auth unreachable", "tasks", LowerIsBetter, "Fargate tasks stopped with ResourceInitializationError: unable to pull secrets or registry auth (no route to ECR)."),
    PullFailedLogger => ("pull_failed_logger", "Stopped: awslogs unreachable", "tasks", LowerIsBetter, "Fargate tasks stopped with ResourceInitializationError: failed to validate logger args (no route to CloudWatch Logs)."),
    PullFailedExecutionRole => ("pull_failed_execution_role", "Refused: no execution role", "tasks", LowerIsBetter, "Fargate tasks refused for a missing executionRoleArn (private ECR image or awslogs)."),
    NatGb => ("nat_gb", "GB through NAT gateways", "GB", LowerIsBetter, "GB processed by all NAT gateways (pulls and logs, both directions); per NAT: timeseries nat_mbps_<az>."),
    IgwGb => ("igw_gb", "GB through the internet gateway", "GB", Neutral, "GB through the internet gateway from public IPs (NAT gateway traffic not included)."),
    S3GatewayGb => ("s3_gateway_gb", "GB through the S3 gateway endpoint", "GB", Neutral, "GB of ECR layers through the S3 gateway endpoint (free)."),
    EndpointGb => ("endpoint_gb", "GB through interface endpoints", "GB", Neutral, "GB through interface endpoints (logs; ECR API traffic is not modelled)."),
    CrossAzGb => ("cross_az_gb", "GB across AZs", "GB", LowerIsBetter, "GB that crossed AZs on their way to a NAT gateway or endpoint in another AZ."),
    NatUtilPeak => ("nat_util_peak", "Peak NAT gateway utilisation", "fraction", LowerIsBetter, "Highest throughput / bandwidth any NAT gateway reached (timeseries nat_util_<az>)."),
    LostLogBytes => ("lost_log_bytes", "Log bytes lost", "bytes", LowerIsBetter, "Log bytes dropped by awslogs in non-blocking mode when a container's buffer was full."),
    LogStalledS => ("log_stalled_s", "Blocked log writes", "s", LowerIsBetter, "Container-seconds of blocked log writes (blocking mode)."),
    CostNatHours => ("cost_nat_gateway_hours_month_usd", "NAT gateway hours per month", "USD/month", LowerIsBetter, "NAT gateway hours, extrapolated to a 730-hour month (run cost × 730 / horizon hours)."),
    CostNatData => ("cost_nat_gateway_data_month_usd", "NAT data processing per month", "USD/month", LowerIsBetter, "NAT gateway data processing per month."),
    CostPublicIpv4 => ("cost_public_ipv4_month_usd", "Public IPv4 per month", "USD/month", LowerIsBetter, "Public IPv4 addresses (hosts in public subnets, Fargate tasks with public IPs, NAT gateway EIPs) per month."),
    CostCrossAz => ("cost_cross_az_month_usd", "Cross-AZ transfer per month", "USD/month", LowerIsBetter, "Cross-AZ transfer (both directions) per month."),
    CostEndpointHours => ("cost_interface_endpoint_hours_month_usd", "Interface endpoint hours per month", "USD/month", LowerIsBetter, "Interface endpoint hours (per endpoint per AZ) per month."),
    CostEndpointData => ("cost_interface_endpoint_data_month_usd", "Interface endpoint data per month", "USD/month", LowerIsBetter, "Interface endpoint data processing per month."),
    CostInternetEgress => ("cost_internet_egress_month_usd", "Internet egress per month", "USD/month", LowerIsBetter, "Data out to the internet per month (0: pulls are inbound, logs stay in the Region)."),
    CostEc2 => ("cost_ec2_instances_month_usd", "EC2 instances per month", "USD/month", LowerIsBetter, "EC2 instance hours at the instance table's prices, per month."),
    CostFargateVcpu => ("cost_fargate_vcpu_month_usd", "Fargate vCPU per month", "USD/month", LowerIsBetter, "Fargate vCPU hours (x86 and Arm rates), per month."),
    CostFargateMemory => ("cost_fargate_memory_month_usd", "Fargate memory per month", "USD/month", LowerIsBetter, "Fargate memory GB hours, per month."),
    CostMonthTotal => ("cost_total_month_usd", "Monthly bill", "USD/month", LowerIsBetter, "Sum of the cost_*_month_usd lines."),
    CostRunTotal => ("cost_total_run_usd", "Bill over the run", "USD", LowerIsBetter, "The same bill over the simulated horizon."),
    HostFailures => ("host_failures", "Host failures", "hosts", Neutral, "EC2 instances that failed by their host group's failure process (with [failures]; AZ outages not included). Each is replaced after the group's replacement_delay."),
    TasksLostHostFailure => ("tasks_lost_host_failure", "Tasks lost to host failures", "tasks", LowerIsBetter, "Provisioning or running tasks stopped because their host failed (`Host EC2 (instance i-…) terminated`)."),
    TasksLostAzOutage => ("tasks_lost_az_outage", "Tasks lost to AZ outages", "tasks", LowerIsBetter, "Provisioning or running tasks stopped because their AZ went down: EC2 tasks on its hosts and Fargate tasks in its subnets."),
    OutcomeLost => ("tasks_outcome_lost", "Tasks lost to failures", "tasks", LowerIsBetter, "Per task: stopped because its host or its AZ failed, or because an Auto Scaling group terminated its instance at scale-in (a service creates a new task in its place)."),
    RecoveryEpisodes => ("recovery_episodes", "Service loss episodes", "episodes", LowerIsBetter, "Times a service fell below its desired count of running tasks, after it first reached it (with [failures])."),
    RecoveriesCensored => ("recoveries_censored", "Loss episodes open at the end", "episodes", LowerIsBetter, "Of the recovery_episodes, those still short of the desired count at the horizon (counted up to it)."),
    RecoveryTimeP50 => ("recovery_time_p50_s", "Median time to recover", "s", LowerIsBetter, "Median time from a service falling below its desired count of running tasks to running it again (open episodes counted up to the horizon); 0 without episodes. NaN without [failures]."),
    RecoveryTimeMax => ("recovery_time_max_s", "Longest time to recover", "s", LowerIsBetter, "Longest of those times."),
    ServiceRunningFractionMin => ("service_running_fraction_min", "Lowest share of desired tasks running", "fraction", HigherIsBetter, "Lowest running / desired count any service had (after the warm-up, once it first ran its desired count; a state that lasts no time does not count; NaN if no service ever ran its desired count). Per service over time: timeseries running_pct_<workload>."),
    ServiceTimeDegraded => ("service_time_below_fraction_s", "Time below the degraded threshold", "s", LowerIsBetter, "Longest time any service spent with fewer than failures.degraded_below (default 0.9) of its desired count running."),
    OutcomeUnhealthy => ("tasks_outcome_unhealthy", "Tasks stopped as unhealthy", "tasks", LowerIsBetter, "Per task: stopped by the service scheduler because it failed its target group's (ELB) or an essential container's health checks (`Task failed ELB health checks`, `Task failed container health checks`); the service starts a new task in its place."),
    OutcomeReplaced => ("tasks_outcome_replaced", "Tasks replaced by a deployment", "tasks", Neutral, "Per task: stopped by the service scheduler during a rolling deployment (`ServiceSchedulerInitiated`), an old revision's task making room for the new one, or replaced from an instance that drained before an Auto Scaling group terminated it."),
    Deployments => ("deployments", "Deployments", "deployments", Neutral, "Service deployments started after time 0 ([[workload.<name>.deployments]] and circuit-breaker rollbacks). The deployment_* columns are NaN without any."),
    DeploymentsCompleted => ("deployments_completed", "Deployments completed", "deployments", HigherIsBetter, "Deployments that reached their desired count of healthy new tasks with no old task left."),
    DeploymentsFailed => ("deployments_failed", "Deployments failed", "deployments", LowerIsBetter, "Deployments the circuit breaker stopped (rolled back or not)."),
    DeploymentsRolledBack => ("deployments_rolled_back", "Deployments rolled back", "deployments", LowerIsBetter, "Of the failed deployments, those the circuit breaker rolled back to the last completed revision."),
    DeploymentsStuck => ("deployments_stuck", "Deployments stuck", "deployments", LowerIsBetter, "Deployments unfinished at the horizon that could neither start nor stop a task: the deployment configuration allows no step, or the new tasks cannot be placed."),
    DeploymentDurationMean => ("deployment_duration_mean_s", "Mean deployment time", "s", LowerIsBetter, "From the update to the deployment's end (completed or failed), over the deployments that ended; NaN if none did."),
    DeploymentDurationMax => ("deployment_duration_max_s", "Longest deployment time", "s", LowerIsBetter, "Longest of those times; a deployment still in progress at the horizon counts up to the horizon."),
    DeploymentPeakTasks => ("deployment_peak_tasks", "Most tasks during a deployment", "tasks", LowerIsBetter, "Most tasks a service had placed (provisioning, running or stopping, old and new revisions) while a deployment was in progress."),
    DeploymentPeakAddresses => ("deployment_peak_addresses", "Most addresses during a deployment", "addresses", LowerIsBetter, "Most subnet addresses a service's task ENIs held (including ENIs in clean-up after STOPPED) while a deployment was in progress; 0 without awsvpc."),
    DeploymentTasksStarted => ("deployment_tasks_started", "Tasks started by deployments", "tasks", Neutral, "New-revision tasks the deployments launched (replacements of failed ones included)."),
    DeploymentTasksStopped => ("deployment_tasks_stopped", "Tasks stopped by deployments", "tasks", Neutral, "Old-revision tasks the deployments stopped (ServiceSchedulerInitiated)."),
    DeploymentFailedTasks => ("deployment_failed_tasks", "Failed new tasks", "tasks", LowerIsBetter, "New-revision tasks that failed to be placed or to start during a deployment: what the circuit breaker counts."),
    OutcomeCapacityTimeout => ("tasks_outcome_capacity_timeout", "Tasks that gave up waiting for capacity", "tasks", LowerIsBetter, "Per task: waited in PROVISIONING for a capacity provider's Auto Scaling group to grow and was stopped after the provisioning timeout (a service creates a new task in its place)."),
    CapacityWaitTasks => ("capacity_wait_tasks", "Tasks that waited for capacity", "tasks", Neutral, "Tasks that found no instance of their capacity provider and waited in PROVISIONING for managed scaling (after the warm-up; counted when the wait ended: placed or timed out). The capacity_* and instance_* columns are NaN without [capacity_providers]."),
    CapacityWaitMean => ("capacity_wait_mean_s", "Mean wait for capacity", "s", LowerIsBetter, "Mean time those tasks waited in PROVISIONING, from the failed placement to their placement on a new or freed instance (or their timeout); NaN if none waited."),
    CapacityWaitP95 => ("capacity_wait_p95_s", "95th-percentile wait for capacity", "s", LowerIsBetter, "95th percentile of that wait."),
    CapacityWaitMax => ("capacity_wait_max_s", "Longest wait for capacity", "s", LowerIsBetter, "Longest of those waits."),
    CapacityWaitRefused => ("capacity_wait_refused", "Tasks refused: too many waiting", "tasks", LowerIsBetter, "Tasks that found no instance while the cluster already had max_provisioning_tasks waiting in PROVISIONING: they failed at once, as without managed scaling."),
    ScaleOuts => ("capacity_scale_outs", "Cluster scale-outs", "actions", Neutral, "Times managed scaling raised an Auto Scaling group's desired capacity (CapacityProviderReservation above targetCapacity, outside an instance warm-up)."),
    ScaleIns => ("capacity_scale_ins", "Cluster scale-ins", "actions", Neutral, "Times managed scaling lowered an Auto Scaling group's desired capacity (15 minutes below targetCapacity)."),
    InstancesLaunched => ("instances_launched", "Instances launched", "instances", Neutral, "EC2 instances the Auto Scaling groups launched during the run."),
    InstancesTerminated => ("instances_terminated", "Instances terminated", "instances", Neutral, "Instances the Auto Scaling groups terminated: at scale-in, when EC2 reclaimed a Spot instance, when the group replaced a failed instance, and when it evened out its AZs."),
    InstancesRebalanced => ("instances_rebalanced", "Instances launched to rebalance AZs", "instances", Neutral, "Instances an Auto Scaling group launched in an AZ back from an outage to even out its AZs; it then terminates as many in its fullest AZs (with managed termination protection only instances without tasks)."),
    InstanceLaunchesFailed => ("instance_launches_failed", "Instance launches failed: no address", "instances", LowerIsBetter, "Launches refused because the AZ's subnet had no free address for the instance's network interface, or (with az_distribution = \"balanced-only\") because the AZ was down; the group tries again a minute later."),
    InstancesPeak => ("instances_peak", "Most instances", "instances", LowerIsBetter, "Most instances the Auto Scaling groups counted at once (launching or in service, summed over the groups; an instance draining before its termination has left its group's size already, so this exceeds the groups' max_size only while a group rebalances its AZs after an outage, by at most 10 %)."),
    InstanceHours => ("instance_hours", "Instance-hours of the Auto Scaling groups", "h", LowerIsBetter, "Hours the Auto Scaling groups' instances ran, from launch to termination (billed at their On-Demand price in cost_total_usd)."),
    OutcomeScaledIn => ("tasks_outcome_scaled_in", "Tasks stopped by service scale-in", "tasks", Neutral, "Per task: a service task stopped (or never placed) because service auto scaling lowered the desired count."),
    ServiceScaleOuts => ("service_scale_outs", "Service scale-outs", "actions", Neutral, "Times service auto scaling raised a service's desired count (target tracking: 3 datapoints above target, outside the scale-out cooldown unless larger than the last). NaN without [workload.<name>.auto_scaling]."),
    ServiceScaleIns => ("service_scale_ins", "Service scale-ins", "actions", Neutral, "Times service auto scaling lowered a service's desired count (15 datapoints below 90 % of every policy's target, outside the scale-in cooldown)."),
    ServiceDesiredMax => ("service_desired_max", "Largest desired count", "tasks", Neutral, "Largest desired count a scaled service reached (summed over the scaled services at each change; per service over time: desired_<workload> in the time series)."),
    OutcomeSpotInterrupted => ("tasks_outcome_spot_interrupted", "Tasks interrupted by Fargate Spot", "tasks", LowerIsBetter, "Per task: a FARGATE_SPOT task stopped by a Spot interruption (`Your Spot Task was interrupted.`); a service starts its replacement at the notice."),
    SpotInterruptions => ("spot_interruptions", "Fargate Spot interruptions", "tasks", LowerIsBetter, "Interruption notices Fargate Spot sent to running tasks (SIGTERM; the task stops when its containers exit, at most min(stopTimeout, 120 s) later). NaN without a FARGATE_SPOT strategy."),
    SpotCapacityUnavailable => ("spot_capacity_unavailable", "Spot launches refused: no capacity", "attempts", LowerIsBetter, "FARGATE_SPOT launches refused because every AZ of the task's subnets had a Spot capacity shortage (`Capacity is unavailable at this time…`); RunTask fails, a service retries with back-off. There is no On-Demand fallback."),
    LbAddressesPeak => ("lb_addresses_peak", "Load balancer addresses, peak", "addresses", Neutral, "Most addresses the load balancers' nodes held at once in their subnets (an NLB 1 per AZ, an ALB `addresses_per_az` and its `scaling`); they compete with tasks for addresses. NaN without load balancers."),
    LbScaleUpsShort => ("lb_scale_ups_short", "ALB scale-ups short of addresses", "events", LowerIsBetter, "Times an ALB grew (its `scaling`) and a subnet had too few free addresses for its new nodes; it takes what there is and tries again each minute. NaN without `scaling`."),
    Ec2SpotInterruptions => ("ec2_spot_interruptions", "EC2 Spot instance interruptions", "instances", LowerIsBetter, "Two-minute interruption notices EC2 sent to Spot instances of the Auto Scaling groups (`spot` on a capacity provider); the instance is reclaimed two minutes later, with the tasks still on it. NaN without EC2 Spot."),
    TimeBelowMinimumHealthy => ("time_below_minimum_healthy_s", "Time below minimum healthy", "s", LowerIsBetter, "Time, summed over services with deployments, with fewer healthy tasks than minimumHealthyPercent of the desired count (after the service first reached it)."),
}

impl Metric {
    /// The per-task outcome counts: every task that arrived after the warm-up is counted in
    /// exactly one of them.
    pub const OUTCOMES: [Metric; 16] = [
        Metric::OutcomeCompleted,
        Metric::OutcomeNotPlaced,
        Metric::OutcomeThrottled,
        Metric::OutcomeNoAddress,
        Metric::OutcomeVcpuQuota,
        Metric::OutcomeRunningEnd,
        Metric::OutcomeProvisioningEnd,
        Metric::OutcomeWaitingEnd,
        Metric::OutcomeOom,
        Metric::OutcomePullFailed,
        Metric::OutcomeLost,
        Metric::OutcomeReplaced,
        Metric::OutcomeUnhealthy,
        Metric::OutcomeCapacityTimeout,
        Metric::OutcomeScaledIn,
        Metric::OutcomeSpotInterrupted,
    ];

    pub fn name(self) -> &'static str {
        self.info().0
    }
    /// A short title in words, for charts: "Placement failure rate".
    pub fn title(self) -> &'static str {
        self.info().1
    }
    pub fn unit(self) -> &'static str {
        self.info().2
    }
    pub fn direction(self) -> Direction {
        self.info().3
    }
    pub fn doc(self) -> &'static str {
        self.info().4
    }
    pub fn from_name(name: &str) -> Option<Metric> {
        Self::ALL.iter().copied().find(|m| m.name() == name)
    }
    /// A readable axis label, e.g. "placement failure rate [fraction]".
    pub fn label(self) -> String {
        format!("{} [{}]", self.name().trim_end_matches("_s").replace('_', " "), self.unit())
    }
}

/// The values of every metric for one run, indexed by `Metric as usize`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricValues(pub [f64; Metric::COUNT]);

impl Default for MetricValues {
    fn default() -> Self {
        MetricValues([f64::NAN; Metric::COUNT])
    }
}

impl MetricValues {
    pub fn get(&self, m: Metric) -> f64 {
        self.0[m as usize]
    }
    pub fn set(&mut self, m: Metric, v: f64) {
        self.0[m as usize] = v;
    }
}

/// `x as f64` for `x < 2^63` (every duration in microseconds and every resource total here),
/// through the signed conversion: one instruction on x86-64 instead of the unsigned
/// conversion's branchy sequence, and the same correctly rounded value.
#[inline]
pub fn small_u64_to_f64(x: u64) -> f64 {
    debug_assert!(x < 1 << 63);
    x as i64 as f64
}

/// Integral of a piecewise-constant quantity over time, and its peak, from a start time on.
#[derive(Debug, Clone, Copy)]
pub struct TimeWeighted {
    from_us: u64,
    last_us: u64,
    value: f64,
    integral: f64,
    peak: f64,
}

impl TimeWeighted {
    pub fn new(from_us: u64) -> TimeWeighted {
        TimeWeighted { from_us, last_us: from_us, value: 0.0, integral: 0.0, peak: 0.0 }
    }

    /// The quantity becomes `value` at time `now_us`.
    pub fn set(&mut self, now_us: u64, value: f64) {
        if now_us > self.last_us {
            self.integral += self.value * small_u64_to_f64(now_us - self.last_us);
            self.last_us = now_us;
        }
        self.value = value;
        if now_us >= self.from_us && value > self.peak {
            self.peak = value;
        }
    }

    /// Mean over `[from, end]`.
    pub fn mean(&self, end_us: u64) -> f64 {
        let mut integral = self.integral;
        if end_us > self.last_us {
            integral += self.value * (end_us - self.last_us) as f64;
        }
        let span = end_us.saturating_sub(self.from_us);
        if span == 0 { self.value } else { integral / span as f64 }
    }

    /// Highest value after `from` (the value in force at `from` included).
    pub fn peak(&self) -> f64 {
        self.peak
    }

    /// Called once at `from`, so the value in force then counts towards the peak.
    pub fn start_window(&mut self, now_us: u64) {
        debug_assert_eq!(now_us, self.from_us);
        self.integral = 0.0;
        self.last_us = now_us;
        self.peak = self.value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_are_unique_and_round_trip() {
        let mut names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Metric::COUNT);
        for m in Metric::ALL {
            assert_eq!(Metric::from_name(m.name()), Some(*m));
        }
    }

    #[test]
    fn time_weighted_mean_and_peak_of_a_step_function() {
        // 0 until 10, then 4 until 30, then 1 until 40: mean over [0, 40] = (4·20 + 1·10) / 40.
        let mut t = TimeWeighted::new(0);
        t.set(10, 4.0);
        t.set(30, 1.0);
        assert_eq!(t.mean(40), 90.0 / 40.0);
        assert_eq!(t.peak(), 4.0);
    }

    #[test]
    fn time_weighted_ignores_what_happened_before_the_window() {
        let mut t = TimeWeighted::new(100);
        t.set(10, 50.0);
        t.set(50, 2.0);
        t.start_window(100);
        assert_eq!(t.mean(200), 2.0);
        assert_eq!(t.peak(), 2.0);
    }
}
