//! Sampled state over simulated time: one row per sample, named columns.

/// A table of samples: `columns[0]` is `time_s`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeSeries {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<f64>>,
}

impl TimeSeries {
    pub fn new(columns: Vec<String>) -> TimeSeries {
        TimeSeries { columns, rows: Vec::new() }
    }

    pub fn push(&mut self, row: Vec<f64>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let i = self.columns.iter().position(|c| c == name)?;
        Some(self.rows.iter().map(|r| r[i]).collect())
    }
}
