//! The memory model against hand-computed cases.

use super::*;

/// Container spec shorthand: hard limit, reservation, essential, process.
fn container(hard: Option<u32>, reservation: u32, essential: bool, process: Option<u32>) -> ContainerMemorySpec {
    ContainerMemorySpec { hard_limit_mib: hard, reservation_mib: reservation, max_swap_mib: 0, essential, process }
}

fn task(task_limit_mib: Option<u32>, containers: Vec<ContainerMemorySpec>) -> TaskMemorySpec {
    TaskMemorySpec { task_limit_mib, containers }
}

/// A process that starts at `start` MiB and grows `per_minute` MiB at each one-minute tick.
fn leak(start: f64, per_minute: f64) -> UsageProcess {
    UsageProcess { leak_mib_per_hour: per_minute * 60.0, ..UsageProcess::constant(start) }
}

/// Drives the model like the event loop: usage changes in (time, task, container) order.
struct Driver {
    model: MemoryModel,
    streams: RngStreams,
    pending: Vec<UsageChange>,
    kills: Vec<(SimTime, OomKill)>,
    swaps: Vec<SwapChange>,
    out: MemoryOutcome,
}

impl Driver {
    fn new(policy: VictimPolicy, processes: Vec<UsageProcess>, specs: Vec<TaskMemorySpec>, hosts: &[u64]) -> Driver {
        Driver {
            model: MemoryModel::new(policy, processes, specs, hosts),
            streams: RngStreams::new(11),
            pending: Vec::new(),
            kills: Vec::new(),
            swaps: Vec::new(),
            out: MemoryOutcome::default(),
        }
    }

    fn collect(&mut self, now: SimTime) {
        self.kills.extend(self.out.kills.iter().map(|k| (now, *k)));
        self.swaps.extend_from_slice(&self.out.swap_changes);
        self.pending.extend_from_slice(&self.out.next_changes);
        for k in self.out.kills.clone() {
            if k.stops_task {
                self.model.stop_task(k.task, &mut self.out);
                self.swaps.extend_from_slice(&self.out.swap_changes);
            }
        }
    }

    fn start(&mut self, id: u32, td: u32, host: Option<u32>, now: SimTime) {
        self.model.start_task((TaskId(id), id), td, host.map(HostId), now, &self.streams, &mut self.out);
        self.collect(now);
    }

    /// Runs every change due up to and including `until`.
    fn run_until(&mut self, until: SimTime) {
        loop {
            self.pending.sort_by_key(|c| std::cmp::Reverse((c.at, c.task, c.container)));
            let Some(next) = self.pending.last().copied().filter(|c| c.at <= until) else { return };
            self.pending.pop();
            self.model.change(next.task, next.container, next.at, &mut self.out);
            self.collect(next.at);
            self.model.check_invariants().expect("conservation after every change");
        }
    }
}

const MIN: u64 = 60;

#[test]
fn a_container_above_its_hard_limit_is_killed_even_on_a_free_host() {
    // 400 MiB growing 10 MiB a minute against a 512 MiB hard limit, alone on a 16 GiB host:
    // 410, 420, … 520 at minute 12 is the first above 512.
    let specs = vec![task(None, vec![container(Some(512), 512, true, Some(0))])];
    let mut d = Driver::new(VictimPolicy::Largest, vec![leak(400.0, 10.0)], specs, &[16 * 1024]);
    d.start(0, 0, Some(0), SimTime::ZERO);
    d.run_until(SimTime::from_secs(60 * MIN));
    let (at, kill) = d.kills[0];
    assert_eq!(at, SimTime::from_secs(12 * MIN));
    assert_eq!((kill.level, kill.usage_mib, kill.stops_task), (OomLevel::Container, 520, true));
    assert_eq!(d.kills.len(), 1);
    assert_eq!(d.model.host_usage_mib(HostId(0)), 0, "the task's memory is released");
}

