//! Fargate capacity providers in whole runs: base and weight between FARGATE and FARGATE_SPOT
//! priced by hand, a Spot interruption that kills the task exactly its stop timeout (at most
//! 120 s) after the notice while the replacement starts at the notice, and a Spot capacity
//! shortage with no On-Demand fallback.

mod common;

use clustersim::engine::SimTime;
use clustersim::metrics::Metric;
use clustersim::model::StopReason;
use clustersim::sim::RunResult;

/// Half a vCPU, 1 GiB; its container has a stopTimeout of `{stop}` seconds.
fn taskdef(stop: u32) -> String {
    format!(
        r#"{{ "family": "fg", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
  "containerDefinitions": [{{ "name": "app", "image": "app:1", "essential": true, "stopTimeout": {stop} }}] }}"#
    )
}

fn run_text(body: &str, stop: u32) -> RunResult {
    let text = format!("name = \"spot\"\nseed = 9\ntask_definitions = [\"fg.json\"]\n{body}");
    common::run_first(common::plan(&[("fg.json", &taskdef(stop))], &text))
}

/// One AZ with a /24, service `web` of `desired` tasks on `strategy`, and `extra` tables.
fn scenario(horizon: &str, desired: u32, strategy: &str, extra: &str) -> String {
    format!(
        r#"horizon = "{horizon}"
[cluster]
azs = ["a"]
[network]
eni_attach_delay = "0s"
[network.subnets.sa]
az = "a"
cidr = "10.0.1.0/24"
[workload.web]
kind = "service"
task_definition = "fg"
desired_count = {desired}
subnets = ["sa"]
capacity_provider_strategy = {strategy}
{extra}
"#
    )
}

#[test]
fn base_2_on_fargate_then_1_to_3_on_spot_priced_by_hand() {
    let strategy = r#"[{ capacity_provider = "FARGATE", base = 2, weight = 1 }, { capacity_provider = "FARGATE_SPOT", weight = 3 }]"#;
    let r = run_text(&scenario("1h", 10, strategy, ""), 30);
    // 2 for the base, then 8 at 1 : 3: 4 On-Demand and 6 Spot tasks of 0.5 vCPU and 1 GB for
    // the hour. On-Demand 0.04048 per vCPU-hour and 0.004445 per GB-hour; Spot 70 % off.
    let task_hour = 0.5 * 0.04048 + 1.0 * 0.004445;
    let want = 4.0 * task_hour + 6.0 * task_hour * 0.3;
    let got = r.metrics.get(Metric::CostRunTotal);
    assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    assert_eq!(r.metrics.get(Metric::SpotInterruptions), 0.0);
    // The same bill per provider (providers.csv).
    let rows: Vec<_> = r.providers.iter().map(|p| (p.name.as_str(), p.kind, p.pricing, p.vcpu_hours, p.memory_gb_hours)).collect();
    assert_eq!(
        rows,
        [("FARGATE", "fargate", "on_demand", Some(2.0), Some(4.0)), ("FARGATE_SPOT", "fargate", "spot", Some(3.0), Some(6.0))]
    );
    assert!((r.providers[0].cost_run_usd - 4.0 * task_hour).abs() < 1e-12, "{:?}", r.providers[0]);
    assert!((r.providers[1].cost_run_usd - 6.0 * task_hour * 0.3).abs() < 1e-12, "{:?}", r.providers[1]);
}

#[test]
fn an_interrupted_task_is_killed_at_its_stop_timeout_and_replaced_at_the_notice() {
    for (stop, after) in [(120, 120), (30, 30)] {
        let spot = r#"[{ capacity_provider = "FARGATE_SPOT", weight = 1 }]"#;
        let r = run_text(&scenario("6h", 4, spot, "[fargate_spot]\ninterruptions_per_task_hour = 1.0"), stop);
        let interrupted: Vec<_> = r.tasks.iter().filter(|t| t.stop_reason == Some(StopReason::SpotInterrupted)).collect();
        assert!(interrupted.len() >= 5, "about 4 tasks × 6 h × 1/h interruptions, got {}", interrupted.len());
        assert_eq!(r.metrics.get(Metric::OutcomeSpotInterrupted), interrupted.len() as f64);
        for t in interrupted {
            let notice = t.stopped_at.unwrap().saturating_sub(SimTime::from_secs(after));
            // The service created the replacement at the notice.
            assert!(
                r.tasks.iter().any(|o| o.arrived_at == notice && o.task != t.task),
                "stopTimeout {stop}: no task created at the notice {notice:?} of task {}",
                t.task
            );
        }
        assert_eq!(r.metrics.get(Metric::OutcomeRunningEnd), 4.0);
    }
}

