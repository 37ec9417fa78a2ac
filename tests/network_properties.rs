//! Properties of awsvpc networking over randomly generated valid scenarios with a `[network]`
//! section: 1–3 AZs, one private subnet per AZ (/24 to /28) and sometimes a small public subnet
//! with a NAT gateway, trunking on or off, one host group, an EC2 awsvpc workload, sometimes a
//! Fargate workload (and a vCPU quota) and a bridge-mode workload.
//!
//! Everything a property expects is computed here from the generated input and the run's task rows
//! and time series — usable addresses, the addresses hosts and NAT gateways hold, the ENI task limit
//! of each instance type — never read back from the simulator's own tables.
//!
//! Runs go through the library: `RawScenario::read` → `Plan::build` → `sim::run`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clustersim::metrics::Metric;
use clustersim::model::{StopReason, TaskIp};
use clustersim::placement::StrategyRegistry;
use clustersim::scenario::sweep::Plan;
use clustersim::scenario::{RawScenario, Scenario};
use clustersim::sim::{self, RunOptions, RunResult, TaskRow};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// `default` cases, or `PROPTEST_CASES` when set (for a longer hunt).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A fixed seed unless `PROPTEST_RNG_SEED` asks for another: the coverage guards ("enough cases
/// reached X") must not make CI flaky. Longer or different hunts: `PROPTEST_RNG_SEED=… PROPTEST_CASES=…`.
fn seed() -> RngSeed {
    std::env::var("PROPTEST_RNG_SEED").ok().and_then(|v| v.parse().ok()).map_or(RngSeed::Fixed(0x5EED_C0DE), RngSeed::Fixed)
}

/// Runs a property and turns a failure (with its shrunk input) into a test failure. No regression
/// files: this suite must not write into the source tree.
fn check<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let mut runner =
        TestRunner::new(Config { cases: self::cases(cases), failure_persistence: None, rng_seed: seed(), ..Config::default() });
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

/// Counts how many cases reached a situation, so a property whose generator stops producing it
/// fails instead of passing vacuously.
#[derive(Default)]
struct Reached(std::sync::atomic::AtomicUsize);

