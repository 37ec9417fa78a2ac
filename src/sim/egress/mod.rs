//! The egress part: links (host and Fargate task ENIs, NAT gateways, internet gateway, endpoints,
//! the cross-AZ meter), pull flows with max-min fair rates, per-host image caches, log paths and
//! their buffers — over `model::egress`.
//!
//! It owns no queue: pull-flow events are scheduled by the coordinator (`pulls.rs`), which
//! moves the event of a flow this part reports as changed when it falls due earlier (a later
//! one fires early and is re-armed). Present only when the scenario
//! has `[images]` or `[logs]`.
//!
//! Architecture invariant: only the coordinator asks it; it never stops a task itself (it says
//! why a task cannot start, and the coordinator stops it through `stop_task`).

use std::collections::BTreeMap;

use arrayvec::ArrayVec;
use rustc_hash::FxHashMap;

use crate::engine::{EventId, SimTime};
use crate::model::egress::{
    EndpointService, FlowChange, FlowId, FlowNetwork, Hop, ImageCache, ImageId, LinkId, LogMode, LogPathId, LogSourceId, LogTotals, Origin,
    Path, PullPlan, Route, RouteTable, StartFailure, SubnetRouting, Traffic, execution_role_failure, is_private_ecr,
    lazy_loading_milestone_bytes, log_mode, plan_pull,
};
use crate::model::taskdef::MAX_CONTAINERS_PER_TASK_DEFINITION;
use crate::model::{AzId, Cluster, HostId, SubnetId, TaskId};
use crate::scenario::{HostBandwidth, Scenario};

mod build;

use build::hop_link_of;

/// Events of the egress part.
#[derive(Debug, Clone, Copy)]
pub(super) enum EgressEvent {
    /// The task's ENI is attached (or it needs none): PENDING, its pulls begin.
    /// `host` (the FARGATE sentinel on Fargate) lets the loop prefetch the host's egress state.
    PullsBegin { task: TaskId, host: HostId },
    /// A pull flow reached its start milestone or completed; `generation` guards reused ids.
    Flow { flow: FlowId, generation: u32 },
    /// A pull or registry check with no route gave up.
    PullTimedOut { task: TaskId },
    /// A pull that would not finish within the image pull timeout reached it.
    PullDeadline { task: TaskId },
    /// The NAT gateway of an AZ stops (`up` false) or resumes passing traffic.
    NatOutage { az: AzId, up: bool },
}

/// One container image of a task definition.
#[derive(Debug, Clone, Copy)]
struct ContainerImage {
    image: ImageId,
    size_bytes: u64,
    ecr: bool,
    awslogs: bool,
    log_rate_bps: f64,
    log_mode: crate::model::egress::LogMode,
}

#[derive(Debug, Clone, Copy)]
struct FlowSlot {
    task: TaskId,
    image: ImageId,
    generation: u32,
    /// The flow's pending event and its time. A flow whose completion moves later keeps its
    /// event: it fires early and is re-armed then (one queue operation instead of a cancel and
    /// a schedule at every slow-down).
    event: Option<(EventId, SimTime)>,
    /// The task is still waiting for this flow's milestone (SOCI) or completion.
    blocking: bool,
    active: bool,
    /// When the agent gives up the pull (began + image pull timeout).
    deadline: SimTime,
}

/// Records indexed by task slot. Slots are reused once a task has stopped, so the table stays as
/// large as the tasks in flight, and a lookup is an index, not a hash.
struct BySlot<T>(Vec<Option<T>>);

impl<T> Default for BySlot<T> {
    fn default() -> Self {
        BySlot(Vec::new())
    }
}

impl<T> BySlot<T> {
    fn get(&self, task: &TaskId) -> Option<&T> {
        self.0.get(task.index()).and_then(Option::as_ref)
    }

    fn get_mut(&mut self, task: &TaskId) -> Option<&mut T> {
        self.0.get_mut(task.index()).and_then(Option::as_mut)
    }

    fn insert(&mut self, task: TaskId, value: T) {
        let i = task.index();
        if i >= self.0.len() {
            self.0.resize_with(i + 1, || None);
        }
        self.0[i] = Some(value);
    }

    fn remove(&mut self, task: &TaskId) -> Option<T> {
        self.0.get_mut(task.index()).and_then(Option::take)
    }

