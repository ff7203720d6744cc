//! Dataset model: the projects, checks, pings, flips and channels the stand-in serves.
//!
//! A dataset file is one JSON object, `{"projects": [Project, ...]}`. Unknown keys are
//! rejected everywhere so that a typo in a fixture fails loudly. Stored values are
//! served as they are: `status`, `next_ping` and ping durations are never recomputed
//! from the clock, so responses stay the same from one run to the next.
//!
//! * Project: `name` (informational, default `""`), `rw_key`, `ro_key`,
//!   `ping_log_limit` (default 100), `channels`, `checks` (both default `[]`).
//!   Keys are 32 characters: `hcw_`/`hcr_` plus 28 ASCII alphanumerics, or any legacy
//!   32-character string. A `rw_key` must not start with `hcr_` and a `ro_key` must
//!   not start with `hcw_`, because the server treats `hcr_` keys as read-only.
//! * Channel: `id` (UUID), `name`, `kind`, all strings; served in file order.
//! * Check: `uuid` (required, lowercase dashed UUID) and `badge_key` (the UUID in
//!   `badge_url`, derived from `uuid` when absent). Then the API's check fields:
//!   `name`, `slug`, `tags`, `desc`, `grace` (default 3600), `n_pings` (default 0, at
//!   least the highest ping `n`), `status` (`new`, `up`, `grace`, `down` or `paused`,
//!   default `new`), `started`, `last_ping` and `next_ping` (timestamp or null),
//!   `manual_resume`, `methods`, `subject`, `subject_fail`, `start_kw`, `success_kw`,
//!   `failure_kw`, `filter_subject`, `filter_body`, `filter_http_body`,
//!   `filter_default_fail` and optional `last_duration` (seconds). A check has either
//!   `timeout` (seconds) or `schedule` plus `tz`. Strings default to `""` and booleans
//!   to false.
//!   `channels` lists channel ids of the same project. `legacy_fields: true` omits
//!   the fields that servers before v3.12 lack: `start_kw`, `filter_http_body`,
//!   `filter_default_fail` and `badge_url`. `pings` and `flips` are stored oldest
//!   first, in the order the server received them.
//! * Ping: `type` (`success`, `start`, `fail`, `log`, `ign`), `date` (RFC 3339),
//!   `n` (required in files, assigned by the admin API when absent), `scheme`
//!   (default `http`), `remote_addr` (string or null, default null), `method` and `ua`
//!   (default `""`), `rid` (string or null, default null), optional `duration`
//!   (seconds, float) and optional `body`: a string, or `{"base64": "..."}` for bytes
//!   that are not UTF-8. A non-empty body gives the ping a `body_url`.
//! * Flip: `timestamp` (RFC 3339, whole seconds) and `up` (0 or 1).

use std::collections::HashSet;

use anyhow::{Context, Result, anyhow, bail, ensure};
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::base64;

/// Dataset served when `--dataset` and `--generate` are both absent.
pub const LAB_JSON: &str = include_str!("../../../tests/fixtures/lab.json");

/// The whole data set: every project the server serves.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    pub projects: Vec<Project>,
}

/// One project with its two API keys.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    #[serde(default)]
    pub name: String,
    pub rw_key: String,
    pub ro_key: String,
    /// Number of newest pings the pings endpoint lists (capped at 1000 there).
    #[serde(default = "default_ping_log_limit")]
    pub ping_log_limit: u64,
    #[serde(default)]
    pub channels: Vec<Channel>,
    #[serde(default)]
    pub checks: Vec<Check>,
}

/// An integration, called a channel by the API.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub kind: String,
}

