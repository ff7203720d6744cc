//! A small stderr logger for the `log` facade.
//!
//! Each line is `<UTC time> <LEVEL> <message>`. stdout belongs to Singer
//! messages, so nothing here writes to it.

use std::io::Write;

use chrono::{SecondsFormat, Utc};
use log::{LevelFilter, Log, Metadata, Record};

use crate::config::redact;

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
        let message = sanitize(&redact(&record.args().to_string()));
        let line = format!("{time} {:<5} {message}\n", record.level());
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

/// Keeps a message on one line and free of terminal escapes: runs of
/// whitespace become one space and other control characters become `?`.
/// Messages can contain text from the server.
pub fn sanitize(message: &str) -> String {
    let mut clean = String::with_capacity(message.len());
    let mut in_space = false;
    for c in message.trim().chars() {
        if c.is_whitespace() {
            if !in_space {
                clean.push(' ');
            }
            in_space = true;
            continue;
        }
        in_space = false;
        clean.push(if c.is_control() { '?' } else { c });
    }
    clean
}

/// Parses a level name such as `info` or `DEBUG`.
pub fn parse_level(name: &str) -> Option<LevelFilter> {
    name.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_keeps_one_line() {
        assert_eq!(sanitize("a\nb\t c"), "a b c");
        assert_eq!(sanitize("red \u{1b}[31mtext"), "red ?[31mtext");
        assert_eq!(sanitize("  trimmed  "), "trimmed");
    }
}
