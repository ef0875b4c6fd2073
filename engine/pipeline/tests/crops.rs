//! Where the detector looks between refreshes (`rate::detect_regions`,
//! `ObjectDetector::detect_regions`): a moving object is covered, a stopped object that a
//! live track follows is still covered (it has no foreground), and in a whole analysis the
//! detector is asked for regions only between refreshes, each one covering the moving
//! object. The detector here is a stand-in that records what it is asked (the pipeline,
//! not a model, is under test).

mod common;

use std::path::{Path, PathBuf};

use vigie_core::{BBox, Detection, RgbFrame};
use vigie_motion::ForegroundMask;
use vigie_pipeline::rate::{detect_regions, regions_suffice, DetectReason};
use vigie_pipeline::{
    analyze_source, AnalyzeConfig, Detected, MotionObjectDetector, ObjectDetector, SourceInput,
    StageError,
};
use vigie_track::{Tracker, TrackerConfig};

const FRAME: (u32, u32) = (640, 480);

/// A 160x120 mask (4 frame pixels per mask pixel) with foreground over `boxes` (frame
/// pixels).
fn mask(boxes: &[BBox]) -> ForegroundMask {
    let (w, h) = (160u32, 120u32);
    let mut data = vec![0u8; (w * h) as usize];
    for b in boxes {
        for y in (b.y / 4.0) as u32..((b.y + b.h) / 4.0) as u32 {
            for x in (b.x / 4.0) as u32..((b.x + b.w) / 4.0) as u32 {
                data[(y * w + x) as usize] = 1;
            }
        }
    }
    let fg = data.iter().filter(|v| **v != 0).count();
    ForegroundMask {
        width: w,
        height: h,
        data,
        fg_frac: fg as f32 / (w * h) as f32,
        gate_open: fg > 0,
    }
}

fn bbox(x: f32, y: f32, w: f32, h: f32) -> BBox {
    BBox { x, y, w, h }
}

fn covers(regions: &[BBox], b: &BBox) -> bool {
    regions
        .iter()
        .any(|r| r.x <= b.x && r.y <= b.y && r.x + r.w >= b.x + b.w && r.y + r.h >= b.y + b.h)
}

fn person(x: f32, y: f32) -> Detection {
    Detection {
        bbox_in_frame: bbox(x, y, 40.0, 100.0),
        label: "person".into(),
        score: 0.9,
    }
}

#[test]
fn a_moving_object_is_covered() {
    let walker = bbox(480.0, 200.0, 40.0, 100.0);
    let regions = detect_regions(&mask(&[walker]), FRAME, &[], &[], &[]);
    assert!(covers(&regions, &walker), "{regions:?}");
    // Nothing else: the regions are where things move.
    let area: f32 = regions.iter().map(|r| r.area()).sum();
    assert!(area < 0.05 * (FRAME.0 * FRAME.1) as f32, "{regions:?}");
    // And the frame with nothing moving and no track needs no region.
    assert!(detect_regions(&mask(&[]), FRAME, &[], &[], &[]).is_empty());
}

#[test]
fn a_stopped_tracked_object_is_still_covered() {
    // A person followed for 1.5 s, then standing still: no foreground at all.
    let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
    for i in 0..15i64 {
        tr.update(i * 100, &[person(100.0 + 2.0 * i.min(8) as f32, 200.0)])
            .unwrap();
    }
    let live = tr.active();
    assert_eq!(live.len(), 1);
    let predicted = tr.predicted_boxes(1600);
    let regions = detect_regions(&mask(&[]), FRAME, live, &predicted, &[]);
    let stood = bbox(116.0, 200.0, 40.0, 100.0);
    assert!(covers(&regions, &stood), "{regions:?}");
    // With a walker elsewhere, both are covered.
    let walker = bbox(480.0, 200.0, 40.0, 100.0);
    let regions = detect_regions(&mask(&[walker]), FRAME, live, &predicted, &[]);
    assert!(
        covers(&regions, &stood) && covers(&regions, &walker),
        "{regions:?}"
    );
}

#[test]
fn a_lost_track_gets_a_wider_region_than_a_seen_one() {
    let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
    for i in 0..10i64 {
        tr.update(i * 100, &[person(100.0 + 5.0 * i as f32, 200.0)])
            .unwrap();
    }
    let seen = detect_regions(
        &mask(&[]),
        FRAME,
        tr.active(),
        &tr.predicted_boxes(1000),
        &[],
    );
    tr.update(1000, &[]).unwrap();
    let lost_live = tr.active();
    assert_eq!(lost_live[0].state, vigie_track::TrackState::Lost);
    let lost = detect_regions(&mask(&[]), FRAME, lost_live, &tr.predicted_boxes(1100), &[]);
    assert!(lost[0].area() > 1.5 * seen[0].area(), "{seen:?} {lost:?}");
}