#[test]
fn a_reservation_only_container_may_use_more_than_its_reservation_while_the_host_has_room() {
    // Reserves 256 MiB, uses 3 GiB on a 4 GiB host: nothing happens.
    let specs = vec![task(None, vec![container(None, 256, true, Some(0))])];
    let mut d = Driver::new(VictimPolicy::Largest, vec![leak(3072.0, 0.0)], specs, &[4096]);
    d.start(0, 0, Some(0), SimTime::ZERO);
    d.run_until(SimTime::from_secs(600 * MIN));
    assert!(d.kills.is_empty());
    assert_eq!(d.model.container_usage_mib(TaskId(0), 0), Some(3072));
}

/// Host of 4,000 MiB. Task 0: a 2,500 MiB container within its 3,000 MiB reservation. Task 1:
/// reserves 500 MiB, starts at 1,000 and grows 100 MiB a minute. At minute 5 the host holds
/// 2,500 + 1,500 = 4,000 (fits); at minute 6, 4,100: pressure.
fn host_pressure(policy: VictimPolicy) -> Driver {
    let specs = vec![task(None, vec![container(None, 3000, true, Some(0))]), task(None, vec![container(None, 500, true, Some(1))])];
    let mut d = Driver::new(policy, vec![leak(2500.0, 0.0), leak(1000.0, 100.0)], specs, &[4000]);
    d.start(0, 0, Some(0), SimTime::ZERO);
    d.start(1, 1, Some(0), SimTime::ZERO);
    d.run_until(SimTime::from_secs(6 * MIN));
    d
}

#[test]
fn under_host_pressure_the_default_policy_kills_the_largest_container_even_within_its_reservation() {
    let d = host_pressure(VictimPolicy::Largest);
    assert_eq!(d.kills.len(), 1);
    let (at, kill) = d.kills[0];
    assert_eq!((at, kill.task, kill.level, kill.usage_mib), (SimTime::from_secs(6 * MIN), TaskId(0), OomLevel::Host, 2500));
    assert_eq!(d.model.host_usage_mib(HostId(0)), 1600);
}

#[test]
fn under_host_pressure_the_alternative_policy_kills_the_container_furthest_above_its_reservation() {
    let d = host_pressure(VictimPolicy::FurthestAboveReservation);
    assert_eq!(d.kills.len(), 1);
    let (at, kill) = d.kills[0];
    assert_eq!((at, kill.task, kill.level, kill.usage_mib), (SimTime::from_secs(6 * MIN), TaskId(1), OomLevel::Host, 1600));
    assert_eq!(d.model.host_usage_mib(HostId(0)), 2500);
}

#[test]
fn a_fargate_task_is_held_to_the_sum_of_its_containers_against_task_memory() {
    // Task memory 1,024 MiB, no container limits: 600 + 300 growing 20 MiB a minute. The sum
    // passes 1,024 when 600 + 300 + 20k > 1024, k = 7 (1,040). The largest (600) dies.
    let specs = vec![task(Some(1024), vec![container(None, 0, true, Some(0)), container(None, 0, true, Some(1))])];
    let mut d = Driver::new(VictimPolicy::Largest, vec![leak(600.0, 0.0), leak(300.0, 20.0)], specs, &[]);
    d.start(0, 0, None, SimTime::ZERO);
    d.run_until(SimTime::from_secs(60 * MIN));
    assert_eq!(d.kills.len(), 1);
    let (at, kill) = d.kills[0];
    assert_eq!((at, kill.container, kill.level, kill.usage_mib), (SimTime::from_secs(7 * MIN), 0, OomLevel::Task, 600));
    assert!(kill.stops_task);
}

