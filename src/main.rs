//! tap-healthchecks: a Singer tap for the Healthchecks.io Management API v3.
//!
//! `main` parses the command line, sets up logging, and dispatches to
//! discovery or a sync. Errors end here: printed once on stderr as one line,
//! with an exit code that distinguishes bad input from a failed sync.

mod catalog;
mod cli;
mod client;
mod config;
mod logger;
mod retry;
mod schema;
mod singer;
mod state;
mod streams;
mod sync;

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use log::LevelFilter;

use crate::catalog::Selection;
use crate::cli::Args;
use crate::config::Settings;
use crate::state::State;

/// Exit code for invalid input: arguments, config, catalog or state.
const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for a sync that failed: API errors, network faults, a closed
/// stdout.
const EXIT_SYNC_FAILED: u8 = 1;

fn main() -> ExitCode {
    let args = Args::parse();
    logger::init(log_level());
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { code, error }) => {
            eprintln!("error: {}", describe(&error));
            ExitCode::from(code)
        }
    }
}

/// An error with the exit code it ends the process with.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

fn bad_input(error: anyhow::Error) -> Failure {
    Failure {
        code: EXIT_BAD_INPUT,
        error,
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    if args.discover {
        if !args.config.is_empty() {
            config::load(&args.config).map_err(bad_input)?;
        }
        return discover().map_err(|error| Failure {
            code: EXIT_SYNC_FAILED,
            error,
        });
    }
    if args.config.is_empty() {
        return Err(bad_input(anyhow::anyhow!(
            "--config FILE is required; see --help"
        )));
    }
    let settings = config::load(&args.config).map_err(bad_input)?;
    let selection = match &args.catalog {
        Some(path) => Selection::from_file(path).map_err(bad_input)?,
        None => Selection::all(),
    };
    let state = match &args.state {
        Some(path) => State::load(path).map_err(bad_input)?,
        None => State::default(),
    };
    sync(&settings, &selection, state).map_err(|error| Failure {
        code: EXIT_SYNC_FAILED,
        error,
    })
}

fn discover() -> Result<()> {
    let catalog = catalog::discover();
    let mut stdout = io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &catalog)?;
    writeln!(stdout)
        .and_then(|()| stdout.flush())
        .context("cannot write to stdout")
}

fn sync(settings: &Settings, selection: &Selection, state: State) -> Result<()> {
    let mut writer = singer::Writer::new(io::stdout().lock());
    sync::run(settings, selection, state, &mut writer)?;
    writer.flush().context("cannot write to stdout")
}

/// Reads the log level from `TAP_HEALTHCHECKS_LOG_LEVEL`, INFO by default.
fn log_level() -> LevelFilter {
    let Ok(name) = std::env::var("TAP_HEALTHCHECKS_LOG_LEVEL") else {
        return LevelFilter::Info;
    };
    logger::parse_level(&name).unwrap_or_else(|| {
        eprintln!("warning: TAP_HEALTHCHECKS_LOG_LEVEL {name:?} is not a log level; using info");
        LevelFilter::Info
    })
}

/// Renders an error chain as one line, with a plain explanation for a
/// closed stdout.
fn describe(error: &anyhow::Error) -> String {
    let closed = error
        .root_cause()
        .downcast_ref::<io::Error>()
        .is_some_and(|io_error| io_error.kind() == io::ErrorKind::BrokenPipe);
    if closed {
        return "stdout was closed, so the Singer target probably exited; the last STATE \
                it confirmed is where the next run resumes"
            .to_string();
    }
    one_line(&format!("{error:#}"))
}

/// Keeps an error message on one line, whatever a lower layer put in it.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