#[test]
fn the_last_runs_boxes_are_looked_at_again_and_regions_stay_in_the_frame() {
    // A detection waiting for confirmation (no track yet, no foreground).
    let recent = [bbox(600.0, 420.0, 40.0, 60.0)];
    let regions = detect_regions(&mask(&[]), FRAME, &[], &[], &recent);
    assert!(covers(&regions, &recent[0]));
    for r in &regions {
        assert!(r.x >= 0.0 && r.y >= 0.0);
        assert!(r.x + r.w <= FRAME.0 as f32 && r.y + r.h <= FRAME.1 as f32);
    }
}

#[test]
fn the_refresh_looks_at_the_whole_frame() {
    assert!(!regions_suffice(DetectReason::Refresh));
    assert!(!regions_suffice(DetectReason::Ungated));
    assert!(!regions_suffice(DetectReason::GateOrMovingTrack));
    for r in [
        DetectReason::Tentative,
        DetectReason::UnexplainedMotion,
        DetectReason::LostTrack,
        DetectReason::YoungTrack,
        DetectReason::TrackStep,
    ] {
        assert!(regions_suffice(r));
    }
}

/// The motion detector, recording what the pipeline asks of it.
struct Recording {
    inner: MotionObjectDetector,
    whole: Vec<i64>,
    regions: Vec<(i64, Vec<BBox>, Vec<Detection>)>,
}

impl ObjectDetector for Recording {
    fn detect(
        &mut self,
        frame: &RgbFrame,
        mask: &ForegroundMask,
    ) -> Result<Vec<Detection>, StageError> {
        self.whole.push(frame.pts_ms);
        self.inner.detect(frame, mask)
    }

    fn detect_regions(
        &mut self,
        frame: &RgbFrame,
        mask: &ForegroundMask,
        regions: &[BBox],
    ) -> Result<Detected, StageError> {
        let detections = self.inner.detect(frame, mask)?;
        self.regions
            .push((frame.pts_ms, regions.to_vec(), detections.clone()));
        Ok(Detected {
            detections,
            area_share: 0.5,
        })
    }

    fn name(&self) -> &str {
        "recording"
    }
}

fn render(dir: &Path) -> PathBuf {
    common::render_lavfi(
        dir,
        "walker.mp4",
        "color=c=0x707070:s=480x240:d=6:r=10[bg];color=c=0xd01818:s=40x40:d=6:r=10[o];\
         [bg][o]overlay=x='20+t*60':y=100",
    )
}

#[test]
fn between_refreshes_the_detector_is_asked_for_regions_that_cover_the_moving_object() {
    let dir = tempfile::tempdir().unwrap();
    let clip = render(dir.path());
    let mut cfg = AnalyzeConfig::default();
    cfg.decode.output_size = vigie_decode::OutputSize::Native;
    cfg.detect_regions = true;
    let input = SourceInput {
        source_id: "Scrops".into(),
        camera: "crops".into(),
        path: clip,
    };
    let mut det = Recording {
        inner: MotionObjectDetector {
            min_blob_frac: 0.002,
        },
        whole: Vec::new(),
        regions: Vec::new(),
    };
    let a = analyze_source(&input, &cfg, &mut det, |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(a.descriptions.len(), 1, "one walker, one track");
    // The whole frame at the refreshes (the first frame, then every 2 s), regions in
    // between.
    assert!(det.whole.contains(&0), "{:?}", det.whole);
    assert!(det.whole.len() <= 4, "{:?}", det.whole);
    assert!(!det.regions.is_empty());
    for (pts, regions, found) in &det.regions {
        for d in found {
            assert!(
                covers(regions, &d.bbox_in_frame),
                "at {pts} ms the object {:?} lies outside the regions {regions:?}",
                d.bbox_in_frame
            );
        }
    }
    // The area share counts what the detector said it examined.
    let st = &a.stats;
    assert_eq!(st.frames_in_crops, det.regions.len() as u64);
    let expected = det.whole.len() as f64 + 0.5 * det.regions.len() as f64;
    assert!((st.detected_area_frames - expected).abs() < 1e-9);
    // With the setting off, the same frames are detected whole.
    cfg.detect_regions = false;
    let mut plain = MotionObjectDetector {
        min_blob_frac: 0.002,
    };
    let b = analyze_source(&input, &cfg, &mut plain, |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(b.stats.frames_detected, st.frames_detected);
    assert_eq!(b.stats.frames_in_crops, 0);
}
