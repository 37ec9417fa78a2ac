//! Bytes over links: image pulls as flows sharing links max-min fairly, log egress as a fluid
//! load that is carried before pulls, and byte meters on every link.
//!
//! **Rates.** A link has a capacity in bytes per second. Log loads on a link are served first
//! (they are small, steady streams; a pull is a bulk download that takes what is left), so the
//! capacity left for pulls is `capacity − log bytes/s carried`. Pull flows share what is left
//! max-min fairly, computed by water-filling: the link with the smallest fair share
//! (`left / unfrozen flows`) fixes the rate of all its unfrozen flows, which are then removed
//! from every other link they cross, and so on. Links with infinite capacity (the internet
//! gateway, the S3 gateway endpoint, the cross-AZ meter) never limit a rate: they only count bytes.
//!
//! **Incremental updates.** Starting or ending a flow, changing a log load or a capacity
//! recomputes only the *connected component* of the links it touches: the flows that share a
//! bounded link with it, the flows that share a bounded link with those, and so on. Flows
//! elsewhere keep their rate, their remaining bytes (settled lazily, per flow) and their
//! completion time, and are not reported. The cost of an update is O((F + L) log L) in the flows F
//! and bounded links L of that component — not in all flows of the run.
//!
//! **Times.** Rates and remaining bytes are `f64` (computed in a fixed order, so the same inputs
//! give the same bits everywhere); a completion time is `now + round(remaining / rate)` in whole
//! microseconds. A flow whose rate did not change keeps its completion time exactly.
//!
//! **Events.** `FlowNetwork` owns no event queue. Every mutating method takes `now` and appends
//! to a caller-supplied `Vec<FlowChange>` each flow whose next event time changed (the buffer is
//! reused across calls: nothing is allocated per event once the arenas have grown), so the
//! coordinator can `reschedule` those flows' events.
//!
//! **Log buffers.** A log source (one container) emits `rate` bytes/s into a log path. When the
//! path carries only a fraction `f < 1` of its demand (a NAT gateway down, a saturated link), the
//! shortfall `rate × (1 − f)` goes to the container's buffer: in non-blocking mode lines beyond
//! `max-buffer-size` are dropped (lost bytes = max(0, rate × blocked time − buffer) for a full
//! outage); in blocking mode nothing is lost and the container's writes stall for `(1 − f)` of
//! the time. When the path carries its demand again the buffer drains at once (10 MiB drain in
//! well under a second at any link speed modelled here) and the drained bytes are metered.

use crate::engine::SimTime;

/// Most links on one path: ENI, cross-AZ meter, NAT or endpoint or gateway, plus spares.
pub const MAX_PATH_LINKS: usize = 6;

const US_PER_S: f64 = 1e6;

/// Index of a link in a [`FlowNetwork`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(pub u32);

/// Index of a pull flow. Ids of finished flows are reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowId(pub u32);

/// Index of a log path (the route one EC2 host's or one Fargate task's logs take).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogPathId(pub u32);

/// Index of a log source (one container's log stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogSourceId(pub u32);

/// A flow's next event moved: `at` is when it reaches its milestone (or completes), `None` when
/// it is stalled at rate 0 (a link with no capacity left).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowChange {
    pub flow: FlowId,
    pub at: Option<SimTime>,
}

/// What the awslogs driver does when its path cannot carry the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogMode {
    Blocking,
    /// Buffer up to this many bytes, then drop.
    NonBlocking {
        buffer_bytes: u64,
    },
}

/// A log source's totals when it is closed.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LogTotals {
    /// Bytes dropped because the buffer was full (non-blocking mode).
    pub lost_bytes: f64,
    /// Time the container's writes were blocked, in µs (blocking mode; fractional when the path
    /// carried part of the demand).
    pub stalled_us: f64,
}

/// A fixed-size path of links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Path {
    links: [LinkId; MAX_PATH_LINKS],
    len: u8,
}

impl Path {
    /// Panics if more than [`MAX_PATH_LINKS`] links are given (a resolver bug, not input).
    pub fn new(links: &[LinkId]) -> Path {
        assert!(links.len() <= MAX_PATH_LINKS, "a path has at most {MAX_PATH_LINKS} links");
        let mut p = Path { links: [LinkId(0); MAX_PATH_LINKS], len: links.len() as u8 };
        p.links[..links.len()].copy_from_slice(links);
        p
    }