    fn prefetch(&self, task: TaskId) {
        if let Some(entry) = self.0.get(task.index()) {
            crate::engine::prefetch(entry);
        }
    }

    /// In slot order (callers sort what reaches results).
    fn values(&self) -> impl Iterator<Item = &T> {
        self.0.iter().flatten()
    }
}

/// One entry per container at most: a task's images, downloads and log sources are bounded by
/// the containers of its task definition (validation refuses more than ECS allows).
type PerContainer<T> = ArrayVec<T, MAX_CONTAINERS_PER_TASK_DEFINITION>;

/// A task's egress state from PENDING to STOPPED.
#[derive(Debug, Clone, Default)]
struct TaskEgress {
    /// Its own downloads (at most one per container: no allocation per task).
    flows: PerContainer<FlowId>,
    /// Downloads another task on the same host had begun, which this one waits for too.
    joined: PerContainer<FlowId>,
    /// Its EC2 host (`None` on Fargate).
    host: Option<HostId>,
    /// Images the task still waits for.
    waiting: u32,
    /// The Fargate task's own ENI link (returned to the pool when it stops).
    eni_link: Option<LinkId>,
    origin: Option<(Origin, LinkId)>,
    pull_began: SimTime,
    log_path: Option<LogPathId>,
    sources: PerContainer<LogSourceId>,
    /// The failure to report when the pull timeout fires (`None`: start from the cache then).
    timeout_failure: Option<StartFailure>,
    /// A `PullDeadline` event is scheduled for it.
    deadline_armed: bool,
    /// Some awslogs container logs in blocking mode: the task's work stalls with its logs.
    blocking_logs: bool,
    /// The task's run time, consumed at the speed its blocked log writes allow.
    work: Option<WorkClock>,
}

/// The rest of a RUNNING task's run time while blocked log writes slow it: `left_us` of work at
/// full speed, progressing at `rate` (the fraction of its log demand the path carries) since
/// `since`.
#[derive(Debug, Clone, Copy)]
struct WorkClock {
    left_us: f64,
    rate: f64,
    since: SimTime,
}

/// What `begin_pulls` decided.
pub(super) enum PullStart {
    /// Nothing to download: containers may start now.
    Ready,
    /// Waiting for flows (their events are in the changes buffer).
    Pulling,
    /// ECS refuses the task at once.
    FailNow(StartFailure),
    /// A pull with no route: at `now + timeout`, fail (or, with a cached image, start).
    Timeout(SimTime),
}

/// What the run's egress measured, for the recorder and the bill.
#[derive(Debug, Clone, Default)]
pub(super) struct EgressTotals {
    pub nat_bytes: f64,
    pub igw_bytes: f64,
    pub s3_gateway_bytes: f64,
    pub endpoint_bytes: f64,
    pub cross_az_bytes: f64,
    /// Highest throughput / capacity of any NAT gateway.
    pub nat_util_peak: f64,
    pub lost_log_bytes: f64,
    pub log_stalled_s: f64,
    /// Pulls that joined a download already in progress on their host.
    pub pulls_joined: u64,
}

pub(super) struct Egress {
    net: FlowNetwork,
    routes: RouteTable,
    host_links: Vec<LinkId>,
    host_origin: Vec<Origin>,
    fargate_bandwidth_bps: f64,
    fargate_links_free: Vec<LinkId>,
    nats: Vec<(AzId, LinkId)>,
    igw: LinkId,
    s3: LinkId,
    cross_az: LinkId,
    endpoint_links: BTreeMap<(EndpointService, AzId), LinkId>,
    cache: ImageCache,
    /// The pull behaviour reads the host caches (`PullBehavior::reads_cache`); if not, they are
    /// neither kept nor read (each lookup would be a memory access per pull for nothing).
    keeps_cache: bool,
    /// Per task definition, its containers' images.
    td_images: Vec<Vec<ContainerImage>>,
    /// Per workload: Fargate tasks get a public IP.
    public_ip: Vec<bool>,
    soci: Vec<bool>,
    soci_fraction: f64,
    flows: Vec<FlowSlot>,
    /// Per task slot, the record of a task that pulls or logs.
    tasks: BySlot<TaskEgress>,
    changed: Vec<FlowChange>,
    lost_log_bytes: f64,
    log_stalled_us: f64,
    /// Each NAT gateway's bandwidth when up (bytes/s).
    nat_bandwidth_bps: f64,
    image_pull_timeout: SimTime,
    /// The task whose logs each log path carries (indexed by `LogPathId`).
    log_owner: Vec<TaskId>,
    /// Reused buffers: log paths with a new carried fraction; pull deadlines to schedule;
    /// tasks whose run-time end moved (`None`: stalled, no end in sight).
    carried_buf: Vec<LogPathId>,
    deadlines: Vec<(TaskId, SimTime)>,
    finish_changes: Vec<(TaskId, Option<SimTime>)>,
    /// EC2, per host: the downloads of images in progress there, which a second pull of the
    /// same image joins (the Docker daemon downloads a layer once for every pull waiting for
    /// it). A host has few at a time: a list, searched.
    downloads: Vec<Vec<(ImageId, FlowId)>>,
    /// Tasks waiting for a download they joined, by flow (rare: only while shared).
    waiters: FxHashMap<FlowId, Vec<TaskId>>,
    pulls_joined: u64,
    /// Reused by `begin_pulls`: the downloads to start and the downloads to join.
    pull_buf: Vec<(ImageId, u64, Route)>,
    join_buf: Vec<FlowId>,
}

