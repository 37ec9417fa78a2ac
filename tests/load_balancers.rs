//! Load balancers and health checks in whole runs: what Elastic Load Balancing refuses, the
//! addresses its nodes take from the subnets, how long a new target takes to turn healthy, and
//! how ECS stops tasks that fail their target-group or container health checks (with the
//! circuit breaker's second stage).

mod common;

use clustersim::engine::SimTime;
use clustersim::metrics::Metric;
use clustersim::model::StopReason;
use clustersim::scenario::sweep::Plan;
use clustersim::sim::RunResult;

const FG: &str = r#"{ "family": "fg", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
  "containerDefinitions": [{ "name": "app", "image": "app:1", "essential": true }] }"#;
/// The same service with a container health check (defaults: 30 s interval, 3 retries).
const FG_CHECKED: &str = r#"{ "family": "fg-checked", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
  "containerDefinitions": [{ "name": "app", "image": "app:2", "essential": true,
    "healthCheck": { "command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"] } }] }"#;

fn plan_text(body: &str) -> Result<Plan, String> {
    let text = format!("name = \"lb\"\nseed = 1\ntask_definitions = [\"fg.json\", \"fgc.json\"]\n{body}");
    common::plan(&[("fg.json", FG), ("fgc.json", FG_CHECKED)], &text)
}

fn run_text(body: &str) -> RunResult {
    common::run_first(plan_text(body))
}

/// Two AZs with a /24 each (`sa`, `sb`), and a /28 in the second (`tiny`).
const NETWORK: &str = r#"[network]
eni_attach_delay = "0s"
[network.subnets.sa]
az = "a"
cidr = "10.0.1.0/24"
[network.subnets.sb]
az = "b"
cidr = "10.0.2.0/24"
[network.subnets.tiny]
az = "b"
cidr = "10.0.3.0/28"
"#;

/// Two AZs with a /24 each, an ALB (or what `lb` says) and a Fargate service `web` behind it.
fn scenario(lb: &str, service: &str, scheduler: &str) -> String {
    format!(
        r#"horizon = "2h"
[cluster]
azs = ["a", "b"]
[service_scheduler]
{scheduler}
{NETWORK}[load_balancers.front]
{lb}
[workload.web]
kind = "service"
task_definition = "fg"
launch_type = "FARGATE"
subnets = ["sa", "sb"]
load_balancer = "front"
{service}
"#
    )
}

const ALB: &str = "type = \"alb\"\nsubnets = [\"sa\", \"sb\"]";
const STOP_FIRST: &str = "unhealthy_tasks = \"stop_first\"";

#[test]
fn elastic_load_balancing_refuses_an_alb_in_one_az_a_small_subnet_and_an_uncovered_az() {
    let one_az = plan_text(&scenario("type = \"alb\"\nsubnets = [\"sa\"]", "desired_count = 1", "")).unwrap_err();
    assert!(one_az.contains("load_balancers.front.subnets") && one_az.contains("at least two Availability Zones"), "{one_az}");
    let small = plan_text(&scenario("type = \"alb\"\nsubnets = [\"sa\", \"tiny\"]", "desired_count = 1", "")).unwrap_err();
    assert!(small.contains("load_balancers.front.subnets") && small.contains("/27 or larger"), "{small}");
    // An NLB may live in one AZ, but then cannot serve tasks in the other.
    let uncovered = plan_text(&scenario("type = \"nlb\"\nsubnets = [\"sa\"]", "desired_count = 1", "")).unwrap_err();
    assert!(uncovered.contains("workload.web.load_balancer") && uncovered.contains("has no subnet"), "{uncovered}");
    let too_many =
        plan_text(&scenario("type = \"alb\"\nsubnets = [\"sa\", \"sb\"]\naddresses_per_az = 60", "desired_count = 1", "")).unwrap_err();
    assert!(too_many.contains("addresses_per_az") && too_many.contains("100"), "{too_many}");
    assert!(plan_text(&scenario(ALB, "desired_count = 1", "")).is_ok());
}

