//! `pings`: the ping log of each check, from `GET /api/v3/checks/{uuid}/pings/`.
//!
//! The endpoint has no filters and no paging: it returns the newest pings up
//! to the project's ping log limit (100 by default, at most 1,000), newest
//! first. So the bookmark (the highest `n` written) and `start_date` are
//! applied here, and the records are sorted to be emitted oldest first. The
//! server prunes old pings, so a gap between the bookmark and the oldest
//! listed ping means pings were lost before a sync could read them. The
//! endpoint needs the read-write key, since only that key receives the
//! check UUIDs it is routed by.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::checks::Check;
use super::{ReplicationMethod, StreamSpec};
use crate::client::{ApiError, Client};
use crate::schema::schema_for;

pub const STREAM: StreamSpec = StreamSpec {
    name: "pings",
    key_properties: &["check_unique_key", "n"],
    replication_method: ReplicationMethod::Incremental,
    replication_key: Some("n"),
    selected_by_default: true,
    needs_read_write_key: true,
    schema: schema_for::<Ping>,
};

/// One ping received by a check.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct Ping {
    /// `unique_key` of the check that received the ping.
    #[serde(skip_deserializing)]
    pub check_unique_key: String,
    /// UUID of the check that received the ping.
    #[serde(skip_deserializing)]
    pub check_uuid: Option<String>,
    /// Sequence number within the check, starting at 1 and counting pings
    /// of every type.
    pub n: i64,
    /// `success`, `start`, `fail`, `log` or `ign`.
    #[serde(rename = "type")]
    pub ping_type: Option<String>,
    /// Time the ping arrived (UTC).
    pub date: DateTime<Utc>,
    /// `http`, `https` or `email`.
    pub scheme: Option<String>,
    pub remote_addr: Option<String>,
    /// HTTP method; empty for email pings.
    pub method: Option<String>,
    /// User-Agent header, cut to 200 characters by the server.
    pub ua: Option<String>,
    /// Run id given with `?rid=`, pairing a start with its finish.
    pub rid: Option<String>,
    /// URL of the stored request body; null for a ping without a body.
    pub body_url: Option<String>,
    /// Seconds since the matching start ping, for success and fail pings;
    /// the server drops it when pairing would need too many look-ups.
    pub duration: Option<f64>,
}

#[derive(Deserialize)]
struct PingsPage {
    pings: Vec<Ping>,
}

/// Largest ping number accepted, from the API or a state file: ping numbers
/// count requests, so a larger one is corrupt, and the bound keeps
/// arithmetic on bookmarks far from overflow.
pub const MAX_PING_NUMBER: i64 = 1 << 53;

/// Fetches every listed ping of a check, oldest first.
pub fn fetch(client: &Client, check: &Check, uuid: &str) -> Result<Vec<Ping>, ApiError> {
    let path = format!("checks/{uuid}/pings/");
    let page: PingsPage = client.get_json(&path, &[])?;
    let mut pings = page.pings;
    let implausible = |ping: &Ping| {
        !(0..=MAX_PING_NUMBER).contains(&ping.n) || !super::is_plausible_time(ping.date)
    };
    if let Some(ping) = pings.iter().find(|ping| implausible(ping)) {
        let detail = format!(
            "ping #{} has a number outside 0 to {MAX_PING_NUMBER} or a date outside the years 1 to 9999",
            ping.n
        );
        return Err(ApiError::Malformed {
            path: format!("/api/v3/{path}"),
            detail,
        });
    }
    pings.sort_by_key(|ping| ping.n);
    for ping in &mut pings {
        ping.check_unique_key.clone_from(&check.unique_key);
        ping.check_uuid = Some(uuid.to_string());
    }
    Ok(pings)
}

/// Whether the pings request of a check can return nothing new: `n_pings`,
/// the number of the check's latest ping, equals the bookmark (0 when the
/// check has none).
pub fn nothing_new(check: &Check, bookmark: Option<i64>) -> bool {
    check.n_pings.is_some() && check.n_pings == Some(bookmark.unwrap_or(0))
}

/// The pings of one listing that a sync writes.
#[derive(Debug)]
pub struct NewPings {
    pub records: Vec<Ping>,
    /// The bookmark after writing `records`.
    pub bookmark: Option<i64>,
    /// Pings after the old bookmark that the server pruned before this read.
    pub lost: i64,
    /// The bookmark was above every listed ping, as after a database
    /// restore, so it was ignored and the listed pings were read again.
    pub bookmark_ahead: bool,
}

