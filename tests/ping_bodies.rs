//! The `ping_bodies` stream: off by default, one record per stored body of
//! the pings a run writes, UTF-8 as text and other bytes as base64.

mod common;

use common::{Run, Standin, tap, temp_dir, write_json};
use serde_json::{Value, json};

/// Writes the discovered catalog, with `selected` set on the named streams
/// only, and returns its path.
fn catalog_selecting(server: &Standin, streams: &[&str]) -> String {
    let catalog = server.catalog_selecting(streams);
    let path = write_json(&temp_dir("bodies"), "catalog.json", &catalog);
    path.display().to_string()
}

fn sync_bodies(server: &Standin, state: Option<&Value>) -> Run {
    let catalog = catalog_selecting(server, &["pings", "ping_bodies"]);
    let mut args = vec!["--catalog".to_string(), catalog];
    if let Some(state) = state {
        args.push("--state".into());
        args.push(
            write_json(&temp_dir("bodies-state"), "state.json", state)
                .display()
                .to_string(),
        );
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    tap(&server.config(&server.rw_key(0)), &args)
}

/// Returns the stored bodies of the pings the pings endpoint lists, by check uuid
/// and `n`, skipping those the server no longer serves.
fn expected_bodies(server: &Standin) -> Vec<(String, i64, Value)> {
    let project = &server.dataset["projects"][0];
    let limit = project["ping_log_limit"].as_i64().unwrap_or(100);
    let mut bodies = Vec::new();
    for check in project["checks"].as_array().expect("checks") {
        let n_pings = check["n_pings"].as_i64().expect("n_pings");
        for ping in check["pings"].as_array().into_iter().flatten() {
            let n = ping["n"].as_i64().expect("n");
            let body = &ping["body"];
            let stored =
                body.as_str().is_some_and(|text| !text.is_empty()) || body.get("base64").is_some();
            if stored && n > n_pings - limit {
                bodies.push((
                    check["uuid"].as_str().expect("uuid").to_string(),
                    n,
                    body.clone(),
                ));
            }
        }
    }
    bodies
}

fn body_requests(server: &Standin) -> u64 {
    server.requests()["body"].as_u64().expect("count")
}

#[test]
fn bodies_are_not_synced_by_default() {
    let server = Standin::start("lab.json");
    let run = tap(&server.config(&server.rw_key(0)), &[]).success();
    assert!(!run.stdout.contains("\"stream\":\"ping_bodies\""));
    assert_eq!(body_requests(&server), 0);
}

#[test]
fn selected_bodies_match_the_stored_bytes() {
    let server = Standin::start("lab.json");
    let run = sync_bodies(&server, None).success();
    let records = run.records("ping_bodies");
    let expected = expected_bodies(&server);
    assert_eq!(records.len(), expected.len());
    assert_eq!(body_requests(&server), expected.len() as u64);
    for (uuid, n, body) in &expected {
        let record = records
            .iter()
            .find(|r| r["check_uuid"] == uuid.as_str() && r["n"] == *n)
            .unwrap_or_else(|| panic!("body of {uuid} #{n}"));
        match body {
            Value::String(text) => {
                assert_eq!(record["encoding"], "utf-8");
                assert_eq!(record["body"], text.as_str());
                assert_eq!(record["size"], text.len());
            }
            other => {
                assert_eq!(record["encoding"], "base64");
                assert_eq!(record["body"], other["base64"]);
            }
        }
    }
    assert!(
        records.iter().any(|r| r["encoding"] == "base64"),
        "the lab data has a non-UTF-8 body"
    );
}

#[test]
fn bodies_follow_their_pings() {
    let server = Standin::start("small.json");
    let run = sync_bodies(&server, None).success();
    let messages = run.messages();
    let body = messages
        .iter()
        .position(|m| m["stream"] == "ping_bodies" && m["type"] == "RECORD")
        .expect("a body");
    let ping = messages
        .iter()
        .position(|m| {
            m["stream"] == "pings"
                && m["type"] == "RECORD"
                && m["record"]["n"] == messages[body]["record"]["n"]
        })
        .expect("its ping");
    assert!(ping < body, "a body comes after its ping");
    let paths = server.request_paths();
    assert!(
        paths
            .iter()
            .any(|path| path == "/api/v3/checks/7d3c1b2a-0f4e-4d5c-9b6a-8e7f6d5c4b3a/pings/3/body"),
        "{paths:?}"
    );
}

#[test]
fn second_run_fetches_no_bodies() {
    let server = Standin::start("lab.json");
    let first = sync_bodies(&server, None).success();
    server.admin("POST", "reset", None);
    let second = sync_bodies(&server, Some(&first.last_state())).success();
    assert!(second.records("ping_bodies").is_empty());
    assert_eq!(body_requests(&server), 0);
    let etl = "2af601b3-3c51-42b1-b120-42fec2a4f3aa";
    let pings =
        json!([{"type": "log", "date": "2026-12-04T21:00:00+00:00", "body": "new output ✓"}]);
    server.admin("POST", "pings", Some(json!({"check": etl, "pings": pings})));
    let third = sync_bodies(&server, Some(&second.last_state())).success();
    let bodies = third.records("ping_bodies");
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["body"], "new output ✓");
    assert_eq!(bodies[0]["check_uuid"], etl);
}

