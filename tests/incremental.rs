//! Incremental syncs: bookmarks, skipped requests, resumption and state
//! files, against the stand-in server with data added between runs.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{Run, Standin, tap, temp_dir, write_json};
use serde_json::{Value, json};

/// Runs the tap with `config` and, if given, a state file holding `state`.
fn sync(config: &Value, state: Option<&Value>) -> Run {
    match state {
        Some(state) => {
            let path = write_json(&temp_dir("state"), "state.json", state);
            tap(config, &["--state", path.to_str().expect("path")])
        }
        None => tap(config, &[]),
    }
    .success()
}

fn reset_requests(server: &Standin) {
    server.admin("POST", "reset", None);
}

/// Adds `count` success pings dated `date` to the check with `uuid`.
fn add_pings(server: &Standin, uuid: &str, count: usize, date: &str) {
    let pings: Vec<Value> = (0..count)
        .map(|_| json!({"type": "success", "date": date, "remote_addr": "192.0.2.77", "method": "GET", "ua": "test"}))
        .collect();
    server.admin(
        "POST",
        "pings",
        Some(json!({"check": uuid, "pings": pings})),
    );
}

fn never_pinged_checks(server: &Standin) -> usize {
    let checks = server.dataset["projects"][0]["checks"]
        .as_array()
        .expect("checks");
    checks.iter().filter(|c| c["last_ping"].is_null()).count()
}

#[test]
fn unchanged_project_costs_two_requests_plus_never_pinged() {
    let server = Standin::start("lab.json");
    let config = server.config(&server.rw_key(0));
    let first = sync(&config, None);
    reset_requests(&server);
    let second = sync(&config, Some(&first.last_state()));
    assert!(second.records("pings").is_empty());
    assert!(second.records("flips").is_empty());
    let counts = server.requests();
    assert_eq!(counts["checks"], 1);
    assert_eq!(counts["channels"], 1);
    assert_eq!(counts["pings"], 0);
    assert_eq!(counts["flips"], never_pinged_checks(&server));
    assert!(
        never_pinged_checks(&server) >= 1,
        "the lab data has a never-pinged check"
    );
    assert_eq!(second.last_state(), first.last_state());
}

#[test]
fn unchanged_third_run_stays_quiet() {
    let server = Standin::start("lab.json");
    let config = server.config(&server.rw_key(0));
    let first = sync(&config, None);
    let second = sync(&config, Some(&first.last_state()));
    reset_requests(&server);
    let third = sync(&config, Some(&second.last_state()));
    assert!(third.records("pings").is_empty());
    assert_eq!(server.requests()["pings"], 0);
    let states = third
        .messages()
        .iter()
        .filter(|m| m["type"] == "STATE")
        .count();
    assert_eq!(states, 1, "only the final STATE when no bookmark moved");
}

#[test]
fn new_pings_and_flips_appear_exactly_once() {
    let server = Standin::start("lab.json");
    let config = server.config(&server.rw_key(0));
    let first = sync(&config, None);
    let etl = server.check_named("ETL pipeline");
    let uuid = etl["uuid"].as_str().expect("uuid");
    add_pings(&server, uuid, 2, "2026-12-04T18:00:00+00:00");
    server.admin(
        "POST",
        "flips",
        Some(
            json!({"check": uuid, "flips": [{"timestamp": "2026-12-04T18:00:00+00:00", "up": 0}]}),
        ),
    );
    reset_requests(&server);

    let second = sync(&config, Some(&first.last_state()));
    let numbers: Vec<i64> = second
        .records("pings")
        .iter()
        .map(|p| p["n"].as_i64().expect("n"))
        .collect();
    let n_pings = etl["n_pings"].as_i64().expect("n_pings");
    assert_eq!(numbers, [n_pings + 1, n_pings + 2]);
    let flips = second.records("flips");
    let new_flip = flips.last().expect("the new flip");
    assert_eq!(new_flip["timestamp"], "2026-12-04T18:00:00Z");
    assert_eq!(new_flip["check_uuid"], uuid);
    // Besides the new flip, only flips within the look-back hour before the
    // old bookmark are read again.
    let old_bookmark = first
        .records("flips")
        .iter()
        .filter(|f| f["check_uuid"] == uuid)
        .filter_map(|f| f["timestamp"].as_str().map(str::to_string))
        .max()
        .expect("old flips");
    let window_start = chrono::DateTime::parse_from_rfc3339(&old_bookmark).expect("timestamp")
        - chrono::Duration::hours(1);
    for flip in &flips[..flips.len() - 1] {
        let timestamp =
            chrono::DateTime::parse_from_rfc3339(flip["timestamp"].as_str().expect("timestamp"))
                .expect("time");
        assert!(
            timestamp >= window_start,
            "{flip} is older than the look-back window"
        );
    }
    let counts = server.requests();
    assert_eq!(counts["pings"], 1);
    assert_eq!(counts["flips"], never_pinged_checks(&server) + 1);

    let third = sync(&config, Some(&second.last_state()));
    assert!(third.records("pings").is_empty());
    assert!(third.records("flips").is_empty());
}

