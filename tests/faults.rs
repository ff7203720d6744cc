//! Faults injected by the stand-in server: retries, give-ups, malformed
//! responses, per-check failures, redirects, a closed stdout, and a
//! randomized check that STATE never covers records that were not written.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{Run, Standin, tap, tap_with_env, temp_dir, write_json};
use serde_json::{Value, json};

/// Queues faults on the server.
fn inject(server: &Standin, faults: Value) {
    let reply = server.admin("POST", "faults", Some(json!({ "faults": faults })));
    assert!(
        !reply.to_string().contains("error"),
        "fault rejected: {reply}"
    );
}

fn assert_one_error(run: &Run, expected: &str) {
    assert_eq!(run.code, 1, "{}", run.stderr);
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(
        errors[0].contains(expected),
        "expected {expected:?} in {}",
        errors[0]
    );
}

#[test]
fn server_errors_are_retried_then_succeed() {
    let server = Standin::start("lab.json");
    inject(
        &server,
        json!([{"match": "/api/v3/checks/", "times": 2, "action": {"status": 503}}]),
    );
    let run = tap(&server.config(&server.rw_key(0)), &[]).success();
    let retries: Vec<&str> = run
        .warnings()
        .into_iter()
        .filter(|l| l.contains("retry"))
        .collect();
    assert_eq!(retries.len(), 2, "{}", run.stderr);
    assert!(
        retries[0].ends_with("GET /api/v3/checks/ failed with HTTP 503; retry 1 of 5 in 0.0 s"),
        "{}",
        retries[0]
    );
    assert!(retries[1].contains("retry 2 of 5"), "{}", retries[1]);
    assert_eq!(server.requests()["checks"], 3);
    assert_eq!(run.records("checks").len(), 16);
}

#[test]
fn every_retriable_status_is_retried() {
    for status in [429, 500, 502, 503, 504] {
        let server = Standin::start("empty.json");
        inject(
            &server,
            json!([{"match": "/api/v3/checks/", "action": {"status": status}}]),
        );
        let run = tap(&server.config(&server.rw_key(0)), &[]).success();
        assert!(
            run.stderr
                .contains(&format!("failed with HTTP {status}; retry 1 of 5")),
            "{status}: {}",
            run.stderr
        );
    }
}

#[test]
fn retry_after_seconds_is_honoured() {
    let server = Standin::start("empty.json");
    inject(
        &server,
        json!([{"match": "/api/v3/checks/", "action": {"status": 429, "headers": {"Retry-After": "1"}}}]),
    );
    let mut config = server.config(&server.rw_key(0));
    config["backoff_max"] = json!(30);
    let run = tap(&config, &[]).success();
    assert!(
        run.stderr
            .contains("failed with HTTP 429; retry 1 of 5 in 1.0 s"),
        "{}",
        run.stderr
    );
}

#[test]
fn retry_after_is_capped_by_backoff_max() {
    let server = Standin::start("empty.json");
    inject(
        &server,
        json!([{"match": "/api/v3/checks/", "action": {"status": 503, "headers": {"Retry-After": "3600"}}}]),
    );
    let mut config = server.config(&server.rw_key(0));
    config["backoff_max"] = json!(0.2);
    let run = tap(&config, &[]).success();
    assert!(
        run.stderr
            .contains("failed with HTTP 503; retry 1 of 5 in 0.2 s"),
        "{}",
        run.stderr
    );
}

#[test]
fn retry_after_http_date_is_honoured() {
    let server = Standin::start("empty.json");
    let at = (chrono::Utc::now() + chrono::Duration::seconds(2))
        .to_rfc2822()
        .replace("+0000", "GMT");
    inject(
        &server,
        json!([{"match": "/api/v3/checks/", "action": {"status": 503, "headers": {"Retry-After": at}}}]),
    );
    let mut config = server.config(&server.rw_key(0));
    config["backoff_max"] = json!(30);
    let run = tap(&config, &[]).success();
    let line = run
        .warnings()
        .into_iter()
        .find(|l| l.contains("retry 1 of 5 in "))
        .expect("retry line")
        .to_string();
    let wait: f64 = line
        .rsplit("in ")
        .next()
        .and_then(|w| w.trim_end_matches(" s").parse().ok())
        .expect("wait");
    assert!((0.5..=2.0).contains(&wait), "{line}");
}

