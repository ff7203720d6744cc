//! Full syncs of the built binary against the stand-in server.

mod common;

use common::{Standin, assert_golden, normalize, tap, temp_dir, write_json};
use serde_json::{Value, json};

/// Project 0 of `small.json` as the dataset describes it.
fn small_checks(server: &Standin) -> Vec<Value> {
    server.dataset["projects"][0]["checks"]
        .as_array()
        .expect("checks")
        .clone()
}

#[test]
fn read_write_sync_matches_golden() {
    let server = Standin::start("small.json");
    let run = tap(&server.config(&server.rw_key(0)), &[]).success();
    assert_golden(
        "small_read_write.jsonl",
        &normalize(&run.stdout, &server.url),
    );
    assert!(run.warnings().is_empty(), "{}", run.stderr);
}

#[test]
fn read_only_sync_matches_golden() {
    let server = Standin::start("small.json");
    let run = tap(&server.config(&server.ro_key(0)), &[]).success();
    assert_golden(
        "small_read_only.jsonl",
        &normalize(&run.stdout, &server.url),
    );
}

#[test]
fn read_only_key_warns_once_about_skipped_streams() {
    let server = Standin::start("small.json");
    let run = tap(&server.config(&server.ro_key(0)), &[]).success();
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(
        warnings[0].ends_with(
            "the API key is read-only, so streams pings and integrations were skipped; \
             set api_key to the project's read-write key to sync them"
        ),
        "{}",
        warnings[0]
    );
    let streams: Vec<Value> = run.schemas().iter().map(|s| s["stream"].clone()).collect();
    assert_eq!(streams, [json!("checks"), json!("flips")]);
}

#[test]
fn read_only_flips_are_read_by_unique_key() {
    let server = Standin::start("small.json");
    let read_only = tap(&server.config(&server.ro_key(0)), &[]).success();
    let read_write = tap(&server.config(&server.rw_key(0)), &[]).success();
    let strip_uuid = |mut flip: Value| {
        assert!(flip["check_uuid"].is_string(), "{flip}");
        flip["check_uuid"] = Value::Null;
        flip
    };
    let expected: Vec<Value> = read_write
        .records("flips")
        .into_iter()
        .map(strip_uuid)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(read_only.records("flips"), expected);
    let paths = server.request_paths();
    for check in read_only.records("checks") {
        let unique_key = check["unique_key"].as_str().expect("unique_key");
        assert!(
            paths.contains(&format!("/api/v3/checks/{unique_key}/flips/")),
            "{paths:?}"
        );
    }
}

#[test]
fn same_check_has_same_key_with_either_key_type() {
    let server = Standin::start("small.json");
    let keys = |key: String| -> Vec<Value> {
        let run = tap(&server.config(&key), &[]).success();
        run.records("checks")
            .iter()
            .map(|c| c["unique_key"].clone())
            .collect()
    };
    let read_write = keys(server.rw_key(0));
    assert_eq!(read_write.len(), small_checks(&server).len());
    assert_eq!(read_write, keys(server.ro_key(0)));
}

#[test]
fn legacy_read_only_key_is_detected_from_the_response() {
    let server = Standin::start("small.json");
    let key = server.ro_key(1);
    assert!(!key.starts_with("hcr_"), "project 1 must have a legacy key");
    let run = tap(&server.config(&key), &[]).success();
    assert!(run.records("pings").is_empty());
    assert!(run.records("integrations").is_empty());
    assert!(!run.records("checks").is_empty());
    assert_eq!(run.warnings().len(), 1, "{}", run.stderr);
    let requests = server.requests();
    assert_eq!(requests["pings"], 0);
    assert_eq!(requests["channels"], 0);
}

#[test]
fn legacy_read_write_key_syncs_everything() {
    let server = Standin::start("small.json");
    let run = tap(&server.config(&server.rw_key(1)), &[]).success();
    let checks = run.records("checks");
    assert_eq!(checks.len(), 1);
    assert!(checks[0]["uuid"].is_string());
    assert!(run.warnings().is_empty(), "{}", run.stderr);
}

#[test]
fn pings_and_flips_are_oldest_first_per_check() {
    let server = Standin::start("lab.json");
    let run = tap(&server.config(&server.rw_key(0)), &[]).success();
    let pings = run.records("pings");
    for pair in pings.windows(2) {
        if pair[0]["check_unique_key"] == pair[1]["check_unique_key"] {
            assert!(pair[0]["n"].as_i64() < pair[1]["n"].as_i64(), "{pair:?}");
        }
    }
    let flips = run.records("flips");
    for pair in flips.windows(2) {
        if pair[0]["check_unique_key"] == pair[1]["check_unique_key"] {
            let order = |f: &Value| {
                (
                    f["timestamp"].as_str().map(str::to_string),
                    f["sequence"].as_i64(),
                )
            };
            assert!(order(&pair[0]) < order(&pair[1]), "{pair:?}");
        }
    }
}

