//! clustersim: a deterministic discrete-event simulator of an Amazon ECS cluster.
//!
//! Data flows one way (see `ARCHITECTURE.md`): a scenario file is parsed and validated
//! ([`scenario`]), expanded into runs ([`scenario::sweep`]), each run is simulated on one thread
//! ([`sim`], built on [`engine`], [`model`], [`placement`], [`workload`]), runs execute in parallel
//! ([`sweep`]), and [`report`] writes CSV files and charts.

pub mod engine;
pub mod import;
pub mod metrics;
pub mod model;
pub mod placement;
pub mod plan;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod sweep;
pub mod workload;