impl Egress {
    /// Starts loading what `begin_pulls` reads for `task` on `host` (the FARGATE sentinel: no
    /// host): the task's slot, the host's link and origin, its downloads, its image cache.
    pub fn prefetch(&self, task: TaskId, host: HostId) {
        self.tasks.prefetch(task);
        if let (Some(link), Some(origin)) = (self.host_links.get(host.index()), self.host_origin.get(host.index())) {
            crate::engine::prefetch(origin);
            self.net.prefetch_link(*link);
            crate::engine::prefetch(&self.downloads[host.index()]);
            if self.keeps_cache {
                self.cache.prefetch(host.0);
            }
        }
    }

    /// Starts loading the egress record a stopping task's clean-up reads.
    pub fn prefetch_task(&self, task: TaskId) {
        self.tasks.prefetch(task);
    }

    /// Starts loading what a flow event reads: the flow's slot and its state in the network.
    pub fn prefetch_flow(&self, flow: FlowId) {
        if let Some(slot) = self.flows.get(flow.0 as usize) {
            crate::engine::prefetch(slot);
        }
        self.net.prefetch_flow(flow);
    }

    /// PENDING: plans each container's image and starts the downloads. `host` is `None` on
    /// Fargate (then `subnet` is the task ENI's). Flow events to schedule are left in the changes
    /// buffer (`take_changes`).
    #[allow(clippy::too_many_arguments)]
    pub fn begin_pulls(
        &mut self,
        scenario: &Scenario,
        now: SimTime,
        task: TaskId,
        td: u32,
        workload: u32,
        host: Option<HostId>,
        subnet: Option<SubnetRouting>,
    ) -> PullStart {
        let fargate = host.is_none();
        if let Some(f) = execution_role_failure(&scenario.task_definitions[td as usize], fargate) {
            return PullStart::FailNow(f);
        }
        let (origin, eni) = match host {
            Some(h) => (self.host_origin[h.0 as usize], self.host_links[h.0 as usize]),
            None => {
                let origin = Origin { subnet: subnet.expect("a Fargate task has a subnet"), public_ip: self.public_ip[workload as usize] };
                let link = self.fargate_links_free.pop().unwrap_or_else(|| self.net.add_link(self.fargate_bandwidth_bps));
                (origin, link)
            }
        };
        let mut te =
            TaskEgress { origin: Some((origin, eni)), pull_began: now, eni_link: fargate.then_some(eni), host, ..TaskEgress::default() };
        let behavior = scenario.egress.images.pull_behavior;
        let mut no_route: Option<StartFailure> = None;
        let mut fallback_wait = false;
        // Reused buffers: no allocation per pull.
        let mut to_pull = std::mem::take(&mut self.pull_buf);
        let mut joins = std::mem::take(&mut self.join_buf);
        for k in 0..self.td_images[td as usize].len() {
            let c = self.td_images[td as usize][k];
            let cached = host.map(|h| self.keeps_cache && self.cache.has(h.0, c.image));
            let plan = plan_pull(behavior, cached);
            let route = self.routes.route(origin, Traffic::Image { ecr: c.ecr });
            match (plan, route) {
                (PullPlan::FromCache, _) => {}
                (PullPlan::CheckRegistry, Some(_)) => {}
                (PullPlan::CheckRegistry, None) => fallback_wait = true,
                (PullPlan::Full, Some(r)) => {
                    if let Some(f) = host.and_then(|h| self.download(h, c.image)) {
                        if !joins.contains(&f) {
                            joins.push(f);
                        }
                    } else if !to_pull.iter().any(|(i, _, _)| *i == c.image) {
                        to_pull.push((c.image, c.size_bytes, r));
                    }
                }
                (PullPlan::Full, None) => {
                    no_route.get_or_insert(if fargate && c.ecr {
                        StartFailure::RegistryAuthTimeout
                    } else {
                        StartFailure::CannotPullContainer
                    });
                }
            }
            if fargate && c.awslogs && self.routes.route(origin, Traffic::Logs).is_none() {
                no_route.get_or_insert(StartFailure::LoggerUnreachable);
            }
        }
        let timeout = scenario.egress.images.pull_timeout;
        if no_route.is_some() || (fallback_wait && to_pull.is_empty()) {
            te.timeout_failure = no_route;
            self.tasks.insert(task, te);
            to_pull.clear();
            joins.clear();
            (self.pull_buf, self.join_buf) = (to_pull, joins);
            return PullStart::Timeout(now + timeout);
        }
        let soci = fargate && self.soci[td as usize];
        let deadline = now + self.image_pull_timeout;
        for &(image, size, route) in &to_pull {
            let milestone = if soci { lazy_loading_milestone_bytes(size, self.soci_fraction) } else { 0 };
            let path = self.path(eni, route);
            let flow = self.net.start_flow(now, path, size, milestone, &mut self.changed);
            let i = flow.0 as usize;
            if self.flows.len() <= i {
                self.flows.resize(i + 1, FlowSlot { task, image, generation: 0, event: None, blocking: false, active: false, deadline });
            }
            let slot = &mut self.flows[i];
            *slot =
                FlowSlot { task, image, generation: slot.generation.wrapping_add(1), event: None, blocking: true, active: true, deadline };
            te.flows.push(flow);
            te.waiting += 1;
            if let Some(h) = host {
                self.downloads[h.index()].push((image, flow));
            }
        }
        for &f in &joins {
            self.waiters.entry(f).or_default().push(task);
            self.pulls_joined += 1;
            te.joined.push(f);
            te.waiting += 1;
        }
        to_pull.clear();
        joins.clear();
        (self.pull_buf, self.join_buf) = (to_pull, joins);
        let ready = te.waiting == 0;
        self.tasks.insert(task, te);
        if ready { PullStart::Ready } else { PullStart::Pulling }
    }