impl Reached {
    fn hit(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn count(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

fn fail(message: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(message.into())
}

// ---------------------------------------------------------------------------------------------
// What the properties know about AWS, written out independently of the simulator
// ---------------------------------------------------------------------------------------------

const INSTANCE_TYPES: [&str; 4] = ["m5.large", "m5.xlarge", "c5.large", "t3.medium"];
const AZ_NAMES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];
const AZ_LETTERS: [&str; 3] = ["a", "b", "c"];
/// Valid Fargate (cpu, memory) pairs.
const FARGATE_SIZES: [(u32, u32); 3] = [(256, 512), (512, 1024), (1024, 2048)];

/// awsvpc tasks an instance can run at once: ENIs − the primary, or the trunking table.
fn eni_task_limit(instance_type: &str, trunking: bool) -> u32 {
    match (instance_type, trunking) {
        ("m5.large" | "c5.large", false) | ("t3.medium", _) => 2,
        ("m5.large" | "c5.large", true) => 10,
        ("m5.xlarge", false) => 3,
        ("m5.xlarge", true) => 20,
        (other, _) => panic!("no ENI limit written down for {other}"),
    }
}

/// With trunking, each host that can trunk (not t3) holds a second address: its trunk ENI.
fn addresses_per_host(instance_type: &str, trunking: bool) -> u32 {
    1 + u32::from(trunking && instance_type != "t3.medium")
}

/// A block's addresses minus the 5 AWS reserves.
fn usable(prefix: u8) -> u32 {
    (1u32 << (32 - prefix)) - 5
}

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct GenAz {
    /// Of the private subnet, /24 to /28.
    prefix: u8,
    /// Which prefix-sized block of 10.0.<az>.0/24 the private subnet is.
    block: u32,
    /// A /28 public subnet in this AZ, with (true) or without a NAT gateway.
    public: Option<bool>,
}

#[derive(Debug, Clone)]
enum GenKind {
    Service { desired_count: u32, mean_run_s: Option<u32> },
    Poisson { rate_per_s: f64, mean_run_s: u32 },
    Batch { at_fraction: f64, count: u32, mean_run_s: Option<u32> },
}

#[derive(Debug, Clone)]
struct GenFargate {
    kind: GenKind,
    size: usize,
    /// Bit i: the workload names subnet i of `GenNet::subnets` (empty after masking: the first).
    subnet_mask: u8,
}

#[derive(Debug, Clone)]
struct GenNet {
    seed: u64,
    azs: Vec<GenAz>,
    trunking: bool,
    attach_s: u32,
    cleanup_s: u32,
    instance_type: &'static str,
    /// As generated; `hosts_per_az()` shrinks it to what the smallest private subnet holds.
    hosts_per_az: u32,
    horizon_min: u32,
    sample_s: u32,
    ec2: GenKind,
    ec2_cpu: u32,
    ec2_memory: u32,
    ec2_start_delay_s: u32,
    /// Bit i: the EC2 workload names the private subnet of AZ i (never empty).
    ec2_subnet_mask: u8,
    fargate: Option<GenFargate>,
    vcpu_quota: Option<u32>,
    bridge: Option<GenKind>,
}

/// One subnet as generated, with what the properties expect of it.
#[derive(Debug, Clone)]
struct GenSubnet {
    name: String,
    az: u32,
    cidr: String,
    public: bool,
    nat_gateway: bool,
    usable: u32,
    /// Addresses held all run long: host primary (and trunk) ENIs, the NAT gateway.
    infrastructure: u32,
}

impl GenSubnet {
    /// Addresses task ENIs can hold.
    fn capacity(&self) -> u32 {
        self.usable - self.infrastructure
    }
}

fn gen_kind(max_desired: u32, max_batch: u32, poisson: bool) -> BoxedStrategy<GenKind> {
    let mean = 10u32..=1200;
    let service = (0..=max_desired, prop::option::of(mean.clone()))
        .prop_map(|(desired_count, mean_run_s)| GenKind::Service { desired_count, mean_run_s });
    let batch = (0.0f64..0.9, 1..=max_batch, prop::option::of(mean.clone())).prop_map(|(at_fraction, count, mean_run_s)| GenKind::Batch {
        at_fraction,
        count,
        mean_run_s,
    });
    if poisson {
        let poisson = (0.05f64..=2.0, mean).prop_map(|(rate_per_s, mean_run_s)| GenKind::Poisson { rate_per_s, mean_run_s });
        prop_oneof![service, poisson, batch].boxed()
    } else {
        prop_oneof![service, batch].boxed()
    }
}

fn gen_net() -> impl Strategy<Value = GenNet> {
    (1usize..=3).prop_flat_map(|n| {
        let az = (24u8..=28, any::<u32>(), prop::option::weighted(0.4, any::<bool>())).prop_map(|(prefix, block, public)| GenAz {
            prefix,
            block: block % (1 << (prefix - 24)),
            public,
        });
        let fargate = (gen_kind(40, 120, false), 0..FARGATE_SIZES.len(), any::<u8>()).prop_map(|(kind, size, subnet_mask)| GenFargate {
            kind,
            size,
            subnet_mask,
        });
        (
            (
                0..=i64::MAX as u64,
                prop::collection::vec(az, n),
                any::<bool>(),
                0u32..=10,
                0u32..=60,
                prop::sample::select(INSTANCE_TYPES.to_vec()),
            ),
            (1u32..=4, 5u32..=30, prop::sample::select(vec![5u32, 10, 15, 30])),
            (gen_kind(40, 60, true), prop::sample::select(vec![64u32, 128, 256, 512]), prop::sample::select(vec![64u32, 128, 256, 512])),
            (0u32..=30, 1u8..(1u8 << n)),
            (
                prop::option::weighted(0.5, fargate),
                prop::option::weighted(0.3, 1u32..=20),
                prop::option::weighted(0.3, gen_kind(20, 30, true)),
            ),
        )
            .prop_map(
                |(
                    (seed, azs, trunking, attach_s, cleanup_s, instance_type),
                    (hosts_per_az, horizon_min, sample_s),
                    (ec2, ec2_cpu, ec2_memory),
                    (ec2_start_delay_s, ec2_subnet_mask),
                    (fargate, vcpu_quota, bridge),
                )| GenNet {
                    seed,
                    azs,
                    trunking,
                    attach_s,
                    cleanup_s,
                    instance_type,
                    hosts_per_az,
                    horizon_min,
                    sample_s,
                    ec2,
                    ec2_cpu,
                    ec2_memory,
                    ec2_start_delay_s,
                    ec2_subnet_mask,
                    fargate,
                    vcpu_quota,
                    bridge,
                },
            )
    })
}

fn quote_list<S: AsRef<str>>(items: &[S]) -> String {
    format!("[{}]", items.iter().map(|s| format!("\"{}\"", s.as_ref())).collect::<Vec<_>>().join(", "))
}

fn render_kind(kind: &GenKind, horizon_s: u32) -> String {
    let exponential = |mean: u32| format!("run_time = {{ distribution = \"exponential\", mean = \"{mean}s\" }}\n");
    match kind {
        GenKind::Service { desired_count, mean_run_s } => {
            format!("kind = \"service\"\ndesired_count = {desired_count}\n{}", mean_run_s.map(exponential).unwrap_or_default())
        }
        GenKind::Poisson { rate_per_s, mean_run_s } => {
            format!("kind = \"poisson\"\narrival = {{ rate_per_s = {rate_per_s} }}\n{}", exponential(*mean_run_s))
        }
        GenKind::Batch { at_fraction, count, mean_run_s } => {
            let at = (f64::from(horizon_s) * at_fraction).floor();
            format!("kind = \"batch\"\nat = \"{at}s\"\ncount = {count}\n{}", mean_run_s.map(exponential).unwrap_or_default())
        }
    }
}

impl GenNet {
    /// Hosts per AZ, shrunk so they fit the smallest private subnet.
    fn hosts_per_az(&self) -> u32 {
        let per_host = addresses_per_host(self.instance_type, self.trunking);
        let room = self.azs.iter().map(|a| usable(a.prefix) / per_host).min().expect("at least one AZ");
        self.hosts_per_az.min(room).max(1)
    }

    /// Private subnets (AZ order), then public ones (AZ order): also the subnets' name order.
    fn subnets(&self) -> Vec<GenSubnet> {
        let hosts = self.hosts_per_az() * addresses_per_host(self.instance_type, self.trunking);
        let mut out = Vec::new();
        for (i, a) in self.azs.iter().enumerate() {
            let size = 1u32 << (32 - a.prefix);
            out.push(GenSubnet {
                name: format!("priv-{}", AZ_LETTERS[i]),
                az: i as u32,
                cidr: format!("10.0.{i}.{}/{}", a.block * size, a.prefix),
                public: false,
                nat_gateway: false,
                usable: usable(a.prefix),
                infrastructure: hosts,
            });
        }
        for (i, a) in self.azs.iter().enumerate() {
            if let Some(nat) = a.public {
                out.push(GenSubnet {
                    name: format!("pub-{}", AZ_LETTERS[i]),
                    az: i as u32,
                    cidr: format!("10.0.{}.0/28", 100 + i),
                    public: true,
                    nat_gateway: nat,
                    usable: usable(28),
                    infrastructure: u32::from(nat),
                });
            }
        }
        out
    }

    fn ec2_subnets(&self) -> Vec<String> {
        (0..self.azs.len()).filter(|i| self.ec2_subnet_mask & (1 << i) != 0).map(|i| format!("priv-{}", AZ_LETTERS[i])).collect()
    }

    fn fargate_subnets(&self) -> Vec<String> {
        let Some(f) = &self.fargate else { return Vec::new() };
        let all = self.subnets();
        let chosen: Vec<String> =
            all.iter().enumerate().filter(|(i, _)| *i < 8 && f.subnet_mask & (1 << i) != 0).map(|(_, s)| s.name.clone()).collect();
        if chosen.is_empty() { vec![all[0].name.clone()] } else { chosen }
    }

    fn fargate_size(&self) -> (u32, u32) {
        FARGATE_SIZES[self.fargate.as_ref().map_or(0, |f| f.size)]
    }

    fn render(&self) -> String {
        let horizon_s = self.horizon_min * 60;
        let mut s = format!(
            "name = \"network-properties\"\nseed = {}\nhorizon = \"{}m\"\nsample_interval = \"{}s\"\n\
             task_definitions = [\"ec2-vpc.json\", \"fg.json\", \"bridge.json\"]\n\n[cluster]\nazs = {}\n\n",
            self.seed,
            self.horizon_min,
            self.sample_s,
            quote_list(&AZ_NAMES[..self.azs.len()])
        );
        s += &format!(
            "[network]\nawsvpc_trunking = {}\neni_attach_delay = \"{}s\"\neni_cleanup_delay = \"{}s\"\n\n",
            self.trunking, self.attach_s, self.cleanup_s
        );
        for sub in self.subnets() {
            s += &format!("[network.subnets.{}]\naz = \"{}\"\ncidr = \"{}\"\n", sub.name, AZ_NAMES[sub.az as usize], sub.cidr);
            if sub.public {
                s += &format!("public = true\nnat_gateway = {}\n", sub.nat_gateway);
            }
            s += "\n";
        }
        if let Some(q) = self.vcpu_quota {
            s += &format!("[fargate]\nvcpu_quota = {q}\n\n");
        }
        let private: Vec<String> = (0..self.azs.len()).map(|i| format!("priv-{}", AZ_LETTERS[i])).collect();
        s += &format!(
            "[host_groups.main]\ninstance_type = \"{}\"\ncount_per_az = {}\nsubnets = {}\n\n",
            self.instance_type,
            self.hosts_per_az(),
            quote_list(&private)
        );
        s += &format!(
            "[workload.ec2]\ntask_definition = \"ec2-vpc\"\nstart_delay = \"{}s\"\nsubnets = {}\n{}\n",
            self.ec2_start_delay_s,
            quote_list(&self.ec2_subnets()),
            render_kind(&self.ec2, horizon_s)
        );
        if let Some(f) = &self.fargate {
            s += &format!(
                "[workload.fargate]\ntask_definition = \"fg\"\nsubnets = {}\n{}\n",
                quote_list(&self.fargate_subnets()),
                render_kind(&f.kind, horizon_s)
            );
        }
        if let Some(b) = &self.bridge {
            s += &format!("[workload.bridge]\ntask_definition = \"bridge\"\n{}\n", render_kind(b, horizon_s));
        }
        s
    }

    fn write(&self, dir: &Path) -> PathBuf {
        let (fg_cpu, fg_memory) = self.fargate_size();
        let files = [
            (
                "ec2-vpc.json",
                format!(
                    r#"{{ "family": "ec2-vpc", "networkMode": "awsvpc", "requiresCompatibilities": ["EC2"],
  "containerDefinitions": [{{ "name": "app", "image": "app:1", "cpu": {}, "memory": {} }}] }}"#,
                    self.ec2_cpu, self.ec2_memory
                ),
            ),
            (
                "fg.json",
                format!(
                    r#"{{ "family": "fg", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "{fg_cpu}", "memory": "{fg_memory}",
  "containerDefinitions": [{{ "name": "app", "image": "app:1" }}] }}"#
                ),
            ),
            (
                "bridge.json",
                r#"{ "family": "bridge", "networkMode": "bridge", "requiresCompatibilities": ["EC2"],
  "containerDefinitions": [{ "name": "app", "image": "app:1", "cpu": 128, "memory": 256 }] }"#
                    .to_string(),
            ),
        ];
        for (name, text) in files {
            fs::write(dir.join(name), text).expect("write task definition");
        }
        let path = dir.join("scenario.toml");
        fs::write(&path, self.render()).expect("write scenario");
        path
    }
}

