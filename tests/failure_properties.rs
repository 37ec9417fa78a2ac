//! Properties of runs with host failures and AZ outages, over randomly generated valid scenarios:
//! 1–3 AZs, one host group (sometimes with an exponential or Weibull failure process), sometimes
//! a `[network]` with awsvpc tasks and a Fargate service, up to two AZ outage windows.
//!
//! The simulator checks its conservation invariants (resources, addresses, tasks, the placement
//! index) after every outage event and at the end of every run, and every 5,000 events in debug
//! builds: a run that returns `Ok` kept them. On top, from the task rows alone: nothing runs or is
//! placed in an AZ while it is down, every lost task is counted once by cause, each service holds
//! its desired count at the horizon, and the same input gives the same result twice.

use std::fs;

use clustersim::engine::SimTime;
use clustersim::metrics::Metric;
use clustersim::model::{AzId, StopReason};
use clustersim::placement::StrategyRegistry;
use clustersim::scenario::RawScenario;
use clustersim::scenario::sweep::Plan;
use clustersim::sim::{RunOptions, RunResult, run};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

/// `default` cases, or `PROPTEST_CASES` when set; a fixed seed unless `PROPTEST_RNG_SEED` is set.
fn runner(default: u32) -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let seed = std::env::var("PROPTEST_RNG_SEED").ok().and_then(|v| v.parse().ok()).map_or(RngSeed::Fixed(0xFA11), RngSeed::Fixed);
    TestRunner::new(Config { cases, failure_persistence: None, rng_seed: seed, ..Config::default() })
}

const AZS: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];
const TYPES: [&str; 3] = ["m5.large", "m5.xlarge", "c5.large"];

#[derive(Debug, Clone)]
struct Gen {
    seed: u64,
    azs: usize,
    instance_type: &'static str,
    hosts_per_az: u32,
    horizon_min: u32,
    network: bool,
    trunking: bool,
    /// The EC2 service's desired count and whether it is awsvpc (with a network).
    desired: u32,
    awsvpc: bool,
    /// Mean run time of the EC2 service's tasks (replaced when they end), if they end.
    mean_run_s: Option<u32>,
    /// RunTask arrivals per second on EC2, if any.
    poisson: Option<f64>,
    fargate_desired: Option<u32>,
    /// Failure process: MTBF in minutes and, for Weibull, the shape.
    mtbf_min: Option<(u32, Option<f64>)>,
    replacement_s: u32,
    start_delay_s: u32,
    /// (AZ, start minute, length in minutes).
    outages: Vec<(usize, u32, u32)>,
}

fn scenarios() -> impl Strategy<Value = Gen> {
    (
        (0..=i64::MAX as u64, 1usize..=3, prop::sample::select(TYPES.to_vec()), 1u32..=4, 20u32..=90),
        (any::<bool>(), any::<bool>(), 0u32..=24, any::<bool>(), prop::option::of(30u32..=1800)),
        (prop::option::weighted(0.4, 0.01f64..=0.5), prop::option::weighted(0.4, 0u32..=12)),
        (prop::option::weighted(0.7, (5u32..=120, prop::option::of(0.5f64..=4.0))), 0u32..=300, 0u32..=60),
        prop::collection::vec((0usize..3, 0u32..=80, 1u32..=40), 0..=2),
    )
        .prop_map(
            |(
                (seed, azs, instance_type, hosts_per_az, horizon_min),
                (network, trunking, desired, awsvpc, mean_run_s),
                (poisson, fargate_desired),
                (mtbf_min, replacement_s, start_delay_s),
                outages,
            )| Gen {
                seed,
                azs,
                instance_type,
                hosts_per_az,
                horizon_min,
                network,
                trunking,
                desired,
                awsvpc,
                mean_run_s,
                poisson,
                fargate_desired,
                mtbf_min,
                replacement_s,
                start_delay_s,
                outages,
            },
        )
}

impl Gen {
    /// Outage windows that validate: inside the horizon's start, in an existing AZ, a second one
    /// dropped if it overlaps the first in the same AZ.
    fn windows(&self) -> Vec<(usize, u32, u32)> {
        let mut out: Vec<(usize, u32, u32)> = Vec::new();
        for &(az, start, len) in &self.outages {
            let (az, start) = (az % self.azs, start % self.horizon_min);
            let end = start + len;
            if out.iter().all(|&(a, s, e)| a != az || e <= start || end <= s) {
                out.push((az, start, end));
            }
        }
        out
    }