/// A check with its stored API fields, ping log and flips.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub uuid: String,
    #[serde(default)]
    pub badge_key: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub tags: String,
    #[serde(default)]
    pub desc: String,
    #[serde(default = "default_grace")]
    pub grace: u64,
    #[serde(default)]
    pub n_pings: u64,
    #[serde(default = "default_status")]
    pub status: String,
    #[serde(default)]
    pub started: bool,
    #[serde(default)]
    pub last_ping: Option<String>,
    #[serde(default)]
    pub next_ping: Option<String>,
    #[serde(default)]
    pub manual_resume: bool,
    #[serde(default)]
    pub methods: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub subject_fail: String,
    #[serde(default)]
    pub start_kw: String,
    #[serde(default)]
    pub success_kw: String,
    #[serde(default)]
    pub failure_kw: String,
    #[serde(default)]
    pub filter_subject: bool,
    #[serde(default)]
    pub filter_body: bool,
    #[serde(default)]
    pub filter_http_body: bool,
    #[serde(default)]
    pub filter_default_fail: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_duration: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub legacy_fields: bool,
    #[serde(default)]
    pub pings: Vec<Ping>,
    #[serde(default)]
    pub flips: Vec<Flip>,
}

/// One logged ping.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ping {
    #[serde(rename = "type")]
    pub kind: String,
    pub date: String,
    #[serde(default)]
    pub n: Option<u64>,
    #[serde(default = "default_scheme")]
    pub scheme: String,
    #[serde(default)]
    pub remote_addr: Option<String>,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub ua: String,
    #[serde(default)]
    pub rid: Option<String>,
    /// Seconds since the matching start ping, as the API rounds it (2 decimals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<PingBody>,
}

/// A stored ping body: UTF-8 text, or any bytes written in base64.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PingBody {
    Text(String),
    Bytes { base64: String },
}

/// A status change of a check: `up` is 1 for up, 0 for down, paused or new.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flip {
    pub timestamp: String,
    pub up: u8,
}

const STATUSES: [&str; 5] = ["new", "up", "grace", "down", "paused"];
const PING_TYPES: [&str; 5] = ["success", "start", "fail", "log", "ign"];

fn default_ping_log_limit() -> u64 {
    100
}

fn default_grace() -> u64 {
    3600
}

fn default_status() -> String {
    "new".to_string()
}

fn default_scheme() -> String {
    "http".to_string()
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl Dataset {
    /// Parses and validates a dataset from JSON text.
    pub fn from_json(text: &str) -> Result<Dataset> {
        let mut dataset: Dataset = serde_json::from_str(text).context("invalid dataset JSON")?;
        dataset.normalize_and_validate()?;
        Ok(dataset)
    }

    /// Fills derived defaults (`badge_key`) and checks every cross-reference.
    pub fn normalize_and_validate(&mut self) -> Result<()> {
        let mut keys = HashSet::new();
        let mut uuids = HashSet::new();
        for (index, project) in self.projects.iter_mut().enumerate() {
            let label = format!("project {index} ({:?})", project.name);
            validate_project_keys(project, &mut keys).context(label.clone())?;
            ensure!(
                project.ping_log_limit > 0,
                "{label}: ping_log_limit must be at least 1"
            );
            for check in &mut project.checks {
                check.fill_defaults();
                ensure!(
                    uuids.insert(check.uuid.clone()),
                    "{label}: duplicate check uuid {}",
                    check.uuid
                );
            }
            for check in &project.checks {
                validate_check(check, &project.channels)
                    .with_context(|| format!("{label}: check {}", check.uuid))?;
            }
        }
        Ok(())
    }

    /// Finds a check by UUID in any project, returning the project index too.
    pub fn find_check(&self, uuid: &str) -> Option<(usize, &Check)> {
        self.projects
            .iter()
            .enumerate()
            .find_map(|(index, project)| {
                project
                    .checks
                    .iter()
                    .find(|c| c.uuid == uuid)
                    .map(|c| (index, c))
            })
    }
}

impl Check {
    /// Fills the defaults that depend on other fields: `badge_key` from `uuid`.
    pub fn fill_defaults(&mut self) {
        if self.badge_key.is_empty() {
            self.badge_key = derived_uuid(&format!("badge {}", self.uuid));
        }
    }

    /// Returns the read-only identifier: SHA-1 hex of the first 16 hex digits of the UUID.
    pub fn unique_key(&self) -> String {
        unique_key(&self.uuid)
    }
}

impl PingBody {
    /// Returns the stored bytes, decoding base64 when needed.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        match self {
            PingBody::Text(text) => Ok(text.as_bytes().to_vec()),
            PingBody::Bytes { base64: encoded } => base64::decode(encoded),
        }
    }

    /// Tells whether the body has no bytes, without decoding it.
    pub fn is_empty(&self) -> bool {
        match self {
            PingBody::Text(text) => text.is_empty(),
            PingBody::Bytes { base64: encoded } => encoded
                .bytes()
                .all(|b| b == b'=' || b.is_ascii_whitespace()),
        }
    }
}

