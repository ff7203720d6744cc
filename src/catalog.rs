//! The Singer catalog: discovery output and stream and field selection.
//!
//! Discovery needs no network: the schemas come from the record structs.
//! Selection follows the Singer metadata rules. A stream runs when its
//! stream-level metadata has `selected: true`, or, with no `selected`, when
//! `selected-by-default` is true. Legacy catalogs that mark `selected` inside
//! the schema are read too. A field marked `selected: false` is dropped from
//! SCHEMA and RECORD unless it is a key or replication key.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};

use crate::config::{json_kind, read_object};
use crate::schema::without_properties;
use crate::streams::{self, StreamSpec};

/// Builds the catalog that `--discover` prints.
pub fn discover() -> Value {
    let entries: Vec<Value> = streams::ALL.iter().map(|stream| entry(stream)).collect();
    json!({ "streams": entries })
}

fn entry(stream: &StreamSpec) -> Value {
    let schema = (stream.schema)();
    let mut entry = json!({
        "tap_stream_id": stream.name,
        "stream": stream.name,
        "schema": schema,
        "key_properties": stream.key_properties,
        "replication_method": stream.replication_method.as_str(),
    });
    if let Some(key) = stream.replication_key {
        entry["replication_key"] = json!(key);
    }
    entry["metadata"] = Value::Array(metadata(stream, &schema));
    entry
}

fn metadata(stream: &StreamSpec, schema: &Value) -> Vec<Value> {
    let mut stream_level = json!({
        "inclusion": "available",
        "selected-by-default": stream.selected_by_default,
        "table-key-properties": stream.key_properties,
        "forced-replication-method": stream.replication_method.as_str(),
        "valid-replication-keys": stream.replication_key.into_iter().collect::<Vec<_>>(),
    });
    if let Some(key) = stream.replication_key {
        stream_level["replication-key"] = json!(key);
    }
    let mut metadata = vec![json!({"breadcrumb": [], "metadata": stream_level})];
    let automatic: Vec<&str> = stream.automatic_fields().collect();
    for field in schema["properties"]
        .as_object()
        .into_iter()
        .flat_map(Map::keys)
    {
        let inclusion = if automatic.contains(&field.as_str()) {
            "automatic"
        } else {
            "available"
        };
        metadata.push(json!({
            "breadcrumb": ["properties", field],
            "metadata": {"inclusion": inclusion},
        }));
    }
    metadata
}

/// The streams a sync runs, each with the fields it emits.
pub struct Selection {
    streams: Vec<SelectedStream>,
}

/// One stream to sync.
pub struct SelectedStream {
    pub spec: &'static StreamSpec,
    /// The schema sent in SCHEMA, without deselected fields.
    pub schema: Value,
    dropped_fields: Vec<String>,
}

impl SelectedStream {
    fn new(spec: &'static StreamSpec, dropped_fields: Vec<String>) -> SelectedStream {
        let schema = without_properties(&(spec.schema)(), &dropped_fields);
        SelectedStream {
            spec,
            schema,
            dropped_fields,
        }
    }

    /// Returns whether the catalog deselected any field of this stream.
    pub fn drops_fields(&self) -> bool {
        !self.dropped_fields.is_empty()
    }

    /// Turns a record struct into the RECORD's object, without deselected
    /// fields.
    pub fn project(&self, record: &impl serde::Serialize) -> Result<Map<String, Value>> {
        let value = serde_json::to_value(record).context("cannot serialize a record")?;
        let Value::Object(mut object) = value else {
            bail!("record of stream {} is not a JSON object", self.spec.name);
        };
        object.retain(|field, _| !self.dropped_fields.contains(field));
        Ok(object)
    }
}

impl Selection {
    /// Builds the selection without a catalog: every stream selected by
    /// default, with every field.
    pub fn all() -> Selection {
        let streams = streams::ALL
            .iter()
            .filter(|spec| spec.selected_by_default)
            .map(|spec| SelectedStream::new(spec, Vec::new()))
            .collect();
        Selection { streams }
    }

    /// Reads the selection from a catalog file.
    pub fn from_file(path: &Path) -> Result<Selection> {
        let catalog = read_object(path, "catalog")?;
        Selection::from_catalog(&catalog).with_context(|| format!("catalog {}", path.display()))
    }

