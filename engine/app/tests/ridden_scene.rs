//! A motorcycle the detector scores weakly, under a rider it is sure of, on a generated
//! scene: through the detector's rule (`vigie_detect::ridden::keep_ridden`), the score
//! the tracker weighs it by (`Detection::tracking_score`), the tracker and the rider pass,
//! it comes out as one ridden motorcycle. Without the rule the same footage gives a lone
//! person: a search for motorcycles found nothing.

use vigie_core::riders::Seat;
use vigie_core::RgbFrame;
use vigie_detect::test_support::det;
use vigie_motion::ForegroundMask;
use vigie_pipeline::{analyze_source, AnalyzeConfig, ObjectDetector, SourceInput, StageError};

mod common;

/// Working pixels at `t` seconds (the clip is analysed at its native size).
fn machine_at(t: f32) -> vigie_detect::BBox {
    vigie_detect::BBox {
        x: 20.0 + 40.0 * t,
        y: 170.0,
        w: 60.0,
        h: 36.0,
    }
}
fn rider_at(t: f32) -> vigie_detect::BBox {
    vigie_detect::BBox {
        x: 37.0 + 40.0 * t,
        y: 120.0,
        w: 26.0,
        h: 76.0,
    }
}

/// What NanoDet gives on this scene: the rider at 0.85, the machine at 0.25 (under the
/// 0.35 threshold), passed through the detector's rule when `rule` is on, or only the
/// boxes at the threshold when it is off.
struct WeakMachine {
    rule: bool,
}

impl ObjectDetector for WeakMachine {
    fn detect(
        &mut self,
        frame: &RgbFrame,
        _mask: &ForegroundMask,
    ) -> Result<Vec<vigie_core::Detection>, StageError> {
        let t = frame.pts_ms as f32 / 1000.0;
        let d = |b: vigie_detect::BBox, label, score| det(label, score, b.x, b.y, b.w, b.h);
        let raw = vec![
            d(rider_at(t), "person", 0.85),
            d(machine_at(t), "motorcycle", 0.25),
        ];
        let kept = if self.rule {
            vigie_detect::ridden::keep_ridden(raw, 0.35, &Seat::default())
        } else {
            raw.into_iter().filter(|d| d.score >= 0.35).collect()
        };
        Ok(kept.into_iter().map(Into::into).collect())
    }
    fn name(&self) -> &str {
        "weak-machine"
    }
}

fn analyse(rule: bool) -> Vec<vigie_core::TrackSummary> {
    let dir = tempfile::tempdir().unwrap();
    let graph = "color=c=0x808080:s=480x240:d=6:r=10[bg];\
        color=c=0x101010:s=60x36:d=6:r=10[bike];\
        color=c=0xd01818:s=26x30:d=6:r=10[top];\
        color=c=0x1828c8:s=26x38:d=6:r=10[legs];\
        [bg][bike]overlay=x='20+40*t':y=170[s1];\
        [s1][top]overlay=x='37+40*t':y=128[s2];\
        [s2][legs]overlay=x='37+40*t':y=158";
    let clip = common::render_lavfi(&dir.path().join("ridden.mp4"), graph, &[]);
    let mut cfg = AnalyzeConfig::default();
    cfg.decode.output_size = vigie_decode::OutputSize::Native;
    let input = SourceInput {
        source_id: "Sweak".into(),
        camera: "street".into(),
        path: clip,
    };
    let a = analyze_source(&input, &cfg, &mut WeakMachine { rule }, |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    a.descriptions.into_iter().map(|d| d.summary).collect()
}

#[test]
fn a_weak_motorcycle_under_a_sure_rider_is_one_ridden_motorcycle() {
    let tracks = analyse(true);
    assert_eq!(tracks.len(), 1, "{tracks:#?}");
    let m = &tracks[0];
    assert_eq!(m.label, "motorcycle");
    assert!(m.ridden, "{m:?}");
    assert_eq!(m.direction, Some(vigie_core::Compass::E));
    // One box over both: from the rider's head (y 120) to the wheels (y 206).
    assert!((80.0..=90.0).contains(&m.height_px), "{}", m.height_px);
    assert_eq!(
        m.upper_colours.first().map(|c| c.colour),
        Some(vigie_core::Colour::Red),
        "{m:?}"
    );

    // Without the rule: a person riding nothing.
    let tracks = analyse(false);
    assert_eq!(tracks.len(), 1, "{tracks:#?}");
    assert_eq!(tracks[0].label, "person");
    assert!(!tracks[0].ridden);
}