#[test]
fn the_load_balancer_nodes_hold_addresses_in_its_subnets() {
    let r = run_text(&scenario(&format!("{ALB}\naddresses_per_az = 3"), "desired_count = 4", ""));
    let held: u32 = r.subnets.iter().map(|s| s.usable - s.free_at_end).sum();
    // 3 ALB addresses in each of the two subnets, and the 4 tasks' ENIs.
    assert_eq!(held, 3 * 2 + 4);
    let r = run_text(&scenario("type = \"nlb\"\nsubnets = [\"sa\", \"sb\"]", "desired_count = 4", ""));
    let held: u32 = r.subnets.iter().map(|s| s.usable - s.free_at_end).sum();
    assert_eq!(held, 2 + 4, "an NLB has one address per AZ");
}

/// Desired 1, (100, 200), updated at 10 min: the old task stops once the new one is healthy.
fn replaced_after(scheduler: &str) -> (SimTime, SimTime) {
    let r = run_text(&scenario(ALB, "desired_count = 1\ndeployments = [{ at = \"10m\" }]", scheduler));
    let new = r.tasks.iter().find(|t| t.arrived_at >= SimTime::from_secs(600) && t.running_at.is_some()).unwrap();
    let old = r.tasks.iter().find(|t| t.stop_reason == Some(StopReason::ServiceSchedulerInitiated)).unwrap();
    assert_eq!(r.deployments[1].outcome, "completed");
    (new.running_at.unwrap(), old.stopped_at.unwrap())
}

#[test]
fn a_new_target_turns_healthy_after_five_checks_then_the_old_one_drains_300_s() {
    // 5 × 30 s to healthy, the default 300 s deregistration delay, the 30 s stop timeout.
    let (running, stopped) = replaced_after("");
    assert_eq!(stopped.saturating_sub(running), SimTime::from_secs(150 + 300 + 30));
    // The ALB guide's reading: one passing check.
    let (running, stopped) = replaced_after("new_target_health = \"one_check\"");
    assert_eq!(stopped.saturating_sub(running), SimTime::from_secs(30 + 300 + 30));
    // ACTIVATING takes 10 s before the load balancer checks the target.
    let (running, stopped) = replaced_after("target_registration_time = \"10s\"");
    assert_eq!(stopped.saturating_sub(running), SimTime::from_secs(10 + 150 + 300 + 30));
}

#[test]
fn a_failing_target_is_stopped_after_the_grace_period_and_drained() {
    // The earlier behaviour: an unhealthy task is stopped at once and replaced afterwards.
    let service = "desired_count = 1\nhealth_check_grace_period = \"120s\"\nhealth_failures = { target = 1.0 }";
    let r = run_text(&scenario(ALB, service, STOP_FIRST));
    let first = r.tasks.iter().filter(|t| t.running_at.is_some()).min_by_key(|t| t.running_at).unwrap();
    assert_eq!(first.stop_reason, Some(StopReason::ElbHealthCheck));
    // Unhealthy at 60 s (2 × 30 s) but ignored until 120 s; then 300 s of draining, 30 s to stop.
    assert_eq!(first.stopped_at.unwrap().saturating_sub(first.running_at.unwrap()), SimTime::from_secs(120 + 300 + 30));
    assert!(r.service_events.iter().any(|e| e.message.contains("is unhealthy in (target-group targetgroup/front-web)")));
    // Every task fails: the service keeps replacing them.
    let unhealthy = r.metrics.get(Metric::OutcomeUnhealthy);
    assert!(unhealthy >= 10.0, "{unhealthy}");
}

