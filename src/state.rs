//! Singer STATE: per-check bookmarks in the Meltano SDK's layout.
//!
//! The value of a STATE message looks like
//!
//! ```json
//! {"bookmarks": {"pings": {"partitions": [
//!   {"context": {"check_unique_key": "f65d..."},
//!    "replication_key": "n", "replication_key_value": 36}
//! ]}}}
//! ```
//!
//! with one partition per check for each incremental stream, so Meltano's
//! state backend and tools written for SDK taps read it. A bookmark is set
//! only after the records it covers were written.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// Bookmarks of the incremental streams, keyed by stream and check.
#[derive(Debug, Default)]
pub struct State {
    /// Stream name to check `unique_key` to the bookmark value.
    bookmarks: BTreeMap<&'static str, BTreeMap<String, Bookmark>>,
}

/// The position reached in one check's records of one stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Bookmark {
    pub replication_key: &'static str,
    pub value: Value,
}

impl State {
    /// Records that `check`'s records of `stream` were written up to `bookmark`.
    pub fn set(&mut self, stream: &'static str, check: &str, bookmark: Bookmark) {
        self.bookmarks
            .entry(stream)
            .or_default()
            .insert(check.to_string(), bookmark);
    }

    /// The STATE message value.
    pub fn to_value(&self) -> Value {
        let mut bookmarks = serde_json::Map::new();
        for (stream, checks) in &self.bookmarks {
            let partitions: Vec<Value> = checks
                .iter()
                .map(|(check, bookmark)| {
                    json!({
                        "context": {"check_unique_key": check},
                        "replication_key": bookmark.replication_key,
                        "replication_key_value": bookmark.value,
                    })
                })
                .collect();
            bookmarks.insert(stream.to_string(), json!({ "partitions": partitions }));
        }
        json!({ "bookmarks": bookmarks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_state_has_empty_bookmarks() {
        assert_eq!(State::default().to_value(), json!({"bookmarks": {}}));
    }

    #[test]
    fn partitions_per_check() {
        let mut state = State::default();
        state.set(
            "pings",
            "bbb",
            Bookmark {
                replication_key: "n",
                value: json!(7),
            },
        );
        state.set(
            "pings",
            "aaa",
            Bookmark {
                replication_key: "n",
                value: json!(36),
            },
        );
        state.set(
            "flips",
            "aaa",
            Bookmark {
                replication_key: "timestamp",
                value: json!("2026-12-03T12:09:13Z"),
            },
        );
        assert_eq!(
            state.to_value(),
            json!({"bookmarks": {
                "flips": {"partitions": [
                    {"context": {"check_unique_key": "aaa"}, "replication_key": "timestamp", "replication_key_value": "2026-12-03T12:09:13Z"},
                ]},
                "pings": {"partitions": [
                    {"context": {"check_unique_key": "aaa"}, "replication_key": "n", "replication_key_value": 36},
                    {"context": {"check_unique_key": "bbb"}, "replication_key": "n", "replication_key_value": 7},
                ]},
            }})
        );
    }
}
