//! `diff-decisions A B`: with common random numbers, two decision logs of the same scenario and
//! seed are identical up to the first decision a scheduler change altered.

use std::path::Path;
use std::process::ExitCode;

use super::{CliResult, Failure};
use clustersim::scenario::input::read_text_file;

pub fn diff(a: &Path, b: &Path) -> CliResult {
    let read = |p: &Path| -> Result<Vec<csv::StringRecord>, Failure> {
        let text = read_text_file(p).map_err(Failure::BadInput)?;
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let headers = r.headers().map_err(|e| Failure::BadInput(format!("{}: {e}", p.display())))?.clone();
        if headers.get(0) != Some("run_id") || !headers.iter().any(|h| h == "failure_reason") {
            return Err(Failure::BadInput(format!("{}: not a decisions.csv (write one with `clustersim run --explain`)", p.display())));
        }
        r.records().collect::<Result<Vec<_>, _>>().map_err(|e| Failure::BadInput(format!("{}: {e}", p.display())))
    };
    let (ra, rb) = (read(a)?, read(b)?);
    let common = ra.len().min(rb.len());
    let differing = (0..common).filter(|&i| ra[i] != rb[i]).count() + ra.len().abs_diff(rb.len());
    match (0..common).find(|&i| ra[i] != rb[i]) {
        None if ra.len() == rb.len() => {
            println!("identical: {} decisions", ra.len());
            Ok(ExitCode::SUCCESS)
        }
        first => {
            let i = first.unwrap_or(common);
            println!("first difference at decision {} (row {} of the files):", i + 1, i + 2);
            let show = |r: Option<&csv::StringRecord>| r.map_or_else(|| "(no row)".to_string(), |r| r.iter().collect::<Vec<_>>().join(","));
            println!("  A: {}", show(ra.get(i)));
            println!("  B: {}", show(rb.get(i)));
            println!("{differing} of {} decisions differ", ra.len().max(rb.len()));
            Ok(ExitCode::from(1))
        }
    }
}
