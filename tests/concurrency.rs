//! Per-check requests on several threads: the output must not depend on
//! `max_concurrency` or on which response arrives first.

mod common;

use common::{Standin, normalize, tap};
use serde_json::{Value, json};

/// Delays the first listed check's pings so that later checks finish first.
fn delay_first_check(server: &Standin) {
    let first = &server.dataset["projects"][0]["checks"][0]["uuid"];
    let path = format!("{}/pings/", first.as_str().expect("uuid"));
    server.admin(
        "POST",
        "faults",
        Some(json!({"faults": [{"match": path, "action": {"delay_ms": 400}}]})),
    );
}

fn output_with(server: &Standin, concurrency: u64) -> String {
    let mut config = server.config(&server.rw_key(0));
    config["max_concurrency"] = json!(concurrency);
    let run = tap(&config, &[]).success();
    normalize(&run.stdout, &server.url)
}

#[test]
fn output_is_identical_for_any_concurrency() {
    let server = Standin::start("lab.json");
    let sequential = output_with(&server, 1);
    for concurrency in [2, 4, 16] {
        delay_first_check(&server);
        assert!(
            output_with(&server, concurrency) == sequential,
            "max_concurrency {concurrency} changed the output"
        );
    }
}

#[test]
fn failing_worker_does_not_stop_the_others() {
    let server = Standin::start("lab.json");
    let checks = server.dataset["projects"][0]["checks"]
        .as_array()
        .expect("checks")
        .clone();
    let failing = checks[2]["uuid"].as_str().expect("uuid").to_string();
    let run_with = |concurrency: u64| {
        server.admin(
            "POST",
            "faults",
            Some(json!({"faults": [{"match": format!("{failing}/flips/"), "times": 3, "action": {"status": 500}}]})),
        );
        let mut config = server.config(&server.rw_key(0));
        config["max_concurrency"] = json!(concurrency);
        config["max_retries"] = json!(2);
        tap(&config, &[])
    };
    let parallel = run_with(4);
    assert_eq!(parallel.code, 1, "{}", parallel.stderr);
    assert_eq!(parallel.errors().len(), 1, "{}", parallel.stderr);
    let flips = parallel.records("flips");
    assert!(!flips.iter().any(|f| f["check_uuid"] == failing.as_str()));
    let synced: Vec<&Value> = checks
        .iter()
        .filter(|c| c["uuid"] != failing.as_str())
        .collect();
    for check in synced {
        let expected = check["flips"].as_array().map_or(0, Vec::len);
        let written = flips
            .iter()
            .filter(|f| f["check_uuid"] == check["uuid"])
            .count();
        assert_eq!(written, expected, "flips of {}", check["name"]);
    }
    let sequential = run_with(1);
    assert_eq!(
        normalize(&parallel.stdout, &server.url),
        normalize(&sequential.stdout, &server.url)
    );
}
