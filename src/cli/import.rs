//! `import-ecs-events`: ECS Task State Change events → a trace CSV (and, on request, task
//! definitions sized as the events say). The conversion is `clustersim::import`; this file reads
//! and writes the files and reports what was skipped.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{CliResult, Failure};
use clustersim::import::{self, ImportOptions};
use clustersim::scenario::input::{MAX_INPUT_BYTES, read_regular_file, utf8_text};

pub fn import_ecs_events(file: &Path, out: Option<&Path>, taskdefs: Option<&Path>, options: ImportOptions) -> CliResult {
    let bytes =
        read_regular_file(file, MAX_INPUT_BYTES).map_err(|e| Failure::BadInput(format!("{}: cannot read it: {e}", file.display())))?;
    let text = utf8_text(bytes).map_err(|e| Failure::BadInput(format!("{}: {e}", file.display())))?;
    let got = import::import(&text, options);
    for s in &got.skipped {
        eprintln!("{}: line {}: {}", file.display(), s.line, s.message);
    }
    if got.tasks.is_empty() {
        return Err(Failure::BadInput(format!(
            "{}: no task to replay in {} event(s) ({} skipped); an input is ECS Task State Change events as EventBridge delivers them, one per line or a JSON array",
            file.display(),
            got.events,
            got.skipped.len()
        )));
    }
    let csv = import::trace_csv(&got);
    match out {
        Some(path) => std::fs::write(path, &csv).map_err(|e| Failure::BadInput(format!("cannot write `{}`: {e}", path.display())))?,
        None => print!("{csv}"),
    }
    let mut written: Vec<PathBuf> = Vec::new();
    if let Some(dir) = taskdefs {
        std::fs::create_dir_all(dir).map_err(|e| Failure::BadInput(format!("cannot create `{}`: {e}", dir.display())))?;
        for f in &got.families {
            match import::task_definition_json(f) {
                Ok(json) => {
                    let path = dir.join(format!("{}.json", f.family));
                    std::fs::write(&path, json).map_err(|e| Failure::BadInput(format!("cannot write `{}`: {e}", path.display())))?;
                    written.push(path);
                }
                Err(message) => eprintln!("note: {message}"),
            }
        }
    }
    eprintln!(
        "{}: {} event(s) → {} task(s) of {} family(ies) ({} still running at the end of the file, replayed as running to the end); {} line(s) or task(s) skipped{}",
        file.display(),
        got.events,
        got.tasks.len(),
        got.families.len(),
        got.still_running,
        got.skipped.len(),
        if written.is_empty() {
            String::new()
        } else {
            format!("; task definitions: {}", written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))
        }
    );
    Ok(ExitCode::SUCCESS)
}