#[test]
fn missing_body_is_skipped() {
    let server = Standin::start("small.json");
    let path = "7d3c1b2a-0f4e-4d5c-9b6a-8e7f6d5c4b3a/pings/3/body";
    server.admin("POST", "faults", Some(json!({"faults": [{"match": path, "action": {"status": 404, "body": "<html></html>"}}]})));
    let run = sync_bodies(&server, None).success();
    assert!(run.records("ping_bodies").is_empty());
    assert_eq!(run.records("pings").len(), 5, "the pings are still written");
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(
        warnings[0].ends_with("the body of ping #3 is no longer stored, skipping it"),
        "{}",
        warnings[0]
    );
}

#[test]
fn unreadable_body_does_not_block_pings() {
    let server = Standin::start("small.json");
    let path = "7d3c1b2a-0f4e-4d5c-9b6a-8e7f6d5c4b3a/pings/3/body";
    server.admin(
        "POST",
        "faults",
        Some(json!({"faults": [{"match": path, "times": 10, "action": {"status": 410}}]})),
    );
    let run = sync_bodies(&server, None).success();
    assert!(run.records("ping_bodies").is_empty());
    assert_eq!(run.records("pings").len(), 5);
    assert!(
        run.stderr
            .contains("failed with HTTP 410; skipping the body of ping #3"),
        "{}",
        run.stderr
    );
}

#[test]
fn empty_body_is_an_empty_record() {
    let server = Standin::start("small.json");
    let path = "7d3c1b2a-0f4e-4d5c-9b6a-8e7f6d5c4b3a/pings/3/body";
    server.admin(
        "POST",
        "faults",
        Some(json!({"faults": [{"match": path, "action": {"status": 200, "body": ""}}]})),
    );
    let run = sync_bodies(&server, None).success();
    let bodies = run.records("ping_bodies");
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["body"], "");
    assert_eq!(bodies[0]["encoding"], "utf-8");
    assert_eq!(bodies[0]["size"], 0);
}

#[test]
fn failed_body_keeps_the_pings_bookmark() {
    let server = Standin::start("small.json");
    let path = "7d3c1b2a-0f4e-4d5c-9b6a-8e7f6d5c4b3a/pings/3/body";
    server.admin(
        "POST",
        "faults",
        Some(json!({"faults": [{"match": path, "times": 5, "action": {"status": 500}}]})),
    );
    let catalog = catalog_selecting(&server, &["pings", "ping_bodies"]);
    let mut config = server.config(&server.rw_key(0));
    config["max_retries"] = json!(1);
    let run = tap(&config, &["--catalog", &catalog]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.errors()[0].contains("ping bodies of check \"Nightly backup\""),
        "{}",
        run.stderr
    );
    let pings = run.records("pings");
    assert!(
        !pings
            .iter()
            .any(|p| p["check_uuid"] == "7d3c1b2a-0f4e-4d5c-9b6a-8e7f6d5c4b3a")
    );
    assert_eq!(pings.len(), 2, "the other check's pings are written");
    let state = run.last_state().to_string();
    assert!(
        !state.contains("52eb9040fd74ee5d39646b4044b2e45cb20d0278\"},\"replication_key\":\"n\""),
        "{state}"
    );
}

#[test]
fn bodies_without_pings_are_skipped_with_a_warning() {
    let server = Standin::start("small.json");
    let catalog = catalog_selecting(&server, &["ping_bodies", "checks"]);
    let run = tap(&server.config(&server.rw_key(0)), &["--catalog", &catalog]).success();
    assert!(run.records("ping_bodies").is_empty());
    assert!(
        run.stderr
            .contains("stream ping_bodies is skipped because stream pings is not selected"),
        "{}",
        run.stderr
    );
    assert_eq!(body_requests(&server), 0);
}

#[test]
fn read_only_key_names_ping_bodies() {
    let server = Standin::start("small.json");
    let catalog = catalog_selecting(&server, &["pings", "ping_bodies", "flips"]);
    let run = tap(&server.config(&server.ro_key(0)), &["--catalog", &catalog]).success();
    assert!(
        run.stderr
            .contains("the API key is read-only, so streams pings and ping_bodies were skipped"),
        "{}",
        run.stderr
    );
}
