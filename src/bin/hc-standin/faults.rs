//! Injected faults for API requests, queued through `POST /__standin/faults`.
//!
//! A fault is `{"match": "<substring of the request target>", "times": N, "action": {...}}`
//! (`times` defaults to 1). The first queued fault whose `match` occurs in the request
//! target (path and query) applies, and is removed once used `times` times. An action
//! may wait first (`delay_ms`) and then does at most one of: respond with `status`
//! (optional `body` text and `headers`), `drop` the connection, `truncate` the normal
//! body after N bytes, or `redirect` with a 302. With only `delay_ms` the request
//! then gets its normal response.

use std::collections::BTreeMap;
use std::thread;
use std::time::Duration;

use anyhow::{Result, bail, ensure};
use serde::{Deserialize, Serialize};

use crate::http::{Outcome, Response};

/// One queued fault.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    #[serde(rename = "match")]
    pub pattern: String,
    #[serde(default = "one")]
    pub times: u32,
    pub action: Action,
}

/// Action applied to a request that a fault matches.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drop: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncate: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<String>,
}

/// Faults waiting to be used, in the order they were queued.
#[derive(Debug, Default)]
pub struct FaultQueue {
    faults: Vec<Fault>,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// Rejects faults that cannot be applied as written.
    pub fn validate(&self) -> Result<()> {
        ensure!(self.times >= 1, "times must be at least 1");
        let action = &self.action;
        let outcomes = [
            action.status.is_some(),
            action.drop,
            action.truncate.is_some(),
            action.redirect.is_some(),
        ];
        ensure!(
            outcomes.iter().filter(|set| **set).count() <= 1,
            "an action takes at most one of status, drop, truncate and redirect"
        );
        if action.status.is_none() {
            ensure!(
                action.body.is_none() && action.headers.is_empty(),
                "body and headers need a status"
            );
        }
        if let Some(status) = action.status {
            ensure!(
                (200..=599).contains(&status),
                "status {status} is outside 200..599"
            );
        }
        validate_headers(&action.headers)?;
        if let Some(location) = &action.redirect {
            validate_redirect(location)?;
        }
        Ok(())
    }
}

fn validate_headers(headers: &BTreeMap<String, String>) -> Result<()> {
    for (name, value) in headers {
        let valid_name =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
        ensure!(valid_name, "invalid header name {name:?}");
        ensure!(
            !value.contains(['\r', '\n']),
            "header {name} contains a line break"
        );
    }
    Ok(())
}

/// Rejects redirects that lead anywhere but a path or a URL on 127.0.0.1.
fn validate_redirect(location: &str) -> Result<()> {
    let local = location.starts_with("http://127.0.0.1:") || location.starts_with('/');
    if !local || location.contains(['\r', '\n']) {
        bail!("redirect {location:?} must be a path or an http://127.0.0.1:PORT/ URL");
    }
    Ok(())
}

impl FaultQueue {
    /// Appends faults after the ones already queued.
    pub fn extend(&mut self, faults: Vec<Fault>) {
        self.faults.extend(faults);
    }

    /// Empties the queue.
    pub fn clear(&mut self) {
        self.faults.clear();
    }

    /// Returns the faults still queued.
    pub fn pending(&self) -> &[Fault] {
        &self.faults
    }

    /// Uses one application of the first fault matching `target`.
    pub fn take(&mut self, target: &str) -> Option<Action> {
        let index = self
            .faults
            .iter()
            .position(|fault| target.contains(&fault.pattern))?;
        let fault = &mut self.faults[index];
        fault.times -= 1;
        let action = fault.action.clone();
        if fault.times == 0 {
            self.faults.remove(index);
        }
        Some(action)
    }
}

/// Applies an action; `normal` builds the response the request would get without it.
pub fn apply(action: &Action, normal: impl FnOnce() -> Response) -> Outcome {
    if let Some(delay) = action.delay_ms {
        thread::sleep(Duration::from_millis(delay));
    }
    if let Some(status) = action.status {
        return Outcome::Respond(status_response(status, action));
    }
    if action.drop {
        return Outcome::Drop;
    }
    if let Some(limit) = action.truncate {
        return Outcome::Truncate(normal(), limit);
    }
    if let Some(location) = &action.redirect {
        return Outcome::Respond(Response::empty(302).with_header("Location", location));
    }
    Outcome::Respond(normal())
}

fn status_response(status: u16, action: &Action) -> Response {
    let body = action.body.clone().unwrap_or_default();
    let has_content_type = action
        .headers
        .keys()
        .any(|name| name.eq_ignore_ascii_case("content-type"));
    let mut response = if has_content_type || body.is_empty() {
        Response {
            body: std::sync::Arc::new(body.into_bytes()),
            ..Response::empty(status)
        }
    } else {
        Response::new(status, "text/plain", body)
    };
    for (name, value) in &action.headers {
        response = response.with_header(name, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(text: &str) -> Fault {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn queue_uses_first_match_times() {
        let mut queue = FaultQueue::default();
        queue.extend(vec![
            fault(r#"{"match": "/pings/", "times": 2, "action": {"status": 503}}"#),
            fault(r#"{"match": "/checks/", "action": {"drop": true}}"#),
        ]);
        assert!(queue.take("/api/v3/channels/").is_none());
        assert_eq!(
            queue.take("/api/v3/checks/x/pings/").unwrap().status,
            Some(503)
        );
        assert_eq!(
            queue.take("/api/v3/checks/x/pings/").unwrap().status,
            Some(503)
        );
        assert!(queue.take("/api/v3/checks/x/pings/").unwrap().drop);
        assert!(queue.take("/api/v3/checks/").is_none());
    }

    #[test]
    fn validate_rejects_bad_actions() {
        let invalid = [
            r#"{"match": "", "times": 0, "action": {}}"#,
            r#"{"match": "", "action": {"status": 503, "drop": true}}"#,
            r#"{"match": "", "action": {"body": "x"}}"#,
            r#"{"match": "", "action": {"redirect": "http://example.org/"}}"#,
            r#"{"match": "", "action": {"status": 503, "headers": {"X-A": "a\r\nb"}}}"#,
            r#"{"match": "", "action": {"status": 99}}"#,
        ];
        for text in invalid {
            assert!(fault(text).validate().is_err(), "{text}");
        }
        let valid = r#"{"match": "", "action": {"redirect": "http://127.0.0.1:9/api/v3/checks/"}}"#;
        assert!(fault(valid).validate().is_ok());
    }

    #[test]
    fn status_action_sets_body_and_headers() {
        let action = fault(
            r#"{"match": "", "action": {"status": 429, "body": "slow down",
            "headers": {"Retry-After": "2"}}}"#,
        )
        .action;
        let Outcome::Respond(response) = apply(&action, || unreachable!()) else {
            panic!("expected a response");
        };
        assert_eq!(response.status, 429);
        assert_eq!(response.body.as_slice(), b"slow down");
        assert!(
            response
                .headers
                .contains(&("Retry-After".to_string(), "2".to_string()))
        );
    }
}
