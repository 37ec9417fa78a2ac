//! The coordinator of one run: it holds the parts, the event queue and the placement stream,
//! runs the loop, and dispatches each event to the handler of the part it belongs to.
//!
//! The handlers that call more than one part live in `launch.rs` (arrival → placement or
//! Fargate admission → address → RUNNING) and `stop.rs` (STOPPED → resources, address clean-up,
//! the service's replacement). Everything else is a call into one part.
//!
//! Architecture invariant: this is the only place where the parts meet; a part's fields are
//! private to its file.

use rand_chacha::ChaCha8Rng;

use super::addresses::{AddressEvent, Addresses};
use super::autoscaling::{AutoScaling, AutoScalingEvent};
use super::capacity::{Capacity, CapacityEvent};
use super::cpu::{Cpu, CpuEvent};
use super::deployments::Deployments;
use super::egress::{Egress, EgressEvent};
use super::failures::{FailureEvent, Failures};
use super::fargate::Fargate;
use super::fleet::Fleet;
use super::lifecycle::{Lifecycle, TaskEvent};
use super::memory::{Memory, MemoryEvent};
use super::recorder::{FargateShare, FinishContext, Recorder, RecorderEvent};
use super::result::{ProviderRow, RunOptions, RunResult, SubnetRow, TaskRow};
use super::services::{ServiceEvent, Services};
use super::workloads::{WorkloadEvent, Workloads};
use crate::engine::{EventQueue, RngStreams, SimTime};
use crate::model::{StopReason, SubnetId, TaskState};
use crate::scenario::Scenario;
use crate::scenario::capacity::FARGATE;
use crate::workload::Arrivals;

/// Every event of a run: each part's own events, side by side. Nested enums keep it at 16 bytes
/// (a queue entry stays 32), checked by a test below.
#[derive(Debug, Clone, Copy)]
pub(super) enum Event {
    Recorder(RecorderEvent),
    Workload(WorkloadEvent),
    Task(TaskEvent),
    Address(AddressEvent),
    Service(ServiceEvent),
    Egress(EgressEvent),
    Memory(MemoryEvent),
    Cpu(CpuEvent),
    Failure(FailureEvent),
    Capacity(CapacityEvent),
    AutoScaling(AutoScalingEvent),
}

impl Event {
    /// The task of an event that may still be queued once its task has stopped, so that the
    /// task's record must outlive it. (The end of a run time and CPU work completion are
    /// cancelled when their task stops; flow events name flows.)
    pub(super) fn names_task(&self) -> Option<crate::model::TaskId> {
        match *self {
            Event::Task(
                TaskEvent::Started { task }
                | TaskEvent::StartFailed { task, .. }
                | TaskEvent::Healthy { task }
                | TaskEvent::Unhealthy { task, .. }
                | TaskEvent::Deregistered { task }
                | TaskEvent::Exited { task }
                | TaskEvent::SpotWarning { task }
                | TaskEvent::ExitsAfterNotice { task },
            )
            | Event::Address(AddressEvent::EniReleased { task })
            | Event::Capacity(CapacityEvent::Timeout { task })
            | Event::Egress(
                EgressEvent::PullsBegin { task, .. } | EgressEvent::PullTimedOut { task } | EgressEvent::PullDeadline { task },
            )
            | Event::Memory(MemoryEvent::Start { task } | MemoryEvent::UsageChange { task, .. }) => Some(task),
            _ => None,
        }
    }
}

