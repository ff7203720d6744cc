//! Shared helpers for the integration tests: a stand-in API server on
//! 127.0.0.1 and runs of the built tap binary against it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

/// A running `hc-standin serve`, stopped when dropped.
pub struct Standin {
    child: Child,
    /// Site root, such as `http://127.0.0.1:40123`.
    pub url: String,
    /// The dataset it serves.
    pub dataset: Value,
    // Kept open so that the server never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl Standin {
    /// Serves `tests/fixtures/<fixture>` on a free port.
    pub fn start(fixture: &str) -> Standin {
        Standin::start_with(fixture, &[])
    }

    /// Serves a fixture with extra `serve` arguments, such as `--prefix`.
    pub fn start_with(fixture: &str, extra: &[&str]) -> Standin {
        let path = fixture_path(fixture);
        let mut child = Command::new(env!("CARGO_BIN_EXE_hc-standin"))
            .args(["serve", "--port", "0", "--dataset"])
            .arg(&path)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start hc-standin");
        let mut stdout = BufReader::new(child.stdout.take().expect("server stdout"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("read the server's first line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from hc-standin: {line:?}"))
            .to_string();
        let dataset = serde_json::from_str(&std::fs::read_to_string(&path).expect("read fixture"))
            .expect("fixture is JSON");
        Standin {
            child,
            url,
            dataset,
            _stdout: stdout,
        }
    }

    /// Returns the read-write key of project `index` of the dataset.
    pub fn rw_key(&self, index: usize) -> String {
        self.dataset["projects"][index]["rw_key"]
            .as_str()
            .expect("rw_key")
            .to_string()
    }

    /// Returns the read-only key of project `index` of the dataset.
    pub fn ro_key(&self, index: usize) -> String {
        self.dataset["projects"][index]["ro_key"]
            .as_str()
            .expect("ro_key")
            .to_string()
    }

    /// Returns the dataset's check called `name` in project 0.
    pub fn check_named(&self, name: &str) -> Value {
        let checks = self.dataset["projects"][0]["checks"]
            .as_array()
            .expect("checks");
        checks
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no check {name:?}"))
            .clone()
    }

    /// Returns the API requests counted by endpoint since the last reset.
    pub fn requests(&self) -> Value {
        self.admin("GET", "requests", None)["by_endpoint"].clone()
    }

    /// Returns the paths of the API requests logged since the last reset.
    pub fn request_paths(&self) -> Vec<String> {
        let log = self.admin("GET", "requests", None);
        let entries = log["log"].as_array().expect("request log");
        entries
            .iter()
            .filter_map(|entry| entry["path"].as_str().map(str::to_string))
            .collect()
    }

    /// Builds the discovered catalog with `selected` set on the named streams
    /// only.
    pub fn catalog_selecting(&self, streams: &[&str]) -> Value {
        let discovered = tap(&self.config(&self.rw_key(0)), &["--discover"]).success();
        let mut catalog: Value = serde_json::from_str(&discovered.stdout).expect("catalog JSON");
        for entry in catalog["streams"].as_array_mut().expect("streams") {
            let selected = streams.contains(&entry["stream"].as_str().expect("name"));
            entry["metadata"][0]["metadata"]["selected"] = json!(selected);
        }
        catalog
    }

    /// Builds a config for `key` pointing at this server.
    pub fn config(&self, key: &str) -> Value {
        json!({"api_key": key, "base_url": self.url, "backoff_max": 0.01})
    }

    /// Sends a request to the stand-in's admin API under `/__standin/`.
    pub fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let root = self.url.split('/').take(3).collect::<Vec<_>>().join("/");
        let url = format!("{root}/__standin/{path}");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = match (method, body) {
            ("GET", _) => agent.get(&url).call(),
            ("DELETE", _) => agent.delete(&url).call(),
            ("POST", Some(body)) => agent
                .post(&url)
                .content_type("application/json")
                .send(body.to_string()),
            ("POST", None) => agent.post(&url).send_empty(),
            ("PATCH", Some(body)) => agent
                .patch(&url)
                .content_type("application/json")
                .send(body.to_string()),
            _ => panic!("unsupported admin request {method} {path}"),
        }
        .expect("admin request");
        let text = response
            .body_mut()
            .read_to_string()
            .expect("admin response");
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Path of a file under `tests/fixtures/`.
pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Creates a new empty directory for one test.
pub fn temp_dir(label: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{label}-{}-{unique}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Writes `value` as JSON into `dir/name` and returns the path.
pub fn write_json(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        serde_json::to_string_pretty(value).expect("serialize"),
    )
    .expect("write file");
    path
}

/// The outcome of one tap run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the tap with `args`, after `--config <file>` holding `config`.
///
/// Every run checks that the config's `api_key` appears nowhere in the
/// output, so each scenario of the suite is also a test for leaked keys.
pub fn tap(config: &Value, args: &[&str]) -> Run {
    tap_with_env(config, args, &[])
}

/// Runs the tap like [`tap`], with extra environment variables.
pub fn tap_with_env(config: &Value, args: &[&str], env: &[(&str, &str)]) -> Run {
    let dir = temp_dir("tap");
    let config_path = write_json(&dir, "config.json", config);
    let mut all_args = vec!["--config".to_string(), config_path.display().to_string()];
    all_args.extend(args.iter().map(|arg| arg.to_string()));
    let run = run_tap(&all_args, env);
    if let Some(key) = config["api_key"].as_str().filter(|key| key.len() >= 8) {
        assert!(!run.stdout.contains(key), "the API key appears on stdout");
        assert!(
            !run.stderr.contains(key),
            "the API key appears on stderr: {}",
            run.stderr
        );
    }
    run
}

/// Runs the tap with exactly `args`.
pub fn tap_raw(args: &[String]) -> Run {
    run_tap(args, &[])
}

/// Runs the tap with exactly `args` and extra environment variables.
pub fn run_tap(args: &[String], env: &[(&str, &str)]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_tap-healthchecks"))
        .args(args)
        .env_remove("TAP_HEALTHCHECKS_LOG_LEVEL")
        .envs(env.iter().copied())
        .output()
        .expect("run tap-healthchecks");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "the tap panicked: {}",
        run.stderr
    );
    run
}

impl Run {
    /// Asserts exit 0 and returns the run.
    pub fn success(self) -> Run {
        assert_eq!(self.code, 0, "tap failed: {}", self.stderr);
        self
    }

