//! `hc-standin`: a local stand-in for the Healthchecks.io Management API v3.
//!
//! `serve` implements the read endpoints of the API on 127.0.0.1 from a JSON dataset,
//! the embedded lab dataset by default. Responses carry the status codes, key handling
//! and Django-style JSON bytes of a real server. An admin API under `/__standin/` lets
//! tests add data, count requests and inject faults. `demo` runs the tap against the
//! server. The integration tests, the demo and the benchmark use this binary.

mod admin;
mod api;
mod base64;
mod dataset;
mod demo;
mod faults;
mod generate;
mod http;
mod objects;
mod query;
mod render;
mod routes;
mod server;

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};

use crate::dataset::{Dataset, LAB_JSON};
use crate::server::Settings;

/// Local stand-in for the Healthchecks.io Management API v3.
#[derive(Parser)]
#[command(name = "hc-standin", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API on 127.0.0.1 until killed; prints `listening on URL` first.
    Serve(ServeArgs),
    /// Run the sibling tap-healthchecks binary against the lab dataset.
    Demo(DemoArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Dataset JSON file to serve instead of the embedded lab dataset.
    #[arg(long, value_name = "FILE", conflicts_with = "generate")]
    dataset: Option<PathBuf>,
    /// TCP port on 127.0.0.1; 0 picks a free port.
    #[arg(long, value_name = "N", default_value_t = 0)]
    port: u16,
    /// Path prefix before /api/, e.g. /hc (the site root becomes http://127.0.0.1:PORT/hc).
    #[arg(long, value_name = "PATH", default_value = "")]
    prefix: String,
    /// Number of newest pings listed per check, for every project (capped at 1000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    ping_log_limit: Option<u64>,
    /// Milliseconds to sleep before each API response.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency_ms: u64,
    /// Serve a synthetic project of CHECKS checks with PINGS pings each instead.
    #[arg(long, value_name = "CHECKS,PINGS", value_parser = parse_generate)]
    generate: Option<(usize, usize)>,
    /// Server clock for the flips `seconds` filter, as an RFC 3339 time (default: now).
    #[arg(long, value_name = "TIME", value_parser = parse_now)]
    now: Option<i64>,
}

#[derive(Args)]
struct DemoArgs {
    /// Give the tap the lab project's read-only key instead of the read-write key.
    #[arg(long)]
    read_only: bool,
    /// Extra arguments for the tap, after `--`.
    #[arg(last = true, value_name = "TAP_ARGS")]
    tap_args: Vec<String>,
}

fn main() -> ExitCode {
    init_logger();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args).map(|()| 0),
        Command::Demo(args) => demo::run(args.read_only, &args.tap_args),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(error) => {
            eprintln!("hc-standin: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn serve(args: ServeArgs) -> Result<()> {
    let prefix = normalize_prefix(&args.prefix)?;
    let dataset = load_dataset(&args)?;
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .with_context(|| format!("failed to bind 127.0.0.1:{}", args.port))?;
    let settings = Settings {
        prefix,
        latency: Duration::from_millis(args.latency_ms),
        ping_log_limit: args.ping_log_limit,
        now: args.now,
    };
    let (url, thread) = server::spawn(listener, dataset, settings)?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {url}").context("failed to write to stdout")?;
    stdout.flush().context("failed to write to stdout")?;
    thread
        .join()
        .map_err(|_| anyhow::anyhow!("server thread panicked"))
}

fn load_dataset(args: &ServeArgs) -> Result<Dataset> {
    if let Some((checks, pings)) = args.generate {
        let mut dataset = generate::generate(checks, pings);
        dataset
            .normalize_and_validate()
            .context("generated dataset")?;
        eprintln!(
            "hc-standin: generated {checks} checks with {pings} pings each; \
             read-write key {}, read-only key {}",
            generate::GENERATED_RW_KEY,
            generate::GENERATED_RO_KEY
        );
        return Ok(dataset);
    }
    match &args.dataset {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("failed to read dataset {}", path.display()))?;
            Dataset::from_json(&text).with_context(|| format!("dataset {}", path.display()))
        }
        None => Dataset::from_json(LAB_JSON).context("embedded lab dataset"),
    }
}

/// Returns the prefix with one leading slash and no trailing slash (`""` for none).
fn normalize_prefix(prefix: &str) -> Result<String> {
    let trimmed = prefix.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    let valid = trimmed
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b));
    if !valid || trimmed.contains("//") {
        bail!(
            "invalid --prefix {prefix:?}: use path segments of letters, digits, '-', '.', '_' or '~'"
        );
    }
    Ok(format!("/{trimmed}"))
}

fn parse_generate(text: &str) -> Result<(usize, usize), String> {
    let parse = |part: &str| part.trim().parse::<usize>().ok();
    match text
        .split_once(',')
        .map(|(checks, pings)| (parse(checks), parse(pings)))
    {
        Some((Some(checks), Some(pings))) => Ok((checks, pings)),
        _ => Err(format!(
            "expected CHECKS,PINGS as two integers, e.g. 1000,1000, not {text:?}"
        )),
    }
}

fn parse_now(text: &str) -> Result<i64, String> {
    dataset::parse_timestamp(text)
        .map(|time| time.timestamp())
        .map_err(|error| error.to_string())
}

/// Logs warnings (and debug messages when `HC_STANDIN_LOG=debug`) to stderr.
fn init_logger() {
    struct StderrLogger;
    impl log::Log for StderrLogger {
        fn enabled(&self, metadata: &log::Metadata) -> bool {
            metadata.level() <= log::max_level()
        }
        fn log(&self, record: &log::Record) {
            if self.enabled(record.metadata()) {
                eprintln!(
                    "hc-standin: {}: {}",
                    record.level().as_str().to_lowercase(),
                    record.args()
                );
            }
        }
        fn flush(&self) {}
    }
    let debug = std::env::var("HC_STANDIN_LOG").is_ok_and(|value| value == "debug");
    log::set_max_level(if debug {
        log::LevelFilter::Debug
    } else {
        log::LevelFilter::Warn
    });
    let _ = log::set_logger(&StderrLogger);
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn prefix_is_normalized() {
        assert_eq!(normalize_prefix("").unwrap(), "");
        assert_eq!(normalize_prefix("/").unwrap(), "");
        assert_eq!(normalize_prefix("/hc/").unwrap(), "/hc");
        assert_eq!(normalize_prefix("a/b").unwrap(), "/a/b");
        assert!(normalize_prefix("/a b").is_err());
    }

    #[test]
    fn generate_value_is_two_integers() {
        assert_eq!(parse_generate("1000,1000"), Ok((1000, 1000)));
        assert!(parse_generate("1000").is_err());
        assert!(parse_generate("a,1").is_err());
    }
}