/// Computes the API's `unique_key` for a dashed UUID, as upstream `Check.unique_key` does.
pub fn unique_key(uuid: &str) -> String {
    let hex: String = uuid.chars().filter(|c| *c != '-').take(16).collect();
    let digest = Sha1::digest(hex.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Builds a version-4-shaped UUID from the SHA-1 of `seed`, for deterministic ids.
pub fn derived_uuid(seed: &str) -> String {
    let digest = Sha1::digest(seed.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Tells whether `text` is a lowercase dashed UUID, the only form Django's converter routes.
pub fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(b),
        })
}

/// Parses an RFC 3339 timestamp such as `2026-12-04T06:10:41.601973+00:00`.
pub fn parse_timestamp(text: &str) -> Result<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text).map_err(|e| anyhow!("invalid timestamp {text:?}: {e}"))
}

/// Formats a time the way the API does: UTC, `+00:00`, microseconds only when non-zero.
pub fn format_timestamp(time: DateTime<Utc>, whole_seconds: bool) -> String {
    let format = if whole_seconds || time.timestamp_subsec_micros() == 0 {
        SecondsFormat::Secs
    } else {
        SecondsFormat::Micros
    };
    time.to_rfc3339_opts(format, false)
}

fn validate_project_keys(project: &Project, keys: &mut HashSet<String>) -> Result<()> {
    for (field, key, wrong_prefix) in [
        ("rw_key", &project.rw_key, "hcr_"),
        ("ro_key", &project.ro_key, "hcw_"),
    ] {
        ensure!(
            key.chars().count() == 32,
            "{field} {key:?} must be 32 characters"
        );
        ensure!(
            !key.starts_with(wrong_prefix),
            "{field} {key:?} must not start with {wrong_prefix}"
        );
        ensure!(keys.insert(key.clone()), "{field} {key:?} is used twice");
    }
    Ok(())
}

/// Validates one check against the channels of its project.
pub fn validate_check(check: &Check, channels: &[Channel]) -> Result<()> {
    ensure!(is_uuid(&check.uuid), "uuid must be a lowercase dashed UUID");
    ensure!(
        is_uuid(&check.badge_key),
        "badge_key {:?} must be a lowercase dashed UUID",
        check.badge_key
    );
    ensure!(
        STATUSES.contains(&check.status.as_str()),
        "status {:?} is not one of {STATUSES:?}",
        check.status
    );
    match (&check.timeout, &check.schedule, &check.tz) {
        (Some(_), None, None) | (None, Some(_), Some(_)) => {}
        _ => bail!("set either timeout, or schedule and tz"),
    }
    for time in [&check.last_ping, &check.next_ping].into_iter().flatten() {
        parse_timestamp(time)?;
    }
    for id in &check.channels {
        ensure!(
            channels.iter().any(|c| &c.id == id),
            "channel {id:?} is not in the project"
        );
    }
    for ping in &check.pings {
        validate_ping(ping, check.n_pings)?;
    }
    for flip in &check.flips {
        parse_timestamp(&flip.timestamp)?;
        ensure!(flip.up <= 1, "flip up must be 0 or 1, not {}", flip.up);
    }
    Ok(())
}

fn validate_ping(ping: &Ping, n_pings: u64) -> Result<()> {
    let n = ping
        .n
        .ok_or_else(|| anyhow!("ping at {} has no n", ping.date))?;
    let label = format!("ping {n}");
    ensure!(n <= n_pings, "{label}: n is above n_pings {n_pings}");
    ensure!(
        PING_TYPES.contains(&ping.kind.as_str()),
        "{label}: type {:?} is not one of {PING_TYPES:?}",
        ping.kind
    );
    parse_timestamp(&ping.date).context(label.clone())?;
    if let Some(body) = &ping.body {
        body.to_bytes().context(label)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
