//! HTTP client for the Healthchecks Management API v3.
//!
//! One ureq agent carries every request. The key travels in the `X-Api-Key`
//! header and nowhere else, and redirects are not followed, because a
//! redirect to another host would carry the key there. Every failure becomes
//! an [`ApiError`] that names the endpoint path and status but never the
//! key. Errors that
//! [`ApiError::is_retriable`] accepts are retried by the [`RetryPolicy`], and
//! every attempt first waits for its turn at the shared [`Pacer`].

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::de::DeserializeOwned;
use ureq::Agent;

use crate::config::{ApiKey, Settings};
use crate::retry::{Jitter, Pacer, RetryPolicy, parse_retry_after};

/// Largest response body read, in bytes. A project of 1,000 checks is about
/// 1.1 MB, so this leaves room for very large projects while still stopping
/// a runaway response.
const MAX_BODY_BYTES: u64 = 256 * 1024 * 1024;

/// Read client for one Healthchecks project, identified by its API key.
pub struct Client {
    agent: Agent,
    api_root: String,
    path_prefix: String,
    api_key: ApiKey,
    /// Scheme, host and port of base_url, for error messages.
    site: String,
    request_timeout: Duration,
    retry: RetryPolicy,
    pacer: Pacer,
    jitter: Mutex<Jitter>,
}

/// A failed API request.
#[derive(Debug)]
pub enum ApiError {
    /// The server returned a status other than 200.
    Status {
        path: String,
        status: u16,
        /// The `error` member of a JSON error body, when there is one.
        detail: Option<String>,
        /// The wait the server asked for in a `Retry-After` header.
        retry_after: Option<Duration>,
    },
    /// No complete response arrived within the request timeout.
    Timeout { path: String, after: Duration },
    /// The request did not complete: connection, DNS, TLS or a dropped
    /// connection.
    Transport {
        path: String,
        source: ureq::Error,
        /// Scheme, host and port of base_url.
        site: String,
    },
    /// The response arrived but its body is not what the API sends.
    Malformed { path: String, detail: String },
}

impl ApiError {
    /// Returns the wait requested by a `Retry-After` header.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Returns a short form for retry logs: the request and what went wrong,
    /// without advice.
    pub fn brief(&self) -> String {
        match self {
            ApiError::Status { path, status, .. } => {
                format!("GET {path} failed with HTTP {status}")
            }
            ApiError::Timeout { path, after } => {
                format!("GET {path} timed out after {} s", after.as_secs_f64())
            }
            other => other.to_string(),
        }
    }

    /// Returns the HTTP status, for errors that carry one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Returns whether repeating the same request may succeed: rate limiting, server
    /// errors, timeouts and connection failures are; other statuses and
    /// malformed bodies are not.
    pub fn is_retriable(&self) -> bool {
        match self {
            ApiError::Status { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
            ApiError::Timeout { .. } => true,
            ApiError::Transport { source, .. } => matches!(
                source,
                ureq::Error::Timeout(_)
                    | ureq::Error::Io(_)
                    | ureq::Error::ConnectionFailed
                    | ureq::Error::HostNotFound
            ),
            ApiError::Malformed { .. } => false,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Status {
                path,
                status,
                detail,
                ..
            } => {
                write!(f, "GET {path} failed with HTTP {status}")?;
                if let Some(detail) = detail {
                    write!(f, " ({detail})")?;
                }
                f.write_str(status_hint(path, *status, detail.as_deref()))
            }
            ApiError::Timeout { path, after } => write!(
                f,
                "GET {path} timed out after {} s; raise request_timeout if the server is slow",
                after.as_secs_f64()
            ),
            ApiError::Transport { path, source, site } => write!(
                f,
                "GET {path} failed: {source}; check that base_url {site} is right and the server is reachable"
            ),
            ApiError::Malformed { path, detail } => {
                write!(f, "GET {path} returned an unexpected body: {detail}")
            }
        }
    }
}

impl std::error::Error for ApiError {}

/// Returns the advice that follows a status in an error message. `path`
/// distinguishes a list endpoint from a per-check one, and `detail` the server's reason.
fn status_hint(path: &str, status: u16, detail: Option<&str>) -> &'static str {
    let per_check = path.contains("/checks/") && !path.ends_with("/api/v3/checks/");
    match status {
        401 if detail == Some("missing api key") => {
            ": the server did not accept the form of the key; api_key must be the \
             project's 32-character API key"
        }
        401 if per_check || path.ends_with("/channels/") => {
            ": the API key was rejected; a read-only key cannot read this endpoint, so \
             set api_key to the project's read-write key"
        }
        401 => ": the API key was rejected; check api_key",
        403 => ": the check belongs to a project other than the API key's",
        404 if per_check => {
            ": not found; if the check still exists, a proxy or the path prefix in \
             base_url may be answering instead"
        }
        404 => {
            ": check that base_url is the site root of the Healthchecks instance, \
             with its path prefix if it has one (for example https://healthchecks.io \
             or https://example.org/hc)"
        }
        301 | 302 | 303 | 307 | 308 => {
            ": the server redirected the request, which the tap does not follow; \
             set base_url to the address the server redirects to"
        }
        429 => ": the server is rate limiting requests",
        200..=299 => ": the API answers 200, so a proxy may be changing the response",
        _ => "",
    }
}