pub(super) struct World<'s> {
    pub(super) scenario: &'s Scenario,
    pub(super) options: RunOptions,
    pub(super) queue: EventQueue<Event>,
    /// Placement tie-breaks, EC2 and Fargate's subnet choice alike.
    pub(super) rng_placement: ChaCha8Rng,
    pub(super) workloads: Workloads,
    pub(super) tasks: Lifecycle,
    pub(super) fleet: Fleet,
    pub(super) addresses: Addresses,
    pub(super) fargate: Fargate,
    pub(super) services: Services,
    /// Rolling deployments of the services that have any.
    pub(super) deployments: Deployments,
    /// Reused buffer: serials of the tasks one service launch round started.
    pub(super) started_serials: Vec<u32>,
    /// Image pulls and logs; `None` when the scenario has no `[images]` or `[logs]`.
    pub(super) egress: Option<Egress>,
    /// Reused buffer of flow event changes.
    pub(super) flow_changes: Vec<(crate::model::egress::FlowId, u32, Option<SimTime>)>,
    /// Reused buffer: pull-flow events a stopping task's flows no longer need.
    pub(super) flow_events_to_cancel: Vec<crate::engine::EventId>,
    /// Reused buffers: pull deadlines to schedule; run-time ends moved by blocked log writes.
    pub(super) pull_deadlines: Vec<(crate::model::TaskId, SimTime)>,
    pub(super) run_end_changes: Vec<(crate::model::TaskId, Option<SimTime>)>,
    /// Reused buffer: tasks whose pulls one flow event completed.
    pub(super) pulls_finished: Vec<crate::model::TaskId>,
    /// Present when the scenario models memory usage (`[memory]`).
    pub(super) memory: Option<Memory>,
    /// Present when the scenario models CPU contention (`[cpu]`).
    pub(super) cpu: Option<Cpu>,
    /// Present when the scenario models host failures or AZ outages (`[failures]`).
    pub(super) failures: Option<Failures>,
    /// Present when the scenario has capacity providers (`[capacity_providers]`).
    pub(super) capacity: Option<Capacity>,
    /// Present when a service has `auto_scaling`.
    pub(super) autoscaling: Option<AutoScaling>,
    /// Fargate Spot tasks are interrupted (`[fargate_spot] interruptions_per_task_hour` > 0).
    pub(super) spot_interrupts: bool,
    /// Tasks replaced by their services before they stop (Spot notices, instance drains) and
    /// not stopped yet: while there are any, a stop checks whether its service was told.
    pub(super) replaced_early: u32,
    /// Services' running counts are followed against their desired counts (`recovery_threshold`).
    pub(super) tracks_recovery: bool,
    /// Failures, capacity providers or service auto scaling can stop a task while one of its
    /// lifecycle events is queued.
    stops_tasks_early: bool,
    /// Service auto scaling or Spot interruptions act when a task starts running.
    pub(super) running_hooks: bool,
    /// The first broken invariant found during the run (checked after outage events).
    pub(super) broken: Option<String>,
    pub(super) recorder: Recorder,
}

/// Runs `scenario` with `seed`. An `Err` is a broken invariant: a bug in the simulator, never a
/// property of the input.
pub fn run(scenario: &Scenario, seed: u64, options: RunOptions) -> Result<RunResult, String> {
    let mut world = World::new(scenario, seed, options);
    world.start();
    world.fold_done();
    world.event_loop();
    if let Some(e) = world.broken.take() {
        return Err(e);
    }
    world.check_invariants()?;
    Ok(world.finish(seed))
}