#[test]
fn lab_record_counts_match_the_dataset() {
    let server = Standin::start("lab.json");
    let run = tap(&server.config(&server.rw_key(0)), &[]).success();
    let project = &server.dataset["projects"][0];
    let limit = project["ping_log_limit"].as_u64().unwrap_or(100).min(1000) as usize;
    let checks = project["checks"].as_array().expect("checks");
    let shown_pings: usize = checks
        .iter()
        .map(|c| c["pings"].as_array().map_or(0, |p| p.len().min(limit)))
        .sum();
    let flips: usize = checks
        .iter()
        .map(|c| c["flips"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(run.records("checks").len(), checks.len());
    assert_eq!(run.records("pings").len(), shown_pings);
    assert_eq!(run.records("flips").len(), flips);
    assert_eq!(
        run.records("integrations").len(),
        project["channels"].as_array().expect("channels").len()
    );
}

#[test]
fn flip_keys_are_unique_even_within_a_second() {
    let server = Standin::start("lab.json");
    let run = tap(&server.config(&server.rw_key(0)), &[]).success();
    let flips = run.records("flips");
    let mut keys: Vec<String> = flips
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["check_unique_key"], f["timestamp"], f["sequence"]
            )
        })
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), flips.len());
    assert!(
        flips.iter().any(|f| f["sequence"] == 1),
        "the lab data has two flips in one second"
    );
}

#[test]
fn text_survives_unicode_quotes_and_newlines() {
    let server = Standin::start("lab.json");
    let run = tap(&server.config(&server.rw_key(0)), &[]).success();
    let records = run.records("checks");
    for check in server.dataset["projects"][0]["checks"]
        .as_array()
        .expect("checks")
    {
        let record = records
            .iter()
            .find(|r| r["uuid"] == check["uuid"])
            .expect("check synced");
        assert_eq!(record["name"], check["name"]);
        assert_eq!(record["desc"], check["desc"]);
        assert_eq!(record["tags"], check["tags"]);
    }
    let names: Vec<&str> = records.iter().filter_map(|r| r["name"].as_str()).collect();
    assert!(
        names.contains(&"Légacy import — \"quoted\" 'job' ñ"),
        "{names:?}"
    );
    assert!(records.iter().any(|r| {
        r["desc"]
            .as_str()
            .is_some_and(|d| d.contains('\n') && d.contains('🚀'))
    }));
}

#[test]
fn derived_kind_follows_the_schedule() {
    let server = Standin::start("lab.json");
    let run = tap(&server.config(&server.rw_key(0)), &[]).success();
    let kind_of = |name: &str| {
        let records = run.records("checks");
        let record = records
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no check {name}"));
        record["kind"].clone()
    };
    assert_eq!(kind_of("Nightly DB backup"), "cron");
    assert_eq!(kind_of("Certificate renewal"), "oncalendar");
    assert_eq!(kind_of("Disk cleanup"), "simple");
}

#[test]
fn empty_project_emits_schemas_and_state() {
    let server = Standin::start("empty.json");
    let run = tap(&server.config(&server.rw_key(0)), &[]).success();
    let types: Vec<Value> = run.messages().iter().map(|m| m["type"].clone()).collect();
    assert_eq!(
        types,
        ["SCHEMA", "SCHEMA", "SCHEMA", "SCHEMA", "STATE"].map(|t| json!(t))
    );
    assert_eq!(run.last_state(), json!({"bookmarks": {}}));
}

#[test]
fn check_without_pings_has_no_bookmark() {
    let server = Standin::start("small.json");
    let run = tap(&server.config(&server.rw_key(0)), &[]).success();
    let never_pinged: Vec<Value> = run
        .records("checks")
        .into_iter()
        .filter(|c| c["n_pings"] == 0)
        .map(|c| c["unique_key"].clone())
        .collect();
    assert_eq!(
        never_pinged.len(),
        1,
        "small.json has one never-pinged check"
    );
    assert!(
        !run.records("pings")
            .iter()
            .any(|p| p["check_unique_key"] == never_pinged[0])
    );
    let partitions = run.last_state()["bookmarks"]["pings"]["partitions"].clone();
    let contexts: Vec<Value> = partitions
        .as_array()
        .expect("list")
        .iter()
        .map(|p| p["context"]["check_unique_key"].clone())
        .collect();
    assert!(!contexts.contains(&never_pinged[0]));
    assert_eq!(contexts.len(), small_checks(&server).len() - 1);
}

#[test]
fn start_date_bounds_pings_and_flips() {
    let server = Standin::start("lab.json");
    let all = tap(&server.config(&server.rw_key(0)), &[]).success();
    let start = "2026-12-03T00:00:00Z";
    let mut config = server.config(&server.rw_key(0));
    config["start_date"] = json!(start);
    let bounded = tap(&config, &[]).success();
    let after = |records: Vec<Value>, field: &str| -> Vec<Value> {
        records
            .into_iter()
            .filter(|r| r[field].as_str().expect("time") >= start)
            .collect()
    };
    assert_eq!(
        bounded.records("pings"),
        after(all.records("pings"), "date")
    );
    assert_eq!(
        bounded.records("flips"),
        after(all.records("flips"), "timestamp")
    );
    assert!(bounded.records("pings").len() < all.records("pings").len());
    assert!(!bounded.records("pings").is_empty());
    assert_eq!(bounded.records("checks"), all.records("checks"));
}