    fn from_catalog(catalog: &Map<String, Value>) -> Result<Selection> {
        let Some(entries) = catalog.get("streams") else {
            bail!("no \"streams\" list; pass the output of --discover");
        };
        let Some(entries) = entries.as_array() else {
            bail!("\"streams\" must be a list, not {}", json_kind(entries));
        };
        let mut selected = Vec::new();
        let mut seen = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let parsed = parse_entry(entry).with_context(|| format!("streams[{index}]"))?;
            if seen.contains(&parsed.spec.name) {
                bail!(
                    "stream {:?} appears twice; keep one entry per stream",
                    parsed.spec.name
                );
            }
            seen.push(parsed.spec.name);
            if parsed.selected {
                selected.push(SelectedStream::new(parsed.spec, parsed.dropped_fields));
            }
        }
        // Keep the sync order of the registry, whatever the catalog's order.
        selected.sort_by_key(|stream| {
            streams::ALL
                .iter()
                .position(|spec| spec.name == stream.spec.name)
        });
        Ok(Selection { streams: selected })
    }

    /// Returns the stream called `name`, if it is selected.
    pub fn get(&self, name: &str) -> Option<&SelectedStream> {
        self.streams.iter().find(|stream| stream.spec.name == name)
    }

    /// Returns whether no stream is selected.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    /// Returns whether the stream called `name` is selected.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = &SelectedStream> {
        self.streams.iter()
    }
}

/// One catalog entry, read.
struct ParsedEntry {
    spec: &'static StreamSpec,
    selected: bool,
    dropped_fields: Vec<String>,
}

fn parse_entry(entry: &Value) -> Result<ParsedEntry> {
    let Some(entry) = entry.as_object() else {
        bail!("must be an object, not {}", json_kind(entry));
    };
    let id = match entry.get("tap_stream_id").or_else(|| entry.get("stream")) {
        Some(Value::String(id)) => id,
        Some(other) => bail!("tap_stream_id must be a string, not {}", json_kind(other)),
        None => bail!("has no tap_stream_id"),
    };
    let Some(spec) = streams::find(id) else {
        bail!(
            "unknown stream {id:?}; the tap's streams are {}",
            streams::names()
        );
    };
    let metadata =
        read_metadata(entry.get("metadata")).with_context(|| format!("stream {id:?}"))?;
    let schema = entry.get("schema");
    // With repeated breadcrumbs the last entry wins, as in singer-python.
    let stream_metadata = metadata
        .iter()
        .rfind(|(breadcrumb, _)| breadcrumb.is_empty());
    let selected = match stream_metadata.and_then(|(_, m)| m.get("selected")) {
        Some(value) => {
            flag(value).with_context(|| format!("stream {id:?}: metadata \"selected\""))?
        }
        None => match schema.and_then(|schema| schema.get("selected")) {
            Some(value) => {
                flag(value).with_context(|| format!("stream {id:?}: schema \"selected\""))?
            }
            None => match stream_metadata.and_then(|(_, m)| m.get("selected-by-default")) {
                Some(value) => flag(value)
                    .with_context(|| format!("stream {id:?}: \"selected-by-default\""))?,
                None => spec.selected_by_default,
            },
        },
    };
    // Field selection of a stream that is not synced does not matter, and
    // Meltano deselects every field of such a stream, keys included.
    let dropped_fields = if selected {
        dropped_fields(spec, &metadata, schema)?
    } else {
        Vec::new()
    };
    Ok(ParsedEntry {
        spec,
        selected,
        dropped_fields,
    })
}

/// Breadcrumb and metadata object of each metadata entry.
type Metadata<'a> = Vec<(Vec<&'a str>, &'a Map<String, Value>)>;

