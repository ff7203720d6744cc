//! Admin API for tests under `/__standin/`: no key, JSON in and out, never counted.
//!
//! | request | body | effect |
//! |---|---|---|
//! | `GET dataset` | – | the current dataset, in the dataset file format |
//! | `POST pings` | `{"check": uuid, "pings": [Ping...]}` | appends pings (see below) |
//! | `POST flips` | `{"check": uuid, "flips": [Flip...]}` | appends flips |
//! | `POST checks` | `{"project": index (default 0), "check": Check}` | adds a check |
//! | `PATCH checks/<uuid>` | object of check fields | replaces those fields |
//! | `DELETE checks/<uuid>` | – | removes the check |
//! | `GET requests` | – | `{"total", "by_endpoint", "log"}` of API requests |
//! | `POST reset` | – | clears the request counters and log |
//! | `POST faults` | `{"faults": [Fault...]}` | queues faults (see `faults.rs`) |
//! | `GET faults` / `DELETE faults` | – | lists / clears the queued faults |
//!
//! Appended pings without `n` get `n_pings + 1`, `n_pings + 2`, ...; `n_pings` becomes
//! the highest `n`, and `last_ping` the date (whole seconds) of the last appended
//! success or fail ping. Status, `next_ping` and flips stay as stored: set them with
//! `PATCH` and `POST flips`. Every change is validated like a dataset file and applied
//! whole or not at all. Errors are `{"error": "..."}` with 400, 404, 405 or 409.
//!
//! `by_endpoint` has the keys `checks`, `pings`, `flips`, `channels`, `check` (one
//! check by UUID or unique_key), `body` and `other` (status, redirects, unknown
//! paths). Each `log` entry is `{"method", "path", "status"}`, where `path` includes
//! the query string and `status` is null for a dropped connection. The log keeps the
//! newest 100,000 entries, while the counters cover every request.

use anyhow::{Context, Result, anyhow, ensure};
use chrono::Utc;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::dataset::{self, Check, Dataset, Flip, Ping, format_timestamp, parse_timestamp};
use crate::faults::Fault;
use crate::http::{Request, Response};
use crate::server::State;

