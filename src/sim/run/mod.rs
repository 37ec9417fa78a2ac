//! The event loop of one run.

mod invariants;
mod network;

use rand_chacha::ChaCha8Rng;

use super::service::{ServiceState, TokenBucket};
use crate::engine::{EventQueue, RngStreams, SimTime};
use crate::metrics::{Metric, MetricValues, TimeSeries, TimeWeighted, stats};
use crate::model::cluster::HostGroup;
use crate::model::taskdef::{NetworkMode, Protocol};
use crate::model::{AzId, Cluster, Host, HostId, HostPorts, Resources, StopReason, Subnet, SubnetId, Task, TaskId, TaskIp, TaskState};
use crate::placement::{ClusterView, Explanation, GroupCounts, GroupId, PlacementFailure, PlacementRequest, Placer};
use crate::scenario::Scenario;
use crate::workload::{Arrivals, LaunchType};

/// What a run records beyond its metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Keep one row per task (`tasks/<run>.csv`).
    pub record_tasks: bool,
    /// Keep one row per placement decision with the survivors of each stage (`decisions.csv`).
    pub explain: bool,
}

/// One task's history, for `tasks/<run>.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    pub task: u32,
    pub workload: u32,
    pub task_definition: u32,
    pub arrived_at: SimTime,
    pub placed_at: Option<SimTime>,
    pub running_at: Option<SimTime>,
    pub stopped_at: Option<SimTime>,
    pub host: Option<HostId>,
    pub az: Option<AzId>,
    pub subnet: Option<SubnetId>,
    /// Whether its ENI ever got an address, and where that address is now.
    pub ip: TaskIp,
    /// `None` while still waiting or running at the horizon.
    pub stop_reason: Option<StopReason>,
}

/// One placement decision, for `decisions.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRow {
    pub time: SimTime,
    pub task: u32,
    pub workload: u32,
    pub outcome: Result<HostId, PlacementFailure>,
    pub explanation: Explanation,
}

/// Everything one run produced. Plain data; `report` writes it.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub seed: u64,
    pub metrics: MetricValues,
    pub timeseries: TimeSeries,
    pub tasks: Vec<TaskRow>,
    pub decisions: Vec<DecisionRow>,
    /// One row per subnet (empty without a `[network]`).
    pub subnets: Vec<SubnetRow>,
}

/// How one subnet fared over a run, for `subnets.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubnetRow {
    pub subnet: SubnetId,
    pub usable: u32,
    /// Fewest free addresses after the warm-up.
    pub min_free: u32,
    pub free_at_end: u32,
}

#[derive(Debug, Clone, Copy)]
enum Event {
    WarmupEnd,
    Sample,
    PoissonArrival {
        workload: u32,
    },
    BatchArrival {
        workload: u32,
    },
    TraceArrival {
        workload: u32,
        record: u32,
    },
    TaskStarted {
        task: TaskId,
    },
    /// Carries what stopping needs, so the hot path does not first load the task's cold record
    /// (queue entries are 32 bytes either way).
    TaskFinished {
        task: TaskId,
        host: HostId,
        task_definition: u16,
        workload: u16,
    },
    /// A task whose ENI could not be created stops (TaskFailedToStart). `host` as in `TaskFinished`.
    StartFailed {
        task: TaskId,
        host: HostId,
        task_definition: u16,
        workload: u16,
    },
    /// A stopped task's ENI clean-up ends: its address returns to the subnet.
    EniReleased {
        task: TaskId,
    },
    ServiceCheck {
        service: u32,
    },
}

/// Stands for "no host" in events: the task runs on Fargate.
const FARGATE: HostId = HostId(u32::MAX);

/// Resources and static ports one task of a task definition reserves.
struct TaskNeeds {
    need: Resources,
    ports: Vec<(Protocol, u16)>,
    /// awsvpc: the task gets its own ENI (an address, and on EC2 an ENI slot).
    eni: bool,
}

/// How one launch attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Launch {
    /// Placed (EC2) or accepted (Fargate), and provisioning.
    Started,
    /// No host could take it (EC2).
    NotPlaced,
    /// Placed or accepted, then stopped before running (no address, Fargate quota).
    FailedToStart,
    /// Fargate's launch bucket was empty: nothing happened; try again when it refills.
    Throttled,
}