#[test]
fn retries_give_up_with_exit_1() {
    let server = Standin::start("lab.json");
    inject(
        &server,
        json!([{"match": "/api/v3/checks/", "times": 10, "action": {"status": 500}}]),
    );
    let mut config = server.config(&server.rw_key(0));
    config["max_retries"] = json!(2);
    let run = tap(&config, &[]);
    assert_one_error(&run, "GET /api/v3/checks/ failed with HTTP 500");
    assert_eq!(run.stdout, "");
    assert_eq!(server.requests()["checks"], 3);
}

#[test]
fn client_errors_are_not_retried() {
    let server = Standin::start("lab.json");
    inject(
        &server,
        json!([{"match": "/api/v3/checks/", "action": {"status": 400}}]),
    );
    let run = tap(&server.config(&server.rw_key(0)), &[]);
    assert_one_error(&run, "GET /api/v3/checks/ failed with HTTP 400");
    assert_eq!(server.requests()["checks"], 1);
}

#[test]
fn slow_response_times_out_and_is_retried() {
    let server = Standin::start("empty.json");
    inject(
        &server,
        json!([{"match": "/api/v3/checks/", "action": {"delay_ms": 2000}}]),
    );
    let mut config = server.config(&server.rw_key(0));
    config["request_timeout"] = json!(0.3);
    let run = tap(&config, &[]).success();
    assert!(
        run.stderr
            .contains("GET /api/v3/checks/ timed out after 0.3 s; retry 1 of 5"),
        "{}",
        run.stderr
    );
}

#[test]
fn timeout_after_all_retries_names_the_setting() {
    let server = Standin::start("empty.json");
    inject(
        &server,
        json!([{"match": "/api/v3/checks/", "times": 2, "action": {"delay_ms": 1500}}]),
    );
    let mut config = server.config(&server.rw_key(0));
    config["request_timeout"] = json!(0.2);
    config["max_retries"] = json!(1);
    let run = tap(&config, &[]);
    assert_one_error(
        &run,
        "GET /api/v3/checks/ timed out after 0.2 s; raise request_timeout if the server is slow",
    );
}

#[test]
fn dropped_and_truncated_responses_are_retried() {
    for action in [json!({"drop": true}), json!({"truncate": 20})] {
        let server = Standin::start("lab.json");
        inject(
            &server,
            json!([{"match": "/api/v3/channels/", "action": action}]),
        );
        let run = tap(&server.config(&server.rw_key(0)), &[]).success();
        assert!(
            run.stderr.contains("GET /api/v3/channels/ failed: "),
            "{action}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("retry 1 of 5"),
            "{action}: {}",
            run.stderr
        );
        assert_eq!(run.records("integrations").len(), 4, "{action}");
    }
}

#[test]
fn malformed_checks_list_is_an_error() {
    let cases = [
        (
            "not json",
            "GET /api/v3/checks/ returned an unexpected body: invalid JSON: expected ident",
        ),
        (
            "{\"checks\": [{\"name\": \"a\"",
            "EOF while parsing an object",
        ),
        (
            "{\"checks\": []} garbage",
            "invalid JSON: trailing characters at line 1 column 16",
        ),
        (
            "<!DOCTYPE html><html><body>Bad gateway</body></html>",
            "expected JSON but got an HTML page; check base_url",
        ),
        (
            "{\"checks\": [{\"uuid\": 5}]}",
            "invalid JSON at checks[0].uuid: invalid type: integer `5`, expected a string",
        ),
        (
            "{\"checks\": {}}",
            "invalid JSON at checks: invalid type: map, expected a sequence",
        ),
        ("{\"items\": []}", "missing field `checks`"),
        (
            "{\"checks\": [{\"uuid\": \"../../channels\"}]}",
            "check uuid \"../../channels\" is not a lowercase UUID",
        ),
    ];
    for (body, expected) in cases {
        let server = Standin::start("lab.json");
        inject(
            &server,
            json!([{"match": "/api/v3/checks/", "action": {"status": 200, "body": body}}]),
        );
        let run = tap(&server.config(&server.rw_key(0)), &[]);
        assert_one_error(&run, expected);
        assert_eq!(run.stdout, "", "{body}");
        assert_eq!(
            server.requests()["checks"],
            1,
            "malformed bodies are not retried"
        );
    }
}

