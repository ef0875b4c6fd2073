//! Policy errors: each names the problem and the fix; paths come last.

use vigie_core::AlertSinkError;

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("no model '{id}' on the compiled allowlist; run `vigie models` to list the models this build can run")]
    UnknownModelId { id: String },

    #[error("model '{id}' is not in the cache; run tools/fetch-models (expected at {path})")]
    ModelMissing { id: String, path: String },

    #[error("refused model '{id}': its bytes do not match the compiled SHA-256 (expected {expected}, found {actual}); the file was modified or replaced: an alert was recorded for the data controller; restore it with tools/fetch-models: {path}")]
    HashMismatch {
        id: String,
        expected: String,
        actual: String,
        path: String,
    },

    #[error("refused model file: its SHA-256 {sha256} is a known biometric model ({what}); vigie never runs biometric models, whatever a manifest calls them: an alert was recorded for the data controller: {path}")]
    KnownBiometric {
        sha256: String,
        what: &'static str,
        path: String,
    },

    #[error("refused model file: its SHA-256 {sha256} matches no model on the compiled allowlist (vigie only runs the models listed by `vigie models`); an alert was recorded for the data controller: {path}")]
    NotAllowlisted { sha256: String, path: String },

    #[error("{refusal} (but the alert could NOT be recorded: {source}; check the alert log's permissions and disk space)")]
    AlertNotRecorded {
        refusal: Box<PolicyError>,
        source: AlertSinkError,
    },

    #[error("cannot read {what} ({source}); check the file's permissions: {path}")]
    Io {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },

    #[error("ONNX Runtime {version} is not installed; run tools/fetch-onnxruntime (or set ORT_DYLIB_PATH to a libonnxruntime.so {version}): {path}")]
    RuntimeMissing { version: &'static str, path: String },

    #[error("ONNX Runtime library does not match the pinned SHA-256 (expected {expected}, found {actual}): an alert was recorded for the data controller; re-run tools/fetch-onnxruntime: {path}")]
    RuntimeModified {
        expected: &'static str,
        actual: String,
        path: String,
    },

    #[error("refused ONNX Runtime library: its SHA-256 {sha256} is not one this build accepts (ONNX Runtime {version} from tools/fetch-onnxruntime; ORT_DYLIB_PATH may only name one of those files); an alert was recorded for the data controller: {path}")]
    RuntimeRefused {
        version: &'static str,
        sha256: String,
        path: String,
    },

    #[error("cannot load ONNX Runtime ({message}); it must be version {version} (tools/fetch-onnxruntime fetches it): {path}")]
    RuntimeLoad {
        version: &'static str,
        message: String,
        path: String,
    },

    #[error("device '{device}' is not available: {reason}")]
    DeviceUnavailable { device: String, reason: String },

    #[error("invalid device '{given}' (expected cpu, cuda or cuda:N)")]
    BadDevice { given: String },

    #[error("model '{id}' does not match its manifest entry: {problem}; the manifest or the model is wrong, fix models/manifest.toml")]
    IoMismatch { id: String, problem: String },

    #[error("bad input for model '{id}': {problem}")]
    BadInput { id: String, problem: String },

    #[error("ONNX Runtime failed on model '{id}' while {during}: {message}")]
    Ort {
        id: String,
        during: &'static str,
        message: String,
    },
}

impl PolicyError {
    /// Whether this error is a refusal (a model or runtime file that is not, or no longer,
    /// allowlisted or pinned). A modified *cache copy* of the pinned runtime is an integrity
    /// error (`RuntimeModified`), not a refusal; both raise an alert.
    pub fn is_refusal(&self) -> bool {
        match self {
            PolicyError::HashMismatch { .. }
            | PolicyError::NotAllowlisted { .. }
            | PolicyError::KnownBiometric { .. }
            | PolicyError::RuntimeRefused { .. } => true,
            PolicyError::AlertNotRecorded { refusal, .. } => refusal.is_refusal(),
            _ => false,
        }
    }
}
