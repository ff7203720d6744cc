//! The committed files under `schemas/` must match the schemas the binary
//! generates from its record structs. Run with `UPDATE_SCHEMAS=1` to rewrite
//! them after changing a struct.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn discovered_streams() -> Vec<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_tap-healthchecks"))
        .arg("--discover")
        .output()
        .expect("run tap-healthchecks --discover");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let catalog: Value = serde_json::from_slice(&output.stdout).expect("catalog is JSON");
    catalog["streams"].as_array().expect("streams list").clone()
}

#[test]
fn committed_schemas_match_structs() {
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let mut stale = Vec::new();
    for stream in discovered_streams() {
        let name = stream["stream"].as_str().expect("stream name");
        let path = directory.join(format!("{name}.json"));
        let generated = serde_json::to_string_pretty(&stream["schema"]).expect("serialize") + "\n";
        if update {
            std::fs::write(&path, &generated).expect("write schema file");
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "schema files differ from the record structs: {}; run `UPDATE_SCHEMAS=1 cargo test --test schemas` \
         and commit the result",
        stale.join(", ")
    );
}

#[test]
fn schemas_use_the_portable_dialect() {
    for stream in discovered_streams() {
        let text = stream["schema"].to_string();
        for keyword in [
            "$ref",
            "$defs",
            "definitions",
            "anyOf",
            "oneOf",
            "allOf",
            "$schema",
        ] {
            assert!(
                !text.contains(keyword),
                "{}: contains {keyword}",
                stream["stream"]
            );
        }
        for (field, property) in stream["schema"]["properties"]
            .as_object()
            .expect("properties")
        {
            let types = match &property["type"] {
                Value::String(single) => vec![single.as_str()],
                Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
                other => panic!("{field}: type {other}"),
            };
            let non_null: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
            assert_eq!(
                non_null.len(),
                1,
                "{field}: one type besides null, got {types:?}"
            );
            if let Some(format) = property.get("format") {
                assert_eq!(format, "date-time", "{field}");
                assert_eq!(non_null, ["string"], "{field}");
            }
        }
    }
}

#[test]
fn keys_are_required_and_not_nullable() {
    for stream in discovered_streams() {
        let required = stream["schema"]["required"]
            .as_array()
            .expect("required list");
        for key in stream["key_properties"].as_array().expect("key list") {
            assert!(
                required.contains(key),
                "{}: {key} not required",
                stream["stream"]
            );
            let property = &stream["schema"]["properties"][key.as_str().expect("key name")];
            assert!(
                property["type"].is_string(),
                "{}: {key} is nullable",
                stream["stream"]
            );
        }
    }
}

#[test]
fn datetime_fields_carry_the_format() {
    let streams = discovered_streams();
    let field = |stream: &str, field: &str| {
        let entry = streams
            .iter()
            .find(|s| s["stream"] == stream)
            .expect("stream");
        entry["schema"]["properties"][field].clone()
    };
    assert_eq!(field("pings", "date")["format"], "date-time");
    assert_eq!(field("flips", "timestamp")["format"], "date-time");
    assert_eq!(field("checks", "last_ping")["format"], "date-time");
    assert_eq!(
        field("checks", "last_ping")["type"],
        serde_json::json!(["string", "null"])
    );
    assert_eq!(field("pings", "n")["type"], "integer");
}
