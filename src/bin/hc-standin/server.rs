//! Shared server state and the top-level request dispatch.
//!
//! Every request goes either to the admin API (`/__standin/`, with or without the
//! prefix) or to the Healthchecks API. An API request first takes the first queued
//! fault that matches it and sleeps for `--latency-ms`. Then it gets its response and
//! is counted in the request statistics. Admin requests are neither delayed nor counted.

use std::collections::{HashMap, VecDeque};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::admin;
use crate::api;
use crate::dataset::Dataset;
use crate::faults::{self, FaultQueue};
use crate::http::{self, Outcome, Request};
use crate::routes::{self, Endpoint};

/// Most entries kept in the request log; older ones are dropped, counters stay exact.
const MAX_LOG_ENTRIES: usize = 100_000;

/// Options from the command line that change responses.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Path prefix before `/api/`, without a trailing slash (`""` for none).
    pub prefix: String,
    /// Sleep before each API response.
    pub latency: Duration,
    /// Replaces every project's `ping_log_limit` when set.
    pub ping_log_limit: Option<u64>,
    /// Fixed server clock (Unix seconds) for `?seconds=`; the system clock when unset.
    pub now: Option<i64>,
}

/// Key of a cached, unfiltered `GET checks/` body: project, read-only key, API version.
type CacheKey = (usize, bool, u8);

/// Everything the connection threads share.
pub struct State {
    pub settings: Settings,
    /// `http://127.0.0.1:PORT` plus the prefix: the `SITE_ROOT` of the real server.
    pub site_root: String,
    dataset: RwLock<Dataset>,
    cache: Mutex<HashMap<CacheKey, Arc<Vec<u8>>>>,
    stats: Mutex<Stats>,
    faults: Mutex<FaultQueue>,
}

/// Counters and a log of API requests, reported by `GET /__standin/requests`.
#[derive(Default)]
pub struct Stats {
    total: u64,
    by_endpoint: HashMap<Endpoint, u64>,
    log: VecDeque<Value>,
}

/// Serves an already bound `listener` on a background thread; returns the site root
/// URL and the thread's handle.
pub fn spawn(
    listener: TcpListener,
    dataset: Dataset,
    settings: Settings,
) -> Result<(String, JoinHandle<()>)> {
    let address = listener
        .local_addr()
        .context("failed to read the listening address")?;
    let site_root = format!("http://{address}{}", settings.prefix);
    let state = Arc::new(State {
        settings,
        site_root: site_root.clone(),
        dataset: RwLock::new(dataset),
        cache: Mutex::new(HashMap::new()),
        stats: Mutex::new(Stats::default()),
        faults: Mutex::new(FaultQueue::default()),
    });
    let handler: Arc<http::Handler> = Arc::new(move |request: &Request| handle(&state, request));
    let thread = thread::spawn(move || http::serve(listener, handler));
    Ok((site_root, thread))
}

/// Routes one request to the admin API or to the Healthchecks API.
pub fn handle(state: &State, request: &Request) -> Outcome {
    if let Some(admin_path) = state.admin_path(&request.path) {
        return Outcome::Respond(admin::respond(state, request, admin_path));
    }
    let route = routes::parse_route(&state.settings.prefix, &request.path);
    let fault = state.faults().take(&request.target);
    if !state.settings.latency.is_zero() {
        thread::sleep(state.settings.latency);
    }
    let outcome = match fault {
        Some(action) => faults::apply(&action, || api::respond(state, &route, request)),
        None => Outcome::Respond(api::respond(state, &route, request)),
    };
    let status = match &outcome {
        Outcome::Respond(response) | Outcome::Truncate(response, _) => Some(response.status),
        Outcome::Drop => None,
    };
    state.stats().record(request, route.endpoint(), status);
    outcome
}

impl State {
    /// Returns the path after `/__standin/` when the request is for the admin API.
    fn admin_path<'a>(&self, path: &'a str) -> Option<&'a str> {
        let unprefixed = path.strip_prefix(&self.settings.prefix).unwrap_or(path);
        unprefixed
            .strip_prefix("/__standin/")
            .or_else(|| path.strip_prefix("/__standin/"))
    }

    /// Locks the dataset for reading.
    pub fn dataset(&self) -> RwLockReadGuard<'_, Dataset> {
        self.dataset
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Locks the dataset for a change and empties the response cache, which the change
    /// may make stale. Readers fill the cache only while they hold the read lock.
    pub fn dataset_mut(&self) -> RwLockWriteGuard<'_, Dataset> {
        let guard = self
            .dataset
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
        guard
    }

    /// Returns the cached body for `key`, rendering and storing it on a miss.
    /// Call only while holding the dataset read lock that `render` reads from.
    pub fn cached(&self, key: CacheKey, render: impl FnOnce() -> Vec<u8>) -> Arc<Vec<u8>> {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(cache.entry(key).or_insert_with(|| Arc::new(render())))
    }

    /// Locks the request statistics.
    pub fn stats(&self) -> MutexGuard<'_, Stats> {
        self.stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Locks the queue of injected faults.
    pub fn faults(&self) -> MutexGuard<'_, FaultQueue> {
        self.faults
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Returns the ping log limit of a project, after the `--ping-log-limit` override.
    pub fn ping_log_limit(&self, project_limit: u64) -> u64 {
        self.settings.ping_log_limit.unwrap_or(project_limit)
    }

    /// Returns the server clock in Unix seconds.
    pub fn now(&self) -> i64 {
        self.settings
            .now
            .unwrap_or_else(|| chrono::Utc::now().timestamp())
    }
}

impl Stats {
    fn record(&mut self, request: &Request, endpoint: Endpoint, status: Option<u16>) {
        self.total += 1;
        *self.by_endpoint.entry(endpoint).or_default() += 1;
        if self.log.len() == MAX_LOG_ENTRIES {
            self.log.pop_front();
        }
        let entry = json!({"method": request.method, "path": request.target, "status": status});
        self.log.push_back(entry);
    }

    /// Resets every counter and empties the log.
    pub fn clear(&mut self) {
        *self = Stats::default();
    }

    /// Returns `{"total", "by_endpoint", "log"}` for the admin API.
    pub fn to_json(&self) -> Value {
        let mut by_endpoint = serde_json::Map::new();
        for endpoint in Endpoint::ALL {
            let count = self.by_endpoint.get(&endpoint).copied().unwrap_or(0);
            by_endpoint.insert(endpoint.name().to_string(), json!(count));
        }
        json!({"total": self.total, "by_endpoint": by_endpoint, "log": self.log})
    }
}