    pub fn links(&self) -> &[LinkId] {
        &self.links[..self.len as usize]
    }
}

#[derive(Debug, Clone)]
struct Link {
    capacity_bps: f64,
    /// Active pull flows crossing this link, with each flow's index in its own path.
    flows: Vec<(FlowId, u8)>,
    /// Log paths crossing this link, with each path's index in its own path.
    log_paths: Vec<(LogPathId, u8)>,
    /// Σ demand of the log paths crossing it.
    log_demand_bps: f64,
    /// Σ log bytes/s actually carried (demand × the path's carried fraction).
    log_carried_bps: f64,
    /// Σ pull rates through it.
    pull_bps: f64,
    /// Bytes carried up to `metered_at`.
    bytes: f64,
    metered_at: SimTime,
    /// Highest total rate (pulls + logs) seen.
    peak_bps: f64,
}

impl Link {
    fn bounded(&self) -> bool {
        self.capacity_bps.is_finite()
    }

    fn meter(&mut self, now: SimTime) {
        let dt = now.0.saturating_sub(self.metered_at.0) as f64 / US_PER_S;
        self.bytes += (self.pull_bps + self.log_carried_bps) * dt;
        self.metered_at = now;
    }

    fn note_peak(&mut self) {
        self.peak_bps = self.peak_bps.max(self.pull_bps + self.log_carried_bps);
    }

    /// Log paths are served first; fraction of its log demand this link can carry.
    fn log_ratio(&self) -> f64 {
        if self.log_demand_bps <= self.capacity_bps { 1.0 } else { (self.capacity_bps / self.log_demand_bps).max(0.0) }
    }
}

#[derive(Debug, Clone)]
struct Flow {
    path: Path,
    /// Index of this flow in each of its links' `flows` lists.
    slots: [u32; MAX_PATH_LINKS],
    remaining_bytes: f64,
    /// The next event fires when `remaining_bytes` reaches this (0 = completion).
    milestone_bytes: f64,
    rate_bps: f64,
    updated_at: SimTime,
    event_at: Option<SimTime>,
    active: bool,
}

#[derive(Debug, Clone)]
struct LogPath {
    path: Path,
    slots: [u32; MAX_PATH_LINKS],
    demand_bps: f64,
    /// Fraction of the demand carried: the smallest log ratio of its links (0 with no route).
    carried: f64,
    sources: Vec<LogSourceId>,
    settled_at: SimTime,
    active: bool,
}

#[derive(Debug, Clone)]
struct LogSource {
    path: LogPathId,
    /// Index in the path's `sources`.
    slot: u32,
    rate_bps: f64,
    mode: LogMode,
    backlog_bytes: f64,
    totals: LogTotals,
    active: bool,
}

/// Links, pull flows and log loads of one run. See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct FlowNetwork {
    links: Vec<Link>,
    flows: Vec<Flow>,
    free_flows: Vec<FlowId>,
    log_paths: Vec<LogPath>,
    free_log_paths: Vec<LogPathId>,
    sources: Vec<LogSource>,
    free_sources: Vec<LogSourceId>,
    /// Log paths whose carried fraction changed since the last `take_carried_changes`.
    carried_changes: Vec<LogPathId>,
    scratch: Scratch,
}

/// Buffers reused by every recomputation.
#[derive(Debug, Clone, Default)]
struct Scratch {
    epoch: u32,
    link_seen: Vec<u32>,
    flow_seen: Vec<u32>,
    comp_links: Vec<LinkId>,
    comp_flows: Vec<FlowId>,
    /// Per link (indexed by LinkId): capacity left for unfrozen flows, unfrozen flow count.
    left_bps: Vec<f64>,
    unfrozen: Vec<u32>,
    new_rate: Vec<f64>,
    frozen: Vec<bool>,
    heap: std::collections::BinaryHeap<std::cmp::Reverse<(Share, u32)>>,
    stack: Vec<LinkId>,
    /// Links whose log load changed since the last recomputation (their pulls need new rates).
    dirty: Vec<LinkId>,
}

