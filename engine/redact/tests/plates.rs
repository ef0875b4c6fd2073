//! Plates located on generated footage with known object masks: a car carrying a plate
//! drives across the frame (its box sampled every 200 ms, as analysis does, and
//! interpolated in between), an unselected person walks, a selected person stands. Every
//! frame is planned, refined with a locator that finds the plate's white pixels (the
//! stand-in for the plate detector), and filled. Targets: 0 pixels of the plate or of the
//! unselected person left clear in any frame, every pixel of the selected person clear,
//! at least 90% of the background untouched; with the plate located, the car's roof,
//! windows and the rest of its body stay clear; when the locator finds nothing (or takes
//! a sticker for the plate), the plate is still covered.

use vigie_core::BBox;
use vigie_redact::{
    apply, FoundPlate, PlateFigures, PlateLocator, PlateMasker, Rect, RedactParams, Redactor,
    TrackBoxes, VehicleMask, FILL_RGB,
};

const W: u32 = 320;
const H: u32 = 180;
const FRAMES: i64 = 50;
const FRAME_MS: i64 = 40;

const BG: [u8; 3] = [120, 130, 110];
const BODY: [u8; 3] = [30, 60, 200];
const GLASS: [u8; 3] = [150, 200, 230];
const PLATE: [u8; 3] = [255, 255, 255];
const INK: [u8; 3] = [0, 0, 0];
const WALKER: [u8; 3] = [220, 40, 40];
const KEPT: [u8; 3] = [40, 220, 40];

/// What each pixel of a generated frame shows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Truth {
    Background,
    /// The car above its plate's row band: roof and windows.
    CarUpper,
    /// The rest of the car's body (not the plate).
    CarLower,
    Plate,
    Walker,
    Kept,
}

fn car_box(t_ms: i64) -> BBox {
    BBox {
        x: 10.0 + 0.09 * t_ms as f32,
        y: 100.0,
        w: 100.0,
        h: 50.0,
    }
}

fn walker_box(t_ms: i64) -> BBox {
    BBox {
        x: 280.0 - 0.02 * t_ms as f32,
        y: 20.0,
        w: 12.0,
        h: 30.0,
    }
}

fn kept_box() -> BBox {
    BBox {
        x: 150.0,
        y: 20.0,
        w: 14.0,
        h: 32.0,
    }
}

/// The plate inside the car: 24x7 px, centred, near the bottom (integer pixels).
fn plate_rect(car: &BBox) -> (u32, u32, u32, u32) {
    let x0 = (car.x + 38.0).round() as u32;
    let y0 = (car.y + 38.0).round() as u32;
    (x0, y0, x0 + 24, y0 + 7)
}

fn inside(b: &BBox, x: u32, y: u32) -> bool {
    let (x0, y0) = (b.x.round() as u32, b.y.round() as u32);
    let (x1, y1) = ((b.x + b.w).round() as u32, (b.y + b.h).round() as u32);
    x >= x0 && x < x1 && y >= y0 && y < y1
}

/// The frame at `t_ms` and each pixel's truth.
fn render(t_ms: i64) -> (Vec<u8>, Vec<Truth>) {
    let car = car_box(t_ms);
    let (px0, py0, px1, py1) = plate_rect(&car);
    let mut img = vec![0u8; (W * H * 3) as usize];
    let mut truth = vec![Truth::Background; (W * H) as usize];
    for y in 0..H {
        for x in 0..W {
            let i = (y * W + x) as usize;
            let (rgb, t) = if inside(&walker_box(t_ms), x, y) {
                (WALKER, Truth::Walker)
            } else if inside(&kept_box(), x, y) {
                (KEPT, Truth::Kept)
            } else if x >= px0 && x < px1 && y >= py0 && y < py1 {
                // Ink strokes inside a white border.
                let ink = y > py0 + 1 && y + 2 < py1 && x > px0 + 1 && (x - px0) % 4 == 0;
                (if ink { INK } else { PLATE }, Truth::Plate)
            } else if inside(&car, x, y) {
                let ry = y as f32 - car.y;
                if ry < 20.0 {
                    let glass = ry > 4.0 && ry < 18.0;
                    (if glass { GLASS } else { BODY }, Truth::CarUpper)
                } else {
                    (BODY, Truth::CarLower)
                }
            } else {
                (BG, Truth::Background)
            };
            img[i * 3..i * 3 + 3].copy_from_slice(&rgb);
            truth[i] = t;
        }
    }
    (img, truth)
}

/// Tracks as the analysis gives them: a box every 200 ms.
fn tracks() -> Vec<TrackBoxes> {
    let sampled = |f: &dyn Fn(i64) -> BBox| -> Vec<(i64, BBox)> {
        (0..=FRAMES * FRAME_MS / 200)
            .map(|k| (k * 200, f(k * 200)))
            .collect()
    };
    vec![
        TrackBoxes {
            track_id: 1,
            label: "car".into(),
            boxes: sampled(&car_box),
        },
        TrackBoxes {
            track_id: 2,
            label: "person".into(),
            boxes: sampled(&walker_box),
        },
        TrackBoxes {
            track_id: 3,
            label: "person".into(),
            boxes: sampled(&|_| kept_box()),
        },
    ]
}

/// Finds the plate's white pixels in the region; every `sticker_every`-th run it answers a
/// "sticker" on the roof instead, with a higher score; with `blind` it finds nothing.
struct WhitePixels {
    blind: bool,
    sticker_every: Option<u64>,
    runs: u64,
}

