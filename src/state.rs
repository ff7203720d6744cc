//! Singer STATE: per-check bookmarks in the Meltano SDK's layout.
//!
//! The value of a STATE message, and of the `--state` file, looks like
//!
//! ```json
//! {"bookmarks": {
//!   "pings": {"partitions": [
//!     {"context": {"check_unique_key": "f65d..."},
//!      "replication_key": "n", "replication_key_value": 36}]},
//!   "flips": {"partitions": [
//!     {"context": {"check_unique_key": "f65d..."},
//!      "replication_key": "timestamp",
//!      "replication_key_value": "2026-12-03T12:09:13Z",
//!      "check_snapshot": {"status": "up", "started": false,
//!        "last_ping": "...", "next_ping": "...", "n_pings": 36}}]}}}
//! ```
//!
//! with one partition per check, so Meltano's state backend and tools
//! written for SDK taps read it. `check_snapshot` is the tap's own addition:
//! the check's fields at the last successful flips sync, which decide
//! whether the next sync can skip the flips request. A flips partition may
//! have a null `replication_key_value` when the check had no flips yet.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::json_kind;
use crate::streams::checks::Check;
use crate::streams::pings::MAX_PING_NUMBER;

/// Bookmarks of the incremental streams, by check `unique_key`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct State {
    /// Highest ping `n` written (or passed over as older than `start_date`).
    pings: BTreeMap<String, i64>,
    flips: BTreeMap<String, FlipsBookmark>,
}

/// Progress of one check's flips.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FlipsBookmark {
    /// Latest flip timestamp written; `None` before the first flip.
    pub timestamp: Option<DateTime<Utc>>,
    /// The check as it was when its flips were last read.
    pub snapshot: Option<CheckSnapshot>,
}

/// The check fields that change whenever a flip arises, except for a pause
/// and resume of a never-pinged check, whose `last_ping` stays null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckSnapshot {
    pub status: Option<String>,
    pub started: Option<bool>,
    pub last_ping: Option<DateTime<Utc>>,
    pub next_ping: Option<DateTime<Utc>>,
    pub n_pings: Option<i64>,
}

impl CheckSnapshot {
    pub fn of(check: &Check) -> CheckSnapshot {
        CheckSnapshot {
            status: check.status.clone(),
            started: check.started,
            last_ping: check.last_ping,
            next_ping: check.next_ping,
            n_pings: check.n_pings,
        }
    }
}

