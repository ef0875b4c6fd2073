//! Detecting ahead (`AnalyzeConfig::detect_ahead`) changes when frames are detected, never
//! what is found: a frame is detected together with a later one (two sessions side by
//! side in the real detector), and the later frame's boxes are used only if the rate,
//! once the frames before it are tracked, asks for them. The same clip analysed with and
//! without it gives the same detected frames, tubes and descriptions. The detector is the
//! model-free motion detector behind a wrapper that records which frames were paired.

mod common;

use std::path::Path;

use vigie_core::{Detection, RgbFrame};
use vigie_motion::ForegroundMask;
use vigie_pipeline::{
    analyze_source, Analysis, AnalyzeConfig, MotionObjectDetector, ObjectDetector, SourceInput,
    StageError, DETECT_AHEAD_MAX_FRAMES,
};

/// The motion detector, saying it works on pairs, and recording the calls.
struct Pairing {
    inner: MotionObjectDetector,
    singles: Vec<i64>,
    pairs: Vec<(i64, i64)>,
}

impl ObjectDetector for Pairing {
    fn detect(
        &mut self,
        frame: &RgbFrame,
        mask: &ForegroundMask,
    ) -> Result<Vec<Detection>, StageError> {
        self.singles.push(frame.pts_ms);
        self.inner.detect(frame, mask)
    }

    fn pairs(&self) -> bool {
        true
    }

    fn detect_pair(
        &mut self,
        a: (&RgbFrame, &ForegroundMask),
        b: (&RgbFrame, &ForegroundMask),
    ) -> Result<[Vec<Detection>; 2], StageError> {
        self.pairs.push((a.0.pts_ms, b.0.pts_ms));
        Ok([self.inner.detect(a.0, a.1)?, self.inner.detect(b.0, b.1)?])
    }

    fn name(&self) -> &str {
        "pairing"
    }
}

fn analyse(clip: &Path, ahead: bool) -> (Analysis, Pairing) {
    let mut cfg = AnalyzeConfig::default();
    cfg.decode.output_size = vigie_decode::OutputSize::Native;
    cfg.record_detected_frames = true;
    cfg.detect_ahead = ahead;
    let input = SourceInput {
        source_id: "Sahead".into(),
        camera: "ahead".into(),
        path: clip.to_owned(),
    };
    let mut det = Pairing {
        inner: MotionObjectDetector {
            min_blob_frac: 0.002,
        },
        singles: Vec::new(),
        pairs: Vec::new(),
    };
    let a = analyze_source(&input, &cfg, &mut det, |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    (a, det)
}

/// The same results either way, and the pairs accounted for. Returns the pairs and the
/// stats of the run that detected ahead.
fn same_results_with_pairs(clip: &Path) -> (Vec<(i64, i64)>, vigie_pipeline::AnalysisStats) {
    let (plain, p) = analyse(clip, false);
    assert!(
        p.pairs.is_empty(),
        "pairs without detect_ahead: {:?}",
        p.pairs
    );
    let (ahead, det) = analyse(clip, true);
    assert_eq!(ahead.detected_pts_ms, plain.detected_pts_ms);
    assert_eq!(ahead.tubes, plain.tubes);
    assert_eq!(ahead.descriptions, plain.descriptions);
    assert_eq!(ahead.duration_ms, plain.duration_ms);
    let (sa, sp) = (&ahead.stats, &plain.stats);
    assert_eq!(
        (sa.frames_analysed, sa.frames_detected, sa.frames_gated_out),
        (sp.frames_analysed, sp.frames_detected, sp.frames_gated_out)
    );
    assert_eq!(sa.detect_reasons, sp.detect_reasons);
    assert_eq!(sa.detect_rate, sp.detect_rate);
    assert_eq!(sa.detections, sp.detections);
    assert!(!plain.tubes.is_empty());
    let st = &ahead.stats;
    assert!(st.frames_detected_ahead > 0, "{st:?}");
    assert_eq!(
        det.pairs.len() as u64,
        st.frames_detected_ahead + st.detected_ahead_unused,
        "{st:?}"
    );
    // A later frame's boxes were used exactly when the rate detected that frame.
    let detected = &plain.detected_pts_ms;
    let used = det.pairs.iter().filter(|p| detected.contains(&p.1)).count();
    assert_eq!(used as u64, st.frames_detected_ahead);
    // Every detected frame was computed once: alone, first of a pair, or used second.
    let mut computed: Vec<i64> = det.singles.clone();
    computed.extend(det.pairs.iter().map(|p| p.0));
    computed.extend(
        det.pairs
            .iter()
            .map(|p| p.1)
            .filter(|b| detected.contains(b)),
    );
    computed.sort_unstable();
    assert_eq!(&computed, detected);
    // The partner is a later frame, at most DETECT_AHEAD_MAX_FRAMES ahead (10 fps).
    for &(a, b) in &det.pairs {
        assert!(
            b > a && b - a <= DETECT_AHEAD_MAX_FRAMES as i64 * 100,
            "{a} paired with {b}"
        );
    }
    (det.pairs, ahead.stats)
}

#[test]
fn a_busy_scene_is_detected_in_pairs_with_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let clip = common::render_lavfi(
        dir.path(),
        "busy.mp4",
        "color=c=0x707070:s=480x240:d=6:r=10[bg];\
         color=c=0xd01818:s=30x30:d=6:r=10[a];color=c=0x1818d0:s=30x30:d=6:r=10[b];\
         [bg][a]overlay=x='10+t*100':y=20[t1];[t1][b]overlay=x='440-t*100':y=100",
    );
    let (pairs, _) = same_results_with_pairs(&clip);
    // Frames in a row go to the detector: most pairs are a frame and the next one.
    assert!(
        pairs.iter().filter(|p| p.1 - p.0 == 100).count() >= 5,
        "{pairs:?}"
    );
}

#[test]
fn a_slow_walker_is_paired_with_the_frame_its_step_comes_back_at() {
    let dir = tempfile::tempdir().unwrap();
    // 20 px/s with a 40 px box: detected every few frames once its speed is known.
    let clip = common::render_lavfi(
        dir.path(),
        "walker.mp4",
        "color=c=0x707070:s=480x240:d=10:r=10[bg];color=c=0xd01818:s=40x40:d=10:r=10[o];\
         [bg][o]overlay=x='20+t*20':y=100",
    );
    let (pairs, _) = same_results_with_pairs(&clip);
    assert!(pairs.iter().any(|p| p.1 - p.0 > 100), "{pairs:?}");
}

#[test]
fn boxes_detected_ahead_and_not_needed_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    // A fast box that stops after 1.8 s: while it moves every frame is detected, and
    // once it stands the rate falls to the refreshes, so a frame detected ahead of the
    // stop is not needed when its turn comes.
    let clip = common::render_lavfi(
        dir.path(),
        "stop.mp4",
        "color=c=0x707070:s=480x240:d=8:r=10[bg];color=c=0xd01818:s=40x40:d=8:r=10[o];\
         [bg][o]overlay=x='min(20+t*100\\,200)':y=100",
    );
    let (_, st) = same_results_with_pairs(&clip);
    assert!(st.detected_ahead_unused > 0, "{st:?}");
}