    fn network(&self) -> bool {
        self.network || self.fargate_desired.is_some()
    }

    fn render(&self) -> String {
        let azs: Vec<String> = AZS[..self.azs].iter().map(|a| format!("\"{a}\"")).collect();
        let mut s = format!(
            "name = \"failure-properties\"\nseed = {}\nhorizon = \"{}m\"\nsample_interval = \"1m\"\n\
             task_definitions = [\"ec2.json\", \"vpc.json\", \"fg.json\"]\n[cluster]\nazs = [{}]\n",
            self.seed,
            self.horizon_min,
            azs.join(", ")
        );
        let subnets: Vec<String> = (0..self.azs).map(|i| format!("\"s{i}\"")).collect();
        if self.network() {
            s += &format!("[network]\nawsvpc_trunking = {}\n", self.trunking);
            for (i, az) in AZS[..self.azs].iter().enumerate() {
                s += &format!("[network.subnets.s{i}]\naz = \"{az}\"\ncidr = \"10.0.{i}.0/26\"\n");
            }
        }
        s += &format!("[host_groups.main]\ninstance_type = \"{}\"\ncount_per_az = {}\n", self.instance_type, self.hosts_per_az);
        if self.network() {
            s += &format!("subnets = [{}]\n", subnets.join(", "));
        }
        let vpc = self.awsvpc && self.network();
        s += &format!(
            "[workload.api]\nkind = \"service\"\ntask_definition = \"{}\"\ndesired_count = {}\nstart_delay = \"{}s\"\n",
            if vpc { "vpc" } else { "ec2" },
            self.desired,
            self.start_delay_s
        );
        if vpc {
            s += &format!("subnets = [{}]\n", subnets.join(", "));
        }
        if let Some(m) = self.mean_run_s {
            s += &format!("run_time = {{ distribution = \"exponential\", mean = \"{m}s\" }}\n");
        }
        if let Some(rate) = self.poisson {
            s += &format!(
                "[workload.jobs]\nkind = \"poisson\"\ntask_definition = \"ec2\"\narrival = {{ rate_per_s = {rate} }}\n\
                 run_time = {{ distribution = \"exponential\", mean = \"5m\" }}\n"
            );
        }
        if let Some(d) = self.fargate_desired {
            s += &format!(
                "[workload.fargate]\nkind = \"service\"\ntask_definition = \"fg\"\nlaunch_type = \"FARGATE\"\ndesired_count = {d}\n\
                 start_delay = \"20s\"\nsubnets = [{}]\n",
                subnets.join(", ")
            );
        }
        s += &format!("[failures]\nreplacement_delay = \"{}s\"\n", self.replacement_s);
        if let Some((mtbf, shape)) = self.mtbf_min {
            s += &format!("[failures.host_groups.main]\nmtbf = \"{mtbf}m\"\n");
            if let Some(k) = shape {
                s += &format!("distribution = \"weibull\"\nweibull_shape = {k}\n");
            }
        }
        for (az, start, end) in self.windows() {
            s += &format!("[[failures.az_outage]]\naz = \"{}\"\nstart = \"{start}m\"\nend = \"{end}m\"\n", AZS[az]);
        }
        s
    }

    fn run(&self) -> Result<RunResult, TestCaseError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = [
            (
                "ec2.json",
                r#"{ "family": "ec2", "requiresCompatibilities": ["EC2"], "containerDefinitions": [{ "name": "app", "image": "app:1", "cpu": 512, "memory": 1024 }] }"#,
            ),
            (
                "vpc.json",
                r#"{ "family": "vpc", "networkMode": "awsvpc", "requiresCompatibilities": ["EC2"], "containerDefinitions": [{ "name": "app", "image": "app:1", "cpu": 256, "memory": 512 }] }"#,
            ),
            (
                "fg.json",
                r#"{ "family": "fg", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512", "containerDefinitions": [{ "name": "app", "image": "app:1" }] }"#,
            ),
        ];
        for (name, text) in files {
            fs::write(dir.path().join(name), text).expect("write task definition");
        }
        let path = dir.path().join("s.toml");
        fs::write(&path, self.render()).expect("write scenario");
        let raw = RawScenario::read(&path).map_err(|e| TestCaseError::fail(format!("{e}\n{}", self.render())))?;
        let plan = Plan::build(&raw, None, &StrategyRegistry::new())
            .map_err(|e| TestCaseError::fail(format!("a generated scenario does not validate: {e}\n{}", self.render())))?;
        let spec = plan.run(0).map_err(|e| TestCaseError::fail(e.to_string()))?;
        run(&spec.scenario, spec.seed, RunOptions { record_tasks: true, explain: true })
            .map_err(|e| TestCaseError::fail(format!("invariant broken: {e}\n{}", self.render())))
    }
}

