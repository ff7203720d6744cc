//! JSON text in the exact form Django's `JsonResponse` writes it.
//!
//! `JsonResponse` calls Python's `json.dumps` with its defaults: separators `", "` and
//! `": "`, `ensure_ascii=True` (every character outside printable ASCII becomes
//! `\uXXXX` in lowercase hex, with a UTF-16 surrogate pair above U+FFFF) and floats
//! written with `repr` (`180.0`, `635.82`, `1e-05`). Key order is the insertion order
//! of the `serde_json::Value` (the crate's `preserve_order` feature).

use std::fmt::Write;

use serde_json::{Number, Value};

/// Serializes `value` the way Django's `JsonResponse` would.
pub fn to_django_json(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_value(&mut out, value);
    out
}

/// Appends the Django-style JSON text of `value` to `out`.
pub fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (index, (key, item)) in map.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_string(out, key);
                out.push_str(": ");
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

/// Appends `text` as a JSON string literal with Python's ASCII-only escaping.
pub fn write_string(out: &mut String, text: &str) {
    out.push('"');
    let mut plain_start = 0;
    for (index, c) in text.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            ' '..='~' => continue,
            _ => "",
        };
        out.push_str(&text[plain_start..index]);
        plain_start = index + c.len_utf8();
        if escape.is_empty() {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push_str(escape);
        }
    }
    out.push_str(&text[plain_start..]);
    out.push('"');
}

fn write_number(out: &mut String, number: &Number) {
    if let Some(integer) = number.as_i64() {
        let _ = write!(out, "{integer}");
    } else if let Some(integer) = number.as_u64() {
        let _ = write!(out, "{integer}");
    } else if let Some(float) = number.as_f64() {
        out.push_str(&python_float_repr(float));
    }
}

/// Formats a float like Python's `repr`: shortest round-trip digits, always a `.0` or
/// exponent, and exponent notation below 1e-4 or from 1e16 on (`1e-05`, `1e+16`).
pub fn python_float_repr(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-4..1e16).contains(&magnitude) {
        let text = format!("{value:e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0);
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs());
    }
    let text = format!("{value}");
    if text.contains('.') {
        text
    } else {
        text + ".0"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_escape_non_ascii() {
        let cases = [
            ("✓", r#""\u2713""#),
            ("🚀", r#""\ud83d\ude80""#),
            ("Légacy — ñ", r#""L\u00e9gacy \u2014 \u00f1""#),
            (
                "tab\there\nnew \"q\" 'single' \\",
                r#""tab\there\nnew \"q\" 'single' \\""#,
            ),
            ("\u{1}\u{7f}\r\u{8}\u{c}", r#""\u0001\u007f\r\b\f""#),
            ("/", r#""/""#),
        ];
        for (input, expected) in cases {
            assert_eq!(to_django_json(&json!(input)), expected, "input {input:?}");
        }
    }

    #[test]
    fn separators_match_python() {
        let value = json!({"checks": [{"a": 1, "b": null}, {"c": true}], "empty": [], "o": {}});
        let expected = r#"{"checks": [{"a": 1, "b": null}, {"c": true}], "empty": [], "o": {}}"#;
        assert_eq!(to_django_json(&value), expected);
    }

    #[test]
    fn object_keeps_insertion_order() {
        let mut map = serde_json::Map::new();
        map.insert("name".into(), json!("x"));
        map.insert("desc".into(), json!("y"));
        map.insert("b".into(), json!(2));
        assert_eq!(
            to_django_json(&Value::Object(map)),
            r#"{"name": "x", "desc": "y", "b": 2}"#
        );
    }

    #[test]
    fn floats_follow_python_repr() {
        let cases = [
            (180.0, "180.0"),
            (635.82, "635.82"),
            (0.71, "0.71"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (123456789012345.6, "123456789012345.6"),
        ];
        for (input, expected) in cases {
            assert_eq!(python_float_repr(input), expected, "input {input}");
        }
    }

    #[test]
    fn integers_stay_integers() {
        assert_eq!(
            to_django_json(&json!([0, -3, 18446744073709551615u64])),
            "[0, -3, 18446744073709551615]"
        );
    }
}