/// Picks the pings above `bookmark` from a listing sorted oldest first.
/// Without a bookmark, pings received before `start_date` are passed over.
/// The new bookmark covers only the pings picked, so that removing
/// `start_date` later still brings them in.
pub fn select_new(
    pings: Vec<Ping>,
    bookmark: Option<i64>,
    start_date: Option<DateTime<Utc>>,
) -> NewPings {
    // Ping numbers only grow and pruning removes the oldest, so a bookmark
    // above the newest listed ping means the server's counter went back.
    let bookmark_ahead =
        matches!((bookmark, pings.last()), (Some(saved), Some(newest)) if newest.n < saved);
    let bookmark = bookmark.filter(|_| !bookmark_ahead);
    let lost = match (bookmark, pings.first()) {
        (Some(bookmark), Some(oldest)) => {
            oldest.n.saturating_sub(bookmark.saturating_add(1)).max(0)
        }
        _ => 0,
    };
    let records: Vec<Ping> = pings
        .into_iter()
        .filter(|ping| match bookmark {
            Some(bookmark) => ping.n > bookmark,
            None => start_date.is_none_or(|start| ping.date >= start),
        })
        .collect();
    let newest = records.last().map(|ping| ping.n);
    NewPings {
        records,
        bookmark: bookmark.max(newest),
        lost,
        bookmark_ahead,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_with_and_without_fraction() {
        let json = r#"[
            {"type": "success", "date": "2026-12-04T06:10:41.601973+00:00", "n": 2, "duration": 635.82},
            {"type": "start", "date": "2026-12-04T10:23:49+00:00", "n": 1, "rid": null}
        ]"#;
        let pings: Vec<Ping> = serde_json::from_str(json).expect("parses");
        let first = serde_json::to_value(&pings[0]).expect("serializes");
        assert_eq!(first["date"], "2026-12-04T06:10:41.601973Z");
        assert_eq!(first["type"], "success");
        let second = serde_json::to_value(&pings[1]).expect("serializes");
        assert_eq!(second["date"], "2026-12-04T10:23:49Z");
        assert_eq!(second["duration"], serde_json::Value::Null);
    }

    fn listing(numbers: &[i64]) -> Vec<Ping> {
        numbers
            .iter()
            .map(|&n| {
                let date = format!("2026-12-0{n}T00:00:00Z");
                serde_json::from_value(serde_json::json!({"n": n, "date": date})).expect("ping")
            })
            .collect()
    }

    fn numbers(pings: &[Ping]) -> Vec<i64> {
        pings.iter().map(|ping| ping.n).collect()
    }

    #[test]
    fn select_new_above_bookmark() {
        let selected = select_new(listing(&[3, 4, 5, 6]), Some(4), None);
        assert_eq!(numbers(&selected.records), [5, 6]);
        assert_eq!(selected.bookmark, Some(6));
        assert_eq!(selected.lost, 0);
    }

    #[test]
    fn select_new_counts_pruned_pings() {
        let selected = select_new(listing(&[6, 7, 8]), Some(2), None);
        assert_eq!(numbers(&selected.records), [6, 7, 8]);
        assert_eq!(selected.lost, 3);
    }

    #[test]
    fn select_new_keeps_bookmark_when_nothing_is_listed() {
        let selected = select_new(Vec::new(), Some(9), None);
        assert!(selected.records.is_empty());
        assert_eq!(selected.bookmark, Some(9));
    }

    #[test]
    fn start_date_applies_only_without_bookmark() {
        let start = "2026-12-04T00:00:00Z".parse().ok();
        let first = select_new(listing(&[2, 3, 4, 5]), None, start);
        assert_eq!(numbers(&first.records), [4, 5]);
        assert_eq!(first.bookmark, Some(5));
        let newest_older = select_new(listing(&[4, 5, 1]), None, start);
        assert_eq!(numbers(&newest_older.records), [4, 5]);
        let all_older = select_new(listing(&[1, 2]), None, start);
        assert!(all_older.records.is_empty());
        assert_eq!(
            all_older.bookmark, None,
            "passed-over pings stay unbookmarked"
        );
        let later = select_new(listing(&[1, 2, 3]), Some(1), start);
        assert_eq!(numbers(&later.records), [2, 3]);
    }

    #[test]
    fn bookmark_above_every_listed_ping_is_ignored() {
        let selected = select_new(listing(&[1, 2, 3]), Some(50), None);
        assert!(selected.bookmark_ahead);
        assert_eq!(numbers(&selected.records), [1, 2, 3]);
        assert_eq!(selected.bookmark, Some(3));
    }

    #[test]
    fn extreme_bookmarks_do_not_overflow() {
        let selected = select_new(listing(&[3]), Some(i64::MAX), None);
        assert!(selected.bookmark_ahead);
        assert_eq!(selected.lost, 0);
        let selected = select_new(listing(&[3]), Some(i64::MIN), None);
        assert_eq!(selected.records.len(), 1);
    }

    #[test]
    fn nothing_new_compares_n_pings() {
        let mut check: Check = serde_json::from_str(r#"{"n_pings": 0}"#).expect("check");
        assert!(nothing_new(&check, None));
        check.n_pings = Some(5);
        assert!(nothing_new(&check, Some(5)));
        assert!(!nothing_new(&check, Some(4)));
        assert!(!nothing_new(&check, None));
        check.n_pings = None;
        assert!(!nothing_new(&check, Some(5)));
    }

    #[test]
    fn ping_without_n_is_an_error() {
        let json = r#"{"type": "success", "date": "2026-12-04T06:10:41+00:00", "n": null}"#;
        let message = serde_json::from_str::<Ping>(json)
            .expect_err("rejected")
            .to_string();
        assert!(
            message.starts_with("invalid type: null, expected i64"),
            "{message}"
        );
    }
}