    /// The reported flow event changes since the last call (a flow may appear more than once:
    /// the last entry is its current time), with each flow's generation.
    pub fn take_changes(&mut self, out: &mut Vec<(FlowId, u32, Option<SimTime>)>) {
        for c in self.changed.drain(..) {
            let slot = &self.flows[c.flow.0 as usize];
            if !slot.active {
                continue;
            }
            out.push((c.flow, slot.generation, c.at));
            // A pull the task still waits for that will not make its deadline (stalled, or too
            // slow at its new rate) gets a deadline event, once per task.
            if slot.blocking
                && c.at.is_none_or(|at| at > slot.deadline)
                && let Some(te) = self.tasks.get_mut(&slot.task)
                && !te.deadline_armed
            {
                te.deadline_armed = true;
                self.deadlines.push((slot.task, slot.deadline));
            }
        }
    }

    /// Pull deadlines to schedule, found by `take_changes`.
    pub fn take_deadlines(&mut self, out: &mut Vec<(TaskId, SimTime)>) {
        out.append(&mut self.deadlines);
    }

    /// A pull deadline fired: true when the task is still waiting for a pull begun a whole image
    /// pull timeout ago (it then fails; its flows are abandoned when it stops).
    pub fn pull_overdue(&mut self, now: SimTime, task: TaskId) -> bool {
        let Some(te) = self.tasks.get_mut(&task) else { return false };
        te.deadline_armed = false;
        te.waiting > 0 && now >= te.pull_began + self.image_pull_timeout
    }

