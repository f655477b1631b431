//! The sync envelope: how decisions travel from a runtime (edge worker, LIFF app, batch job) to
//! the business's backend. `decisionId` is the idempotency key of each decision, so a backend
//! that stores by it receives every decision exactly once however often a batch is retried.

use super::Decision;
use serde::{Deserialize, Serialize};

/// One POST body of the sync client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SyncEnvelope {
    /// Contract version: `1`.
    pub version: u32,
    /// Always `"kizuna.decisions"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Id of this batch (stable across retries of the same batch).
    pub batch_id: String,
    /// When the batch was (first) sent, RFC 3339.
    pub sent_at: String,
    /// Who sent it.
    pub source: SyncSource,
    /// The decisions, oldest first. Store them by `decisionId`; a repeated id is a retry.
    pub decisions: Vec<Decision>,
}

/// The sender of a sync envelope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SyncSource {
    /// `workerd`, `browser`, `node` …
    pub runtime: String,
    /// Free-form application name (`liff-quiz`, `line-webhook` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
}
