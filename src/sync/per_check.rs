//! The per-check part of a sync: pings, ping bodies and flips.
//!
//! The main thread decides each check's requests from its bookmarks
//! ([`Plan`]), worker threads make them ([`fetch`]), and the main thread
//! writes the results in the order of the checks list, moves the bookmarks
//! and writes STATE. Repeated failures that point at a server that is
//! down, or at a proxy returning 404, stop the sync early.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use chrono::{DateTime, Utc};

use super::{Sync, describe};
use crate::catalog::SelectedStream;
use crate::client::{ApiError, Client};
use crate::pool::ordered_map;
use crate::state::{CheckSnapshot, FlipsBookmark};
use crate::streams::checks::Check;
use crate::streams::flips::{self, Flip};
use crate::streams::ping_bodies::{self, PingBody};
use crate::streams::pings::{self, NewPings, Ping};

/// Seconds between progress lines during the per-check requests.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(30);

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
pub(super) struct PerCheck<'a> {
    pub(super) pings: Option<&'a SelectedStream>,
    /// Only with `pings`, whose new records it follows.
    pub(super) bodies: Option<&'a SelectedStream>,
    pub(super) flips: Option<&'a SelectedStream>,
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

impl Fetched {
    /// Returns whether requests were made for the check and every one failed
    /// with an error that a retry could fix, as when the server is down. A
    /// request that succeeded shows that the server is up.
    fn all_failed_retriably(&self) -> bool {
        let pings = self.pings.as_ref().map(|(result, _)| result.as_ref().err());
        let flips = self.flips.as_ref().map(|(result, _)| result.as_ref().err());
        let made: Vec<Option<&ApiError>> = [pings, flips].into_iter().flatten().collect();
        !made.is_empty()
            && made
                .iter()
                .all(|error| error.is_some_and(ApiError::is_retriable))
    }
}

/// The result of one request, or its error, and the time it completed.
type Response<T> = (Result<T, ApiError>, DateTime<Utc>);

impl<W: Write> Sync<'_, W> {
    /// Drops `ping_bodies` when `pings` is not synced, since bodies are read
    /// only for the pings a run writes.
    pub(super) fn check_bodies_follow_pings<'s>(&self, mut streams: PerCheck<'s>) -> PerCheck<'s> {
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
    pub(super) fn sync_checks(&mut self, all: &[Check], streams: PerCheck<'_>) -> Result<()> {
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
        let server_down = fetched.all_failed_retriably();

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
        self.stop_if_server_is_down(server_down)
    }

    /// Stops the sync when several checks in a row return 404 for both their
    /// records and themselves: one check deleted during a sync is normal,
    /// but a run of them is more likely a proxy or path prefix returning 404.
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

    /// Stops the sync when every request of the last few checks failed with
    /// errors that a down or unreachable server produces, rather than
    /// spending the retries of every remaining check. `failed` is true when
    /// the check just applied was such a check. The STATE written so far
    /// remains valid.
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
/// requesting the check itself: a proxy or a wrong path prefix can return
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

#[cfg(test)]
mod tests {
    use super::*;

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
