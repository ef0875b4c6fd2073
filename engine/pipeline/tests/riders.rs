//! Riders on a generated scene: a cyclist (red top, blue trousers) rides a dark bicycle
//! left to right along the bottom lane, while a pedestrian (green top, yellow trousers)
//! walks right to left along the top lane, past a bicycle parked there. The detector is a
//! scripted stand-in that boxes what a COCO detector boxes: the rider (`person`) and the
//! machine (`bicycle`) apart. After analysis the cyclist is one object, a ridden bicycle
//! whose box covers the rider and whose upper/lower colours are the rider's; the
//! pedestrian stays a person, the parked bicycle stays unridden.

mod common;

use vigie_core::{BBox, Colour, Detection, RgbFrame};
use vigie_motion::ForegroundMask;
use vigie_pipeline::{analyze_source, AnalyzeConfig, ObjectDetector, SourceInput, StageError};

/// Where things are at `t` seconds (working pixels; the clip is analysed at native size).
fn bicycle_at(t: f32) -> BBox {
    BBox {
        x: 20.0 + 40.0 * t,
        y: 170.0,
        w: 60.0,
        h: 36.0,
    }
}
fn rider_at(t: f32) -> BBox {
    BBox {
        x: 37.0 + 40.0 * t,
        y: 120.0,
        w: 26.0,
        h: 76.0,
    }
}
fn pedestrian_at(t: f32) -> BBox {
    BBox {
        x: 440.0 - 50.0 * t,
        y: 10.0,
        w: 26.0,
        h: 90.0,
    }
}
const PARKED: BBox = BBox {
    x: 300.0,
    y: 70.0,
    w: 60.0,
    h: 36.0,
};

struct Scripted;

impl ObjectDetector for Scripted {
    fn detect(
        &mut self,
        frame: &RgbFrame,
        _mask: &ForegroundMask,
    ) -> Result<Vec<Detection>, StageError> {
        let t = frame.pts_ms as f32 / 1000.0;
        let d = |b: BBox, label: &str, score: f32| Detection {
            bbox_in_frame: b,
            label: label.into(),
            score,
        };
        let mut out = vec![
            d(bicycle_at(t), "bicycle", 0.8),
            d(rider_at(t), "person", 0.85),
            d(PARKED, "bicycle", 0.7),
        ];
        let p = pedestrian_at(t);
        if p.x + p.w > 0.0 {
            out.push(d(p, "person", 0.85));
        }
        Ok(out)
    }
    fn name(&self) -> &str {
        "scripted"
    }
}

#[test]
fn a_cyclist_is_one_ridden_bicycle_and_a_passer_by_stays_a_person() {
    let dir = tempfile::tempdir().unwrap();
    // The parked bicycle is part of the background; the others move as scripted above.
    let graph = "color=c=0x808080:s=480x240:d=8:r=10[bg];\
        color=c=0x202020:s=60x36:d=8:r=10[parked];\
        color=c=0x101010:s=60x36:d=8:r=10[bike];\
        color=c=0xd01818:s=26x30:d=8:r=10[top];\
        color=c=0x1828c8:s=26x38:d=8:r=10[legs];\
        color=c=0x18b030:s=26x42:d=8:r=10[ptop];\
        color=c=0xe0d020:s=26x44:d=8:r=10[plegs];\
        [bg][parked]overlay=x=300:y=70[s1];\
        [s1][bike]overlay=x='20+40*t':y=170[s2];\
        [s2][top]overlay=x='37+40*t':y=128[s3];\
        [s3][legs]overlay=x='37+40*t':y=158[s4];\
        [s4][ptop]overlay=x='440-50*t':y=14[s5];\
        [s5][plegs]overlay=x='440-50*t':y=56";
    let clip = common::render_lavfi(dir.path(), "riders.mp4", graph);
    let mut cfg = AnalyzeConfig::default();
    cfg.decode.output_size = vigie_decode::OutputSize::Native;
    let input = SourceInput {
        source_id: "Sride".into(),
        camera: "street".into(),
        path: clip,
    };
    let a = analyze_source(&input, &cfg, &mut Scripted, |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    let tracks: Vec<_> = a.descriptions.iter().map(|d| &d.summary).collect();
    assert_eq!(a.stats.riders_attached, 1, "{tracks:#?}");
    assert_eq!(tracks.len(), 3, "{tracks:#?}");

    let ridden: Vec<_> = tracks.iter().filter(|t| t.ridden).collect();
    assert_eq!(ridden.len(), 1, "{tracks:#?}");
    let cyclist = ridden[0];
    assert_eq!(cyclist.label, "bicycle");
    assert_eq!(cyclist.direction, Some(vigie_core::Compass::E));
    // One box over both: from the rider's head (y 120) to the wheels (y 206).
    assert!(
        (80.0..=90.0).contains(&cyclist.height_px),
        "{}",
        cyclist.height_px
    );
    assert_eq!(
        cyclist.upper_colours.first().map(|c| c.colour),
        Some(Colour::Red),
        "{cyclist:?}"
    );
    assert_eq!(
        cyclist.lower_colours.first().map(|c| c.colour),
        Some(Colour::Blue),
        "{cyclist:?}"
    );
    let i = tracks
        .iter()
        .position(|t| t.track_id == cyclist.track_id)
        .unwrap();
    let tube = &a.tubes[i];
    assert_eq!(tube.track_id, cyclist.track_id);
    assert!(
        tube.boxes
            .iter()
            .all(|(_, b)| b.y <= 120.5 && b.y + b.h >= 205.5),
        "the tube covers rider and machine"
    );

    let persons: Vec<_> = tracks.iter().filter(|t| t.label == "person").collect();
    assert_eq!(persons.len(), 1, "only the pedestrian: {tracks:#?}");
    assert_eq!(persons[0].direction, Some(vigie_core::Compass::W));
    assert_eq!(
        persons[0].upper_colours.first().map(|c| c.colour),
        Some(Colour::Green)
    );
    let parked: Vec<_> = tracks
        .iter()
        .filter(|t| t.label == "bicycle" && !t.ridden)
        .collect();
    assert_eq!(parked.len(), 1, "{tracks:#?}");
    assert_eq!(
        parked[0].heading_deg, None,
        "a parked bicycle does not move"
    );
}