struct World<'s> {
    scenario: &'s Scenario,
    options: RunOptions,
    cluster: Cluster,
    placer: Placer,
    groups: GroupCounts,
    queue: EventQueue<Event>,
    tasks: Vec<Task>,
    needs: Vec<TaskNeeds>,
    workload_group: Vec<GroupId>,
    services: Vec<ServiceState>,
    service_of: Vec<Option<u32>>,
    rng_placement: ChaCha8Rng,
    rng_arrivals: Vec<ChaCha8Rng>,
    rng_run_time: Vec<ChaCha8Rng>,
    /// ENI attach delays: a stream of their own, so a distribution here moves nothing else.
    rng_eni: ChaCha8Rng,
    // Accounting.
    warm: bool,
    counts: [u64; Metric::COUNT],
    failures: [u64; PlacementFailure::ALL.len()],
    cpu_reserved: TimeWeighted,
    mem_reserved: TimeWeighted,
    hosts_used: TimeWeighted,
    reserved_cpu_by_az: Vec<u64>,
    reserved_mem_by_az: Vec<u64>,
    registered_cpu_by_az: Vec<u64>,
    registered_mem_by_az: Vec<u64>,
    registered_total: Resources64,
    reserved_total: Resources64,
    hosts_busy: u32,
    running: u32,
    provisioning: u32,
    awaiting: u32,
    service_waits_s: Vec<f64>,
    timeseries: TimeSeries,
    decisions: Vec<crate::sim::DecisionRow>,
    /// With `explain`: decisions where the indexed choice was not among the full scan's best.
    oracle_mismatches: u64,
    // Network and Fargate.
    subnets: Vec<Subnet>,
    /// Per workload: AZs of its subnets as a bit mask (`u32::MAX` when it names none).
    workload_az_mask: Vec<u32>,
    task_enis: u32,
    task_enis_peak: u32,
    fargate_bucket: TokenBucket,
    fargate_cpu_units: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Resources64 {
    cpu: u64,
    mem: u64,
}

/// Builds the fleet a scenario describes: host groups in name order, then AZs, then index.
pub fn build_cluster(scenario: &Scenario) -> Cluster {
    let mut hosts = Vec::with_capacity(scenario.host_count() as usize);
    for (g, spec) in scenario.host_groups.iter().enumerate() {
        let itype = &scenario.instance_types[spec.instance_type as usize];
        let registered = scenario.registered(itype);
        let trunking = scenario.network.as_ref().is_some_and(|n| n.trunking) && itype.trunk_task_limit.is_some();
        // ECS-REFERENCE §2.2: the primary ENI takes one slot; with trunking, the trunk table applies.
        let eni_task_limit = if trunking { itype.trunk_task_limit.unwrap_or(0) } else { itype.max_enis.saturating_sub(1) };
        for (a, &az) in spec.azs.iter().enumerate() {
            let subnet = spec.subnets.get(a).copied();
            for _ in 0..spec.count_per_az {
                let id = HostId(hosts.len() as u32);
                hosts.push(Host {
                    id,
                    az,
                    instance_type: spec.instance_type,
                    group: g as u32,
                    registered,
                    reserved: Resources::default(),
                    ports: HostPorts::with_agent_defaults(),
                    task_count: 0,
                    instance_id: format!("i-{:08}", id.0),
                    subnet,
                    eni_task_limit,
                    eni_tasks: 0,
                });
            }
        }
    }
    Cluster {
        azs: scenario.azs.clone(),
        instance_types: scenario.instance_types.clone(),
        host_groups: scenario.host_groups.iter().map(|g| HostGroup { name: g.name.clone(), attributes: g.attributes.clone() }).collect(),
        hosts,
    }
}

/// Runs `scenario` with `seed`. An `Err` is a broken invariant: a bug in the simulator, never a
/// property of the input.
pub fn run(scenario: &Scenario, seed: u64, options: RunOptions) -> Result<RunResult, String> {
    let mut world = World::new(scenario, seed, options);
    world.start();
    world.event_loop();
    world.check_invariants()?;
    Ok(world.finish(seed))
}