/// A fair share, ordered as a float (shares are never NaN).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Share(f64);
impl Eq for Share {}
impl PartialOrd for Share {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Share {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl FlowNetwork {
    pub fn new() -> FlowNetwork {
        FlowNetwork::default()
    }

    /// A link of `capacity_bps` bytes per second; `f64::INFINITY` for a meter that never limits.
    pub fn add_link(&mut self, capacity_bps: f64) -> LinkId {
        assert!(capacity_bps >= 0.0 && !capacity_bps.is_nan(), "link capacity must be ≥ 0");
        let id = LinkId(self.links.len() as u32);
        self.links.push(Link {
            capacity_bps,
            flows: Vec::new(),
            log_paths: Vec::new(),
            log_demand_bps: 0.0,
            log_carried_bps: 0.0,
            pull_bps: 0.0,
            bytes: 0.0,
            metered_at: SimTime::ZERO,
            peak_bps: 0.0,
        });
        self.scratch.link_seen.push(0);
        self.scratch.left_bps.push(0.0);
        self.scratch.unfrozen.push(0);
        id
    }

    pub fn capacity_bps(&self, link: LinkId) -> f64 {
        self.links[link.0 as usize].capacity_bps
    }

    /// Bytes the link has carried up to `now` (pulls and logs, both directions).
    pub fn link_bytes(&self, link: LinkId, now: SimTime) -> f64 {
        let l = &self.links[link.0 as usize];
        let dt = now.0.saturating_sub(l.metered_at.0) as f64 / US_PER_S;
        l.bytes + (l.pull_bps + l.log_carried_bps) * dt
    }

    /// Bytes per second through the link right now.
    pub fn link_throughput_bps(&self, link: LinkId) -> f64 {
        let l = &self.links[link.0 as usize];
        l.pull_bps + l.log_carried_bps
    }

    /// Highest throughput the link has carried.
    pub fn link_peak_bps(&self, link: LinkId) -> f64 {
        self.links[link.0 as usize].peak_bps
    }

    /// Number of pull flows crossing a link.
    pub fn link_flow_count(&self, link: LinkId) -> usize {
        self.links[link.0 as usize].flows.len()
    }

    /// Starts loading a flow's record (see [`crate::engine::prefetch`]).
    pub fn prefetch_flow(&self, flow: FlowId) {
        if let Some(f) = self.flows.get(flow.0 as usize) {
            crate::engine::prefetch(f);
        }
    }

    /// Starts loading a link's record.
    pub fn prefetch_link(&self, link: LinkId) {
        if let Some(l) = self.links.get(link.0 as usize) {
            crate::engine::prefetch(l);
        }
    }

    /// Current rate of an active flow, bytes per second.
    pub fn rate_bps(&self, flow: FlowId) -> f64 {
        self.flows[flow.0 as usize].rate_bps
    }

    /// The time of the flow's next event (milestone or completion), `None` while stalled.
    pub fn event_at(&self, flow: FlowId) -> Option<SimTime> {
        self.flows[flow.0 as usize].event_at
    }

    /// Bytes still to transfer, settled to `now`.
    pub fn remaining_bytes(&self, flow: FlowId, now: SimTime) -> f64 {
        let f = &self.flows[flow.0 as usize];
        let dt = now.0.saturating_sub(f.updated_at.0) as f64 / US_PER_S;
        (f.remaining_bytes - f.rate_bps * dt).max(0.0)
    }

