//! `--about`: the tap's name, version, capabilities and settings.
//!
//! The JSON form has the shape of a Meltano SDK tap's `--about --format
//! json` (name, description, version, sdk_version,
//! supported_python_versions, capabilities, and settings as a JSON Schema),
//! so tools that read one read the other. Each setting also carries its
//! environment variable under `env`, which SDK taps show only in the text
//! form.

use serde_json::{Map, Value, json};

use crate::config::{ENV_PREFIX, SETTINGS, Setting, env_var};

/// Capabilities the tap declares to Meltano.
pub const CAPABILITIES: &[&str] = &[
    "catalog",
    "discover",
    "state",
    "about",
    "activate-version",
    "test",
];

const NAME: &str = env!("CARGO_PKG_NAME");
const VERSION: &str = env!("CARGO_PKG_VERSION");
const DESCRIPTION: &str = env!("CARGO_PKG_DESCRIPTION");

/// Builds the JSON form.
pub fn json() -> Value {
    let mut properties = Map::new();
    for setting in SETTINGS {
        properties.insert(setting.name.to_string(), setting_schema(setting));
    }
    let required: Vec<&str> = SETTINGS
        .iter()
        .filter(|s| s.required)
        .map(|s| s.name)
        .collect();
    json!({
        "name": NAME,
        "description": DESCRIPTION,
        "version": VERSION,
        "sdk_version": null,
        "supported_python_versions": null,
        "capabilities": CAPABILITIES,
        "settings": {"type": "object", "properties": properties, "required": required},
        "env_var_prefix": ENV_PREFIX,
    })
}

fn setting_schema(setting: &Setting) -> Value {
    let types = if setting.required {
        json!([setting.kind])
    } else {
        json!([setting.kind, "null"])
    };
    let mut schema = json!({"type": types});
    if setting.name == "start_date" {
        schema["format"] = json!("date-time");
    }
    if let Some(default) = typed_default(setting) {
        schema["default"] = default;
    }
    schema["description"] = json!(setting.description);
    if setting.secret {
        schema["secret"] = json!(true);
        schema["writeOnly"] = json!(true);
    }
    schema["env"] = json!(env_var(setting));
    schema
}

/// Returns the default as a JSON value of the setting's type; `None` when there is
/// none or it depends on other settings.
fn typed_default(setting: &Setting) -> Option<Value> {
    let text = setting.default?;
    match setting.kind {
        "integer" => text.parse::<i64>().ok().map(Value::from),
        "number" => text.parse::<f64>().ok().map(Value::from),
        "boolean" => text.parse::<bool>().ok().map(Value::from),
        _ => Some(Value::from(text)),
    }
}

/// Builds the Markdown form, for READMEs.
pub fn markdown() -> String {
    let mut text =
        format!("# `{NAME}`\n\n{DESCRIPTION}\n\nVersion {VERSION}.\n\n## Capabilities\n\n");
    for capability in CAPABILITIES {
        text.push_str(&format!("- `{capability}`\n"));
    }
    text.push_str("\n## Settings\n\n");
    text.push_str(&settings_table());
    text
}

/// Renders the settings as a Markdown table; the README embeds it.
pub fn settings_table() -> String {
    let mut table = String::from(
        "| Setting | Type | Default | Environment variable | Description |\n|---|---|---|---|---|\n",
    );
    for setting in SETTINGS {
        let default = match (setting.default, setting.required) {
            (Some(default), _) => format!("`{default}`"),
            (None, true) => "required".to_string(),
            (None, false) => "none".to_string(),
        };
        let secret = if setting.secret {
            " Secret: never logged."
        } else {
            ""
        };
        table.push_str(&format!(
            "| `{}` | {} | {default} | `{}` | {}{secret} |\n",
            setting.name,
            setting.kind,
            env_var(setting),
            setting.description
        ));
    }
    table
}

/// Builds the plain text form.
pub fn text() -> String {
    let mut text =
        format!("Name: {NAME}\nDescription: {DESCRIPTION}\nVersion: {VERSION}\nCapabilities:\n");
    for capability in CAPABILITIES {
        text.push_str(&format!("  - {capability}\n"));
    }
    text.push_str("Settings:\n");
    for setting in SETTINGS {
        text.push_str(&format!(
            "  - Name: {}\n    Type: {}\n",
            setting.name, setting.kind
        ));
        if let Some(default) = setting.default {
            text.push_str(&format!("    Default: {default}\n"));
        }
        if setting.secret {
            text.push_str("    Secret: true\n");
        }
        text.push_str(&format!("    Environment Variable: {}\n", env_var(setting)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn json_has_sdk_shape() {
        let about = json();
        let keys: Vec<&str> = about
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "name",
                "description",
                "version",
                "sdk_version",
                "supported_python_versions",
                "capabilities",
                "settings",
                "env_var_prefix"
            ]
        );
        assert_eq!(about["name"], "tap-healthchecks");
        assert_eq!(about["settings"]["required"], json!(["api_key"]));
        let api_key = &about["settings"]["properties"]["api_key"];
        assert_eq!(api_key["type"], json!(["string"]));
        assert_eq!(api_key["secret"], true);
        assert_eq!(api_key["writeOnly"], true);
        assert_eq!(api_key["env"], "TAP_HEALTHCHECKS_API_KEY");
        let retries = &about["settings"]["properties"]["max_retries"];
        assert_eq!(retries["type"], json!(["integer", "null"]));
        assert_eq!(retries["default"], 5);
        let pacing = &about["settings"]["properties"]["max_requests_per_minute"];
        assert!(
            pacing.get("default").is_none(),
            "the default depends on base_url"
        );
    }

    #[test]
    fn every_setting_is_listed() {
        let about = json();
        let names: Vec<&String> = about["settings"]["properties"]
            .as_object()
            .expect("object")
            .keys()
            .collect();
        assert_eq!(names.len(), SETTINGS.len());
        let text = text();
        for setting in SETTINGS {
            assert!(text.contains(&format!("  - Name: {}\n", setting.name)));
            assert!(markdown().contains(&format!("| `{}` |", setting.name)));
        }
    }

    /// The README's settings table is generated; `UPDATE_README=1` rewrites it.
    #[test]
    fn readme_settings_table_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
        let readme = std::fs::read_to_string(&path).expect("read README.md");
        let (start, end) = (
            "<!-- settings-table-start -->\n",
            "<!-- settings-table-end -->",
        );
        let from = readme.find(start).expect("start marker in README.md") + start.len();
        let to = readme.find(end).expect("end marker in README.md");
        let table = settings_table();
        if std::env::var_os("UPDATE_README").is_some() {
            std::fs::write(
                &path,
                format!("{}{table}{}", &readme[..from], &readme[to..]),
            )
            .expect("write README.md");
            return;
        }
        assert!(
            readme[from..to] == table,
            "the settings table in README.md is out of date; run `UPDATE_README=1 cargo test \
             readme_settings_table` and commit the result"
        );
    }
}