#[test]
fn a_non_essential_container_dies_alone_and_an_essential_one_takes_its_task_down() {
    // Container 0 (essential, steady 200 MiB); container 1 (non-essential) leaks past its 256 MiB
    // limit at minute 6 (200 + 10·6 = 260).
    let specs = vec![task(None, vec![container(Some(512), 512, true, Some(0)), container(Some(256), 256, false, Some(1))])];
    let mut d = Driver::new(VictimPolicy::Largest, vec![leak(200.0, 0.0), leak(200.0, 10.0)], specs.clone(), &[8192]);
    d.start(0, 0, Some(0), SimTime::ZERO);
    d.run_until(SimTime::from_secs(60 * MIN));
    assert_eq!(d.kills.len(), 1);
    assert_eq!((d.kills[0].1.container, d.kills[0].1.stops_task), (1, false));
    assert_eq!(d.model.container_usage_mib(TaskId(0), 0), Some(200), "the essential container keeps running");
    assert_eq!(d.model.host_usage_mib(HostId(0)), 200);

    // Swapped roles: the leaking container is the essential one.
    let mut specs = specs;
    specs[0].containers[0].essential = false;
    specs[0].containers[1].essential = true;
    let mut d = Driver::new(VictimPolicy::Largest, vec![leak(200.0, 0.0), leak(200.0, 10.0)], specs, &[8192]);
    d.start(0, 0, Some(0), SimTime::ZERO);
    d.run_until(SimTime::from_secs(60 * MIN));
    assert_eq!((d.kills[0].1.container, d.kills[0].1.stops_task), (1, true));
    assert_eq!(d.model.task_usage_mib(TaskId(0)), None, "the task stopped");
    assert_eq!(d.model.host_usage_mib(HostId(0)), 0);
}

#[test]
fn a_container_starting_above_its_limit_dies_at_once_and_schedules_nothing() {
    let specs = vec![task(None, vec![container(Some(256), 256, true, Some(0))])];
    let mut d = Driver::new(VictimPolicy::Largest, vec![leak(300.0, 1.0)], specs, &[8192]);
    d.start(0, 0, Some(0), SimTime::ZERO);
    assert_eq!(d.kills.len(), 1);
    assert!(d.pending.is_empty());
}

#[test]
fn within_max_swap_a_container_swaps_instead_of_dying_unless_swappiness_is_zero() {
    // Limit 512 MiB, maxSwap 256: 400 + 50/min swaps from minute 3 (550) and dies at minute 8
    // (800 > 768).
    let mut spec = container(Some(512), 512, true, Some(0));
    spec.max_swap_mib = 256;
    let mut d = Driver::new(VictimPolicy::Largest, vec![leak(400.0, 50.0)], vec![task(None, vec![spec.clone()])], &[8192]);
    d.start(0, 0, Some(0), SimTime::ZERO);
    d.run_until(SimTime::from_secs(60 * MIN));
    assert_eq!(d.swaps, [SwapChange { task: TaskId(0), container: 0, swapping: true }]);
    assert_eq!(d.kills[0].0, SimTime::from_secs(8 * MIN));

    // The same container from a task definition with swappiness 0 gets no swap.
    let def = ContainerDefinition {
        name: "app".into(),
        image: "app".into(),
        cpu_units: 0,
        memory_mib: Some(512),
        memory_reservation_mib: None,
        essential: true,
        port_mappings: Vec::new(),
        log_driver: None,
        log_options: Default::default(),
        depends_on: Vec::new(),
        max_swap_mib: Some(256),
        swappiness: Some(0),
        stop_timeout_s: None,
        health_check: None,
    };
    assert_eq!(ContainerMemorySpec::from_definition(&def, None).max_swap_mib, 0);
    let swappy = ContainerDefinition { swappiness: None, ..def };
    assert_eq!(ContainerMemorySpec::from_definition(&swappy, None).max_swap_mib, 256);
}

#[test]
fn host_pressure_within_the_containers_swap_room_swaps_instead_of_killing() {
    // As `host_pressure`, but task 1's container may swap 300 MiB: the excess of 100 (minute 6)
    // to 300 (minute 8) is absorbed; at minute 9 (400 over) the largest dies.
    let mut swappy = container(None, 500, true, Some(1));
    swappy.max_swap_mib = 300;
    let specs = vec![task(None, vec![container(None, 3000, true, Some(0))]), task(None, vec![swappy])];
    let mut d = Driver::new(VictimPolicy::Largest, vec![leak(2500.0, 0.0), leak(1000.0, 100.0)], specs, &[4000]);
    d.start(0, 0, Some(0), SimTime::ZERO);
    d.start(1, 1, Some(0), SimTime::ZERO);
    d.run_until(SimTime::from_secs(8 * MIN));
    assert!(d.kills.is_empty());
    assert!(d.model.host_swapping(HostId(0)));
    assert!(d.model.container_swapping(TaskId(1), 0));
    d.run_until(SimTime::from_secs(9 * MIN));
    assert_eq!(d.kills.iter().map(|(t, k)| (*t, k.task)).collect::<Vec<_>>(), [(SimTime::from_secs(9 * MIN), TaskId(0))]);
    assert!(!d.model.host_swapping(HostId(0)), "1,900 MiB fit in RAM again");
    assert_eq!(d.swaps.last(), Some(&SwapChange { task: TaskId(1), container: 0, swapping: false }));
}

