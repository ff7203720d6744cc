//! The registry of streams: the one list that discovery and sync iterate.
//!
//! Each stream module starts with its record struct, the single source of the
//! stream's JSON Schema, followed by the function that fetches its records.
//! `checks` and `integrations` are read whole on every sync; `pings`,
//! `ping_bodies` and `flips` are read per check.

pub mod checks;
pub mod flips;
pub mod integrations;
pub mod ping_bodies;
pub mod pings;

use serde_json::Value;

/// Replication method of a stream, with Singer's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicationMethod {
    FullTable,
    Incremental,
}

impl ReplicationMethod {
    /// Returns the Singer name, such as `FULL_TABLE`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicationMethod::FullTable => "FULL_TABLE",
            ReplicationMethod::Incremental => "INCREMENTAL",
        }
    }
}

/// The fixed description of one stream.
pub struct StreamSpec {
    pub name: &'static str,
    pub key_properties: &'static [&'static str],
    pub replication_method: ReplicationMethod,
    /// The bookmark field of an incremental stream.
    pub replication_key: Option<&'static str>,
    /// Whether the stream needs the read-write API key.
    pub needs_read_write_key: bool,
    /// Whether the stream is synced when the catalog does not select or
    /// deselect it.
    pub selected_by_default: bool,
    pub schema: fn() -> Value,
}

impl StreamSpec {
    /// Fields that are always emitted: the key and the replication key.
    pub fn automatic_fields(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.key_properties
            .iter()
            .copied()
            .chain(self.replication_key)
    }
}

/// Every stream, in the order a sync emits them.
pub const ALL: [&StreamSpec; 5] = [
    &checks::STREAM,
    &pings::STREAM,
    &ping_bodies::STREAM,
    &flips::STREAM,
    &integrations::STREAM,
];

/// Returns whether a time from the API or the state can be written as RFC 3339:
/// years 1 to 9999. Anything else is a corrupt value.
pub fn is_plausible_time(time: chrono::DateTime<chrono::Utc>) -> bool {
    use chrono::Datelike;
    (1..=9999).contains(&time.year())
}

/// Looks a stream up by name.
pub fn find(name: &str) -> Option<&'static StreamSpec> {
    ALL.into_iter().find(|stream| stream.name == name)
}

/// Names of all streams, for error messages.
pub fn names() -> String {
    ALL.map(|stream| stream.name).join(", ")
}