    /// The NAT gateway of `az` stops or resumes passing traffic. Flow changes are left in the
    /// changes buffer, log paths with a new carried fraction in the network.
    pub fn set_nat_up(&mut self, now: SimTime, az: AzId, up: bool) {
        let Some(&(_, link)) = self.nats.iter().find(|(a, _)| *a == az) else { return };
        let capacity = if up { self.nat_bandwidth_bps } else { 0.0 };
        self.net.set_capacity(now, link, capacity, &mut self.changed);
    }

    /// Whether some task's log path changed its carried fraction (so its run-time end may move).
    pub fn has_stall_changes(&self) -> bool {
        self.net.has_carried_changes()
    }

    /// Moves the run-time end of every task whose blocking-mode logs now flow at another
    /// fraction of their demand: its work progresses at that fraction (0: stalled). Returns the
    /// tasks and their new end (`None`: no end while stalled).
    pub fn settle_stalls(&mut self, now: SimTime, out: &mut Vec<(TaskId, Option<SimTime>)>) {
        let mut paths = std::mem::take(&mut self.carried_buf);
        self.net.take_carried_changes(&mut paths);
        for &lp in &paths {
            let Some(&task) = self.log_owner.get(lp.0 as usize) else { continue };
            let carried = self.net.log_carried_fraction(lp);
            let Some(te) = self.tasks.get_mut(&task) else { continue };
            if te.log_path != Some(lp) || !te.blocking_logs {
                continue;
            }
            let Some(w) = te.work.as_mut() else { continue };
            if carried == w.rate {
                continue;
            }
            w.left_us = (w.left_us - w.rate * now.0.saturating_sub(w.since.0) as f64).max(0.0);
            w.since = now;
            w.rate = carried;
            out.push((task, work_end(now, *w)));
        }
        paths.clear();
        self.carried_buf = paths;
    }

    /// The flow's scheduled event and its time.
    pub fn event(&self, flow: FlowId) -> Option<(EventId, SimTime)> {
        self.flows[flow.0 as usize].event
    }

    pub fn set_event(&mut self, flow: FlowId, event: Option<(EventId, SimTime)>) {
        self.flows[flow.0 as usize].event = event;
    }

    /// When the flow's next milestone or completion is due at its current rate (`None`: it
    /// stalls).
    pub fn flow_due(&self, flow: FlowId) -> Option<SimTime> {
        self.net.event_at(flow)
    }

    /// The task a live flow event belongs to; `None` for a stale event.
    pub fn flow_owner(&self, flow: FlowId, generation: u32) -> Option<TaskId> {
        let slot = &self.flows[flow.0 as usize];
        (slot.active && slot.generation == generation).then_some(slot.task)
    }

    /// A live flow event fired (`host`: the task's host, `None` on Fargate). The tasks whose
    /// pull phase is now complete (its owner, and any task that joined the download) are
    /// appended to `done`.
    pub fn flow_event(&mut self, now: SimTime, flow: FlowId, host: Option<HostId>, done: &mut Vec<TaskId>) {
        let slot = self.flows[flow.0 as usize];
        self.flows[flow.0 as usize].event = None;
        let te = self.tasks.get_mut(&slot.task).expect("a flow's task is pulling");
        if self.net.milestone_pending(flow) {
            // SOCI milestone: the container may start; the rest keeps streaming.
            self.flows[flow.0 as usize].blocking = false;
            self.net.clear_milestone(now, flow, &mut self.changed);
            te.waiting -= 1;
            if te.waiting == 0 {
                done.push(slot.task);
            }
            return;
        }
        self.net.complete_flow(now, flow, &mut self.changed);
        self.flows[flow.0 as usize].active = false;
        te.flows.retain(|f| *f != flow);
        if slot.blocking {
            te.waiting -= 1;
            if te.waiting == 0 {
                done.push(slot.task);
            }
        }
        if let Some(h) = host {
            if self.keeps_cache {
                self.cache.insert(h.0, slot.image);
            }
            self.download_ended(h, flow);
        }
        if self.waiters.is_empty() {
            return;
        }
        for w in self.waiters.remove(&flow).unwrap_or_default() {
            let te = self.tasks.get_mut(&w).expect("a waiter is pulling");
            te.joined.retain(|f| *f != flow);
            te.waiting -= 1;
            if te.waiting == 0 {
                done.push(w);
            }
        }
    }

