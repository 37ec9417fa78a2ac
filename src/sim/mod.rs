//! One simulation run: a single-threaded event loop over the cluster model, placement and the
//! workloads. This is the only module where those pieces meet.
//!
//! Architecture invariant: `sim` does no file I/O and spawns no threads; it turns a
//! [`Scenario`] and a seed into a [`RunResult`] (plain data), deterministically.

mod run;
mod service;

pub use run::{DecisionRow, RunOptions, RunResult, SubnetRow, TaskRow, build_cluster, run};
