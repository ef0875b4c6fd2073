//! The evaluation must give the numbers of the `motmetrics` reference on real data.
//!
//! Data: `../shared/datasets/mot15-tud` (test-only, never in the repository). When it is
//! absent (a fresh clone), the tests print why and pass.

use std::path::PathBuf;

use vigie_track::eval::{evaluate, read_mot, EvalConfig, MotFile};
use vigie_track::mot::{detections_from_gt, track_frames, tracks_to_mot, FrameClock};
use vigie_track::TrackerConfig;

fn dataset(seq: &str) -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/mot15-tud")
        .join(seq);
    if d.join("gt/gt.txt").is_file() {
        Some(d)
    } else {
        vigie_core::test_support::skip(&format!(
            "{} not found (shared test datasets absent)",
            d.display()
        ));
        None
    }
}

#[test]
fn tud_campus_matches_motmetrics() {
    let Some(d) = dataset("TUD-Campus") else {
        return;
    };
    let gt = read_mot(&d.join("gt/gt.txt")).unwrap();
    let hyp = read_mot(&d.join("motmetrics_sample_tracker_output.txt")).unwrap();
    let r = evaluate(&gt, &hyp, &EvalConfig::default());
    eprintln!("{r:#?}");
    // motmetrics 1.4.0 (README of the datasets): MOTA 0.5265, IDF1 0.5577, 7 switches;
    // the other counts were checked against the same wheel.
    assert_eq!(r.num_switches, 7);
    assert_eq!(
        (r.num_false_positives, r.num_misses, r.num_fragmentations),
        (13, 150, 7)
    );
    close(r.motp, 0.277_201_084_6, "motp");
    assert!((r.mota - 0.5265).abs() < 5e-5, "MOTA {}", r.mota);
    assert!((r.idf1 - 0.5577).abs() < 5e-5, "IDF1 {}", r.idf1);
    close(r.mota, 0.526_462_395_5, "mota");
    close(r.idf1, 0.557_659_208_3, "idf1");
    assert_eq!(r.num_objects, 359);
    assert_eq!(r.num_predictions, 222);
    // HOTA checked against TrackEval's HOTA (trackeval 1.3.0 wheel) fed the same rows.
    close(r.hota.hota, 0.391_397_437_8, "hota.hota");
    close(r.hota.deta, 0.418_047_030_1, "hota.deta");
    close(r.hota.assa, 0.369_120_681_2, "hota.assa");
    close(r.hota.loca, 0.770_052_227_0, "hota.loca");
}

#[test]
fn tud_stadtmitte_matches_motmetrics() {
    let Some(d) = dataset("TUD-Stadtmitte") else {
        return;
    };
    let gt = read_mot(&d.join("gt/gt.txt")).unwrap();
    let hyp = read_mot(&d.join("motmetrics_sample_tracker_output.txt")).unwrap();
    let r = evaluate(&gt, &hyp, &EvalConfig::default());
    eprintln!("{r:#?}");
    // Reference computed with the motmetrics 1.4.0 wheel (eval_motchallenge rules:
    // gt min_confidence 1, IoU distance 0.5) on these two files.
    assert_eq!(
        (
            r.num_switches,
            r.num_false_positives,
            r.num_misses,
            r.num_fragmentations
        ),
        (7, 45, 452, 6)
    );
    close(r.mota, 0.564_013_840_8, "mota");
    close(r.motp, 0.345_904_295_5, "motp");
    close(r.idf1, 0.644_619_422_6, "idf1");
    assert_eq!((r.mostly_tracked, r.mostly_lost), (5, 1));
    close(r.hota.hota, 0.397_849_017_0, "hota.hota");
    close(r.hota.assa, 0.408_840_751_8, "hota.assa");
    assert_eq!(r.num_matches + r.num_switches + r.num_misses, r.num_objects);
    assert_eq!(
        r.num_matches + r.num_switches + r.num_false_positives,
        r.num_predictions
    );
}