/// Writes the scenario and its task definitions into a fresh temporary folder, reads it and
/// expands it. A generated scenario that does not validate is a generator (or validator) bug.
fn load(g: &GenNet) -> Result<(Arc<Scenario>, u64), TestCaseError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = g.write(dir.path());
    let raw = RawScenario::read(&path).map_err(|e| fail(format!("does not parse: {e}\n{}", g.render())))?;
    let plan = Plan::build(&raw, None, &StrategyRegistry::new())
        .map_err(|e| fail(format!("a generated scenario does not validate: {e}\n{}", g.render())))?;
    prop_assert_eq!(plan.run_count(), 1);
    Ok((plan.run(0).unwrap().scenario.clone(), plan.run(0).unwrap().seed))
}

fn run((scenario, seed): &(Arc<Scenario>, u64), g: &GenNet) -> Result<RunResult, TestCaseError> {
    sim::run(scenario, *seed, RunOptions { record_tasks: true, explain: true })
        .map_err(|e| fail(format!("sim::run returned Err (a broken invariant): {e}\n{}", g.render())))
}

// ---------------------------------------------------------------------------------------------
// Replays of the task rows
// ---------------------------------------------------------------------------------------------

/// Microseconds.
type Us = u64;

/// An interval [start, end) during which a task holds `weight` of something; `end` `None`: held
/// past the horizon.
#[derive(Debug, Clone, Copy)]
struct Hold {
    start: Us,
    end: Option<Us>,
    weight: u64,
}