/// A failed admin request: HTTP status and message.
struct Failure {
    status: u16,
    message: String,
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Failure {
        Failure {
            status: 400,
            message: format!("{error:#}"),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPings {
    check: String,
    pings: Vec<Ping>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewFlips {
    check: String,
    flips: Vec<Flip>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCheck {
    #[serde(default)]
    project: usize,
    check: Check,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewFaults {
    faults: Vec<Fault>,
}

/// Handles an admin request. `path` is the part after `/__standin/`.
pub fn respond(state: &State, request: &Request, path: &str) -> Response {
    let result = match (request.method.as_str(), path) {
        ("GET", "dataset") => {
            serde_json::to_value(&*state.dataset()).map_err(|e| Failure::from(anyhow!(e)))
        }
        ("POST", "pings") => parse(&request.body).and_then(|new| append_pings(state, new)),
        ("POST", "flips") => parse(&request.body).and_then(|new| append_flips(state, new)),
        ("POST", "checks") => parse(&request.body).and_then(|new| add_check(state, new)),
        ("GET", "requests") => Ok(state.stats().to_json()),
        ("POST", "reset") => {
            state.stats().clear();
            Ok(json!({"reset": true}))
        }
        ("POST", "faults") => parse(&request.body).and_then(|new| queue_faults(state, new)),
        ("GET", "faults") => Ok(json!({"faults": state.faults().pending()})),
        ("DELETE", "faults") => {
            state.faults().clear();
            Ok(json!({"faults": []}))
        }
        (method, _) => match path.strip_prefix("checks/") {
            Some(uuid) if method == "PATCH" => {
                parse(&request.body).and_then(|patch| patch_check(state, uuid, patch))
            }
            Some(uuid) if method == "DELETE" => delete_check(state, uuid),
            _ => Err(unknown_request(method, path)),
        },
    };
    match result {
        Ok(value) => Response::json(200, value.to_string()),
        Err(failure) => Response::json(
            failure.status,
            json!({"error": failure.message}).to_string(),
        ),
    }
}

fn unknown_request(method: &str, path: &str) -> Failure {
    let known = [
        "dataset", "pings", "flips", "checks", "requests", "reset", "faults",
    ];
    let status = if known.contains(&path) || path.starts_with("checks/") {
        405
    } else {
        404
    };
    Failure {
        status,
        message: format!("no admin endpoint for {method} /__standin/{path}"),
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    Ok(serde_json::from_slice(body).context("invalid request body")?)
}

fn not_found(uuid: &str) -> Failure {
    Failure {
        status: 404,
        message: format!("check {uuid:?} not found"),
    }
}

/// Applies `change` to a copy of a check, validates the copy, and stores it.
fn update_check(
    state: &State,
    uuid: &str,
    change: impl FnOnce(&mut Check) -> Result<Value>,
) -> Result<Value, Failure> {
    let mut dataset = state.dataset_mut();
    let (project, index) = locate(&dataset, uuid).ok_or_else(|| not_found(uuid))?;
    let mut check = dataset.projects[project].checks[index].clone();
    let result = change(&mut check)?;
    dataset::validate_check(&check, &dataset.projects[project].channels)?;
    dataset.projects[project].checks[index] = check;
    Ok(result)
}

fn locate(dataset: &Dataset, uuid: &str) -> Option<(usize, usize)> {
    dataset
        .projects
        .iter()
        .enumerate()
        .find_map(|(project, p)| {
            p.checks
                .iter()
                .position(|check| check.uuid == uuid)
                .map(|index| (project, index))
        })
}

fn append_pings(state: &State, new: NewPings) -> Result<Value, Failure> {
    update_check(state, &new.check, |check| {
        for mut ping in new.pings {
            let n = *ping.n.get_or_insert(check.n_pings + 1);
            ensure!(n >= 1, "ping n must be at least 1");
            check.n_pings = check.n_pings.max(n);
            if ping.kind == "success" || ping.kind == "fail" {
                let date = parse_timestamp(&ping.date)?.with_timezone(&Utc);
                check.last_ping = Some(format_timestamp(date, true));
            }
            check.pings.push(ping);
        }
        Ok(json!({"check": check.uuid, "n_pings": check.n_pings, "last_ping": check.last_ping}))
    })
}

fn append_flips(state: &State, new: NewFlips) -> Result<Value, Failure> {
    update_check(state, &new.check, |check| {
        check.flips.extend(new.flips);
        Ok(json!({"check": check.uuid, "flips": check.flips.len()}))
    })
}

fn add_check(state: &State, new: NewCheck) -> Result<Value, Failure> {
    let mut dataset = state.dataset_mut();
    let mut check = new.check;
    if locate(&dataset, &check.uuid).is_some() {
        let message = format!("check {:?} already exists", check.uuid);
        return Err(Failure {
            status: 409,
            message,
        });
    }
    let count = dataset.projects.len();
    let project = dataset
        .projects
        .get_mut(new.project)
        .ok_or_else(|| anyhow!("project {} not found: the dataset has {count}", new.project))?;
    check.fill_defaults();
    dataset::validate_check(&check, &project.channels)?;
    let uuid = check.uuid.clone();
    project.checks.push(check);
    Ok(json!({"check": uuid, "project": new.project}))
}

fn patch_check(
    state: &State,
    uuid: &str,
    patch: serde_json::Map<String, Value>,
) -> Result<Value, Failure> {
    update_check(state, uuid, |check| {
        let mut fields = match serde_json::to_value(&*check)? {
            Value::Object(fields) => fields,
            _ => unreachable!("a check serializes to an object"),
        };
        if let Some(new_uuid) = patch.get("uuid") {
            ensure!(new_uuid == uuid, "uuid cannot be changed");
        }
        fields.extend(patch);
        *check = serde_json::from_value(Value::Object(fields)).context("invalid check fields")?;
        Ok(json!({"check": check.uuid}))
    })
}

fn delete_check(state: &State, uuid: &str) -> Result<Value, Failure> {
    let mut dataset = state.dataset_mut();
    let (project, index) = locate(&dataset, uuid).ok_or_else(|| not_found(uuid))?;
    dataset.projects[project].checks.remove(index);
    Ok(json!({"deleted": uuid}))
}

fn queue_faults(state: &State, new: NewFaults) -> Result<Value, Failure> {
    for (index, fault) in new.faults.iter().enumerate() {
        fault.validate().with_context(|| format!("fault {index}"))?;
    }
    let mut queue = state.faults();
    queue.extend(new.faults);
    Ok(json!({"queued": queue.pending().len()}))
}
