//! Standard base64 (RFC 4648, `+/` alphabet) decoding for ping bodies that are not UTF-8.
//!
//! Only decoding is needed: dataset files write such bodies as `{"base64": "..."}` and
//! the server returns the decoded bytes. Padding is optional and ASCII whitespace is
//! skipped, so long bodies may be wrapped.

use anyhow::{Result, bail};

/// Decodes standard base64 text into bytes.
pub fn decode(text: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0u32;
    let mut padding = 0usize;
    for (index, byte) in text.bytes().enumerate() {
        if byte.is_ascii_whitespace() {
            continue;
        }
        if byte == b'=' {
            padding += 1;
            continue;
        }
        if padding > 0 {
            bail!("invalid base64: data after padding at offset {index}");
        }
        let Some(value) = sextet(byte) else {
            bail!(
                "invalid base64 character {:?} at offset {index}",
                byte as char
            );
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // A final group of 1 character (6 bits) cannot encode a byte.
    if bits == 6 || padding > 2 {
        bail!("invalid base64: truncated input");
    }
    Ok(out)
}

fn sextet(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn decode_known_vectors() {
        let cases = [
            ("", ""),
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9v\nYmFy", "foobar"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                decode(input).unwrap(),
                expected.as_bytes(),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn decode_binary_bytes() {
        assert_eq!(decode("//4AAQ==").unwrap(), [0xff, 0xfe, 0x00, 0x01]);
    }

    #[test]
    fn decode_rejects_bad_input() {
        assert!(decode("Zm9v!").is_err());
        assert!(decode("Z").is_err());
        assert!(decode("Zg==Zg").is_err());
    }
}
