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
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::catalog::{SelectedStream, Selection};
use crate::client::{ApiError, Client};
use crate::config::Settings;
use crate::pool::ordered_map;
use crate::singer::{Writer, format_time};
use crate::state::{CheckSnapshot, FlipsBookmark, State};
use crate::streams::checks::{self, Check};
use crate::streams::flips::{self, Flip};
use crate::streams::ping_bodies::{self, PingBody};
use crate::streams::pings::{self, NewPings, Ping};
use crate::streams::{self, integrations};

/// Seconds between progress lines during the per-check requests.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(30);

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
        last_failure_retriable: false,
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
    /// Whether the latest failed request could have succeeded on a retry.
    last_failure_retriable: bool,
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

/// The requests one check needs, decided from its bookmarks.
struct Plan {
    /// The check's UUID and pings bookmark, when pings are read.
    pings: Option<(String, Option<i64>)>,
    /// The check's flips bookmark and the request's lower bound, when
    /// flips are read.
    flips: Option<(FlipsBookmark, Option<DateTime<Utc>>)>,
}

/// The selected streams that are read per check.
#[derive(Clone, Copy)]
struct PerCheck<'a> {
    pings: Option<&'a SelectedStream>,
    /// Only with `pings`, whose new records it follows.
    bodies: Option<&'a SelectedStream>,
    flips: Option<&'a SelectedStream>,
}

/// The responses for one check.
#[derive(Default)]
struct Fetched {
    /// Whether a 404 showed that the check was deleted after the checks
    /// list was read.
    deleted: bool,
    pings: Option<Response<NewPings>>,
    bodies: Option<Response<Vec<PingBody>>>,
    flips: Option<Response<Vec<Flip>>>,
}

