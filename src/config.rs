//! Settings: the `--config` files turned into one validated [`Settings`].
//!
//! Several config files merge in order, later files winning. Every value is
//! checked here, once, with an error that names the setting, the value and
//! the fix; nothing downstream re-reads the JSON. [`SETTINGS`] is the one
//! list of settings, used for the unknown-key warning and the documentation.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use crate::retry::RetryPolicy;

/// The site root used when `base_url` is not set.
pub const DEFAULT_BASE_URL: &str = "https://healthchecks.io";

/// Seconds a request may take, connection and body included, by default.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;

/// Requests per minute on the hosted service unless configured: the limit
/// its API documentation requests clients to stay under.
pub const HOSTED_REQUESTS_PER_MINUTE: u32 = 100;

/// Seconds of flips read again before each flips bookmark, by default.
pub const DEFAULT_FLIPS_LOOKBACK_SECS: i64 = 3600;

/// One documented setting.
pub struct Setting {
    pub name: &'static str,
    /// JSON type: `string`, `integer`, `number` or `boolean`.
    pub kind: &'static str,
    /// The default, written as it would appear in the config file.
    pub default: Option<&'static str>,
    pub required: bool,
    pub secret: bool,
    pub description: &'static str,
}

/// Every setting the tap reads.
pub const SETTINGS: &[Setting] = &[
    Setting {
        name: "api_key",
        kind: "string",
        default: None,
        required: true,
        secret: true,
        description: "API key of the Healthchecks project (Settings > API Access). \
                      The read-write key syncs every stream; a read-only key syncs \
                      checks and flips only.",
    },
    Setting {
        name: "base_url",
        kind: "string",
        default: Some(DEFAULT_BASE_URL),
        required: false,
        secret: false,
        description: "Site root of the Healthchecks instance, with its path prefix \
                      if it has one, without /api/v3.",
    },
    Setting {
        name: "start_date",
        kind: "string",
        default: None,
        required: false,
        secret: false,
        description: "RFC 3339 date-time (or a plain YYYY-MM-DD date, read as midnight \
                      UTC); pings and flips older than this are not synced.",
    },
    Setting {
        name: "user_agent",
        kind: "string",
        default: Some(concat!("tap-healthchecks/", env!("CARGO_PKG_VERSION"))),
        required: false,
        secret: false,
        description: "User-Agent header sent with every request.",
    },
    Setting {
        name: "request_timeout",
        kind: "number",
        default: Some("30"),
        required: false,
        secret: false,
        description: "Seconds one request may take, from connecting to the last byte \
                      of the response.",
    },
    Setting {
        name: "max_retries",
        kind: "integer",
        default: Some("5"),
        required: false,
        secret: false,
        description: "Retries of a request that failed with HTTP 429, 500, 502, 503 or \
                      504, a timeout or a connection failure; 0 disables retrying.",
    },
    Setting {
        name: "backoff_max",
        kind: "number",
        default: Some("60"),
        required: false,
        secret: false,
        description: "Longest wait in seconds between two attempts. Waits start at \
                      one second and double, with jitter; a Retry-After header \
                      replaces the computed wait, up to this cap.",
    },
    Setting {
        name: "max_requests_per_minute",
        kind: "integer",
        default: Some("100 for healthchecks.io, else 0"),
        required: false,
        secret: false,
        description: "Maximum number of API requests sent in any 60 seconds; 0 means no limit. \
                      The hosted service asks API clients to stay under 100 a minute.",
    },
    Setting {
        name: "max_concurrency",
        kind: "integer",
        default: Some("4"),
        required: false,
        secret: false,
        description: "Checks whose pings and flips are requested at the same time. \
                      The output is the same for every value.",
    },
    Setting {
        name: "activate_version",
        kind: "boolean",
        default: Some("false"),
        required: false,
        secret: false,
        description: "Send ACTIVATE_VERSION messages for the full-table streams, checks \
                      and integrations, so that targets supporting them delete rows \
                      removed upstream.",
    },
    Setting {
        name: "log_level",
        kind: "string",
        default: Some("info"),
        required: false,
        secret: false,
        description: "Log level on stderr: error, warn, info, debug or trace. The \
                      --log-level option overrides it.",
    },
    Setting {
        name: "flips_lookback",
        kind: "integer",
        default: Some("3600"),
        required: false,
        secret: false,
        description: "Seconds before each check's flips bookmark that every sync \
                      reads again, because the server writes the flip for a missed \
                      deadline later, with an earlier timestamp.",
    },
    Setting {
        name: "flips_skip_unchanged",
        kind: "boolean",
        default: Some("true"),
        required: false,
        secret: false,
        description: "Skip the flips request of a check whose status, started, \
                      last_ping, next_ping and n_pings are unchanged since its last \
                      sync; false reads every check's flips on every sync.",
    },
];