impl Client {
    /// Builds the client from validated settings.
    pub fn new(settings: &Settings) -> Client {
        let config = Agent::config_builder()
            .timeout_global(Some(settings.request_timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(settings.user_agent.as_str())
            .build();
        Client {
            agent: config.into(),
            api_root: format!("{}/api/v3/", settings.base_url),
            path_prefix: path_of(&settings.base_url),
            api_key: settings.api_key.clone(),
            site: site_of(&settings.base_url),
            request_timeout: settings.request_timeout,
            retry: settings.retry,
            pacer: Pacer::new(settings.max_requests_per_minute),
            jitter: Mutex::new(Jitter::new()),
        }
    }

    /// Requests `path` (relative to `/api/v3/`) and decodes its JSON body.
    pub fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        let shown_path = format!("{}/api/v3/{path}", self.path_prefix);
        let body = self.get_with_retries(path, query, &shown_path)?;
        if let Ok(value) = serde_json::from_slice(&body) {
            return Ok(value);
        }
        // Decoding again while tracking the path costs time, so it is done
        // only to describe an error.
        let mut deserializer = serde_json::Deserializer::from_slice(&body);
        let detail = match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
            // The first decoding failed, so the value is followed by
            // something other than whitespace.
            Ok(_) => match deserializer.end() {
                Err(error) => format!("invalid JSON: {error}"),
                Ok(()) => "invalid JSON".to_string(),
            },
            Err(error) => describe_json_error(&body, &error),
        };
        Err(ApiError::Malformed {
            detail,
            path: shown_path,
        })
    }

    /// Requests `path` (relative to `/api/v3/`) and returns its body bytes.
    pub fn get_bytes(&self, path: &str) -> Result<Vec<u8>, ApiError> {
        let shown_path = format!("{}/api/v3/{path}", self.path_prefix);
        self.get_with_retries(path, &[], &shown_path)
    }

    /// Makes a GET request, retrying retriable failures, and returns the
    /// body of a 2xx response.
    fn get_with_retries(
        &self,
        path: &str,
        query: &[(&str, String)],
        shown_path: &str,
    ) -> Result<Vec<u8>, ApiError> {
        let mut retry = 0;
        loop {
            self.pacer.wait_turn();
            let error = match self.get(path, query, shown_path) {
                Ok(body) => return Ok(body),
                Err(error) => error,
            };
            if !error.is_retriable() || retry >= self.retry.max_retries {
                return Err(error);
            }
            retry += 1;
            let jitter = self.jitter.lock().map_or(0.5, |mut jitter| jitter.next());
            let wait = self.retry.wait(retry, error.retry_after(), jitter);
            log::warn!(
                "{}; retry {retry} of {} in {:.1} s",
                error.brief(),
                self.retry.max_retries,
                wait.as_secs_f64()
            );
            std::thread::sleep(wait);
        }
    }

