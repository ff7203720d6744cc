//! Routing of API paths, as upstream `hc/api/urls.py` routes them.
//!
//! Versions 1, 2 and 3 share the routes. A check is named by a lowercase dashed UUID
//! or, on the single-check and flips routes only, by its 40-hex-digit `unique_key`.
//! List routes need their trailing slash, single-check routes must not have one.

use crate::dataset::is_uuid;

/// A routed API path.
#[derive(Debug, PartialEq)]
pub enum Route {
    Checks {
        version: u8,
    },
    Check {
        version: u8,
        id: CheckId,
    },
    Pings {
        version: u8,
        uuid: String,
    },
    Body {
        version: u8,
        uuid: String,
        n: u64,
    },
    Flips {
        version: u8,
        id: CheckId,
    },
    Channels {
        version: u8,
    },
    Status,
    /// A list URL without its trailing slash: redirect to the slashed URL.
    AddSlash,
    NotFound,
}

/// Check identifier in a request path.
#[derive(Debug, PartialEq)]
pub enum CheckId {
    Uuid(String),
    UniqueKey(String),
}

/// Endpoint groups counted by `GET /__standin/requests`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Checks,
    Pings,
    Flips,
    Channels,
    Check,
    Body,
    Other,
}

impl Endpoint {
    pub const ALL: [Endpoint; 7] = [
        Endpoint::Checks,
        Endpoint::Pings,
        Endpoint::Flips,
        Endpoint::Channels,
        Endpoint::Check,
        Endpoint::Body,
        Endpoint::Other,
    ];

    /// Returns the key used in the statistics JSON.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Checks => "checks",
            Endpoint::Pings => "pings",
            Endpoint::Flips => "flips",
            Endpoint::Channels => "channels",
            Endpoint::Check => "check",
            Endpoint::Body => "body",
            Endpoint::Other => "other",
        }
    }
}

impl Route {
    /// Returns the API version in the path; 3 for routes that carry none.
    pub fn version(&self) -> u8 {
        match self {
            Route::Checks { version }
            | Route::Check { version, .. }
            | Route::Pings { version, .. }
            | Route::Body { version, .. }
            | Route::Flips { version, .. }
            | Route::Channels { version } => *version,
            Route::Status | Route::AddSlash | Route::NotFound => 3,
        }
    }

    /// Returns the statistics group of the route.
    pub fn endpoint(&self) -> Endpoint {
        match self {
            Route::Checks { .. } => Endpoint::Checks,
            Route::Check { .. } => Endpoint::Check,
            Route::Pings { .. } => Endpoint::Pings,
            Route::Body { .. } => Endpoint::Body,
            Route::Flips { .. } => Endpoint::Flips,
            Route::Channels { .. } => Endpoint::Channels,
            Route::Status | Route::AddSlash | Route::NotFound => Endpoint::Other,
        }
    }
}

/// Routes a request path (without query) the way upstream `hc/api/urls.py` does.
pub fn parse_route(prefix: &str, path: &str) -> Route {
    let Some(rest) = path
        .strip_prefix(prefix)
        .and_then(|p| p.strip_prefix("/api/v"))
    else {
        return Route::NotFound;
    };
    let version = match rest.get(..2) {
        Some("1/") => 1,
        Some("2/") => 2,
        Some("3/") => 3,
        _ => return Route::NotFound,
    };
    let segments: Vec<&str> = rest[2..].split('/').collect();
    route_segments(version, &segments)
}

fn route_segments(version: u8, segments: &[&str]) -> Route {
    match *segments {
        ["checks", ""] => Route::Checks { version },
        ["channels", ""] => Route::Channels { version },
        ["status", ""] => Route::Status,
        ["checks"] | ["channels"] | ["status"] => Route::AddSlash,
        ["checks", id] => match check_id(id) {
            Some(id) => Route::Check { version, id },
            None => Route::NotFound,
        },
        ["checks", id, "flips", ""] => match check_id(id) {
            Some(id) => Route::Flips { version, id },
            None => Route::NotFound,
        },
        ["checks", id, "flips"] if check_id(id).is_some() => Route::AddSlash,
        ["checks", uuid, "pings", ""] if is_uuid(uuid) => Route::Pings {
            version,
            uuid: uuid.to_string(),
        },
        ["checks", uuid, "pings"] if is_uuid(uuid) => Route::AddSlash,
        ["checks", uuid, "pings", n, "body"] if is_uuid(uuid) => {
            match n
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| n.parse().ok())
                .flatten()
            {
                Some(n) => Route::Body {
                    version,
                    uuid: uuid.to_string(),
                    n,
                },
                None => Route::NotFound,
            }
        }
        _ => Route::NotFound,
    }
}

fn check_id(text: &str) -> Option<CheckId> {
    if is_uuid(text) {
        Some(CheckId::Uuid(text.to_string()))
    } else if text.len() == 40
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Some(CheckId::UniqueKey(text.to_string()))
    } else {
        None
    }
}
