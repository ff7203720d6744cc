//! The read side of the Healthchecks Management API under `<prefix>/api/v{1,2,3}/`.
//!
//! Endpoints: `checks/`, `checks/<uuid>`, `checks/<unique_key>`, `checks/<uuid>/pings/`,
//! `checks/<uuid>/pings/<n>/body`, `checks/<uuid or unique_key>/flips/`, `channels/`
//! and `status/`. Decisions come in the order upstream makes them:
//!
//! 1. route: unknown ⇒ 404 HTML, list URL without its slash ⇒ 301;
//! 2. method: OPTIONS ⇒ 204, anything but GET ⇒ 405;
//! 3. key: 401 JSON;
//! 4. check lookup: another project's UUID ⇒ 403, unknown UUID ⇒ 404 HTML, unknown
//!    unique_key ⇒ 404 empty;
//! 5. query parameters: invalid flips filters ⇒ 400.
//!
//! Write endpoints and `badges/` are not served. POST, DELETE and the other write
//! methods get 405 here, where a real server would act, and `badges/` gets 404.

use serde_json::{Value, json};

use crate::dataset::{Check, Dataset};
use crate::http::{Request, Response};
use crate::objects::{Context, channel_value, check_value, flip_value, ping_value};
use crate::query::{FlipsFilter, Query, check_matches};
use crate::render::to_django_json;
use crate::routes::{CheckId, Route};
use crate::server::State;

/// Most pings the pings endpoint returns, whatever the project's limit.
const MAX_PINGS_LISTED: u64 = 1000;
/// Content type of Django's plain `HttpResponse`, used by empty and HTML responses.
const DJANGO_HTML: &str = "text/html; charset=utf-8";

/// Reason for rejecting a key. Both reasons lead to 401 with a JSON error.
#[derive(Debug, PartialEq)]
pub enum AuthError {
    /// No `X-Api-Key` header, or a value that is not 32 characters long.
    MissingKey,
    /// A 32-character key of no project, or a read-only key on a read-write endpoint.
    WrongKey,
}

/// A key that passed authentication.
#[derive(Debug, PartialEq)]
pub struct Access {
    pub project: usize,
    pub read_only: bool,
}

/// Checks an `X-Api-Key` value as upstream `authorize`/`authorize_read` do.
pub fn authenticate(
    dataset: &Dataset,
    key: Option<&str>,
    needs_write: bool,
) -> Result<Access, AuthError> {
    let key = key
        .filter(|key| key.chars().count() == 32)
        .ok_or(AuthError::MissingKey)?;
    let access = dataset
        .projects
        .iter()
        .enumerate()
        .find_map(|(project, p)| {
            let read_only = if p.rw_key == key {
                false
            } else if p.ro_key == key {
                true
            } else {
                return None;
            };
            Some(Access {
                project,
                read_only: read_only || key.starts_with("hcr_"),
            })
        })
        .ok_or(AuthError::WrongKey)?;
    if needs_write && access.read_only {
        return Err(AuthError::WrongKey);
    }
    Ok(access)
}

/// Builds the response to an API request, without faults or latency.
pub fn respond(state: &State, route: &Route, request: &Request) -> Response {
    match route {
        Route::NotFound => return not_found_page(&request.path),
        Route::AddSlash => {
            let query = if request.query.is_empty() {
                String::new()
            } else {
                format!("?{}", request.query)
            };
            let location = format!("{}/{query}", request.path);
            return django_empty(301).with_header("Location", &location);
        }
        _ => {}
    }
    let response = match request.method.as_str() {
        "GET" => match route {
            Route::Status => Response::new(200, DJANGO_HTML, "OK"),
            _ => respond_authorized(state, route, request).unwrap_or_else(|error| error),
        },
        "OPTIONS" => django_empty(204),
        _ => django_empty(405),
    };
    response
        .with_header("Access-Control-Allow-Origin", "*")
        .with_header("Access-Control-Allow-Headers", "X-Api-Key")
        .with_header("Access-Control-Allow-Methods", "OPTIONS, GET")
        .with_header("Access-Control-Max-Age", "600")
}

fn respond_authorized(
    state: &State,
    route: &Route,
    request: &Request,
) -> Result<Response, Response> {
    let dataset = state.dataset();
    let needs_write = matches!(
        route,
        Route::Pings { .. } | Route::Body { .. } | Route::Channels { .. }
    );
    let access =
        authenticate(&dataset, request.header("x-api-key"), needs_write).map_err(unauthorized)?;
    let project = &dataset.projects[access.project];
    let version = route.version();
    let context = Context {
        site_root: &state.site_root,
        version,
        read_only: access.read_only,
    };
    let lookup = |id: &CheckId| find_check(&dataset, access.project, id, &request.path);
    let limit = state.ping_log_limit(project.ping_log_limit);
    match route {
        Route::Checks { .. } => Ok(list_checks(
            state,
            &dataset,
            &access,
            &context,
            &request.query,
        )),
        Route::Check { id, .. } => Ok(json_response(&check_value(lookup(id)?, &context))),
        Route::Pings { uuid, .. } => {
            let check = lookup(&CheckId::Uuid(uuid.clone()))?;
            Ok(list_pings(check, limit.min(MAX_PINGS_LISTED), &context))
        }
        Route::Body { uuid, n, .. } => {
            let check = lookup(&CheckId::Uuid(uuid.clone()))?;
            Ok(ping_body(check, *n, limit).unwrap_or_else(|| not_found_page(&request.path)))
        }
        Route::Flips { id, .. } => list_flips(lookup(id)?, &request.query, state.now()),
        Route::Channels { .. } => {
            let channels: Vec<Value> = project.channels.iter().map(channel_value).collect();
            Ok(json_response(&json!({"channels": channels})))
        }
        Route::Status | Route::AddSlash | Route::NotFound => Err(not_found_page(&request.path)),
    }
}