    /// Starts a flow of `bytes` over `path` (which must contain at least one bounded link). Its
    /// first event fires when only `milestone_bytes` remain (0: at completion; SOCI lazy loading
    /// uses the part of the image not needed to start). Reports the new flow and every flow whose
    /// event time changed.
    pub fn start_flow(&mut self, now: SimTime, path: Path, bytes: u64, milestone_bytes: u64, changed: &mut Vec<FlowChange>) -> FlowId {
        assert!(path.links().iter().any(|l| self.links[l.0 as usize].bounded()), "a flow path needs a bounded link (its ENI)");
        debug_assert!(milestone_bytes <= bytes);
        let flow = Flow {
            path,
            slots: [0; MAX_PATH_LINKS],
            remaining_bytes: bytes as f64,
            milestone_bytes: milestone_bytes.min(bytes) as f64,
            rate_bps: 0.0,
            updated_at: now,
            event_at: None,
            active: true,
        };
        let id = match self.free_flows.pop() {
            Some(id) => {
                self.flows[id.0 as usize] = flow;
                id
            }
            None => {
                self.flows.push(flow);
                self.scratch.flow_seen.push(0);
                self.scratch.new_rate.push(0.0);
                self.scratch.frozen.push(false);
                FlowId(self.flows.len() as u32 - 1)
            }
        };
        for (k, link) in path.links().iter().enumerate() {
            let l = &mut self.links[link.0 as usize];
            self.flows[id.0 as usize].slots[k] = l.flows.len() as u32;
            l.flows.push((id, k as u8));
        }
        self.recompute_with(now, path.links(), Some(id), changed);
        id
    }

    /// The flow still has a milestone ahead (its next event is the milestone, not completion).
    pub fn milestone_pending(&self, flow: FlowId) -> bool {
        self.flows[flow.0 as usize].milestone_bytes > 0.0
    }

    /// The flow's milestone event fired: from now on its event is its completion, which is always
    /// reported (the caller's event for this flow has just been consumed).
    pub fn clear_milestone(&mut self, now: SimTime, flow: FlowId, changed: &mut Vec<FlowChange>) {
        let f = &mut self.flows[flow.0 as usize];
        assert!(f.active, "milestone of a finished flow");
        let dt = now.0.saturating_sub(f.updated_at.0) as f64 / US_PER_S;
        f.remaining_bytes -= f.rate_bps * dt;
        f.updated_at = now;
        f.milestone_bytes = 0.0;
        let at = event_time(now, f.remaining_bytes, 0.0, f.rate_bps);
        f.event_at = at;
        changed.push(FlowChange { flow, at });
    }

    /// The flow's completion event fired: it ends, having moved exactly its size over each of its
    /// links (completion times are whole microseconds, so the meters, which ran at the flow's rate,
    /// are corrected by the fraction of a microsecond between the two), and gives its share to the
    /// flows it shared links with.
    pub fn complete_flow(&mut self, now: SimTime, flow: FlowId, changed: &mut Vec<FlowChange>) {
        self.remove_flow(now, flow, true, changed);
    }

    /// Abandons a flow (its task stopped) and gives its share to the flows it shared links with.
    /// Returns the bytes it had not transferred.
    pub fn end_flow(&mut self, now: SimTime, flow: FlowId, changed: &mut Vec<FlowChange>) -> f64 {
        self.remove_flow(now, flow, false, changed)
    }

    fn remove_flow(&mut self, now: SimTime, flow: FlowId, completed: bool, changed: &mut Vec<FlowChange>) -> f64 {
        let f = self.flows[flow.0 as usize].clone();
        assert!(f.active, "flow {flow:?} ended twice");
        let dt = now.0.saturating_sub(f.updated_at.0) as f64 / US_PER_S;
        // Negative when the meters ran a fraction of a microsecond past the flow's last byte.
        let raw_left = f.remaining_bytes - f.rate_bps * dt;
        let left = raw_left.max(0.0);
        // Meters count exactly the bytes moved: a completed flow moved all of them, an abandoned
        // one at most all of them.
        let correction = if completed { raw_left } else { raw_left.min(0.0) };
        for (k, link) in f.path.links().iter().enumerate() {
            let l = &mut self.links[link.0 as usize];
            l.meter(now);
            l.bytes = (l.bytes + correction).max(0.0);
            l.pull_bps = if l.flows.len() == 1 { 0.0 } else { (l.pull_bps - f.rate_bps).max(0.0) };
            let slot = f.slots[k] as usize;
            l.flows.swap_remove(slot);
            if let Some(&(moved, mk)) = l.flows.get(slot) {
                self.flows[moved.0 as usize].slots[mk as usize] = slot as u32;
            }
        }
        self.flows[flow.0 as usize].active = false;
        self.flows[flow.0 as usize].rate_bps = 0.0;
        self.free_flows.push(flow);
        self.recompute(now, f.path.links(), changed);
        left
    }

