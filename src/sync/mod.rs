//! A sync: which requests run, in what order, and when STATE is written.
//!
//! The checks list comes first, since `pings` and `flips` are read per check
//! and the list shows the key type (read-only keys get no check UUIDs).
//! Then come the integrations, and then each check's pings and flips. Those
//! per-check requests run on a pool of `max_concurrency` threads, but the
//! results are written in the order of the checks list, so the output does
//! not depend on timing. Each check is followed by a STATE if its bookmarks
//! moved, so a run killed half-way resumes from the last finished check.
//! A final STATE ends every sync, also one that found nothing.
//!
//! Requests that cannot return anything new are not made:
//! - pings, when the check's `n_pings` equals its bookmark;
//! - flips, when the check's `status`, `started`, `last_ping`, `next_ping`
//!   and `n_pings` equal those stored at its last flips sync and `last_ping`
//!   is not null. Every flip changes one of these fields: a ping that
//!   changes the status adds to `n_pings`, the server marking a late check
//!   down changes `status` and `next_ping`, and a pause or resume changes
//!   `status`. The one exception is a pause and resume in a row of a check
//!   that was never pinged (new, paused, new again), which the `last_ping`
//!   condition covers. Setting `flips_skip_unchanged` to false turns this
//!   off.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::catalog::{SelectedStream, Selection};
use crate::client::Client;
use crate::config::Settings;
use crate::singer::{Writer, format_time};
use crate::state::State;
use crate::streams::checks::{self, Check};
use crate::streams::{self, integrations};
use per_check::PerCheck;

mod per_check;

/// Runs a sync of the selected streams from `state`, writing Singer
/// messages to `writer`.
pub fn run<W: Write>(
    settings: &Settings,
    selection: &Selection,
    state: State,
    writer: &mut Writer<W>,
) -> Result<()> {
    let client = Client::new(settings);
    let mut sync = Sync {
        settings,
        selection,
        client: &client,
        writer,
        state,
        state_changed: false,
        version: Utc::now().timestamp_millis(),
        started_at: Utc::now(),
        consecutive_failures: 0,
        consecutive_deleted: 0,
        counts: BTreeMap::new(),
        skipped_requests: 0,
        failures: Vec::new(),
    };
    sync.run()
}

/// Checks `base_url` and `api_key` with one request and describes what the
/// key can read.
pub fn test_connection(settings: &Settings) -> Result<String> {
    let client = Client::new(settings);
    let checks = checks::fetch(&client)?;
    let (kind, readable) = match key_access(settings, &checks) {
        KeyAccess::ReadWrite => ("read-write", "checks, pings, flips and integrations"),
        KeyAccess::ReadOnly => ("read-only", "checks and flips"),
        KeyAccess::Unknown => (
            "read-write or read-only (an empty project does not show which)",
            "checks and flips, and with a read-write key also pings and integrations",
        ),
    };
    Ok(format!(
        "connected to {} with a {kind} API key; the project has {} checks\nstreams it can read: {readable}\n",
        settings.base_url,
        checks.len()
    ))
}

struct Sync<'a, W: Write> {
    settings: &'a Settings,
    selection: &'a Selection,
    client: &'a Client,
    writer: &'a mut Writer<W>,
    state: State,
    /// Whether `state` changed since the last STATE message.
    state_changed: bool,
    /// The table version of full-table streams, for ACTIVATE_VERSION.
    version: i64,
    /// When the sync started; flips bookmarks never pass it.
    started_at: DateTime<Utc>,
    /// Checks in a row whose requests failed as a server that is down fails.
    consecutive_failures: usize,
    /// Checks in a row that returned 404 as deleted checks do.
    consecutive_deleted: usize,
    /// Records written per stream.
    counts: BTreeMap<&'static str, u64>,
    /// Pings and flips requests not made because they had nothing new.
    skipped_requests: usize,
    /// Requests that failed after their retries, described for the summary.
    failures: Vec<String>,
}

/// Access level of the API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyAccess {
    ReadWrite,
    ReadOnly,
    /// A legacy key with an empty project: nothing showed the key type yet.
    Unknown,
}