impl PlateLocator for WhitePixels {
    type Error = std::convert::Infallible;
    fn locate(
        &mut self,
        rgb: &[u8],
        width: u32,
        _height: u32,
        region: Rect,
    ) -> Result<Vec<FoundPlate>, Self::Error> {
        self.runs += 1;
        if self.blind {
            return Ok(vec![]);
        }
        if self
            .sticker_every
            .is_some_and(|k| self.runs.is_multiple_of(k))
        {
            let (x, y) = (region.x0 as f32 + 30.0, region.y0 as f32 + 8.0);
            return Ok(vec![FoundPlate {
                corners_px: [(x, y), (x + 20.0, y), (x + 20.0, y + 5.0), (x, y + 5.0)],
                bbox_px: BBox {
                    x,
                    y,
                    w: 20.0,
                    h: 5.0,
                },
                score: 0.95,
            }]);
        }
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        for y in region.y0..region.y1 {
            for x in region.x0..region.x1 {
                let i = ((y * width + x) * 3) as usize;
                if rgb[i..i + 3] == PLATE {
                    (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
                }
            }
        }
        if x1 == 0 {
            return Ok(vec![]);
        }
        let b = BBox {
            x: x0 as f32,
            y: y0 as f32,
            w: (x1 - x0) as f32,
            h: (y1 - y0) as f32,
        };
        Ok(vec![FoundPlate {
            corners_px: [
                (b.x, b.y),
                (b.x + b.w, b.y),
                (b.x + b.w, b.y + b.h),
                (b.x, b.y + b.h),
            ],
            bbox_px: b,
            score: 0.7,
        }])
    }
}

#[derive(Debug, Default)]
struct Clear {
    plate: u64,
    walker: u64,
    kept_masked: u64,
    upper_masked: u64,
    lower_masked: u64,
    lower_total: u64,
    bg_masked: u64,
    bg_total: u64,
}

fn run(mut locator: WhitePixels) -> (Clear, PlateFigures) {
    let params = RedactParams {
        motion: None,
        ..Default::default()
    };
    assert_eq!(params.vehicles, VehicleMask::Plate);
    let r = Redactor::new((W, H), tracks(), &[3], params.clone()).unwrap();
    let mut masker = PlateMasker::new(params.plates.clone()).unwrap();
    let mut c = Clear::default();
    for f in 0..FRAMES {
        let t = f * FRAME_MS;
        let (mut img, truth) = render(t);
        let mut plan = r.plan(t, W, H);
        masker.refine(&mut plan, &img, &mut locator).unwrap();
        apply(&mut img, &plan, None, FILL_RGB);
        for (i, tr) in truth.iter().enumerate() {
            let filled = img[i * 3..i * 3 + 3] == FILL_RGB;
            match tr {
                Truth::Plate => c.plate += u64::from(!filled),
                Truth::Walker => c.walker += u64::from(!filled),
                Truth::Kept => c.kept_masked += u64::from(filled),
                Truth::CarUpper => c.upper_masked += u64::from(filled),
                Truth::CarLower => {
                    c.lower_total += 1;
                    c.lower_masked += u64::from(filled);
                }
                Truth::Background => {
                    c.bg_total += 1;
                    c.bg_masked += u64::from(filled);
                }
            }
        }
    }
    (c, masker.figures())
}

fn common_targets(c: &Clear) {
    assert_eq!(c.plate, 0, "plate pixels left clear: {c:?}");
    assert_eq!(c.walker, 0, "unselected person pixels left clear: {c:?}");
    assert_eq!(c.kept_masked, 0, "selected person pixels masked: {c:?}");
    assert!(
        (c.bg_masked as f64) <= 0.1 * c.bg_total as f64,
        "background masked: {c:?}"
    );
}

#[test]
fn a_located_plate_is_covered_in_every_frame_and_the_car_stays_clear() {
    let (c, fig) = run(WhitePixels {
        blind: false,
        sticker_every: None,
        runs: 0,
    });
    common_targets(&c);
    assert_eq!(c.upper_masked, 0, "roof and windows clear: {c:?}");
    // Only the plate, widened to a European plate's shape, and its margin touch the body.
    assert!(
        (c.lower_masked as f64) < 0.25 * c.lower_total as f64,
        "the body stays mostly clear: {c:?}"
    );
    assert_eq!(fig.vehicle_frames, FRAMES as u64);
    assert_eq!(fig.located, FRAMES as u64, "{fig:?}");
    assert_eq!(fig.locator_runs, FRAMES as u64, "a moving car: every frame");
}

#[test]
fn a_locator_that_finds_nothing_leaves_the_lower_part_covered() {
    let (c, fig) = run(WhitePixels {
        blind: true,
        sticker_every: None,
        runs: 0,
    });
    common_targets(&c);
    assert_eq!(c.upper_masked, 0, "the roof is above the lower half: {c:?}");
    assert!(
        c.lower_masked as f64 > 0.9 * c.lower_total as f64,
        "the lower half is masked: {c:?}"
    );
    assert_eq!(fig.lower_part, FRAMES as u64, "{fig:?}");
    assert_eq!(fig.located, 0);
}

#[test]
fn a_sticker_taken_for_the_plate_now_and_then_leaves_no_plate_pixel_clear() {
    let (c, fig) = run(WhitePixels {
        blind: false,
        sticker_every: Some(5),
        runs: 0,
    });
    common_targets(&c);
    assert_eq!(fig.located, FRAMES as u64, "{fig:?}");
}
