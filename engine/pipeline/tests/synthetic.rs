//! The whole pipeline on synthetic footage with known ground truth (tools/gen-synthetic):
//! colour, direction, speed, zone dwell and line crossing must come out as rendered.

mod common;

use std::path::Path;
use std::process::Command;

use vigie_core::{Colour, Compass, CrossingDirection};
use vigie_pipeline::{analyze_source, AnalyzeConfig, MotionObjectDetector, SourceInput};

fn generate(dir: &Path) -> (std::path::PathBuf, serde_json::Value) {
    let out = dir.join("synthetic.mp4");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/gen-synthetic");
    let st = Command::new("bash")
        .arg(script)
        .arg(&out)
        .status()
        .expect("run tools/gen-synthetic");
    assert!(st.success());
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("synthetic.truth.json")).unwrap())
            .unwrap();
    (out, truth)
}

#[test]
fn motion_pipeline_recovers_colour_direction_speed_zones_and_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (clip, truth) = generate(dir.path());
    let mut cfg = AnalyzeConfig {
        scene: vigie_describe::Scene::parse(truth["scene"].as_str().unwrap()).unwrap(),
        ..Default::default()
    };
    cfg.decode.output_size = vigie_decode::OutputSize::Native;
    let input = SourceInput {
        source_id: "Ssynthetic".into(),
        camera: "synthetic".into(),
        path: clip,
    };
    let mut det = MotionObjectDetector {
        min_blob_frac: 0.002,
    };
    let a = analyze_source(&input, &cfg, &mut det, |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    let tracks: Vec<_> = a.descriptions.iter().map(|d| &d.summary).collect();
    for t in &tracks {
        eprintln!(
            "track {} {:?} dir {:?} speed {:.1} {}..{} zones {:?} crossings {:?}",
            t.track_id,
            t.colours
                .iter()
                .map(|c| (c.colour, (c.share * 100.0) as u32))
                .collect::<Vec<_>>(),
            t.direction,
            t.speed_px_s,
            t.first_pts_ms,
            t.last_pts_ms,
            t.zones,
            t.crossings
        );
    }
    assert_eq!(tracks.len(), 3, "one track per rendered object");
    let by_colour = |c: Colour| {
        tracks
            .iter()
            .find(|t| t.colours.first().map(|s| s.colour) == Some(c))
            .unwrap_or_else(|| panic!("no {c} track"))
    };
    let red = by_colour(Colour::Red);
    assert_eq!(red.direction, Some(Compass::E));
    assert!(
        (red.speed_px_s - 50.0).abs() < 8.0,
        "red speed {}",
        red.speed_px_s
    );
    assert_eq!(red.crossings.len(), 1);
    assert_eq!(red.crossings[0].direction, CrossingDirection::Out);
    assert!(
        (red.crossings[0].at_ms - 5_300).abs() <= 300,
        "{:?}",
        red.crossings
    );

    let blue = by_colour(Colour::Blue);
    assert_eq!(blue.direction, Some(Compass::N));
    assert!(
        (blue.speed_px_s - 25.0).abs() < 6.0,
        "blue speed {}",
        blue.speed_px_s
    );
    assert!(blue.crossings.is_empty());
    assert!((blue.first_pts_ms - 1000).abs() <= 300 && (blue.last_pts_ms - 9000).abs() <= 300);

    let yellow = by_colour(Colour::Yellow);
    let door = yellow
        .zones
        .iter()
        .find(|z| z.zone == "door")
        .expect("yellow visits the door zone");
    assert!(door.dwell_ms >= 4_000, "dwell {:?}", door);
    assert!(red.zones.is_empty() && blue.zones.is_empty());
    // Static stretches are cheap: the gate skipped no frame with a live track, but
    // frames without motion never reached the detector.
    assert!(a.stats.frames_analysed == 120, "{:?}", a.stats);
}

#[test]
fn static_footage_costs_almost_no_detector_time() {
    let dir = tempfile::tempdir().unwrap();
    let clip = common::render_lavfi(
        dir.path(),
        "static.mp4",
        "color=c=0x606060:size=320x240:rate=10:duration=10",
    );
    let input = SourceInput {
        source_id: "Sstatic".into(),
        camera: "c".into(),
        path: clip,
    };
    let mut det = MotionObjectDetector {
        min_blob_frac: 0.002,
    };
    let a = analyze_source(&input, &AnalyzeConfig::default(), &mut det, |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert!(a.descriptions.is_empty());
    assert_eq!(a.stats.frames_analysed, 100);
    // Only the periodic refresh (every 2 s) reaches the detector.
    assert!(a.stats.frames_detected <= 6, "{:?}", a.stats);
}
