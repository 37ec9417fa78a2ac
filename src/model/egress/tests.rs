//! Closed-form checks of the flow model: processor sharing, water-filling, log loads and buffers,
//! incremental updates, and the execution-role rule.

use super::*;
use crate::engine::SimTime;
use crate::model::taskdef::TaskDefinition;

const MB: u64 = 1_000_000;

fn s(secs: u64) -> SimTime {
    SimTime::from_secs(secs)
}

/// Applies reported changes to a plain map of event times, as a coordinator would.
fn apply(events: &mut Vec<Option<SimTime>>, changed: &mut Vec<FlowChange>) {
    for c in changed.drain(..) {
        let i = c.flow.0 as usize;
        if events.len() <= i {
            events.resize(i + 1, None);
        }
        events[i] = c.at;
    }
}

#[test]
fn n_equal_pulls_on_one_link_all_finish_at_n_s_over_c_exactly() {
    for (n, size, cap) in
        [(1u64, 250 * MB, 100.0 * MB as f64), (3, MB, MB as f64), (7, 413 * MB, 625.0 * MB as f64), (1000, 500 * MB, 12.5e9)]
    {
        let mut net = FlowNetwork::new();
        let link = net.add_link(cap);
        let mut changed = Vec::new();
        let mut events = Vec::new();
        let flows: Vec<FlowId> = (0..n).map(|_| net.start_flow(SimTime::ZERO, Path::new(&[link]), size, 0, &mut changed)).collect();
        apply(&mut events, &mut changed);
        let expected_us = (n as u128 * size as u128 * 1_000_000 / cap as u128) as u64;
        for f in &flows {
            assert_eq!(events[f.0 as usize], Some(SimTime(expected_us)), "n={n} S={size} C={cap}");
        }
        // Ending them one by one at that time changes nobody's completion.
        for f in flows {
            net.end_flow(SimTime(expected_us), f, &mut changed);
            assert!(changed.iter().all(|c| c.at == Some(SimTime(expected_us))), "n={n}: {changed:?}");
            changed.clear();
        }
    }
}

#[test]
fn staggered_flows_finish_at_the_processor_sharing_times() {
    // 10 MB at 0 s and 10 MB at 5 s on 1 MB/s: alone 0–5 s (5 MB done), then 0.5 MB/s each; the
    // first finishes at 5 + 5/0.5 = 15 s; the second then has 5 MB left at 1 MB/s → 20 s.
    let mut net = FlowNetwork::new();
    let link = net.add_link(MB as f64);
    let (mut changed, mut events) = (Vec::new(), Vec::new());
    let a = net.start_flow(s(0), Path::new(&[link]), 10 * MB, 0, &mut changed);
    apply(&mut events, &mut changed);
    assert_eq!(events[a.0 as usize], Some(s(10)));
    let b = net.start_flow(s(5), Path::new(&[link]), 10 * MB, 0, &mut changed);
    apply(&mut events, &mut changed);
    assert_eq!((events[a.0 as usize], events[b.0 as usize]), (Some(s(15)), Some(s(25))));
    net.end_flow(s(15), a, &mut changed);
    apply(&mut events, &mut changed);
    assert_eq!(events[b.0 as usize], Some(s(20)));

    // Three flows: 6 MB at 0, 6 MB at 2, 1 MB at 4, on 1 MB/s. 0–2: A alone (2 done, 4 left).
    // 2–4: A, B at 0.5 (A 3 left, B 5 left). 4–7: three at 1/3 each; C (1 MB) ends at 7
    // (A 2 left, B 4 left). 7–11: A and B at 0.5; A ends at 11 (B 2 left); B alone ends at 13.
    let mut net = FlowNetwork::new();
    let link = net.add_link(MB as f64);
    let mut events = Vec::new();
    let a = net.start_flow(s(0), Path::new(&[link]), 6 * MB, 0, &mut changed);
    let b = net.start_flow(s(2), Path::new(&[link]), 6 * MB, 0, &mut changed);
    let c = net.start_flow(s(4), Path::new(&[link]), MB, 0, &mut changed);
    apply(&mut events, &mut changed);
    assert_eq!(events[c.0 as usize], Some(s(7)));
    net.end_flow(s(7), c, &mut changed);
    apply(&mut events, &mut changed);
    assert_eq!(events[a.0 as usize], Some(s(11)));
    net.end_flow(s(11), a, &mut changed);
    apply(&mut events, &mut changed);
    assert_eq!(events[b.0 as usize], Some(s(13)));
}