/// The API key. Its `Debug` and `Display` never show the value.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// Returns the key itself, for the request header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Returns whether the key is a read-only key of the current format. Legacy
    /// 32-character keys carry no prefix, so for them the checks response
    /// decides.
    pub fn has_read_only_prefix(&self) -> bool {
        self.0.starts_with("hcr_")
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub api_key: ApiKey,
    /// Site root without a trailing slash, such as `https://healthchecks.io`
    /// or `https://example.org/hc`.
    pub base_url: String,
    pub start_date: Option<DateTime<Utc>>,
    pub user_agent: String,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// 0 means no limit.
    pub max_requests_per_minute: u32,
    /// How far before a flips bookmark each sync reads again.
    pub flips_lookback: chrono::Duration,
    pub flips_skip_unchanged: bool,
    /// Worker threads for per-check requests, at least 1.
    pub max_concurrency: usize,
    pub activate_version: bool,
    /// `None` when the setting is absent, so that the environment or the
    /// command line decide.
    pub log_level: Option<log::LevelFilter>,
}

/// Reads and merges the config files, then validates the result.
///
/// The source `ENV` stands for the `TAP_HEALTHCHECKS_<SETTING>`
/// environment variables, which win over every file whatever their order.
///
/// A `null` value counts as unset, so it does not override an earlier file.
pub fn load(sources: &[impl AsRef<Path>]) -> Result<Settings> {
    let merged = merge(sources)?;
    Settings::from_map(&merged).with_context(|| describe_sources(sources))
}

/// Loads the settings for discovery, which sends no request and so does
/// not need `api_key`: Meltano runs discovery before a key is configured.
pub fn load_for_discovery(sources: &[impl AsRef<Path>]) -> Result<()> {
    let mut merged = merge(sources)?;
    merged
        .entry("api_key")
        .or_insert_with(|| Value::from("hcw_notneededfordiscovery0000000"));
    Settings::from_map(&merged).with_context(|| describe_sources(sources))?;
    Ok(())
}

fn merge(sources: &[impl AsRef<Path>]) -> Result<Map<String, Value>> {
    let mut merged = Map::new();
    let mut from_env = false;
    for source in sources {
        let path = source.as_ref();
        if path == Path::new(ENV_SOURCE) {
            from_env = true;
        } else {
            let object = read_object(path, "config file")?;
            for name in object.keys() {
                if !SETTINGS.iter().any(|setting| setting.name == name) {
                    log::warn!(
                        "ignoring unknown setting {name:?} in config file {}",
                        path.display()
                    );
                }
            }
            merged.extend(object.into_iter().filter(|(_, value)| !value.is_null()));
        }
    }
    if from_env {
        merged.extend(read_env(|name| std::env::var_os(name))?);
    }
    Ok(merged)
}

/// Names the config sources in error messages, such as `config file
/// a.json` or `config from a.json, b.json and the environment`.
fn describe_sources(sources: &[impl AsRef<Path>]) -> String {
    let names: Vec<String> = sources
        .iter()
        .map(|source| match source.as_ref() {
            path if path == Path::new(ENV_SOURCE) => {
                "the TAP_HEALTHCHECKS_* environment variables".to_string()
            }
            path => path.display().to_string(),
        })
        .collect();
    match names.as_slice() {
        [single] if sources[0].as_ref() != Path::new(ENV_SOURCE) => format!("config file {single}"),
        [single] => format!("config from {single}"),
        [rest @ .., last] => format!("config from {} and {last}", rest.join(", ")),
        [] => "config".to_string(),
    }
}

/// The `--config` value that reads settings from the environment.
pub const ENV_SOURCE: &str = "ENV";

/// Prefix of the environment variables that hold settings.
pub const ENV_PREFIX: &str = "TAP_HEALTHCHECKS_";

