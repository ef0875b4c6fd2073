//! Run-time proof: an unknown model file, a known biometric model (by hash, whatever its
//! name) or a single modified byte is refused, with an alert for the data controller; the
//! allowlisted file opens and runs.
//!
//! Uses the real models fetched by tools/fetch-models (`$VIGIE_CACHE/models/` and the
//! test-only face model in `$VIGIE_CACHE/test-models/`); each test skips with a message
//! when its files are absent.

use std::path::PathBuf;

use vigie_core::{AlertKind, MemoryAlertSink};
use vigie_policy::{
    check_candidate_file, ids, model_path, ModelSession, PolicyError, SessionConfig,
};

fn face_model() -> Option<PathBuf> {
    let p = vigie_core::paths::cache_dir().join("test-models/mobileface_face_embedding.onnx");
    if p.is_file() {
        Some(p)
    } else {
        vigie_core::test_support::skip(&format!("{} absent (run tools/fetch-models)", p.display()));
        None
    }
}

fn nanodet() -> Option<PathBuf> {
    let p = model_path(ids::NANODET_COCO_416);
    if p.is_file() {
        Some(p)
    } else {
        vigie_core::test_support::skip(&format!("{} absent (run tools/fetch-models)", p.display()));
        None
    }
}

#[test]
fn a_real_face_model_is_refused_with_an_alert() {
    let Some(face) = face_model() else { return };
    let sink = MemoryAlertSink::default();
    let err = check_candidate_file(&face, &sink).unwrap_err();
    // Its hash is on the list of known biometric models.
    assert!(matches!(err, PolicyError::KnownBiometric { .. }), "{err}");
    assert!(err.is_refusal());
    let msg = err.to_string();
    assert!(msg.contains("known biometric model"), "{msg}");
    assert!(
        msg.ends_with(&face.display().to_string()),
        "path last: {msg}"
    );
    let alerts = sink.alerts.lock().unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, AlertKind::ModelRefused);
    assert_eq!(alerts[0].details["path"], face.display().to_string());
}

/// The face-named fixture in tests/fixtures (always present): refused by its hash, which is
/// compiled into the list of known biometric models.
#[test]
fn a_known_biometric_model_file_is_refused_by_hash() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tiny_face_embedding.onnx");
    // Renamed as something harmless: the name plays no part.
    let dir = tempfile::tempdir().unwrap();
    let renamed = dir.path().join("vehicle_detector.onnx");
    std::fs::copy(&p, &renamed).unwrap();
    let sink = MemoryAlertSink::default();
    let err = check_candidate_file(&renamed, &sink).unwrap_err();
    match &err {
        PolicyError::KnownBiometric { sha256, what, .. } => {
            assert_eq!(
                sha256,
                "22d3013610ef98e67cf4b03a21ec8023f375d4610bee4ec170732366b551f7ff"
            );
            assert!(what.contains("tiny face embedding"), "{what}");
        }
        other => panic!("expected a known-biometric refusal, got {other}"),
    }
    assert!(err.is_refusal());
    let alerts = sink.alerts.lock().unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, AlertKind::ModelRefused);
    assert_eq!(alerts[0].details["path"], renamed.display().to_string());
}

#[test]
fn the_allowlisted_nanodet_is_recognised() {
    let Some(p) = nanodet() else { return };
    let sink = MemoryAlertSink::default();
    let id = check_candidate_file(&p, &sink).expect("allowlisted");
    assert_eq!(id, ids::NANODET_COCO_416);
    assert!(sink.alerts.lock().unwrap().is_empty());
}

#[test]
fn a_nanodet_with_one_flipped_byte_is_refused() {
    let Some(p) = nanodet() else { return };
    let mut bytes = std::fs::read(&p).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    let dir = tempfile::tempdir().unwrap();
    let tampered = dir.path().join("nanodet_coco_416.onnx");
    std::fs::write(&tampered, &bytes).unwrap();
    let sink = MemoryAlertSink::default();
    let err = check_candidate_file(&tampered, &sink).unwrap_err();
    assert!(matches!(err, PolicyError::NotAllowlisted { .. }), "{err}");
    assert_eq!(sink.alerts.lock().unwrap().len(), 1);
}

/// The same tampering in the cache itself is refused by `ModelSession::open`: see
/// tests/tampered_cache.rs (its own binary, as it points VIGIE_CACHE elsewhere). Here: the
/// allowlisted file opens, runs, and reports a wrong input shape clearly.
#[test]
fn the_allowlisted_nanodet_opens_and_runs() {
    if nanodet().is_none() {
        return;
    }
    let sink = MemoryAlertSink::default();
    let config = SessionConfig {
        intra_op_threads: 2,
        ..SessionConfig::default()
    };
    let mut session = match ModelSession::open(ids::NANODET_COCO_416, &config, &sink) {
        Err(PolicyError::RuntimeMissing { .. }) => {
            vigie_core::test_support::skip("ONNX Runtime absent (run tools/fetch-onnxruntime)");
            return;
        }
        other => other.expect("open"),
    };
    let input = vec![0.0f32; 3 * 416 * 416];
    let out = session.run(&[(&[1, 3, 416, 416], &input)]).expect("run");
    assert_eq!(out.len(), 6);
    assert_eq!(out[0].shape, vec![1, 2704, 80]);
    assert_eq!(out[5].shape, vec![1, 169, 44]);
    // Scores are sigmoid outputs.
    assert!(out[0].data.iter().all(|v| (0.0..=1.0).contains(v)));
    // The batch dimension is dynamic: two frames in one run give the batch-1 result twice.
    let mut two = input.clone();
    two.extend_from_slice(&input);
    let out2 = session
        .run(&[(&[2, 3, 416, 416], &two)])
        .expect("run batch 2");
    assert_eq!(out2[0].shape, vec![2, 2704, 80]);
    let n = out[0].data.len();
    for (x, y) in out2[0].data[..n].iter().zip(&out[0].data) {
        assert!((x - y).abs() < 1e-4);
    }
    assert!(out2[0].data[..n]
        .iter()
        .zip(&out2[0].data[n..])
        .all(|(x, y)| (x - y).abs() < 1e-4));
    // A wrong shape is a clear error, not a crash.
    let err = session
        .run(&[(&[1, 3, 320, 320], &input[..3 * 320 * 320])])
        .unwrap_err();
    assert!(
        err.to_string().contains("expected [-1, 3, 416, 416]"),
        "{err}"
    );
    assert!(sink.alerts.lock().unwrap().is_empty());
}