#[test]
fn failing_container_health_checks_trip_the_circuit_breaker_in_its_second_stage() {
    let service = "desired_count = 1
deployment_circuit_breaker = { enable = true, rollback = true }
deployments = [{ at = \"10m\", task_definition = \"fg-checked\" }]
health_failures = { container = 1.0 }";
    let r = run_text(&scenario(ALB, service, STOP_FIRST));
    // Only the new revision has a container check; each of its tasks fails it at 90 s and stops
    // at once. Desired 1: the breaker trips at 3 and rolls back.
    let failed: Vec<_> = r.tasks.iter().filter(|t| t.stop_reason == Some(StopReason::ContainerHealthCheck)).collect();
    assert_eq!(failed.len(), 3);
    for t in &failed {
        assert_eq!(t.stopped_at.unwrap().saturating_sub(t.running_at.unwrap()), SimTime::from_secs(90));
    }
    assert_eq!((r.deployments[1].outcome, r.deployments[1].failed_tasks), ("rolled_back", 3));
    assert_eq!(r.deployments[2].outcome, "completed");
    assert_eq!(r.metrics.get(Metric::OutcomeUnhealthy), 3.0);
}

#[test]
fn blue_green_starts_the_whole_new_set_and_stops_the_old_one_after_the_bake_time() {
    let service = "desired_count = 4
maximum_percent = 100
minimum_healthy_percent = 100
strategy = \"blue_green\"
bake_time = \"10m\"
deployments = [{ at = \"10m\" }]";
    let r = run_text(&scenario(ALB, service, ""));
    let d = &r.deployments[1];
    assert_eq!(d.outcome, "completed");
    // The green set runs at full size beside the blue one, whatever maximumPercent says.
    assert_eq!((d.peak_tasks, d.peak_addresses), (8, 8));
    let green_healthy = r.tasks.iter().filter(|t| t.arrived_at >= SimTime::from_secs(600)).map(|t| t.running_at.unwrap()).max().unwrap()
        + SimTime::from_secs(150);
    // Blue stops together: bake 600 s after the shift, then 300 s draining and 30 s to stop.
    let blue: Vec<_> = r.tasks.iter().filter(|t| t.stop_reason == Some(StopReason::ServiceSchedulerInitiated)).collect();
    assert_eq!(blue.len(), 4);
    for t in blue {
        assert_eq!(t.stopped_at, Some(green_healthy + SimTime::from_secs(600 + 300 + 30)));
    }
    assert!(plan_text(&scenario(ALB, "desired_count = 1\nstrategy = \"blue_green\"", "")).unwrap_err().contains("bake_time"));
}

/// The blue/green family with traffic shifted by `shift` (service keys): when every green task
/// is healthy, the times of the shift's events after that, and the blue tasks' stop time.
fn shift_timeline(shift: &str) -> (SimTime, Vec<(SimTime, String)>, Vec<SimTime>) {
    let service = format!("desired_count = 4\n{shift}\ndeployments = [{{ at = \"10m\" }}]");
    let r = run_text(&scenario(ALB, &service, ""));
    let d = &r.deployments[1];
    assert_eq!(d.outcome, "completed");
    assert_eq!((d.peak_tasks, d.peak_addresses), (8, 8), "both revisions at full size");
    let green_healthy = r.tasks.iter().filter(|t| t.arrived_at >= SimTime::from_secs(600)).map(|t| t.running_at.unwrap()).max().unwrap()
        + SimTime::from_secs(150);
    let shifts = r
        .service_events
        .iter()
        .filter(|e| e.message.contains("production traffic"))
        .map(|e| (e.time.saturating_sub(green_healthy), e.message.clone()))
        .collect();
    let blue = r.tasks.iter().filter(|t| t.stop_reason == Some(StopReason::ServiceSchedulerInitiated)).map(|t| t.stopped_at.unwrap());
    (green_healthy, shifts, blue.map(|t| t.saturating_sub(green_healthy)).collect())
}

fn secs(s: u64) -> SimTime {
    SimTime::from_secs(s)
}

#[test]
fn a_linear_deployment_shifts_equal_steps_with_a_wait_between_them_and_then_bakes() {
    // 30 % every 2 minutes: 30, 60, 90 and 100 %, three waits (none after the last step).
    let (_, shifts, blue) =
        shift_timeline("strategy = \"linear\"\nbake_time = \"10m\"\nlinear = { step_percent = 30, step_bake_time = \"2m\" }");
    let times: Vec<SimTime> = shifts.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, vec![secs(0), secs(120), secs(240), secs(360)]);
    assert!(shifts[0].1.contains("shifted 30 % of production traffic") && shifts[0].1.contains("next step in 120 s"), "{}", shifts[0].1);
    assert!(shifts[2].1.contains("shifted 90 %"), "{}", shifts[2].1);
    assert!(shifts[3].1.contains("production traffic shifted to the new revision; bake time 600 s"), "{}", shifts[3].1);
    // Blue stops after the last step, the bake time, its 300 s deregistration and 30 s to stop.
    assert_eq!(blue, vec![secs(360 + 600 + 300 + 30); 4]);
}

#[test]
fn a_canary_deployment_shifts_its_share_then_the_rest_after_the_canary_bake_time() {
    // ECS's defaults: 5 % for 10 minutes.
    let (_, shifts, blue) = shift_timeline("strategy = \"canary\"\nbake_time = \"0m\"");
    let times: Vec<SimTime> = shifts.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, vec![secs(0), secs(600)]);
    assert!(shifts[0].1.contains("shifted 5 % of production traffic"), "{}", shifts[0].1);
    assert_eq!(blue, vec![secs(600 + 300 + 30); 4]);
}

#[test]
fn code_deploy_shifts_by_its_predefined_configuration_and_waits_before_terminating_the_original_set() {
    let cd = "deployment_controller = \"code_deploy\"
code_deploy = { config = \"CodeDeployDefault.ECSLinear10PercentEvery1Minutes\", termination_wait = \"5m\" }";
    let (_, shifts, blue) = shift_timeline(cd);
    // Ten steps of 10 %, a minute apart: all traffic moves 9 minutes after the first.
    assert_eq!(shifts.len(), 10);
    assert_eq!(shifts.last().unwrap().0, secs(540));
    assert_eq!(blue, vec![secs(540 + 300 + 300 + 30); 4]);
    let custom = "deployment_controller = \"code_deploy\"
code_deploy = { config = { type = \"canary\", percent = 20, interval = \"3m\" }, termination_wait = \"0m\" }";
    let (_, shifts, blue) = shift_timeline(custom);
    assert_eq!(shifts.iter().map(|(t, _)| *t).collect::<Vec<_>>(), vec![secs(0), secs(180)]);
    assert_eq!(blue, vec![secs(180 + 300 + 30); 4]);
}

/// Desired 1 behind the ALB, every task failing its target checks 30 minutes after RUNNING
/// (found at the second failed check, 30 s later): the first task and the one that replaced it.
fn first_failure(service: &str) -> (clustersim::sim::TaskRow, clustersim::sim::TaskRow) {
    let body = format!("desired_count = 1\nhealth_failures = {{ target = 1.0, after = \"30m\" }}\n{service}");
    let r = run_text(&scenario(ALB, &body, ""));
    let mut placed: Vec<_> = r.tasks.iter().filter(|t| t.running_at.is_some()).cloned().collect();
    placed.sort_by_key(|t| t.running_at);
    assert_eq!(placed[0].stop_reason, Some(StopReason::ElbHealthCheck));
    (placed[0].clone(), placed[1].clone())
}

#[test]
fn an_unhealthy_task_runs_until_its_replacement_is_healthy_when_the_maximum_allows() {
    let (first, second) = first_failure("");
    let failed = first.running_at.unwrap() + secs(1800 + 30);
    // Its replacement is created when it fails (maximumPercent 200 leaves room for it) ...
    assert_eq!(second.arrived_at, failed);
    // ... and it drains (300 s) and stops (30 s) only once the replacement is healthy (5 × 30 s).
    assert_eq!(first.stopped_at.unwrap(), second.running_at.unwrap() + secs(150 + 300 + 30));
}

#[test]
fn an_unhealthy_task_stops_first_when_the_maximum_leaves_no_room() {
    let (first, second) = first_failure("maximum_percent = 100\nminimum_healthy_percent = 0");
    let failed = first.running_at.unwrap() + secs(1800 + 30);
    assert_eq!(first.stopped_at.unwrap(), failed + secs(300 + 30));
    // The stopping task counts toward the maximum until it is STOPPED.
    assert_eq!(second.arrived_at, first.stopped_at.unwrap());
}

#[test]
fn an_unknown_unhealthy_task_rule_is_refused_with_the_two_allowed() {
    let e = plan_text(&scenario(ALB, "desired_count = 1", "unhealthy_tasks = \"ignore\"")).unwrap_err();
    assert!(e.contains("service_scheduler.unhealthy_tasks") && e.contains("replace_first, stop_first"), "{e}");
}

/// Four tasks, blue/green with a 10-minute bake time, updated at 10 minutes.
const BLUE_GREEN_UPDATE: &str = "desired_count = 4
strategy = \"blue_green\"
bake_time = \"10m\"
deployments = [{ at = \"10m\" }]";

#[test]
fn lifecycle_hooks_hold_their_stage_until_they_report_polled_every_30_s() {
    let hooks = "lifecycle_hooks = [
  { stages = [\"PRE_SCALE_UP\"], duration = \"70s\" },
  { stages = [\"POST_SCALE_UP\", \"POST_PRODUCTION_TRAFFIC_SHIFT\"], duration = \"2m\" },
]";
    let r = run_text(&scenario(ALB, &format!("{BLUE_GREEN_UPDATE}\n{hooks}"), ""));
    assert_eq!(r.deployments[1].outcome, "completed");
    // PRE_SCALE_UP answers IN_PROGRESS at 0, 30 and 60 s and SUCCEEDED at 90 s: green starts then.
    let green: Vec<_> = r.tasks.iter().filter(|t| t.arrived_at >= secs(600)).collect();
    assert_eq!(green.len(), 4);
    assert!(green.iter().all(|t| t.arrived_at == secs(600 + 90)), "{:?}", green.iter().map(|t| t.arrived_at).collect::<Vec<_>>());
    let green_healthy = green.iter().map(|t| t.running_at.unwrap()).max().unwrap() + secs(150);
    // POST_SCALE_UP holds the shift 120 s; POST_PRODUCTION_TRAFFIC_SHIFT holds the bake 120 s.
    let shifted = r.service_events.iter().find(|e| e.message.contains("production traffic shifted")).unwrap().time;
    assert_eq!(shifted, green_healthy + secs(120));
    let blue = r.tasks.iter().filter(|t| t.stop_reason == Some(StopReason::ServiceSchedulerInitiated));
    assert!(blue.map(|t| t.stopped_at.unwrap()).all(|t| t == shifted + secs(120 + 600 + 300 + 30)));
}

#[test]
fn a_failed_lifecycle_hook_rolls_back_to_the_old_tasks_which_kept_running() {
    let hooks = "lifecycle_hooks = [{ stages = [\"POST_SCALE_UP\"], duration = \"1m\", result = \"failed\" }]";
    let r = run_text(&scenario(ALB, &format!("{BLUE_GREEN_UPDATE}\n{hooks}"), ""));
    assert_eq!(r.deployments[1].outcome, "rolled_back");
    assert_eq!(r.deployments[2].outcome, "completed");
    // No third set: the original four run on, the four green ones stop after their drain.
    assert_eq!(r.tasks.len(), 8);
    let green: Vec<_> = r.tasks.iter().filter(|t| t.arrived_at >= secs(600)).collect();
    let green_healthy = green.iter().map(|t| t.running_at.unwrap()).max().unwrap() + secs(150);
    assert!(green.iter().all(|t| t.stopped_at == Some(green_healthy + secs(60 + 300 + 30))));
    assert!(r.tasks.iter().filter(|t| t.arrived_at < secs(600)).all(|t| t.stopped_at.is_none()));
    assert!(r.service_events.iter().any(|e| e.message.contains("a lifecycle hook for POST_SCALE_UP returned FAILED")));
}

#[test]
fn lifecycle_hooks_need_an_ecs_native_traffic_shift_and_a_known_stage() {
    let hooks = |extra: &str, stages: &str| format!("desired_count = 1\n{extra}\nlifecycle_hooks = [{{ stages = [{stages}] }}]");
    let e = plan_text(&scenario(ALB, &hooks("", "\"POST_SCALE_UP\""), "")).unwrap_err();
    assert!(e.contains("workload.web.lifecycle_hooks") && e.contains("strategy"), "{e}");
    let bg = "strategy = \"blue_green\"\nbake_time = \"0m\"";
    let e = plan_text(&scenario(ALB, &hooks(bg, "\"RECONCILE_SERVICE\""), "")).unwrap_err();
    assert!(e.contains("lifecycle_hooks[0].stages") && e.contains("not modelled"), "{e}");
    let e = plan_text(&scenario(ALB, &hooks(bg, "\"BEFORE_INSTALL\""), "")).unwrap_err();
    assert!(e.contains("PRE_SCALE_UP, POST_SCALE_UP"), "{e}");
    assert!(plan_text(&scenario(ALB, &hooks(bg, "\"TEST_TRAFFIC_SHIFT\""), "")).is_ok());
}

#[test]
fn an_alb_that_grows_takes_addresses_from_its_subnets_and_gives_them_back() {
    let lb = format!(
        "{ALB}\naddresses_per_az = 3\nscaling = [{{ at = \"30m\", addresses_per_az = 10 }}, {{ at = \"1h\", addresses_per_az = 4 }}]"
    );
    let r = run_text(&scenario(&lb, "desired_count = 1", ""));
    assert_eq!(r.metrics.get(Metric::LbAddressesPeak), 20.0);
    assert_eq!(r.metrics.get(Metric::LbScaleUpsShort), 0.0);
    // At the end: 4 per AZ, and the service's one task holds one address.
    let free: u32 = r.subnets.iter().take(2).map(|s| s.free_at_end).sum();
    let usable: u32 = r.subnets.iter().take(2).map(|s| s.usable).sum();
    assert_eq!(free, usable - 8 - 1);
    // Without scaling the peak is what the nodes hold from the start.
    let r = run_text(&scenario(ALB, "desired_count = 1", ""));
    assert_eq!(r.metrics.get(Metric::LbAddressesPeak), 4.0);
    assert!(r.metrics.get(Metric::LbScaleUpsShort).is_nan());
}

#[test]
fn an_alb_short_of_addresses_takes_what_its_subnets_have_and_is_counted() {
    // Two /25s (123 usable each) nearly filled by 240 tasks: the ALB cannot grow to 6 per AZ.
    let lb = format!("{ALB}\nscaling = [{{ at = \"1h\", addresses_per_az = 6 }}]");
    let text = scenario(&lb, "desired_count = 240", "").replace("10.0.1.0/24", "10.0.1.0/25").replace("10.0.2.0/24", "10.0.2.0/25");
    let r = run_text(&text);
    assert_eq!(r.metrics.get(Metric::LbScaleUpsShort), 1.0);
    let peak = r.metrics.get(Metric::LbAddressesPeak);
    assert!((4.0..12.0).contains(&peak), "{peak}");
    let e =
        plan_text(&scenario(&format!("{ALB}\nscaling = [{{ at = \"1h\", addresses_per_az = 51 }}]"), "desired_count = 1", "")).unwrap_err();
    assert!(e.contains("load_balancers.front.scaling[0].addresses_per_az") && e.contains("100 addresses"), "{e}");
}

/// A bridge-mode service of six tasks behind an ALB on two m5.large hosts, its container on
/// `host_port` (0: a dynamic port from the agent's ephemeral range) with `cpu` units: the task
/// definition and the scenario.
fn bridge_alb_scenario(host_port: u16, cpu: u32) -> (String, String) {
    let td = format!(
        r#"{{ "family": "bridge", "networkMode": "bridge", "containerDefinitions": [{{ "name": "app", "image": "app:1",
  "essential": true, "cpu": {cpu}, "memory": 256, "portMappings": [{{ "containerPort": 8080, "hostPort": {host_port} }}] }}] }}"#
    );
    let text = format!(
        r#"name = "ports"
seed = 1
horizon = "1h"
task_definitions = ["bridge.json"]
[cluster]
azs = ["a", "b"]
{NETWORK}
[host_groups.main]
instance_type = "m5.large"
count_per_az = 1
subnets = ["sa", "sb"]
[load_balancers.front]
type = "alb"
subnets = ["sa", "sb"]
[workload.web]
kind = "service"
task_definition = "bridge"
desired_count = 6
load_balancer = "front"
"#
    );
    (td, text)
}

fn bridge_behind_alb(host_port: u16) -> RunResult {
    let (td, text) = bridge_alb_scenario(host_port, 256);
    common::run_first(common::plan(&[("bridge.json", &td)], &text))
}

#[test]
fn dynamic_host_ports_let_several_tasks_of_a_service_share_an_instance_behind_its_load_balancer() {
    let running = |r: &RunResult| r.tasks.iter().filter(|t| t.running_at.is_some()).count();
    // hostPort 0: the agent picks a port per task; the scheduler does not count them.
    let dynamic = bridge_behind_alb(0);
    assert_eq!(running(&dynamic), 6);
    assert_eq!(dynamic.metrics.get(Metric::PlacementFailures), 0.0);
    // A static host port: one task per instance, the rest cannot be placed (RESOURCE:PORTS).
    let fixed = bridge_behind_alb(8080);
    assert_eq!(running(&fixed), 2);
    assert!(fixed.metrics.get(Metric::PlacementFailures) > 0.0);
}

/// `web` (4 tasks behind the ALB) scaled on requests per target (1,000 a minute) under `load`.
fn scaled_behind_alb(load: &str, extra: &str) -> RunResult {
    let service = format!(
        "desired_count = 4\n{extra}\n[workload.web.auto_scaling]\nmin_capacity = 1\nmax_capacity = 10\n\
         policies = [{{ metric = \"requests_per_target\", target = 1000 }}]\nload = {load}"
    );
    run_text(&scenario(ALB, &service, "").replace("horizon = \"2h\"", "horizon = \"2h\"\nsample_interval = \"1m\""))
}

fn desired_at(r: &RunResult, t: u64) -> f64 {
    let col = r.timeseries.columns.iter().position(|c| c == "desired_web").unwrap();
    r.timeseries.rows.iter().find(|row| row[0] as u64 == t).map(|row| row[col]).unwrap()
}

#[test]
fn service_auto_scaling_behind_a_load_balancer_scales_through_the_deployment_steps() {
    // 100 requests/s on 4 tasks: 1,500 per target per minute, above 1,000 from the first
    // datapoint with tasks running; out to ceil(4 × 1500 / 1000) = 6 at the third.
    let r = scaled_behind_alb("{ rate_per_s = 100 }", "");
    assert_eq!(r.metrics.get(Metric::ServiceScaleOuts), 1.0);
    assert_eq!(r.metrics.get(Metric::OutcomeRunningEnd), 6.0);
    // The new tasks registered as targets like any of the service's.
    assert!(r.service_events.iter().any(|e| e.message.contains("registered 2 targets")));
}

#[test]
fn scale_in_waits_for_a_deployment_to_finish_and_stops_tasks_through_the_stopping_sequence() {
    // 20 requests/s on 4 tasks: 300 per target per minute, below 900 from the start: scale-in
    // to ceil(4 × 300 / 1000) = 2 at the fifteenth low datapoint.
    let quiet = scaled_behind_alb("{ rate_per_s = 20 }", "");
    let first_in = (1..60).find(|&m| desired_at(&quiet, m * 60) < 4.0).unwrap();
    // A deployment at 10 minutes suspends scale-in until it completes.
    let deployed = scaled_behind_alb("{ rate_per_s = 20 }", "deployments = [{ at = \"10m\" }]");
    let d = &deployed.deployments[1];
    assert_eq!(d.outcome, "completed");
    let completed_min = d.ended_at.unwrap().as_secs_f64() / 60.0;
    let later_in = (1..60).find(|&m| desired_at(&deployed, m * 60) < 4.0).unwrap();
    assert!(first_in as f64 <= 16.0 && (first_in as f64) < completed_min, "{first_in} {completed_min}");
    assert!(later_in as f64 > completed_min, "scale-in at {later_in} min, deployment done at {completed_min}");
    // The two tasks stopped by the scale-in drained for the deregistration delay first.
    let scaled_in: Vec<_> = quiet.tasks.iter().filter(|t| t.stop_reason == Some(StopReason::ScaledIn)).collect();
    assert_eq!(scaled_in.len(), 2);
    assert_eq!(quiet.metrics.get(Metric::OutcomeScaledIn), 2.0);
    for t in scaled_in {
        let stopped = t.stopped_at.unwrap().as_secs_f64();
        assert!(stopped >= (first_in * 60 - 60) as f64 + 330.0, "{stopped}");
    }
}

/// `bridge_alb_scenario`'s text with `horizon`, and its host group behind capacity provider `cp`
/// (the cluster's default strategy; `count_per_az` instances to start, launches of 60 s) with
/// the provider keys `provider`.
fn on_provider(text: &str, horizon: &str, count_per_az: u32, provider: &str) -> String {
    text.replace("horizon = \"1h\"", &format!("horizon = \"{horizon}\""))
        .replace(
            "azs = [\"a\", \"b\"]\n",
            "azs = [\"a\", \"b\"]\ndefault_capacity_provider_strategy = [{ capacity_provider = \"cp\", weight = 1 }]\n",
        )
        .replace("count_per_az = 1", &format!("count_per_az = {count_per_az}"))
        .replace(
            "[load_balancers.front]",
            &format!(
                "[capacity_providers.cp]\nhost_group = \"main\"\n{provider}\n\
                 instance_launch_time = {{ min = \"60s\", max = \"60s\" }}\n[load_balancers.front]"
            ),
        )
}

/// The same service behind the ALB on an Auto Scaling group provider that starts empty, updated
/// at 30 minutes: the group grows for the first tasks and again for the deployment's new ones
/// (they wait in PROVISIONING, registered as targets once running), and the update completes.
#[test]
fn a_service_behind_a_load_balancer_deploys_on_an_auto_scaling_group() {
    // 1-vCPU tasks, four of them, on an empty group of m5.large behind provider `cp`.
    let (td, text) = bridge_alb_scenario(0, 1024);
    let text = on_provider(&text, "2h", 0, "max_size = 10\nmanaged_termination_protection = true")
        .replace("desired_count = 6", "desired_count = 4\ndeployments = [{ at = \"30m\" }]");
    let r = common::run_first(common::plan(&[("bridge.json", &td)], &text));
    let update = r.deployments.iter().find(|d| d.deployment == 1).expect("the update");
    assert_eq!((update.outcome, update.tasks_started, update.failed_tasks), ("completed", 4, 0), "{:?}", r.deployments);
    // Two 1-vCPU tasks fill an m5.large: 2 instances for the service, 2 more for the update.
    assert_eq!(r.metrics.get(Metric::InstancesLaunched), 4.0);
    assert!(r.metrics.get(Metric::CapacityWaitTasks) >= 8.0);
    let running_at_end = r.tasks.iter().filter(|t| t.running_at.is_some() && t.stopped_at.is_none()).count();
    assert_eq!(running_at_end, 4);
}

/// A blue/green service behind the ALB on EC2 Spot instances that the agent drains at each
/// interruption notice, before, during and after a blue/green update: the update completes,
/// drained tasks stop as `InstanceDraining` with four others running beside them, and only the
/// two tasks reclaimed with an instance before their replacements found room are lost. (The
/// same run passes with the earlier draining rule; the rule — a drained healthy task stops only
/// once its replacement is healthy — is tested by `drained_stops` in `deployments.rs`.)
#[test]
fn a_blue_green_service_replaces_the_tasks_of_draining_instances_first() {
    let (td, text) = bridge_alb_scenario(0, 1024);
    let text = on_provider(
        &text,
        "4h",
        2,
        "min_size = 4\nmax_size = 10\n\
         spot = { interruptions_per_instance_hour = 0.5, price_fraction = 0.4, instance_draining = true }",
    )
    .replace(
        "desired_count = 6",
        "desired_count = 4\nstrategy = \"blue_green\"\nbake_time = \"10m\"\ndeployments = [{ at = \"1h\" }]\n\
             deregistration_delay = \"10s\"\n\
             target_health_check = { interval = \"5s\", timeout = \"2s\", healthy_threshold = 2, unhealthy_threshold = 2 }",
    );
    let r = common::run_first(common::plan(&[("bridge.json", &td)], &text));
    // (With the default 5 × 30 s checks and 300 s deregistration a replacement is not healthy
    // within the notice's two minutes: the drained tasks die with the instance.)
    assert!(r.metrics.get(Metric::Ec2SpotInterruptions) >= 3.0, "{}", r.metrics.get(Metric::Ec2SpotInterruptions));
    let update = r.deployments.iter().find(|d| d.deployment == 1).expect("the update");
    assert_eq!(update.outcome, "completed", "{:?}", r.deployments);
    let drained: Vec<_> = r.tasks.iter().filter(|t| t.stop_reason == Some(StopReason::InstanceDraining)).collect();
    assert!(!drained.is_empty());
    let running_at =
        |t: u64| r.tasks.iter().filter(|x| x.running_at.is_some_and(|a| a.0 <= t) && x.stopped_at.is_none_or(|s| s.0 > t)).count();
    for d in &drained {
        // Up to its stop the service ran 4 others beside it.
        let stop = d.stopped_at.unwrap().0;
        assert!(running_at(stop - 1) >= 5, "drained task {} stopped at {stop} with too few beside it", d.task);
    }
    // Only the two tasks EC2 reclaimed with an instance whose replacements found no room (the
    // update runs eight tasks on eight slots) were lost: the drains themselves cost no task.
    assert_eq!(r.tasks.iter().filter(|t| t.stop_reason == Some(StopReason::HostTerminated)).count(), 2);
    let running_at_end = r.tasks.iter().filter(|t| t.running_at.is_some() && t.stopped_at.is_none()).count();
    assert_eq!(running_at_end, 4);
}
