//! Crops through the model (`Detector::detect_windows`): a window of the network's input
//! size is given at scale 1, so its boxes are the boxes of the same pixels detected alone,
//! moved by the window's offset, to the bit. Skips with a message when bus.jpg, the model
//! or ONNX Runtime is absent.

mod common;

use std::path::PathBuf;

use vigie_core::RgbFrame;
use vigie_detect::crops::Window;
use vigie_detect::still::load_still;

#[test]
fn a_window_gives_the_boxes_of_its_pixels_moved_by_its_offset() {
    let p: PathBuf = vigie_core::test_support::shared_datasets().join("stills/bus.jpg");
    if !p.is_file() {
        vigie_core::test_support::skip(&format!("{} absent", p.display()));
        return;
    }
    let Some(mut det) = common::detector(common::config()) else {
        return;
    };
    let bus = load_still(&p).expect("bus.jpg");
    // The 416x416 picture: bus.jpg's top-left corner.
    let inner = Window {
        x: 0,
        y: 300,
        w: 416,
        h: 416,
    };
    let mut alone = RgbFrame::default();
    inner.cut(&bus, &mut alone);
    // ...pasted at (300, 200) of a grey 1000x800 frame.
    let (fw, fh, ox, oy) = (1000u32, 800u32, 300u32, 200u32);
    let mut frame = RgbFrame::solid(fw, fh, [112; 3], 0);
    for y in 0..416 {
        let src = y as usize * 416 * 3;
        let dst = ((oy + y) * fw + ox) as usize * 3;
        frame.data[dst..dst + 416 * 3].copy_from_slice(&alone.data[src..src + 416 * 3]);
    }
    let want = det.detect(&alone).expect("detect");
    assert!(!want.is_empty(), "bus.jpg's corner holds people");
    let window = Window {
        x: ox,
        y: oy,
        w: 416,
        h: 416,
    };
    let got = det
        .detect_windows(&frame, &[window])
        .expect("detect windows");
    assert_eq!(got.len(), want.len(), "{got:?}\n{want:?}");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((g.label, g.score), (w.label, w.score));
        assert_eq!(g.bbox_in_frame.x, w.bbox_in_frame.x + ox as f32);
        assert_eq!(g.bbox_in_frame.y, w.bbox_in_frame.y + oy as f32);
        assert_eq!(g.bbox_in_frame.w, w.bbox_in_frame.w);
        assert_eq!(g.bbox_in_frame.h, w.bbox_in_frame.h);
    }
    // A window outside the frame is refused, not read out of bounds.
    let outside = Window {
        x: 700,
        y: 0,
        w: 416,
        h: 416,
    };
    assert!(det.detect_windows(&frame, &[outside]).is_err());
}
