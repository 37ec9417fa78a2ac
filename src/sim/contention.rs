//! Memory and CPU contention, as the coordinator sees it: a task's containers start using memory
//! and CPU when it reaches RUNNING and stop when it stops; usage changes may OOM-kill containers,
//! and a killed essential container stops its task through `stop_task` (reason
//! `OutOfMemoryError`), which a service replaces like any other stopped task; swapping slows a
//! container's CPU work; CPU-second work completes the task when it is done.
//!
//! Each call into the memory or CPU part is wrapped so that the recorder is told how the host's
//! memory or CPU in use moved, and the CPU part's moved completion times are rescheduled (only
//! the tasks of that host).

use super::cpu::{Cpu, CpuEvent};
use super::lifecycle::FARGATE;
use super::memory::{Memory, MemoryEvent};
use super::world::{Event, World};
use crate::model::memory::MemoryOutcome;
use crate::model::{HostId, StopReason, TaskId, TaskState};

impl World<'_> {
    /// The task reached RUNNING: its containers start (CPU demand now, memory usage in an
    /// event at the same instant).
    pub(super) fn start_containers(&mut self, task: TaskId) {
        let now = self.now();
        if self.memory.is_some() {
            self.schedule_for_task(now, Event::Memory(MemoryEvent::Start { task }));
        }
        if self.cpu.is_some() {
            let t = self.tasks.get(task);
            let (td, host) = (t.task_definition, t.host);
            self.cpu_call(host, |c| c.start(task, td, host, now));
        }
    }

    /// The task stops (any reason): its containers release memory and CPU. Records what an OOM
    /// stop cost and how much CPU-second work slowed down.
    pub(super) fn stop_containers(&mut self, task: TaskId, host: HostId, workload: u32, reason: StopReason) {
        if self.memory.is_none() && self.cpu.is_none() {
            return;
        }
        let now = self.now();
        let host = (host != FARGATE).then_some(host);
        if self.memory.as_ref().is_some_and(|m| m.knows(task)) {
            self.recorder.memory_task_stopped(now, host.is_some());
            self.memory_call(host, |m, out| m.stop(task, out));
        }
        let service = self.services.of_workload(workload).is_some();
        let mut end = None;
        if self.cpu.is_some() {
            if let Some(old) = self.cpu.as_mut().and_then(|c| c.set_work_event(task, None)) {
                self.queue.cancel(old);
            }
            end = self.cpu_call(host, |c| c.stop(task, now));
        }
        let has_work = end.is_some_and(|e| e.alone.is_some());
        match reason {
            StopReason::Completed => {
                if let Some(slowdown) = end.and_then(|e| e.slowdown()) {
                    self.recorder.cpu_work_completed(slowdown);
                }
            }
            StopReason::OutOfMemory if service => self.recorder.oom_replacement_wanted(),
            StopReason::OutOfMemory => {
                // RunTask work lost: the CPU-seconds done, or the time it ran.
                let ran = now.saturating_sub(self.tasks.get(task).running_at.unwrap_or(now));
                let cpu_s = end.filter(|_| has_work).map(|e| e.done_cpu_seconds);
                self.recorder.oom_work_lost(cpu_s, ran);
            }
            _ => {}
        }
    }

    /// A task's containers start using memory, or one container's usage changes.
    pub(super) fn on_memory(&mut self, event: MemoryEvent) {
        let now = self.now();
        match event {
            MemoryEvent::Start { task } => {
                let t = self.tasks.get(task);
                if t.state != TaskState::Running {
                    return; // stopped in the same instant
                }
                let (td, host, serial) = (t.task_definition, t.host, t.serial);
                self.recorder.memory_task_started(now, host.is_some());
                self.memory_call(host, |m, out| m.start(task, serial, td, host, now, out));
            }
            MemoryEvent::UsageChange { task, container } => {
                let Some(memory) = self.memory.as_ref() else { unreachable!("memory events need the memory part") };
                let host = memory.task_host(task);
                self.memory_call(host, |m, out| m.change(task, container, now, out));
            }
        }
    }

    /// A task's CPU-second work is done: it completes.
    pub(super) fn on_cpu(&mut self, event: CpuEvent) {
        let CpuEvent::WorkDone { task } = event;
        let cpu = self.cpu.as_mut().expect("CPU events need the CPU part");
        cpu.set_work_event(task, None);
        debug_assert_eq!(cpu.finish_at(task), Some(self.now()), "a completion event that was not rescheduled");
        let t = self.tasks.get(task);
        let (host, td, workload, state) = (t.host.unwrap_or(FARGATE), t.task_definition, t.workload, t.state);
        self.stop_task(task, host, td, workload, StopReason::Completed, state);
    }

    /// One call into the memory part, then its consequences: the recorder learns how the host's
    /// usage moved, the next usage changes are scheduled, swap changes reach the CPU part, and
    /// kills stop containers or tasks.
    fn memory_call(&mut self, host: Option<HostId>, call: impl FnOnce(&mut Memory, &mut MemoryOutcome)) {
        let now = self.now();
        let memory = self.memory.as_mut().expect("the memory part");
        let before = host.map_or(0, |h| memory.host_usage_mib(h));
        let mut out = memory.take_outcome();
        call(memory, &mut out);
        let after = host.map_or(0, |h| memory.host_usage_mib(h));
        let swap_speed = memory.swap_speed();
        if let Some(h) = host
            && after != before
        {
            let az = self.fleet.cluster().host(h).az;
            self.recorder.memory_used_changed(now, az, after as i64 - before as i64);
        }
        let horizon = self.scenario.horizon;
        for c in out.next_changes.iter().filter(|c| c.at <= horizon) {
            self.schedule_for_task(c.at, Event::Memory(MemoryEvent::UsageChange { task: c.task, container: c.container }));
        }
        if self.cpu.is_some() {
            for s in &out.swap_changes {
                let speed = if s.swapping { swap_speed } else { 1.0 };
                self.cpu_call(host, |c| c.set_speed(s.task, s.container, speed, now));
            }
        }
        for kill in &out.kills {
            self.recorder.oom_killed(kill.level);
            if kill.stops_task {
                let t = self.tasks.get(kill.task);
                let (td, workload, state) = (t.task_definition, t.workload, t.state);
                self.stop_task(kill.task, host.unwrap_or(FARGATE), td, workload, StopReason::OutOfMemory, state);
            } else if self.cpu.is_some() {
                self.cpu_call(host, |c| c.stop_container(kill.task, kill.container, now));
            }
        }
        if let Some(memory) = self.memory.as_mut() {
            memory.put_outcome(out);
        }
    }

    /// One call into the CPU part, then its consequences: the recorder learns how the host's CPU
    /// in use moved, and moved completion times are rescheduled.
    fn cpu_call<R>(&mut self, host: Option<HostId>, call: impl FnOnce(&mut Cpu) -> R) -> R {
        let now = self.now();
        let cpu = self.cpu.as_mut().expect("the CPU part");
        let before = host.map_or(0.0, |h| cpu.host_used_units(h));
        let result = call(cpu);
        let after = host.map_or(0.0, |h| cpu.host_used_units(h));
        let changes = cpu.take_changes();
        let horizon = self.scenario.horizon;
        for ch in &changes {
            let old = cpu.set_work_event(ch.task, None);
            // Past the horizon (or never: no progress) nothing needs scheduling.
            let Some(at) = ch.finish_at.filter(|&at| at <= horizon) else {
                if let Some(old) = old {
                    self.queue.cancel(old);
                }
                continue;
            };
            let event = Event::Cpu(CpuEvent::WorkDone { task: ch.task });
            let id = match old {
                Some(old) => self.queue.reschedule(old, at, event),
                None => self.queue.schedule(at, event),
            };
            cpu.set_work_event(ch.task, Some(id));
        }
        cpu.put_changes(changes);
        if let Some(h) = host
            && after != before
        {
            let az = self.fleet.cluster().host(h).az;
            self.recorder.cpu_used_changed(now, az, after - before);
        }
        result
    }
}
