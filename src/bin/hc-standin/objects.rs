//! API objects built from dataset records, with the key order of the real server.
//!
//! Check fields follow upstream `Check.to_dict`: the always-present fields, then
//! `last_duration` when set, then the identifiers of the key type (`uuid` and the URLs
//! with a read-write key, `unique_key` with a read-only one), then `timeout` or
//! `schedule` and `tz`. Ping fields follow `Ping.to_dict`. URLs start with the site
//! root (`http://127.0.0.1:PORT` plus the prefix) and carry the requested API version.

use serde_json::{Map, Value, json};

use crate::dataset::{Channel, Check, Flip, Ping};

/// What a rendering depends on besides the record itself.
pub struct Context<'a> {
    pub site_root: &'a str,
    /// API version from the request path: 1, 2 or 3.
    pub version: u8,
    pub read_only: bool,
}

/// Builds the check object of `GET checks/` and `GET checks/<id>`.
pub fn check_value(check: &Check, context: &Context) -> Value {
    let mut map = Map::new();
    insert_common_fields(&mut map, check, context);
    if let Some(duration) = check.last_duration {
        map.insert("last_duration".into(), json!(duration));
    }
    if context.read_only {
        map.insert("unique_key".into(), json!(check.unique_key()));
    } else {
        insert_read_write_fields(&mut map, check, context);
    }
    match (&check.timeout, &check.schedule) {
        (Some(timeout), _) => {
            map.insert("timeout".into(), json!(timeout));
        }
        (None, Some(schedule)) => {
            map.insert("schedule".into(), json!(schedule));
            map.insert("tz".into(), json!(check.tz));
        }
        (None, None) => {}
    }
    Value::Object(map)
}

fn insert_common_fields(map: &mut Map<String, Value>, check: &Check, context: &Context) {
    // API v1 reports a pending run as status "started"; v2 and v3 keep the status.
    let status = if context.version == 1 && check.started {
        "started"
    } else {
        &check.status
    };
    let modern = !check.legacy_fields;
    let fields = [
        ("name", json!(check.name), true),
        ("slug", json!(check.slug), true),
        ("tags", json!(check.tags), true),
        ("desc", json!(check.desc), true),
        ("grace", json!(check.grace), true),
        ("n_pings", json!(check.n_pings), true),
        ("status", json!(status), true),
        ("started", json!(check.started), true),
        ("last_ping", json!(check.last_ping), true),
        ("next_ping", json!(check.next_ping), true),
        ("manual_resume", json!(check.manual_resume), true),
        ("methods", json!(check.methods), true),
        ("subject", json!(check.subject), true),
        ("subject_fail", json!(check.subject_fail), true),
        ("start_kw", json!(check.start_kw), modern),
        ("success_kw", json!(check.success_kw), true),
        ("failure_kw", json!(check.failure_kw), true),
        ("filter_subject", json!(check.filter_subject), true),
        ("filter_body", json!(check.filter_body), true),
        ("filter_http_body", json!(check.filter_http_body), modern),
        (
            "filter_default_fail",
            json!(check.filter_default_fail),
            modern,
        ),
    ];
    for (name, value, present) in fields {
        if present {
            map.insert(name.into(), value);
        }
    }
    if modern {
        let badge_url = format!("{}/b/2/{}.svg", context.site_root, check.badge_key);
        map.insert("badge_url".into(), json!(badge_url));
    }
}

fn insert_read_write_fields(map: &mut Map<String, Value>, check: &Check, context: &Context) {
    let api_url = format!(
        "{}/api/v{}/checks/{}",
        context.site_root, context.version, check.uuid
    );
    let mut channels = check.channels.clone();
    channels.sort();
    map.insert("uuid".into(), json!(check.uuid));
    map.insert(
        "ping_url".into(),
        json!(format!("{}/ping/{}", context.site_root, check.uuid)),
    );
    map.insert("update_url".into(), json!(api_url));
    map.insert("pause_url".into(), json!(format!("{api_url}/pause")));
    map.insert("resume_url".into(), json!(format!("{api_url}/resume")));
    map.insert("channels".into(), json!(channels.join(",")));
}

/// Builds one ping object; `body_url` is set when the ping has a non-empty body.
pub fn ping_value(ping: &Ping, check_uuid: &str, context: &Context) -> Value {
    let has_body = ping.body.as_ref().is_some_and(|body| !body.is_empty());
    let body_url = match (has_body, ping.n) {
        (true, Some(n)) => Value::String(format!(
            "{}/api/v{}/checks/{check_uuid}/pings/{n}/body",
            context.site_root, context.version
        )),
        _ => Value::Null,
    };
    let mut map = Map::new();
    map.insert("type".into(), json!(ping.kind));
    map.insert("date".into(), json!(ping.date));
    map.insert("n".into(), json!(ping.n));
    map.insert("scheme".into(), json!(ping.scheme));
    map.insert("remote_addr".into(), json!(ping.remote_addr));
    map.insert("method".into(), json!(ping.method));
    map.insert("ua".into(), json!(ping.ua));
    map.insert("rid".into(), json!(ping.rid));
    map.insert("body_url".into(), body_url);
    if let Some(duration) = ping.duration {
        map.insert("duration".into(), json!(duration));
    }
    Value::Object(map)
}

