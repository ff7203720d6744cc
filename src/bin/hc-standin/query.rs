//! Query strings and the filters of `GET checks/` and `GET checks/<id>/flips/`.
//!
//! Parsing follows Django's `QueryDict`: `&`-separated pairs, `+` and `%XX` decoded
//! (invalid UTF-8 replaced), a pair without `=` has an empty value, and a single-value
//! lookup takes the last occurrence.

use anyhow::{Result, bail};

use crate::dataset::{Check, Flip, parse_timestamp};

/// Decoded query parameters in request order.
pub struct Query {
    pairs: Vec<(String, String)>,
}

/// Largest `start` or `end` the flips endpoint accepts (upstream `FlipsFiltersForm`).
const MAX_START_END: u64 = 10_000_000_000;
/// Largest `seconds` the flips endpoint accepts: one year.
const MAX_SECONDS: u64 = 31_536_000;

/// Validated filters of the flips endpoint, as Unix seconds.
#[derive(Debug, Default, PartialEq)]
pub struct FlipsFilter {
    start: Option<i64>,
    end: Option<i64>,
    /// Lower bound computed from `seconds` and the server clock.
    since: Option<i64>,
}

impl Query {
    /// Parses the part of a request target after `?`.
    pub fn parse(text: &str) -> Query {
        let pairs = text
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(name), percent_decode(value))
            })
            .collect();
        Query { pairs }
    }

    /// Returns every value of a parameter, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Returns the last value of a parameter.
    pub fn last(&self, name: &str) -> Option<&str> {
        self.all(name).last().copied()
    }
}

/// Tells whether a check passes the `tag` and `slug` filters of `GET checks/`.
///
/// Every `tag` must be one of the check's space-separated tags (exact, case-sensitive),
/// so an empty `tag=` matches nothing. A non-empty `slug` must equal the check's slug.
pub fn check_matches(check: &Check, query: &Query) -> bool {
    let tags_match = query
        .all("tag")
        .iter()
        .all(|tag| check.tags.split(' ').any(|t| t == *tag && !t.is_empty()));
    let slug_matches = match query.last("slug") {
        Some(slug) if !slug.is_empty() => check.slug == slug,
        _ => true,
    };
    tags_match && slug_matches
}

impl FlipsFilter {
    /// Validates `start`, `end` and `seconds`; any invalid value means HTTP 400.
    ///
    /// `now` is the server clock in Unix seconds, used by `seconds` (0 means no filter).
    pub fn from_query(query: &Query, now: i64) -> Result<FlipsFilter> {
        let start = parse_bounded(query.last("start"), MAX_START_END)?;
        let end = parse_bounded(query.last("end"), MAX_START_END)?;
        let seconds = parse_bounded(query.last("seconds"), MAX_SECONDS)?;
        Ok(FlipsFilter {
            start: start.map(|value| value as i64),
            end: end.map(|value| value as i64),
            since: seconds
                .filter(|value| *value > 0)
                .map(|value| now - value as i64),
        })
    }

    /// Tells whether a flip passes every filter; unparsable timestamps never pass.
    pub fn accepts(&self, flip: &Flip) -> bool {
        let Ok(time) = parse_timestamp(&flip.timestamp) else {
            return false;
        };
        let time = time.timestamp();
        self.start.is_none_or(|start| time >= start)
            && self.end.is_none_or(|end| time < end)
            && self.since.is_none_or(|since| time >= since)
    }
}

/// Parses an optional non-negative integer no larger than `max`.
///
/// NOTE: Django's `IntegerField` also accepts surrounding spaces, a `+` sign and a
/// `.0` suffix; the stand-in rejects those and accepts only ASCII digits.
fn parse_bounded(value: Option<&str>, max: u64) -> Result<Option<u64>> {
    let Some(text) = value else {
        return Ok(None);
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        bail!("{text:?} is not a non-negative integer");
    }
    match text.parse::<u64>() {
        Ok(number) if number <= max => Ok(Some(number)),
        _ => bail!("{text:?} is above the maximum {max}"),
    }
}