#[test]
fn ping_without_n_fails_that_check_only() {
    let server = Standin::start("lab.json");
    let etl = server.check_named("ETL pipeline");
    let uuid = etl["uuid"].as_str().expect("uuid");
    let body = r#"{"pings": [{"type": "success", "date": "2026-12-04T06:10:41+00:00", "n": 2}, {"type": "success", "date": "2026-12-04T06:10:42+00:00"}]}"#;
    inject(
        &server,
        json!([{"match": format!("{uuid}/pings/"), "action": {"status": 200, "body": body}}]),
    );
    let run = tap(&server.config(&server.rw_key(0)), &[]);
    assert_one_error(
        &run,
        "1 request failed after retries, so the checks involved kept their bookmarks: pings of check \"ETL pipeline\"",
    );
    assert!(
        run.stderr
            .contains("invalid JSON at pings[1]: missing field `n`"),
        "{}",
        run.stderr
    );
    let pings = run.records("pings");
    assert!(
        !pings.iter().any(|p| p["check_uuid"] == uuid),
        "no partial records of the failed check"
    );
    assert!(pings.len() > 100, "the other checks' pings were written");
    assert!(
        run.records("flips").iter().any(|f| f["check_uuid"] == uuid),
        "its flips were still read"
    );
    let partitions = run.last_state()["bookmarks"]["pings"]["partitions"].clone();
    assert!(
        !partitions.to_string().contains(
            run.records("checks")
                .iter()
                .find(|c| c["uuid"] == uuid)
                .expect("check")["unique_key"]
                .as_str()
                .expect("key")
        )
    );
}

#[test]
fn failing_check_keeps_its_bookmark_and_others_go_on() {
    let server = Standin::start("lab.json");
    let config = server.config(&server.rw_key(0));
    let first = tap(&config, &[]).success();
    let etl = server.check_named("ETL pipeline");
    let backup = server.check_named("Nightly DB backup");
    for check in [&etl, &backup] {
        let pings = json!([{"type": "success", "date": "2026-12-04T19:00:00+00:00"}]);
        server.admin(
            "POST",
            "pings",
            Some(json!({"check": check["uuid"], "pings": pings})),
        );
    }
    let etl_uuid = etl["uuid"].as_str().expect("uuid");
    inject(
        &server,
        json!([{"match": format!("{etl_uuid}/pings/"), "times": 10, "action": {"status": 500}}]),
    );
    let mut config = config.clone();
    config["max_retries"] = json!(1);
    let state_path = write_json(&temp_dir("keep"), "state.json", &first.last_state());
    let run = tap(&config, &["--state", state_path.to_str().expect("path")]);
    assert_one_error(&run, "pings of check \"ETL pipeline\"");
    assert!(
        run.errors()[0].contains("failed with HTTP 500"),
        "{}",
        run.errors()[0]
    );
    let pings = run.records("pings");
    assert_eq!(pings.len(), 1);
    assert_eq!(pings[0]["check_uuid"], backup["uuid"]);
    let bookmark = |state: &Value, uuid: &str| {
        let key = first
            .records("checks")
            .iter()
            .find(|c| c["uuid"] == uuid)
            .expect("check")["unique_key"]
            .clone();
        state["bookmarks"]["pings"]["partitions"]
            .as_array()
            .expect("partitions")
            .iter()
            .find(|p| p["context"]["check_unique_key"] == key)
            .map(|p| p["replication_key_value"].clone())
    };
    assert_eq!(
        bookmark(&run.last_state(), etl_uuid),
        bookmark(&first.last_state(), etl_uuid)
    );
    let backup_uuid = backup["uuid"].as_str().expect("uuid");
    assert_eq!(
        bookmark(&run.last_state(), backup_uuid),
        Some(json!(backup["n_pings"].as_i64().expect("n") + 1))
    );
}