    /// The pull timeout of a task with no route: its failure, or `None` to start from the cache.
    pub fn timed_out(&mut self, task: TaskId) -> Option<StartFailure> {
        self.tasks.get(&task).and_then(|t| t.timeout_failure)
    }

    /// When the task's pulls began.
    pub fn pull_began(&self, task: TaskId) -> Option<SimTime> {
        self.tasks.get(&task).map(|t| t.pull_began)
    }

    /// A replacement instance registered in `host`'s place: its image cache is empty.
    pub fn host_replaced(&mut self, host: HostId) {
        self.cache.forget_host(host.0);
    }

    /// RUNNING: the task's awslogs containers start shipping. `ends_at`: the end of its run
    /// time, if it has one. A task whose blocking-mode logs cannot flow fully from the start has
    /// its new end reported in `finish_changes` (`take_finish_changes`).
    pub fn task_running(&mut self, now: SimTime, task: TaskId, td: u32, ends_at: Option<SimTime>) {
        let Some(te) = self.tasks.get_mut(&task) else { return };
        let Some((origin, eni)) = te.origin else { return };
        let containers = &self.td_images[td as usize];
        if !containers.iter().any(|c| c.awslogs && c.log_rate_bps > 0.0) {
            return;
        }
        let path = match self.routes.route(origin, Traffic::Logs) {
            Some(route) => {
                if route.cross_az {
                    Path::new(&[eni, self.cross_az, hop_link_of(&self.nats, self.igw, self.s3, &self.endpoint_links, route)])
                } else {
                    Path::new(&[eni, hop_link_of(&self.nats, self.igw, self.s3, &self.endpoint_links, route)])
                }
            }
            None => Path::new(&[]),
        };
        let lp = self.net.open_log_path(now, path);
        te.log_path = Some(lp);
        te.blocking_logs = containers.iter().any(|c| c.awslogs && c.log_rate_bps > 0.0 && c.log_mode == LogMode::Blocking);
        if te.blocking_logs
            && let Some(end) = ends_at
        {
            te.work = Some(WorkClock { left_us: end.0.saturating_sub(now.0) as f64, rate: 1.0, since: now });
        }
        if self.log_owner.len() <= lp.0 as usize {
            self.log_owner.resize(lp.0 as usize + 1, task);
        }
        self.log_owner[lp.0 as usize] = task;
        for c in containers.iter().filter(|c| c.awslogs && c.log_rate_bps > 0.0) {
            let src = self.net.add_log_source(now, lp, c.log_rate_bps, c.log_mode, &mut self.changed);
            te.sources.push(src);
        }
        // The path's fraction as opened is not a change the network reports: settle it here.
        if let Some(w) = te.work.as_mut() {
            let carried = self.net.log_carried_fraction(lp);
            if carried < 1.0 {
                w.rate = carried;
                self.finish_changes.push((task, work_end(now, *w)));
            }
        }
    }

    /// Run-time ends moved by `task_running`.
    pub fn take_finish_changes(&mut self, out: &mut Vec<(TaskId, Option<SimTime>)>) {
        out.append(&mut self.finish_changes);
    }

    /// STOPPED: abandons the task's pulls and closes its logs. Flow events to cancel are returned
    /// in `cancel`; other flows' changes are left in the changes buffer.
    pub fn task_stopped(&mut self, now: SimTime, task: TaskId, cancel: &mut Vec<EventId>) {
        let Some(te) = self.tasks.remove(&task) else { return };
        for f in te.joined {
            if let Some(list) = self.waiters.get_mut(&f) {
                list.retain(|w| *w != task);
                if list.is_empty() {
                    self.waiters.remove(&f);
                }
            }
        }
        for f in te.flows {
            if self.hand_over(now, f) {
                continue;
            }
            let slot = &mut self.flows[f.0 as usize];
            if let Some((e, _)) = slot.event.take() {
                cancel.push(e);
            }
            slot.active = false;
            self.net.end_flow(now, f, &mut self.changed);
            if let Some(h) = te.host {
                self.download_ended(h, f);
            }
        }
        for s in te.sources {
            let LogTotals { lost_bytes, stalled_us } = self.net.remove_log_source(now, s, &mut self.changed);
            self.lost_log_bytes += lost_bytes;
            self.log_stalled_us += stalled_us;
        }
        if let Some(lp) = te.log_path {
            self.net.close_log_path(lp);
        }
        if let Some(link) = te.eni_link {
            self.fargate_links_free.push(link);
        }
    }