    /// Makes one GET request and returns the body of a 2xx response.
    fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        shown_path: &str,
    ) -> Result<Vec<u8>, ApiError> {
        let transport = |source| match source {
            ureq::Error::Timeout(_) => ApiError::Timeout {
                path: shown_path.to_string(),
                after: self.request_timeout,
            },
            source => ApiError::Transport {
                path: shown_path.to_string(),
                source,
                site: self.site.clone(),
            },
        };

        let mut request = self
            .agent
            .get(format!("{}{path}", self.api_root))
            .header("X-Api-Key", self.api_key.expose())
            .header("Accept", "application/json");
        for (name, value) in query {
            request = request.query(*name, value);
        }

        let started = Instant::now();
        let mut response = match request.call() {
            Ok(response) => response,
            Err(error) => {
                log_duration(path, started, None);
                return Err(transport(error));
            }
        };
        let status = response.status().as_u16();
        log::debug!("GET {shown_path} -> {status} in {:?}", started.elapsed());

        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, Utc::now()));
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_vec()
            .map_err(transport);
        log_duration(path, started, Some(status).filter(|_| body.is_ok()));
        let body = body?;

        if status == 200 {
            return Ok(body);
        }
        Err(ApiError::Status {
            path: shown_path.to_string(),
            status,
            detail: error_detail(&body),
            retry_after,
        })
    }
}

/// Logs the `http_request_duration` metric in the singer-python and Meltano
/// SDK form. `status` is `None` when no complete response arrived.
fn log_duration(path: &str, started: Instant, status: Option<u16>) {
    let succeeded = status == Some(200);
    let metric = serde_json::json!({
        "type": "timer",
        "metric": "http_request_duration",
        // Microseconds are plenty, and keep float noise out of the logs.
        "value": (started.elapsed().as_secs_f64() * 1e6).round() / 1e6,
        "tags": {
            "endpoint": endpoint_template(path),
            "http_status_code": status,
            "status": if succeeded { "succeeded" } else { "failed" },
        },
    });
    log::info!("METRIC: {metric}");
}

/// Replaces check identifiers in a path relative to `/api/v3/` with
/// `{check}`, so that metrics group by endpoint, such as
/// `/api/v3/checks/{check}/pings/`.
fn endpoint_template(path: &str) -> String {
    let segments: Vec<&str> = path
        .split('/')
        .map(|segment| {
            if segment.len() >= 36 && segment.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
                "{check}"
            } else {
                segment
            }
        })
        .collect();
    format!("/api/v3/{}", segments.join("/"))
}

/// Returns the `error` member of a JSON error body such as `{"error": "wrong api key"}`.
fn error_detail(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let detail = value.get("error")?.as_str()?;
    // Redacted before it is shortened, so that no part of an echoed key
    // survives the cut.
    Some(crate::config::redact(detail).chars().take(200).collect())
}

/// Explains why a 2xx body failed to decode, naming the JSON path of the bad
/// value and recognising the HTML page a proxy or a wrong base_url produces.
fn describe_json_error(
    body: &[u8],
    error: &serde_path_to_error::Error<serde_json::Error>,
) -> String {
    let start = String::from_utf8_lossy(&body[..body.len().min(100)])
        .trim_start()
        .to_lowercase();
    if start.starts_with("<!doctype html") || start.starts_with("<html") {
        return "expected JSON but got an HTML page; check base_url".to_string();
    }
    if body.is_empty() {
        return "expected JSON but the body is empty".to_string();
    }
    let path = error.path().to_string();
    if path == "." {
        return format!("invalid JSON: {}", error.inner());
    }
    format!("invalid JSON at {path}: {}", error.inner())
}

/// Returns the scheme, host and port of a base URL, without its path.
fn site_of(base_url: &str) -> String {
    base_url[..base_url.len() - path_of(base_url).len()].to_string()
}

