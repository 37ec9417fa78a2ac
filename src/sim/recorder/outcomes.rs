//! The end of a run: per-task outcomes, and what the recorder hands over.

use super::super::result::DecisionRow;
use crate::metrics::{MetricValues, TimeSeries};
use crate::model::SubnetId;

/// What the end of a run needs to know besides the records.
pub(crate) struct FinishContext<'a> {
    pub events: u64,
    pub has_services: bool,
    /// Subnets that task ENIs use (the minimum of free addresses is taken over them).
    pub task_subnets: &'a [SubnetId],
    /// What egress measured (`None` without `[images]`/`[logs]`).
    pub egress: Option<&'a super::super::egress::EgressTotals>,
    pub bill: &'a crate::model::cost::Bill,
}

/// What the recorder hands over at the end of a run.
pub(crate) struct Finished {
    pub metrics: MetricValues,
    pub timeseries: TimeSeries,
    pub decisions: Vec<DecisionRow>,
    pub min_free: Vec<u32>,
}
