//! A modified byte in the cache copy of an allowlisted model: `ModelSession::open` refuses
//! it before ONNX Runtime sees it, with an alert; restoring the file makes it open again.
//!
//! Its own test binary because it points `VIGIE_CACHE` at a private copy of the cache.

use vigie_core::{Alert, AlertKind, AlertSink, AlertSinkError, MemoryAlertSink};
use vigie_policy::{check_cache, ids, CacheStatus, ModelSession, PolicyError, SessionConfig};

struct FailingSink;
impl AlertSink for FailingSink {
    fn raise(&self, _: &Alert) -> Result<(), AlertSinkError> {
        Err(AlertSinkError("disk full".into()))
    }
}

#[test]
fn a_tampered_cache_model_is_refused_before_loading() {
    let real = vigie_core::paths::cache_dir();
    let src = real.join("models/nanodet_coco_416.onnx");
    if !src.is_file() {
        vigie_core::test_support::skip(&format!(
            "{} absent (run tools/fetch-models)",
            src.display()
        ));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("models")).unwrap();
    let mut bytes = std::fs::read(&src).unwrap();
    bytes[1000] ^= 0x80;
    let copy = dir.path().join("models/nanodet_coco_416.onnx");
    std::fs::write(&copy, &bytes).unwrap();
    // Only this test runs in this binary, so setting the variable is race-free.
    std::env::set_var("VIGIE_CACHE", dir.path());

    let sink = MemoryAlertSink::default();
    let err =
        ModelSession::open(ids::NANODET_COCO_416, &SessionConfig::default(), &sink).unwrap_err();
    match &err {
        PolicyError::HashMismatch { id, expected, .. } => {
            assert_eq!(id, "nanodet-coco-416");
            assert_eq!(expected, &ids::NANODET_COCO_416.spec().sha256_hex());
        }
        other => panic!("expected a hash mismatch, got {other}"),
    }
    assert!(err.to_string().contains("tools/fetch-models"), "{err}");
    {
        let alerts = sink.alerts.lock().unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].kind, AlertKind::ModelRefused);
        assert_eq!(alerts[0].details["model_id"], "nanodet-coco-416");
    }

    // The status listing sees it too (and alerts again), the other models are missing.
    let status = check_cache(&sink);
    assert!(matches!(status[0].1, Ok(CacheStatus::Modified { .. })));
    assert!(status[1..]
        .iter()
        .all(|(_, s)| matches!(s, Ok(CacheStatus::Missing))));
    assert_eq!(sink.alerts.lock().unwrap().len(), 2);

    // An alert sink that fails does not turn the refusal into an acceptance.
    let err = ModelSession::open(
        ids::NANODET_COCO_416,
        &SessionConfig::default(),
        &FailingSink,
    )
    .unwrap_err();
    assert!(
        err.is_refusal() && err.to_string().contains("could NOT be recorded"),
        "{err}"
    );

    // Missing file: a clear error naming the fix, no alert.
    std::fs::remove_file(&copy).unwrap();
    let n = sink.alerts.lock().unwrap().len();
    let err =
        ModelSession::open(ids::NANODET_COCO_416, &SessionConfig::default(), &sink).unwrap_err();
    assert!(
        matches!(err, PolicyError::ModelMissing { .. })
            && err.to_string().contains("run tools/fetch-models"),
        "{err}"
    );
    assert_eq!(sink.alerts.lock().unwrap().len(), n);
}
