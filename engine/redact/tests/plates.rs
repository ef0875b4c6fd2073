//! Plates located on generated footage with known object masks: a car carrying a plate
//! drives across the frame (its box sampled every 200 ms, as analysis does, and
//! interpolated in between), an unselected person walks, a selected person stands. Every
//! frame is planned, refined with a locator that finds the plate's white pixels (the
//! stand-in for the plate detector), and filled. Targets: 0 pixels of the plate or of the
//! unselected person left clear in any frame, every pixel of the selected person clear,
//! at least 90% of the background untouched; with the plate located, the car's roof,
//! windows and the rest of its body stay clear; when the locator finds nothing (or takes
//! a sticker for the plate), the plate is still covered.
//!
//! With the motion mask on (the scene's background learnt beforehand, as the export's
//! priming does), more that nobody detected moves: a blob crossing the bottom, a person
//! walking beside the moving car (touching it: one motion blob with it) and a person
//! passing in front of a parked, tracked car. Targets: the moving car still shows its
//! body (its motion is explained by its box), 0 pixels of the undetected blob or of the
//! passer-by left clear, 0 pixels of the person beside the car left clear outside the
//! car's explaining box (which is the car's box grown by at most 4 px).

use vigie_core::{BBox, RgbFrame};
use vigie_redact::{
    apply, FoundPlate, MotionMasker, MotionParams, PlateFigures, PlateLocator, PlateMasker, Rect,
    RedactParams, Redactor, TrackBoxes, VehicleMask, FILL_RGB,
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
const STRANGER: [u8; 3] = [250, 160, 0];
const BESIDE: [u8; 3] = [240, 120, 240];
const PASSER: [u8; 3] = [250, 230, 40];

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
    /// Undetected: a blob crossing the bottom of the frame.
    Stranger,
    /// Undetected: a person walking beside the moving car, touching it.
    Beside,
    /// Undetected: a person passing in front of the parked car.
    Passer,
    /// The parked (tracked, unselected) car, its plate included.
    Parked,
}

/// What a generated scene holds besides the car, the walker and the kept person.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Scene {
    /// Only those three.
    Plates,
    /// Also the parked car and the three undetected movers.
    Movers,
    /// The background of `Movers` (the parked car), nothing moving.
    Background,
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

fn stranger_box(t_ms: i64) -> BBox {
    BBox {
        x: 200.0 - 0.05 * t_ms as f32,
        y: 160.0,
        w: 14.0,
        h: 14.0,
    }
}

fn beside_box(t_ms: i64) -> BBox {
    let car = car_box(t_ms);
    BBox {
        x: car.x + car.w,
        y: 118.0,
        w: 10.0,
        h: 28.0,
    }
}

fn parked_box() -> BBox {
    BBox {
        x: 20.0,
        y: 45.0,
        w: 80.0,
        h: 50.0,
    }
}