/// Returns the environment variable of a setting, such as
/// `TAP_HEALTHCHECKS_API_KEY`.
pub fn env_var(setting: &Setting) -> String {
    format!("{ENV_PREFIX}{}", setting.name.to_uppercase())
}

/// Reads every set, non-empty setting variable through `lookup`, converting
/// it to the setting's JSON type.
fn read_env(lookup: impl Fn(&str) -> Option<std::ffi::OsString>) -> Result<Map<String, Value>> {
    let mut settings = Map::new();
    for setting in SETTINGS {
        let name = env_var(setting);
        let Some(raw) = lookup(&name).filter(|raw| !raw.is_empty()) else {
            continue;
        };
        let Some(raw) = raw.to_str().map(str::to_string) else {
            bail!("environment variable {name} is not valid UTF-8; fix or unset it");
        };
        let value = match setting.kind {
            "integer" => raw.trim().parse::<i64>().ok().map(Value::from),
            "number" => raw
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(|n| serde_json::Number::from_f64(n).map(Value::Number)),
            "boolean" => match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Some(Value::Bool(true)),
                "false" | "0" | "no" => Some(Value::Bool(false)),
                _ => None,
            },
            _ => Some(Value::String(raw.clone())),
        };
        let Some(value) = value else {
            // The value is not quoted because it may be the API key.
            bail!(
                "environment variable {name} is not a valid {}; fix or unset it",
                setting.kind
            );
        };
        settings.insert(setting.name.to_string(), value);
    }
    Ok(settings)
}

/// Reads a file that must contain one JSON object.
/// `what` names the file's role in messages, such as "config file".
pub fn read_object(path: &Path, what: &str) -> Result<Map<String, Value>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    // Editors on Windows may start a UTF-8 file with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let value: Value = serde_json::from_str(text)
        .with_context(|| format!("{what} {} is not valid JSON", path.display()))?;
    match value {
        Value::Object(object) => Ok(object),
        other => bail!(
            "{what} {} must contain a JSON object, not {}",
            path.display(),
            json_kind(&other)
        ),
    }
}

impl Settings {
    /// Validates a merged config object. A `null` value counts as unset.
    pub fn from_map(config: &Map<String, Value>) -> Result<Settings> {
        let value = |name: &str| config.get(name).filter(|value| !value.is_null());
        let base_url = match value("base_url") {
            Some(url) => parse_base_url(string_setting("base_url", url)?)?,
            None => DEFAULT_BASE_URL.to_string(),
        };
        let max_requests_per_minute = match value("max_requests_per_minute") {
            Some(limit) => parse_count("max_requests_per_minute", limit, 0, 1_000_000)?,
            None if is_hosted(&base_url) => HOSTED_REQUESTS_PER_MINUTE,
            None => 0,
        };
        Ok(Settings {
            api_key: parse_api_key(value("api_key"))?,
            base_url,
            start_date: value("start_date")
                .map(|date| parse_start_date(string_setting("start_date", date)?))
                .transpose()?,
            user_agent: match value("user_agent") {
                Some(agent) => parse_user_agent(string_setting("user_agent", agent)?)?,
                None => default_user_agent(),
            },
            request_timeout: match value("request_timeout") {
                Some(timeout) => parse_seconds("request_timeout", timeout)?,
                None => Duration::from_secs(DEFAULT_REQUEST_TIMEOUT_SECS),
            },
            retry: RetryPolicy {
                max_retries: match value("max_retries") {
                    Some(count) => parse_count("max_retries", count, 0, 100)?,
                    None => 5,
                },
                backoff_max: match value("backoff_max") {
                    Some(seconds) => parse_backoff_max(seconds)?,
                    None => Duration::from_secs(60),
                },
            },
            max_requests_per_minute,
            flips_lookback: match value("flips_lookback") {
                Some(seconds) => parse_lookback(seconds)?,
                None => chrono::Duration::seconds(DEFAULT_FLIPS_LOOKBACK_SECS),
            },
            flips_skip_unchanged: match value("flips_skip_unchanged") {
                Some(flag) => flag.as_bool().with_context(|| {
                    format!(
                        "flips_skip_unchanged must be true or false, not {}",
                        json_kind(flag)
                    )
                })?,
                None => true,
            },
            max_concurrency: match value("max_concurrency") {
                Some(count) => parse_count("max_concurrency", count, 1, 64)? as usize,
                None => 4,
            },
            activate_version: match value("activate_version") {
                Some(flag) => flag.as_bool().with_context(|| {
                    format!(
                        "activate_version must be true or false, not {}",
                        json_kind(flag)
                    )
                })?,
                None => false,
            },
            log_level: value("log_level")
                .map(|level| parse_log_level(string_setting("log_level", level)?))
                .transpose()?,
        })
    }
}

