//! The detection rate follows the activity (`vigie_pipeline::rate`): a busy scene gets
//! every sampled frame, a still one almost none, a slow walker a fraction, and the frames
//! chosen depend on the content alone (the same file twice gives the same detected frames
//! and the same tracks). Clips are rendered with the `ffmpeg` CLI; the detector is the
//! model-free motion detector, so the pipeline, not a model, is under test.

mod common;

use std::path::{Path, PathBuf};

use vigie_pipeline::{analyze_source, Analysis, AnalyzeConfig, MotionObjectDetector, SourceInput};

fn analyse(clip: &Path, adaptive: bool) -> Analysis {
    let mut cfg = AnalyzeConfig::default();
    cfg.decode.output_size = vigie_decode::OutputSize::Native;
    cfg.detect_rate.adaptive = adaptive;
    cfg.record_detected_frames = true;
    let input = SourceInput {
        source_id: "Srate".into(),
        camera: "rate".into(),
        path: clip.to_owned(),
    };
    let mut det = MotionObjectDetector {
        min_blob_frac: 0.002,
    };
    analyze_source(&input, &cfg, &mut det, |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap()
}

/// One 40x40 box crossing a 480x240 frame at `speed_px_s` for 10 s, 10 fps.
fn walker(dir: &Path, speed_px_s: u32) -> PathBuf {
    common::render_lavfi(
        dir,
        &format!("walker{speed_px_s}.mp4"),
        &format!(
            "color=c=0x707070:s=480x240:d=10:r=10[bg];color=c=0xd01818:s=40x40:d=10:r=10[o];\
             [bg][o]overlay=x='20+t*{speed_px_s}':y=100"
        ),
    )
}

#[test]
fn a_busy_scene_gets_every_sampled_frame() {
    let dir = tempfile::tempdir().unwrap();
    // Four boxes crossing at 3 to 5 box heights per second, two of them crossing each
    // other: the tracks are always fast, so nothing can be skipped once they are seen.
    let clip = common::render_lavfi(
        dir.path(),
        "busy.mp4",
        "color=c=0x707070:s=480x240:d=8:r=10[bg];\
         color=c=0xd01818:s=30x30:d=8:r=10[a];color=c=0x1818d0:s=30x30:d=8:r=10[b];\
         color=c=0x18a018:s=30x30:d=8:r=10[c];color=c=0xe0e020:s=30x30:d=8:r=10[d];\
         [bg][a]overlay=x='10+t*100':y=20[t1];[t1][b]overlay=x='440-t*100':y=100[t2];\
         [t2][c]overlay=x='10+t*120':y=180[t3];[t3][d]overlay=x='200':y='230-t*90'",
    );
    let a = analyse(&clip, true);
    assert_eq!(a.stats.frames_analysed, 80);
    // From the end of the background model's warm-up (about 1 s) until the boxes start
    // leaving the frame (the yellow one at 2.9 s), every sampled frame was detected.
    let busy: Vec<i64> = (12..=28).map(|i| i * 100).collect();
    let detected: Vec<i64> = a
        .detected_pts_ms
        .iter()
        .copied()
        .filter(|p| busy.contains(p))
        .collect();
    assert_eq!(detected, busy, "{:?}", a.stats);
    let every = analyse(&clip, false);
    assert_eq!(a.descriptions.len(), every.descriptions.len());
    assert!(a.descriptions.len() >= 3, "{} tracks", a.descriptions.len());
}

#[test]
fn a_still_scene_costs_only_the_refreshes() {
    let dir = tempfile::tempdir().unwrap();
    let clip = common::render_lavfi(
        dir.path(),
        "still.mp4",
        "color=c=0x707070:s=320x240:d=20:r=10",
    );
    let a = analyse(&clip, true);
    let st = &a.stats;
    assert_eq!(st.frames_analysed, 200);
    // One refresh every 2 s of the gate: 10 of 200 frames.
    assert!(st.frames_detected <= 11, "{st:?}");
    assert_eq!(st.detect_reasons.refresh, st.frames_detected);
    assert!(st.detector_frame_share() < 0.06);
    assert!(a.descriptions.is_empty());
}

#[test]
fn a_slow_walker_is_detected_as_often_as_its_speed_needs_and_still_tracked_whole() {
    let dir = tempfile::tempdir().unwrap();
    // 12 px/s with a 40 px box: 0.3 box heights per second, one max_step_h (0.2) each
    // 0.7 s once its speed is known.
    let clip = walker(dir.path(), 12);
    let adaptive = analyse(&clip, true);
    let every = analyse(&clip, false);
    let (sa, se) = (&adaptive.stats, &every.stats);
    assert_eq!(sa.frames_analysed, 100);
    assert!(
        sa.frames_detected * 3 < se.frames_detected,
        "adaptive {} detected frames, gate only {}: {sa:?}",
        sa.frames_detected,
        se.frames_detected
    );
    assert!(sa.detect_reasons.track_step > 0, "{sa:?}");
    // Same object, same span (within a detection interval), one track.
    assert_eq!(
        adaptive.descriptions.len(),
        1,
        "{:#?}",
        adaptive.descriptions
    );
    assert_eq!(every.descriptions.len(), 1);
    let (a, e) = (
        &adaptive.descriptions[0].summary,
        &every.descriptions[0].summary,
    );
    assert!(
        (a.first_pts_ms - e.first_pts_ms).abs() <= 1000,
        "{a:?} {e:?}"
    );
    assert!((a.last_pts_ms - e.last_pts_ms).abs() <= 1000, "{a:?} {e:?}");
    assert_eq!(a.direction, Some(vigie_core::Compass::E));
    assert!((a.speed_px_s - 12.0).abs() < 3.0, "{a:?}");
}

#[test]
fn the_rate_depends_only_on_the_content() {
    let dir = tempfile::tempdir().unwrap();
    let clip = walker(dir.path(), 20);
    let first = analyse(&clip, true);
    let second = analyse(&clip, true);
    assert_eq!(first.detected_pts_ms, second.detected_pts_ms);
    assert_eq!(first.tubes, second.tubes);
    assert_eq!(first.stats.detect_rate, second.stats.detect_rate);
    // The per-minute record adds up to the source's counts.
    let frames: u64 = first
        .stats
        .detect_rate
        .iter()
        .map(|r| r.frames as u64)
        .sum();
    let detected: u64 = first
        .stats
        .detect_rate
        .iter()
        .map(|r| r.detected as u64)
        .sum();
    assert_eq!(frames, first.stats.frames_analysed);
    assert_eq!(detected, first.stats.frames_detected);
    assert_eq!(first.stats.detect_rate[0].from_ms, 0);
}
