use super::*;

#[test]
fn unique_key_matches_recorded_sample() {
    let key = unique_key("2af601b3-3c51-42b1-b120-42fec2a4f3aa");
    assert_eq!(key, "f65df2bf8fb59dbf320d41895f3b52f416bd3de7");
}

#[test]
fn derived_uuid_is_valid_and_stable() {
    let first = derived_uuid("seed");
    assert!(is_uuid(&first));
    assert_eq!(first, derived_uuid("seed"));
    assert_ne!(first, derived_uuid("other seed"));
}

#[test]
fn is_uuid_rejects_uppercase_and_junk() {
    assert!(is_uuid("2af601b3-3c51-42b1-b120-42fec2a4f3aa"));
    assert!(!is_uuid("2AF601B3-3C51-42B1-B120-42FEC2A4F3AA"));
    assert!(!is_uuid("not-a-uuid"));
    assert!(!is_uuid("2af601b33c5142b1b12042fec2a4f3aa"));
}

#[test]
fn timestamps_drop_zero_microseconds() {
    let time = parse_timestamp("2026-12-04T10:23:49+00:00")
        .unwrap()
        .to_utc();
    assert_eq!(format_timestamp(time, false), "2026-12-04T10:23:49+00:00");
    let time = parse_timestamp("2026-12-04T06:10:41.601973+00:00")
        .unwrap()
        .to_utc();
    assert_eq!(
        format_timestamp(time, false),
        "2026-12-04T06:10:41.601973+00:00"
    );
    assert_eq!(format_timestamp(time, true), "2026-12-04T06:10:41+00:00");
}

#[test]
fn embedded_lab_dataset_is_valid() {
    let dataset = Dataset::from_json(LAB_JSON).unwrap();
    assert_eq!(dataset.projects.len(), 2);
    assert_eq!(dataset.projects[0].checks.len(), 16);
}

#[test]
fn small_and_empty_fixtures_are_valid() {
    let small = include_str!("../../../../tests/fixtures/small.json");
    let dataset = Dataset::from_json(small).unwrap();
    let counts: Vec<usize> = dataset.projects.iter().map(|p| p.checks.len()).collect();
    assert_eq!(counts, [3, 1]);
    let empty = Dataset::from_json(include_str!("../../../../tests/fixtures/empty.json")).unwrap();
    assert!(empty.projects[0].checks.is_empty());
}

#[test]
fn check_needs_timeout_or_schedule() {
    let text = r#"{"projects": [{"rw_key": "hcw_aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "ro_key": "hcr_aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "checks": [{"uuid": "2af601b3-3c51-42b1-b120-42fec2a4f3aa"}]}]}"#;
    let error = Dataset::from_json(text).unwrap_err();
    assert!(
        format!("{error:#}").contains("set either timeout"),
        "{error:#}"
    );
}

#[test]
fn key_length_is_enforced() {
    let text =
        r#"{"projects": [{"rw_key": "short", "ro_key": "hcr_aaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]}"#;
    let error = Dataset::from_json(text).unwrap_err();
    assert!(
        format!("{error:#}").contains("must be 32 characters"),
        "{error:#}"
    );
}