#[test]
fn check_deleted_during_sync_is_skipped() {
    let server = Standin::start("lab.json");
    let etl = server.check_named("ETL pipeline");
    let uuid = etl["uuid"].as_str().expect("uuid");
    // The pings request and then the check itself return 404, as after a
    // deletion between the checks list and the pings request.
    inject(
        &server,
        json!([
            {"match": format!("{uuid}/pings/"), "action": {"status": 404, "body": "<html>Not Found</html>"}},
            {"match": format!("/api/v3/checks/{uuid}"), "action": {"status": 404, "body": "<html>Not Found</html>"}},
        ]),
    );
    let run = tap(&server.config(&server.rw_key(0)), &[]).success();
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(
        warnings[0].contains("check \"ETL pipeline\""),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[0].ends_with("was deleted during the sync; skipping it"),
        "{}",
        warnings[0]
    );
    let flips_path = format!("/api/v3/checks/{uuid}/flips/");
    let flips_of_etl = server
        .request_paths()
        .iter()
        .filter(|path| **path == flips_path)
        .count();
    assert_eq!(flips_of_etl, 0);
}

#[test]
fn many_vanishing_checks_stop_the_sync() {
    // A proxy returning 404 for every per-check path makes every check look
    // deleted; a run of them stops the sync instead of reporting success.
    let server = Standin::start("lab.json");
    let not_found = json!({"status": 404});
    let faults: Vec<Value> = server.dataset["projects"][0]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|check| json!({"match": check["uuid"], "times": 10, "action": not_found}))
        .collect();
    inject(&server, json!(faults));
    let mut config = server.config(&server.rw_key(0));
    config["max_concurrency"] = json!(1);
    let run = tap(&config, &[]);
    assert_one_error(
        &run,
        "stopping the sync because 3 checks in a row answered 404 as if deleted",
    );
}

#[test]
fn not_found_for_an_existing_check_is_a_failure() {
    // A proxy returning 404 for the pings path must not pass for a deletion:
    // the check itself still returns 200.
    let server = Standin::start("lab.json");
    let etl = server.check_named("ETL pipeline");
    let uuid = etl["uuid"].as_str().expect("uuid");
    inject(
        &server,
        json!([{"match": format!("{uuid}/pings/"), "action": {"status": 404}}]),
    );
    let run = tap(&server.config(&server.rw_key(0)), &[]);
    assert_one_error(&run, "pings of check \"ETL pipeline\"");
    assert!(
        run.errors()[0].contains("failed with HTTP 404"),
        "{}",
        run.errors()[0]
    );
}

#[test]
fn dead_server_stops_the_sync_early() {
    let server = Standin::start("lab.json");
    let down = json!({"status": 503});
    inject(
        &server,
        json!([
            {"match": "/pings/", "times": 1000, "action": down},
            {"match": "/flips/", "times": 1000, "action": down},
        ]),
    );
    let mut config = server.config(&server.rw_key(0));
    config["max_retries"] = json!(1);
    config["max_concurrency"] = json!(1);
    let run = tap(&config, &[]);
    assert_one_error(
        &run,
        "stopping the sync because 3 checks in a row failed after retries",
    );
    assert!(run.errors()[0].contains(&format!("check that the server at {} is up", server.url)));
    let pings_requests = server.requests()["pings"].as_u64().expect("count");
    assert!(
        pings_requests <= 2 * 5,
        "the sync stopped early: {pings_requests} pings requests"
    );
}

#[test]
fn failing_endpoint_on_a_live_server_does_not_stop_the_sync() {
    // Flips fail everywhere but pings succeed, so the server is up and every
    // check's pings are still synced.
    let server = Standin::start("lab.json");
    inject(
        &server,
        json!([{"match": "/flips/", "times": 1000, "action": {"status": 500}}]),
    );
    let mut config = server.config(&server.rw_key(0));
    config["max_retries"] = json!(0);
    let run = tap(&config, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("stopping the sync"), "{}", run.stderr);
    assert_eq!(run.records("pings").len(), 280);
}

