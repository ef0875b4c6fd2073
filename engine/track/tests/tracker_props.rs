//! Property tests of the tracker's guarantees, on generated detection streams.

use std::collections::{BTreeSet, HashSet};

use proptest::prelude::*;
use vigie_core::{BBox, Detection};
use vigie_track::{FinishedTrack, PointSource, Tracker, TrackerConfig};

fn det(x: f32, y: f32, w: f32, h: f32, label: &str, score: f32) -> Detection {
    Detection {
        bbox_in_frame: BBox { x, y, w, h },
        label: label.into(),
        score,
    }
}

/// A random frame: up to 6 boxes of random class and score.
fn frame() -> impl Strategy<Value = Vec<Detection>> {
    prop::collection::vec(
        (
            0f32..600.0,
            0f32..400.0,
            10f32..120.0,
            10f32..160.0,
            prop::sample::select(vec!["person", "car", "bicycle"]),
            0f32..1.0,
        )
            .prop_map(|(x, y, w, h, l, s)| det(x, y, w, h, l, s)),
        0..6,
    )
}

fn run(frames: &[(i64, Vec<Detection>)], cfg: TrackerConfig) -> (Vec<FinishedTrack>, Vec<u64>) {
    let mut tr = Tracker::new(cfg).unwrap();
    let mut finished = Vec::new();
    let mut seen_ids = Vec::new();
    let mut gone: HashSet<u64> = HashSet::new();
    for (pts, dets) in frames {
        let active = tr.update(*pts, dets).unwrap();
        for t in active {
            assert!(
                !gone.contains(&t.id),
                "id {} came back after it finished",
                t.id
            );
            if !seen_ids.contains(&t.id) {
                seen_ids.push(t.id);
            }
        }
        for f in tr.drain_finished() {
            gone.insert(f.id);
            finished.push(f);
        }
    }
    finished.extend(tr.finish());
    (finished, seen_ids)
}

fn check_history(t: &FinishedTrack) {
    assert!(!t.history.is_empty());
    assert!(
        t.history.windows(2).all(|w| w[0].pts_ms < w[1].pts_ms),
        "track {} history not strictly time-ordered",
        t.id
    );
    assert_eq!(t.history[0].source, PointSource::Detection);
    assert_eq!(t.history.last().unwrap().source, PointSource::Detection);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Ids count up, are never given twice and never come back once finished; histories
    /// are time-ordered; no detection is claimed by two tracks.
    #[test]
    fn ids_unique_and_histories_ordered(
        frames in prop::collection::vec((1i64..120, frame()), 1..60),
        min_hits in 1u32..4,
        buffer in 0i64..2000,
    ) {
        let mut pts = 0;
        let frames: Vec<(i64, Vec<Detection>)> = frames
            .into_iter()
            .map(|(dt, d)| { pts += dt; (pts, d) })
            .collect();
        let cfg = TrackerConfig { min_hits, track_buffer_ms: buffer, ..TrackerConfig::default() };
        let (finished, seen) = run(&frames, cfg);
        let ids: Vec<u64> = finished.iter().map(|t| t.id).collect();
        let unique: BTreeSet<u64> = ids.iter().copied().collect();
        prop_assert_eq!(unique.len(), ids.len(), "an id was finished twice");
        // Ids are 1..=n in order of confirmation.
        prop_assert_eq!(&seen, &(1..=seen.len() as u64).collect::<Vec<_>>());
        prop_assert_eq!(unique.len(), seen.len());
        let mut claimed = HashSet::new();
        for t in &finished {
            check_history(t);
            for p in t.detections() {
                let b = p.bbox_in_frame;
                let key = (p.pts_ms, b.x.to_bits(), b.y.to_bits(), b.w.to_bits(), b.h.to_bits());
                prop_assert!(claimed.insert(key), "detection claimed by two tracks");
                // It was one of that frame's detections, with the track's class.
                let (_, dets) = frames.iter().find(|(pts, _)| *pts == p.pts_ms).unwrap();
                prop_assert!(dets.iter().any(|d| d.bbox_in_frame == b && d.label == t.label));
            }
        }
    }

    /// One object moving at constant velocity, sometimes missed by the detector, keeps a
    /// single id from its first to its last detection. It starts far enough from the
    /// frame's edges that it never leaves the frame (leaving it is another property), and
    /// moves at most a fifth of its size per sample: a new track is associated by IoU
    /// before its velocity is known (gate 0.3), so an object that jumps further than that
    /// between its first two samples is not this property's case.
    #[test]
    fn linear_motion_keeps_one_id(
        x0 in 1300f32..1700.0, y0 in 1300f32..1700.0,
        w in 30f32..100.0, h in 40f32..160.0,
        fx in -0.2f32..0.2, fy in -0.2f32..0.2,
        n in 10usize..80,
        missed in prop::collection::vec(any::<bool>(), 80),
        step_frames in 1i64..3,
    ) {
        // Per-sample displacement: at most a fifth of the box.
        let (vx, vy) = (fx * w / step_frames as f32, fy * h / step_frames as f32);
        let mut frames = Vec::new();
        for i in 0..n {
            let k = i as f32 * step_frames as f32;
            // Never miss the first two (confirmation) or the last frame; at most every
            // other frame is missed.
            let miss = i > 1 && i + 1 < n && missed[i] && !missed[i - 1];
            let dets = if miss { vec![] } else { vec![det(x0 + vx * k, y0 + vy * k, w, h, "car", 0.9)] };
            frames.push((i as i64 * 40 * step_frames, dets));
        }
        let (finished, _) = run(&frames, TrackerConfig::default());
        prop_assert_eq!(finished.len(), 1, "{:?}", finished.iter().map(|t| (t.id, t.history.len())).collect::<Vec<_>>());
        let seen = frames.iter().filter(|(_, d)| !d.is_empty()).count();
        prop_assert_eq!(finished[0].detections().count(), seen);
        check_history(&finished[0]);
    }

    /// A person and a car crossing each other (boxes overlapping at the crossing) never
    /// swap: each track holds the boxes of exactly one object, and each object one track.
    #[test]
    fn crossing_objects_of_different_classes_never_swap(
        y in 50f32..300.0, dy in -10f32..10.0,
        speed in 2f32..12.0,
        n in 20usize..60,
    ) {
        let w = 50.0;
        let h = 100.0;
        let span = speed * n as f32;
        let mut frames = Vec::new();
        for i in 0..n {
            let t = i as f32 * speed;
            frames.push((i as i64 * 40, vec![
                det(100.0 + t, y, w, h, "person", 0.9),
                det(100.0 + span - t, y + dy, w, h, "car", 0.9),
            ]));
        }
        let (finished, _) = run(&frames, TrackerConfig::default());
        prop_assert_eq!(finished.len(), 2);
        for t in &finished {
            check_history(t);
            prop_assert_eq!(t.detections().count(), n);
            for p in t.detections() {
                let i = (p.pts_ms / 40) as f32;
                let expect_x = if t.label == "person" { 100.0 + i * speed } else { 100.0 + span - i * speed };
                prop_assert!((p.bbox_in_frame.x - expect_x).abs() < 1e-3, "track {} took the other object's box", t.id);
            }
        }
    }
}