/// Decodes `+` as space and `%XX` escapes; invalid escapes stay as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let escaped = (byte == b'%')
            .then(|| text.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (byte, escaped) {
            (_, Some(decoded)) => {
                out.push(decoded);
                index += 3;
                continue;
            }
            (b'+', None) => out.push(b' '),
            (other, None) => out.push(other),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_with(tags: &str, slug: &str) -> Check {
        let text = format!(
            r#"{{"uuid": "2af601b3-3c51-42b1-b120-42fec2a4f3aa", "tags": "{tags}", "slug": "{slug}", "timeout": 60}}"#
        );
        serde_json::from_str(&text).unwrap()
    }

    fn flip(timestamp: &str) -> Flip {
        Flip {
            timestamp: timestamp.to_string(),
            up: 1,
        }
    }

    #[test]
    fn query_decodes_like_django() {
        let query = Query::parse("tag=caf%C3%A9&tag=a+b&slug&x=%zz&&slug=last");
        assert_eq!(query.all("tag"), ["café", "a b"]);
        assert_eq!(query.last("slug"), Some("last"));
        assert_eq!(query.last("x"), Some("%zz"));
        assert_eq!(query.last("missing"), None);
    }

    #[test]
    fn tag_filter_is_exact_and_anded() {
        let check = check_with("prod db backup", "nightly");
        assert!(check_matches(&check, &Query::parse("tag=prod")));
        assert!(check_matches(&check, &Query::parse("tag=prod&tag=db")));
        assert!(!check_matches(&check, &Query::parse("tag=prod&tag=etl")));
        assert!(!check_matches(&check, &Query::parse("tag=pro")));
        assert!(!check_matches(&check, &Query::parse("tag=")));
        assert!(!check_matches(&check_with("", ""), &Query::parse("tag=")));
    }

    #[test]
    fn slug_filter_ignores_empty_value() {
        let check = check_with("", "heartbeat");
        assert!(check_matches(&check, &Query::parse("slug=heartbeat")));
        assert!(check_matches(&check, &Query::parse("slug=")));
        assert!(!check_matches(&check, &Query::parse("slug=nope")));
    }

    #[test]
    fn flips_filter_rejects_invalid_values() {
        let invalid = [
            "seconds=31536001",
            "start=-1",
            "start=1.5",
            "start=",
            "start=2026-01-01T00:00:00Z",
            "start=10000000001",
            "end=abc",
            "seconds=+5",
        ];
        for text in invalid {
            assert!(
                FlipsFilter::from_query(&Query::parse(text), 0).is_err(),
                "{text}"
            );
        }
    }

    #[test]
    fn flips_filter_accepts_bounds() {
        let valid = [
            "start=0",
            "start=10000000000",
            "seconds=31536000",
            "seconds=0",
            "other=x",
        ];
        for text in valid {
            assert!(
                FlipsFilter::from_query(&Query::parse(text), 0).is_ok(),
                "{text}"
            );
        }
    }

    #[test]
    fn flips_filter_compares_whole_seconds() {
        let at = flip("2026-12-04T09:13:25+00:00");
        let time = 1_796_375_605; // 2026-12-04T09:13:25Z
        let filter = |text: &str| FlipsFilter::from_query(&Query::parse(text), time + 100).unwrap();
        assert!(filter(&format!("start={time}")).accepts(&at));
        assert!(!filter(&format!("start={}", time + 1)).accepts(&at));
        assert!(!filter(&format!("end={time}")).accepts(&at));
        assert!(filter(&format!("end={}", time + 1)).accepts(&at));
        assert!(filter("seconds=100").accepts(&at));
        assert!(!filter("seconds=99").accepts(&at));
        assert!(filter("seconds=0").accepts(&at));
    }
}