#[test]
fn water_filling_gives_capped_flows_their_cap_and_splits_the_rest() {
    // Per-host links of 1, 2, 10 and 10 in front of a shared link of 12: 1, 2, then (12 − 3) / 2.
    let mut net = FlowNetwork::new();
    let nat = net.add_link(12.0);
    let mut changed = Vec::new();
    let flows: Vec<FlowId> = [1.0, 2.0, 10.0, 10.0]
        .iter()
        .map(|&cap| {
            let host = net.add_link(cap);
            net.start_flow(SimTime::ZERO, Path::new(&[host, nat]), 1_000, 0, &mut changed)
        })
        .collect();
    let rates: Vec<f64> = flows.iter().map(|f| net.rate_bps(*f)).collect();
    assert_eq!(rates, vec![1.0, 2.0, 4.5, 4.5]);
    assert_eq!(net.link_throughput_bps(nat), 12.0);
}

#[test]
fn a_flow_on_a_disjoint_link_keeps_its_completion_and_is_not_reported() {
    let mut net = FlowNetwork::new();
    let (l1, l2) = (net.add_link(MB as f64), net.add_link(MB as f64));
    let mut changed = Vec::new();
    let lone = net.start_flow(s(0), Path::new(&[l2]), 10 * MB, 0, &mut changed);
    assert_eq!(net.event_at(lone), Some(s(10)));
    changed.clear();
    let a = net.start_flow(s(1), Path::new(&[l1]), 4 * MB, 0, &mut changed);
    let b = net.start_flow(s(1), Path::new(&[l1]), 4 * MB, 0, &mut changed);
    net.end_flow(s(9), a, &mut changed);
    net.end_flow(s(9), b, &mut changed);
    assert!(changed.iter().all(|c| c.flow != lone), "the flow on l2 was reported: {changed:?}");
    assert_eq!(net.event_at(lone), Some(s(10)));
}

#[test]
fn log_load_reduces_the_pull_rate_by_exactly_the_log_rate() {
    // A saturated 10 MB/s link: the pull gets 10; with 1 MB/s of logs it gets 9.
    let mut net = FlowNetwork::new();
    let link = net.add_link(10.0 * MB as f64);
    let mut changed = Vec::new();
    let pull = net.start_flow(s(0), Path::new(&[link]), 90 * MB, 0, &mut changed);
    assert_eq!(net.rate_bps(pull), 10.0 * MB as f64);
    let lp = net.open_log_path(s(0), Path::new(&[link]));
    changed.clear();
    let src = net.add_log_source(s(0), lp, MB as f64, LogMode::NonBlocking { buffer_bytes: DEFAULT_LOG_BUFFER_BYTES }, &mut changed);
    assert_eq!(net.rate_bps(pull), 9.0 * MB as f64);
    assert_eq!(changed, vec![FlowChange { flow: pull, at: Some(s(10)) }], "90 MB at 9 MB/s");
    assert_eq!(net.link_throughput_bps(link), 10.0 * MB as f64);
    let totals = net.remove_log_source(s(5), src, &mut changed);
    assert_eq!(totals.lost_bytes, 0.0, "a path that carries its logs loses nothing");
    // 45 MB pulled by 5 s, then 45 MB at 10 MB/s.
    assert_eq!(net.event_at(pull), Some(SimTime::from_millis(9_500)));
}