impl<'s> World<'s> {
    fn new(scenario: &'s Scenario, seed: u64, options: RunOptions) -> World<'s> {
        let streams = RngStreams::new(seed);
        let fleet = Fleet::new(scenario);
        let mut addresses = Addresses::new(scenario, &streams);
        addresses.take_infrastructure(scenario, fleet.cluster());
        let egress = Egress::new(scenario, fleet.cluster());
        let nat_azs = egress.as_ref().map(Egress::nat_azs).unwrap_or_default();
        let recorder = Recorder::new(scenario, fleet.cluster(), addresses.subnets(), &nat_azs);
        let memory = Memory::new(scenario, fleet.cluster(), &streams);
        let cpu = Cpu::new(scenario, fleet.cluster());
        let failures = scenario.failures.as_ref().map(|f| Failures::new(f, fleet.cluster(), &streams));
        let capacity = Capacity::new(scenario, fleet.cluster(), &streams);
        let services = Services::new(scenario);
        let autoscaling = AutoScaling::new(scenario, |w| services.of_workload(w));
        let deployments = Deployments::new(scenario, services.all().iter().map(|s| (s.workload, s.desired)), &streams);
        World {
            scenario,
            options,
            queue: EventQueue::new(),
            rng_placement: streams.stream("placement", 0),
            workloads: Workloads::new(scenario, &streams),
            tasks: Lifecycle::new(!options.record_tasks),
            fleet,
            addresses,
            fargate: Fargate::new(scenario),
            services,
            deployments,
            started_serials: Vec::new(),
            egress,
            flow_changes: Vec::new(),
            flow_events_to_cancel: Vec::new(),
            pull_deadlines: Vec::new(),
            run_end_changes: Vec::new(),
            pulls_finished: Vec::new(),
            memory,
            cpu,
            failures,
            capacity,
            autoscaling,
            spot_interrupts: scenario.capacity.fargate_spot.interruptions_per_task_hour > 0.0,
            replaced_early: 0,
            tracks_recovery: scenario.recovery_threshold().is_some(),
            stops_tasks_early: scenario.failures.is_some()
                || !scenario.capacity.is_empty()
                || scenario.auto_scaling.iter().any(Option::is_some),
            running_hooks: scenario.auto_scaling.iter().any(Option::is_some)
                || scenario.capacity.fargate_spot.interruptions_per_task_hour > 0.0,
            broken: None,
            recorder,
        }
    }

    pub(super) fn now(&self) -> SimTime {
        self.queue.now()
    }

    /// Schedules an event that names a task (see [`Event::names_task`]): the task's record is
    /// kept until the event has been handled.
    pub(super) fn schedule_for_task(&mut self, at: SimTime, event: Event) {
        let task = event.names_task().expect("an event that names a task");
        self.tasks.pin(task);
        self.queue.schedule(at, event);
    }

    /// Folds the tasks that stopped for good during the last event into the run's totals and
    /// frees their slots.
    fn fold_done(&mut self) {
        while let Some(id) = self.tasks.next_done() {
            let t = self.tasks.get(id);
            self.recorder.task_done(t, fargate_share(self.scenario, t));
            self.tasks.free(id);
        }
    }

    fn start(&mut self) {
        // First: an outage that starts at 0 is in force before anything is placed.
        self.start_failures();
        let s = self.scenario;
        self.queue.schedule(s.warmup, Event::Recorder(RecorderEvent::WarmupEnd));
        self.queue.schedule(SimTime::ZERO, Event::Recorder(RecorderEvent::Sample));
        if self.egress.is_some() {
            for o in &s.egress.nat_outages {
                self.queue.schedule(o.start, Event::Egress(EgressEvent::NatOutage { az: o.az, up: false }));
                if o.end <= s.horizon {
                    self.queue.schedule(o.end, Event::Egress(EgressEvent::NatOutage { az: o.az, up: true }));
                }
            }
        }
        for (i, w) in s.workloads.iter().enumerate() {
            let workload = i as u32;
            if let Arrivals::Service { desired_count } = w.arrivals {
                let service = self.services.of_workload(workload).expect("service workload");
                let rollout = self.deployments.rollout(service).is_some();
                for _ in 0..desired_count {
                    let task = self.new_task(workload, w.task_definition, None);
                    self.services.want(service, task);
                    if rollout {
                        self.deployments.wanted(service, task);
                    }
                }
                self.schedule_check(service, SimTime::ZERO);
            } else if let Some((t, e)) = self.workloads.first_arrival(s, workload) {
                self.queue.schedule(t, Event::Workload(e));
            }
        }
        self.schedule_deployments();
        self.schedule_load_balancers();
        self.start_capacity();
        self.start_service_scaling();
    }

    fn event_loop(&mut self) {
        let horizon = self.scenario.horizon;
        let debug_every = if cfg!(debug_assertions) { 5_000 } else { 0 };
        while let Some((t, event)) = self.queue.pop() {
            if t > horizon {
                break;
            }
            self.prefetch_next();
            match event {
                Event::Recorder(e) => self.on_recorder(e),
                Event::Workload(e) => self.on_arrival(e),
                Event::Task(e) => self.on_task(e),
                Event::Address(AddressEvent::EniReleased { task }) => self.release_eni(task),
                Event::Address(AddressEvent::LbScale { lb, per_az }) => self.on_lb(lb, Some(per_az)),
                Event::Address(AddressEvent::LbRetry { lb }) => self.on_lb(lb, None),
                Event::Service(e) => self.on_service(e),
                Event::Egress(e) => self.on_egress(e),
                Event::Memory(e) => self.on_memory(e),
                Event::Cpu(e) => self.on_cpu(e),
                Event::Failure(e) => self.on_failure(e),
                Event::Capacity(e) => self.on_capacity(e),
                Event::AutoScaling(e) => self.on_auto_scaling(e),
            }
            if let Some(task) = event.names_task() {
                self.tasks.unpin(task);
            }
            if self.tasks.has_done() {
                self.fold_done();
            }
            if debug_every > 0 && self.queue.events_processed().is_multiple_of(debug_every) {
                self.check_invariants().expect("invariant broken during the run");
            }
        }
    }

    /// Starts loading what the next event will read — its task's record, and its host when it
    /// ends a run — while this one is handled. A task stops minutes after it last touched
    /// them, so both are usually out of the cache: waiting for them was the largest single
    /// cost of a stop. A hint only; it changes nothing.
    #[inline]
    fn prefetch_next(&self) {
        let Some(&next) = self.queue.peek_next() else { return };
        match next {
            Event::Task(TaskEvent::Finished { task, host, .. } | TaskEvent::StartFailed { task, host, .. }) => {
                self.tasks.prefetch(task);
                self.fleet.prefetch(host);
                if let Some(egress) = &self.egress {
                    egress.prefetch_task(task);
                }
            }
            Event::Egress(EgressEvent::Flow { flow, .. }) => {
                if let Some(egress) = &self.egress {
                    egress.prefetch_flow(flow);
                }
            }
            Event::Egress(EgressEvent::PullsBegin { task, host }) => {
                self.tasks.prefetch(task);
                if let Some(egress) = &self.egress {
                    egress.prefetch(task, host);
                }
            }
            _ => {
                if let Some(task) = next.names_task() {
                    self.tasks.prefetch(task);
                }
            }
        }
    }

    fn on_recorder(&mut self, event: RecorderEvent) {
        let now = self.now();
        match event {
            RecorderEvent::WarmupEnd => self.recorder.warmup_ended(now, self.addresses.subnets()),
            RecorderEvent::Sample => {
                if let Some(cpu) = &self.cpu {
                    self.recorder.container_cpu_sampled(cpu.container_rates());
                }
                let nat = self.egress.as_ref().map(Egress::nat_load).unwrap_or_default();
                let stopping = self.deployments.is_active().then(|| self.deployments.stopping_now());
                let capacity = self.capacity_sample();
                self.recorder.sample(now, self.addresses.subnets(), &nat, stopping, &capacity);
                let next = now + self.scenario.sample_interval;
                if next <= self.scenario.horizon {
                    self.queue.schedule(next, Event::Recorder(RecorderEvent::Sample));
                }
            }
        }
    }

    fn on_arrival(&mut self, event: WorkloadEvent) {
        let s = self.scenario;
        match event {
            WorkloadEvent::Poisson { workload } => {
                let task = self.new_task(workload, s.workloads[workload as usize].task_definition, None);
                self.run_task(task);
                if let Some((t, e)) = self.workloads.next_poisson(s, workload, self.now()) {
                    self.queue.schedule(t, Event::Workload(e));
                }
            }
            WorkloadEvent::Batch { workload } => {
                let w = &s.workloads[workload as usize];
                if let Arrivals::Batch { count, .. } = w.arrivals {
                    for _ in 0..count {
                        let task = self.new_task(workload, w.task_definition, None);
                        self.run_task(task);
                    }
                }
            }
            WorkloadEvent::Trace { workload, record } => {
                let Arrivals::Trace(records) = &s.workloads[workload as usize].arrivals else {
                    unreachable!("trace event for a trace workload")
                };
                let r = &records[record as usize];
                for _ in 0..r.count {
                    let task = self.new_task(workload, r.task_definition, Some(r.run_time));
                    self.run_task(task);
                }
                if let Some(next) = records.get(record as usize + 1) {
                    self.queue.schedule(next.at, Event::Workload(WorkloadEvent::Trace { workload, record: record + 1 }));
                }
            }
        }
    }

    fn on_task(&mut self, event: TaskEvent) {
        // Only a failure or a deployment stops a task while its start is still queued (an OOM
        // kill, a failure or a deployment cancels the end of a task's run time).
        if (self.stops_tasks_early || self.deployments.is_active()) && self.stale(event) {
            return;
        }
        match event {
            TaskEvent::Healthy { .. } | TaskEvent::Unhealthy { .. } | TaskEvent::Deregistered { .. } | TaskEvent::Exited { .. } => {
                self.on_rollout_task(event)
            }
            TaskEvent::Started { task } => self.start_task(task),
            TaskEvent::SpotWarning { task } => self.spot_warning(task),
            TaskEvent::ExitsAfterNotice { task } => self.exits_after_notice(task),
            TaskEvent::StartFailed { task, host, task_definition, workload } => self.stop_task(
                task,
                host,
                u32::from(task_definition),
                u32::from(workload),
                StopReason::InsufficientFreeAddresses,
                TaskState::Provisioning,
            ),
            TaskEvent::Finished { task, host, task_definition, workload } => {
                self.stop_task(task, host, u32::from(task_definition), u32::from(workload), StopReason::Completed, TaskState::Running)
            }
        }
    }

    /// With failures a task can stop while one of its lifecycle events is still queued (its host
    /// failed while it provisioned): that event is for a task that no longer exists.
    fn stale(&self, event: TaskEvent) -> bool {
        self.tasks.get(event.task()).state == TaskState::Stopped
    }

    fn finish(mut self, seed: u64) -> RunResult {
        let task_subnets: Vec<SubnetId> = self.scenario.workloads.iter().flat_map(|w| w.subnets.iter().copied()).collect();
        let events = self.queue.events_processed();
        let task_records = self.tasks.slots();
        let tasks = if self.options.record_tasks {
            let (cluster, subnets) = (self.fleet.cluster(), self.addresses.subnets());
            self.tasks
                .live()
                .map(|t| TaskRow {
                    task: t.serial,
                    workload: t.workload,
                    task_definition: t.task_definition,
                    arrived_at: t.arrived_at,
                    placed_at: t.placed_at,
                    running_at: t.running_at,
                    stopped_at: t.stopped_at,
                    host: t.host,
                    az: t.host.map(|h| cluster.host(h).az).or(t.subnet.map(|s| subnets[s.0 as usize].az)),
                    subnet: t.subnet,
                    ip: t.ip,
                    stop_reason: t.stop_reason,
                })
                .collect()
        } else {
            Vec::new()
        };
        let free_at_end: Vec<(u32, u32)> = self.addresses.subnets().iter().map(|s| (s.usable, s.free())).collect();
        let still_waiting_since: Vec<SimTime> =
            self.services.all().iter().flat_map(|svc| svc.waiting.iter().map(|&t| self.tasks.get(t).arrived_at)).collect();
        self.fold_done();
        for t in self.tasks.live() {
            self.recorder.task_done(t, fargate_share(self.scenario, t));
        }
        let totals = self.egress.as_mut().map(|e| e.totals(self.scenario.horizon));
        let usage = self.usage(totals.as_ref());
        let bill = crate::model::cost::bill(&self.scenario.egress.prices, &usage);
        let providers = self.provider_rows(usage.run_hours);
        let mut deployment_metrics = Vec::new();
        let deployments = self.deployment_results(&mut deployment_metrics);
        let service_events = std::mem::take(&mut self.deployments.events);
        let ctx = FinishContext {
            events,
            has_services: !self.services.is_empty(),
            task_subnets: &task_subnets,
            egress: totals.as_ref(),
            bill: &bill,
        };
        let mut done = self.recorder.finish(self.scenario.horizon, &still_waiting_since, ctx);
        for (metric, value) in deployment_metrics {
            done.metrics.set(metric, value);
        }
        if !self.scenario.capacity.providers.iter().any(|p| p.spot.is_some()) {
            done.metrics.set(crate::metrics::Metric::Ec2SpotInterruptions, f64::NAN);
        }
        if !self.scenario.load_balancers.is_empty() {
            let (peak, short) = self.addresses.lb_figures();
            done.metrics.set(crate::metrics::Metric::LbAddressesPeak, f64::from(peak));
            let scaled = self.scenario.load_balancers.iter().any(|l| !l.scaling.is_empty());
            done.metrics.set(crate::metrics::Metric::LbScaleUpsShort, if scaled { f64::from(short) } else { f64::NAN });
        } else {
            done.metrics.set(crate::metrics::Metric::LbAddressesPeak, f64::NAN);
            done.metrics.set(crate::metrics::Metric::LbScaleUpsShort, f64::NAN);
        }
        if let Some(c) = &self.capacity {
            let hours: f64 = c.asgs.iter().map(|a| a.instance_time_at(self.scenario.horizon).as_secs_f64() / 3600.0).sum();
            done.metrics.set(crate::metrics::Metric::InstanceHours, hours);
        }
        let subnets = free_at_end
            .iter()
            .zip(&done.min_free)
            .enumerate()
            .map(|(i, (&(usable, free_at_end), &min_free))| SubnetRow { subnet: SubnetId(i as u32), usable, min_free, free_at_end })
            .collect();
        RunResult {
            seed,
            metrics: done.metrics,
            timeseries: done.timeseries,
            tasks,
            decisions: done.decisions,
            subnets,
            deployments,
            service_events,
            providers,
            task_records,
        }
    }
}

/// What a Fargate task is billed for besides its duration; `None` for an EC2 task.
fn fargate_share(s: &Scenario, t: &crate::model::Task) -> Option<FargateShare> {
    if s.workloads[t.workload as usize].launch_type != crate::workload::LaunchType::Fargate {
        return None;
    }
    let td = &s.task_definitions[t.task_definition as usize];
    Some(FargateShare {
        cpu_units: td.cpu_units.unwrap_or(0),
        memory_mib: td.memory_mib.unwrap_or(0),
        arm: td.cpu_architecture == crate::model::taskdef::CpuArchitecture::Arm64,
        public_ip: s.egress.workloads[t.workload as usize].assign_public_ip,
        spot: t.spot,
    })
}

impl World<'_> {
    /// Per capacity provider, what it used and cost, priced as in [`World::usage`]: each Auto
    /// Scaling group provider (name order), the hosts outside them, then FARGATE (every Fargate
    /// task not on Spot, launch type or provider) and FARGATE_SPOT when a strategy names it.
    /// Empty without capacity providers.
    fn provider_rows(&self, run_hours: f64) -> Vec<ProviderRow> {
        let s = self.scenario;
        if s.capacity.is_empty() {
            return Vec::new();
        }
        let month = |run: f64| if run_hours > 0.0 { run * crate::model::cost::HOURS_PER_MONTH / run_hours } else { 0.0 };
        // Per provider, then the hosts outside them: instance time (exact) and USD.
        let mut ec2: Vec<(SimTime, f64)> = vec![(SimTime::ZERO, 0.0); s.capacity.providers.len() + 1];
        for h in &self.fleet.cluster().hosts {
            let provider = self.capacity.as_ref().and_then(|c| c.provider_of_host_group(h.group).map(|p| (c, p)));
            let (slot, time, fraction) = match provider {
                Some((c, p)) => (
                    p as usize,
                    c.asgs[p as usize].instance_time_of(h.id, s.horizon),
                    s.capacity.providers[p as usize].spot.map_or(1.0, |sp| sp.price_fraction),
                ),
                None => (s.capacity.providers.len(), s.horizon, 1.0),
            };
            ec2[slot].0 = ec2[slot].0 + time;
            ec2[slot].1 += s.instance_types[h.instance_type as usize].hourly_usd * fraction * (time.as_secs_f64() / 3600.0);
        }
        let mut rows = Vec::new();
        let fixed_hosts =
            self.fleet.cluster().hosts.iter().any(|h| self.capacity.as_ref().is_none_or(|c| c.provider_of_host_group(h.group).is_none()));
        for (i, &(time, usd)) in ec2.iter().enumerate() {
            let (name, pricing) = match s.capacity.providers.get(i) {
                Some(p) => (p.name.clone(), if p.spot.is_some() { "spot" } else { "on_demand" }),
                None if fixed_hosts => (ProviderRow::NO_PROVIDER.to_string(), "on_demand"),
                None => continue,
            };
            rows.push(ProviderRow {
                name,
                kind: "ec2",
                pricing,
                instance_hours: Some(time.as_secs_f64() / 3600.0),
                vcpu_hours: None,
                memory_gb_hours: None,
                cost_run_usd: usd,
                cost_month_usd: month(usd),
            });
        }
        let prices = &s.egress.prices;
        let f = self.recorder.fargate_usage();
        // Tasks of a Fargate workload run on FARGATE unless its strategy names only FARGATE_SPOT.
        let on_demand_fargate = s.workloads.iter().enumerate().any(|(i, w)| {
            w.launch_type == crate::workload::LaunchType::Fargate
                && s.capacity.workload_strategies.get(i).is_none_or(|st| st.is_empty() || st.iter().any(|it| it.provider == FARGATE))
        });
        if on_demand_fargate {
            let usd = f.x86_vcpu_hours() * prices.fargate_x86_vcpu_hour
                + f.arm_vcpu_hours() * prices.fargate_arm_vcpu_hour
                + (f.x86_gb_hours() * prices.fargate_x86_gb_hour + f.arm_gb_hours() * prices.fargate_arm_gb_hour);
            rows.push(ProviderRow {
                name: "FARGATE".to_string(),
                kind: "fargate",
                pricing: "on_demand",
                instance_hours: None,
                vcpu_hours: Some(f.x86_vcpu_hours() + f.arm_vcpu_hours()),
                memory_gb_hours: Some(f.x86_gb_hours() + f.arm_gb_hours()),
                cost_run_usd: usd,
                cost_month_usd: month(usd),
            });
        }
        if s.capacity.uses_spot() {
            let spot = 1.0 - prices.fargate_spot_discount;
            let usd = f.spot_vcpu_hours() * prices.fargate_x86_vcpu_hour * spot + f.spot_gb_hours() * prices.fargate_x86_gb_hour * spot;
            rows.push(ProviderRow {
                name: "FARGATE_SPOT".to_string(),
                kind: "fargate",
                pricing: "spot",
                instance_hours: None,
                vcpu_hours: Some(f.spot_vcpu_hours()),
                memory_gb_hours: Some(f.spot_gb_hours()),
                cost_run_usd: usd,
                cost_month_usd: month(usd),
            });
        }
        rows
    }

