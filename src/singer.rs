//! Singer messages on an output stream.
//!
//! [`Writer`] turns SCHEMA, RECORD and STATE messages into JSON lines on any
//! `io::Write`: stdout in production, a buffer in tests. Output is buffered
//! and flushed at each STATE, so a target never receives a STATE before the
//! records it covers. A failed write (the target exited and closed the pipe)
//! is an error for the caller to stop on.

use std::io::{self, BufWriter, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};

/// Formats a `time_extracted` value: RFC 3339 in UTC with microseconds.
pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Writes Singer messages as JSON lines.
pub struct Writer<W: Write> {
    out: BufWriter<W>,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Writer<W> {
        Writer {
            out: BufWriter::with_capacity(64 * 1024, out),
        }
    }

    /// Writes a SCHEMA message.
    pub fn schema(
        &mut self,
        stream: &str,
        schema: &Value,
        key_properties: &[&str],
        bookmark_properties: &[&str],
    ) -> io::Result<()> {
        let mut message = json!({
            "type": "SCHEMA",
            "stream": stream,
            "schema": schema,
            "key_properties": key_properties,
        });
        if !bookmark_properties.is_empty() {
            message["bookmark_properties"] = json!(bookmark_properties);
        }
        self.line(&message)
    }

    /// Writes a RECORD message, with the table version of full-table
    /// streams that send ACTIVATE_VERSION.
    ///
    /// `time_extracted` is formatted by [`format_time`] once per response
    /// rather than once per record.
    pub fn record<R: Serialize>(
        &mut self,
        stream: &str,
        record: &R,
        time_extracted: &str,
        version: Option<i64>,
    ) -> io::Result<()> {
        #[derive(Serialize)]
        struct Record<'a, R> {
            #[serde(rename = "type")]
            message_type: &'static str,
            stream: &'a str,
            record: &'a R,
            #[serde(skip_serializing_if = "Option::is_none")]
            version: Option<i64>,
            time_extracted: &'a str,
        }
        self.line(&Record {
            message_type: "RECORD",
            stream,
            record,
            version,
            time_extracted,
        })
    }

    /// Writes an ACTIVATE_VERSION message: the target may now drop rows of
    /// `stream` with another version.
    pub fn activate_version(&mut self, stream: &str, version: i64) -> io::Result<()> {
        self.line(&json!({"type": "ACTIVATE_VERSION", "stream": stream, "version": version}))
    }

    /// Writes a STATE message and flushes everything written so far.
    pub fn state(&mut self, value: &impl Serialize) -> io::Result<()> {
        #[derive(Serialize)]
        struct State<'a, V> {
            #[serde(rename = "type")]
            message_type: &'static str,
            value: &'a V,
        }
        self.line(&State {
            message_type: "STATE",
            value,
        })?;
        self.out.flush()
    }

    /// Flushes buffered messages.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn line(&mut self, message: &impl Serialize) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, message)?;
        self.out.write_all(b"\n")
    }

    /// Returns the underlying output, after flushing.
    #[cfg(test)]
    pub fn into_inner(self) -> W {
        self.out
            .into_inner()
            .map_err(|error| error.into_error())
            .expect("flush test buffer")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(buffer: Vec<u8>) -> Vec<String> {
        String::from_utf8(buffer)
            .expect("utf-8")
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn schema_record_state_lines() {
        let mut writer = Writer::new(Vec::new());
        let schema = json!({"type": "object", "properties": {"n": {"type": "integer"}}});
        writer
            .schema("pings", &schema, &["check_unique_key", "n"], &["n"])
            .expect("write");
        let record = json!({"n": 1, "ua": "a \"quoted\"\nline ✓"});
        let at = format_time("2026-12-04T06:10:41.5Z".parse().expect("date"));
        writer.record("pings", &record, &at, None).expect("write");
        writer.state(&json!({"bookmarks": {}})).expect("write");
        assert_eq!(
            lines(writer.into_inner()),
            [
                r#"{"type":"SCHEMA","stream":"pings","schema":{"type":"object","properties":{"n":{"type":"integer"}}},"key_properties":["check_unique_key","n"],"bookmark_properties":["n"]}"#,
                r#"{"type":"RECORD","stream":"pings","record":{"n":1,"ua":"a \"quoted\"\nline ✓"},"time_extracted":"2026-12-04T06:10:41.500000Z"}"#,
                r#"{"type":"STATE","value":{"bookmarks":{}}}"#,
            ]
        );
    }

    #[test]
    fn versioned_record_and_activate_version() {
        let mut writer = Writer::new(Vec::new());
        let record = json!({"id": "a"});
        let at = format_time("2026-12-04T06:10:41Z".parse().expect("date"));
        writer
            .record("integrations", &record, &at, Some(1733292641000))
            .expect("write");
        writer
            .activate_version("integrations", 1733292641000)
            .expect("write");
        assert_eq!(
            lines(writer.into_inner()),
            [
                r#"{"type":"RECORD","stream":"integrations","record":{"id":"a"},"version":1733292641000,"time_extracted":"2026-12-04T06:10:41.000000Z"}"#,
                r#"{"type":"ACTIVATE_VERSION","stream":"integrations","version":1733292641000}"#,
            ]
        );
    }

    #[test]
    fn schema_without_bookmarks_omits_them() {
        let mut writer = Writer::new(Vec::new());
        writer
            .schema("checks", &json!({}), &["unique_key"], &[])
            .expect("write");
        let output = lines(writer.into_inner());
        assert_eq!(
            output,
            [r#"{"type":"SCHEMA","stream":"checks","schema":{},"key_properties":["unique_key"]}"#]
        );
    }

    /// An output that fails like a pipe whose reader has exited.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    #[test]
    fn closed_output_fails_at_state() {
        let mut writer = Writer::new(ClosedPipe);
        let error = writer.state(&json!({})).expect_err("closed pipe");
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
    }
}
