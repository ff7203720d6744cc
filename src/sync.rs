//! A sync: which requests run, in what order, and when STATE is written.
//!
//! The checks list comes first, since `pings` and `flips` are read per check
//! and the list shows the key type (read-only keys get no check UUIDs).
//! Then come the integrations, and then each check's pings and flips, oldest
//! first, followed by a STATE that covers that check, so a run killed
//! half-way resumes from the last finished check. A final STATE ends every
//! sync, also one that found nothing.
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

use std::collections::HashSet;
use std::io::Write;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::catalog::{SelectedStream, Selection};
use crate::client::{ApiError, Client};
use crate::config::Settings;
use crate::singer::Writer;
use crate::state::{CheckSnapshot, FlipsBookmark, State};
use crate::streams::checks::{self, Check};
use crate::streams::{self, flips, integrations, pings};

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
        written_state: state.clone(),
        state,
        skipped_requests: 0,
        failures: Vec::new(),
    };
    sync.run()
}

struct Sync<'a, W: Write> {
    settings: &'a Settings,
    selection: &'a Selection,
    client: &'a Client,
    writer: &'a mut Writer<W>,
    state: State,
    /// The state of the last STATE message, or the input state.
    written_state: State,
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
        let fetched = checks::fetch(self.client)?;
        let checks_extracted = Utc::now();
        let existing: HashSet<&str> = fetched
            .iter()
            .map(|check| check.unique_key.as_str())
            .collect();
        self.state.retain_checks(&existing);
        let mut access = key_access(self.settings, &fetched);

        if let Some(stream) = self.selection.get("checks") {
            self.emit_all(stream, &fetched, checks_extracted)?;
        }
        if let Some(stream) = self.selection.get("integrations") {
            access = self.sync_integrations(stream, access)?;
        }
        if access == KeyAccess::ReadOnly {
            self.warn_read_only();
        }

        let pings = self
            .selection
            .get("pings")
            .filter(|_| access != KeyAccess::ReadOnly);
        let flips = self.selection.get("flips");
        for stream in pings.iter().chain(flips.iter()) {
            self.write_schema(stream)?;
        }
        if pings.is_some() || flips.is_some() {
            for check in &fetched {
                self.sync_check(check, pings, flips)?;
            }
        }

        self.write_state()?;
        log::info!(
            "sync finished in {:.1} s; {} pings and flips requests skipped as having nothing new",
            started.elapsed().as_secs_f64(),
            self.skipped_requests
        );
        if !self.failures.is_empty() {
            anyhow::bail!(
                "{} requests failed, so the checks involved kept their bookmarks: {}",
                self.failures.len(),
                self.failures.join("; ")
            );
        }
        Ok(())
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
                let extracted = Utc::now();
                self.emit_all(stream, &records, extracted)?;
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

    /// Writes one check's new pings and flips, then a STATE covering them
    /// if a bookmark moved. A failed request is recorded and the sync goes
    /// on with the next check; only a failed write to stdout is returned.
    fn sync_check(
        &mut self,
        check: &Check,
        pings: Option<&SelectedStream>,
        flips: Option<&SelectedStream>,
    ) -> Result<()> {
        let mut exists = true;
        if let (Some(stream), Some(uuid)) = (pings, check.uuid.as_deref()) {
            exists = self.sync_pings(stream, check, uuid)?;
        }
        if let (Some(stream), true) = (flips, exists) {
            self.sync_flips(stream, check)?;
        }
        if self.state != self.written_state {
            self.write_state()?;
        }
        Ok(())
    }

    /// Writes a check's new pings and moves its bookmark; returns false
    /// when the check turned out to be deleted.
    fn sync_pings(&mut self, stream: &SelectedStream, check: &Check, uuid: &str) -> Result<bool> {
        let bookmark = self.state.pings(&check.unique_key);
        if pings::nothing_new(check, bookmark) {
            self.skipped_requests += 1;
            return Ok(true);
        }
        let listed = match pings::fetch(self.client, check, uuid) {
            Ok(listed) => listed,
            Err(error) => return Ok(self.request_failed("pings", check, error)),
        };
        let extracted = Utc::now();
        let new = pings::select_new(listed, bookmark, self.settings.start_date);
        if new.lost > 0 {
            log::warn!(
                "check {}: {} pings after #{} were pruned by the server before this \
                 sync could read them; sync more often, or raise the project's ping log limit",
                describe(check),
                new.lost,
                bookmark.unwrap_or(0)
            );
        }
        self.write_records(stream, &new.records, extracted)?;
        if let Some(n) = new.bookmark {
            self.state.set_pings(&check.unique_key, n);
        }
        Ok(true)
    }

    /// Writes a check's flips since its bookmark and moves the bookmark.
    fn sync_flips(&mut self, stream: &SelectedStream, check: &Check) -> Result<()> {
        let previous = self
            .state
            .flips(&check.unique_key)
            .cloned()
            .unwrap_or_default();
        let snapshot = CheckSnapshot::of(check);
        let unchanged = previous.snapshot.as_ref() == Some(&snapshot) && check.last_ping.is_some();
        if self.settings.flips_skip_unchanged && unchanged {
            self.skipped_requests += 1;
            return Ok(());
        }
        let since = flips::since(
            previous.timestamp,
            self.settings.flips_lookback,
            self.settings.start_date,
        );
        let records = match flips::fetch(self.client, check, since) {
            Ok(records) => records,
            Err(error) => {
                self.request_failed("flips", check, error);
                return Ok(());
            }
        };
        let extracted = Utc::now();
        self.write_records(stream, &records, extracted)?;
        let newest = records.last().map(|flip| flip.timestamp);
        let bookmark = FlipsBookmark {
            timestamp: previous.timestamp.max(newest),
            snapshot: Some(snapshot),
        };
        self.state.set_flips(&check.unique_key, bookmark);
        Ok(())
    }

    /// Handles a failed per-check request: a 404 means the check was deleted
    /// after the checks list was read, and is skipped; any other error is
    /// logged and counted, and the check keeps its bookmark. Returns whether
    /// the check still exists.
    fn request_failed(&mut self, stream: &str, check: &Check, error: ApiError) -> bool {
        if error.status() == Some(404) {
            log::warn!(
                "check {} was deleted during the sync; skipping it",
                describe(check)
            );
            return false;
        }
        log::error!(
            "{stream} of check {}: {error}; keeping its bookmark",
            describe(check)
        );
        self.failures.push(format!(
            "{stream} of check {}: {}",
            describe(check),
            error.brief()
        ));
        true
    }

    /// Writes the SCHEMA and all records of a full-table stream.
    fn emit_all<T: Serialize>(
        &mut self,
        stream: &SelectedStream,
        records: &[T],
        extracted: DateTime<Utc>,
    ) -> Result<()> {
        self.write_schema(stream)?;
        self.write_records(stream, records, extracted)?;
        log::info!("stream {}: {} records", stream.spec.name, records.len());
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
    ) -> Result<()> {
        for record in records {
            let record = stream.project(record)?;
            self.writer
                .record(stream.spec.name, &record, extracted)
                .context("cannot write to stdout")?;
        }
        Ok(())
    }

    fn write_state(&mut self) -> Result<()> {
        self.writer
            .state(&self.state.to_value())
            .context("cannot write to stdout")?;
        self.written_state = self.state.clone();
        Ok(())
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
        log::warn!(
            "the API key is read-only, so streams {} were skipped; set api_key to the \
             project's read-write key to sync them",
            skipped.join(" and ")
        );
    }
}

/// Decides what the key may read from its prefix and the checks response.
fn key_access(settings: &Settings, checks: &[Check]) -> KeyAccess {
    if settings.api_key.has_read_only_prefix() || checks.iter().any(|check| check.uuid.is_none()) {
        KeyAccess::ReadOnly
    } else if checks.is_empty() && !settings.api_key.expose().starts_with("hcw_") {
        KeyAccess::Unknown
    } else {
        KeyAccess::ReadWrite
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
