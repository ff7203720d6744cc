//! What Meltano and SDK-era tools expect of a tap: --about, --version,
//! --test, settings from the environment, log levels, METRIC lines and
//! ACTIVATE_VERSION.

mod common;

use common::{Run, Standin, run_tap, tap, tap_raw, tap_with_env, temp_dir, write_json};
use serde_json::{Value, json};

/// Runs the tap with `args` and environment variables, without a config file.
fn tap_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    run_tap(&args, env)
}

fn setting_names() -> Vec<String> {
    let sample =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/sample_config.json"))
            .expect("sample");
    let sample: Value = serde_json::from_str(&sample).expect("JSON");
    sample
        .as_object()
        .expect("object")
        .keys()
        .cloned()
        .collect()
}

#[test]
fn about_json_has_the_sdk_shape() {
    let run = tap_raw(&["--about".into(), "--format".into(), "json".into()]).success();
    let about: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(about["name"], "tap-healthchecks");
    assert_eq!(about["version"], env!("CARGO_PKG_VERSION"));
    for capability in [
        "catalog",
        "discover",
        "state",
        "about",
        "activate-version",
        "test",
    ] {
        assert!(
            about["capabilities"]
                .as_array()
                .expect("list")
                .contains(&json!(capability)),
            "{capability}"
        );
    }
    let properties = about["settings"]["properties"]
        .as_object()
        .expect("settings");
    let names: Vec<String> = properties.keys().cloned().collect();
    assert_eq!(
        names,
        setting_names(),
        "--about and sample_config.json list the same settings"
    );
    for (name, setting) in properties {
        assert!(setting["type"].is_array(), "{name}");
        assert!(setting["description"].is_string(), "{name}");
        assert_eq!(
            setting["env"],
            format!("TAP_HEALTHCHECKS_{}", name.to_uppercase())
        );
    }
    assert_eq!(properties["api_key"]["secret"], true);
    assert_eq!(properties["request_timeout"]["default"], 30.0);
}

#[test]
fn about_markdown_and_text_list_every_setting() {
    let markdown = tap_raw(&["--about".into(), "--format".into(), "markdown".into()])
        .success()
        .stdout;
    let text = tap_raw(&["--about".into()]).success().stdout;
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    for name in setting_names() {
        assert!(
            markdown.contains(&format!("| `{name}` |")),
            "{name} in markdown"
        );
        assert!(
            readme.contains(&format!("| `{name}` |")),
            "{name} in README"
        );
        assert!(
            text.contains(&format!("  - Name: {name}\n")),
            "{name} in text"
        );
    }
    assert!(text.contains("Environment Variable: TAP_HEALTHCHECKS_API_KEY"));
}