/// `tap-healthchecks/<version>`.
pub fn default_user_agent() -> String {
    format!("tap-healthchecks/{}", env!("CARGO_PKG_VERSION"))
}

fn string_setting<'a>(name: &str, value: &'a Value) -> Result<&'a str> {
    value
        .as_str()
        .with_context(|| format!("{name} must be a string, not {}", json_kind(value)))
}

fn parse_api_key(value: Option<&Value>) -> Result<ApiKey> {
    let Some(value) = value else {
        bail!(
            "api_key is missing; set it (or TAP_HEALTHCHECKS_API_KEY with --config ENV) to \
             the project's API key (Settings > API Access)"
        );
    };
    // The message must not quote the value: it is the secret.
    let Some(key) = value.as_str() else {
        bail!("api_key must be a string, not {}", json_kind(value));
    };
    if key.is_empty() {
        bail!("api_key is empty; set it to the project's API key (Settings > API Access)");
    }
    if key.chars().any(char::is_whitespace) {
        bail!("api_key contains whitespace; copy the key again without spaces or line breaks");
    }
    if !key.chars().all(|c| c.is_ascii_graphic()) {
        bail!("api_key contains characters other than printable ASCII; copy the key again");
    }
    if key.len() != 32 {
        log::warn!(
            "api_key is {} characters long, but Healthchecks keys have 32; \
             the server will reject it",
            key.len()
        );
    }
    remember_for_redaction(key);
    Ok(ApiKey(key.to_string()))
}

fn parse_base_url(raw: &str) -> Result<String> {
    let url = raw.trim_end_matches('/');
    let Some((scheme, rest)) = url.split_once("://") else {
        bail!("base_url {raw:?} is not an http(s) URL; write it like https://healthchecks.io");
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        bail!("base_url {raw:?} must start with http:// or https://");
    }
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || rest.contains(['?', '#']) || url.chars().any(char::is_whitespace) {
        bail!(
            "base_url {raw:?} is not a valid site root; give scheme, host and optional \
             path prefix, such as https://example.org/hc"
        );
    }
    if url.parse::<ureq::http::Uri>().is_err() {
        bail!("base_url {raw:?} is not a valid URL");
    }
    if host.contains('@') {
        bail!(
            "base_url {raw:?} contains a user name or password; remove it, since the tap authenticates with api_key"
        );
    }
    check_port(raw, host)?;
    for suffix in ["/api/v1", "/api/v2", "/api/v3"] {
        if let Some(root) = url.strip_suffix(suffix) {
            bail!("base_url {raw:?} ends with {suffix}; give the site root, {root:?}");
        }
    }
    warn_if_plain_http(url);
    Ok(url.to_string())
}

fn parse_start_date(raw: &str) -> Result<DateTime<Utc>> {
    let date = parse_date(raw)?;
    if date > Utc::now() {
        log::warn!("start_date {raw:?} is in the future, so no pings or flips will be synced yet");
    }
    Ok(date)
}

fn parse_date(raw: &str) -> Result<DateTime<Utc>> {
    if let Ok(date) = DateTime::parse_from_rfc3339(raw) {
        let date = date.with_timezone(&Utc);
        if !crate::streams::is_plausible_time(date) {
            bail!("start_date {raw:?} is outside the years 1 to 9999");
        }
        return Ok(date);
    }
    if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    bail!("start_date {raw:?} is not an RFC 3339 date-time; write it like 2024-01-31T00:00:00Z")
}

fn parse_user_agent(raw: &str) -> Result<String> {
    let valid = !raw.is_empty() && raw.chars().all(|c| c == ' ' || c.is_ascii_graphic());
    if !valid {
        bail!("user_agent {raw:?} must be non-empty printable ASCII");
    }
    Ok(raw.to_string())
}

