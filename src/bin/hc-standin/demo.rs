//! `hc-standin demo`: a full sync against the lab dataset, with no account needed.
//!
//! Starts the server in-process on a free port of 127.0.0.1 and writes a tap config
//! (`api_key`, `base_url`) into a fresh temporary directory. Then it runs the
//! `tap-healthchecks` binary from the same directory as this one, with `--config` and
//! the extra arguments, and returns the tap's exit code. The tap inherits stdout and
//! stderr.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::dataset::{Dataset, LAB_JSON};
use crate::server::{self, Settings};

/// Runs the tap against the lab dataset and returns its exit code.
pub fn run(read_only: bool, tap_args: &[String]) -> Result<i32> {
    let tap = tap_binary()?;
    let dataset = Dataset::from_json(LAB_JSON).context("embedded lab dataset")?;
    let lab = &dataset.projects[0];
    let (key, key_kind) = if read_only {
        (lab.ro_key.clone(), "read-only")
    } else {
        (lab.rw_key.clone(), "read-write")
    };
    let listener = TcpListener::bind("127.0.0.1:0").context("failed to bind 127.0.0.1")?;
    let (url, _server) = server::spawn(listener, dataset, Settings::default())?;
    let directory = temporary_directory()?;
    let config = directory.join("config.json");
    let text = serde_json::to_string_pretty(&json!({"api_key": key, "base_url": url}))?;
    fs::write(&config, text).with_context(|| format!("failed to write {}", config.display()))?;
    eprintln!(
        "hc-standin demo: serving the lab dataset (tests/fixtures/lab.json) at {url}; \
         running {} with the lab project's {key_kind} key",
        tap.display()
    );
    let status = Command::new(&tap)
        .arg("--config")
        .arg(&config)
        .args(tap_args)
        .status();
    let _ = fs::remove_dir_all(&directory);
    let status = status.with_context(|| format!("failed to start {}", tap.display()))?;
    Ok(exit_code(status))
}

fn tap_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("failed to locate the hc-standin binary")?;
    let directory = exe.parent().unwrap_or(Path::new("."));
    let tap = directory.join(format!("tap-healthchecks{}", std::env::consts::EXE_SUFFIX));
    if !tap.is_file() {
        bail!(
            "tap binary not found at {}: run `cargo build --release` first",
            tap.display()
        );
    }
    Ok(tap)
}

/// Creates a new directory under the system temp dir, unique to this process.
fn temporary_directory() -> Result<PathBuf> {
    let base = std::env::temp_dir();
    for attempt in 0..100 {
        let path = base.join(format!("hc-standin-demo-{}-{attempt}", std::process::id()));
        match fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(error) => {
                return Err(error).with_context(|| format!("failed to create {}", path.display()));
            }
        }
    }
    bail!(
        "failed to create a temporary directory under {}",
        base.display()
    )
}

/// Maps a child's exit status to ours; a signal `s` gives 128 + s as shells do.
fn exit_code(status: ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    status.code().unwrap_or(1)
}
