//! The frame's light through the describer: a person in an infrared (monochrome) frame gets
//! no colour at all, not grey; the same person in colour keeps theirs.

use vigie_core::{BBox, Colour, RgbFrame};
use vigie_describe::{DescribeConfig, Describer, Observation, Scene, TrackEnd};

/// 200x200 street: grey road, some vegetation, a person (red top, faded jeans) at
/// (80, 50, 40x100). `grey` turns every pixel to its luma (what an infrared camera gives).
fn street(grey: bool) -> RgbFrame {
    RgbFrame::painted(200, 200, 0, |x, y| {
        let mut c = if y < 20 {
            [80, 120, 60]
        } else {
            [120, 120, 118]
        };
        if (80..120).contains(&x) && (50..150).contains(&y) {
            let rel = (y - 50) as f32 / 100.0;
            c = if rel < 0.15 {
                [190, 160, 140]
            } else if rel < 0.5 {
                [190, 35, 40]
            } else {
                [92, 104, 128]
            };
        }
        if grey {
            let l = (0.299 * c[0] as f32 + 0.587 * c[1] as f32 + 0.114 * c[2] as f32) as u8;
            c = [l, l, l];
        }
        c
    })
}

fn describe(frame: &RgbFrame) -> vigie_core::TrackSummary {
    let mut d = Describer::new(DescribeConfig::default(), Scene::default());
    let bbox = BBox {
        x: 80.0,
        y: 50.0,
        w: 40.0,
        h: 100.0,
    };
    d.observe(
        &Observation {
            track_id: 1,
            label: "person",
            bbox: &bbox,
            score: 0.9,
        },
        frame,
        None,
    );
    d.finish(TrackEnd {
        source_id: "S1",
        camera: "cam",
        track_id: 1,
        label: "person",
        confidence: 0.9,
        history: &[(0, bbox)],
        frame_width: frame.width,
        frame_height: frame.height,
        start_wall_ms: None,
    })
    .summary
}

#[test]
fn an_infrared_frame_gives_no_colour_rather_than_grey() {
    let s = describe(&street(true));
    assert!(s.colours.is_empty(), "{:?}", s.colours);
    assert!(s.upper_colours.is_empty() && s.lower_colours.is_empty());
    // The rest of the description is still there.
    assert_eq!(s.label, "person");
}

#[test]
fn the_same_person_in_colour_keeps_red_over_blue() {
    let s = describe(&street(false));
    assert_eq!(
        s.upper_colours[0].colour,
        Colour::Red,
        "{:?}",
        s.upper_colours
    );
    assert_eq!(
        s.lower_colours[0].colour,
        Colour::Blue,
        "{:?}",
        s.lower_colours
    );
}