/// Reads a number of seconds from 0.001 to one day.
fn parse_seconds(name: &str, value: &Value) -> Result<Duration> {
    let seconds = value.as_f64().with_context(|| {
        format!(
            "{name} must be a number of seconds, not {}",
            json_kind(value)
        )
    })?;
    if !(0.001..=86_400.0).contains(&seconds) {
        bail!("{name} {value} is out of range; give a number of seconds from 0.001 to 86400");
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn parse_log_level(raw: &str) -> Result<log::LevelFilter> {
    match raw.trim().parse::<log::LevelFilter>() {
        Ok(level) => Ok(level),
        Err(_) => bail!("log_level {raw:?} is invalid; use error, warn, info, debug or trace"),
    }
}

/// Reads a whole number from `min` to `max`.
fn parse_count(name: &str, value: &Value, min: u32, max: u32) -> Result<u32> {
    let count = value
        .as_u64()
        .filter(|count| (u64::from(min)..=u64::from(max)).contains(count));
    let Some(count) = count else {
        bail!("{name} {value} is invalid; give a whole number from {min} to {max}");
    };
    Ok(count as u32)
}

fn parse_backoff_max(value: &Value) -> Result<Duration> {
    let seconds = value
        .as_f64()
        .filter(|seconds| (0.0..=3600.0).contains(seconds));
    let Some(seconds) = seconds else {
        bail!("backoff_max {value} is invalid; give a number of seconds from 0 to 3600");
    };
    Ok(Duration::from_secs_f64(seconds))
}

/// Rejects a port that is not a number from 1 to 65535, which the HTTP
/// library would otherwise replace with the scheme's default port.
fn check_port(raw: &str, authority: &str) -> Result<()> {
    let after_host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once(']').map_or("", |(_, rest)| rest),
        None => authority.find(':').map_or("", |index| &authority[index..]),
    };
    let Some(port) = after_host.strip_prefix(':') else {
        return Ok(());
    };
    match port.parse::<u16>() {
        Ok(number) if number > 0 && port.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        _ => bail!("base_url {raw:?} has an invalid port {port:?}; give a number from 1 to 65535"),
    }
}

/// The API key to hide in messages, once the config has been read.
static REDACTED_KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn remember_for_redaction(key: &str) {
    // Keys shorter than 8 characters could match ordinary words.
    if key.len() >= 8 {
        let _ = REDACTED_KEY.set(key.to_string());
    }
}

/// Replaces the API key in `text` with `<api_key>`. Messages can contain
/// text from the server, which might echo the key back.
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    match REDACTED_KEY.get() {
        Some(key) if text.contains(key.as_str()) => text.replace(key.as_str(), "<api_key>").into(),
        _ => text.into(),
    }
}

/// Returns whether `base_url` is the hosted service, healthchecks.io.
fn is_hosted(base_url: &str) -> bool {
    host_of(base_url).eq_ignore_ascii_case("healthchecks.io")
}

/// Returns the host of a validated base URL, without port or user info.
fn host_of(base_url: &str) -> &str {
    let rest = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or_default();
    }
    host_port.split(':').next().unwrap_or_default()
}

/// Warns when the key would travel unencrypted to another machine.
fn warn_if_plain_http(base_url: &str) {
    if !base_url
        .get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
    {
        return;
    }
    let host = host_of(base_url);
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        log::warn!(
            "base_url uses plain http to {host}, so the API key travels unencrypted; \
             use https unless the network between them is trusted"
        );
    }
}

/// Reads a whole number of seconds from 0 to one year.
fn parse_lookback(value: &Value) -> Result<chrono::Duration> {
    const MAX: i64 = 366 * 86_400;
    let seconds = value.as_i64().filter(|seconds| (0..=MAX).contains(seconds));
    let Some(seconds) = seconds else {
        bail!("flips_lookback {value} is invalid; give a whole number of seconds from 0 to {MAX}");
    };
    Ok(chrono::Duration::seconds(seconds))
}