#[test]
fn killed_run_resumes_without_loss() {
    let server = Standin::start_with("lab.json", &["--latency-ms", "20"]);
    let config = server.config(&server.rw_key(0));
    let complete = sync(&config, None);

    let dir = temp_dir("killed");
    let config_path = write_json(&dir, "config.json", &config);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tap-healthchecks"))
        .arg("--config")
        .arg(&config_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the tap");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut partial = Vec::new();
    let mut states = 0;
    for line in stdout.lines() {
        let message: Value = serde_json::from_str(&line.expect("line")).expect("JSON");
        states += usize::from(message["type"] == "STATE");
        partial.push(message);
        if states == 4 {
            break;
        }
    }
    child.kill().expect("kill the tap");
    let _ = child.wait();
    let last_state = partial
        .iter()
        .rev()
        .find(|m| m["type"] == "STATE")
        .expect("a STATE")["value"]
        .clone();
    let resumed = sync(&config, Some(&last_state));

    for stream in ["pings", "flips"] {
        let mut seen: Vec<Value> = partial
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
            .map(|m| m["record"].clone())
            .chain(resumed.records(stream))
            .collect();
        for record in complete.records(stream) {
            assert!(seen.contains(&record), "{stream} record lost: {record}");
        }
        seen.sort_by_key(Value::to_string);
        seen.dedup();
        assert_eq!(
            seen.len(),
            complete.records(stream).len(),
            "{stream}: no extra records"
        );
    }
    let resumed_pings = resumed.records("pings").len();
    assert!(
        resumed_pings < complete.records("pings").len(),
        "the resumed run skipped finished checks"
    );
}

#[test]
fn pruned_pings_are_reported_with_count() {
    let server = Standin::start("small.json");
    let config = server.config(&server.rw_key(0));
    let first = sync(&config, None);
    let project = &server.dataset["projects"][0];
    let limit = project["ping_log_limit"].as_u64().unwrap_or(100) as usize;
    let check = project["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["n_pings"].as_i64() > Some(0))
        .expect("a pinged check")
        .clone();
    let uuid = check["uuid"].as_str().expect("uuid");
    let old_n = check["n_pings"].as_i64().expect("n_pings");
    add_pings(&server, uuid, limit + 30, "2026-12-04T18:00:00+00:00");

    let second = sync(&config, Some(&first.last_state()));
    let warnings = second.warnings();
    assert_eq!(warnings.len(), 1, "{}", second.stderr);
    let expected = format!(
        "30 pings after #{old_n} were pruned by the server before this sync could read them"
    );
    assert!(warnings[0].contains(&expected), "{}", warnings[0]);
    assert!(warnings[0].contains("sync more often, or raise the project's ping log limit"));
    let written = second
        .records("pings")
        .into_iter()
        .filter(|p| p["check_uuid"] == uuid)
        .count();
    assert_eq!(written, limit);
}

#[test]
fn start_date_applies_only_without_bookmark() {
    let server = Standin::start("small.json");
    let mut config = server.config(&server.rw_key(0));
    let first = sync(&config, None);
    let pinged = server.dataset["projects"][0]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["n_pings"].as_i64() > Some(0))
        .expect("pinged")
        .clone();
    let uuid = pinged["uuid"].as_str().expect("uuid");
    // An old-dated ping on a check that has a bookmark is still new.
    add_pings(&server, uuid, 1, "2020-01-01T00:00:00+00:00");
    config["start_date"] = json!("2026-01-01T00:00:00Z");
    let with_state = sync(&config, Some(&first.last_state()));
    let pings = with_state.records("pings");
    assert_eq!(pings.len(), 1);
    assert_eq!(pings[0]["date"], "2020-01-01T00:00:00Z");
    // Without state, the same ping is before start_date and is passed over.
    let without_state = sync(&config, None);
    assert!(
        !without_state
            .records("pings")
            .iter()
            .any(|p| p["date"] == "2020-01-01T00:00:00Z")
    );
    let bookmark = without_state.last_state()["bookmarks"]["pings"]["partitions"]
        .as_array()
        .expect("partitions")
        .iter()
        .find(|p| p["context"]["check_unique_key"] == pings[0]["check_unique_key"])
        .map(|p| p["replication_key_value"].clone());
    // The passed-over ping stays outside the bookmark, so removing start_date
    // later brings it in.
    assert_eq!(
        bookmark,
        Some(json!(pinged["n_pings"].as_i64().expect("n")))
    );
}

#[test]
fn deleted_check_drops_out_of_state() {
    let server = Standin::start("small.json");
    let config = server.config(&server.rw_key(0));
    let first = sync(&config, None);
    let pinged = server.dataset["projects"][0]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["n_pings"].as_i64() > Some(0))
        .expect("pinged")
        .clone();
    let uuid = pinged["uuid"].as_str().expect("uuid");
    let unique_key = first
        .records("checks")
        .iter()
        .find(|c| c["uuid"] == uuid)
        .expect("check")["unique_key"]
        .clone();
    server.admin("DELETE", &format!("checks/{uuid}"), None);
    let second = sync(&config, Some(&first.last_state()));
    let state = second.last_state().to_string();
    assert!(
        first
            .last_state()
            .to_string()
            .contains(unique_key.as_str().expect("key"))
    );
    assert!(
        !state.contains(unique_key.as_str().expect("key")),
        "{state}"
    );
}