impl Hold {
    /// Certainly held at `t`, whatever the order of events at one instant.
    fn surely_at(&self, t: Us) -> bool {
        self.start < t && self.end.is_none_or(|e| e > t)
    }

    /// Possibly held at `t`: some order of the events at `t` has it held.
    fn maybe_at(&self, t: Us) -> bool {
        self.start <= t && self.end.is_none_or(|e| e >= t)
    }
}

/// Replays holds in time order and fails if their sum ever exceeds `limit`. `instants` are holds
/// that began and ended at one instant (a task placed and stopped at once): each must have fit
/// beside what was surely held then. At one instant releases count before acquisitions, so the
/// replay never blames an order the simulator may legally have used.
fn never_exceeds(what: &str, holds: &[Hold], instants: &[(Us, u64)], limit: u64) -> Result<u64, String> {
    // (time, 0 release / 1 instant check / 2 acquire, weight)
    let mut events: Vec<(Us, u8, u64)> = Vec::new();
    for h in holds {
        if h.end == Some(h.start) {
            events.push((h.start, 1, h.weight));
            continue;
        }
        events.push((h.start, 2, h.weight));
        if let Some(e) = h.end {
            events.push((e, 0, h.weight));
        }
    }
    events.extend(instants.iter().map(|&(t, w)| (t, 1, w)));
    events.sort_unstable();
    let (mut held, mut peak) = (0u64, 0u64);
    for (t, kind, w) in events {
        match kind {
            0 => held -= w,
            1 if held + w > limit => return Err(format!("{what}: {held} + {w} held at {t} µs, over the limit {limit}")),
            1 => peak = peak.max(held + w),
            _ => {
                held += w;
                if held > limit {
                    return Err(format!("{what}: {held} held at {t} µs, over the limit {limit}"));
                }
                peak = peak.max(held);
            }
        }
    }
    Ok(peak)
}

/// Everything a run tells about one generated scenario, indexed for the checks.
struct View<'a> {
    g: &'a GenNet,
    s: &'a Scenario,
    r: &'a RunResult,
    subnets: Vec<GenSubnet>,
    /// Scenario `SubnetId` → index in `subnets`.
    by_id: Vec<usize>,
    ec2: u32,
    fargate: Option<u32>,
    bridge: Option<u32>,
}

