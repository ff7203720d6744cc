//! `ping_bodies`: the stored request body of each ping, from
//! `GET /api/v3/checks/{uuid}/pings/{n}/body`.
//!
//! Bodies hold what jobs send with their pings: output, error messages,
//! exit details (cut at 10,000 bytes by default on the server). The stream
//! is not selected by default because it costs one request per ping with a
//! body. It follows the `pings` stream: a body is fetched only for a ping
//! with a `body_url` that the same run writes, so it follows the pings
//! bookmark and no body is fetched twice. The request path is built from
//! the check UUID and `n`, never taken from `body_url`, whose host is the
//! server's idea of its own address and could be anywhere.
//!
//! Bodies are bytes. Valid UTF-8 is kept as text with `encoding` "utf-8";
//! anything else is base64-encoded (standard alphabet, padded) with
//! `encoding` "base64", so no byte is lost.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::pings::Ping;
use super::{ReplicationMethod, StreamSpec};
use crate::client::{ApiError, Client};
use crate::schema::schema_for;

pub const STREAM: StreamSpec = StreamSpec {
    name: "ping_bodies",
    key_properties: &["check_unique_key", "n"],
    replication_method: ReplicationMethod::Incremental,
    replication_key: Some("n"),
    needs_read_write_key: true,
    selected_by_default: false,
    schema: schema_for::<PingBody>,
};

/// The request body stored with one ping.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct PingBody {
    /// `unique_key` of the check that received the ping.
    pub check_unique_key: String,
    /// UUID of the check that received the ping.
    pub check_uuid: Option<String>,
    /// The ping's sequence number within the check.
    pub n: i64,
    /// The body: text for UTF-8 bodies, else base64 of the bytes.
    pub body: String,
    /// Encoding of `body`: `utf-8` or `base64`.
    pub encoding: String,
    /// Length of the stored body in bytes.
    pub size: i64,
}

/// Fetches the bodies of the given pings of one check, in order. A body
/// the server no longer has (404: outside the retention window, or
/// emptied) is logged and skipped.
pub fn fetch(client: &Client, uuid: &str, pings: &[&Ping]) -> Result<Vec<PingBody>, ApiError> {
    let mut bodies = Vec::new();
    for ping in pings {
        let path = format!("checks/{uuid}/pings/{}/body", ping.n);
        match client.get_bytes(&path) {
            Ok(bytes) => bodies.push(decode(ping, bytes)),
            // Only a failure that a retry on the next run could fix keeps
            // the check's pings back. A body that can never be read (gone,
            // too large, a redirect) is skipped, so that it blocks nothing.
            Err(error) if !error.is_retriable() && error.status() == Some(404) => {
                log::warn!(
                    "{}; the body of ping #{} is no longer stored, skipping it",
                    error.brief(),
                    ping.n
                );
            }
            Err(error) if !error.is_retriable() => {
                log::warn!("{error}; skipping the body of ping #{}", ping.n);
            }
            Err(error) => return Err(error),
        }
    }
    Ok(bodies)
}

/// Builds the record for a ping's body bytes.
fn decode(ping: &Ping, bytes: Vec<u8>) -> PingBody {
    let size = bytes.len() as i64;
    let (body, encoding) = match String::from_utf8(bytes) {
        Ok(text) => (text, "utf-8"),
        Err(error) => (base64(error.as_bytes()), "base64"),
    };
    PingBody {
        check_unique_key: ping.check_unique_key.clone(),
        check_uuid: ping.check_uuid.clone(),
        n: ping.n,
        body,
        encoding: encoding.to_string(),
        size,
    }
}

/// Encodes bytes as standard, padded base64 (RFC 4648 section 4).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let triple = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for position in 0..4 {
            if position <= chunk.len() {
                let index = (triple >> (18 - 6 * position)) & 0x3f;
                encoded.push(char::from(ALPHABET[index as usize]));
            } else {
                encoded.push('=');
            }
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in vectors {
            assert_eq!(base64(input.as_bytes()), expected, "{input:?}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0x00, 0x01]), "//4AAQ==");
    }

    fn ping(n: i64) -> Ping {
        let mut ping: Ping =
            serde_json::from_value(serde_json::json!({"n": n, "date": "2026-12-04T00:00:00Z"}))
                .expect("ping");
        ping.check_unique_key = "f65df2bf8fb59dbf320d41895f3b52f416bd3de7".into();
        ping.check_uuid = Some("2af601b3-3c51-42b1-b120-42fec2a4f3aa".into());
        ping
    }

    #[test]
    fn utf8_body_stays_text() {
        let body = decode(
            &ping(35),
            "step 2/5: loaded 12345 rows ✓\n".as_bytes().to_vec(),
        );
        assert_eq!(body.body, "step 2/5: loaded 12345 rows ✓\n");
        assert_eq!(body.encoding, "utf-8");
        assert_eq!(body.size, 32);
        assert_eq!(body.n, 35);
    }

    #[test]
    fn other_bytes_become_base64() {
        // Recorded from a Healthchecks server: a body with bytes ff fe 00 01.
        let bytes = b"binary chunk: \xff\xfe\x00\x01 not utf-8\n".to_vec();
        let body = decode(&ping(7), bytes);
        assert_eq!(body.encoding, "base64");
        assert_eq!(body.body, "YmluYXJ5IGNodW5rOiD//gABIG5vdCB1dGYtOAo=");
        assert_eq!(body.size, 29);
    }

    #[test]
    fn empty_body_is_empty_text() {
        let body = decode(&ping(1), Vec::new());
        assert_eq!(
            (body.body.as_str(), body.encoding.as_str(), body.size),
            ("", "utf-8", 0)
        );
    }
}