    /// The download of `image` in progress on `host`, if any.
    fn download(&self, host: HostId, image: ImageId) -> Option<FlowId> {
        self.downloads[host.index()].iter().find(|(i, _)| *i == image).map(|&(_, f)| f)
    }

    /// Download `flow` on `host` completed or was abandoned.
    fn download_ended(&mut self, host: HostId, flow: FlowId) {
        let list = &mut self.downloads[host.index()];
        if let Some(i) = list.iter().position(|&(_, f)| f == flow) {
            list.swap_remove(i);
        }
    }

    /// The owner of download `flow` stopped: a task that joined it takes it over (Docker keeps a
    /// download going while a pull waits for it). False when no one else waits.
    fn hand_over(&mut self, now: SimTime, flow: FlowId) -> bool {
        if self.waiters.is_empty() {
            return false;
        }
        let Some(list) = self.waiters.get_mut(&flow) else { return false };
        let heir = list.remove(0);
        if list.is_empty() {
            self.waiters.remove(&flow);
        }
        let te = self.tasks.get_mut(&heir).expect("a waiter is pulling");
        te.joined.retain(|f| *f != flow);
        te.flows.push(flow);
        let deadline = te.pull_began + self.image_pull_timeout;
        let slot = &mut self.flows[flow.0 as usize];
        slot.task = heir;
        slot.deadline = deadline;
        // The heir's own deadline is later; arm it if this download will not make it.
        if !te.deadline_armed && self.net.event_at(flow).is_none_or(|at| at > deadline) && now <= deadline {
            te.deadline_armed = true;
            self.deadlines.push((heir, deadline));
        }
        true
    }

    /// Per NAT gateway (in AZ order): (AZ, throughput bytes/s, utilisation of its bandwidth).
    pub fn nat_load(&self) -> Vec<(AzId, f64, f64)> {
        self.nats
            .iter()
            .map(|&(az, l)| (az, self.net.link_throughput_bps(l), self.net.link_throughput_bps(l) / self.nat_bandwidth_bps))
            .collect()
    }

    pub fn nat_azs(&self) -> Vec<AzId> {
        self.nats.iter().map(|(az, _)| *az).collect()
    }

    /// Totals at `end`. Logs of tasks still running are settled up to `end`.
    pub fn totals(&mut self, end: SimTime) -> EgressTotals {
        let mut lost = self.lost_log_bytes;
        let mut stalled = self.log_stalled_us;
        let mut live: Vec<LogSourceId> = self.tasks.values().flat_map(|t| t.sources.iter().copied()).collect();
        live.sort();
        for s in live {
            let t = self.net.log_totals(end, s);
            lost += t.lost_bytes;
            stalled += t.stalled_us;
        }
        let nat_bytes = self.nats.iter().map(|(_, l)| self.net.link_bytes(*l, end)).sum();
        let nat_util_peak = self.nats.iter().map(|(_, l)| self.net.link_peak_bps(*l) / self.nat_bandwidth_bps).fold(0.0, f64::max);
        EgressTotals {
            nat_bytes,
            igw_bytes: self.net.link_bytes(self.igw, end),
            s3_gateway_bytes: self.net.link_bytes(self.s3, end),
            endpoint_bytes: self.endpoint_links.values().map(|l| self.net.link_bytes(*l, end)).sum(),
            cross_az_bytes: self.net.link_bytes(self.cross_az, end),
            nat_util_peak,
            lost_log_bytes: lost,
            log_stalled_s: stalled / 1e6,
            pulls_joined: self.pulls_joined,
        }
    }

    /// Fargate task `subnet`'s routing facts.
    pub fn subnet_routing(scenario: &Scenario, subnet: SubnetId) -> SubnetRouting {
        let s = &scenario.network.as_ref().expect("a task subnet implies a [network]").subnets[subnet.0 as usize];
        SubnetRouting { az: s.az, public: s.public }
    }
}

/// When a work clock runs out at its current rate (`None` while stalled).
fn work_end(now: SimTime, w: WorkClock) -> Option<SimTime> {
    if w.left_us <= 0.0 {
        return Some(now);
    }
    (w.rate > 0.0).then(|| now.saturating_add(SimTime((w.left_us / w.rate).round() as u64)))
}