impl State {
    /// Reads a state file; an empty file or `{}` is no state.
    pub fn load(path: &Path) -> Result<State> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read state file {}", path.display()))?;
        if text.trim().is_empty() {
            return Ok(State::default());
        }
        let value: Value = serde_json::from_str(&text)
            .with_context(|| format!("state file {} is not valid JSON", path.display()))?;
        State::from_value(&value).with_context(|| {
            format!(
                "state file {} has the wrong shape; pass the value of the last STATE message",
                path.display()
            )
        })
    }

    /// Reads a STATE value. A whole STATE message is accepted too.
    pub fn from_value(value: &Value) -> Result<State> {
        let Some(object) = value.as_object() else {
            bail!("expected a JSON object, not {}", json_kind(value));
        };
        if object.get("type").and_then(Value::as_str) == Some("STATE") {
            if let Some(inner) = object.get("value") {
                return State::from_value(inner);
            }
        }
        // `meltano state get` prints the state wrapped in "singer_state", and
        // Meltano's state backends store it under "completed" too.
        if let (Some(inner), 1) = (object.get("singer_state"), object.len()) {
            return State::from_value(inner);
        }
        if let Some(inner) = object
            .get("completed")
            .and_then(|completed| completed.get("singer_state"))
        {
            return State::from_value(inner);
        }
        let unknown: Vec<&str> = object
            .keys()
            .map(String::as_str)
            .filter(|key| !["bookmarks", "currently_syncing"].contains(key))
            .collect();
        if !unknown.is_empty() {
            log::warn!("ignoring unknown keys in the state: {}", unknown.join(", "));
        }
        let mut state = State::default();
        let Some(bookmarks) = object.get("bookmarks") else {
            return Ok(state);
        };
        let Some(bookmarks) = bookmarks.as_object() else {
            bail!(
                "\"bookmarks\" must be an object, not {}",
                json_kind(bookmarks)
            );
        };
        for (stream, bookmark) in bookmarks {
            match stream.as_str() {
                "pings" => read_partitions(bookmark, "pings", "n", |key, partition| {
                    let value = partition.get("replication_key_value");
                    let Some(n) = value
                        .and_then(Value::as_i64)
                        .filter(|n| (0..=MAX_PING_NUMBER).contains(n))
                    else {
                        bail!(
                            "replication_key_value must be a ping number from 0 to {MAX_PING_NUMBER}, not {}",
                            value.map_or("missing".to_string(), Value::to_string)
                        );
                    };
                    state.pings.insert(key, n);
                    Ok(())
                })?,
                "flips" => read_partitions(bookmark, "flips", "timestamp", |key, partition| {
                    state.flips.insert(key, read_flips_partition(partition)?);
                    Ok(())
                })?,
                other => log::warn!("ignoring state bookmarks of unknown stream {other:?}"),
            }
        }
        Ok(state)
    }

    /// Returns whether no check has a bookmark.
    pub fn is_empty(&self) -> bool {
        self.pings.is_empty() && self.flips.is_empty()
    }

    /// Returns the pings bookmark of a check.
    pub fn pings(&self, check: &str) -> Option<i64> {
        self.pings.get(check).copied()
    }

    /// Sets the pings bookmark of a check; returns whether it changed.
    pub fn set_pings(&mut self, check: &str, n: i64) -> bool {
        let changed = self.pings.get(check) != Some(&n);
        if changed {
            self.pings.insert(check.to_string(), n);
        }
        changed
    }

    /// Returns the flips bookmark of a check.
    pub fn flips(&self, check: &str) -> Option<&FlipsBookmark> {
        self.flips.get(check)
    }

    /// Sets the flips bookmark of a check; returns whether it changed.
    pub fn set_flips(&mut self, check: &str, bookmark: FlipsBookmark) -> bool {
        let changed = self.flips.get(check) != Some(&bookmark);
        if changed {
            self.flips.insert(check.to_string(), bookmark);
        }
        changed
    }

    /// Drops the bookmarks of checks that are not in `existing`, so state
    /// stays proportional to the project. Returns whether any were dropped.
    pub fn retain_checks(&mut self, existing: &HashSet<&str>) -> bool {
        let before = self.pings.len() + self.flips.len();
        self.pings
            .retain(|check, _| existing.contains(check.as_str()));
        self.flips
            .retain(|check, _| existing.contains(check.as_str()));
        self.pings.len() + self.flips.len() != before
    }

    /// Builds the value of a STATE message.
    #[cfg(test)]
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a state serializes")
    }
}

/// Writes the layout shown in the module documentation. It is serialized
/// directly, without building a JSON tree, because a sync writes a STATE
/// after every check and each contains every check's bookmarks.
impl Serialize for State {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct StateValue<'a> {
            bookmarks: Bookmarks<'a>,
        }
        #[derive(Serialize)]
        struct Bookmarks<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            pings: Option<Partitions<'a, i64>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            flips: Option<Partitions<'a, Option<DateTime<Utc>>>>,
        }
        #[derive(Serialize)]
        struct Partitions<'a, V> {
            partitions: Vec<Partition<'a, V>>,
        }
        let pings = (!self.pings.is_empty()).then(|| Partitions {
            partitions: self
                .pings
                .iter()
                .map(|(check, n)| Partition::new(check, "n", *n, None))
                .collect(),
        });
        let flips = (!self.flips.is_empty()).then(|| Partitions {
            partitions: self
                .flips
                .iter()
                .map(|(check, bookmark)| {
                    Partition::new(
                        check,
                        "timestamp",
                        bookmark.timestamp,
                        bookmark.snapshot.as_ref(),
                    )
                })
                .collect(),
        });
        StateValue {
            bookmarks: Bookmarks { pings, flips },
        }
        .serialize(serializer)
    }
}