impl<'s> World<'s> {
    fn new(scenario: &'s Scenario, seed: u64, options: RunOptions) -> World<'s> {
        let cluster = build_cluster(scenario);
        let placer = Placer::new(&cluster);
        let mut groups = GroupCounts::new(cluster.azs.len());
        let workload_group: Vec<GroupId> = scenario.workloads.iter().map(|w| groups.intern(&w.group)).collect();
        // A `task:group` expression or a user strategy may read any group's per-host counts.
        let any_reads_all = scenario.workloads.iter().any(|w| {
            w.placement.strategies.iter().any(|s| matches!(s, crate::placement::StrategySpec::Custom(_)))
                || w.placement.constraints.iter().any(|c| matches!(c, crate::placement::Constraint::MemberOf(e) if e.depends_on_tasks()))
        });
        if !any_reads_all {
            for &g in &workload_group {
                let read = scenario.workloads.iter().zip(&workload_group).any(|(o, &og)| og == g && o.placement.reads_host_group_counts());
                if !read {
                    groups.untrack_hosts(g);
                }
            }
        }
        let needs = scenario
            .task_definitions
            .iter()
            .map(|td| TaskNeeds {
                need: Resources { cpu_units: td.reserved_cpu_units(), memory_mib: td.reserved_memory_mib() },
                ports: td.static_host_ports(),
                eni: td.network_mode == NetworkMode::Awsvpc,
            })
            .collect();
        let streams = RngStreams::new(seed);
        let mut services = Vec::new();
        let mut service_of = Vec::new();
        for (i, w) in scenario.workloads.iter().enumerate() {
            if let Arrivals::Service { desired_count } = w.arrivals {
                service_of.push(Some(services.len() as u32));
                // ECS-REFERENCE §1.10: 250 tasks/min per service on EC2, 500 on Fargate.
                let rate = match w.launch_type {
                    LaunchType::Ec2 => scenario.service_scheduler.launch_rate_per_min,
                    LaunchType::Fargate => scenario.fargate.service_launch_rate_per_min,
                };
                services.push(ServiceState::new(i as u32, desired_count, rate, scenario.service_scheduler.retry_initial));
            } else {
                service_of.push(None);
            }
        }
        let azs = cluster.azs.len();
        let (mut reg_cpu, mut reg_mem) = (vec![0u64; azs], vec![0u64; azs]);
        for h in &cluster.hosts {
            reg_cpu[h.az.0 as usize] += u64::from(h.registered.cpu_units);
            reg_mem[h.az.0 as usize] += u64::from(h.registered.memory_mib);
        }
        let registered_total = Resources64 { cpu: reg_cpu.iter().sum(), mem: reg_mem.iter().sum() };
        let mut columns = vec!["time_s".to_string(), "tasks_running".into(), "tasks_pending".into(), "hosts_used".into()];
        for az in &cluster.azs {
            columns.push(format!("cpu_reserved_pct_{az}"));
        }
        for az in &cluster.azs {
            columns.push(format!("mem_reserved_pct_{az}"));
        }
        let subnets: Vec<Subnet> = scenario
            .network
            .iter()
            .flat_map(|n| &n.subnets)
            .map(|s| Subnet::new(s.name.clone(), s.az, s.cidr, s.public, s.nat_gateway))
            .collect();
        if !subnets.is_empty() {
            columns.push("task_enis".into());
            for s in &subnets {
                columns.push(format!("free_ips_{}", s.name));
            }
        }
        let network = scenario.network.as_ref();
        let workload_az_mask = scenario
            .workloads
            .iter()
            .map(|w| match network {
                Some(n) if !w.subnets.is_empty() => w.subnets.iter().fold(0u32, |m, s| m | az_bit(n.subnets[s.0 as usize].az)),
                _ => u32::MAX,
            })
            .collect();
        let from = scenario.warmup.0;
        World {
            scenario,
            options,
            placer,
            groups,
            queue: EventQueue::new(),
            tasks: Vec::new(),
            needs,
            workload_group,
            services,
            service_of,
            rng_placement: streams.stream("placement", 0),
            rng_arrivals: (0..scenario.workloads.len()).map(|i| streams.stream("arrivals", i as u64)).collect(),
            rng_run_time: (0..scenario.workloads.len()).map(|i| streams.stream("run_time", i as u64)).collect(),
            rng_eni: streams.stream("eni_attach", 0),
            warm: scenario.warmup == SimTime::ZERO,
            counts: [0; Metric::COUNT],
            failures: [0; PlacementFailure::ALL.len()],
            cpu_reserved: TimeWeighted::new(from),
            mem_reserved: TimeWeighted::new(from),
            hosts_used: TimeWeighted::new(from),
            reserved_cpu_by_az: vec![0; azs],
            reserved_mem_by_az: vec![0; azs],
            registered_cpu_by_az: reg_cpu,
            registered_mem_by_az: reg_mem,
            registered_total,
            reserved_total: Resources64::default(),
            hosts_busy: 0,
            running: 0,
            provisioning: 0,
            awaiting: 0,
            service_waits_s: Vec::new(),
            timeseries: TimeSeries::new(columns),
            decisions: Vec::new(),
            oracle_mismatches: 0,
            subnets,
            workload_az_mask,
            task_enis: 0,
            task_enis_peak: 0,
            fargate_bucket: TokenBucket::new(scenario.fargate.launch_burst, scenario.fargate.launch_rate_per_s),
            fargate_cpu_units: 0,
            cluster,
        }
    }

    fn now(&self) -> SimTime {
        self.queue.now()
    }

    fn count(&mut self, m: Metric) {
        if self.warm {
            self.counts[m as usize] += 1;
        }
    }

    fn start(&mut self) {
        let s = self.scenario;
        for (i, n) in self.infrastructure_ips().into_iter().enumerate() {
            for _ in 0..n {
                assert!(self.subnets[i].try_take(), "validation checked that the hosts fit their subnets");
            }
        }
        self.queue.schedule(s.warmup, Event::WarmupEnd);
        self.queue.schedule(SimTime::ZERO, Event::Sample);
        for (i, w) in s.workloads.iter().enumerate() {
            let workload = i as u32;
            match &w.arrivals {
                Arrivals::Poisson(schedule) => {
                    if let Some(t) = schedule.next_arrival(SimTime::ZERO, s.horizon, &mut self.rng_arrivals[i]) {
                        self.queue.schedule(t, Event::PoissonArrival { workload });
                    }
                }
                Arrivals::Batch { at, .. } => {
                    self.queue.schedule(*at, Event::BatchArrival { workload });
                }
                Arrivals::Trace(records) => {
                    if let Some(r) = records.first() {
                        self.queue.schedule(r.at, Event::TraceArrival { workload, record: 0 });
                    }
                }
                Arrivals::Service { desired_count } => {
                    let service = self.service_of[i].expect("service workload");
                    for _ in 0..*desired_count {
                        let task = self.new_task(workload, w.task_definition, None);
                        self.services[service as usize].waiting.push_back(task);
                    }
                    self.schedule_check(service, SimTime::ZERO);
                }
            }
        }
    }

    fn event_loop(&mut self) {
        let horizon = self.scenario.horizon;
        let debug_every = if cfg!(debug_assertions) { 5_000 } else { 0 };
        while let Some((t, event)) = self.queue.pop() {
            if t > horizon {
                break;
            }
            self.handle(event);
            if debug_every > 0 && self.queue.events_processed().is_multiple_of(debug_every) {
                self.check_invariants().expect("invariant broken during the run");
            }
        }
    }

    fn handle(&mut self, event: Event) {
        let now = self.now();
        let s = self.scenario;
        match event {
            Event::WarmupEnd => {
                self.warm = true;
                self.task_enis_peak = self.task_enis;
                for subnet in &mut self.subnets {
                    subnet.min_free = subnet.free();
                }
                self.cpu_reserved.start_window(now.0);
                self.mem_reserved.start_window(now.0);
                self.hosts_used.start_window(now.0);
            }
            Event::Sample => {
                self.sample();
                let next = now + s.sample_interval;
                if next <= s.horizon {
                    self.queue.schedule(next, Event::Sample);
                }
            }
            Event::PoissonArrival { workload } => {
                let w = &s.workloads[workload as usize];
                let task = self.new_task(workload, w.task_definition, None);
                self.run_task(task);
                if let Arrivals::Poisson(schedule) = &w.arrivals
                    && let Some(t) = schedule.next_arrival(now, s.horizon, &mut self.rng_arrivals[workload as usize])
                    && t <= s.horizon
                {
                    self.queue.schedule(t, Event::PoissonArrival { workload });
                }
            }
            Event::BatchArrival { workload } => {
                let w = &s.workloads[workload as usize];
                if let Arrivals::Batch { count, .. } = w.arrivals {
                    for _ in 0..count {
                        let task = self.new_task(workload, w.task_definition, None);
                        self.run_task(task);
                    }
                }
            }
            Event::TraceArrival { workload, record } => {
                let Arrivals::Trace(records) = &s.workloads[workload as usize].arrivals else {
                    unreachable!("trace event for a trace workload")
                };
                let r = &records[record as usize];
                for _ in 0..r.count {
                    let task = self.new_task(workload, r.task_definition, Some(r.run_time));
                    self.run_task(task);
                }
                if let Some(next) = records.get(record as usize + 1) {
                    self.queue.schedule(next.at, Event::TraceArrival { workload, record: record + 1 });
                }
            }
            Event::TaskStarted { task } => self.start_task(task),
            Event::EniReleased { task } => self.release_eni(task),
            Event::StartFailed { task, host, task_definition, workload } => self.stop_task(
                task,
                host,
                u32::from(task_definition),
                u32::from(workload),
                StopReason::InsufficientFreeAddresses,
                TaskState::Provisioning,
            ),
            Event::TaskFinished { task, host, task_definition, workload } => {
                self.stop_task(task, host, u32::from(task_definition), u32::from(workload), StopReason::Completed, TaskState::Running)
            }
            Event::ServiceCheck { service } => {
                self.services[service as usize].check = None;
                self.service_launch(service);
            }
        }
    }

    /// Creates a task record. Run times are drawn here, in arrival order, from the workload's
    /// own stream: a different placement strategy sees the same run times.
    fn new_task(&mut self, workload: u32, task_definition: u32, run_time: Option<SimTime>) -> TaskId {
        let id = TaskId(self.tasks.len() as u32);
        let run_time =
            run_time.or_else(|| self.scenario.workloads[workload as usize].run_time.sample(&mut self.rng_run_time[workload as usize]));
        self.tasks.push(Task {
            id,
            workload,
            task_definition,
            arrived_at: self.now(),
            placed_at: None,
            running_at: None,
            stopped_at: None,
            host: None,
            state: TaskState::AwaitingPlacement,
            stop_reason: None,
            run_time,
            subnet: None,
            ip: TaskIp::None,
        });
        self.awaiting += 1;
        self.count(Metric::TasksArrived);
        id
    }

    /// RunTask: launch now or drop.
    fn run_task(&mut self, task: TaskId) {
        let reason = match self.attempt(task) {
            Launch::Started | Launch::FailedToStart => return,
            Launch::NotPlaced => StopReason::PlacementFailed,
            Launch::Throttled => StopReason::FargateThrottled,
        };
        self.count(Metric::TasksFailed);
        let now = self.now();
        let t = &mut self.tasks[task.index()];
        t.state = TaskState::Stopped;
        t.stop_reason = Some(reason);
        t.stopped_at = Some(now);
        self.awaiting -= 1;
    }

    /// One launch: a placement decision on EC2, or a Fargate launch.
    fn attempt(&mut self, task: TaskId) -> Launch {
        let t = &self.tasks[task.index()];
        let workload = t.workload;
        if self.scenario.workloads[workload as usize].launch_type == LaunchType::Fargate {
            return self.launch_fargate(task);
        }
        let needs = &self.needs[t.task_definition as usize];
        let req = PlacementRequest {
            need: needs.need,
            ports: &needs.ports,
            eni: needs.eni,
            az_mask: self.workload_az_mask[workload as usize],
            group: self.workload_group[workload as usize],
            spec: &self.scenario.workloads[workload as usize].placement,
        };
        let view = ClusterView { cluster: &self.cluster, groups: &self.groups };
        let outcome = self.placer.decide(&req, &view, &mut self.rng_placement);
        if self.options.explain {
            let (explanation, best) = self.placer.explain(&req, &view);
            if let Ok(host) = outcome
                && !best.contains(&host)
            {
                self.oracle_mismatches += 1;
            }
            self.decisions.push(DecisionRow { time: self.queue.now(), task: task.0, workload, outcome, explanation });
        }
        self.count(Metric::PlacementAttempts);
        match outcome {
            Ok(host) => self.place(task, host),
            Err(reason) => {
                self.count(Metric::PlacementFailures);
                if self.warm {
                    self.failures[PlacementFailure::ALL.iter().position(|r| *r == reason).expect("listed")] += 1;
                }
                Launch::NotPlaced
            }
        }
    }

    fn place(&mut self, task: TaskId, host: HostId) -> Launch {
        let (td, workload) = {
            let t = &self.tasks[task.index()];
            (t.task_definition, t.workload)
        };
        let needs = &self.needs[td as usize];
        let (az, eni) = (self.cluster.host(host).az, needs.eni);
        let was_idle = self.cluster.host(host).task_count == 0;
        self.cluster.reserve(host, needs.need, &needs.ports, eni);
        self.placer.host_changed(&self.cluster, host);
        self.groups.add(self.workload_group[workload as usize], host, az);
        self.reserved_cpu_by_az[az.0 as usize] += u64::from(needs.need.cpu_units);
        self.reserved_mem_by_az[az.0 as usize] += u64::from(needs.need.memory_mib);
        if was_idle {
            self.hosts_busy += 1;
        }
        self.update_utilisation(i64::from(needs.need.cpu_units), i64::from(needs.need.memory_mib));
        self.count(Metric::TasksPlaced);
        let now = self.now();
        let t = &mut self.tasks[task.index()];
        t.state = TaskState::Provisioning;
        t.placed_at = Some(now);
        t.host = Some(host);
        self.awaiting -= 1;
        self.provisioning += 1;
        if eni {
            // The task ENI goes into the task's subnet in the host's AZ. Placement never looked at
            // free addresses (ECS-REFERENCE §2.5): a full subnet fails the task here, after it was
            // placed.
            let w = &self.scenario.workloads[workload as usize];
            let subnet = w
                .subnets
                .iter()
                .copied()
                .find(|s| self.subnets[s.0 as usize].az == az)
                .expect("LOCATION filter kept the host in a subnet's AZ");
            if !self.take_ip(task, subnet) {
                self.fail_start_later(task, host, td, workload);
                return Launch::FailedToStart;
            }
        }
        self.begin_provisioning(task, workload, eni);
        Launch::Started
    }

    /// Schedules RUNNING after the ENI attach (awsvpc) and the workload's start delay.
    fn begin_provisioning(&mut self, task: TaskId, workload: u32, eni: bool) {
        let mut delay = self.scenario.workloads[workload as usize].start_delay;
        if eni {
            delay = delay + self.eni_attach_delay();
        }
        if delay == SimTime::ZERO {
            self.start_task(task);
        } else {
            let now = self.now();
            self.queue.schedule(now + delay, Event::TaskStarted { task });
        }
    }

    fn start_task(&mut self, task: TaskId) {
        let now = self.now();
        let t = &mut self.tasks[task.index()];
        debug_assert_eq!(t.state, TaskState::Provisioning);
        t.state = TaskState::Running;
        t.running_at = Some(now);
        self.provisioning -= 1;
        self.running += 1;
        if let Some(run_time) = t.run_time {
            let host = t.host.unwrap_or(FARGATE);
            // Scenario validation caps workloads and task definitions at u16::MAX.
            let (task_definition, workload) = (t.task_definition as u16, t.workload as u16);
            self.queue.schedule(now + run_time, Event::TaskFinished { task, host, task_definition, workload });
        }
    }

    /// Stops a provisioning or running task: gives back its host resources (EC2) or its vCPUs
    /// (Fargate), starts its ENI clean-up, and lets its service know. Start failures come here
    /// too: ECS stops them the same way.
    ///
    /// The caller says what it knows (`was`: the task's state) so that stopping a task without an
    /// ENI never loads its cold record — on a million-task run that load is the hot path's main
    /// cache miss; the record is only written.
    fn stop_task(&mut self, task: TaskId, host: HostId, td: u32, workload: u32, reason: StopReason, was: TaskState) {
        let now = self.now();
        let needs = &self.needs[td as usize];
        let group = self.workload_group[workload as usize];
        let (subnet, ip) = if needs.eni || host == FARGATE {
            let t = &self.tasks[task.index()];
            (t.subnet, t.ip)
        } else {
            (None, TaskIp::None)
        };
        if host == FARGATE {
            if ip == TaskIp::Held {
                self.fargate_cpu_units -= u64::from(needs.need.cpu_units);
                let az = self.subnets[subnet.expect("an ENI has a subnet").0 as usize].az;
                self.groups.remove_hostless(group, az);
            }
        } else {
            let az = self.cluster.host(host).az;
            self.cluster.release(host, needs.need, &needs.ports, needs.eni);
            self.placer.host_changed(&self.cluster, host);
            self.groups.remove(group, host, az);
            self.reserved_cpu_by_az[az.0 as usize] -= u64::from(needs.need.cpu_units);
            self.reserved_mem_by_az[az.0 as usize] -= u64::from(needs.need.memory_mib);
            if self.cluster.host(host).task_count == 0 {
                self.hosts_busy -= 1;
            }
            self.update_utilisation(-i64::from(needs.need.cpu_units), -i64::from(needs.need.memory_mib));
        }
        if ip == TaskIp::Held {
            let s = subnet.expect("an ENI has a subnet");
            self.subnets[s.0 as usize].begin_release();
            let delay = self.scenario.network.as_ref().map_or(SimTime::ZERO, |n| n.eni_cleanup_delay);
            self.queue.schedule(now + delay, Event::EniReleased { task });
        }
        let t = &mut self.tasks[task.index()];
        debug_assert!(host == FARGATE || (t.host, t.task_definition, t.workload) == (Some(host), td, workload));
        debug_assert_eq!(t.state, was);
        match was {
            TaskState::Running => self.running -= 1,
            TaskState::Provisioning => self.provisioning -= 1,
            other => unreachable!("stopping a task in state {other:?}"),
        }
        t.state = TaskState::Stopped;
        t.stop_reason = Some(reason);
        t.stopped_at = Some(now);
        if ip == TaskIp::Held {
            t.ip = TaskIp::Releasing;
        }
        match reason {
            StopReason::Completed => self.count(Metric::TasksCompleted),
            StopReason::InsufficientFreeAddresses => self.count(Metric::StartFailedNoIps),
            _ => {}
        }
        let failed_to_start = matches!(reason, StopReason::InsufficientFreeAddresses | StopReason::FargateVcpuQuota);
        if let Some(service) = self.service_of[workload as usize]
            && !failed_to_start
        {
            // The service scheduler replaces a stopped task. (A task that failed to start is
            // replaced by `service_launch`, which also backs off.)
            self.services[service as usize].active -= 1;
            self.queue_replacement(service);
            if self.services[service as usize].check.is_none() {
                self.service_launch(service);
            }
        }
    }

    /// Launches waiting service tasks while the launch rate allows. A failed placement or a
    /// failed start backs off (doubling, capped at 15 minutes; ECS-REFERENCE §1.10); an empty
    /// Fargate launch bucket waits for its next token.
    fn service_launch(&mut self, service: u32) {
        let now = self.now();
        let si = service as usize;
        while let Some(&task) = self.services[si].waiting.front() {
            if !self.services[si].launches.try_take(now) {
                let at = self.services[si].launches.next_token_at(now);
                self.schedule_check(service, at);
                return;
            }
            match self.attempt(task) {
                Launch::Started => {
                    let svc = &mut self.services[si];
                    svc.waiting.pop_front();
                    svc.active += 1;
                    svc.backoff = self.scenario.service_scheduler.retry_initial;
                    if self.warm {
                        let t = &self.tasks[task.index()];
                        self.service_waits_s.push(now.saturating_sub(t.arrived_at).as_secs_f64());
                    }
                }
                Launch::Throttled => {
                    let at = self.fargate_bucket.next_token_at(now);
                    self.schedule_check(service, at);
                    return;
                }
                outcome @ (Launch::NotPlaced | Launch::FailedToStart) => {
                    if outcome == Launch::FailedToStart {
                        self.services[si].waiting.pop_front();
                        self.queue_replacement(service);
                    }
                    let backoff = self.services[si].backoff;
                    self.services[si].backoff = SimTime((backoff.0 * 2).min(self.scenario.service_scheduler.retry_max.0));
                    self.schedule_check(service, now + backoff);
                    return;
                }
            }
        }
    }

    /// The service wants a new task in place of one that stopped or failed to start.
    fn queue_replacement(&mut self, service: u32) {
        let w = self.services[service as usize].workload;
        let td = self.scenario.workloads[w as usize].task_definition;
        let replacement = self.new_task(w, td, None);
        self.services[service as usize].waiting.push_back(replacement);
    }

    fn schedule_check(&mut self, service: u32, at: SimTime) {
        if let Some(old) = self.services[service as usize].check.take() {
            self.queue.cancel(old);
        }
        let id = self.queue.schedule(at, Event::ServiceCheck { service });
        self.services[service as usize].check = Some(id);
    }

    /// `delta_*`: what was just reserved (positive) or released (negative), cluster-wide.
    fn update_utilisation(&mut self, delta_cpu: i64, delta_mem: i64) {
        let now = self.now().0;
        self.reserved_total.cpu = self.reserved_total.cpu.wrapping_add_signed(delta_cpu);
        self.reserved_total.mem = self.reserved_total.mem.wrapping_add_signed(delta_mem);
        self.cpu_reserved.set(now, ratio(self.reserved_total.cpu, self.registered_total.cpu));
        self.mem_reserved.set(now, ratio(self.reserved_total.mem, self.registered_total.mem));
        self.hosts_used.set(now, f64::from(self.hosts_busy));
    }

    fn sample(&mut self) {
        let mut row = Vec::with_capacity(self.timeseries.columns.len());
        row.push(self.now().as_secs_f64());
        row.push(f64::from(self.running));
        row.push(f64::from(self.awaiting + self.provisioning));
        row.push(f64::from(self.hosts_busy));
        for az in 0..self.cluster.azs.len() {
            row.push(100.0 * ratio(self.reserved_cpu_by_az[az], self.registered_cpu_by_az[az]));
        }
        for az in 0..self.cluster.azs.len() {
            row.push(100.0 * ratio(self.reserved_mem_by_az[az], self.registered_mem_by_az[az]));
        }
        if !self.subnets.is_empty() {
            row.push(f64::from(self.task_enis));
            row.extend(self.subnets.iter().map(|s| f64::from(s.free())));
        }
        self.timeseries.push(row);
    }

    fn finish(mut self, seed: u64) -> RunResult {
        let end = self.scenario.horizon.0;
        let mut m = MetricValues::default();
        for metric in Metric::ALL {
            m.set(*metric, self.counts[*metric as usize] as f64);
        }
        let attempts = self.counts[Metric::PlacementAttempts as usize];
        let failures = self.counts[Metric::PlacementFailures as usize];
        m.set(Metric::PlacementFailureRate, if attempts == 0 { 0.0 } else { failures as f64 / attempts as f64 });
        for (i, reason) in PlacementFailure::ALL.iter().enumerate() {
            let metric = match reason {
                PlacementFailure::ResourceCpu => Metric::FailedResourceCpu,
                PlacementFailure::ResourceMemory => Metric::FailedResourceMemory,
                PlacementFailure::ResourcePorts => Metric::FailedResourcePorts,
                PlacementFailure::ResourceEni => Metric::FailedResourceEni,
                PlacementFailure::Location => Metric::FailedLocation,
                PlacementFailure::DistinctInstance => Metric::FailedDistinctInstance,
                PlacementFailure::MemberOf => Metric::FailedMemberOf,
                PlacementFailure::NoContainerInstances => continue,
            };
            m.set(metric, self.failures[i] as f64);
        }
        m.set(Metric::CpuReservedMean, self.cpu_reserved.mean(end));
        m.set(Metric::CpuReservedPeak, self.cpu_reserved.peak());
        m.set(Metric::MemReservedMean, self.mem_reserved.mean(end));
        m.set(Metric::MemReservedPeak, self.mem_reserved.peak());
        m.set(Metric::HostsUsedMean, self.hosts_used.mean(end));
        m.set(Metric::HostsUsedPeak, self.hosts_used.peak());
        self.service_waits_s.sort_by(f64::total_cmp);
        let waits = &self.service_waits_s;
        let has_services = !self.services.is_empty();
        let or_nan = |v: f64| if has_services { v } else { f64::NAN };
        m.set(Metric::ServiceWaitMean, or_nan(if waits.is_empty() { 0.0 } else { waits.iter().sum::<f64>() / waits.len() as f64 }));
        m.set(Metric::ServiceWaitP95, or_nan(if waits.is_empty() { 0.0 } else { stats::quantile_sorted(waits, 0.95) }));
        m.set(Metric::ServiceWaitMax, or_nan(waits.last().copied().unwrap_or(0.0)));
        m.set(Metric::ServiceTasksUnplaced, self.awaiting as f64);
        m.set(Metric::Events, self.queue.events_processed() as f64);
        let has_network = !self.subnets.is_empty();
        // Over the subnets task ENIs use: a small public subnet holding only a NAT gateway would
        // otherwise always be the minimum.
        let min_free = self.scenario.workloads.iter().flat_map(|w| &w.subnets).map(|s| self.subnets[s.0 as usize].min_free).min();
        m.set(Metric::MinFreeIps, min_free.map_or(f64::NAN, f64::from));
        m.set(Metric::TaskEnisPeak, if has_network { f64::from(self.task_enis_peak) } else { f64::NAN });
        let tasks = if self.options.record_tasks {
            self.tasks
                .iter()
                .map(|t| TaskRow {
                    task: t.id.0,
                    workload: t.workload,
                    task_definition: t.task_definition,
                    arrived_at: t.arrived_at,
                    placed_at: t.placed_at,
                    running_at: t.running_at,
                    stopped_at: t.stopped_at,
                    host: t.host,
                    az: t.host.map(|h| self.cluster.host(h).az).or(t.subnet.map(|s| self.subnets[s.0 as usize].az)),
                    subnet: t.subnet,
                    ip: t.ip,
                    stop_reason: t.stop_reason,
                })
                .collect()
        } else {
            Vec::new()
        };
        let subnets = self
            .subnets
            .iter()
            .enumerate()
            .map(|(i, s)| SubnetRow { subnet: SubnetId(i as u32), usable: s.usable, min_free: s.min_free, free_at_end: s.free() })
            .collect();
        RunResult { seed, metrics: m, timeseries: self.timeseries, tasks, decisions: self.decisions, subnets }
    }
}

fn az_bit(az: AzId) -> u32 {
    if az.0 < 32 { 1 << az.0 } else { u32::MAX }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_stay_16_bytes_so_queue_entries_stay_32() {
        // results/bench/README.md and the TaskFinished design rely on it.
        assert_eq!(std::mem::size_of::<Event>(), 16);
    }
}