#[test]
fn skipping_unchanged_flips_can_be_turned_off() {
    let server = Standin::start("lab.json");
    let mut config = server.config(&server.rw_key(0));
    let first = sync(&config, None);
    config["flips_skip_unchanged"] = json!(false);
    reset_requests(&server);
    sync(&config, Some(&first.last_state()));
    let checks = server.dataset["projects"][0]["checks"]
        .as_array()
        .expect("checks")
        .len();
    assert_eq!(server.requests()["flips"], checks);
}

#[test]
fn state_follows_each_changed_check() {
    let server = Standin::start("small.json");
    let run = sync(&server.config(&server.rw_key(0)), None);
    let messages = run.messages();
    let checks = server.dataset["projects"][0]["checks"]
        .as_array()
        .expect("checks")
        .len();
    let states = messages.iter().filter(|m| m["type"] == "STATE").count();
    assert_eq!(
        states,
        checks + 1,
        "one STATE per check, as each gets a flips bookmark, and a final one"
    );
    // Every STATE covers only records written before it.
    let mut max_n = std::collections::HashMap::new();
    for message in &messages {
        if message["type"] == "RECORD" && message["stream"] == "pings" {
            let n = message["record"]["n"].as_i64().expect("n");
            max_n.insert(message["record"]["check_unique_key"].to_string(), n);
        }
        if message["type"] == "STATE" {
            let partitions = message["value"]["bookmarks"]["pings"]["partitions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for partition in partitions {
                let key = partition["context"]["check_unique_key"].to_string();
                assert_eq!(
                    max_n.get(&key).copied(),
                    partition["replication_key_value"].as_i64(),
                    "{partition}"
                );
            }
        }
    }
}

#[test]
fn schemas_carry_bookmark_properties() {
    let server = Standin::start("small.json");
    let run = sync(&server.config(&server.rw_key(0)), None);
    for schema in run.schemas() {
        let expected = match schema["stream"].as_str().expect("stream") {
            "pings" => Some(json!(["n"])),
            "flips" => Some(json!(["timestamp"])),
            _ => None,
        };
        assert_eq!(
            schema.get("bookmark_properties").cloned(),
            expected,
            "{}",
            schema["stream"]
        );
    }
}