/// Equal to the reference to 1e-9 (both sides compute in f64).
fn close(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() < 1e-9, "{what}: {got}, reference {want}");
}

fn track_gt(gt: &MotFile) -> MotFile {
    let clock = FrameClock::new(40.0);
    let tracks = track_frames(
        &detections_from_gt(gt, 0.9),
        TrackerConfig::default(),
        clock,
    )
    .unwrap();
    tracks_to_mot(&tracks, clock, false)
}

#[test]
fn tracker_on_ground_truth_boxes_scores_high() {
    for seq in ["TUD-Campus", "TUD-Stadtmitte"] {
        let Some(d) = dataset(seq) else { return };
        let gt = read_mot(&d.join("gt/gt.txt")).unwrap();
        let r = evaluate(&gt, &track_gt(&gt), &EvalConfig::default());
        eprintln!(
            "{seq}: MOTA {:.4} IDF1 {:.4} IDSW {} FP {} FN {}",
            r.mota, r.idf1, r.num_switches, r.num_false_positives, r.num_misses
        );
        // With perfect boxes every box is reported (tentative frames are kept in the
        // history); identity can still slip where two people walk together and one is
        // occluded for a second (TUD-Campus: one switch, IDF1 0.88, with a 1000 ms
        // buffer; none with today's 700 ms).
        assert!(r.mota > 0.99, "{seq}: MOTA {}", r.mota);
        assert!(r.num_switches <= 2, "{seq}: {} switches", r.num_switches);
        assert!(r.idf1 > 0.85, "{seq}: IDF1 {}", r.idf1);
    }
}

/// Ground truth degraded like a real detector: 15 % of boxes missed, a third of the rest
/// weak (score 0.3, second-stage only), positions jittered by up to 3 px.
fn degraded(gt: &MotFile) -> vigie_track::mot::FrameDetections {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    detections_from_gt(gt, 0.9)
        .into_iter()
        .map(|(f, dets)| {
            let dets = dets
                .into_iter()
                .filter_map(|mut d| {
                    if next() < 0.15 {
                        return None;
                    }
                    if next() < 0.33 {
                        d.score = 0.3;
                    }
                    d.bbox_in_frame.x += (next() as f32 - 0.5) * 6.0;
                    d.bbox_in_frame.y += (next() as f32 - 0.5) * 6.0;
                    Some(d)
                })
                .collect();
            (f, dets)
        })
        .collect()
}

#[test]
fn tracker_on_degraded_ground_truth() {
    for seq in ["TUD-Campus", "TUD-Stadtmitte"] {
        let Some(d) = dataset(seq) else { return };
        let gt = read_mot(&d.join("gt/gt.txt")).unwrap();
        let clock = FrameClock::new(40.0);
        let tracks = track_frames(&degraded(&gt), TrackerConfig::default(), clock).unwrap();
        for fill in [false, true] {
            let r = evaluate(
                &gt,
                &tracks_to_mot(&tracks, clock, fill),
                &EvalConfig::default(),
            );
            eprintln!(
                "{seq} degraded (gap filling {fill}): MOTA {:.4} IDF1 {:.4} IDSW {} FP {} FN {}",
                r.mota, r.idf1, r.num_switches, r.num_false_positives, r.num_misses
            );
            // 15 % of the boxes are gone, so without gap filling MOTA stays under 0.85
            // (measured: Campus 0.69 / 0.86 filled, Stadtmitte 0.77 / 0.97 filled).
            let (mota_min, idf1_min) = if fill { (0.8, 0.8) } else { (0.6, 0.7) };
            assert!(r.mota > mota_min, "{seq}: MOTA {}", r.mota);
            assert!(r.idf1 > idf1_min, "{seq}: IDF1 {}", r.idf1);
            assert!(r.num_switches <= 5, "{seq}: {} switches", r.num_switches);
        }
    }
}
