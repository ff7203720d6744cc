//! `checks`: every check of the project, from `GET /api/v3/checks/`.
//!
//! The response has no timestamps to replicate on, so the stream is read
//! whole on every sync. Its key, `unique_key`, is the one identifier the API
//! gives for both key types. Read-only keys get it in the response.
//! Read-write keys get the `uuid` instead, so the tap computes `unique_key`
//! from the `uuid` exactly as the server does.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use super::{ReplicationMethod, StreamSpec};
use crate::client::{ApiError, Client};
use crate::schema::schema_for;

pub const STREAM: StreamSpec = StreamSpec {
    name: "checks",
    key_properties: &["unique_key"],
    replication_method: ReplicationMethod::FullTable,
    replication_key: None,
    selected_by_default: true,
    needs_read_write_key: false,
    schema: schema_for::<Check>,
};

const PATH: &str = "checks/";

/// One check. Every field but the key is nullable: servers older than the
/// current one lack some fields, and some appear only for one key type or
/// one kind of check.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct Check {
    /// SHA-1 (hex) of the first 16 hex digits of the check's UUID; the
    /// same whichever API key type reads it.
    #[serde(default)]
    pub unique_key: String,
    /// Check UUID; null when read with a read-only key.
    pub uuid: Option<String>,
    pub name: Option<String>,
    pub slug: Option<String>,
    /// Space-separated tags.
    pub tags: Option<String>,
    pub desc: Option<String>,
    /// Grace period in seconds.
    pub grace: Option<i64>,
    /// Pings ever received, of every type, including those no longer kept.
    pub n_pings: Option<i64>,
    /// `new`, `up`, `grace`, `down` or `paused`, computed by the server at
    /// request time.
    pub status: Option<String>,
    /// Whether a start ping is waiting for its finish ping.
    pub started: Option<bool>,
    /// Time of the last success or fail ping (UTC).
    pub last_ping: Option<DateTime<Utc>>,
    /// When the grace period starts if no ping arrives (UTC).
    pub next_ping: Option<DateTime<Utc>>,
    pub manual_resume: Option<bool>,
    /// `""` (any HTTP method counts) or `"POST"`.
    pub methods: Option<String>,
    pub subject: Option<String>,
    pub subject_fail: Option<String>,
    pub start_kw: Option<String>,
    pub success_kw: Option<String>,
    pub failure_kw: Option<String>,
    pub filter_subject: Option<bool>,
    pub filter_body: Option<bool>,
    pub filter_http_body: Option<bool>,
    pub filter_default_fail: Option<bool>,
    pub badge_url: Option<String>,
    /// Seconds between the last start and its finish ping.
    pub last_duration: Option<i64>,
    pub ping_url: Option<String>,
    pub update_url: Option<String>,
    pub pause_url: Option<String>,
    pub resume_url: Option<String>,
    /// Comma-separated UUIDs of the integrations that notify for this
    /// check; null when read with a read-only key.
    pub channels: Option<String>,
    /// `simple`, `cron` or `oncalendar`, derived from the schedule as the
    /// server does; the API has no such field.
    #[serde(skip_deserializing)]
    pub kind: Option<String>,
    /// Period in seconds of a simple check.
    pub timeout: Option<i64>,
    /// Cron expression or OnCalendar text of a scheduled check.
    pub schedule: Option<String>,
    /// IANA time zone of the schedule.
    pub tz: Option<String>,
}

#[derive(Deserialize)]
struct ChecksPage {
    checks: Vec<Check>,
}

/// Fetches every check of the project and fills in `unique_key` and `kind`.
pub fn fetch(client: &Client) -> Result<Vec<Check>, ApiError> {
    let page: ChecksPage = client.get_json(PATH, &[])?;
    let malformed = |detail| ApiError::Malformed {
        path: format!("/api/v3/{PATH}"),
        detail,
    };
    let checks: Vec<Check> = page
        .checks
        .into_iter()
        .map(|check| check.complete().map_err(malformed))
        .collect::<Result<_, _>>()?;
    let mut keys: Vec<&str> = checks
        .iter()
        .map(|check| check.unique_key.as_str())
        .collect();
    keys.sort_unstable();
    if let Some(pair) = keys.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(malformed(format!(
            "two checks share the unique_key {}",
            pair[0]
        )));
    }
    Ok(checks)
}

impl Check {
    /// Validates the identifiers and derives `unique_key` and `kind`.
    fn complete(mut self) -> Result<Check, String> {
        if let Some(uuid) = &self.uuid {
            if !is_uuid(uuid) {
                return Err(format!("check uuid {uuid:?} is not a lowercase UUID"));
            }
            if self.unique_key.is_empty() {
                self.unique_key = unique_key(uuid);
            }
        }
        if self.unique_key.is_empty() {
            return Err(format!(
                "check {:?} has neither uuid nor unique_key",
                self.name.as_deref().unwrap_or("")
            ));
        }
        if !is_unique_key(&self.unique_key) {
            return Err(format!(
                "check unique_key {:?} is not 40 hex digits",
                self.unique_key
            ));
        }
        for (field, time) in [("last_ping", self.last_ping), ("next_ping", self.next_ping)] {
            if time.is_some_and(|time| !super::is_plausible_time(time)) {
                return Err(format!(
                    "check {:?} has a {field} outside the years 1 to 9999",
                    self.unique_key
                ));
            }
        }
        self.kind = kind(self.schedule.as_deref(), self.timeout).map(str::to_string);
        Ok(self)
    }