/// Builds one flip object.
pub fn flip_value(flip: &Flip) -> Value {
    json!({"timestamp": flip.timestamp, "up": flip.up})
}

/// Builds one channel object.
pub fn channel_value(channel: &Channel) -> Value {
    json!({"id": channel.id, "name": channel.name, "kind": channel.kind})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::to_django_json;

    fn check(extra: &str) -> Check {
        let text = format!(
            r#"{{"uuid": "2af601b3-3c51-42b1-b120-42fec2a4f3aa",
                "badge_key": "ac1baabe-1d8c-480c-b4c7-3f5403395589", {extra}}}"#
        );
        serde_json::from_str(&text).unwrap()
    }

    fn keys(value: &Value) -> Vec<&str> {
        value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect()
    }

    const ROOT: &str = "http://127.0.0.1:8000";

    #[test]
    fn read_write_check_key_order() {
        let check = check(r#""schedule": "0 */6 * * *", "tz": "UTC", "last_duration": 635"#);
        let value = check_value(
            &check,
            &Context {
                site_root: ROOT,
                version: 3,
                read_only: false,
            },
        );
        let keys = keys(&value);
        let tail = &keys[keys.len() - 10..];
        let expected = [
            "badge_url",
            "last_duration",
            "uuid",
            "ping_url",
            "update_url",
            "pause_url",
            "resume_url",
            "channels",
            "schedule",
            "tz",
        ];
        assert_eq!(tail, expected);
        assert_eq!(keys[0], "name");
        assert_eq!(
            value["pause_url"],
            format!("{ROOT}/api/v3/checks/{}/pause", check.uuid)
        );
    }

    #[test]
    fn read_only_check_has_unique_key() {
        let check = check(r#""timeout": 60"#);
        let value = check_value(
            &check,
            &Context {
                site_root: ROOT,
                version: 3,
                read_only: true,
            },
        );
        let keys = keys(&value);
        assert_eq!(
            &keys[keys.len() - 3..],
            ["badge_url", "unique_key", "timeout"]
        );
        assert_eq!(
            value["unique_key"],
            "f65df2bf8fb59dbf320d41895f3b52f416bd3de7"
        );
        assert!(value.get("uuid").is_none());
    }

    #[test]
    fn legacy_check_omits_newer_fields() {
        let check = check(r#""timeout": 60, "legacy_fields": true"#);
        let value = check_value(
            &check,
            &Context {
                site_root: ROOT,
                version: 3,
                read_only: false,
            },
        );
        for missing in [
            "start_kw",
            "filter_http_body",
            "filter_default_fail",
            "badge_url",
        ] {
            assert!(value.get(missing).is_none(), "{missing}");
        }
        assert!(value.get("success_kw").is_some());
    }

    #[test]
    fn v1_reports_started_status() {
        let check = check(r#""timeout": 60, "status": "up", "started": true"#);
        let v1 = check_value(
            &check,
            &Context {
                site_root: ROOT,
                version: 1,
                read_only: false,
            },
        );
        let v3 = check_value(
            &check,
            &Context {
                site_root: ROOT,
                version: 3,
                read_only: false,
            },
        );
        assert_eq!(v1["status"], "started");
        assert_eq!(v3["status"], "up");
        assert!(v1["update_url"].as_str().unwrap().contains("/api/v1/"));
    }

    #[test]
    fn ping_body_url_and_duration() {
        let text = r#"{"type": "fail", "date": "2026-12-04T11:13:30.838644+00:00", "n": 5,
            "remote_addr": "127.0.0.1", "method": "POST", "ua": "lab-live/1.0",
            "duration": 0.71, "body": {"base64": "//4AAQ=="}}"#;
        let ping: Ping = serde_json::from_str(text).unwrap();
        let context = Context {
            site_root: ROOT,
            version: 2,
            read_only: false,
        };
        let rendered = to_django_json(&ping_value(&ping, "u", &context));
        let expected = r#"{"type": "fail", "date": "2026-12-04T11:13:30.838644+00:00", "n": 5, "scheme": "http", "remote_addr": "127.0.0.1", "method": "POST", "ua": "lab-live/1.0", "rid": null, "body_url": "http://127.0.0.1:8000/api/v2/checks/u/pings/5/body", "duration": 0.71}"#;
        assert_eq!(rendered, expected);
    }

    #[test]
    fn ping_with_empty_body_has_no_url() {
        let text = r#"{"type": "log", "date": "2026-12-04T11:13:30+00:00", "n": 1, "body": ""}"#;
        let ping: Ping = serde_json::from_str(text).unwrap();
        let context = Context {
            site_root: ROOT,
            version: 3,
            read_only: false,
        };
        assert_eq!(ping_value(&ping, "u", &context)["body_url"], Value::Null);
    }
}