    /// Sets a link's capacity (a NAT gateway failing is 0, recovering is its bandwidth).
    pub fn set_capacity(&mut self, now: SimTime, link: LinkId, capacity_bps: f64, changed: &mut Vec<FlowChange>) {
        assert!(capacity_bps >= 0.0 && !capacity_bps.is_nan());
        let before = self.links[link.0 as usize].log_ratio();
        self.links[link.0 as usize].capacity_bps = capacity_bps;
        self.log_ratio_changed(now, link, before);
        self.scratch.dirty.push(link);
        self.recompute_dirty(now, changed);
    }

    /// Opens a log path over `path`; an empty path means no route (nothing is carried).
    pub fn open_log_path(&mut self, now: SimTime, path: Path) -> LogPathId {
        let lp =
            LogPath { path, slots: [0; MAX_PATH_LINKS], demand_bps: 0.0, carried: 0.0, sources: Vec::new(), settled_at: now, active: true };
        let id = match self.free_log_paths.pop() {
            Some(id) => {
                let sources = std::mem::take(&mut self.log_paths[id.0 as usize].sources);
                self.log_paths[id.0 as usize] = LogPath { sources, ..lp };
                id
            }
            None => {
                self.log_paths.push(lp);
                LogPathId(self.log_paths.len() as u32 - 1)
            }
        };
        for (k, link) in path.links().iter().enumerate() {
            let l = &mut self.links[link.0 as usize];
            self.log_paths[id.0 as usize].slots[k] = l.log_paths.len() as u32;
            l.log_paths.push((id, k as u8));
        }
        self.log_paths[id.0 as usize].carried = self.path_carried(id);
        id
    }

    /// Closes a log path that has no sources left.
    pub fn close_log_path(&mut self, lp: LogPathId) {
        let p = self.log_paths[lp.0 as usize].clone();
        assert!(p.active && p.sources.is_empty(), "closed a log path that still has sources");
        for (k, link) in p.path.links().iter().enumerate() {
            let l = &mut self.links[link.0 as usize];
            let slot = p.slots[k] as usize;
            l.log_paths.swap_remove(slot);
            if let Some(&(moved, mk)) = l.log_paths.get(slot) {
                self.log_paths[moved.0 as usize].slots[mk as usize] = slot as u32;
            }
        }
        self.log_paths[lp.0 as usize].active = false;
        self.free_log_paths.push(lp);
    }

    /// A container starts logging `rate_bps` bytes/s into `lp`. Pulls sharing its links slow down.
    pub fn add_log_source(
        &mut self,
        now: SimTime,
        lp: LogPathId,
        rate_bps: f64,
        mode: LogMode,
        changed: &mut Vec<FlowChange>,
    ) -> LogSourceId {
        assert!(rate_bps >= 0.0 && rate_bps.is_finite());
        self.settle_log_path(now, lp);
        let slot = self.log_paths[lp.0 as usize].sources.len() as u32;
        let src = LogSource { path: lp, slot, rate_bps, mode, backlog_bytes: 0.0, totals: LogTotals::default(), active: true };
        let id = match self.free_sources.pop() {
            Some(id) => {
                self.sources[id.0 as usize] = src;
                id
            }
            None => {
                self.sources.push(src);
                LogSourceId(self.sources.len() as u32 - 1)
            }
        };
        self.log_paths[lp.0 as usize].sources.push(id);
        self.change_log_demand(now, lp, rate_bps, changed);
        id
    }

    /// A container stops logging; returns what it lost or stalled over its life.
    pub fn remove_log_source(&mut self, now: SimTime, src: LogSourceId, changed: &mut Vec<FlowChange>) -> LogTotals {
        let s = self.sources[src.0 as usize].clone();
        assert!(s.active, "log source removed twice");
        self.settle_log_path(now, s.path);
        let p = &mut self.log_paths[s.path.0 as usize];
        let slot = s.slot as usize;
        p.sources.swap_remove(slot);
        if let Some(&moved) = p.sources.get(slot) {
            self.sources[moved.0 as usize].slot = slot as u32;
        }
        let totals = self.sources[src.0 as usize].totals;
        self.sources[src.0 as usize].active = false;
        self.free_sources.push(src);
        self.change_log_demand(now, s.path, -s.rate_bps, changed);
        totals
    }

