//! The `clustersim` command: a thin layer over the library. Exit status: 0 success, 1 a
//! regression (`check`) or differing decisions (`diff-decisions`), 2 bad input or usage, 3 an
//! internal error (a broken invariant: a bug).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::dispatch(args) {
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
