//! Synthetic datasets for benchmarks: `--generate CHECKS,PINGS`.
//!
//! One project with fixed keys, three channels, and `CHECKS` checks of `PINGS` pings
//! each. Every value derives from the check and ping numbers through SHA-1 and a fixed
//! linear congruential generator, never from the clock, so two runs serve identical
//! bytes. Pings come in runs of three (start, log, success or fail) that share a `rid`,
//! five minutes apart and ending at 2026-12-04T12:00:00Z; every fiftieth run fails,
//! which gives each check a few down and up flips.

use chrono::{DateTime, Duration, DurationRound, TimeDelta, Utc};

use crate::dataset::{
    Channel, Check, Dataset, Flip, Ping, PingBody, Project, derived_uuid, format_timestamp,
};

/// Read-write key of the generated project.
pub const GENERATED_RW_KEY: &str = "hcw_GeneratedReadWriteKey0000001";
/// Read-only key of the generated project.
pub const GENERATED_RO_KEY: &str = "hcr_GeneratedReadOnlyKey00000001";
/// Time of the newest generated ping: 2026-12-04T12:00:00Z.
const END_TIMESTAMP: i64 = 1_796_385_600;
/// Seconds between two generated pings of one check.
const PING_INTERVAL: i64 = 300;

/// A small deterministic pseudo-random sequence (Knuth's MMIX LCG constants).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// Builds the synthetic project.
pub fn generate(checks: usize, pings: usize) -> Dataset {
    let channels: Vec<Channel> = [
        ("email", "Ops email"),
        ("webhook", "Deploy hook"),
        ("slack", ""),
    ]
    .iter()
    .enumerate()
    .map(|(index, (kind, name))| Channel {
        id: derived_uuid(&format!("generated channel {index}")),
        name: name.to_string(),
        kind: kind.to_string(),
    })
    .collect();
    let checks = (0..checks)
        .map(|index| generate_check(index, pings, &channels))
        .collect();
    let project = Project {
        name: "Generated project".to_string(),
        rw_key: GENERATED_RW_KEY.to_string(),
        ro_key: GENERATED_RO_KEY.to_string(),
        ping_log_limit: 1000,
        channels,
        checks,
    };
    Dataset {
        projects: vec![project],
    }
}

fn generate_check(index: usize, ping_count: usize, channels: &[Channel]) -> Check {
    let uuid = derived_uuid(&format!("generated check {index}"));
    let cron = index % 3 == 2;
    let mut check: Check = serde_json::from_value(serde_json::json!({
        "uuid": uuid,
        "name": format!("Generated check {index}"),
        "slug": format!("generated-check-{index}"),
        "tags": format!("bench group{}", index % 10),
        "desc": if index % 4 == 0 { "Synthetic check \u{2014} caf\u{e9} \u{2713}" } else { "" },
        "grace": 600,
        "channels": [channels[index % channels.len()].id],
    }))
    .expect("generated check fields are valid");
    check.fill_defaults();
    if cron {
        check.schedule = Some("0 * * * *".to_string());
        check.tz = Some("UTC".to_string());
    } else {
        check.timeout = Some(3600);
    }
    let mut random = Lcg(index as u64 + 1);
    for number in 1..=ping_count as u64 {
        let ping = generate_ping(&check.uuid, index, number, ping_count as u64, &mut random);
        record_outcome(&mut check, &ping);
        check.pings.push(ping);
    }
    check.n_pings = ping_count as u64;
    check.started = check.pings.last().is_some_and(|ping| ping.kind == "start");
    check
}

fn generate_ping(uuid: &str, index: usize, n: u64, count: u64, random: &mut Lcg) -> Ping {
    let run = (n - 1) / 3;
    let step = (n - 1) % 3;
    let base = END_TIMESTAMP - (count - n) as i64 * PING_INTERVAL - index as i64 % 60;
    let micros = if n % 50 == 0 {
        0
    } else {
        random.next(1_000_000) as i64
    };
    let time = DateTime::<Utc>::from_timestamp(base, 0).expect("generated time is valid")
        + Duration::microseconds(micros);
    let (kind, duration, body) = match step {
        0 => ("start", None, None),
        1 => (
            "log",
            None,
            (run % 5 == 0).then(|| PingBody::Text(format!("run {run}: step done\n"))),
        ),
        _ => {
            let kind = if run % 50 == 49 { "fail" } else { "success" };
            let seconds = (2 * PING_INTERVAL * 1_000_000 + micros) as f64 / 1e6;
            (kind, Some((seconds * 100.0).round() / 100.0), None)
        }
    };
    Ping {
        kind: kind.to_string(),
        date: format_timestamp(time, false),
        n: Some(n),
        scheme: "http".to_string(),
        remote_addr: Some(format!("192.0.2.{}", 1 + index % 250)),
        method: if step == 1 { "POST" } else { "GET" }.to_string(),
        ua: "bench-runner/1.0".to_string(),
        rid: Some(derived_uuid(&format!("generated run {uuid} {run}"))),
        duration,
        body,
    }
}

/// Updates status, `last_ping`, `next_ping` and flips after a success or fail ping.
fn record_outcome(check: &mut Check, ping: &Ping) {
    let up = match ping.kind.as_str() {
        "success" => true,
        "fail" => false,
        _ => return,
    };
    let time = DateTime::parse_from_rfc3339(&ping.date)
        .expect("generated date is valid")
        .to_utc();
    let whole = time
        .duration_trunc(TimeDelta::seconds(1))
        .expect("second truncation");
    let stamp = format_timestamp(whole, true);
    if check.status != if up { "up" } else { "down" } {
        check.flips.push(Flip {
            timestamp: stamp.clone(),
            up: u8::from(up),
        });
    }
    check.status = if up { "up" } else { "down" }.to_string();
    check.last_ping = Some(stamp);
    check.last_duration = up.then(|| ping.duration.map(|d| d as u64)).flatten();
    check.next_ping = up.then(|| {
        let next = match check.timeout {
            Some(timeout) => whole + TimeDelta::seconds(timeout as i64),
            None => {
                whole
                    .duration_trunc(TimeDelta::hours(1))
                    .expect("hour truncation")
                    + TimeDelta::hours(1)
            }
        };
        format_timestamp(next, true)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_dataset_is_valid_and_stable() {
        let mut first = generate(4, 160);
        first.normalize_and_validate().unwrap();
        let second = generate(4, 160);
        let first_json = serde_json::to_string(&first).unwrap();
        assert_eq!(first_json, serde_json::to_string(&second).unwrap());
        let check = &first.projects[0].checks[1];
        assert_eq!(check.pings.len(), 160);
        assert_eq!(check.n_pings, 160);
        assert_eq!(
            check.pings.last().unwrap().date.get(..16),
            Some("2026-12-04T11:59")
        );
        assert_eq!(check.flips.len(), 3, "{:?}", check.flips);
    }

    #[test]
    fn generated_keys_have_api_format() {
        for (key, prefix) in [(GENERATED_RW_KEY, "hcw_"), (GENERATED_RO_KEY, "hcr_")] {
            assert_eq!(key.len(), 32);
            assert!(key.starts_with(prefix));
            assert!(key[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        }
    }
}