fn read_metadata(metadata: Option<&Value>) -> Result<Metadata<'_>> {
    let Some(metadata) = metadata else {
        return Ok(Vec::new());
    };
    let Some(items) = metadata.as_array() else {
        bail!("\"metadata\" must be a list, not {}", json_kind(metadata));
    };
    let mut parsed = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let breadcrumb = item.get("breadcrumb").and_then(Value::as_array);
        let values = item.get("metadata").and_then(Value::as_object);
        let (Some(breadcrumb), Some(values)) = (breadcrumb, values) else {
            bail!("metadata[{index}] needs a \"breadcrumb\" list and a \"metadata\" object");
        };
        let Some(breadcrumb) = breadcrumb
            .iter()
            .map(Value::as_str)
            .collect::<Option<Vec<_>>>()
        else {
            bail!("metadata[{index}] has a breadcrumb that is not a list of strings");
        };
        parsed.push((breadcrumb, values));
    }
    Ok(parsed)
}

/// Fields the catalog deselects, leaving out keys and replication keys.
fn dropped_fields(
    spec: &StreamSpec,
    metadata: &Metadata<'_>,
    schema: Option<&Value>,
) -> Result<Vec<String>> {
    let known = (spec.schema)();
    let properties = known["properties"].as_object().cloned().unwrap_or_default();
    for (breadcrumb, _) in metadata {
        if let ["properties", field] = breadcrumb.as_slice() {
            if !properties.contains_key(*field) {
                log::warn!(
                    "stream {}: ignoring catalog metadata for unknown field {field:?}",
                    spec.name
                );
            }
        }
    }
    let mut dropped = Vec::new();
    for field in properties.keys() {
        let from_metadata = metadata
            .iter()
            .rfind(|(breadcrumb, _)| breadcrumb.as_slice() == ["properties", field.as_str()])
            .and_then(|(_, values)| values.get("selected"));
        let from_schema =
            || schema.and_then(|schema| schema.get("properties")?.get(field)?.get("selected"));
        let Some(selected) = from_metadata.or_else(from_schema) else {
            continue;
        };
        let selected = flag(selected)
            .with_context(|| format!("stream {:?}: field {field:?}: \"selected\"", spec.name))?;
        if selected {
            continue;
        }
        if spec.automatic_fields().any(|automatic| automatic == field) {
            log::warn!(
                "stream {}: keeping field {field:?} although the catalog deselects it, \
                 because it is a key or replication key",
                spec.name
            );
            continue;
        }
        dropped.push(field.clone());
    }
    Ok(dropped)
}

