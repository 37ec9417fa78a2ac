//! The `clustersim` command: a thin layer over the library. Exit status: 0 success, 1 a
//! regression (`check`) or differing decisions (`diff-decisions`), 2 bad input or usage, 3 an
//! internal error (a broken invariant or a panic: a bug).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    clustersim::sweep::quiet_panics();
    // A panic anywhere is a bug: an internal error (exit 3), never Rust's exit 101.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cli::dispatch(args))).unwrap_or_else(|panic| {
        Err(cli::Failure::Internal(format!("clustersim panicked: {}", clustersim::sweep::panic_message(panic.as_ref()))))
    });
    match outcome {
        Ok(code) => code,
        Err(cli::Failure::BadInput(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(cli::Failure::Internal(message)) => {
            eprintln!("internal error: {message}");
            ExitCode::from(3)
        }
    }
}