    /// A live source's totals so far.
    pub fn log_totals(&mut self, now: SimTime, src: LogSourceId) -> LogTotals {
        let lp = self.sources[src.0 as usize].path;
        self.settle_log_path(now, lp);
        self.sources[src.0 as usize].totals
    }

    /// Fraction of the log path's demand carried now (1 = all, 0 = blocked).
    pub fn log_carried_fraction(&self, lp: LogPathId) -> f64 {
        self.log_paths[lp.0 as usize].carried
    }

    fn path_carried(&self, lp: LogPathId) -> f64 {
        let p = &self.log_paths[lp.0 as usize];
        if p.path.len == 0 {
            return 0.0;
        }
        p.path.links().iter().map(|l| self.links[l.0 as usize].log_ratio()).fold(1.0, f64::min)
    }

    /// Brings every source of a log path up to `now` at the path's current carried fraction.
    fn settle_log_path(&mut self, now: SimTime, lp: LogPathId) {
        let p = &mut self.log_paths[lp.0 as usize];
        let dt_us = now.0.saturating_sub(p.settled_at.0) as f64;
        p.settled_at = now;
        let carried = p.carried;
        if carried >= 1.0 {
            return;
        }
        let dt = dt_us / US_PER_S;
        for &s in &p.sources {
            let src = &mut self.sources[s.0 as usize];
            match src.mode {
                LogMode::Blocking => src.totals.stalled_us += (1.0 - carried) * dt_us,
                LogMode::NonBlocking { buffer_bytes } => {
                    src.backlog_bytes += src.rate_bps * (1.0 - carried) * dt;
                    let cap = buffer_bytes as f64;
                    if src.backlog_bytes > cap {
                        src.totals.lost_bytes += src.backlog_bytes - cap;
                        src.backlog_bytes = cap;
                    }
                }
            }
        }
    }

    /// Sets the carried fraction of a log path (after settling it), keeping link meters right;
    /// a path that carries its full demand again drains its buffers onto its links' meters.
    fn set_path_carried(&mut self, now: SimTime, lp: LogPathId, carried: f64) {
        self.settle_log_path(now, lp);
        let p = &self.log_paths[lp.0 as usize];
        let old = p.carried;
        let demand = p.demand_bps;
        let path = p.path;
        let mut drained = 0.0;
        if carried >= 1.0 && old < 1.0 {
            for &s in &p.sources {
                drained += std::mem::take(&mut self.sources[s.0 as usize].backlog_bytes);
            }
        }
        if old != carried || drained > 0.0 {
            self.scratch.dirty.extend_from_slice(path.links());
            for link in path.links() {
                let l = &mut self.links[link.0 as usize];
                l.meter(now);
                l.log_carried_bps = (l.log_carried_bps + demand * (carried - old)).max(0.0);
                l.bytes += drained;
                l.note_peak();
            }
        }
        if old != carried {
            self.carried_changes.push(lp);
        }
        self.log_paths[lp.0 as usize].carried = carried;
    }

    /// Whether some log path's carried fraction changed since the last `take_carried_changes`.
    pub fn has_carried_changes(&self) -> bool {
        !self.carried_changes.is_empty()
    }

    /// The log paths whose carried fraction changed (a path may appear more than once; read its
    /// fraction now with `log_carried_fraction`).
    pub fn take_carried_changes(&mut self, out: &mut Vec<LogPathId>) {
        out.append(&mut self.carried_changes);
    }