impl<W: Write> Sync<'_, W> {
    fn run(&mut self) -> Result<()> {
        let started = Instant::now();
        if self.selection.is_empty() {
            log::warn!("the catalog selects no stream, so nothing is synced");
            return self.write_state();
        }
        if let Some(stream) = self.selection.get("checks") {
            log::info!("stream {}: started (full table)", stream.spec.name);
        }
        let fetched = checks::fetch(self.client)?;
        let checks_extracted = Utc::now();
        self.drop_deleted_checks(&fetched);
        let mut access = key_access(self.settings, &fetched);

        if let Some(stream) = self.selection.get("checks") {
            self.full_table(stream, &fetched, checks_extracted)?;
        }
        if let Some(stream) = self.selection.get("integrations") {
            access = self.sync_integrations(stream, access)?;
        }
        if access == KeyAccess::ReadOnly {
            self.warn_read_only();
        }
        let streams = PerCheck {
            pings: self
                .selection
                .get("pings")
                .filter(|_| access != KeyAccess::ReadOnly),
            bodies: self
                .selection
                .get("ping_bodies")
                .filter(|_| access != KeyAccess::ReadOnly),
            flips: self.selection.get("flips"),
        };
        let streams = self.check_bodies_follow_pings(streams);
        if streams.pings.is_some() || streams.flips.is_some() {
            self.sync_checks(&fetched, streams)?;
        }

        self.write_state()?;
        self.log_summary(started);
        self.summarize_failures()
    }

    /// Drops the bookmarks of checks missing from the checks list. An empty
    /// list keeps them: it is more often a misconfigured proxy or key than a
    /// project whose every check was deleted, and dropping them would make
    /// the next run a full sync.
    fn drop_deleted_checks(&mut self, fetched: &[Check]) {
        if fetched.is_empty() && !self.state.is_empty() {
            log::warn!("the checks list is empty, so the state's bookmarks are kept as they were");
            return;
        }
        let existing: HashSet<&str> = fetched
            .iter()
            .map(|check| check.unique_key.as_str())
            .collect();
        self.state_changed = self.state.retain_checks(&existing);
    }

    /// Fails the sync when requests failed, naming the first few.
    fn summarize_failures(&self) -> Result<()> {
        const SHOWN: usize = 5;
        let count = self.failures.len();
        if count == 0 {
            return Ok(());
        }
        let mut shown = self.failures[..count.min(SHOWN)].join("; ");
        if count > SHOWN {
            shown.push_str(&format!("; and {} more, logged above", count - SHOWN));
        }
        let requests = if count == 1 {
            "1 request"
        } else {
            &format!("{count} requests")
        };
        bail!(
            "{requests} failed after retries, so the checks involved kept their bookmarks: {shown}"
        )
    }

    /// Syncs integrations unless the key cannot read them, and returns what
    /// the response showed about the key.
    fn sync_integrations(
        &mut self,
        stream: &SelectedStream,
        access: KeyAccess,
    ) -> Result<KeyAccess> {
        if access == KeyAccess::ReadOnly {
            return Ok(access);
        }
        match integrations::fetch(self.client) {
            Ok(records) => {
                self.full_table(stream, &records, Utc::now())?;
                Ok(KeyAccess::ReadWrite)
            }
            // A key that read the checks list but gets 401 here is valid, so
            // it is read-only.
            Err(error) if access == KeyAccess::Unknown && error.status() == Some(401) => {
                Ok(KeyAccess::ReadOnly)
            }
            Err(error) => {
                log::error!("stream integrations: {error}");
                self.failures
                    .push(format!("integrations: {}", error.brief()));
                Ok(access)
            }
        }
    }

    /// Writes a full-table stream: SCHEMA, every record, and with
    /// `activate_version` an ACTIVATE_VERSION after the last record, so that
    /// targets drop rows the API no longer returns.
    fn full_table<T: Serialize>(
        &mut self,
        stream: &SelectedStream,
        records: &[T],
        extracted: DateTime<Utc>,
    ) -> Result<()> {
        let started = Instant::now();
        if stream.spec.name != "checks" {
            log::info!("stream {}: started (full table)", stream.spec.name);
        }
        self.write_schema(stream)?;
        let version = self.settings.activate_version.then_some(self.version);
        self.write_records(stream, records, extracted, version)?;
        if let Some(version) = version {
            self.writer
                .activate_version(stream.spec.name, version)
                .context("cannot write to stdout")?;
        }
        self.log_stream_end(stream.spec.name, started);
        Ok(())
    }

    fn write_schema(&mut self, stream: &SelectedStream) -> Result<()> {
        let spec = stream.spec;
        let bookmarks: Vec<&str> = spec.replication_key.into_iter().collect();
        self.writer
            .schema(spec.name, &stream.schema, spec.key_properties, &bookmarks)
            .context("cannot write to stdout")
    }

    fn write_records<T: Serialize>(
        &mut self,
        stream: &SelectedStream,
        records: &[T],
        extracted: DateTime<Utc>,
        version: Option<i64>,
    ) -> Result<()> {
        let extracted = format_time(extracted);
        let name = stream.spec.name;
        for record in records {
            // Serializing the struct directly saves building a map per record,
            // which matters at a million pings.
            let written = if stream.drops_fields() {
                self.writer
                    .record(name, &stream.project(record)?, &extracted, version)
            } else {
                self.writer.record(name, record, &extracted, version)
            };
            written.context("cannot write to stdout")?;
        }
        *self.counts.entry(stream.spec.name).or_default() += records.len() as u64;
        Ok(())
    }

    fn write_state(&mut self) -> Result<()> {
        self.writer
            .state(&self.state)
            .context("cannot write to stdout")?;
        self.state_changed = false;
        Ok(())
    }

    fn log_stream_end(&self, stream: &str, started: Instant) {
        let count = self.counts.get(stream).copied().unwrap_or(0);
        log::info!(
            "stream {stream}: {count} records in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let metric = json!({"type": "counter", "metric": "record_count", "value": count, "tags": {"stream": stream}});
        log::info!("METRIC: {metric}");
    }

    fn log_summary(&self, started: Instant) {
        let elapsed = started.elapsed().as_secs_f64();
        log::info!(
            "sync finished in {elapsed:.1} s; {} pings and flips requests skipped as having nothing new",
            self.skipped_requests
        );
        let metric =
            json!({"type": "timer", "metric": "sync_duration", "value": elapsed, "tags": {}});
        log::info!("METRIC: {metric}");
    }

    fn warn_read_only(&self) {
        let skipped: Vec<&str> = streams::ALL
            .into_iter()
            .filter(|spec| spec.needs_read_write_key && self.selection.contains(spec.name))
            .map(|spec| spec.name)
            .collect();
        if skipped.is_empty() {
            return;
        }
        let (noun, verb) = if skipped.len() == 1 {
            ("stream", "was")
        } else {
            ("streams", "were")
        };
        log::warn!(
            "the API key is read-only, so {noun} {} {verb} skipped; set api_key to the \
             project's read-write key to sync them",
            join_names(&skipped)
        );
    }
}