fn check(g: &Gen, r: &RunResult) -> Result<(), TestCaseError> {
    // Nothing is placed in, or still provisions or runs in, an AZ while it is down.
    for (az, start, end) in g.windows() {
        let (t1, t2) = (SimTime::from_secs(u64::from(start) * 60), SimTime::from_secs(u64::from(end) * 60));
        for t in r.tasks.iter().filter(|t| t.az == Some(AzId(az as u32))) {
            let Some(placed) = t.placed_at else { continue };
            prop_assert!(!(placed >= t1 && placed < t2), "task {} placed in {} at {placed:?}, during [{t1:?}, {t2:?})", t.task, AZS[az]);
            let live_into_outage = placed < t1 && t.stopped_at.is_none_or(|s| s > t1);
            prop_assert!(!live_into_outage, "task {} outlived the start of {}'s outage", t.task, AZS[az]);
        }
    }
    // Every lost task, counted once, under its cause.
    let lost = r.tasks.iter().filter(|t| matches!(t.stop_reason, Some(StopReason::HostTerminated | StopReason::AzUnavailable))).count();
    let counted = r.metrics.get(Metric::TasksLostHostFailure) + r.metrics.get(Metric::TasksLostAzOutage);
    prop_assert_eq!(counted, lost as f64);
    prop_assert_eq!(r.metrics.get(Metric::OutcomeLost), lost as f64);
    if g.mtbf_min.is_none() {
        prop_assert_eq!(r.metrics.get(Metric::HostFailures), 0.0);
        prop_assert_eq!(r.metrics.get(Metric::TasksLostHostFailure), 0.0);
    }
    if g.windows().is_empty() {
        prop_assert_eq!(r.metrics.get(Metric::TasksLostAzOutage), 0.0);
    }
    // Each task counted once by how it ended.
    prop_assert_eq!(Metric::OUTCOMES.iter().map(|m| r.metrics.get(*m)).sum::<f64>(), r.metrics.get(Metric::TasksArrived));
    // Services hold their desired count at the horizon: running, provisioning or waiting.
    let live = |w: u32| r.tasks.iter().filter(|t| t.workload == w && t.stopped_at.is_none()).count() as u32;
    let mut services = vec![("api", g.desired)];
    if let Some(d) = g.fargate_desired {
        services.push(("fargate", d));
    }
    // Workloads in name order: api, fargate, jobs.
    for (i, (name, desired)) in services.iter().enumerate() {
        prop_assert_eq!(live(i as u32), *desired, "service {}", name);
    }
    let fraction = r.metrics.get(Metric::ServiceRunningFractionMin);
    prop_assert!(fraction.is_nan() || (0.0..=1.0).contains(&fraction), "running fraction {fraction}");
    Ok(())
}

#[test]
fn runs_with_host_failures_and_az_outages_keep_every_invariant_and_account_for_every_lost_task() {
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    // How many cases lost tasks to each cause: the generator must keep producing both.
    let (to_hosts, to_azs) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let mut runner = runner(64);
    let outcome = runner.run(&scenarios(), |g| {
        let r = g.run()?;
        check(&g, &r)?;
        if r.metrics.get(Metric::TasksLostHostFailure) > 0.0 {
            to_hosts.fetch_add(1, Relaxed);
        }
        if r.metrics.get(Metric::TasksLostAzOutage) > 0.0 {
            to_azs.fetch_add(1, Relaxed);
        }
        let again = g.run()?;
        prop_assert!(
            r.metrics.0.iter().zip(again.metrics.0.iter()).all(|(a, b)| a.to_bits() == b.to_bits()),
            "same input, different metrics"
        );
        prop_assert_eq!(&r.tasks, &again.tasks);
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    let (to_hosts, to_azs) = (to_hosts.load(Relaxed), to_azs.load(Relaxed));
    assert!(to_hosts >= 10 && to_azs >= 10, "only {to_hosts} cases lost tasks to host failures and {to_azs} to AZ outages");
}
