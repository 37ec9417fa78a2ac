//! Command-line parsing (clap) and the commands. No simulation logic lives here.

mod check;
mod commands;
mod decisions;
mod import;
mod plan;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use commands::dispatch;

#[derive(Debug, Parser)]
#[command(
    name = "clustersim",
    version,
    about = "Deterministic discrete-event simulator of an Amazon ECS cluster (EC2 and Fargate launch types)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario (every run of its sweep) and write results.
    Run {
        scenario: PathBuf,
        /// Seed to use instead of the scenario's.
        #[arg(long)]
        seed: Option<u64>,
        /// Results folder (default: results/<scenario name>/, or results/<name>.shard-I-of-N/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Runs in parallel (default: all cores). Results are identical whatever this is.
        #[arg(long)]
        jobs: Option<usize>,
        /// Also write tasks/<run_id>.csv: one row per task.
        #[arg(long)]
        tasks: bool,
        /// Also write decisions.csv: one row per placement decision, with the survivors of each stage.
        #[arg(long)]
        explain: bool,
        /// Run only shard I of N of the sweep's runs (partial results; combine with `merge`).
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Keep the runs an interrupted execution completed; run only the missing ones.
        #[arg(long)]
        resume: bool,
        /// Skip drawing charts.
        #[arg(long)]
        no_charts: bool,
        /// Also copy summary.csv to FILE, as a baseline for `check`.
        #[arg(long, value_name = "FILE")]
        write_baseline: Option<PathBuf>,
    },
    /// Validate a scenario (and its task definitions) without running it, and show what the
    /// simulator derives from it: registered resources per host type, tasks per host, subnet
    /// addresses, Fargate sizes.
    Validate {
        scenario: PathBuf,
        /// Print the same as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Run a scenario and compare its summary with a baseline summary.csv; exit 1 on a regression.
    Check {
        scenario: PathBuf,
        #[arg(long, value_name = "FILE")]
        baseline: PathBuf,
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Combine shard folders into the results one machine would have written.
    Merge {
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        /// The scenario file, if it is not where the shards ran it from.
        #[arg(long)]
        scenario: Option<PathBuf>,
    },
    /// Compare two decisions.csv files of the same scenario and seed.
    DiffDecisions { a: PathBuf, b: PathBuf },
    /// Find the cheapest configuration that meets the targets of the scenario's [plan]: bisection
    /// over a monotone knob (hosts), every value of the others, each candidate on the same seeds.
    /// Runs already in the results folder are reused.
    Plan {
        scenario: PathBuf,
        /// Seed to use instead of the scenario's.
        #[arg(long)]
        seed: Option<u64>,
        /// Results folder (default: results/<scenario name>-plan/). A later plan with the same
        /// folder reuses its runs.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Runs in parallel (default: all cores). Results are identical whatever this is.
        #[arg(long)]
        jobs: Option<usize>,
        /// Skip drawing the chart.
        #[arg(long)]
        no_charts: bool,
    },
    /// Turn ECS Task State Change events (EventBridge JSON, one per line or an array) into a
    /// trace CSV for a `trace` workload.
    ImportEcsEvents {
        file: PathBuf,
        /// Where to write the trace CSV (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also write a task definition per trace family into this folder, sized as the events say.
        #[arg(long, value_name = "DIR")]
        taskdefs: Option<PathBuf>,
        /// Task CPU units for tasks whose events give none.
        #[arg(long)]
        cpu: Option<u32>,
        /// Task memory in MiB for tasks whose events give none.
        #[arg(long, value_name = "MIB")]
        memory: Option<u32>,
    },
}

/// How a command failed.
#[derive(Debug)]
pub enum Failure {
    /// Exit status 2.
    BadInput(String),
    /// Exit status 3.
    Internal(String),
}

pub type CliResult = Result<ExitCode, Failure>;