/// One check's bookmark in one stream, as written to STATE.
#[derive(Serialize)]
struct Partition<'a, V> {
    context: PartitionContext<'a>,
    replication_key: &'static str,
    replication_key_value: V,
    #[serde(skip_serializing_if = "Option::is_none")]
    check_snapshot: Option<&'a CheckSnapshot>,
}

#[derive(Serialize)]
struct PartitionContext<'a> {
    check_unique_key: &'a str,
}

impl<'a, V> Partition<'a, V> {
    fn new(
        check: &'a str,
        replication_key: &'static str,
        value: V,
        snapshot: Option<&'a CheckSnapshot>,
    ) -> Self {
        Partition {
            context: PartitionContext {
                check_unique_key: check,
            },
            replication_key,
            replication_key_value: value,
            check_snapshot: snapshot,
        }
    }
}

/// Reads `{"partitions": [...]}` of one stream, handing each partition's
/// check key and object to `read`.
fn read_partitions(
    bookmark: &Value,
    stream: &str,
    replication_key: &str,
    mut read: impl FnMut(String, &Map<String, Value>) -> Result<()>,
) -> Result<()> {
    let partitions = bookmark.get("partitions").and_then(Value::as_array);
    let Some(partitions) = partitions else {
        bail!("bookmarks.{stream} must be an object with a \"partitions\" list");
    };
    for (index, partition) in partitions.iter().enumerate() {
        let at = || format!("bookmarks.{stream}.partitions[{index}]");
        let Some(partition) = partition.as_object() else {
            bail!("{} must be an object, not {}", at(), json_kind(partition));
        };
        let check = partition
            .get("context")
            .and_then(|c| c.get("check_unique_key"))
            .and_then(Value::as_str);
        let Some(check) = check else {
            bail!("{} needs a context with a check_unique_key string", at());
        };
        let key = partition.get("replication_key").and_then(Value::as_str);
        if key != Some(replication_key) {
            bail!(
                "{}: replication_key must be {replication_key:?}, not {}",
                at(),
                describe(partition.get("replication_key"))
            );
        }
        read(check.to_string(), partition).with_context(at)?;
    }
    Ok(())
}

fn read_flips_partition(partition: &Map<String, Value>) -> Result<FlipsBookmark> {
    let timestamp = match partition.get("replication_key_value") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => {
            let parsed = DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .ok()
                .filter(|t| crate::streams::is_plausible_time(*t));
            let Some(timestamp) = parsed else {
                bail!(
                    "replication_key_value {text:?} is not an RFC 3339 timestamp between the years 1 and 9999"
                );
            };
            Some(timestamp)
        }
        Some(other) => bail!(
            "replication_key_value must be a timestamp string, not {}",
            json_kind(other)
        ),
    };
    let snapshot = match partition.get("check_snapshot") {
        None | Some(Value::Null) => None,
        Some(value) => {
            let snapshot = serde_json::from_value(value.clone()).map_err(|error| {
                anyhow::anyhow!(
                    "check_snapshot is malformed ({error}); delete it to have the flips read again"
                )
            })?;
            Some(snapshot)
        }
    };
    Ok(FlipsBookmark {
        timestamp,
        snapshot,
    })
}

