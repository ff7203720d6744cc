//! tap-healthchecks: a Singer tap for the Healthchecks.io Management API v3.
//!
//! `main` parses the command line, sets up logging, and dispatches to
//! `--about`, `--test`, discovery or a sync. Errors end here: printed once on
//! stderr as one line, with an exit code that distinguishes bad input from a
//! failed sync.

mod about;
mod catalog;
mod cli;
mod client;
mod config;
mod logger;
mod pool;
mod retry;
mod schema;
mod singer;
mod state;
mod streams;
mod sync;

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::Parser;
use log::LevelFilter;

use crate::catalog::Selection;
use crate::cli::{AboutFormat, Args};
use crate::config::Settings;
use crate::state::State;

/// Exit code for invalid input: arguments, config, catalog or state.
const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for a sync that failed: API errors, network faults, a closed
/// stdout.
const EXIT_SYNC_FAILED: u8 = 1;

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(error) => return usage_error(&error),
    };
    logger::init(LevelFilter::Info);
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { code, error }) => {
            // A failed write to stderr leaves nowhere to report, so it is
            // ignored rather than allowed to panic.
            let _ = writeln!(io::stderr(), "error: {}", describe(&error));
            ExitCode::from(code)
        }
    }
}

/// Prints help and version as clap does, and a usage error as one line.
fn usage_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let _ = error.print();
        return ExitCode::SUCCESS;
    }
    // clap's message continues on the next lines (the missing argument, a
    // tip) before its usage section.
    let rendered = error.render().to_string();
    let lines: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with("Usage:"))
        .filter(|line| !line.is_empty() && !line.starts_with("tip:"))
        .collect();
    let joined = lines.join(" ");
    let message = joined.trim_start_matches("error: ").trim_end_matches(':');
    let _ = writeln!(io::stderr(), "error: {message}; see --help");
    ExitCode::from(EXIT_BAD_INPUT)
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

fn failed(error: anyhow::Error) -> Failure {
    Failure {
        code: EXIT_SYNC_FAILED,
        error,
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    set_log_level(args, None).map_err(bad_input)?;
    if args.about {
        return print_about(args.format).map_err(failed);
    }
    if args.discover {
        config::load_for_discovery(&args.config).map_err(bad_input)?;
        return print_json(&catalog::discover()).map_err(failed);
    }
    if args.config.is_empty() {
        return Err(bad_input(anyhow!("--config FILE is required; see --help")));
    }
    let settings = config::load(&args.config).map_err(bad_input)?;
    set_log_level(args, settings.log_level).map_err(bad_input)?;
    if args.test {
        return test_connection(&settings).map_err(failed);
    }
    let selection = match &args.catalog {
        Some(path) => Selection::from_file(path).map_err(bad_input)?,
        None => Selection::all(),
    };
    let state = match &args.state {
        Some(path) => State::load(path).map_err(bad_input)?,
        None => State::default(),
    };
    sync(&settings, &selection, state).map_err(failed)
}

fn print_about(format: AboutFormat) -> Result<()> {
    match format {
        AboutFormat::Json => print_json(&about::json()),
        AboutFormat::Markdown => print_text(&about::markdown()),
        AboutFormat::Text => print_text(&about::text()),
    }
}

fn print_json(value: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value).context("cannot serialize JSON")?;
    print_text(&(text + "\n"))
}

fn print_text(text: &str) -> Result<()> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot write to stdout")
}

fn test_connection(settings: &Settings) -> Result<()> {
    let report = sync::test_connection(settings)?;
    print_text(&report)
}

fn sync(settings: &Settings, selection: &Selection, state: State) -> Result<()> {
    let mut writer = singer::Writer::new(io::stdout().lock());
    sync::run(settings, selection, state, &mut writer)?;
    writer.flush().context("cannot write to stdout")
}

/// Sets the log level from, in order of precedence, `--log-level`,
/// `TAP_HEALTHCHECKS_LOG_LEVEL` and the `log_level` setting; INFO without
/// any of them.
fn set_log_level(args: &Args, from_config: Option<LevelFilter>) -> Result<()> {
    let level = if let Some(name) = &args.log_level {
        logger::parse_level(name).with_context(|| {
            format!("--log-level {name:?} is invalid; use error, warn, info, debug or trace")
        })?
    } else if let Some(level) = level_from_env() {
        level
    } else {
        from_config.unwrap_or(LevelFilter::Info)
    };
    log::set_max_level(level);
    Ok(())
}

/// Reads `TAP_HEALTHCHECKS_LOG_LEVEL`; an empty value counts as unset, and
/// an invalid one is reported and ignored, so that it cannot stop
/// `--about` or discovery.
fn level_from_env() -> Option<LevelFilter> {
    let name = std::env::var("TAP_HEALTHCHECKS_LOG_LEVEL")
        .ok()
        .filter(|name| !name.trim().is_empty())?;
    let level = logger::parse_level(&name);
    if level.is_none() {
        log::warn!(
            "ignoring TAP_HEALTHCHECKS_LOG_LEVEL {name:?}; use error, warn, info, debug or trace"
        );
    }
    level
}

/// Renders an error chain as one line, with a plain explanation for a
/// closed stdout.
fn describe(error: &anyhow::Error) -> String {
    let closed = error
        .root_cause()
        .downcast_ref::<io::Error>()
        .is_some_and(|io_error| io_error.kind() == io::ErrorKind::BrokenPipe);
    if closed {
        return "stdout was closed before the output was complete, so the program reading \
                it (the Singer target) probably exited; a sync resumes from the last STATE \
                the target confirmed"
            .to_string();
    }
    logger::sanitize(&config::redact(&format!("{error:#}")))
}
