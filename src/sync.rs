//! A sync: which requests run, in what order, and when STATE is written.
//!
//! The checks list comes first, since `pings` and `flips` are read per check
//! and the list tells the key type (read-only keys get no check UUIDs).
//! Then come the integrations, and then each check's pings and flips, oldest
//! first, followed by a STATE that covers that check. A final STATE ends
//! every sync, also one that found nothing.

use std::io::Write;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::catalog::{SelectedStream, Selection};
use crate::client::{ApiError, Client};
use crate::config::Settings;
use crate::singer::Writer;
use crate::state::{Bookmark, State};
use crate::streams::checks::{self, Check};
use crate::streams::{self, flips, integrations, pings};

/// Runs a sync of the selected streams, writing Singer messages to `writer`.
pub fn run<W: Write>(
    settings: &Settings,
    selection: &Selection,
    writer: &mut Writer<W>,
) -> Result<()> {
    let client = Client::new(settings);
    let mut sync = Sync {
        settings,
        selection,
        client: &client,
        writer,
        state: State::default(),
    };
    sync.run()
}

struct Sync<'a, W: Write> {
    settings: &'a Settings,
    selection: &'a Selection,
    client: &'a Client,
    writer: &'a mut Writer<W>,
    state: State,
}

/// What the API key may read.
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
        self.writer
            .state(&self.state.to_value())
            .context("cannot write to stdout")?;
        log::info!("sync finished in {:.1} s", started.elapsed().as_secs_f64());
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
            Err(error) => Err(error.into()),
        }
    }

    /// Writes one check's pings and flips, then a STATE covering them.
    fn sync_check(
        &mut self,
        check: &Check,
        pings: Option<&SelectedStream>,
        flips: Option<&SelectedStream>,
    ) -> Result<()> {
        let since = self.settings.start_date;
        if let (Some(stream), Some(uuid)) = (pings, check.uuid.as_deref()) {
            let records = pings::fetch(self.client, check, uuid, since)
                .map_err(|error| per_check(error, check))?;
            self.write_records(stream, &records, Utc::now())?;
            if let Some(last) = records.last() {
                self.state.set(
                    stream.spec.name,
                    &check.unique_key,
                    Bookmark {
                        replication_key: "n",
                        value: json!(last.n),
                    },
                );
            }
        }
        if let Some(stream) = flips {
            let records =
                flips::fetch(self.client, check, since).map_err(|error| per_check(error, check))?;
            self.write_records(stream, &records, Utc::now())?;
            if let Some(last) = records.last() {
                let value = json!(last.timestamp);
                self.state.set(
                    stream.spec.name,
                    &check.unique_key,
                    Bookmark {
                        replication_key: "timestamp",
                        value,
                    },
                );
            }
        }
        self.writer
            .state(&self.state.to_value())
            .context("cannot write to stdout")
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

/// Adds the check's name to an error from one of its requests.
fn per_check(error: ApiError, check: &Check) -> anyhow::Error {
    let name = check.name.as_deref().unwrap_or("");
    anyhow::Error::new(error).context(format!("check {name:?} ({})", check.unique_key))
}
