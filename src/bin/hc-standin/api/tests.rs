use super::*;
use crate::dataset::LAB_JSON;
use crate::routes::parse_route;

const LAB_RW: &str = "hcw_LabProjectReadWriteKey000001";
const LAB_RO: &str = "hcr_LabProjectReadOnlyKey0000001";
const OTHER_RW: &str = "otherProjectLegacyReadWriteKey01";
const OTHER_RO: &str = "otherProjectLegacyReadOnlyKey001";
const ETL: &str = "2af601b3-3c51-42b1-b120-42fec2a4f3aa";

fn lab() -> Dataset {
    Dataset::from_json(LAB_JSON).unwrap()
}

#[test]
fn authenticate_rejects_missing_and_short_keys() {
    let dataset = lab();
    assert_eq!(
        authenticate(&dataset, None, false),
        Err(AuthError::MissingKey)
    );
    assert_eq!(
        authenticate(&dataset, Some(""), false),
        Err(AuthError::MissingKey)
    );
    assert_eq!(
        authenticate(&dataset, Some("123456789"), false),
        Err(AuthError::MissingKey)
    );
    let long = format!("{LAB_RW}x");
    assert_eq!(
        authenticate(&dataset, Some(&long), false),
        Err(AuthError::MissingKey)
    );
}

#[test]
fn authenticate_rejects_unknown_key() {
    let dataset = lab();
    let unknown = "hcw_0000000000000000000000000000";
    assert_eq!(
        authenticate(&dataset, Some(unknown), false),
        Err(AuthError::WrongKey)
    );
}

#[test]
fn authenticate_accepts_both_key_formats() {
    let dataset = lab();
    let cases = [
        (LAB_RW, 0, false),
        (LAB_RO, 0, true),
        (OTHER_RW, 1, false),
        (OTHER_RO, 1, true),
    ];
    for (key, project, read_only) in cases {
        assert_eq!(
            authenticate(&dataset, Some(key), false),
            Ok(Access { project, read_only }),
            "{key}"
        );
    }
}

#[test]
fn read_only_key_fails_on_write_endpoints() {
    let dataset = lab();
    assert_eq!(
        authenticate(&dataset, Some(LAB_RO), true),
        Err(AuthError::WrongKey)
    );
    assert_eq!(
        authenticate(&dataset, Some(OTHER_RO), true),
        Err(AuthError::WrongKey)
    );
    assert!(authenticate(&dataset, Some(LAB_RW), true).is_ok());
}

#[test]
fn routes_for_list_and_single_paths() {
    let cases = [
        ("/api/v3/checks/", Route::Checks { version: 3 }),
        ("/api/v1/checks/", Route::Checks { version: 1 }),
        ("/api/v2/channels/", Route::Channels { version: 2 }),
        ("/api/v3/status/", Route::Status),
        ("/api/v3/checks", Route::AddSlash),
        ("/api/v3/channels", Route::AddSlash),
        ("/api/v4/checks/", Route::NotFound),
        ("/api/v3/badges/", Route::NotFound),
        ("/api/v3/checks/not-a-uuid", Route::NotFound),
        (
            "/api/v3/checks/2AF601B3-3C51-42B1-B120-42FEC2A4F3AA",
            Route::NotFound,
        ),
    ];
    for (path, expected) in cases {
        assert_eq!(parse_route("", path), expected, "{path}");
    }
    let single = parse_route("", &format!("/api/v3/checks/{ETL}"));
    assert_eq!(
        single,
        Route::Check {
            version: 3,
            id: CheckId::Uuid(ETL.to_string())
        }
    );
    assert_eq!(
        parse_route("", &format!("/api/v3/checks/{ETL}/")),
        Route::NotFound
    );
}

#[test]
fn routes_for_check_children() {
    let uuid = ETL.to_string();
    let key = "f65df2bf8fb59dbf320d41895f3b52f416bd3de7".to_string();
    let cases = [
        (
            format!("/api/v3/checks/{ETL}/pings/"),
            Route::Pings {
                version: 3,
                uuid: uuid.clone(),
            },
        ),
        (format!("/api/v3/checks/{ETL}/pings"), Route::AddSlash),
        (format!("/api/v3/checks/{key}/pings/"), Route::NotFound),
        (
            format!("/api/v3/checks/{ETL}/pings/35/body"),
            Route::Body {
                version: 3,
                uuid: uuid.clone(),
                n: 35,
            },
        ),
        (
            format!("/api/v3/checks/{ETL}/pings/-1/body"),
            Route::NotFound,
        ),
        (
            format!("/api/v3/checks/{key}/pings/1/body"),
            Route::NotFound,
        ),
        (
            format!("/api/v3/checks/{ETL}/flips/"),
            Route::Flips {
                version: 3,
                id: CheckId::Uuid(uuid),
            },
        ),
        (
            format!("/api/v3/checks/{key}/flips/"),
            Route::Flips {
                version: 3,
                id: CheckId::UniqueKey(key.clone()),
            },
        ),
        (format!("/api/v3/checks/{key}/flips"), Route::AddSlash),
        (
            format!("/api/v3/checks/{key}"),
            Route::Check {
                version: 3,
                id: CheckId::UniqueKey(key),
            },
        ),
    ];
    for (path, expected) in cases {
        assert_eq!(parse_route("", &path), expected, "{path}");
    }
}

#[test]
fn routes_respect_prefix() {
    assert_eq!(
        parse_route("/hc", "/hc/api/v3/checks/"),
        Route::Checks { version: 3 }
    );
    assert_eq!(parse_route("/hc", "/api/v3/checks/"), Route::NotFound);
    assert_eq!(parse_route("/hc", "/hcx/api/v3/checks/"), Route::NotFound);
}

#[test]
fn other_project_uuid_is_forbidden() {
    let dataset = lab();
    let other = &dataset.projects[1].checks[0].uuid;
    let forbidden = find_check(&dataset, 0, &CheckId::Uuid(other.clone()), "/p").unwrap_err();
    assert_eq!(forbidden.status, 403);
    assert!(forbidden.body.is_empty());
    let key = CheckId::UniqueKey(dataset.projects[1].checks[0].unique_key());
    assert_eq!(find_check(&dataset, 0, &key, "/p").unwrap_err().status, 404);
    let unknown = CheckId::Uuid("00000000-0000-4000-8000-000000000000".to_string());
    let page = find_check(&dataset, 0, &unknown, "/api/v3/checks/x").unwrap_err();
    assert_eq!(page.status, 404);
    assert!(
        String::from_utf8_lossy(&page.body)
            .contains("<title>Page not found at /api/v3/checks/x</title>")
    );
}

#[test]
fn ping_body_respects_retention_window() {
    let dataset = lab();
    let heartbeat = dataset.projects[0]
        .checks
        .iter()
        .find(|c| c.slug == "heartbeat")
        .unwrap();
    assert!(ping_body(heartbeat, 41, 100).is_none());
    let body = ping_body(heartbeat, 61, 100).unwrap();
    assert_eq!(body.body.as_slice(), b"beat 61: load 0.90");
    assert!(ping_body(heartbeat, 62, 100).is_none());
    assert!(ping_body(heartbeat, 151, 100).is_none());
}