#[test]
fn forbidden_names_check_and_cause() {
    let server = Standin::start("lab.json");
    let etl = server.check_named("ETL pipeline");
    let uuid = etl["uuid"].as_str().expect("uuid");
    inject(
        &server,
        json!([{"match": format!("{uuid}/flips/"), "action": {"status": 403}}]),
    );
    let run = tap(&server.config(&server.rw_key(0)), &[]);
    assert_one_error(&run, "flips of check \"ETL pipeline\"");
    assert!(run.stderr.contains(&format!("GET /api/v3/checks/{uuid}/flips/ failed with HTTP 403: the check belongs to a project other than the API key's")), "{}", run.stderr);
}

#[test]
fn integrations_failure_is_reported_after_the_rest() {
    let server = Standin::start("lab.json");
    inject(
        &server,
        json!([{"match": "/api/v3/channels/", "times": 10, "action": {"status": 502}}]),
    );
    let mut config = server.config(&server.rw_key(0));
    config["max_retries"] = json!(0);
    let run = tap(&config, &[]);
    assert_one_error(
        &run,
        "integrations: GET /api/v3/channels/ failed with HTTP 502",
    );
    assert!(!run.records("pings").is_empty());
    assert_eq!(run.messages().last().expect("output")["type"], "STATE");
}

#[test]
fn redirect_to_another_host_does_not_carry_the_key() {
    let server = Standin::start("lab.json");
    let elsewhere = Standin::start("lab.json");
    let target = format!("{}/api/v3/checks/", elsewhere.url);
    inject(
        &server,
        json!([{"match": "/api/v3/checks/", "action": {"redirect": target}}]),
    );
    let run = tap(&server.config(&server.rw_key(0)), &[]);
    assert_one_error(
        &run,
        "GET /api/v3/checks/ failed with HTTP 302: the server redirected the request",
    );
    assert_eq!(
        elsewhere.admin("GET", "requests", None)["total"],
        0,
        "the second server got a request"
    );
}

#[test]
fn closed_stdout_stops_the_tap() {
    let server = Standin::start("lab.json");
    let config = write_json(
        &temp_dir("closed"),
        "config.json",
        &server.config(&server.rw_key(0)),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_tap-healthchecks"))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the tap");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("first line");
    drop(stdout);
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(
        errors,
        [
            "error: stdout was closed before the output was complete, so the program reading it (the Singer target) probably exited; a sync resumes from the last STATE the target confirmed"
        ]
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn debug_logging_does_not_leak_the_key() {
    let server = Standin::start("lab.json");
    let run = tap_with_env(
        &server.config(&server.rw_key(0)),
        &[],
        &[("TAP_HEALTHCHECKS_LOG_LEVEL", "debug")],
    )
    .success();
    assert!(
        run.stderr.contains(" DEBUG GET /api/v3/checks/ -> 200"),
        "{}",
        run.stderr
    );
}

#[test]
fn plain_http_to_remote_host_warns() {
    // Discovery validates the config without sending requests.
    let config =
        json!({"api_key": "hcw_abcdefghijklmnopqrstuvwxyz12", "base_url": "http://hc.example.org"});
    let run = tap(&config, &["--discover"]).success();
    assert!(
        run.stderr.contains(
            "base_url uses plain http to hc.example.org, so the API key travels unencrypted"
        ),
        "{}",
        run.stderr
    );
    let local =
        json!({"api_key": "hcw_abcdefghijklmnopqrstuvwxyz12", "base_url": "http://127.0.0.1:8000"});
    assert!(tap(&local, &["--discover"]).success().warnings().is_empty());
}

/// A small xorshift generator, so that the random fault sequences are the
/// same on every run and a failure can be replayed from its seed.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}

/// Checks that each STATE covers only records written before it: every
/// bookmark is at most the input bookmark or the newest record written.
fn assert_state_covers_only_written(run: &Run, input: &Value, seed: u64) {
    let bookmark_of = |state: &Value, stream: &str| -> HashMap<String, Value> {
        state["bookmarks"][stream]["partitions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                (
                    p["context"]["check_unique_key"].to_string(),
                    p["replication_key_value"].clone(),
                )
            })
            .collect()
    };
    let mut covered = [
        ("pings", bookmark_of(input, "pings")),
        ("flips", bookmark_of(input, "flips")),
    ];
    for message in run.messages() {
        if message["type"] == "RECORD" {
            let record = &message["record"];
            let (index, value) = match message["stream"].as_str() {
                Some("pings") => (0, record["n"].clone()),
                Some("flips") => (1, record["timestamp"].clone()),
                _ => continue,
            };
            let entry = covered[index]
                .1
                .entry(record["check_unique_key"].to_string())
                .or_insert(Value::Null);
            if order(&value) > order(entry) {
                *entry = value;
            }
        } else if message["type"] == "STATE" {
            for (stream, written) in &covered {
                for (check, bookmark) in bookmark_of(&message["value"], stream) {
                    let limit = written.get(&check).cloned().unwrap_or(Value::Null);
                    assert!(
                        order(&bookmark) <= order(&limit),
                        "seed {seed}: {stream} bookmark {bookmark} of {check} is past the records written ({limit})"
                    );
                }
            }
        }
    }
}