fn flag(value: &Value) -> Result<bool> {
    value
        .as_bool()
        .with_context(|| format!("must be true or false, not {}", json_kind(value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selection(catalog: Value) -> Result<Selection> {
        Selection::from_catalog(catalog.as_object().expect("object"))
    }

    fn names(selection: &Selection) -> Vec<&str> {
        selection.iter().map(|stream| stream.spec.name).collect()
    }

    #[test]
    fn discovered_catalog_selects_everything() {
        let catalog = discover();
        let selection = selection(catalog).expect("valid");
        assert_eq!(
            names(&selection),
            ["checks", "pings", "flips", "integrations"]
        );
        assert!(
            selection
                .iter()
                .all(|stream| stream.dropped_fields.is_empty())
        );
    }

    #[test]
    fn discovered_metadata() {
        let catalog = discover();
        let pings = &catalog["streams"][1];
        assert_eq!(pings["tap_stream_id"], "pings");
        assert_eq!(pings["replication_method"], "INCREMENTAL");
        assert_eq!(pings["replication_key"], "n");
        let stream_level = &pings["metadata"][0];
        assert_eq!(stream_level["breadcrumb"], json!([]));
        assert_eq!(stream_level["metadata"]["selected-by-default"], true);
        assert_eq!(
            stream_level["metadata"]["table-key-properties"],
            json!(["check_unique_key", "n"])
        );
        assert_eq!(
            stream_level["metadata"]["valid-replication-keys"],
            json!(["n"])
        );
        let inclusion = |field: &str| {
            pings["metadata"]
                .as_array()
                .expect("list")
                .iter()
                .find(|m| m["breadcrumb"] == json!(["properties", field]))
                .map(|m| m["metadata"]["inclusion"].clone())
        };
        assert_eq!(inclusion("n"), Some(json!("automatic")));
        assert_eq!(inclusion("check_unique_key"), Some(json!("automatic")));
        assert_eq!(inclusion("ua"), Some(json!("available")));
    }

    #[test]
    fn stream_selection_rules() {
        let catalog = json!({"streams": [
            {"tap_stream_id": "checks", "metadata": [{"breadcrumb": [], "metadata": {"selected": false, "selected-by-default": true}}]},
            {"tap_stream_id": "pings", "metadata": [{"breadcrumb": [], "metadata": {"selected-by-default": true}}]},
            {"tap_stream_id": "flips", "metadata": [{"breadcrumb": [], "metadata": {"selected-by-default": false}}]},
            {"tap_stream_id": "integrations", "schema": {"selected": true}, "metadata": []},
        ]});
        assert_eq!(
            names(&selection(catalog).expect("valid")),
            ["pings", "integrations"]
        );
    }

    #[test]
    fn last_repeated_breadcrumb_wins() {
        let catalog = json!({"streams": [{"tap_stream_id": "checks", "metadata": [
            {"breadcrumb": [], "metadata": {"selected": true}},
            {"breadcrumb": [], "metadata": {"selected": false}},
        ]}]});
        assert!(selection(catalog).expect("valid").is_empty());
    }

    #[test]
    fn streams_missing_from_catalog_are_not_synced() {
        let catalog = json!({"streams": [{"tap_stream_id": "flips"}]});
        assert_eq!(names(&selection(catalog).expect("valid")), ["flips"]);
    }

    #[test]
    fn deselected_field_is_dropped_but_key_is_kept() {
        let catalog = json!({"streams": [{"tap_stream_id": "pings", "metadata": [
            {"breadcrumb": ["properties", "ua"], "metadata": {"selected": false}},
            {"breadcrumb": ["properties", "n"], "metadata": {"selected": false}},
        ]}]});
        let selection = selection(catalog).expect("valid");
        let pings = selection.get("pings").expect("selected");
        assert_eq!(pings.dropped_fields, ["ua"]);
        assert!(pings.schema["properties"].get("ua").is_none());
        assert!(pings.schema["properties"].get("n").is_some());
    }

    #[test]
    fn legacy_schema_field_selection() {
        let catalog = json!({"streams": [{"tap_stream_id": "integrations", "schema": {
            "selected": true, "properties": {"name": {"selected": false}}
        }}]});
        let selection = selection(catalog).expect("valid");
        assert_eq!(
            selection
                .get("integrations")
                .expect("selected")
                .dropped_fields,
            ["name"]
        );
    }

    #[test]
    fn catalog_errors() {
        let cases = [
            (json!({}), "no \"streams\" list"),
            (
                json!({"streams": {}}),
                "\"streams\" must be a list, not an object",
            ),
            (
                json!({"streams": [{"tap_stream_id": "users"}]}),
                "streams[0]: unknown stream \"users\"; the tap's streams are checks, pings, ping_bodies, flips, integrations",
            ),
            (
                json!({"streams": [{"tap_stream_id": "checks"}, {"tap_stream_id": "checks"}]}),
                "stream \"checks\" appears twice",
            ),
            (
                json!({"streams": [{"tap_stream_id": "checks", "metadata": [{"breadcrumb": []}]}]}),
                "metadata[0] needs a \"breadcrumb\" list and a \"metadata\" object",
            ),
            (
                json!({"streams": [{"tap_stream_id": "checks", "metadata": [{"breadcrumb": [], "metadata": {"selected": "yes"}}]}]}),
                "must be true or false, not a string",
            ),
            (
                json!({"streams": [3]}),
                "streams[0]: must be an object, not a number",
            ),
        ];
        for (catalog, expected) in cases {
            let message = format!("{:#}", selection(catalog.clone()).err().expect("invalid"));
            assert!(message.contains(expected), "{catalog}: {message}");
        }
    }

    #[test]
    fn project_drops_fields() {
        let stream =
            SelectedStream::new(&crate::streams::integrations::STREAM, vec!["name".into()]);
        let record = json!({"id": "a", "name": "b", "kind": "email"});
        let projected = stream.project(&record).expect("object");
        assert_eq!(
            Value::Object(projected),
            json!({"id": "a", "kind": "email"})
        );
    }
}