#[test]
fn a_spot_capacity_shortage_delays_spot_tasks_with_no_on_demand_fallback() {
    let spot = r#"[{ capacity_provider = "FARGATE_SPOT", weight = 1 }]"#;
    // From the start: nothing runs until the shortage is over, and then everything does.
    let shortage = "[fargate_spot]\ncapacity_shortages = [{ az = \"a\", start = \"0s\", end = \"30m\" }]";
    let r = run_text(&scenario("1h", 3, spot, shortage), 30);
    assert!(r.metrics.get(Metric::SpotCapacityUnavailable) > 0.0);
    for t in &r.tasks {
        assert!(t.running_at.is_none_or(|at| at >= SimTime::from_secs(1800)), "task {} ran during the shortage", t.task);
    }
    assert_eq!(r.metrics.get(Metric::OutcomeRunningEnd), 3.0, "the service retries until Spot capacity is back");
    // Interruptions during a shortage in the middle of the run cannot be replaced: the service
    // runs below its desired count, which immediate replacements otherwise avoid.
    let both = "[fargate_spot]\ninterruptions_per_task_hour = 1.0\ncapacity_shortages = [{ az = \"a\", start = \"1h\", end = \"2h\" }]";
    let r = run_text(&scenario("3h", 4, spot, both), 30);
    assert!(r.metrics.get(Metric::ServiceTimeDegraded) > 0.0);
    let calm = run_text(&scenario("3h", 4, spot, "[fargate_spot]\ninterruptions_per_task_hour = 1.0"), 30);
    assert!(calm.metrics.get(Metric::SpotInterruptions) > 0.0);
    assert_eq!(calm.metrics.get(Metric::ServiceTimeDegraded), 0.0, "replacements start at the notice");
}

/// A service with deployments on FARGATE and FARGATE_SPOT, interrupted often: an interrupted
/// task leaves its deployment's counts at the notice, gets SIGTERM and stops within its stop
/// timeout (`SpotInterrupted`), and the next step replaces it; the update completes and the
/// service ends with its desired count running.
#[test]
fn a_service_with_deployments_on_fargate_spot_replaces_interrupted_tasks() {
    let strategy = r#"[{ capacity_provider = "FARGATE", base = 1, weight = 1 }, { capacity_provider = "FARGATE_SPOT", weight = 3 }]"#;
    let extra = "[fargate_spot]\ninterruptions_per_task_hour = 2.0";
    let text = format!("name = \"spot\"\nseed = 9\ntask_definitions = [\"fg.json\"]\n{}", scenario("4h", 8, strategy, extra))
        .replace("desired_count = 8", "desired_count = 8\ndeployments = [{ at = \"2h\" }]\nexit_after_sigterm = \"10s\"");
    let r = common::run_first(common::plan(&[("fg.json", &taskdef(30))], &text));
    let interrupted: Vec<_> = r.tasks.iter().filter(|t| t.stop_reason == Some(StopReason::SpotInterrupted)).collect();
    assert!(interrupted.len() >= 5, "{} interrupted", interrupted.len());
    assert_eq!(r.metrics.get(Metric::SpotInterruptions), interrupted.len() as f64);
    let update = r.deployments.iter().find(|d| d.deployment == 1).expect("the update");
    assert_eq!(update.outcome, "completed", "{:?}", r.deployments);
    let running_at_end = r.tasks.iter().filter(|t| t.running_at.is_some() && t.stopped_at.is_none()).count();
    assert_eq!(running_at_end, 8);
}

/// Service auto scaling on Fargate Spot with frequent interruptions: the load rises, then falls,
/// so the service scales out and in while Spot tasks are interrupted and replaced. The service's
/// own bookkeeping (active + waiting = desired) is checked at the end of the run, and a task
/// whose notice came is never the one a scale-in picks (it is on its way out already).
#[test]
fn a_scaled_service_on_fargate_spot_scales_out_and_in_through_interruptions() {
    let load = r#"{ schedule = [{ from = "0s", rate_per_s = 100 }, { from = "1h", rate_per_s = 400 }, { from = "3h", rate_per_s = 50 }] }"#;
    let extra = format!(
        "[workload.web.auto_scaling]\nmin_capacity = 2\nmax_capacity = 40\ncpu_seconds_per_request = 0.002\n\
         policies = [{{ metric = \"cpu\", target = 50 }}]\nload = {load}\n[fargate_spot]\ninterruptions_per_task_hour = 6.0"
    );
    let strategy = r#"[{ capacity_provider = "FARGATE", base = 1, weight = 1 }, { capacity_provider = "FARGATE_SPOT", weight = 3 }]"#;
    let r = run_text(&scenario("5h", 4, strategy, &extra), 30);
    let m = |metric| r.metrics.get(metric);
    assert!(m(Metric::SpotInterruptions) >= 10.0, "{}", m(Metric::SpotInterruptions));
    let (outs, ins) = (m(Metric::ServiceScaleOuts), m(Metric::ServiceScaleIns));
    assert!(outs >= 1.0 && ins >= 2.0, "{outs} out, {ins} in");
    let scaled_in = r.tasks.iter().filter(|t| t.stop_reason == Some(StopReason::ScaledIn)).count();
    assert!(scaled_in > 0);
}
