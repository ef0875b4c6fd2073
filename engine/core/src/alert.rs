//! Alerts for the data controller.
//!
//! When something tries to do what vigie must never do (load a model that is not on the
//! compiled allowlist, a tampered model file, a biometric task), the refusing crate reports
//! an [`Alert`] to an [`AlertSink`]. The sink is a trait so that the refusing crate (the
//! model policy) does not depend on where alerts are stored (the machine-wide audit log,
//! and the case's own log when a case is open).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A model file that is not on the compiled allowlist, or whose bytes do not match.
    ModelRefused,
    /// An ONNX Runtime library (or CUDA provider library) whose SHA-256 is not pinned in
    /// this build (`ORT_DYLIB_PATH` naming another library, or a modified cache copy).
    RuntimeRefused,
    /// Evidence whose bytes no longer match the hash recorded at ingest.
    EvidenceChanged,
    /// An audit log that failed verification.
    AuditTampered,
    /// A case record (`case.json`) or evidence record (`sources.json`) that disagrees
    /// with the case's audit chain, or a case log that no longer holds a head the machine
    /// log recorded: edited, reset or replaced behind vigie's back.
    RecordMismatch,
    /// A login refused: wrong password, unknown or disabled operator account (the id and
    /// the peer are in the details).
    LoginFailed,
    /// An operator account or a peer locked out after repeated failed logins.
    LoginLockedOut,
    /// `machine/credentials.json` disagrees with the machine log (a password hash that
    /// the log did not record): edited or replaced behind vigie's back.
    CredentialsTampered,
    /// An operator id refused: a disabled account, an id that is not an account once
    /// accounts exist, an account without access to the case, or an administrator's act
    /// attempted by someone who is not one.
    OperatorRefused,
    /// A shard result refused at merge: a signature that does not verify or a node that
    /// is not enrolled, files changed since the node signed them, another case's shard, a
    /// duplicate, or software or models that differ from the case's.
    ShardRefused,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub kind: AlertKind,
    /// One line for the data controller: what was attempted and what vigie did.
    pub message: String,
    /// Machine-readable details (hashes, model ids, paths last).
    pub details: BTreeMap<String, String>,
}

/// Where alerts go. Implementations must persist the alert (and sync it) before returning.
pub trait AlertSink: Send + Sync {
    fn raise(&self, alert: &Alert) -> Result<(), AlertSinkError>;
}

#[derive(Debug, thiserror::Error)]
#[error("could not record alert for the data controller: {0}")]
pub struct AlertSinkError(pub String);

/// A sink that keeps alerts in memory (tests, dry runs).
#[derive(Debug, Default)]
pub struct MemoryAlertSink {
    pub alerts: std::sync::Mutex<Vec<Alert>>,
}

impl AlertSink for MemoryAlertSink {
    fn raise(&self, alert: &Alert) -> Result<(), AlertSinkError> {
        self.alerts
            .lock()
            .map_err(|e| AlertSinkError(e.to_string()))?
            .push(alert.clone());
        Ok(())
    }
}