impl<'a> View<'a> {
    fn new(g: &'a GenNet, s: &'a Scenario, r: &'a RunResult) -> Result<View<'a>, TestCaseError> {
        let subnets = g.subnets();
        let net = s.network.as_ref().ok_or_else(|| fail("the scenario lost its [network]"))?;
        prop_assert_eq!(net.subnets.len(), subnets.len());
        let by_id = net
            .subnets
            .iter()
            .map(|n| subnets.iter().position(|x| x.name == n.name).ok_or_else(|| fail(format!("unknown subnet {}", n.name))))
            .collect::<Result<Vec<_>, _>>()?;
        let workload = |name: &str| s.workloads.iter().position(|w| w.name == name).map(|i| i as u32);
        Ok(View {
            g,
            s,
            r,
            subnets,
            by_id,
            ec2: workload("ec2").ok_or_else(|| fail("no ec2 workload"))?,
            fargate: workload("fargate"),
            bridge: workload("bridge"),
        })
    }

    fn subnet_of(&self, row: &TaskRow) -> Option<&GenSubnet> {
        row.subnet.map(|id| &self.subnets[self.by_id[id.0 as usize]])
    }

    /// Names of the subnets a workload lists.
    fn workload_subnets(&self, workload: u32) -> Vec<&str> {
        self.s.workloads[workload as usize].subnets.iter().map(|id| self.subnets[self.by_id[id.0 as usize]].name.as_str()).collect()
    }

    /// The AZ of host `h` as the generator laid the fleet out: one group in every AZ, AZ by AZ.
    fn host_az(&self, h: u32) -> u32 {
        h / self.g.hosts_per_az()
    }

    /// Per subnet (index in `subnets`): when task ENIs held one of its addresses — from placement
    /// (or Fargate's acceptance) until the ENI clean-up ends.
    fn address_holds(&self) -> Vec<Vec<Hold>> {
        let cleanup = u64::from(self.g.cleanup_s) * 1_000_000;
        let mut holds = vec![Vec::new(); self.subnets.len()];
        for t in &self.r.tasks {
            let (Some(id), Some(placed)) = (t.subnet, t.placed_at) else { continue };
            // A task whose ENI got no address names the subnet it tried but holds nothing (its
            // stop may even fall after the horizon).
            if t.stop_reason == Some(StopReason::InsufficientFreeAddresses) || t.ip == TaskIp::None {
                continue;
            }
            holds[self.by_id[id.0 as usize]].push(Hold { start: placed.0, end: t.stopped_at.map(|e| e.0 + cleanup), weight: 1 });
        }
        holds
    }
}

fn column_index(r: &RunResult, name: &str) -> Result<usize, TestCaseError> {
    r.timeseries.columns.iter().position(|c| c == name).ok_or_else(|| fail(format!("no column {name}: {:?}", r.timeseries.columns)))
}

/// Property 2, from the time series: address bounds, conservation, and agreement with the replay
/// of the task rows.
fn check_time_series(v: &View<'_>) -> Result<(), TestCaseError> {
    let r = v.r;
    let time = column_index(r, "time_s")?;
    let enis = column_index(r, "task_enis")?;
    let free: Vec<usize> = v.subnets.iter().map(|s| column_index(r, &format!("free_ips_{}", s.name))).collect::<Result<_, _>>()?;
    let mut task_subnets: Vec<&str> = v.workload_subnets(v.ec2);
    if let Some(f) = v.fargate {
        task_subnets.extend(v.workload_subnets(f));
    }
    let task_capacity: u32 = v.subnets.iter().filter(|s| task_subnets.contains(&s.name.as_str())).map(|s| s.capacity()).sum();
    let task_usable: u32 = v.subnets.iter().filter(|s| task_subnets.contains(&s.name.as_str())).map(|s| s.usable).sum();
    let holds = v.address_holds();
    prop_assert!(!r.timeseries.rows.is_empty(), "no samples");
    for row in &r.timeseries.rows {
        let t_s = row[time];
        let t = (t_s * 1e6).round() as Us;
        let task_enis = row[enis];
        prop_assert!(task_enis >= 0.0 && task_enis.fract() == 0.0, "t = {t_s}: task_enis = {task_enis}");
        prop_assert!(task_enis <= f64::from(task_usable), "t = {t_s}: {task_enis} task ENIs > {task_usable} usable in the task subnets");
        prop_assert!(task_enis <= f64::from(task_capacity), "t = {t_s}: {task_enis} task ENIs > {task_capacity} task addresses");
        let mut held_by_tasks = 0.0;
        for (i, s) in v.subnets.iter().enumerate() {
            let f = row[free[i]];
            prop_assert!(f >= 0.0 && f.fract() == 0.0, "t = {t_s}: free_ips_{} = {f}", s.name);
            prop_assert!(
                f <= f64::from(s.capacity()),
                "t = {t_s}: free_ips_{} = {f} > {} usable − {} held by hosts and NAT",
                s.name,
                s.usable,
                s.infrastructure
            );
            if !task_subnets.contains(&s.name.as_str()) {
                prop_assert_eq!(f, f64::from(s.capacity()), "t = {}: subnet {} no task uses lost addresses", t_s, &s.name);
            }
            let held = f64::from(s.capacity()) - f;
            held_by_tasks += held;
            let lo = holds[i].iter().filter(|h| h.surely_at(t)).count() as f64;
            let hi = holds[i].iter().filter(|h| h.maybe_at(t)).count() as f64;
            prop_assert!(
                lo <= held && held <= hi,
                "t = {t_s}: subnet {} has {held} task addresses held, but the task rows say {lo} to {hi}",
                s.name
            );
        }
        prop_assert_eq!(held_by_tasks, task_enis, "t = {}: addresses held by tasks across subnets ≠ task_enis", t_s);
    }
    Ok(())
}

/// What one case of the row checks exercised.
#[derive(Debug, Default)]
struct Exercised {
    ec2_ip_failures: usize,
    fargate_ip_failures: usize,
    /// Some host ran as many awsvpc tasks as its ENI task limit allows.
    host_at_eni_limit: bool,
    quota_refusals: usize,
}

/// Property 2, from the task rows: failures, subnets and AZs, ENI slots and the vCPU quota.
fn check_task_rows(v: &View<'_>) -> Result<Exercised, TestCaseError> {
    let mut seen = Exercised::default();
    let (g, r) = (v.g, v.r);
    let holds = v.address_holds();
    let us = |s: u32| u64::from(s) * 1_000_000;
    let ec2_subnets = v.workload_subnets(v.ec2);
    let fargate_subnets = v.fargate.map(|f| v.workload_subnets(f)).unwrap_or_default();
    let hosts = g.hosts_per_az() * g.azs.len() as u32;
    let limit = eni_task_limit(g.instance_type, g.trunking);
    let mut eni_slots: Vec<Vec<Hold>> = vec![Vec::new(); hosts as usize];
    let mut eni_instants: Vec<Vec<(Us, u64)>> = vec![Vec::new(); hosts as usize];
    let (fg_cpu, _) = g.fargate_size();
    let mut vcpus: Vec<Hold> = Vec::new();
    let mut quota_refusals: Vec<Us> = Vec::new();
    for t in &r.tasks {
        let ctx = || format!("task {} {:?}", t.task, t);
        let is_ec2 = t.workload == v.ec2;
        let is_fargate = Some(t.workload) == v.fargate;
        let is_bridge = Some(t.workload) == v.bridge;
        prop_assert!(is_ec2 || is_fargate || is_bridge, "{}: unknown workload", ctx());
        if t.stop_reason == Some(StopReason::InsufficientFreeAddresses) {
            prop_assert!(t.running_at.is_none(), "{}: failed for want of an address, yet ran", ctx());
            // The address is sought at placement; ECS stops the task one ENI attach delay later.
            let placed = t.placed_at.ok_or_else(|| fail(format!("{}: failed to start without being placed", ctx())))?.0;
            prop_assert_eq!(
                t.stopped_at.map(|s| s.0),
                Some(placed + us(g.attach_s)),
                "{}: did not stop one attach delay after placement",
                ctx()
            );
            prop_assert!(!is_bridge, "{}: a bridge task needs no address", ctx());
            let at = placed;
            let full = |name: &str| {
                let i = v.subnets.iter().position(|s| s.name == name).expect("a generated subnet");
                holds[i].iter().filter(|h| h.maybe_at(at)).count() as u32 >= v.subnets[i].capacity()
            };
            if is_ec2 {
                let h = t.host.ok_or_else(|| fail(format!("{}: an EC2 start failure without a host", ctx())))?;
                // The subnet tried is the workload's subnet in the host's AZ. (The row leaves
                // `subnet` empty for an EC2 start failure, unlike a Fargate one: accept either.)
                let az = v.host_az(h.0);
                let s = v
                    .subnets
                    .iter()
                    .find(|s| s.az == az && ec2_subnets.contains(&s.name.as_str()))
                    .ok_or_else(|| fail(format!("{}: placed in an AZ none of its subnets is in", ctx())))?;
                if let Some(row_subnet) = v.subnet_of(t) {
                    prop_assert_eq!(&row_subnet.name, &s.name, "{}: the row names another subnet than the one in the host's AZ", ctx());
                }
                prop_assert!(full(&s.name), "{}: subnet {} still had a free address", ctx(), s.name);
                seen.ec2_ip_failures += 1;
                // It holds its ENI slot from placement until it stops.
                if g.attach_s == 0 {
                    eni_instants[h.index()].push((at, 1));
                } else {
                    eni_slots[h.index()].push(Hold { start: at, end: t.stopped_at.map(|e| e.0), weight: 1 });
                }
            } else {
                prop_assert!(t.host.is_none(), "{}: a Fargate task on a host", ctx());
                for name in &fargate_subnets {
                    prop_assert!(full(name), "{}: Fargate subnet {} still had a free address", ctx(), name);
                }
                seen.fargate_ip_failures += 1;
            }
            continue;
        }
        if t.stop_reason == Some(StopReason::FargateVcpuQuota) {
            prop_assert!(is_fargate && t.running_at.is_none() && t.subnet.is_none(), "{}: quota refusal", ctx());
            quota_refusals.push(t.placed_at.ok_or_else(|| fail(format!("{}: refused before acceptance", ctx())))?.0);
            continue;
        }
        if let Some(running) = t.running_at {
            let placed = t.placed_at.ok_or_else(|| fail(format!("{}: ran without being placed", ctx())))?;
            let az = t.az.ok_or_else(|| fail(format!("{}: ran in no AZ", ctx())))?.0;
            if is_bridge {
                prop_assert!(t.subnet.is_none(), "{}: a bridge task with a subnet", ctx());
                prop_assert_eq!(running.0, placed.0, "{}: a bridge task waited for an ENI", ctx());
            } else {
                let s = v.subnet_of(t).ok_or_else(|| fail(format!("{}: an awsvpc task ran without a subnet", ctx())))?;
                prop_assert_eq!(s.az, az, "{}: subnet {} is not in the task's AZ", ctx(), &s.name);
                let listed = if is_ec2 { &ec2_subnets } else { &fargate_subnets };
                prop_assert!(listed.contains(&s.name.as_str()), "{}: ran in subnet {} its workload does not list", ctx(), s.name);
                let delay = us(g.attach_s) + if is_ec2 { us(g.ec2_start_delay_s) } else { 0 };
                prop_assert_eq!(running.0 - placed.0, delay, "{}: PROVISIONING is the ENI attach plus the start delay", ctx());
            }
            match t.host {
                Some(h) => {
                    prop_assert!(!is_fargate, "{}: a Fargate task on a host", ctx());
                    prop_assert!(h.0 < hosts, "{}: no such host", ctx());
                    prop_assert_eq!(v.host_az(h.0), az, "{}: the host is in another AZ", ctx());
                }
                None => prop_assert!(is_fargate, "{}: an EC2 task ran on no host", ctx()),
            }
        }
        if let Some(placed) = t.placed_at {
            let hold = Hold { start: placed.0, end: t.stopped_at.map(|e| e.0), weight: 1 };
            if is_ec2 {
                let h = t.host.ok_or_else(|| fail(format!("{}: placed on no host", ctx())))?;
                eni_slots[h.index()].push(hold);
            } else if is_fargate {
                vcpus.push(Hold { weight: u64::from(fg_cpu), ..hold });
            }
        }
    }
    for (h, (slots, instants)) in eni_slots.iter().zip(&eni_instants).enumerate() {
        let peak =
            never_exceeds(&format!("host {h} ({}) awsvpc tasks", g.instance_type), slots, instants, u64::from(limit)).map_err(fail)?;
        seen.host_at_eni_limit |= peak == u64::from(limit);
    }
    seen.quota_refusals = quota_refusals.len();
    if let Some(q) = g.vcpu_quota {
        let limit = u64::from(q) * 1024;
        never_exceeds("Fargate CPU units", &vcpus, &[], limit).map_err(fail)?;
        for at in quota_refusals {
            let held: u64 = vcpus.iter().filter(|h| h.maybe_at(at)).map(|h| h.weight).sum();
            prop_assert!(
                held + u64::from(fg_cpu) > limit,
                "a Fargate launch at {} µs was refused with {} of {} CPU units held",
                at,
                held,
                limit
            );
        }
    } else {
        prop_assert!(quota_refusals.is_empty(), "quota refusals without a quota");
    }
    Ok(seen)
}

// ---------------------------------------------------------------------------------------------
// Properties over generated scenarios
// ---------------------------------------------------------------------------------------------

#[test]
fn every_generated_network_scenario_runs_ok_with_placement_matching_the_full_scan_oracle() {
    let (start_failures, eni_failures, fargate) = (Reached::default(), Reached::default(), Reached::default());
    check(64, gen_net(), |g| {
        let s = load(&g)?;
        // `sim::run` checks IP conservation, ENI slots, resources and tasks at the end, and with
        // `explain` every indexed decision against the full scan: any of them broken is an Err.
        let r = run(&s, &g)?;
        let m = &r.metrics;
        prop_assert_eq!(r.decisions.len() as f64, m.get(Metric::PlacementAttempts), "one explained decision per EC2 placement attempt");
        let placed = r.decisions.iter().filter(|d| d.outcome.is_ok()).count() as f64;
        prop_assert_eq!(placed, m.get(Metric::TasksPlaced), "explained successes ≠ tasks placed");
        if m.get(Metric::StartFailedNoIps) > 0.0 {
            start_failures.hit();
        }
        if m.get(Metric::FailedResourceEni) > 0.0 {
            eni_failures.hit();
        }
        if m.get(Metric::FargateLaunched) > 0.0 {
            fargate.hit();
        }
        Ok(())
    });
    eprintln!(
        "generated: {} with start failures, {} with RESOURCE:ENI failures, {} with Fargate launches",
        start_failures.count(),
        eni_failures.count(),
        fargate.count()
    );
    let n = cases(64) as usize;
    assert!(start_failures.count() >= n / 16, "only {} cases ran out of addresses", start_failures.count());
    assert!(eni_failures.count() >= n / 16, "only {} cases ran out of ENI slots", eni_failures.count());
    assert!(fargate.count() >= n / 16, "only {} cases launched Fargate tasks", fargate.count());
}

#[test]
fn free_addresses_task_enis_and_eni_slots_stay_within_what_the_subnets_and_hosts_allow() {
    let (ec2_ip, fargate_ip, eni_limit, quota) = (Reached::default(), Reached::default(), Reached::default(), Reached::default());
    check(64, gen_net(), |g| {
        let s = load(&g)?;
        let r = run(&s, &g)?;
        let v = View::new(&g, &s.0, &r)?;
        check_time_series(&v).map_err(|e| fail(format!("{e}\n{}", g.render())))?;
        let seen = check_task_rows(&v).map_err(|e| fail(format!("{e}\n{}", g.render())))?;
        for (hit, counter) in [
            (seen.ec2_ip_failures > 0, &ec2_ip),
            (seen.fargate_ip_failures > 0, &fargate_ip),
            (seen.host_at_eni_limit, &eni_limit),
            (seen.quota_refusals > 0, &quota),
        ] {
            if hit {
                counter.hit();
            }
        }
        Ok(())
    });
    eprintln!(
        "replayed: {} with EC2 start failures, {} with Fargate start failures, {} with a host at its ENI limit, {} with quota refusals",
        ec2_ip.count(),
        fargate_ip.count(),
        eni_limit.count(),
        quota.count()
    );
    let n = cases(64) as usize;
    assert!(ec2_ip.count() >= n / 32, "only {} cases had an EC2 start failure to check", ec2_ip.count());
    assert!(eni_limit.count() >= n / 16, "only {} cases filled a host's ENI slots", eni_limit.count());
}

fn same_series(a: &RunResult, b: &RunResult) -> bool {
    a.timeseries.columns == b.timeseries.columns
        && a.timeseries.rows.len() == b.timeseries.rows.len()
        && a.timeseries
            .rows
            .iter()
            .zip(&b.timeseries.rows)
            .all(|(x, y)| x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits()))
}