    /// Parses every stdout line, failing on a line that is not JSON.
    pub fn messages(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|_| panic!("stdout line is not JSON: {line}"))
            })
            .collect()
    }

    /// Returns the `record` objects of one stream, in order.
    pub fn records(&self, stream: &str) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
            .map(|m| m["record"].clone())
            .collect()
    }

    /// Returns the SCHEMA messages, in order.
    pub fn schemas(&self) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| m["type"] == "SCHEMA")
            .collect()
    }

    /// Returns the value of the last STATE message.
    pub fn last_state(&self) -> Value {
        let messages = self.messages();
        let last = messages.last().expect("some output");
        assert_eq!(last["type"], "STATE", "the last message is not STATE");
        last["value"].clone()
    }

    /// Returns the `error:` lines of stderr.
    pub fn errors(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|line| line.starts_with("error: "))
            .collect()
    }

    /// Lines of stderr at WARN level.
    pub fn warnings(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|line| line.contains(" WARN "))
            .collect()
    }
}

/// Checks that `time_extracted` is an RFC 3339 UTC time and replaces it, and
/// the server's URL, with fixed text so that outputs can be compared.
pub fn normalize(stdout: &str, server_url: &str) -> String {
    let mut lines = Vec::new();
    for line in stdout.lines() {
        let mut message: Value = serde_json::from_str(line).expect("stdout line is JSON");
        if message["type"] == "RECORD" {
            let extracted = message["time_extracted"].as_str().expect("time_extracted");
            let parsed = chrono::DateTime::parse_from_rfc3339(extracted)
                .expect("time_extracted is RFC 3339");
            assert_eq!(
                parsed.offset().local_minus_utc(),
                0,
                "time_extracted is not UTC"
            );
            assert!(
                extracted.ends_with('Z'),
                "time_extracted {extracted} does not end in Z"
            );
            message["time_extracted"] = json!("<time_extracted>");
        }
        lines.push(message.to_string().replace(server_url, "http://standin"));
    }
    lines.join("\n") + "\n"
}

/// Compares `actual` with `tests/golden/<name>`; `UPDATE_GOLDEN=1` rewrites it.
pub fn assert_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let first_difference = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "output differs from {} at line {}:\nexpected: {}\nactual:   {}\n\
             run with UPDATE_GOLDEN=1 to accept the new output",
            path.display(),
            first_difference + 1,
            expected.lines().nth(first_difference).unwrap_or("<end>"),
            actual.lines().nth(first_difference).unwrap_or("<end>"),
        );
    }
}