/// The result of one request, or its error, and the time it completed.
type Response<T> = (Result<T, ApiError>, DateTime<Utc>);

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

    /// Drops `ping_bodies` when `pings` is not synced, since bodies are read
    /// only for the pings a run writes.
    fn check_bodies_follow_pings<'s>(&self, mut streams: PerCheck<'s>) -> PerCheck<'s> {
        // With a read-only key both are already dropped, and the read-only
        // warning names them.
        if streams.bodies.is_some() && streams.pings.is_none() {
            log::warn!(
                "stream ping_bodies is skipped because stream pings is not selected; \
                 bodies are read only for the pings a sync writes, so select both"
            );
            streams.bodies = None;
        }
        streams
    }

    /// Reads and writes the pings, ping bodies and flips of every check.
    fn sync_checks(&mut self, all: &[Check], streams: PerCheck<'_>) -> Result<()> {
        let started = Instant::now();
        let selected = [streams.pings, streams.bodies, streams.flips];
        for stream in selected.iter().flatten() {
            log::info!(
                "stream {}: started (incremental, per check)",
                stream.spec.name
            );
            self.write_schema(stream)?;
        }
        let plans: Vec<(&Check, Plan)> = all
            .iter()
            .map(|check| (check, self.plan(check, streams)))
            .collect();
        let (client, start_date, bodies) = (
            self.client,
            self.settings.start_date,
            streams.bodies.is_some(),
        );
        let fetch = |(check, plan): &(&Check, Plan)| fetch(client, check, plan, start_date, bodies);
        let mut progress = Progress::new(all.len());
        ordered_map(
            &plans,
            self.settings.max_concurrency,
            fetch,
            |(check, plan), fetched| {
                self.apply(check, plan, fetched, streams)?;
                if let Some(line) = progress.check_done(self.counts.values().sum()) {
                    log::info!("{line}");
                }
                Ok::<(), anyhow::Error>(())
            },
        )?;
        for stream in selected.iter().flatten() {
            self.log_stream_end(stream.spec.name, started);
        }
        Ok(())
    }

    /// Decides which requests a check needs.
    fn plan(&mut self, check: &Check, streams: PerCheck<'_>) -> Plan {
        let mut plan = Plan {
            pings: None,
            flips: None,
        };
        if let (Some(_), Some(uuid)) = (streams.pings, &check.uuid) {
            let bookmark = self.state.pings(&check.unique_key);
            if pings::nothing_new(check, bookmark) {
                self.skipped_requests += 1;
            } else {
                plan.pings = Some((uuid.clone(), bookmark));
            }
        }
        if streams.flips.is_some() {
            let mut previous = self
                .state
                .flips(&check.unique_key)
                .cloned()
                .unwrap_or_default();
            let unchanged = previous.snapshot.as_ref() == Some(&CheckSnapshot::of(check))
                && check.last_ping.is_some();
            if self.settings.flips_skip_unchanged && unchanged {
                self.skipped_requests += 1;
            } else {
                // A bookmark in the future (a bad server clock or a bad
                // state file) would hide every later flip, so it is dropped.
                if previous
                    .timestamp
                    .is_some_and(|time| time > self.started_at)
                {
                    log::warn!(
                        "check {}: the flips bookmark is in the future; reading its flips again",
                        describe(check)
                    );
                    previous.timestamp = None;
                }
                let since = flips::since(
                    previous.timestamp,
                    self.settings.flips_lookback,
                    self.settings.start_date,
                );
                plan.flips = Some((previous, since));
            }
        }
        plan
    }

    /// Writes one check's fetched records, moves its bookmarks, and writes
    /// a STATE if they moved. Failed requests are recorded and leave their
    /// bookmark alone; only a failed write to stdout is returned.
    fn apply(
        &mut self,
        check: &Check,
        plan: &Plan,
        fetched: Fetched,
        streams: PerCheck<'_>,
    ) -> Result<()> {
        if fetched.deleted {
            log::warn!(
                "check {} was deleted during the sync; skipping it",
                describe(check)
            );
            return self.stop_if_checks_keep_vanishing();
        }
        self.consecutive_deleted = 0;

        let failures_before = self.failures.len();
        // Whether any request of this check succeeded, which shows the
        // server is up even if another request failed.
        let answered = matches!(&fetched.pings, Some((Ok(_), _)))
            || matches!(&fetched.flips, Some((Ok(_), _)));
        if let (Some(stream), Some((_, bookmark)), Some((result, extracted))) =
            (streams.pings, &plan.pings, fetched.pings)
        {
            match (result, fetched.bodies) {
                (Err(error), _) => self.request_failed("pings", check, error),
                // Without its bodies, a check's new pings wait for the next
                // run, so that no body is skipped.
                (Ok(_), Some((Err(error), _))) => self.request_failed("ping bodies", check, error),
                (Ok(new), bodies) => {
                    self.write_pings(stream, check, *bookmark, &new, extracted)?;
                    if let (Some(stream), Some((Ok(bodies), extracted))) = (streams.bodies, bodies)
                    {
                        self.write_records(stream, &bodies, extracted, None)?;
                    }
                    if let Some(n) = new.bookmark {
                        self.state_changed |= self.state.set_pings(&check.unique_key, n);
                    }
                }
            }
        }

        if let (Some(stream), Some((previous, _)), Some((result, extracted))) =
            (streams.flips, &plan.flips, fetched.flips)
        {
            match result {
                Ok(records) => {
                    self.write_records(stream, &records, extracted, None)?;
                    let newest = records
                        .last()
                        .map(|flip| flip.timestamp.min(self.started_at));
                    let snapshot = Some(CheckSnapshot::of(check));
                    let bookmark = FlipsBookmark {
                        timestamp: previous.timestamp.max(newest),
                        snapshot,
                    };
                    self.state_changed |= self.state.set_flips(&check.unique_key, bookmark);
                }
                Err(error) => self.request_failed("flips", check, error),
            }
        }

        if self.state_changed {
            self.write_state()?;
        }
        let failed =
            self.failures.len() > failures_before && self.last_failure_retriable && !answered;
        self.stop_if_server_is_down(failed)
    }

    /// Stops the sync when several checks in a row return 404 for both their
    /// records and themselves: one check deleted during a sync is normal,
    /// but a run of them is more likely a proxy or path prefix answering 404.
    fn stop_if_checks_keep_vanishing(&mut self) -> Result<()> {
        const LIMIT: usize = 3;
        self.consecutive_deleted += 1;
        if self.consecutive_deleted < LIMIT {
            return Ok(());
        }
        bail!(
            "stopping the sync because {LIMIT} checks in a row answered 404 as if deleted; \
             check that base_url {} is the site root and that no proxy answers for it",
            self.settings.base_url
        )
    }

    /// Stops the sync when the last few checks failed, every request of
    /// each, with errors that a server that is down or unreachable produces,
    /// rather than spending the retries of every remaining check. `failed`
    /// tells whether the check just applied was such a check. The STATE
    /// written so far remains valid.
    fn stop_if_server_is_down(&mut self, failed: bool) -> Result<()> {
        const LIMIT: usize = 3;
        self.consecutive_failures = if failed {
            self.consecutive_failures + 1
        } else {
            0
        };
        if self.consecutive_failures < LIMIT {
            return Ok(());
        }
        bail!(
            "stopping the sync because {LIMIT} checks in a row failed after retries, the last with: \
             {}; check that the server at {} is up, then run again from the last STATE",
            self.failures.last().map_or("", String::as_str),
            self.settings.base_url
        )
    }

    fn write_pings(
        &mut self,
        stream: &SelectedStream,
        check: &Check,
        bookmark: Option<i64>,
        new: &NewPings,
        extracted: DateTime<Utc>,
    ) -> Result<()> {
        if new.bookmark_ahead {
            log::warn!(
                "check {}: the pings bookmark #{} is above every ping the server lists, as \
                 after a database restore; writing its listed pings again",
                describe(check),
                bookmark.unwrap_or(0)
            );
        }
        if new.lost > 0 {
            log::warn!(
                "check {}: {} pings after #{} were pruned by the server before this \
                 sync could read them; sync more often, or raise the project's ping log limit",
                describe(check),
                new.lost,
                bookmark.unwrap_or(0)
            );
        }
        self.write_records(stream, &new.records, extracted, None)
    }

    /// Records a failed per-check request: it is logged and counted, and
    /// the check keeps its bookmark.
    fn request_failed(&mut self, stream: &str, check: &Check, error: ApiError) {
        self.last_failure_retriable = error.is_retriable();
        log::error!(
            "{stream} of check {}: {error}; keeping its bookmark",
            describe(check)
        );
        self.failures.push(format!(
            "{stream} of check {}: {}",
            describe(check),
            error.brief()
        ));
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

/// Makes a check's planned requests; runs on a worker thread. A 404 on the
/// pings means the check is gone, so its flips are not requested. With
/// `bodies`, the body of each new ping that has one is requested too.
fn fetch(
    client: &Client,
    check: &Check,
    plan: &Plan,
    start_date: Option<DateTime<Utc>>,
    bodies: bool,
) -> Fetched {
    let mut fetched = Fetched::default();
    if let Some((uuid, bookmark)) = &plan.pings {
        let result = pings::fetch(client, check, uuid)
            .map(|listed| pings::select_new(listed, *bookmark, start_date));
        let extracted = Utc::now();
        if let (true, Ok(new)) = (bodies, &result) {
            let with_body: Vec<&Ping> = new
                .records
                .iter()
                .filter(|ping| ping.body_url.is_some())
                .collect();
            fetched.bodies = Some((ping_bodies::fetch(client, uuid, &with_body), Utc::now()));
        }
        fetched.deleted = matches!(&result, Err(error) if error.status() == Some(404))
            && is_deleted(client, check);
        fetched.pings = Some((result, extracted));
        if fetched.deleted {
            return fetched;
        }
    }
    if let Some((_, since)) = &plan.flips {
        let result = flips::fetch(client, check, *since);
        fetched.deleted = matches!(&result, Err(error) if error.status() == Some(404))
            && is_deleted(client, check);
        fetched.flips = Some((result, Utc::now()));
    }
    fetched
}

/// Confirms that a check whose pings or flips returned 404 was deleted, by
/// requesting the check itself: a proxy or a wrong path prefix can answer
/// 404 too, and must not pass for a deletion.
fn is_deleted(client: &Client, check: &Check) -> bool {
    let path = format!("checks/{}", check.flips_id());
    matches!(client.get_json::<serde_json::Value>(&path, &[]), Err(error) if error.status() == Some(404))
}

/// Logs a progress line at most every [`PROGRESS_INTERVAL`].
struct Progress {
    total: usize,
    done: usize,
    interval: Duration,
    started: Instant,
    last_line: Instant,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress::with_interval(total, PROGRESS_INTERVAL)
    }

    fn with_interval(total: usize, interval: Duration) -> Progress {
        let now = Instant::now();
        Progress {
            total,
            done: 0,
            interval,
            started: now,
            last_line: now,
        }
    }

    /// Counts a finished check and returns a progress line when one is due.
    fn check_done(&mut self, records: u64) -> Option<String> {
        self.done += 1;
        if self.last_line.elapsed() < self.interval {
            return None;
        }
        self.last_line = Instant::now();
        let rate = records as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        Some(format!(
            "progress: {} of {} checks done, {records} records so far, {rate:.0} records/s",
            self.done, self.total
        ))
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

    #[test]
    fn progress_line_is_rate_limited() {
        let mut progress = Progress::new(10);
        assert_eq!(
            progress.check_done(100),
            None,
            "no line before the interval passed"
        );
        let mut every_time = Progress::with_interval(10, Duration::ZERO);
        let line = every_time.check_done(100).expect("a line");
        assert!(
            line.starts_with("progress: 1 of 10 checks done, 100 records so far, "),
            "{line}"
        );
        assert!(line.ends_with(" records/s"), "{line}");
    }
}