/// Orders bookmark values: null first, then numbers, then timestamps as text.
fn order(value: &Value) -> (u8, i64, String) {
    match value {
        Value::Number(n) => (1, n.as_i64().unwrap_or(i64::MAX), String::new()),
        Value::String(s) => (2, 0, s.clone()),
        _ => (0, 0, String::new()),
    }
}

#[test]
fn random_faults_never_move_state_past_written_records() {
    let actions = [
        json!({"status": 500}),
        json!({"status": 503, "headers": {"Retry-After": "0"}}),
        json!({"status": 429}),
        json!({"status": 404}),
        json!({"status": 403}),
        json!({"drop": true}),
        json!({"truncate": 15}),
        json!({"status": 200, "body": "{\"pings\": [{\"n\": 1"}),
        json!({"status": 200, "body": "<html>proxy error</html>"}),
        json!({"delay_ms": 800}),
    ];
    let targets = ["/pings/", "/flips/", "/api/v3/channels/", "/api/v3/checks/"];
    for seed in 1..=12u64 {
        let mut random = Random(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let server = Standin::start("lab.json");
        let mut config = server.config(&server.rw_key(0));
        config["request_timeout"] = json!(0.4);
        config["max_retries"] = json!(random.below(3));
        let input = if random.below(2) == 0 {
            json!({})
        } else {
            let clean = tap(&config, &[]).success();
            let etl = server.check_named("ETL pipeline");
            let pings = json!([{"type": "fail", "date": "2026-12-04T20:00:00+00:00"}]);
            server.admin(
                "POST",
                "pings",
                Some(json!({"check": etl["uuid"], "pings": pings})),
            );
            clean.last_state()
        };
        let faults: Vec<Value> = (0..1 + random.below(6))
            .map(|_| {
                json!({
                    "match": targets[random.below(targets.len())],
                    "times": 1 + random.below(3),
                    "action": actions[random.below(actions.len())],
                })
            })
            .collect();
        inject(&server, json!(faults));
        let state_path = write_json(&temp_dir("random"), "state.json", &input);
        let run = tap(&config, &["--state", state_path.to_str().expect("path")]);
        assert!(
            run.code == 0 || run.code == 1,
            "seed {seed}: exit {} {}",
            run.code,
            run.stderr
        );
        assert!(run.errors().len() <= 1, "seed {seed}: {}", run.stderr);
        assert_eq!(
            run.code == 1,
            run.errors().len() == 1,
            "seed {seed}: {}",
            run.stderr
        );
        assert_state_covers_only_written(&run, &input, seed);
    }
}