    /// Returns the identifier that the flips endpoint accepts: the UUID when the key
    /// can see it, else the unique key.
    pub fn flips_id(&self) -> &str {
        self.uuid.as_deref().unwrap_or(&self.unique_key)
    }
}

/// Computes the server's `unique_key`: SHA-1 of the first 16 hex digits of
/// the UUID without dashes.
pub fn unique_key(uuid: &str) -> String {
    let digits: String = uuid.chars().filter(|c| *c != '-').take(16).collect();
    Sha1::digest(digits.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Classifies a check the way the server does: a schedule that is one line
/// of exactly five fields is cron, any other schedule is OnCalendar, and a
/// check with a timeout and no schedule is simple.
pub fn kind(schedule: Option<&str>, timeout: Option<i64>) -> Option<&'static str> {
    match schedule {
        Some(schedule) => {
            let schedule = schedule.trim();
            if !schedule.contains('\n') && schedule.split_whitespace().count() == 5 {
                Some("cron")
            } else {
                Some("oncalendar")
            }
        }
        None => timeout.map(|_| "simple"),
    }
}

/// Returns whether `text` is a lowercase, dashed UUID, the only form the
/// API routes.
fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(index, c)| match index {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

fn is_unique_key(text: &str) -> bool {
    text.len() == 40
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_key_matches_server() {
        // Recorded from a Healthchecks server: the same check read with a
        // read-write key (uuid) and a read-only key (unique_key).
        assert_eq!(
            unique_key("2af601b3-3c51-42b1-b120-42fec2a4f3aa"),
            "f65df2bf8fb59dbf320d41895f3b52f416bd3de7"
        );
    }

    #[test]
    fn kind_rules() {
        assert_eq!(kind(Some("15 3 * * *"), None), Some("cron"));
        assert_eq!(kind(Some("  */5 * * * *\n"), None), Some("cron"));
        assert_eq!(
            kind(Some("Mon..Fri 02:00\nSat,Sun 06:30"), None),
            Some("oncalendar")
        );
        assert_eq!(kind(Some("daily"), None), Some("oncalendar"));
        assert_eq!(kind(Some("0 0 * * * *"), None), Some("oncalendar"));
        assert_eq!(kind(None, Some(3600)), Some("simple"));
        assert_eq!(kind(None, None), None);
    }

    #[test]
    fn complete_rejects_unsafe_uuid() {
        let check: Check = serde_json::from_str(r#"{"uuid": "../../channels"}"#).expect("parses");
        let error = check.complete().expect_err("rejected");
        assert_eq!(
            error,
            "check uuid \"../../channels\" is not a lowercase UUID"
        );
    }

    #[test]
    fn complete_requires_an_identifier() {
        let check: Check = serde_json::from_str(r#"{"name": "x"}"#).expect("parses");
        assert_eq!(
            check.complete().expect_err("rejected"),
            "check \"x\" has neither uuid nor unique_key"
        );
    }

    #[test]
    fn complete_keeps_read_only_unique_key() {
        let json = r#"{"unique_key": "b9698099fce1b712e4a2d2725b9aab25cc81234c", "timeout": 60}"#;
        let check: Check = serde_json::from_str(json).expect("parses");
        let check = check.complete().expect("valid");
        assert_eq!(check.unique_key, "b9698099fce1b712e4a2d2725b9aab25cc81234c");
        assert_eq!(check.flips_id(), "b9698099fce1b712e4a2d2725b9aab25cc81234c");
        assert_eq!(check.kind.as_deref(), Some("simple"));
    }

    #[test]
    fn missing_optional_fields_become_null() {
        let check: Check =
            serde_json::from_str(r#"{"uuid": "2af601b3-3c51-42b1-b120-42fec2a4f3aa"}"#)
                .expect("parses");
        let record = serde_json::to_value(check.complete().expect("valid")).expect("serializes");
        assert_eq!(record["filter_http_body"], serde_json::Value::Null);
        assert_eq!(record["last_duration"], serde_json::Value::Null);
        assert_eq!(
            record["unique_key"],
            "f65df2bf8fb59dbf320d41895f3b52f416bd3de7"
        );
    }

    #[test]
    fn wrong_type_is_an_error() {
        let result = serde_json::from_str::<Check>(r#"{"grace": "soon"}"#);
        let message = result.expect_err("rejected").to_string();
        assert!(
            message.starts_with("invalid type: string \"soon\", expected i64"),
            "{message}"
        );
    }
}
