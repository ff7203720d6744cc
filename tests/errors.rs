//! Bad input and failed requests: one line on stderr, nothing on stdout, and
//! exit code 2 for bad input or 1 for a failed sync.

mod common;

use common::{Run, Standin, tap, tap_raw, temp_dir, write_json};
use serde_json::json;

const KEY: &str = "hcw_abcdefghijklmnopqrstuvwxyz12";

/// Asserts a clean failure: the exit code, nothing on stdout, and one
/// `error:` line on stderr that contains `expected`.
fn assert_fails(run: &Run, code: i32, expected: &str) {
    assert_eq!(run.code, code, "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "", "stdout must stay empty");
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(
        errors[0].contains(expected),
        "expected {expected:?} in {:?}",
        errors[0]
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn wrong_key_names_endpoint_and_fix() {
    let server = Standin::start("small.json");
    let run = tap(&server.config("hcw_wrongwrongwrongwrongwrongwro"), &[]);
    assert_fails(
        &run,
        1,
        "GET /api/v3/checks/ failed with HTTP 401 (wrong api key): the API key was rejected",
    );
    assert!(
        !run.stderr.contains("hcw_wrongwrong"),
        "the key leaked: {}",
        run.stderr
    );
}

#[test]
fn short_key_warns_and_fails() {
    let server = Standin::start("small.json");
    let run = tap(&server.config("hcw_short"), &[]);
    assert_fails(&run, 1, "HTTP 401 (missing api key)");
    assert!(
        run.stderr
            .contains("api_key is 9 characters long, but Healthchecks keys have 32"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("hcw_short"),
        "the key leaked: {}",
        run.stderr
    );
}

#[test]
fn wrong_base_url_path_is_explained() {
    let server = Standin::start("small.json");
    let mut config = server.config(&server.rw_key(0));
    config["base_url"] = json!(format!("{}/nothing-here", server.url));
    let run = tap(&config, &[]);
    assert_fails(
        &run,
        1,
        "GET /nothing-here/api/v3/checks/ failed with HTTP 404: check that base_url is the site root",
    );
}

#[test]
fn unreachable_server_fails_with_exit_1() {
    // Bind and drop a listener so that the port is closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let config = json!({"api_key": KEY, "base_url": format!("http://127.0.0.1:{port}"), "max_retries": 1, "backoff_max": 0.01});
    let run = tap(&config, &[]);
    assert_fails(&run, 1, "GET /api/v3/checks/ failed: ");
}

#[test]
fn config_errors_exit_2() {
    let cases = [
        (json!({}), "api_key is missing"),
        (json!({"api_key": ""}), "api_key is empty"),
        (
            json!({"api_key": KEY, "base_url": "healthchecks.io"}),
            "base_url \"healthchecks.io\" is not an http(s) URL",
        ),
        (
            json!({"api_key": KEY, "start_date": "yesterday"}),
            "start_date \"yesterday\" is not an RFC 3339 date-time",
        ),
        (
            json!({"api_key": KEY, "request_timeout": 0}),
            "request_timeout 0 is out of range",
        ),
        (
            json!({"api_key": KEY, "request_timeout": -1}),
            "request_timeout -1 is out of range",
        ),
        (json!([]), "must contain a JSON object, not an array"),
    ];
    for (config, expected) in cases {
        let run = tap(&config, &[]);
        assert_fails(&run, 2, expected);
        assert!(
            run.stderr.contains("config.json"),
            "the file is named: {}",
            run.stderr
        );
    }
}

#[test]
fn missing_and_invalid_files_exit_2() {
    let dir = temp_dir("files");
    let missing = dir.join("missing.json");
    let run = tap_raw(&["--config".into(), missing.display().to_string()]);
    assert_fails(
        &run,
        2,
        &format!("cannot read config file {}", missing.display()),
    );
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\"api_key\": ").expect("write");
    let run = tap_raw(&["--config".into(), broken.display().to_string()]);
    assert_fails(
        &run,
        2,
        &format!("config file {} is not valid JSON", broken.display()),
    );
}

#[test]
fn missing_config_flag_exits_2() {
    let run = tap_raw(&[]);
    assert_fails(&run, 2, "--config FILE is required");
}

#[test]
fn catalog_with_unknown_stream_exits_2() {
    let dir = temp_dir("catalog");
    let catalog = write_json(
        &dir,
        "catalog.json",
        &json!({"streams": [{"tap_stream_id": "badges"}]}),
    );
    let run = tap(
        &json!({"api_key": KEY}),
        &["--catalog", catalog.to_str().expect("path")],
    );
    assert_fails(
        &run,
        2,
        "unknown stream \"badges\"; the tap's streams are checks, pings, ping_bodies, flips, integrations",
    );
    assert!(run.stderr.contains("catalog.json"), "{}", run.stderr);
}

#[test]
fn unknown_setting_is_a_warning() {
    let server = Standin::start("empty.json");
    let mut config = server.config(&server.rw_key(0));
    config["api_token"] = json!("x");
    let run = tap(&config, &[]).success();
    assert_eq!(run.warnings().len(), 1, "{}", run.stderr);
    assert!(run.warnings()[0].contains("ignoring unknown setting \"api_token\" in config file "));
}
