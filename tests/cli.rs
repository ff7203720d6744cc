//! Command-line behaviour that needs no server: discovery, help, version.

mod common;

use common::{tap, tap_raw, temp_dir, write_json};
use serde_json::{Value, json};

#[test]
fn discover_needs_no_network() {
    // Port 9 on loopback is closed; discovery must not try it.
    let config =
        json!({"api_key": "hcw_abcdefghijklmnopqrstuvwxyz12", "base_url": "http://127.0.0.1:9"});
    let run = tap(&config, &["--discover"]).success();
    let catalog: Value = serde_json::from_str(&run.stdout).expect("catalog JSON");
    let names: Vec<&str> = catalog["streams"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|s| s["stream"].as_str())
        .collect();
    assert_eq!(
        names,
        ["checks", "pings", "ping_bodies", "flips", "integrations"]
    );
}

#[test]
fn discover_works_without_config() {
    let run = tap_raw(&["--discover".into()]).success();
    let catalog: Value = serde_json::from_str(&run.stdout).expect("catalog JSON");
    assert_eq!(catalog["streams"].as_array().expect("list").len(), 5);
}

#[test]
fn discover_checks_the_config_it_is_given() {
    let dir = temp_dir("discover");
    let config = write_json(&dir, "config.json", &json!({"base_url": "x"}));
    let run = tap_raw(&[
        "--discover".into(),
        "--config".into(),
        config.display().to_string(),
    ]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
}

#[test]
fn catalog_entries_carry_keys_and_replication() {
    let run = tap_raw(&["--discover".into()]).success();
    let catalog: Value = serde_json::from_str(&run.stdout).expect("catalog JSON");
    let expected = [
        ("checks", json!(["unique_key"]), "FULL_TABLE", None, true),
        (
            "pings",
            json!(["check_unique_key", "n"]),
            "INCREMENTAL",
            Some("n"),
            true,
        ),
        (
            "ping_bodies",
            json!(["check_unique_key", "n"]),
            "INCREMENTAL",
            Some("n"),
            false,
        ),
        (
            "flips",
            json!(["check_unique_key", "timestamp", "sequence"]),
            "INCREMENTAL",
            Some("timestamp"),
            true,
        ),
        ("integrations", json!(["id"]), "FULL_TABLE", None, true),
    ];
    for (entry, (name, keys, method, replication_key, by_default)) in catalog["streams"]
        .as_array()
        .expect("list")
        .iter()
        .zip(expected)
    {
        assert_eq!(entry["tap_stream_id"], name);
        assert_eq!(entry["key_properties"], keys, "{name}");
        assert_eq!(entry["replication_method"], method, "{name}");
        assert_eq!(entry["replication_key"].as_str(), replication_key, "{name}");
        let stream_level = &entry["metadata"][0]["metadata"];
        assert_eq!(stream_level["inclusion"], "available", "{name}");
        assert_eq!(stream_level["selected-by-default"], by_default, "{name}");
        assert_eq!(stream_level["table-key-properties"], keys, "{name}");
        assert_eq!(stream_level["forced-replication-method"], method, "{name}");
        assert_eq!(
            stream_level["valid-replication-keys"],
            json!(replication_key.into_iter().collect::<Vec<_>>()),
            "{name}"
        );
    }
}

#[test]
fn discover_ignores_state() {
    let dir = temp_dir("discover-state");
    let state = write_json(&dir, "state.json", &json!({"bookmarks": {}}));
    let args = [
        "--discover".to_string(),
        "--state".to_string(),
        state.display().to_string(),
    ];
    let run = tap_raw(&args).success();
    let catalog: Value = serde_json::from_str(&run.stdout).expect("catalog JSON");
    assert_eq!(catalog["streams"].as_array().expect("list").len(), 5);
}

#[test]
fn usage_error_is_one_line() {
    let run = tap_raw(&["--bogus".into()]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: unexpected argument '--bogus' found; see --help\n"
    );
}

#[test]
fn version_flag() {
    let run = tap_raw(&["--version".into()]).success();
    assert_eq!(
        run.stdout.trim(),
        format!("tap-healthchecks {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_lists_singer_flags() {
    let run = tap_raw(&["--help".into()]).success();
    for flag in [
        "--config",
        "--state",
        "--catalog",
        "--properties",
        "--discover",
    ] {
        assert!(run.stdout.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn demo_runs_a_full_sync() {
    // The README's first command: hc-standin starts itself and runs the tap
    // that sits next to it against the lab project.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hc-standin"))
        .arg("demo")
        .output()
        .expect("run hc-standin demo");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let records = stdout
        .lines()
        .filter(|line| line.starts_with(r#"{"type":"RECORD""#))
        .count();
    assert_eq!(records, 16 + 280 + 36 + 4);
    assert!(
        stdout
            .lines()
            .last()
            .is_some_and(|line| line.starts_with(r#"{"type":"STATE""#))
    );
}

#[test]
fn discover_ignores_catalog_as_meltano_passes_it() {
    let dir = temp_dir("discover-catalog");
    let catalog = write_json(&dir, "catalog.json", &json!({"streams": []}));
    let args = [
        "--discover".to_string(),
        "--catalog".to_string(),
        catalog.display().to_string(),
    ];
    let run = tap_raw(&args).success();
    let discovered: Value = serde_json::from_str(&run.stdout).expect("catalog JSON");
    assert_eq!(discovered["streams"].as_array().expect("list").len(), 5);
}