#[test]
fn empty_state_file_means_no_state() {
    let server = Standin::start("small.json");
    let config = server.config(&server.rw_key(0));
    let full = sync(&config, None);
    let dir = temp_dir("empty-state");
    for (name, text) in [
        ("empty.json", ""),
        ("object.json", "{}"),
        ("blank.json", " \n"),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        let run = tap(&config, &["--state", path.to_str().expect("path")]).success();
        assert_eq!(
            run.records("pings").len(),
            full.records("pings").len(),
            "{name}"
        );
    }
}

#[test]
fn bad_state_files_stop_before_output() {
    let config =
        json!({"api_key": "hcw_abcdefghijklmnopqrstuvwxyz12", "base_url": "http://127.0.0.1:9"});
    let dir = temp_dir("bad-state");
    let cases = [
        ("broken.json", "{\"bookmarks\": ", "is not valid JSON"),
        (
            "list.json",
            "[]",
            "has the wrong shape; pass the value of the last STATE message: expected a JSON object, not an array",
        ),
        (
            "partitions.json",
            r#"{"bookmarks": {"pings": {"partitions": [{"context": {}}]}}}"#,
            "bookmarks.pings.partitions[0] needs a context with a check_unique_key string",
        ),
        (
            "key.json",
            r#"{"bookmarks": {"flips": {"partitions": [{"context": {"check_unique_key": "a"}, "replication_key": "n", "replication_key_value": 1}]}}}"#,
            "replication_key must be \"timestamp\", not a string",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        let run = tap(&config, &["--state", path.to_str().expect("path")]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{name}");
        assert!(
            run.stderr
                .contains(&format!("state file {}", path.display())),
            "{name}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(expected), "{name}: {}", run.stderr);
    }
    let missing = dir.join("missing.json");
    let run = tap(&config, &["--state", missing.to_str().expect("path")]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(&format!("cannot read state file {}", missing.display())),
        "{}",
        run.stderr
    );
}

#[test]
fn bookmark_above_listed_pings_is_reread() {
    let server = Standin::start("small.json");
    let config = server.config(&server.rw_key(0));
    let first = sync(&config, None);
    let mut state = first.last_state();
    for partition in state["bookmarks"]["pings"]["partitions"]
        .as_array_mut()
        .expect("partitions")
    {
        partition["replication_key_value"] = json!(50);
    }
    let second = sync(&config, Some(&state));
    assert_eq!(second.records("pings"), first.records("pings"));
    let warnings = second.warnings();
    assert_eq!(warnings.len(), 2, "{}", second.stderr);
    assert!(
        warnings[0].contains("the pings bookmark #50 is above every ping the server lists"),
        "{}",
        warnings[0]
    );
    assert_eq!(
        second.last_state()["bookmarks"]["pings"],
        first.last_state()["bookmarks"]["pings"]
    );
}

#[test]
fn future_flips_bookmark_is_dropped() {
    let server = Standin::start("small.json");
    let mut config = server.config(&server.rw_key(0));
    config["flips_skip_unchanged"] = json!(false);
    let first = sync(&config, None);
    let mut state = first.last_state();
    for partition in state["bookmarks"]["flips"]["partitions"]
        .as_array_mut()
        .expect("partitions")
    {
        partition["replication_key_value"] = json!("2999-01-01T00:00:00Z");
    }
    let second = sync(&config, Some(&state));
    assert_eq!(
        second.records("flips"),
        first.records("flips"),
        "every flip is read again"
    );
    assert!(
        second
            .stderr
            .contains("the flips bookmark is in the future; reading its flips again")
    );
    assert!(
        !second.last_state().to_string().contains("2999"),
        "the future bookmark is not written back"
    );
}

#[test]
fn meltano_state_shapes_are_read() {
    let server = Standin::start("small.json");
    let config = server.config(&server.rw_key(0));
    let first = sync(&config, None);
    let state = first.last_state();
    for wrapped in [
        json!({"singer_state": state}),
        json!({"completed": {"singer_state": state}, "partial": {}}),
    ] {
        let run = sync(&config, Some(&wrapped));
        assert!(run.records("pings").is_empty(), "{wrapped}");
    }
}
