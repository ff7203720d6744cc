//! A small stderr logger for the `log` facade.
//!
//! Each line is `<UTC time> <LEVEL> <message>`. stdout belongs to Singer
//! messages, so nothing here writes to it.

use std::io::Write;

use chrono::{SecondsFormat, Utc};
use log::{LevelFilter, Log, Metadata, Record};

struct StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // Only this crate's messages: ureq and rustls log at debug level
        // with details such as request headers.
        if !record.target().starts_with("tap_healthchecks") {
            return;
        }
        let time = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        let line = format!("{time} {:<5} {}\n", record.level(), record.args());
        // A log line that cannot be written is dropped: there is nowhere
        // left to report it.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {}
}

/// Installs the logger with the given maximum level.
pub fn init(level: LevelFilter) {
    if log::set_logger(&StderrLogger).is_ok() {
        log::set_max_level(level);
    }
}

/// Parses a level name such as `info` or `DEBUG`.
pub fn parse_level(name: &str) -> Option<LevelFilter> {
    name.trim().parse().ok()
}