#[test]
fn discovered_catalog_fed_back_syncs_everything() {
    let server = Standin::start("small.json");
    let config = server.config(&server.rw_key(0));
    let discovered = tap(&config, &["--discover"]).success();
    let dir = temp_dir("catalog");
    let catalog: Value = serde_json::from_str(&discovered.stdout).expect("catalog JSON");
    let path = write_json(&dir, "catalog.json", &catalog);
    let with_catalog = tap(&config, &["--catalog", path.to_str().expect("path")]).success();
    let without = tap(&config, &[]).success();
    assert_eq!(
        normalize(&with_catalog.stdout, &server.url),
        normalize(&without.stdout, &server.url)
    );
    let legacy = tap(&config, &["--properties", path.to_str().expect("path")]).success();
    assert_eq!(
        normalize(&legacy.stdout, &server.url),
        normalize(&without.stdout, &server.url)
    );
}

#[test]
fn catalog_selects_streams() {
    let server = Standin::start("small.json");
    let catalog = write_json(
        &temp_dir("select"),
        "catalog.json",
        &server.catalog_selecting(&["flips"]),
    );
    let run = tap(
        &server.config(&server.rw_key(0)),
        &["--catalog", catalog.to_str().expect("path")],
    )
    .success();
    let streams: Vec<Value> = run
        .messages()
        .iter()
        .filter(|m| m["type"] != "STATE")
        .map(|m| m["stream"].clone())
        .collect();
    assert!(streams.iter().all(|s| s == "flips"), "{streams:?}");
    assert!(!run.records("flips").is_empty());
    let requests = server.requests();
    assert_eq!(requests["checks"], 1);
    assert_eq!(requests["pings"], 0);
    assert_eq!(requests["channels"], 0);
}

#[test]
fn catalog_drops_deselected_fields_but_keeps_keys() {
    let server = Standin::start("small.json");
    let mut catalog = server.catalog_selecting(&["pings"]);
    let pings = catalog["streams"]
        .as_array_mut()
        .expect("streams")
        .iter_mut()
        .find(|e| e["stream"] == "pings")
        .expect("pings entry");
    for item in pings["metadata"].as_array_mut().expect("metadata") {
        if item["breadcrumb"] == json!(["properties", "ua"])
            || item["breadcrumb"] == json!(["properties", "n"])
        {
            item["metadata"]["selected"] = json!(false);
        }
    }
    let path = write_json(&temp_dir("fields"), "catalog.json", &catalog);
    let run = tap(
        &server.config(&server.rw_key(0)),
        &["--catalog", path.to_str().expect("path")],
    )
    .success();
    let schema = &run.schemas()[0];
    assert_eq!(schema["stream"], "pings");
    assert!(schema["schema"]["properties"].get("ua").is_none());
    assert!(schema["schema"]["properties"].get("n").is_some());
    let records = run.records("pings");
    assert!(!records.is_empty());
    for record in &records {
        assert!(record.get("ua").is_none(), "{record}");
        assert!(record["n"].is_i64(), "{record}");
        assert!(record.get("remote_addr").is_some(), "{record}");
    }
}

#[test]
fn base_url_with_path_prefix() {
    let server = Standin::start_with("small.json", &["--prefix", "/hc"]);
    assert!(server.url.ends_with("/hc"), "{}", server.url);
    let mut config = server.config(&server.rw_key(0));
    config["base_url"] = json!(format!("{}/", server.url));
    let run = tap(&config, &[]).success();
    assert_eq!(run.records("checks").len(), small_checks(&server).len());
    assert!(!run.records("pings").is_empty());
}

#[test]
fn stdout_carries_only_singer_messages() {
    let server = Standin::start("small.json");
    let run = tap(&server.config(&server.rw_key(0)), &[]).success();
    for message in run.messages() {
        let kind = message["type"].as_str().expect("type");
        assert!(["SCHEMA", "RECORD", "STATE"].contains(&kind), "{message}");
    }
    assert!(run.stderr.contains(" INFO "), "{}", run.stderr);
}

#[test]
fn one_schema_per_stream() {
    let server = Standin::start("lab.json");
    let run = tap(&server.config(&server.rw_key(0)), &[]).success();
    let mut seen = Vec::new();
    for message in run.messages() {
        let stream = message["stream"].clone();
        if message["type"] == "SCHEMA" {
            assert!(!seen.contains(&stream), "second SCHEMA for {stream}");
            seen.push(stream);
        } else if message["type"] == "RECORD" {
            assert!(seen.contains(&stream), "RECORD before SCHEMA for {stream}");
        }
    }
    assert_eq!(seen.len(), 4);
}