#[test]
fn the_same_generated_network_scenario_run_twice_gives_bit_identical_results() {
    check(64, gen_net(), |g| {
        // Loaded twice as well: reading and validating are part of the contract.
        let (s1, s2) = (load(&g)?, load(&g)?);
        let (a, b) = (run(&s1, &g)?, run(&s2, &g)?);
        for (i, (x, y)) in a.metrics.0.iter().zip(&b.metrics.0).enumerate() {
            prop_assert_eq!(x.to_bits(), y.to_bits(), "metric {} differs: {} vs {}\n{}", i, x, y, g.render());
        }
        prop_assert!(a.tasks == b.tasks, "task rows differ\n{}", g.render());
        prop_assert!(same_series(&a, &b), "time series differ\n{}", g.render());
        prop_assert!(a.decisions == b.decisions, "placement decisions differ\n{}", g.render());
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// One AZ, one subnet, one batch: exact counts
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct GenBatch {
    seed: u64,
    instance_type: &'static str,
    trunking: bool,
    hosts: u32,
    /// /24 to /27, so the next smaller prefix is still a valid subnet the hosts fit.
    prefix: u8,
    count: u32,
    attach_s: u32,
}

fn gen_batch() -> impl Strategy<Value = GenBatch> {
    (0..=i64::MAX as u64, prop::sample::select(INSTANCE_TYPES.to_vec()), any::<bool>(), 1u32..=4, 24u8..=27, 1u32..=130, 0u32..=10)
        .prop_map(|(seed, instance_type, trunking, hosts, prefix, count, attach_s)| GenBatch {
            seed,
            instance_type,
            trunking,
            hosts,
            prefix,
            count,
            attach_s,
        })
}

impl GenBatch {
    fn render(&self, prefix: u8) -> String {
        format!(
            r#"name = "one-subnet-batch"
seed = {}
horizon = "10m"
task_definitions = ["tiny.json"]
[cluster]
azs = ["us-east-1a"]
[network]
awsvpc_trunking = {}
eni_attach_delay = "{}s"
[network.subnets.only]
az = "us-east-1a"
cidr = "10.0.0.0/{prefix}"
[host_groups.main]
instance_type = "{}"
count_per_az = {}
subnets = ["only"]
[workload.jobs]
kind = "batch"
task_definition = "tiny"
at = "30s"
count = {}
run_time = "2h"
subnets = ["only"]
"#,
            self.seed, self.trunking, self.attach_s, self.instance_type, self.hosts, self.count
        )
    }

    fn run(&self, prefix: u8) -> Result<RunResult, TestCaseError> {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(
            dir.path().join("tiny.json"),
            r#"{ "family": "tiny", "networkMode": "awsvpc", "requiresCompatibilities": ["EC2"],
  "containerDefinitions": [{ "name": "app", "image": "app:1", "cpu": 64, "memory": 64 }] }"#,
        )
        .expect("write task definition");
        let path = dir.path().join("s.toml");
        let text = self.render(prefix);
        fs::write(&path, &text).expect("write scenario");
        let raw = RawScenario::read(&path).map_err(|e| fail(format!("{e}\n{text}")))?;
        let plan = Plan::build(&raw, None, &StrategyRegistry::new()).map_err(|e| fail(format!("{e}\n{text}")))?;
        let spec = &plan.run(0).unwrap();
        sim::run(&spec.scenario, spec.seed, RunOptions { record_tasks: true, explain: true })
            .map_err(|e| fail(format!("sim::run returned Err: {e}\n{text}")))
    }

    /// (start failures, RESOURCE:ENI placement failures, tasks running at the end) for `prefix`.
    ///
    /// The tasks are launched one after another at one instant. While a free address is left each
    /// placed task keeps it and its ENI slot. A task placed once the subnet is full fails to start
    /// (InsufficientFreeAddressesInSubnet), but ECS stops it only one ENI attach delay later: until
    /// then it keeps its ENI slot, so the tasks launched at the same instant cannot reuse it. So
    /// `min(n, slots)` tasks are placed, `min(n, cap, slots)` of them run, the rest of the placed
    /// fail to start, and the tasks beyond `slots` fail placement with RESOURCE:ENI. With no attach
    /// delay the failed task stops at once and hands its slot back to the next task: then every
    /// task beyond `cap` is placed and fails to start when `cap < slots`.
    fn expected(&self, prefix: u8) -> (u32, u32, u32) {
        let n = self.count;
        let cap = usable(prefix) - self.hosts * addresses_per_host(self.instance_type, self.trunking);
        let slots = self.hosts * eni_task_limit(self.instance_type, self.trunking);
        let running = n.min(cap).min(slots);
        if self.attach_s == 0 {
            return if cap < slots { (n - running, 0, running) } else { (0, n - running, running) };
        }
        let placed = n.min(slots);
        (placed - running, n - placed, running)
    }
}

fn batch_counts(r: &RunResult) -> (u32, u32, u32) {
    let m = &r.metrics;
    let running = r.tasks.iter().filter(|t| t.running_at.is_some() && t.stopped_at.is_none()).count() as u32;
    (m.get(Metric::StartFailedNoIps) as u32, m.get(Metric::FailedResourceEni) as u32, running)
}

#[test]
fn a_one_subnet_batch_fails_exactly_the_tasks_beyond_addresses_or_eni_slots_and_a_smaller_subnet_never_fails_fewer() {
    let (address_bound, slot_bound) = (Reached::default(), Reached::default());
    check(32, gen_batch(), |b| {
        let (large, small) = (b.run(b.prefix)?, b.run(b.prefix + 1)?);
        for (prefix, r) in [(b.prefix, &large), (b.prefix + 1, &small)] {
            let expected = b.expected(prefix);
            prop_assert_eq!(
                batch_counts(r),
                expected,
                "/{}: (start failures, RESOURCE:ENI failures, running) differ\n{}",
                prefix,
                b.render(prefix)
            );
            let m = &r.metrics;
            prop_assert_eq!(m.get(Metric::FailedResourceCpu) + m.get(Metric::FailedResourceMemory), 0.0, "CPU or memory was binding");
            prop_assert_eq!(m.get(Metric::PlacementFailures), f64::from(expected.1), "placement failed for another reason");
            if expected.0 > 0 {
                address_bound.hit();
            } else if expected.1 > 0 {
                slot_bound.hit();
            }
        }
        let (fail_large, fail_small) = (large.metrics.get(Metric::StartFailedNoIps), small.metrics.get(Metric::StartFailedNoIps));
        prop_assert!(
            fail_small >= fail_large,
            "/{} had {} start failures, the smaller /{} only {}",
            b.prefix,
            fail_large,
            b.prefix + 1,
            fail_small
        );
        Ok(())
    });
    // Address-bound batches are a few percent of generated cases: with the fixed seed this holds;
    // another PROPTEST_RNG_SEED may need PROPTEST_CASES raised (about 5 % of seeds at 32 cases
    // reach fewer than n / 8).
    let n = cases(32) as usize;
    assert!(
        address_bound.count() >= n / 8 && slot_bound.count() >= n / 8,
        "{} address-bound, {} slot-bound runs",
        address_bound.count(),
        slot_bound.count()
    );
}