#[test]
fn a_containers_usage_does_not_depend_on_where_it_runs() {
    let walk = UsageProcess {
        movement: Movement::Walk { step_mib: 40.0, min_mib: 0.0, max_mib: 4000.0 },
        spike: Some(Spike { probability: 0.1, size: SizeDistribution::Constant { mib: 100.0 }, length: SimTime::from_secs(30) }),
        ..UsageProcess::constant(500.0)
    };
    let trace = |host: u32, neighbours: bool| {
        let specs = vec![task(None, vec![container(None, 512, true, Some(0))])];
        let mut d = Driver::new(VictimPolicy::Largest, vec![walk.clone()], specs, &[1 << 20, 1 << 20]);
        if neighbours {
            d.start(1, 0, Some(host), SimTime::ZERO);
        }
        d.start(7, 0, Some(host), SimTime::ZERO);
        (1..=100)
            .map(|m| {
                d.run_until(SimTime::from_secs(m * MIN));
                d.model.container_usage_mib(TaskId(7), 0).unwrap()
            })
            .collect::<Vec<_>>()
    };
    let base = trace(0, false);
    assert_eq!(base, trace(1, false));
    assert_eq!(base, trace(0, true));
    assert!(base.windows(2).any(|w| w[0] != w[1]), "the walk moves");
}

#[test]
fn host_usage_equals_the_sum_over_its_containers_at_every_check() {
    // Forty tasks of three moving containers each on four small hosts, under pressure, with
    // kills, restarts and stops; the driver checks conservation after every change.
    let walk = |start: f64| UsageProcess {
        movement: Movement::Walk { step_mib: 60.0, min_mib: 0.0, max_mib: 3000.0 },
        leak_mib_per_hour: 30.0,
        spike: Some(Spike {
            probability: 0.05,
            size: SizeDistribution::Uniform { min_mib: 50.0, max_mib: 400.0 },
            length: SimTime::from_secs(90),
        }),
        ..UsageProcess::constant(start)
    };
    let redraw = UsageProcess {
        movement: Movement::Redraw,
        start: SizeDistribution::Normal { mean_mib: 300.0, std_dev_mib: 80.0 },
        ..UsageProcess::constant(0.0)
    };
    let specs = vec![
        task(
            None,
            vec![container(Some(900), 400, true, Some(0)), container(None, 200, false, Some(1)), container(None, 100, true, Some(2))],
        ),
        task(
            Some(1000),
            vec![container(None, 300, true, Some(1)), container(Some(700), 300, false, Some(0)), container(None, 0, false, None)],
        ),
    ];
    let mut d =
        Driver::new(VictimPolicy::FurthestAboveReservation, vec![walk(400.0), redraw, walk(150.0)], specs, &[3000, 3500, 4000, 4500]);
    let mut next_id = 0;
    for round in 0..40u64 {
        let now = SimTime::from_secs(round * 7 * MIN);
        d.run_until(now);
        for _ in 0..3 {
            d.start(next_id, next_id % 2, Some(next_id % 4), now);
            next_id += 1;
        }
        if round % 5 == 4 {
            d.model.stop_task(TaskId(next_id - 7), &mut d.out);
        }
        d.model.check_invariants().unwrap();
        for h in 0..4 {
            assert!(d.model.host_usage_mib(HostId(h)) <= d.model.host_capacity_mib(HostId(h)));
        }
    }
    assert!(d.kills.iter().any(|(_, k)| k.level == OomLevel::Host), "the case exercises host pressure");
    assert!(d.kills.iter().any(|(_, k)| k.level == OomLevel::Container));
    assert!(d.kills.iter().any(|(_, k)| k.level == OomLevel::Task));
}
