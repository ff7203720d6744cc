//! `integrations`: the project's notification channels, from
//! `GET /api/v3/channels/`.
//!
//! The API calls them channels and the Healthchecks UI calls them
//! integrations; the stream takes the UI's name. The list is small and has
//! no timestamps, so it is read whole on every sync. It needs the read-write
//! key.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{ReplicationMethod, StreamSpec};
use crate::client::{ApiError, Client};
use crate::schema::schema_for;

pub const STREAM: StreamSpec = StreamSpec {
    name: "integrations",
    key_properties: &["id"],
    replication_method: ReplicationMethod::FullTable,
    replication_key: None,
    selected_by_default: true,
    needs_read_write_key: true,
    schema: schema_for::<Integration>,
};

/// One notification channel.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct Integration {
    /// Channel UUID; checks list it in their `channels` field.
    pub id: String,
    /// Name given in the UI; may be empty.
    pub name: Option<String>,
    /// Channel type, such as `email`, `webhook` or `slack`.
    pub kind: Option<String>,
}

#[derive(Deserialize)]
struct ChannelsPage {
    channels: Vec<Integration>,
}

/// Fetches every channel of the project.
pub fn fetch(client: &Client) -> Result<Vec<Integration>, ApiError> {
    let page: ChannelsPage = client.get_json("channels/", &[])?;
    Ok(page.channels)
}