#[test]
fn non_blocking_logs_lose_rate_times_outage_minus_buffer() {
    // Outage of T on the NAT: each container loses max(0, r·T − B).
    for (rate, outage_s, buffer) in
        [(100_000.0, 300, DEFAULT_LOG_BUFFER_BYTES), (10_000.0, 60, DEFAULT_LOG_BUFFER_BYTES), (50_000.0, 10, 1 << 20)]
    {
        let mut net = FlowNetwork::new();
        let (eni, nat) = (net.add_link(1e9), net.add_link(5.0 * BYTES_PER_GBIT));
        let mut changed = Vec::new();
        let lp = net.open_log_path(s(0), Path::new(&[eni, nat]));
        let nb = net.add_log_source(s(0), lp, rate, LogMode::NonBlocking { buffer_bytes: buffer }, &mut changed);
        let bl = net.add_log_source(s(0), lp, rate, LogMode::Blocking, &mut changed);
        net.set_capacity(s(100), nat, 0.0, &mut changed);
        assert_eq!(net.log_carried_fraction(lp), 0.0);
        net.set_capacity(s(100 + outage_s), nat, 5.0 * BYTES_PER_GBIT, &mut changed);
        let lost = net.remove_log_source(s(1000), nb, &mut changed).lost_bytes;
        let expected = (rate * outage_s as f64 - buffer as f64).max(0.0);
        assert!((lost - expected).abs() < 1e-6, "rate {rate}, outage {outage_s}s: lost {lost}, expected {expected}");
        let blocked = net.remove_log_source(s(1000), bl, &mut changed);
        assert_eq!(blocked.lost_bytes, 0.0, "blocking mode drops nothing");
        assert_eq!(blocked.stalled_us, (outage_s * 1_000_000) as f64, "it stalls for the outage");
    }
}

#[test]
fn link_meters_count_pull_and_log_bytes() {
    let mut net = FlowNetwork::new();
    let (eni, igw) = (net.add_link(MB as f64), net.add_link(f64::INFINITY));
    let mut changed = Vec::new();
    let f = net.start_flow(s(0), Path::new(&[eni, igw]), 10 * MB, 0, &mut changed);
    net.end_flow(s(10), f, &mut changed);
    assert_eq!(net.link_bytes(igw, s(20)), 10.0 * MB as f64);
    assert_eq!(net.link_peak_bps(igw), MB as f64);
    let lp = net.open_log_path(s(20), Path::new(&[eni, igw]));
    let src = net.add_log_source(s(20), lp, 1000.0, LogMode::Blocking, &mut changed);
    net.remove_log_source(s(30), src, &mut changed);
    assert_eq!(net.link_bytes(igw, s(40)), 10.0 * MB as f64 + 10_000.0);
    assert_eq!(net.link_throughput_bps(igw), 0.0);
}

#[test]
fn a_milestone_fires_before_completion_then_the_flow_finishes() {
    // SOCI: 100 MB at 10 MB/s with 90 MB still to come at start → start at 1 s, done at 10 s.
    let mut net = FlowNetwork::new();
    let link = net.add_link(10.0 * MB as f64);
    let mut changed = Vec::new();
    let f = net.start_flow(s(0), Path::new(&[link]), 100 * MB, 90 * MB, &mut changed);
    assert_eq!(net.event_at(f), Some(s(1)));
    net.clear_milestone(s(1), f, &mut changed);
    assert_eq!(net.event_at(f), Some(s(10)));
}

#[test]
fn a_link_with_no_capacity_stalls_its_flows_until_it_recovers() {
    let mut net = FlowNetwork::new();
    let link = net.add_link(MB as f64);
    let mut changed = Vec::new();
    let f = net.start_flow(s(0), Path::new(&[link]), 10 * MB, 0, &mut changed);
    changed.clear();
    net.set_capacity(s(2), link, 0.0, &mut changed);
    assert_eq!(changed, vec![FlowChange { flow: f, at: None }]);
    net.set_capacity(s(5), link, MB as f64, &mut changed);
    assert_eq!(net.event_at(f), Some(s(13)));
}

fn taskdef(json: &str) -> TaskDefinition {
    TaskDefinition::from_json_str(json, "t.json").unwrap()
}

#[test]
fn fargate_without_an_execution_role_fails_for_ecr_images_and_awslogs() {
    let ecr = taskdef(
        r#"{"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"512",
            "containerDefinitions":[{"name":"a","image":"123456789012.dkr.ecr.us-east-1.amazonaws.com/a:1"}]}"#,
    );
    assert_eq!(execution_role_failure(&ecr, true), Some(StartFailure::ExecutionRoleForEcr));
    assert_eq!(execution_role_failure(&ecr, false), None, "EC2 uses the container instance role");
    let logs = taskdef(
        r#"{"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"512",
            "containerDefinitions":[{"name":"a","image":"nginx","logConfiguration":{"logDriver":"awslogs",
            "options":{"mode":"blocking","max-buffer-size":"4m"}}}]}"#,
    );
    assert_eq!(execution_role_failure(&logs, true), Some(StartFailure::ExecutionRoleForAwslogs));
    assert_eq!(log_mode(&logs.containers[0].log_options), LogMode::Blocking);
    let with_role = taskdef(
        r#"{"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"512",
            "executionRoleArn":"arn:aws:iam::1:role/x",
            "containerDefinitions":[{"name":"a","image":"nginx","logConfiguration":{"logDriver":"awslogs",
            "options":{"max-buffer-size":"4m"}}}]}"#,
    );
    assert_eq!(execution_role_failure(&with_role, true), None);
    assert_eq!(log_mode(&with_role.containers[0].log_options), LogMode::NonBlocking { buffer_bytes: 4 << 20 });
}

