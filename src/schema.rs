//! JSON Schema generation for record structs.
//!
//! Every stream's schema comes from its record struct through schemars. It
//! is then narrowed to the dialect that Singer targets accept: draft-07 keywords
//! only, subschemas inlined (no `$ref`, `$defs`, `anyOf` or `oneOf`), nullable
//! fields as a type list with `"null"`, and `format` kept only for
//! `date-time`, the one format targets turn into a column type.

use schemars::JsonSchema;
use schemars::generate::{Contract, SchemaSettings};
use serde_json::{Map, Value};

/// Keywords that survive narrowing; everything else schemars emits
/// (`$schema`, `title`, `minimum` for unsigned integers, ...) is dropped.
const KEPT_KEYWORDS: &[&str] = &[
    "type",
    "format",
    "description",
    "properties",
    "required",
    "items",
];

/// Generates the Singer schema of the record struct `T`.
///
/// The serialize contract is used because the schema describes what the tap
/// writes, so fields that are derived rather than read from the API are part
/// of it.
pub fn schema_for<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft07()
        .with(|settings| {
            settings.inline_subschemas = true;
            settings.meta_schema = None;
            settings.contract = Contract::Serialize;
        })
        .into_generator();
    let schema = generator.into_root_schema_for::<T>();
    narrow(schema.as_value())
}

/// Copies `schema` keeping only the keywords in [`KEPT_KEYWORDS`], recursing
/// into `properties` and `items`.
fn narrow(schema: &Value) -> Value {
    let Some(object) = schema.as_object() else {
        return schema.clone();
    };
    let mut narrowed = Map::new();
    for (keyword, value) in object {
        if !KEPT_KEYWORDS.contains(&keyword.as_str()) {
            continue;
        }
        let value = match keyword.as_str() {
            "format" if value != "date-time" => continue,
            "properties" => Value::Object(
                value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, property)| (name.clone(), narrow(property)))
                    .collect(),
            ),
            "items" => narrow(value),
            // Doc comments are wrapped at 80 columns; descriptions read
            // better as one paragraph.
            "description" => Value::String(value.as_str().unwrap_or_default().replace('\n', " ")),
            _ => value.clone(),
        };
        narrowed.insert(keyword.clone(), value);
    }
    Value::Object(narrowed)
}

/// Removes the named properties from a stream schema, also from `required`.
pub fn without_properties(schema: &Value, dropped: &[String]) -> Value {
    let mut schema = schema.clone();
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        properties.retain(|name, _| !dropped.contains(name));
    }
    if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
        required.retain(|name| {
            !name
                .as_str()
                .is_some_and(|name| dropped.iter().any(|d| d == name))
        });
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use serde::Serialize;
    use serde_json::json;

    /// A field of each shape the record structs use.
    #[derive(Serialize, JsonSchema)]
    struct Sample {
        /// Seconds.
        count: u32,
        ratio: Option<f64>,
        at: Option<DateTime<Utc>>,
        name: String,
        nested: Option<Inner>,
    }

    #[derive(Serialize, JsonSchema)]
    struct Inner {
        flag: bool,
    }

    #[test]
    fn option_becomes_nullable_type_list() {
        let schema = schema_for::<Sample>();
        assert_eq!(
            schema["properties"]["ratio"],
            json!({"type": ["number", "null"]})
        );
    }

    #[test]
    fn datetime_keeps_format_and_integer_loses_it() {
        let schema = schema_for::<Sample>();
        let at = &schema["properties"]["at"];
        assert_eq!(
            at,
            &json!({"type": ["string", "null"], "format": "date-time"})
        );
        let count = &schema["properties"]["count"];
        assert_eq!(
            count,
            &json!({"type": "integer", "description": "Seconds."})
        );
    }

    #[test]
    fn nested_struct_is_inlined() {
        let schema = schema_for::<Sample>();
        let text = schema.to_string();
        assert!(!text.contains("$ref"), "{text}");
        assert!(!text.contains("anyOf"), "{text}");
        assert!(!text.contains("oneOf"), "{text}");
        assert!(
            !text.contains("$defs") && !text.contains("definitions"),
            "{text}"
        );
        let nested = &schema["properties"]["nested"];
        assert_eq!(nested["type"], json!(["object", "null"]));
        assert_eq!(nested["properties"]["flag"], json!({"type": "boolean"}));
    }

    #[test]
    fn top_level_has_no_meta_keywords() {
        let schema = schema_for::<Sample>();
        assert_eq!(schema["type"], "object");
        assert!(schema.get("$schema").is_none());
        assert!(schema.get("title").is_none());
    }

    #[test]
    fn without_properties_drops_from_required() {
        let schema = schema_for::<Sample>();
        let narrowed = without_properties(&schema, &["name".to_string()]);
        assert!(narrowed["properties"].get("name").is_none());
        let required = narrowed["required"].as_array().expect("required list");
        assert!(!required.contains(&json!("name")));
        assert!(required.contains(&json!("count")));
    }
}
