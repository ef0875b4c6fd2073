//! Spot checks on real images: bus.jpg (a bus and several people) and street-cctv frames.
//! Skip with a message when the dataset, the model or ONNX Runtime is absent.

mod common;

use std::path::PathBuf;

use common::{config, detector};
use vigie_detect::still::load_still;
use vigie_detect::DetectorConfig;

fn datasets() -> PathBuf {
    std::env::var_os("VIGIE_TEST_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(vigie_core::test_support::shared_datasets)
}

fn still(rel: &str) -> Option<vigie_core::RgbFrame> {
    let p = datasets().join(rel);
    if !p.is_file() {
        vigie_core::test_support::skip(&format!("{} absent", p.display()));
        return None;
    }
    Some(load_still(&p).expect("load still"))
}

#[test]
fn bus_jpg_has_a_bus_and_people() {
    let Some(frame) = still("stills/bus.jpg") else {
        return;
    };
    let Some(mut det) = detector(config()) else {
        return;
    };
    let found = det.detect(&frame).expect("detect");
    for d in &found {
        eprintln!("{} {:.2} {:?}", d.label, d.score, d.bbox_in_frame);
    }
    let buses: Vec<_> = found.iter().filter(|d| d.label == "bus").collect();
    let people = found.iter().filter(|d| d.label == "person").count();
    assert_eq!(buses.len(), 1, "{found:?}");
    assert!(buses[0].score > 0.5, "{found:?}");
    assert!(
        (3..=6).contains(&people),
        "expected 3 to 6 people, got {people}: {found:?}"
    );
    // The bus spans most of the image width (bus.jpg is 810x1080; the bus is at the top
    // half, left edge to right edge).
    let b = buses[0].bbox_in_frame;
    assert!(
        b.w > 0.6 * frame.width as f32 && b.y < 0.4 * frame.height as f32,
        "{b:?}"
    );
    // Every box lies inside the frame.
    for d in &found {
        let b = d.bbox_in_frame;
        assert!(
            b.x >= 0.0
                && b.y >= 0.0
                && b.x + b.w <= frame.width as f32 + 0.5
                && b.y + b.h <= frame.height as f32 + 0.5
        );
    }
}

#[test]
fn class_filter_keeps_only_requested_classes() {
    let Some(frame) = still("stills/bus.jpg") else {
        return;
    };
    let Some(mut det) = detector(DetectorConfig {
        classes: vec!["bus".into()],
        ..config()
    }) else {
        return;
    };
    let found = det.detect(&frame).expect("detect");
    assert!(
        !found.is_empty() && found.iter().all(|d| d.label == "bus"),
        "{found:?}"
    );
}

/// Same detections (labels, and scores/boxes up to float rounding) batched or not.
fn assert_close(a: &[vigie_detect::Detection], b: &[vigie_detect::Detection]) {
    assert_eq!(a.len(), b.len(), "{a:?}\n{b:?}");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.label, y.label);
        assert!((x.score - y.score).abs() < 1e-3, "{x:?} {y:?}");
        let (p, q) = (x.bbox_in_frame, y.bbox_in_frame);
        let d = (p.x - q.x).abs() + (p.y - q.y).abs() + (p.w - q.w).abs() + (p.h - q.h).abs();
        assert!(d < 2.0, "{x:?} {y:?}");
    }
}

#[test]
fn batch_gives_the_same_as_one_by_one() {
    let Some(a) = still("stills/bus.jpg") else {
        return;
    };
    let Some(b) = still("street-cctv-vehicles/frames_voc_train/frame1008.jpg") else {
        return;
    };
    let Some(mut det) = detector(config()) else {
        return;
    };
    let batch = det.detect_batch(&[&a, &b, &a]).expect("batch");
    assert_eq!(batch.len(), 3);
    assert_close(&batch[0], &det.detect(&a).unwrap());
    assert_close(&batch[1], &det.detect(&b).unwrap());
    assert_close(&batch[0], &batch[2]);
    // frame1008 is annotated with motorcycles.
    assert!(
        batch[1].iter().any(|d| d.label == "motorcycle"),
        "{:?}",
        batch[1]
    );
    assert!(det.detect_batch(&[]).unwrap().is_empty());
}

#[test]
fn unknown_class_is_a_clear_error() {
    let err = DetectorConfig {
        classes: vec!["face".into()],
        ..config()
    }
    .validate()
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("unknown class 'face'") && msg.contains("person"),
        "{msg}"
    );
}

#[test]
fn malformed_frame_is_a_clear_error() {
    let Some(mut det) = detector(config()) else {
        return;
    };
    // Not `RgbFrame::from_rgb`, which refuses such a frame.
    let bad = vigie_core::RgbFrame {
        index: 7,
        width: 10,
        height: 10,
        data: vec![0; 12],
        ..Default::default()
    };
    let msg = det.detect(&bad).unwrap_err().to_string();
    assert!(msg.contains("frame 7 is 10x10 but holds 12 bytes"), "{msg}");
}