#[test]
fn log_options_default_to_non_blocking_with_ten_mib() {
    let td = taskdef(r#"{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64}]}"#);
    assert_eq!(log_mode(&td.containers[0].log_options), LogMode::NonBlocking { buffer_bytes: 10 * 1024 * 1024 });
}

#[test]
fn bad_log_options_name_their_json_path() {
    let bad = |options: &str, needle: &str| {
        let json = format!(
            r#"{{"family":"f","containerDefinitions":[{{"name":"a","image":"i","memory":64,
                "logConfiguration":{{"logDriver":"awslogs","options":{options}}}}}]}}"#
        );
        let e = TaskDefinition::from_json_str(&json, "t.json").unwrap_err();
        assert!(e.json_path.starts_with("$.containerDefinitions[0].logConfiguration.options"), "{e}");
        assert!(e.message.contains(needle), "{e}");
    };
    bad(r#"{"mode":"lossy"}"#, "blocking");
    bad(r#"{"max-buffer-size":"ten"}"#, "10m");
    bad(r#"{"max-buffer-size":"2g"}"#, "1g");
}

/// Max-min fair rates recomputed from scratch over every flow: the oracle for the incremental
/// water-filling. `flows[i]` lists the links of flow i; `capacity[l]` is what link l leaves for pulls.
fn max_min_reference(capacity: &[f64], flows: &[Vec<usize>]) -> Vec<f64> {
    let mut rate = vec![f64::NAN; flows.len()];
    loop {
        let mut best: Option<(f64, usize)> = None;
        for (l, &cap) in capacity.iter().enumerate() {
            if !cap.is_finite() {
                continue;
            }
            let on: Vec<usize> = (0..flows.len()).filter(|&f| flows[f].contains(&l)).collect();
            let unfrozen = on.iter().filter(|&&f| rate[f].is_nan()).count();
            if unfrozen == 0 {
                continue;
            }
            let used: f64 = on.iter().filter(|&&f| !rate[f].is_nan()).map(|&f| rate[f]).sum();
            let share = ((cap - used).max(0.0)) / unfrozen as f64;
            if best.is_none_or(|(s, _)| share < s) {
                best = Some((share, l));
            }
        }
        let Some((share, l)) = best else { return rate };
        for f in 0..flows.len() {
            if rate[f].is_nan() && flows[f].contains(&l) {
                rate[f] = share;
            }
        }
    }
}

mod incremental_equals_global {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Start { host: usize, nat: usize, mb: u64 },
        End(usize),
        Log { host: usize, nat: usize, rate: f64 },
        Capacity { nat: usize, gbps: f64 },
        Unlog(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..6usize, 0..3usize, 1..500u64).prop_map(|(host, nat, mb)| Op::Start { host, nat, mb }),
            2 => any::<usize>().prop_map(Op::End),
            1 => (0..6usize, 0..3usize, 0.0..50e6f64).prop_map(|(host, nat, rate)| Op::Log { host, nat, rate }),
            1 => (0..3usize, 0.0..10.0f64).prop_map(|(nat, gbps)| Op::Capacity { nat, gbps }),
            1 => any::<usize>().prop_map(Op::Unlog),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
        /// After every operation, each flow's rate equals the from-scratch max-min rate, and every
        /// flow whose event moved was reported (the coordinator's copy equals the model's).
        #[test]
        fn rates_and_reported_events_match_a_full_recomputation(ops in prop::collection::vec(op(), 1..60)) {
            let mut net = FlowNetwork::new();
            // Six host links (0.1–1.25 GB/s), three NATs behind them, an unbounded IGW meter.
            let hosts: Vec<LinkId> = (0..6).map(|i| net.add_link(1e8 * (1 + 2 * i) as f64)).collect();
            let nats: Vec<LinkId> = (0..3).map(|_| net.add_link(5.0 * BYTES_PER_GBIT)).collect();
            let igw = net.add_link(f64::INFINITY);
            let mut live: Vec<(FlowId, [LinkId; 3])> = Vec::new();
            let mut logs: Vec<(LogPathId, LogSourceId)> = Vec::new();
            let mut events: Vec<Option<SimTime>> = Vec::new();
            let mut changed = Vec::new();
            let mut now = SimTime::ZERO;
            for (i, o) in ops.into_iter().enumerate() {
                now = SimTime(now.0 + 250_000 * (i as u64 % 3));
                match o {
                    Op::Start { host, nat, mb } => {
                        let path = [hosts[host], nats[nat], igw];
                        let f = net.start_flow(now, Path::new(&path), mb * MB, 0, &mut changed);
                        live.push((f, path));
                    }
                    Op::End(k) if !live.is_empty() => {
                        let (f, _) = live.remove(k % live.len());
                        net.end_flow(now, f, &mut changed);
                    }
                    Op::End(_) => {}
                    Op::Log { host, nat, rate } => {
                        let lp = net.open_log_path(now, Path::new(&[hosts[host], nats[nat], igw]));
                        let src = net.add_log_source(now, lp, rate, LogMode::Blocking, &mut changed);
                        logs.push((lp, src));
                    }
                    Op::Unlog(k) if !logs.is_empty() => {
                        let (lp, src) = logs.remove(k % logs.len());
                        net.remove_log_source(now, src, &mut changed);
                        net.close_log_path(lp);
                    }
                    Op::Unlog(_) => {}
                    Op::Capacity { nat, gbps } => net.set_capacity(now, nats[nat], gbps * BYTES_PER_GBIT, &mut changed),
                }
                apply(&mut events, &mut changed);
                // The oracle sees each link's capacity minus the logs it carries.
                let caps: Vec<f64> = (0..10u32)
                    .map(|l| {
                        let id = LinkId(l);
                        let cap = net.capacity_bps(id);
                        if cap.is_finite() { (cap - (net.link_throughput_bps(id) - pull_sum(&net, &live, id))).max(0.0) } else { cap }
                    })
                    .collect();
                let paths: Vec<Vec<usize>> = live.iter().map(|(_, p)| p.iter().map(|l| l.0 as usize).collect()).collect();
                let want = max_min_reference(&caps, &paths);
                for ((f, _), w) in live.iter().zip(&want) {
                    let got = net.rate_bps(*f);
                    prop_assert!((got - w).abs() <= 1e-6 * w.max(1.0), "flow {f:?}: rate {got}, max-min {w}");
                    prop_assert_eq!(events[f.0 as usize], net.event_at(*f), "flow {:?}: reported event differs", f);
                }
            }
        }
    }

    fn pull_sum(net: &FlowNetwork, live: &[(FlowId, [LinkId; 3])], link: LinkId) -> f64 {
        live.iter().filter(|(_, p)| p.contains(&link)).map(|(f, _)| net.rate_bps(*f)).sum()
    }
}

#[test]
fn runtime_platform_picks_the_fargate_price_architecture() {
    use crate::model::taskdef::CpuArchitecture;
    let arm = taskdef(
        r#"{"family":"f","runtimePlatform":{"cpuArchitecture":"ARM64"},"containerDefinitions":[{"name":"a","image":"i","memory":64}]}"#,
    );
    assert_eq!(arm.cpu_architecture, CpuArchitecture::Arm64);
    let x86 = taskdef(r#"{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64}]}"#);
    assert_eq!(x86.cpu_architecture, CpuArchitecture::X86_64);
    let e = TaskDefinition::from_json_str(
        r#"{"family":"f","runtimePlatform":{"cpuArchitecture":"arm"},"containerDefinitions":[{"name":"a","image":"i","memory":64}]}"#,
        "t.json",
    )
    .unwrap_err();
    assert_eq!(e.json_path, "$.runtimePlatform.cpuArchitecture");
    assert!(e.message.contains("X86_64 or ARM64"), "{e}");
}

#[test]
fn meters_count_exactly_the_bytes_of_completed_flows() {
    // Flows start at staggered times on shared host links behind one NAT gateway, and each ends
    // at its reported completion time, as a coordinator would run them.
    let mut net = FlowNetwork::new();
    let nat = net.add_link(625e6);
    let hosts: Vec<LinkId> = (0..50).map(|_| net.add_link(156.25e6)).collect();
    let mut changed = Vec::new();
    let mut events: std::collections::BTreeMap<FlowId, SimTime> = std::collections::BTreeMap::new();
    let (mut started, mut total) = (0u64, 0.0);
    let mut now = SimTime::ZERO;
    while started < 1000 || !events.is_empty() {
        let next_start = if started < 1000 { Some(SimTime(started * 7_919)) } else { None };
        let next_end = events.iter().map(|(f, t)| (*t, *f)).min();
        match (next_start, next_end) {
            (Some(t), e) if e.is_none_or(|(te, _)| t <= te) => {
                now = t;
                let f = net.start_flow(now, Path::new(&[hosts[(started * 37 % 50) as usize], nat]), 12_000_000, 0, &mut changed);
                started += 1;
                total += 12e6;
                let _ = f;
            }
            (_, Some((t, f))) => {
                now = t;
                events.remove(&f);
                net.end_flow(now, f, &mut changed);
            }
            _ => unreachable!(),
        }
        for c in changed.drain(..) {
            match c.at {
                Some(at) => events.insert(c.flow, at),
                None => events.remove(&c.flow),
            };
        }
    }
    let metered = net.link_bytes(nat, now);
    assert!((metered - total).abs() < 1e-6 * total, "metered {metered}, moved {total}");
}

#[test]
fn every_link_meters_exactly_the_bytes_of_the_flows_that_crossed_it() {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut net = FlowNetwork::new();
    let nat = net.add_link(6.25e8);
    let igw = net.add_link(f64::INFINITY);
    let hosts: Vec<LinkId> = (0..20).map(|_| net.add_link(1.25e8)).collect();
    let (mut changed, mut events): (Vec<FlowChange>, Vec<Option<SimTime>>) = (Vec::new(), Vec::new());
    let mut live: Vec<bool> = Vec::new();
    let mut now = 0u64;
    let mut started = 0u64;
    let mut next_arrival = 0u64;
    let size = 12 * MB;
    for _ in 0..20_000 {
        // The next event: an arrival or the earliest flow completion.
        let next_flow = events.iter().enumerate().filter(|(i, e)| live[*i] && e.is_some()).map(|(i, e)| (e.unwrap().0, i)).min();
        match next_flow {
            Some((t, i)) if t <= next_arrival => {
                now = t;
                net.complete_flow(SimTime(now), FlowId(i as u32), &mut changed);
                live[i] = false;
            }
            _ => {
                now = next_arrival;
                let h = hosts[rng.random_range(0..hosts.len())];
                let f = net.start_flow(SimTime(now), Path::new(&[h, nat, igw]), size, 0, &mut changed);
                if live.len() <= f.0 as usize {
                    live.resize(f.0 as usize + 1, false);
                }
                live[f.0 as usize] = true;
                started += 1;
                next_arrival = now + rng.random_range(1..40_000);
            }
        }
        apply(&mut events, &mut changed);
    }
    // Drain.
    while let Some((t, i)) = events.iter().enumerate().filter(|(i, e)| live[*i] && e.is_some()).map(|(i, e)| (e.unwrap().0, i)).min() {
        now = t;
        net.complete_flow(SimTime(now), FlowId(i as u32), &mut changed);
        live[i] = false;
        apply(&mut events, &mut changed);
    }
    let expected = (started * size) as f64;
    for link in [nat, igw] {
        let got = net.link_bytes(link, SimTime(now));
        assert!((got - expected).abs() < 1e-9 * expected, "link {link:?}: {got} bytes metered, {expected} moved");
    }
}

#[test]
fn a_behaviour_that_does_not_read_the_cache_plans_the_same_with_or_without_it() {
    for name in PullBehavior::NAMES {
        let b = PullBehavior::parse(name).expect("listed");
        let same = plan_pull(b, Some(true)) == plan_pull(b, Some(false));
        assert_eq!(!b.reads_cache(), same, "{name}");
    }
}