/// Finds a check for a key of project `project`; the error is the response to send.
fn find_check<'a>(
    dataset: &'a Dataset,
    project: usize,
    id: &CheckId,
    path: &str,
) -> Result<&'a Check, Response> {
    match id {
        CheckId::Uuid(uuid) => match dataset.find_check(uuid) {
            Some((owner, check)) if owner == project => Ok(check),
            Some(_) => Err(django_empty(403)),
            None => Err(not_found_page(path)),
        },
        CheckId::UniqueKey(key) => dataset.projects[project]
            .checks
            .iter()
            .find(|check| check.unique_key() == *key)
            .ok_or_else(|| django_empty(404)),
    }
}

fn list_checks(
    state: &State,
    dataset: &Dataset,
    access: &Access,
    context: &Context,
    query: &str,
) -> Response {
    let query = Query::parse(query);
    let checks = &dataset.projects[access.project].checks;
    let render = |filter: &dyn Fn(&Check) -> bool| {
        let items: Vec<Value> = checks
            .iter()
            .filter(|c| filter(c))
            .map(|c| check_value(c, context))
            .collect();
        to_django_json(&json!({"checks": items})).into_bytes()
    };
    if query.all("tag").is_empty() && query.all("slug").is_empty() {
        let key = (access.project, access.read_only, context.version);
        let body = state.cached(key, || render(&|_| true));
        return Response {
            status: 200,
            headers: json_headers(),
            body,
        };
    }
    Response::new(
        200,
        "application/json",
        render(&|check| check_matches(check, &query)),
    )
}

fn list_pings(check: &Check, limit: u64, context: &Context) -> Response {
    let first = check
        .pings
        .len()
        .saturating_sub(usize::try_from(limit).unwrap_or(usize::MAX));
    let items: Vec<Value> = check.pings[first..]
        .iter()
        .rev()
        .map(|ping| ping_value(ping, &check.uuid, context))
        .collect();
    json_response(&json!({"pings": items}))
}

/// Returns the body of ping `n`, or `None` for the 404 cases of upstream `ping_body`:
/// outside the retention window (`n <= n_pings - ping_log_limit`), no such ping,
/// or no body.
fn ping_body(check: &Check, n: u64, limit: u64) -> Option<Response> {
    if n <= check.n_pings.saturating_sub(limit) {
        return None;
    }
    let ping = check.pings.iter().rev().find(|ping| ping.n == Some(n))?;
    let bytes = ping.body.as_ref()?.to_bytes().ok()?;
    (!bytes.is_empty()).then(|| Response::new(200, "text/plain", bytes))
}

fn list_flips(check: &Check, query: &str, now: i64) -> Result<Response, Response> {
    let filter =
        FlipsFilter::from_query(&Query::parse(query), now).map_err(|_| django_empty(400))?;
    let items: Vec<Value> = check
        .flips
        .iter()
        .rev()
        .filter(|f| filter.accepts(f))
        .map(flip_value)
        .collect();
    Ok(json_response(&json!({"flips": items})))
}

fn unauthorized(error: AuthError) -> Response {
    let message = match error {
        AuthError::MissingKey => "missing api key",
        AuthError::WrongKey => "wrong api key",
    };
    json_response_with_status(401, &json!({"error": message}))
}

fn json_headers() -> Vec<(String, String)> {
    vec![("Content-Type".to_string(), "application/json".to_string())]
}

fn json_response(value: &Value) -> Response {
    json_response_with_status(200, value)
}

fn json_response_with_status(status: u16, value: &Value) -> Response {
    Response::json(status, to_django_json(value))
}

/// Builds an empty response with the headers of Django's `HttpResponse(status=...)`.
fn django_empty(status: u16) -> Response {
    Response::new(status, DJANGO_HTML, Vec::new())
}

/// Builds a short 404 page with the `<title>` of Django's debug 404 page.
pub fn not_found_page(path: &str) -> Response {
    let path = path
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n  <meta charset=\"utf-8\">\n  \
         <title>Page not found at {path}</title>\n</head>\n<body>\n  \
         <h1>Not Found</h1>\n  <p>The requested resource was not found on this server.</p>\n\
         </body>\n</html>\n"
    );
    Response::new(404, DJANGO_HTML, page)
}

#[cfg(test)]
mod tests;