    fn change_log_demand(&mut self, now: SimTime, lp: LogPathId, delta_bps: f64, changed: &mut Vec<FlowChange>) {
        let path = self.log_paths[lp.0 as usize].path;
        let old_carried = self.log_paths[lp.0 as usize].carried;
        let mut ratios = [1.0f64; MAX_PATH_LINKS];
        for (k, link) in path.links().iter().enumerate() {
            let l = &mut self.links[link.0 as usize];
            ratios[k] = l.log_ratio();
            l.meter(now);
            l.log_demand_bps = (l.log_demand_bps + delta_bps).max(0.0);
            // This path's own carried bytes at its old fraction.
            l.log_carried_bps = (l.log_carried_bps + delta_bps * old_carried).max(0.0);
        }
        let p = &mut self.log_paths[lp.0 as usize];
        p.demand_bps = (p.demand_bps + delta_bps).max(0.0);
        if p.sources.is_empty() {
            p.demand_bps = 0.0;
        }
        for (k, link) in path.links().iter().enumerate() {
            self.log_ratio_changed(now, *link, ratios[k]);
        }
        let carried = self.path_carried(lp);
        self.set_path_carried(now, lp, carried);
        self.scratch.dirty.extend_from_slice(path.links());
        self.recompute_dirty(now, changed);
    }

    /// One recomputation over every link whose log load or capacity changed.
    fn recompute_dirty(&mut self, now: SimTime, changed: &mut Vec<FlowChange>) {
        let mut dirty = std::mem::take(&mut self.scratch.dirty);
        self.recompute(now, &dirty, changed);
        dirty.clear();
        self.scratch.dirty = dirty;
    }

    /// A link's log ratio may have changed: every log path over it gets its carried fraction
    /// recomputed. While ratios stay 1 (the normal case) this costs nothing.
    fn log_ratio_changed(&mut self, now: SimTime, link: LinkId, before: f64) {
        let after = self.links[link.0 as usize].log_ratio();
        if after == before {
            return;
        }
        for i in 0..self.links[link.0 as usize].log_paths.len() {
            let lp = self.links[link.0 as usize].log_paths[i].0;
            let carried = self.path_carried(lp);
            if carried != self.log_paths[lp.0 as usize].carried {
                self.set_path_carried(now, lp, carried);
            }
        }
    }

    /// Water-filling over the connected component of bounded links reachable from `seeds`.
    fn recompute(&mut self, now: SimTime, seeds: &[LinkId], changed: &mut Vec<FlowChange>) {
        self.recompute_with(now, seeds, None, changed);
    }