/// Names a JSON value's type for error messages.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "hcw_abcdefghijklmnopqrstuvwxyz12";

    fn settings(config: Value) -> Result<Settings> {
        Settings::from_map(config.as_object().expect("object"))
    }

    fn error(config: Value) -> String {
        format!("{:#}", settings(config).expect_err("invalid config"))
    }

    #[test]
    fn defaults() {
        let settings = settings(json!({"api_key": KEY})).expect("valid");
        assert_eq!(settings.base_url, "https://healthchecks.io");
        assert_eq!(settings.start_date, None);
        assert_eq!(
            settings.user_agent,
            format!("tap-healthchecks/{}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(settings.request_timeout, Duration::from_secs(30));
    }

    #[test]
    fn base_url_keeps_prefix_and_drops_trailing_slash() {
        let settings = settings(json!({"api_key": KEY, "base_url": "https://example.org/hc/"}));
        assert_eq!(settings.expect("valid").base_url, "https://example.org/hc");
    }

    #[test]
    fn base_url_errors() {
        let cases = [
            ("ftp://example.org", "must start with http:// or https://"),
            ("example.org", "is not an http(s) URL"),
            ("https://", "is not an http(s) URL"),
            ("https:///hc", "is not a valid site root"),
            ("https://example.org/?x=1", "is not a valid site root"),
            (
                "https://example.org/api/v3/",
                "give the site root, \"https://example.org\"",
            ),
        ];
        for (url, expected) in cases {
            let message = error(json!({"api_key": KEY, "base_url": url}));
            assert!(message.contains(expected), "{url}: {message}");
        }
    }

    #[test]
    fn start_date_forms() {
        let parse =
            |raw: &str| settings(json!({"api_key": KEY, "start_date": raw})).map(|s| s.start_date);
        let expected = "2024-01-31T00:00:00Z".parse::<DateTime<Utc>>().ok();
        assert_eq!(parse("2024-01-31T00:00:00Z").expect("valid"), expected);
        assert_eq!(parse("2024-01-31T02:00:00+02:00").expect("valid"), expected);
        assert_eq!(parse("2024-01-31").expect("valid"), expected);
        let message = format!("{:#}", parse("31/01/2024").expect_err("invalid"));
        assert!(
            message.contains("start_date \"31/01/2024\" is not an RFC 3339 date-time"),
            "{message}"
        );
    }

    #[test]
    fn api_key_errors_never_quote_the_key() {
        assert!(error(json!({})).contains("api_key is missing"));
        assert!(error(json!({"api_key": ""})).contains("api_key is empty"));
        assert!(error(json!({"api_key": 42})).contains("api_key must be a string, not a number"));
        let message = error(json!({"api_key": "hcw_secret value"}));
        assert!(message.contains("api_key contains whitespace"));
        assert!(!message.contains("secret"));
    }

    #[test]
    fn request_timeout_range() {
        assert!(
            error(json!({"api_key": KEY, "request_timeout": 0}))
                .contains("request_timeout 0 is out of range")
        );
        assert!(error(json!({"api_key": KEY, "request_timeout": -5})).contains("out of range"));
        assert!(
            error(json!({"api_key": KEY, "request_timeout": "30"}))
                .contains("must be a number of seconds, not a string")
        );
        let settings = settings(json!({"api_key": KEY, "request_timeout": 2.5})).expect("valid");
        assert_eq!(settings.request_timeout, Duration::from_millis(2500));
    }

    #[test]
    fn flips_settings() {
        let defaults = settings(json!({"api_key": KEY})).expect("valid");
        assert_eq!(defaults.flips_lookback, chrono::Duration::seconds(3600));
        assert!(defaults.flips_skip_unchanged);
        let set =
            settings(json!({"api_key": KEY, "flips_lookback": 0, "flips_skip_unchanged": false}));
        let set = set.expect("valid");
        assert_eq!(set.flips_lookback, chrono::Duration::zero());
        assert!(!set.flips_skip_unchanged);
        let message = error(json!({"api_key": KEY, "flips_lookback": -1}));
        assert!(
            message.contains("flips_lookback -1 is invalid"),
            "{message}"
        );
        assert!(
            error(json!({"api_key": KEY, "flips_lookback": 1.5}))
                .contains("flips_lookback 1.5 is invalid")
        );
        let message = error(json!({"api_key": KEY, "flips_skip_unchanged": "no"}));
        assert!(
            message.contains("flips_skip_unchanged must be true or false, not a string"),
            "{message}"
        );
    }

    #[test]
    fn retry_and_pacing_settings() {
        let defaults = settings(json!({"api_key": KEY})).expect("valid");
        assert_eq!(defaults.retry.max_retries, 5);
        assert_eq!(defaults.retry.backoff_max, Duration::from_secs(60));
        assert_eq!(defaults.max_requests_per_minute, 100);
        let self_hosted = settings(json!({"api_key": KEY, "base_url": "https://hc.example.org"}));
        assert_eq!(self_hosted.expect("valid").max_requests_per_minute, 0);
        let set = settings(
            json!({"api_key": KEY, "max_retries": 0, "backoff_max": 0.5, "max_requests_per_minute": 0}),
        );
        let set = set.expect("valid");
        assert_eq!(set.retry.max_retries, 0);
        assert_eq!(set.retry.backoff_max, Duration::from_millis(500));
        assert_eq!(set.max_requests_per_minute, 0);
        assert!(
            error(json!({"api_key": KEY, "max_retries": -1})).contains("max_retries -1 is invalid")
        );
        assert!(
            error(json!({"api_key": KEY, "backoff_max": "60"}))
                .contains("backoff_max \"60\" is invalid")
        );
        assert!(
            error(json!({"api_key": KEY, "max_requests_per_minute": 2.5}))
                .contains("max_requests_per_minute 2.5 is invalid")
        );
    }

    #[test]
    fn host_of_base_urls() {
        assert_eq!(host_of("https://healthchecks.io"), "healthchecks.io");
        assert_eq!(host_of("http://user@127.0.0.1:8000/hc"), "127.0.0.1");
        assert_eq!(host_of("http://[::1]:8000"), "::1");
        assert!(is_hosted("https://HealthChecks.io"));
        assert!(!is_hosted("https://healthchecks.io.example.org"));
    }

    #[test]
    fn env_values_take_the_setting_type() {
        let env = |name: &str| match name {
            "TAP_HEALTHCHECKS_API_KEY" => Some(KEY.into()),
            "TAP_HEALTHCHECKS_MAX_RETRIES" => Some("2".into()),
            "TAP_HEALTHCHECKS_BACKOFF_MAX" => Some("0.5".into()),
            "TAP_HEALTHCHECKS_ACTIVATE_VERSION" => Some("true".into()),
            "TAP_HEALTHCHECKS_START_DATE" => Some("".into()),
            _ => None,
        };
        let values = read_env(env).expect("valid");
        assert_eq!(
            Value::Object(values),
            json!({"api_key": KEY, "max_retries": 2, "backoff_max": 0.5, "activate_version": true})
        );
    }

    #[test]
    fn invalid_env_value_names_the_variable() {
        let env = |name: &str| (name == "TAP_HEALTHCHECKS_MAX_RETRIES").then(|| "many".into());
        let message = format!("{:#}", read_env(env).expect_err("invalid"));
        assert_eq!(
            message,
            "environment variable TAP_HEALTHCHECKS_MAX_RETRIES is not a valid integer; fix or unset it"
        );
    }

    #[test]
    fn log_level_setting() {
        let settings = settings(json!({"api_key": KEY, "log_level": "DEBUG"})).expect("valid");
        assert_eq!(settings.log_level, Some(log::LevelFilter::Debug));
        assert!(
            error(json!({"api_key": KEY, "log_level": "loud"}))
                .contains("log_level \"loud\" is invalid")
        );
    }

    #[test]
    fn null_means_unset() {
        let settings = settings(json!({"api_key": KEY, "base_url": null, "start_date": null}));
        assert_eq!(settings.expect("valid").base_url, DEFAULT_BASE_URL);
    }

    #[test]
    fn debug_hides_key() {
        let settings = settings(json!({"api_key": KEY})).expect("valid");
        let debug = format!("{settings:?}");
        assert!(!debug.contains(KEY), "{debug}");
        assert!(debug.contains("ApiKey(<redacted>)"));
    }

    #[test]
    fn sample_config_shows_every_setting() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_config.json");
        let sample =
            read_object(&path, "config file").expect("sample_config.json is a JSON object");
        let names: Vec<&str> = sample.keys().map(String::as_str).collect();
        let expected: Vec<&str> = SETTINGS.iter().map(|setting| setting.name).collect();
        assert_eq!(names, expected);
        Settings::from_map(&sample).expect("sample_config.json is valid");
    }

    #[test]
    fn user_agent_must_be_printable() {
        assert!(error(json!({"api_key": KEY, "user_agent": "a\nb"})).contains("printable ASCII"));
        assert!(error(json!({"api_key": KEY, "user_agent": ""})).contains("non-empty"));
    }
}
