//! Trace replay: `time_s,family,duration_s[,count]` rows, as recorded from a real cluster.

use crate::engine::SimTime;

#[derive(Debug, Clone, PartialEq)]
pub struct TraceRecord {
    pub at: SimTime,
    /// Task-definition family as written in the trace.
    pub family: String,
    /// Its index among the scenario's task definitions (set by the scenario when it validates
    /// the trace; 0 straight after parsing).
    pub task_definition: u32,
    pub run_time: SimTime,
    pub count: u32,
    /// Line of the trace file it came from (1 is the header).
    pub line: usize,
}

/// Parses a trace. A header row (`time_s,family,duration_s[,count]`) is required so that column
/// order mistakes are caught. Rows are sorted by time (stable) after reading.
/// Errors are `(line, message)`.
pub fn parse_trace(text: &str) -> Result<Vec<TraceRecord>, (usize, String)> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).flexible(true).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| (1, format!("cannot read the header row: {e}")))?.clone();
    let names: Vec<&str> = headers.iter().collect();
    if names.len() < 3 || names[..3] != ["time_s", "family", "duration_s"] || (names.len() == 4 && names[3] != "count") || names.len() > 4 {
        return Err((
            1,
            format!("header must be `time_s,family,duration_s` or `time_s,family,duration_s,count`, found `{}`", names.join(",")),
        ));
    }
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = row.map_err(|e| (line, format!("unreadable row: {e}")))?;
        if row.len() < 3 || row.len() > 4 {
            return Err((line, format!("expected 3 or 4 columns, found {}", row.len())));
        }
        let number = |idx: usize, what: &str| -> Result<f64, (usize, String)> {
            let v: f64 = row[idx].parse().map_err(|_| (line, format!("{what} `{}` is not a number", &row[idx])))?;
            if !v.is_finite() || v < 0.0 {
                return Err((line, format!("{what} must be ≥ 0, found {v}")));
            }
            Ok(v)
        };
        let at = SimTime::from_secs_f64(number(0, "time_s")?);
        let run_time = SimTime::from_secs_f64(number(2, "duration_s")?);
        let count = if row.len() == 4 {
            let c = number(3, "count")?;
            if c < 1.0 || c.fract() != 0.0 || c > 1e6 {
                return Err((line, format!("count must be a whole number from 1 to 1000000, found {c}")));
            }
            c as u32
        } else {
            1
        };
        if row[1].is_empty() {
            return Err((line, "family is empty".into()));
        }
        out.push(TraceRecord { at, family: row[1].to_string(), task_definition: 0, run_time, count, line });
    }
    out.sort_by_key(|r| r.at);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_with_and_without_count_are_read_and_sorted() {
        let t = parse_trace("time_s,family,duration_s,count\n5,web,60,2\n1.5,worker,30\n").unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].family, "worker");
        assert_eq!(t[0].at, SimTime::from_millis(1500));
        assert_eq!(t[1].count, 2);
    }

    #[test]
    fn bad_rows_name_their_line() {
        assert_eq!(parse_trace("time_s,family,duration_s\n1,web,x\n").unwrap_err().0, 2);
        assert_eq!(parse_trace("time_s,family,duration_s\n1,web,5\n-1,web,5\n").unwrap_err().0, 3);
        assert_eq!(parse_trace("family,time_s,duration_s\n").unwrap_err().0, 1);
    }
}