/// Returns the path part of a base URL, such as `/hc` for `https://example.org/hc`.
fn path_of(base_url: &str) -> String {
    let after_scheme = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    after_scheme
        .find('/')
        .map_or(String::new(), |index| after_scheme[index..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16) -> ApiError {
        ApiError::Status {
            path: "/api/v3/checks/".into(),
            status,
            detail: None,
            retry_after: None,
        }
    }

    #[test]
    fn retriable_statuses() {
        for code in [429, 500, 502, 503, 504] {
            assert!(status(code).is_retriable(), "{code}");
        }
        for code in [301, 400, 401, 403, 404, 405, 501] {
            assert!(!status(code).is_retriable(), "{code}");
        }
    }

    #[test]
    fn malformed_is_not_retriable() {
        let error = ApiError::Malformed {
            path: "/x".into(),
            detail: "truncated".into(),
        };
        assert!(!error.is_retriable());
    }

    #[test]
    fn status_message_names_path_and_fix() {
        let error = ApiError::Status {
            path: "/api/v3/channels/".into(),
            status: 401,
            detail: Some("wrong api key".into()),
            retry_after: None,
        };
        let message = error.to_string();
        assert!(
            message.starts_with("GET /api/v3/channels/ failed with HTTP 401 (wrong api key): ")
        );
        assert!(message.contains("read-write key"));
    }

    #[test]
    fn error_detail_reads_json_error() {
        assert_eq!(
            error_detail(br#"{"error": "missing api key"}"#).as_deref(),
            Some("missing api key")
        );
        assert_eq!(error_detail(b"<html></html>"), None);
        assert_eq!(error_detail(b""), None);
    }

    #[test]
    fn html_body_is_recognised() {
        let body = b"<!DOCTYPE html><html><title>Not Found</title>";
        let error = decode::<serde_json::Value>(body).expect_err("not JSON");
        assert_eq!(
            describe_json_error(body, &error),
            "expected JSON but got an HTML page; check base_url"
        );
    }

    fn decode<T: serde::de::DeserializeOwned>(
        body: &[u8],
    ) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body))
    }

    #[test]
    fn wrong_type_names_json_path() {
        #[derive(Debug, serde::Deserialize)]
        struct Page {
            #[allow(dead_code)]
            checks: Vec<crate::streams::checks::Check>,
        }
        let body = br#"{"checks": [{"grace": 1}, {"grace": "soon"}]}"#;
        let error = decode::<Page>(body).expect_err("wrong type");
        assert_eq!(
            describe_json_error(body, &error),
            "invalid JSON at checks[1].grace: invalid type: string \"soon\", expected i64 at line 1 column 42"
        );
    }

    #[test]
    fn truncated_body_is_described() {
        let body = br#"{"checks": [{"grace": 1"#;
        let error = decode::<serde_json::Value>(body).expect_err("truncated");
        let message = describe_json_error(body, &error);
        assert!(message.starts_with("invalid JSON"), "{message}");
        assert!(message.contains("EOF while parsing"), "{message}");
    }

    #[test]
    fn endpoint_templates() {
        assert_eq!(endpoint_template("checks/"), "/api/v3/checks/");
        assert_eq!(
            endpoint_template("checks/2af601b3-3c51-42b1-b120-42fec2a4f3aa/pings/"),
            "/api/v3/checks/{check}/pings/"
        );
        assert_eq!(
            endpoint_template("checks/f65df2bf8fb59dbf320d41895f3b52f416bd3de7/flips/"),
            "/api/v3/checks/{check}/flips/"
        );
        assert_eq!(endpoint_template("channels/"), "/api/v3/channels/");
    }

    #[test]
    fn path_of_base_url() {
        assert_eq!(path_of("https://healthchecks.io"), "");
        assert_eq!(path_of("http://127.0.0.1:8000/hc"), "/hc");
        assert_eq!(path_of("https://example.org/a/b"), "/a/b");
    }
}
