//! `pings`: the ping log of each check, from `GET /api/v3/checks/{uuid}/pings/`.
//!
//! The endpoint has no filters and no paging: it returns the newest pings up
//! to the project's ping log limit (100 by default, at most 1,000), newest
//! first. So `start_date` is applied here, on the ping's `date`, and the
//! records are reversed to be emitted oldest first. It needs the read-write
//! key, since only that key sees the check UUIDs the endpoint is routed by.

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
    /// Where the stored request body can be downloaded; null without a body.
    pub body_url: Option<String>,
    /// Seconds since the matching start ping, for success and fail pings;
    /// the server drops it when pairing would need too many look-ups.
    pub duration: Option<f64>,
}

#[derive(Deserialize)]
struct PingsPage {
    pings: Vec<Ping>,
}

/// Fetches the pings of a check that the API key can see by UUID, oldest
/// first, keeping those received at or after `since`.
pub fn fetch(
    client: &Client,
    check: &Check,
    uuid: &str,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<Ping>, ApiError> {
    let page: PingsPage = client.get_json(&format!("checks/{uuid}/pings/"), &[])?;
    let mut pings = page.pings;
    pings.retain(|ping| since.is_none_or(|since| ping.date >= since));
    pings.reverse();
    for ping in &mut pings {
        ping.check_unique_key.clone_from(&check.unique_key);
        ping.check_uuid = Some(uuid.to_string());
    }
    Ok(pings)
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
