//! `flips`: status changes of each check, from
//! `GET /api/v3/checks/{uuid or unique_key}/flips/`.
//!
//! A flip has only a timestamp (whole seconds) and `up`, and several flips of
//! one check can share a second, such as a pause and a resume in quick
//! succession. So each flip gets a `sequence`, its position among the flips
//! of that check and second in the order the server stored them. The API
//! returns flips newest stored first, and the `start` filter selects whole
//! seconds, so the flips of one second are always read together and their
//! sequence numbers stay the same from one sync to the next.
//!
//! Syncs are incremental on `timestamp` through the `start` filter, reading
//! again a look-back window before the bookmark: the server writes the flip
//! for a missed deadline a little later, with the earlier time at which the
//! check went down. Flips read again carry the same keys, so targets upsert
//! them.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::checks::Check;
use super::{ReplicationMethod, StreamSpec};
use crate::client::{ApiError, Client};
use crate::schema::schema_for;

pub const STREAM: StreamSpec = StreamSpec {
    name: "flips",
    key_properties: &["check_unique_key", "timestamp", "sequence"],
    replication_method: ReplicationMethod::Incremental,
    replication_key: Some("timestamp"),
    selected_by_default: true,
    needs_read_write_key: false,
    schema: schema_for::<Flip>,
};

/// The largest `start` value the API accepts, in Unix seconds.
const MAX_START: i64 = 10_000_000_000;

/// One change of a check's status.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct Flip {
    /// `unique_key` of the check whose status changed.
    #[serde(skip_deserializing)]
    pub check_unique_key: String,
    /// UUID of the check; null when read with a read-only key.
    #[serde(skip_deserializing)]
    pub check_uuid: Option<String>,
    /// Time of the change (UTC), in whole seconds.
    pub timestamp: DateTime<Utc>,
    /// Position among this check's flips with the same timestamp, from 0, in
    /// the order the server stored them.
    #[serde(skip_deserializing)]
    pub sequence: i64,
    /// 1 when the new status is `up`; 0 for `down`, `paused` and `new`.
    pub up: Option<i64>,
}

#[derive(Deserialize)]
struct FlipsPage {
    flips: Vec<Flip>,
}

/// Computes the lower bound of a flips request: the bookmark minus the look-back
/// window, or `start_date` for a check without a bookmark.
pub fn since(
    bookmark: Option<DateTime<Utc>>,
    lookback: chrono::Duration,
    start_date: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    match bookmark {
        Some(bookmark) => Some(bookmark - lookback),
        None => start_date,
    }
}

/// Fetches the flips of a check at or after `since`, oldest first.
pub fn fetch(
    client: &Client,
    check: &Check,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<Flip>, ApiError> {
    let query: Vec<(&str, String)> = since
        .map(|since| ("start", start_param(since)))
        .into_iter()
        .collect();
    let path = format!("checks/{}/flips/", check.flips_id());
    let page: FlipsPage = client.get_json(&path, &query)?;
    let mut flips = page.flips;
    if let Some(flip) = flips
        .iter()
        .find(|flip| !super::is_plausible_time(flip.timestamp))
    {
        let detail = format!(
            "a flip's timestamp {} is outside the years 1 to 9999",
            flip.timestamp
        );
        return Err(ApiError::Malformed {
            path: format!("/api/v3/{path}"),
            detail,
        });
    }
    for flip in &mut flips {
        flip.check_unique_key.clone_from(&check.unique_key);
        flip.check_uuid.clone_from(&check.uuid);
    }
    Ok(order_oldest_first(flips))
}

/// Turns the API's newest-stored-first list into timestamp order and numbers
/// the flips that share a second.
fn order_oldest_first(mut flips: Vec<Flip>) -> Vec<Flip> {
    // Reversed, the list is in storage order; the sort is stable, so flips of
    // one second keep that order.
    flips.reverse();
    flips.sort_by_key(|flip| flip.timestamp.timestamp());
    let mut previous_second = None;
    let mut sequence = 0;
    for flip in &mut flips {
        let second = flip.timestamp.timestamp();
        sequence = if previous_second == Some(second) {
            sequence + 1
        } else {
            0
        };
        previous_second = Some(second);
        flip.sequence = sequence;
    }
    flips
}

/// Formats the `start` query value for a lower bound: Unix seconds, rounded down and
/// clamped to the range the API accepts.
fn start_param(since: DateTime<Utc>) -> String {
    since.timestamp().clamp(0, MAX_START).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flip(timestamp: &str, up: i64) -> Flip {
        Flip {
            check_unique_key: String::new(),
            check_uuid: None,
            timestamp: timestamp.parse().expect("timestamp"),
            sequence: -1,
            up: Some(up),
        }
    }

    #[test]
    fn same_second_flips_are_numbered_in_storage_order() {
        // Newest stored first, as the API returns them: a pause (0) stored
        // before a resume (0), then an up flip.
        let api_order = vec![
            flip("2026-12-03T10:00:00Z", 1),
            flip("2026-12-02T09:00:00Z", 0),
            flip("2026-12-02T09:00:00Z", 0),
            flip("2026-12-01T08:00:00Z", 1),
        ];
        let ordered = order_oldest_first(api_order);
        let summary: Vec<(String, i64)> = ordered
            .iter()
            .map(|f| (f.timestamp.to_rfc3339(), f.sequence))
            .collect();
        assert_eq!(
            summary,
            [
                ("2026-12-01T08:00:00+00:00".to_string(), 0),
                ("2026-12-02T09:00:00+00:00".to_string(), 0),
                ("2026-12-02T09:00:00+00:00".to_string(), 1),
                ("2026-12-03T10:00:00+00:00".to_string(), 0),
            ]
        );
    }

    #[test]
    fn late_flip_is_sorted_by_timestamp() {
        // A timeout flip is stored after a later flip but carries an earlier
        // timestamp.
        let api_order = vec![
            flip("2026-12-01T05:00:00Z", 0),
            flip("2026-12-01T06:00:00Z", 1),
        ];
        let ordered = order_oldest_first(api_order);
        assert_eq!(
            ordered[0].timestamp.to_rfc3339(),
            "2026-12-01T05:00:00+00:00"
        );
        assert_eq!(
            ordered[1].timestamp.to_rfc3339(),
            "2026-12-01T06:00:00+00:00"
        );
    }

    #[test]
    fn since_uses_lookback_or_start_date() {
        let hour = chrono::Duration::seconds(3600);
        let bookmark = "2026-12-03T12:00:00Z".parse().ok();
        let start_date = "2026-01-01T00:00:00Z".parse().ok();
        assert_eq!(
            since(bookmark, hour, start_date),
            "2026-12-03T11:00:00Z".parse().ok()
        );
        assert_eq!(since(None, hour, start_date), start_date);
        assert_eq!(since(None, hour, None), None);
    }

    #[test]
    fn start_param_is_clamped() {
        assert_eq!(
            start_param("1969-01-01T00:00:00Z".parse().expect("date")),
            "0"
        );
        assert_eq!(
            start_param("2024-01-01T00:00:00.9Z".parse().expect("date")),
            "1704067200"
        );
        assert_eq!(
            start_param("2400-01-01T00:00:00Z".parse().expect("date")),
            "10000000000"
        );
    }
}