fn describe(value: Option<&Value>) -> String {
    match value {
        None => "missing".to_string(),
        Some(value) => json_kind(value).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snapshot() -> CheckSnapshot {
        CheckSnapshot {
            status: Some("up".into()),
            started: Some(false),
            last_ping: "2026-12-04T01:22:16Z".parse().ok(),
            next_ping: None,
            n_pings: Some(20),
        }
    }

    fn sample() -> State {
        let mut state = State::default();
        state.set_pings("bbb", 7);
        state.set_pings("aaa", 36);
        let timestamp = "2026-12-03T12:09:13Z".parse().ok();
        state.set_flips(
            "aaa",
            FlipsBookmark {
                timestamp,
                snapshot: Some(snapshot()),
            },
        );
        state.set_flips(
            "ccc",
            FlipsBookmark {
                timestamp: None,
                snapshot: None,
            },
        );
        state
    }

    #[test]
    fn empty_state_has_empty_bookmarks() {
        assert_eq!(State::default().to_value(), json!({"bookmarks": {}}));
    }

    #[test]
    fn layout_has_partitions_per_check() {
        assert_eq!(
            sample().to_value(),
            json!({"bookmarks": {
                "pings": {"partitions": [
                    {"context": {"check_unique_key": "aaa"}, "replication_key": "n", "replication_key_value": 36},
                    {"context": {"check_unique_key": "bbb"}, "replication_key": "n", "replication_key_value": 7},
                ]},
                "flips": {"partitions": [
                    {"context": {"check_unique_key": "aaa"}, "replication_key": "timestamp",
                     "replication_key_value": "2026-12-03T12:09:13Z",
                     "check_snapshot": {"status": "up", "started": false, "last_ping": "2026-12-04T01:22:16Z",
                                        "next_ping": null, "n_pings": 20}},
                    {"context": {"check_unique_key": "ccc"}, "replication_key": "timestamp", "replication_key_value": null},
                ]},
            }})
        );
    }

    #[test]
    fn round_trip() {
        let state = sample();
        assert_eq!(State::from_value(&state.to_value()).expect("valid"), state);
    }

    #[test]
    fn whole_state_message_is_accepted() {
        let message = json!({"type": "STATE", "value": sample().to_value()});
        assert_eq!(State::from_value(&message).expect("valid"), sample());
    }

    #[test]
    fn empty_object_is_no_state() {
        assert_eq!(
            State::from_value(&json!({})).expect("valid"),
            State::default()
        );
    }

    #[test]
    fn retain_checks_drops_deleted() {
        let mut state = sample();
        state.retain_checks(&HashSet::from(["aaa"]));
        assert_eq!(state.pings("aaa"), Some(36));
        assert_eq!(state.pings("bbb"), None);
        assert!(state.flips("ccc").is_none());
    }

    #[test]
    fn shape_errors() {
        let partition = |value: Value| json!({"bookmarks": {"pings": {"partitions": [value]}}});
        let cases = [
            (json!([]), "expected a JSON object, not an array"),
            (
                json!({"bookmarks": []}),
                "\"bookmarks\" must be an object, not an array",
            ),
            (
                json!({"bookmarks": {"pings": {"n": 3}}}),
                "bookmarks.pings must be an object with a \"partitions\" list",
            ),
            (
                partition(json!(3)),
                "bookmarks.pings.partitions[0] must be an object, not a number",
            ),
            (
                partition(json!({"replication_key": "n", "replication_key_value": 3})),
                "needs a context with a check_unique_key string",
            ),
            (
                partition(
                    json!({"context": {"check_unique_key": "a"}, "replication_key": "date", "replication_key_value": 3}),
                ),
                "replication_key must be \"n\", not a string",
            ),
            (
                partition(
                    json!({"context": {"check_unique_key": "a"}, "replication_key": "n", "replication_key_value": "3"}),
                ),
                "replication_key_value must be a ping number from 0 to 9007199254740992, not \"3\"",
            ),
            (
                json!({"bookmarks": {"flips": {"partitions": [{"context": {"check_unique_key": "a"}, "replication_key": "timestamp", "replication_key_value": "yesterday"}]}}}),
                "replication_key_value \"yesterday\" is not an RFC 3339 timestamp between the years 1 and 9999",
            ),
        ];
        for (value, expected) in cases {
            let message = format!("{:#}", State::from_value(&value).expect_err("invalid"));
            assert!(message.contains(expected), "{value}: {message}");
        }
    }
}