/// Decides what the key may read from its prefix and the checks response.
///
/// A key with the current format's prefix shows its type. A legacy key is
/// read-only when the listed checks carry no UUID, and unknown with an empty
/// project. A read-write listing where some check lacks a UUID only loses
/// that check's pings.
fn key_access(settings: &Settings, checks: &[Check]) -> KeyAccess {
    let key = settings.api_key.expose();
    if settings.api_key.has_read_only_prefix() {
        KeyAccess::ReadOnly
    } else if key.starts_with("hcw_") {
        KeyAccess::ReadWrite
    } else if checks.is_empty() {
        KeyAccess::Unknown
    } else if checks.iter().all(|check| check.uuid.is_none()) {
        KeyAccess::ReadOnly
    } else {
        KeyAccess::ReadWrite
    }
}

/// Joins names as "a", "a and b" or "a, b and c".
fn join_names(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [single] => single.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Names a check in logs: its name and its key.
fn describe(check: &Check) -> String {
    format!(
        "{:?} ({})",
        check.name.as_deref().unwrap_or(""),
        check.unique_key
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_joined_as_prose() {
        assert_eq!(join_names(&["pings"]), "pings");
        assert_eq!(
            join_names(&["pings", "integrations"]),
            "pings and integrations"
        );
        assert_eq!(
            join_names(&["pings", "ping_bodies", "integrations"]),
            "pings, ping_bodies and integrations"
        );
    }
}