    /// What the run used, for the bill: every host and NAT gateway for the whole horizon,
    /// Fargate tasks from acceptance to stop, public addresses, endpoints, and metered bytes.
    fn usage(&self, totals: Option<&super::egress::EgressTotals>) -> crate::model::cost::Usage {
        let s = self.scenario;
        let horizon = s.horizon;
        let hours = horizon.as_secs_f64() / 3600.0;
        let mut u = crate::model::cost::Usage { run_hours: hours, ..Default::default() };
        let subnets = s.network.as_ref().map(|n| n.subnets.as_slice()).unwrap_or(&[]);
        for h in &self.fleet.cluster().hosts {
            // An Auto Scaling group's instances are billed from launch to termination, EC2 Spot
            // ones at their fraction of the On-Demand price.
            let provider = self.capacity.as_ref().and_then(|c| c.provider_of_host_group(h.group).map(|p| (c, p)));
            let h_hours = match provider {
                Some((c, p)) => c.asgs[p as usize].instance_time_of(h.id, horizon).as_secs_f64() / 3600.0,
                None => hours,
            };
            let spot = provider.and_then(|(_, p)| s.capacity.providers[p as usize].spot);
            let price = s.instance_types[h.instance_type as usize].hourly_usd * spot.map_or(1.0, |sp| sp.price_fraction);
            u.ec2_instance_usd += price * h_hours;
            if h.subnet.is_some_and(|id| subnets[id.0 as usize].public) {
                u.public_ipv4_hours += h_hours;
            }
        }
        let nats = subnets.iter().filter(|n| n.nat_gateway).count() as f64;
        // Each NAT gateway also holds an Elastic IP.
        u.nat_gateway_hours += nats * hours;
        u.public_ipv4_hours += nats * hours;
        if let Some(n) = s.network.as_ref() {
            let e = &n.egress.endpoints;
            let azs = if e.azs.is_empty() { s.azs.len() } else { e.azs.len() };
            u.interface_endpoint_az_hours += f64::from(e.interface_endpoints_per_az()) * azs as f64 * hours;
        }
        let f = self.recorder.fargate_usage();
        u.fargate_x86_vcpu_hours = f.x86_vcpu_hours();
        u.fargate_x86_gb_hours = f.x86_gb_hours();
        u.fargate_arm_vcpu_hours = f.arm_vcpu_hours();
        u.fargate_arm_gb_hours = f.arm_gb_hours();
        u.fargate_spot_vcpu_hours = f.spot_vcpu_hours();
        u.fargate_spot_gb_hours = f.spot_gb_hours();
        u.public_ipv4_hours += f.public_ip_hours();
        if let Some(e) = totals {
            u.nat_processed_bytes = e.nat_bytes;
            u.cross_az_bytes = e.cross_az_bytes;
            u.interface_endpoint_bytes = e.endpoint_bytes;
        }
        u
    }
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
