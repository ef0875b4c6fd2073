//! What the detector's integration tests share: a detector on real weights, or a visible
//! skip (`vigie_core::test_support::skip`) when the model or ONNX Runtime is absent, so
//! that a developer who has not fetched them still gets a green run that says why.

use vigie_core::MemoryAlertSink;
use vigie_detect::{Detector, DetectorConfig};
use vigie_policy::{model_path, PolicyError, SessionConfig};

/// The default detector on two threads (tests run side by side).
pub fn config() -> DetectorConfig {
    DetectorConfig {
        session: SessionConfig {
            intra_op_threads: 2,
            ..SessionConfig::default()
        },
        ..DetectorConfig::default()
    }
}

/// A detector for `config`, or `None` (the skip said) when its model or ONNX Runtime is
/// absent; any other error fails the test.
pub fn detector(config: DetectorConfig) -> Option<Detector> {
    if !model_path(config.model).is_file() {
        vigie_core::test_support::skip("NanoDet absent (run tools/fetch-models)");
        return None;
    }
    match Detector::new(config, &MemoryAlertSink::default()) {
        Ok(d) => Some(d),
        Err(vigie_detect::DetectError::Policy(PolicyError::RuntimeMissing { .. })) => {
            vigie_core::test_support::skip("ONNX Runtime absent (run tools/fetch-onnxruntime)");
            None
        }
        Err(e) => panic!("{e}"),
    }
}