#[test]
fn version_prints_the_version() {
    let run = tap_raw(&["--version".into()]).success();
    assert_eq!(
        run.stdout,
        format!("tap-healthchecks {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn config_env_reads_variables() {
    let server = Standin::start("small.json");
    let key = server.rw_key(0);
    let env = [
        ("TAP_HEALTHCHECKS_API_KEY", key.as_str()),
        ("TAP_HEALTHCHECKS_BASE_URL", server.url.as_str()),
    ];
    let run = tap_env(&["--config", "ENV"], &env).success();
    assert_eq!(run.records("checks").len(), 3);
    assert!(!run.stderr.contains(&key));
}

#[test]
fn environment_wins_over_files() {
    let server = Standin::start("small.json");
    let dir = temp_dir("env-wins");
    let first = write_json(
        &dir,
        "first.json",
        &json!({"api_key": "hcw_wrongwrongwrongwrongwrongwro", "base_url": "http://127.0.0.1:9"}),
    );
    let second = write_json(&dir, "second.json", &json!({"base_url": server.url}));
    let key = server.rw_key(0);
    // ENV comes first on the command line but still wins over both files.
    let args = [
        "--config",
        "ENV",
        "--config",
        first.to_str().expect("path"),
        "--config",
        second.to_str().expect("path"),
    ];
    let run = tap_env(&args, &[("TAP_HEALTHCHECKS_API_KEY", key.as_str())]).success();
    assert_eq!(
        run.records("checks").len(),
        3,
        "second.json's base_url and the environment's key were used"
    );
}

#[test]
fn invalid_environment_value_is_bad_input() {
    let run = tap_env(
        &["--config", "ENV"],
        &[
            ("TAP_HEALTHCHECKS_API_KEY", "x"),
            ("TAP_HEALTHCHECKS_MAX_RETRIES", "lots"),
        ],
    );
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("environment variable TAP_HEALTHCHECKS_MAX_RETRIES is not a valid integer"),
        "{}",
        run.stderr
    );
}

#[test]
fn test_flag_reports_key_type() {
    let server = Standin::start("small.json");
    let read_write = tap(&server.config(&server.rw_key(0)), &["--test"]).success();
    assert_eq!(
        read_write.stdout,
        format!(
            "connected to {} with a read-write API key; the project has 3 checks\n\
             streams it can read: checks, pings, flips and integrations\n",
            server.url
        )
    );
    let read_only = tap(&server.config(&server.ro_key(0)), &["--test"]).success();
    assert!(
        read_only.stdout.contains("with a read-only API key"),
        "{}",
        read_only.stdout
    );
    assert!(
        read_only
            .stdout
            .contains("streams it can read: checks and flips"),
        "{}",
        read_only.stdout
    );
    assert_eq!(
        server.admin("GET", "requests", None)["total"],
        2,
        "one request per --test"
    );
    let wrong = tap(
        &server.config("hcw_wrongwrongwrongwrongwrongwro"),
        &["--test"],
    );
    assert_eq!(wrong.code, 1);
    assert!(
        wrong.stderr.contains("HTTP 401 (wrong api key)"),
        "{}",
        wrong.stderr
    );
}

#[test]
fn log_level_controls_stderr() {
    let server = Standin::start("small.json");
    let config = server.config(&server.rw_key(0));
    let quiet = tap(&config, &["--log-level", "warn"]).success();
    assert_eq!(quiet.stderr, "");
    let debug = tap_with_env(&config, &[], &[("TAP_HEALTHCHECKS_LOG_LEVEL", "debug")]).success();
    assert!(debug.stderr.contains(" DEBUG "), "{}", debug.stderr);
    let mut from_setting = config.clone();
    from_setting["log_level"] = json!("error");
    assert_eq!(tap(&from_setting, &[]).success().stderr, "");
    let flag_wins = tap(&from_setting, &["--log-level", "info"]).success();
    assert!(flag_wins.stderr.contains(" INFO "), "{}", flag_wins.stderr);
    let invalid = tap(&config, &["--log-level", "loud"]);
    assert_eq!(invalid.code, 2);
    assert!(
        invalid
            .stderr
            .contains("--log-level \"loud\" is invalid; use error, warn, info, debug or trace")
    );
}

/// Parses the JSON of every `METRIC:` line on stderr.
fn metrics(run: &Run) -> Vec<Value> {
    run.stderr
        .lines()
        .filter_map(|line| line.split_once("METRIC: "))
        .map(|(_, metric)| serde_json::from_str(metric).expect("METRIC JSON"))
        .collect()
}

#[test]
fn metrics_count_records_and_time_requests() {
    let server = Standin::start("small.json");
    let run = tap(&server.config(&server.rw_key(0)), &[]).success();
    let metrics = metrics(&run);
    for stream in ["checks", "pings", "flips", "integrations"] {
        let count = metrics
            .iter()
            .find(|m| m["metric"] == "record_count" && m["tags"]["stream"] == stream)
            .unwrap_or_else(|| panic!("record_count of {stream}"));
        assert_eq!(count["type"], "counter");
        assert_eq!(count["value"], run.records(stream).len(), "{stream}");
    }
    let timers: Vec<&Value> = metrics
        .iter()
        .filter(|m| m["metric"] == "http_request_duration")
        .collect();
    assert_eq!(
        timers.len(),
        server.admin("GET", "requests", None)["total"]
            .as_u64()
            .expect("total") as usize
    );
    let pings = timers
        .iter()
        .find(|m| m["tags"]["endpoint"] == "/api/v3/checks/{check}/pings/")
        .expect("pings timer");
    assert_eq!(pings["type"], "timer");
    assert_eq!(pings["tags"]["http_status_code"], 200);
    assert_eq!(pings["tags"]["status"], "succeeded");
    assert!(pings["value"].as_f64().expect("seconds") >= 0.0);
}

#[test]
fn streams_log_start_and_end() {
    let server = Standin::start("small.json");
    let run = tap(&server.config(&server.rw_key(0)), &[]).success();
    for (stream, count) in [
        ("checks", 3),
        ("pings", 5),
        ("flips", 4),
        ("integrations", 2),
    ] {
        assert!(
            run.stderr
                .contains(&format!("INFO  stream {stream}: started")),
            "{stream}: {}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains(&format!("INFO  stream {stream}: {count} records in ")),
            "{stream}: {}",
            run.stderr
        );
    }
}

#[test]
fn activate_version_follows_full_table_streams() {
    let server = Standin::start("small.json");
    let mut config = server.config(&server.rw_key(0));
    let plain = tap(&config, &[]).success();
    assert!(!plain.stdout.contains("ACTIVATE_VERSION"));
    config["activate_version"] = json!(true);
    let run = tap(&config, &[]).success();
    let messages = run.messages();
    for stream in ["checks", "integrations"] {
        let records: Vec<&Value> = messages
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
            .collect();
        let version = records[0]["version"].as_i64().expect("versioned record");
        assert!(records.iter().all(|r| r["version"] == version), "{stream}");
        let activate = messages
            .iter()
            .position(|m| m["type"] == "ACTIVATE_VERSION" && m["stream"] == stream)
            .expect("ACTIVATE_VERSION");
        let last_record = messages
            .iter()
            .rposition(|m| m["type"] == "RECORD" && m["stream"] == stream)
            .expect("records");
        assert!(
            activate > last_record,
            "{stream}: ACTIVATE_VERSION after its records"
        );
        assert_eq!(messages[activate]["version"], version);
    }
    for stream in ["pings", "flips"] {
        assert!(
            run.records(stream)
                .iter()
                .all(|r| r.get("version").is_none())
        );
        let versioned = messages.iter().any(|m| {
            m["stream"] == stream && (m["type"] == "ACTIVATE_VERSION" || m.get("version").is_some())
        });
        assert!(!versioned, "{stream} is incremental");
    }
}