    /// As `recompute`; `new_flow` is reported whatever its rate.
    fn recompute_with(&mut self, now: SimTime, seeds: &[LinkId], new_flow: Option<FlowId>, changed: &mut Vec<FlowChange>) {
        let sc = &mut self.scratch;
        sc.epoch = sc.epoch.wrapping_add(1);
        if sc.epoch == 0 {
            sc.link_seen.iter_mut().for_each(|e| *e = 0);
            sc.flow_seen.iter_mut().for_each(|e| *e = 0);
            sc.epoch = 1;
        }
        let epoch = sc.epoch;
        sc.comp_links.clear();
        sc.comp_flows.clear();
        sc.stack.clear();
        for &s in seeds {
            if self.links[s.0 as usize].bounded() && sc.link_seen[s.0 as usize] != epoch {
                sc.link_seen[s.0 as usize] = epoch;
                sc.stack.push(s);
            }
        }
        // Breadth over links ↔ flows, through bounded links only.
        while let Some(l) = sc.stack.pop() {
            sc.comp_links.push(l);
            for &(f, _) in &self.links[l.0 as usize].flows {
                if sc.flow_seen[f.0 as usize] == epoch {
                    continue;
                }
                sc.flow_seen[f.0 as usize] = epoch;
                sc.comp_flows.push(f);
                for &l2 in self.flows[f.0 as usize].path.links() {
                    if self.links[l2.0 as usize].bounded() && sc.link_seen[l2.0 as usize] != epoch {
                        sc.link_seen[l2.0 as usize] = epoch;
                        sc.stack.push(l2);
                    }
                }
            }
        }
        // The traversal order is a function of the model's state (link lists change only through
        // these methods), so it is the same on every run: no sort needed.

        // Water-filling.
        sc.heap.clear();
        for &l in &sc.comp_links {
            let link = &self.links[l.0 as usize];
            let i = l.0 as usize;
            // Logs that fill a link leave a rounding residue, not capacity: snap it to zero.
            let left = link.capacity_bps - link.log_carried_bps;
            sc.left_bps[i] = if left > link.capacity_bps * 1e-12 { left } else { 0.0 };
            sc.unfrozen[i] = link.flows.len() as u32;
            if sc.unfrozen[i] > 0 {
                sc.heap.push(std::cmp::Reverse((Share(sc.left_bps[i] / f64::from(sc.unfrozen[i])), l.0)));
            }
        }
        for &f in &sc.comp_flows {
            sc.frozen[f.0 as usize] = false;
        }
        // Each link has one heap entry, keyed at most at its current share: a link's share only
        // grows as flows freeze below it. On pop, a link whose share grew past the next key is
        // re-keyed; otherwise its share is the smallest and fixes its unfrozen flows.
        while let Some(std::cmp::Reverse((Share(key), l))) = sc.heap.pop() {
            let li = l as usize;
            if sc.unfrozen[li] == 0 {
                continue;
            }
            let share = sc.left_bps[li] / f64::from(sc.unfrozen[li]);
            if share > key
                && let Some(std::cmp::Reverse((Share(next), _))) = sc.heap.peek()
                && share > *next
            {
                sc.heap.push(std::cmp::Reverse((Share(share), l)));
                continue;
            }
            for &(f, _) in &self.links[li].flows {
                let fi = f.0 as usize;
                if sc.frozen[fi] {
                    continue;
                }
                sc.frozen[fi] = true;
                sc.new_rate[fi] = share;
                for &l2 in self.flows[fi].path.links() {
                    let j = l2.0 as usize;
                    if !self.links[j].bounded() || sc.link_seen[j] != epoch {
                        continue;
                    }
                    sc.unfrozen[j] -= 1;
                    if j == li {
                        continue;
                    }
                    sc.left_bps[j] = (sc.left_bps[j] - share).max(0.0);
                }
            }
            sc.unfrozen[li] = 0;
        }

        // Apply: settle each flow at its old rate, meter its links, set the new rate.
        for &f in &sc.comp_flows {
            let fi = f.0 as usize;
            let new_rate = sc.new_rate[fi];
            let flow = &mut self.flows[fi];
            let dt = now.0.saturating_sub(flow.updated_at.0) as f64 / US_PER_S;
            // Not clamped at zero: a flow settled a fraction of a microsecond past its last byte
            // keeps the (tiny) negative rest, so its completion corrects the meters exactly.
            flow.remaining_bytes -= flow.rate_bps * dt;
            flow.updated_at = now;
            let old_rate = flow.rate_bps;
            let is_new = new_flow == Some(f);
            if new_rate.to_bits() != old_rate.to_bits() || is_new {
                flow.rate_bps = new_rate;
                let at = event_time(now, flow.remaining_bytes, flow.milestone_bytes, new_rate);
                if at != flow.event_at || is_new {
                    flow.event_at = at;
                    changed.push(FlowChange { flow: f, at });
                }
                // Unbounded links are not in the component: keep their sums by difference.
                for &l in flow.path.links() {
                    let link = &mut self.links[l.0 as usize];
                    if !link.bounded() {
                        link.meter(now);
                        link.pull_bps = (link.pull_bps + new_rate - old_rate).max(0.0);
                        link.note_peak();
                    }
                }
            }
        }
        for &l in &sc.comp_links {
            let link = &mut self.links[l.0 as usize];
            link.meter(now);
            // Every flow of a component link is in the component, its rate now `new_rate`.
            link.pull_bps = link.flows.iter().map(|(f, _)| sc.new_rate[f.0 as usize]).sum();
            link.note_peak();
        }
        for &l in seeds {
            let link = &mut self.links[l.0 as usize];
            if !link.bounded() && link.flows.is_empty() {
                link.meter(now);
                link.pull_bps = 0.0;
            }
        }
    }
}

/// When `remaining` falls to `milestone` at `rate`: whole microseconds, rounded to nearest.
fn event_time(now: SimTime, remaining: f64, milestone: f64, rate: f64) -> Option<SimTime> {
    let to_go = (remaining - milestone).max(0.0);
    if to_go == 0.0 {
        return Some(now);
    }
    if rate <= 0.0 {
        return None;
    }
    Some(now.saturating_add(SimTime::from_secs_f64(to_go / rate)))
}