fn passer_box(t_ms: i64) -> BBox {
    BBox {
        x: 0.06 * t_ms as f32,
        y: 60.0,
        w: 10.0,
        h: 28.0,
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
fn render(t_ms: i64, scene: Scene) -> (Vec<u8>, Vec<Truth>) {
    let car = car_box(t_ms);
    let (px0, py0, px1, py1) = plate_rect(&car);
    let parked = parked_box();
    let (qx0, qy0, qx1, qy1) = plate_rect(&parked);
    let movers = scene == Scene::Movers;
    let mut img = vec![0u8; (W * H * 3) as usize];
    let mut truth = vec![Truth::Background; (W * H) as usize];
    for y in 0..H {
        for x in 0..W {
            let i = (y * W + x) as usize;
            let (rgb, t) = if scene == Scene::Background {
                if x >= qx0 && x < qx1 && y >= qy0 && y < qy1 {
                    (PLATE, Truth::Parked)
                } else if inside(&parked, x, y) {
                    (BODY, Truth::Parked)
                } else {
                    (BG, Truth::Background)
                }
            } else if movers && inside(&stranger_box(t_ms), x, y) {
                (STRANGER, Truth::Stranger)
            } else if movers && inside(&beside_box(t_ms), x, y) {
                (BESIDE, Truth::Beside)
            } else if movers && inside(&passer_box(t_ms), x, y) {
                (PASSER, Truth::Passer)
            } else if movers && x >= qx0 && x < qx1 && y >= qy0 && y < qy1 {
                (PLATE, Truth::Parked)
            } else if movers && inside(&parked, x, y) {
                (BODY, Truth::Parked)
            } else if inside(&walker_box(t_ms), x, y) {
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

/// Tracks as the analysis gives them: a box every 200 ms (the parked car with `Movers`;
/// the undetected movers have none).
fn tracks(scene: Scene) -> Vec<TrackBoxes> {
    let sampled = |f: &dyn Fn(i64) -> BBox| -> Vec<(i64, BBox)> {
        (0..=FRAMES * FRAME_MS / 200)
            .map(|k| (k * 200, f(k * 200)))
            .collect()
    };
    let mut out = vec![
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
    ];
    if scene == Scene::Movers {
        out.push(TrackBoxes {
            track_id: 4,
            label: "car".into(),
            boxes: sampled(&|_| parked_box()),
        });
    }
    out
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
    stranger: u64,
    /// Pixels of the person beside the car left clear: all, and outside every box that
    /// explains motion.
    beside: u64,
    beside_unexplained: u64,
    beside_total: u64,
    passer: u64,
    passer_total: u64,
}

impl Clear {
    /// Share of the background's pixels left untouched.
    fn background_untouched(&self) -> f64 {
        1.0 - self.bg_masked as f64 / self.bg_total as f64
    }
    /// Share of the moving car's body (plate excluded) filled.
    fn body_masked(&self) -> f64 {
        (self.upper_masked + self.lower_masked) as f64 / self.body_total() as f64
    }
    fn body_total(&self) -> u64 {
        // The upper band is 20 of the car's 50 rows, 100 px wide, in every frame.
        self.lower_total + 20 * 100 * FRAMES as u64
    }
}

fn run(locator: WhitePixels) -> (Clear, PlateFigures) {
    run_scene(locator, Scene::Plates, None)
}

/// Redact every frame of `scene` (the motion mask on with `motion`, its background learnt
/// from the scene's still background) and count each truth's pixels filled or clear.
fn run_scene(
    mut locator: WhitePixels,
    scene: Scene,
    motion: Option<MotionParams>,
) -> (Clear, PlateFigures) {
    let params = RedactParams {
        motion: motion.clone(),
        ..Default::default()
    };
    assert_eq!(params.vehicles, VehicleMask::Plate);
    let r = Redactor::new((W, H), tracks(scene), &[3], params.clone()).unwrap();
    let mut masker = PlateMasker::new(params.plates.clone()).unwrap();
    let mut motion = motion.map(|p| {
        let mut m = MotionMasker::new(&p).unwrap();
        // The scene's still background: the parked car where there is one.
        let still = match scene {
            Scene::Movers => render(0, Scene::Background).0,
            _ => BG.repeat((W * H) as usize),
        };
        let still = RgbFrame::from_rgb(W, H, still, 0);
        m.prime(std::slice::from_ref(&still));
        m
    });
    let mut c = Clear::default();
    for f in 0..FRAMES {
        let t = f * FRAME_MS;
        let (img, truth) = render(t, scene);
        let mut fr = RgbFrame::from_rgb(W, H, img, t);
        let mut plan = r.plan(t, W, H);
        // Only the moving car explains motion, and only its box grown by at most 4 px
        // (320 px over 192 cells, dilated by one: 2 cells of 1.7 px).
        for e in &plan.explained {
            let car = car_box(t);
            assert!(
                e.x0 as f32 >= car.x - 5.0
                    && e.x1 as f32 <= car.x + car.w + 5.0
                    && e.y0 as f32 >= car.y - 5.0
                    && e.y1 as f32 <= car.y + car.h + 5.0,
                "at {t} ms, {e:?} is not the moving car's box {car:?} grown by <= 4 px"
            );
        }
        assert_eq!(
            plan.explained.len(),
            usize::from(
                params
                    .motion
                    .as_ref()
                    .is_some_and(|m| m.moving_vehicles_explain)
            ),
            "at {t} ms: the moving car explains motion, the parked one none"
        );
        masker.refine(&mut plan, &fr.data, &mut locator).unwrap();
        let cells = motion.as_mut().map(|m| m.update(&fr));
        apply(&mut fr.data, &plan, cells.as_ref(), FILL_RGB);
        let img = fr.data;
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
                Truth::Stranger => c.stranger += u64::from(!filled),
                Truth::Beside => {
                    let (x, y) = (i as u32 % W, i as u32 / W);
                    let explained = plan.explained.iter().any(|r| r.contains(x, y));
                    c.beside_total += 1;
                    c.beside += u64::from(!filled);
                    c.beside_unexplained += u64::from(!filled && !explained);
                }
                Truth::Passer => {
                    c.passer_total += 1;
                    c.passer += u64::from(!filled);
                }
                Truth::Parked => {}
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
    let (c, fig) = run(locating());
    eprintln!(
        "no motion mask: background untouched {:.2} %, moving car's body masked {:.2} %",
        100.0 * c.background_untouched(),
        100.0 * c.body_masked()
    );
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

fn motion(moving_vehicles_explain: bool) -> Option<MotionParams> {
    Some(MotionParams {
        moving_vehicles_explain,
        ..Default::default()
    })
}

fn locating() -> WhitePixels {
    WhitePixels {
        blind: false,
        sticker_every: None,
        runs: 0,
    }
}

#[test]
fn with_the_motion_mask_a_moving_unselected_car_shows_its_body_but_not_its_plate() {
    let (c, fig) = run_scene(locating(), Scene::Plates, motion(true));
    eprintln!(
        "motion mask, vehicles explain their motion: background untouched {:.2} %, moving \
         car's body masked {:.2} %: {c:?}",
        100.0 * c.background_untouched(),
        100.0 * c.body_masked()
    );
    common_targets(&c);
    assert_eq!(c.upper_masked, 0, "roof and windows clear: {c:?}");
    assert!(c.body_masked() < 0.15, "the body stays clear: {c:?}");
    assert_eq!(fig.located, FRAMES as u64, "{fig:?}");
    // As recorded before this setting: the motion mask hides the moving car whole.
    let (before, _) = run_scene(locating(), Scene::Plates, motion(false));
    eprintln!(
        "motion mask, moving vehicles covered whole: background untouched {:.2} %, moving \
         car's body masked {:.2} %",
        100.0 * before.background_untouched(),
        100.0 * before.body_masked()
    );
    common_targets(&before);
    assert!(before.body_masked() > 0.9, "{before:?}");
}

#[test]
fn motion_no_track_explains_is_still_masked_beside_a_moving_car_and_before_a_parked_one() {
    let (c, _) = run_scene(locating(), Scene::Movers, motion(true));
    eprintln!(
        "movers, vehicles explain their motion: background untouched {:.2} %, moving car's \
         body masked {:.2} %: {c:?}",
        100.0 * c.background_untouched(),
        100.0 * c.body_masked()
    );
    common_targets(&c);
    assert!(c.body_masked() < 0.15, "the body stays clear: {c:?}");
    assert_eq!(c.stranger, 0, "undetected blob pixels left clear: {c:?}");
    assert_eq!(c.passer, 0, "passer-by pixels left clear: {c:?}");
    assert!(c.passer_total > 0 && c.beside_total > 0);
    assert_eq!(
        c.beside_unexplained, 0,
        "pixels of the person beside the car left clear outside its box: {c:?}"
    );
    // The car's box explains a strip of at most 5 px (4 px grown, 1 px rounding) of the
    // person's 10 px width.
    assert!(
        c.beside as f64 <= 0.5 * c.beside_total as f64,
        "most of the person beside the car is filled: {c:?}"
    );
}
