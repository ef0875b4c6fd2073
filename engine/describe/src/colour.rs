//! Naming colours in CIELAB, calibrated for CCTV light.
//!
//! Why CIELAB rather than RGB or HSV thresholds: its lightness axis is separate from
//! chroma, so "grey" vs "coloured" is a chroma threshold that does not depend on
//! brightness, and hue angles follow perception closely enough that one table of hue ranges
//! names colours under CCTV's typically washed-out colours. Brown is a dark orange and pink
//! a light red/magenta, which is how people name them.
//!
//! Why a calibration: CCTV footage is washed out (grey daylight, cheap sensors, strong
//! compression), so the names a person gives are not the textbook ones. Measured on the
//! tuning half of `eval/colour/labels.toml` (doc/colour.md): faded blue jeans have a chroma
//! of 8 to 16 where a grey car has 5, so blue is named from a lower chroma than other
//! hues; dark clothing and black cars under daylight sit at lightness 25 to 40, which people
//! call black, not grey; a white car or van under an overcast sky rarely exceeds lightness
//! 85, which people still call white.
//!
//! Light, per frame ([`ColourTable::prepare_frame`], once per frame however many objects
//! it holds): a colour cast (sodium lamps, a camera's wrong white balance) is estimated from
//! the frame's most neutral pixels (grey world on the 40 % least chromatic ones: road,
//! walls) and removed before naming; a frame with (almost) no chroma left is monochrome
//! (night infrared, a low-pressure sodium lamp): its objects get **no colour** rather than
//! grey, because an infrared picture's grey levels say nothing of the colours a person
//! would see.

use vigie_core::{Colour, RgbFrame};
/// sRGB (0..255) to CIELAB (D65): (L 0..100, a, b).
pub fn srgb_to_lab(rgb: [u8; 3]) -> (f32, f32, f32) {
    fn lin(c: u8) -> f32 {
        let c = f32::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    }
    let (r, g, b) = (lin(rgb[0]), lin(rgb[1]), lin(rgb[2]));
    let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    fn f(t: f32) -> f32 {
        if t > 0.008856 {
            t.cbrt()
        } else {
            7.787 * t + 16.0 / 116.0
        }
    }
    let (fx, fy, fz) = (f(x), f(y), f(z));
    (116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz))
}

/// Chroma below which a pixel is achromatic (black, grey, white), at lightness 50 and above
/// (lower for darker pixels, see [`name_lab`]).
pub const ACHROMATIC_CHROMA: f32 = 13.0;

/// Blue hues (200..310 degrees) are named from this share of [`ACHROMATIC_CHROMA`]: faded
/// denim and pale blue paint keep their hue under grey light but lose chroma (tuning half:
/// jeans 8 to 16, a silver or dark grey car about 5).
pub const BLUE_CHROMA_FACTOR: f32 = 0.75;

/// Achromatic pixels darker than this are black (dark clothing, black cars under daylight).
pub const BLACK_MAX_L: f32 = 40.0;

/// Achromatic pixels lighter than this are white (white paint under an overcast sky).
pub const WHITE_MIN_L: f32 = 75.0;

/// Pixels darker than this are black whatever their hue (sensor noise dominates), except
/// blue ones (below).
pub const DARK_MAX_L: f32 = 18.0;

/// Blue pixels are black below this lightness only, not [`DARK_MAX_L`]: dark denim in dim
/// footage (TUD's overcast streets) sits at L 10-20 with a blue chroma of 6-11, well above
/// the blue threshold there (about 7), while black cloth in the same light stays under
/// chroma 4. Chosen on the tuning half (8 against 18, 12, 10, 6, 4 and 0: lower bodies first
/// colour 90.6 -> 93.8 %, no tuning row worse; from 6 down a dark car gains a stray blue
/// that costs a search). Other hues keep 18: lowering it for every hue changed no tuning
/// figure but put red, purple and brown noise on black clothes.
pub const DARK_BLUE_MAX_L: f32 = 8.0;

/// A frame is monochrome when fewer than this share of its (lit) pixels keep a chroma
/// above [`MONOCHROME_CHROMA`] once its cast is removed: about 4 of the 768 pixels looked
/// at. Infrared footage has none; a grey colour scene with one small red car (1 % of the
/// frame) must still be in colour.
pub const MONOCHROME_SHARE: f32 = 0.005;

/// Chroma that counts as colour for the monochrome test (compression noise stays below).
pub const MONOCHROME_CHROMA: f32 = 5.0;

/// A cast smaller than this (Lab units) is noise: colours are named as measured.
pub const CAST_MIN: f32 = 1.5;

/// The largest cast removed (Lab units); a frame can be mostly lawn or brick.
pub const CAST_MAX: f32 = 40.0;

/// The palette name of a Lab colour, under neutral light.
pub fn name_lab(l: f32, a: f32, b: f32) -> Colour {
    let chroma = (a * a + b * b).sqrt();
    let h = b.atan2(a).to_degrees().rem_euclid(360.0);
    let (hue_factor, dark_max_l) = if (200.0..310.0).contains(&h) {
        (BLUE_CHROMA_FACTOR, DARK_BLUE_MAX_L)
    } else {
        (1.0, DARK_MAX_L)
    };
    let threshold = ACHROMATIC_CHROMA * hue_factor * (0.6 + 0.4 * (l / 50.0).min(1.0));
    if l < dark_max_l || chroma < threshold {
        return if l < BLACK_MAX_L {
            Colour::Black
        } else if l > WHITE_MIN_L {
            Colour::White
        } else {
            Colour::Grey
        };
    }
    match h {
        h if !(20.0..330.0).contains(&h) => {
            if l > 62.0 {
                Colour::Pink
            } else if !(5.0..330.0).contains(&h) {
                if l < 45.0 {
                    Colour::Purple
                } else {
                    Colour::Pink
                }
            } else {
                Colour::Red
            }
        }
        h if h < 50.0 => {
            if l > 70.0 {
                Colour::Pink
            } else {
                Colour::Red
            }
        }
        h if h < 85.0 => {
            if l < 50.0 {
                Colour::Brown
            } else {
                Colour::Orange
            }
        }
        h if h < 112.0 => {
            if l < 45.0 {
                Colour::Brown
            } else {
                Colour::Yellow
            }
        }
        h if h < 200.0 => Colour::Green,
        h if h < 310.0 => Colour::Blue,
        _ => {
            if l > 65.0 {
                Colour::Pink
            } else {
                Colour::Purple
            }
        }
    }
}

/// The palette name of an sRGB pixel, under neutral light.
pub fn name_rgb(rgb: [u8; 3]) -> Colour {
    let (l, a, b) = srgb_to_lab(rgb);
    name_lab(l, a, b)
}

/// A colour (not black, grey or white) covering at least this share of a part is named
/// before grey or white.
pub const SALIENT_MIN_SHARE: f32 = 0.25;

/// Order a part's colours (sorted by share, largest first) the way a person names them:
/// when grey or white comes first but a colour covers at least [`SALIENT_MIN_SHARE`], that
/// colour comes first. Why: the light greys and whites in a part are mostly what the
/// foreground mask lets through (pavement between legs, sky on a windscreen) and what
/// grey light does to any surface, while a person names the garment or the paint ("blue
/// jeans", tuning half: jeans measured grey 50 %, blue 45 %). Black is not passed over:
/// it is dark clothing or tyres and windows, which people do name. Shares are unchanged,
/// so what a search finds is unchanged.
pub fn order_as_named(shares: &mut [vigie_core::ColourShare]) {
    let achromatic_light = |c: Colour| matches!(c, Colour::Grey | Colour::White);
    if !shares.first().is_some_and(|c| achromatic_light(c.colour)) {
        return;
    }
    let salient = shares.iter().position(|c| {
        !matches!(c.colour, Colour::Black | Colour::Grey | Colour::White)
            && c.share >= SALIENT_MIN_SHARE
    });
    if let Some(i) = salient {
        shares[..=i].rotate_right(1);
    }
}

/// How a frame is lit, as far as colour names go.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FrameLight {
    /// The colour cast removed before naming (Lab a, b; 0 when under [`CAST_MIN`]).
    pub cast_ab: (f32, f32),
    /// No colour can be named in this frame (infrared, monochromatic light).
    pub monochrome: bool,
}

/// Grid of pixels a frame's light is estimated from (cheap: 768 pixels a frame).
const LIGHT_GRID: (u32, u32) = (32, 24);

/// Estimate a frame's cast and whether it is monochrome (see the module documentation).
pub fn frame_light(frame: &RgbFrame) -> FrameLight {
    let (gw, gh) = LIGHT_GRID;
    if frame.width == 0
        || frame.height == 0
        || frame.data.len() < (frame.width * frame.height * 3) as usize
    {
        return FrameLight::default();
    }
    let mut lit: Vec<(f32, f32, f32)> = Vec::with_capacity((gw * gh) as usize);
    for gy in 0..gh {
        let y = (gy * 2 + 1) * frame.height / (gh * 2);
        for gx in 0..gw {
            let x = (gx * 2 + 1) * frame.width / (gw * 2);
            let (l, a, b) = srgb_to_lab(frame.pixel(x, y));
            // Very dark and blown-out pixels carry no reliable chroma.
            if (15.0..95.0).contains(&l) {
                lit.push(((a * a + b * b).sqrt(), a, b));
            }
        }
    }
    if lit.len() < 20 {
        // Too dark to judge: name what can be named, as measured.
        return FrameLight::default();
    }
    let k = (lit.len() * 2 / 5).max(1);
    lit.select_nth_unstable_by(k - 1, |p, q| p.0.total_cmp(&q.0));
    let (sa, sb) = lit[..k]
        .iter()
        .fold((0.0, 0.0), |acc, p| (acc.0 + p.1, acc.1 + p.2));
    let (mut ca, mut cb) = (sa / k as f32, sb / k as f32);
    let norm = (ca * ca + cb * cb).sqrt();
    if norm < CAST_MIN {
        (ca, cb) = (0.0, 0.0);
    } else if norm > CAST_MAX {
        (ca, cb) = (ca * CAST_MAX / norm, cb * CAST_MAX / norm);
    }
    // Colour left once the light is accounted for: without a cast, the chroma; with one,
    // the chroma across the cast's hue, since a monochromatic lamp (low-pressure sodium)
    // puts every pixel on that one hue line, lighter pixels further along it.
    let across = (ca * ca + cb * cb).sqrt();
    let coloured = lit
        .iter()
        .filter(|p| {
            let residual = if across > 0.0 {
                (p.1 * cb - p.2 * ca).abs() / across
            } else {
                p.0
            };
            residual > MONOCHROME_CHROMA
        })
        .count();
    FrameLight {
        cast_ab: (ca, cb),
        monochrome: (coloured as f32) < MONOCHROME_SHARE * lit.len() as f32,
    }
}

/// Bins per RGB channel of the lookup table.
const BINS: usize = 32;

/// A 32x32x32 lookup table from quantised RGB to palette index: naming every object pixel
/// through Lab would cost a `powf` and a `cbrt` each. It keeps each bin's Lab so that the
/// names can be rebuilt for a frame's cast (about 1 ms, only when the cast moves by more
/// than [`CAST_MIN`]: a fixed camera's light changes slowly).
pub struct ColourTable {
    lab: Vec<[f32; 3]>,
    lut: Vec<u8>,
    cast_ab: (f32, f32),
    /// The frame [`ColourTable::prepare_frame`] last saw: (index, pts, width, height).
    frame_key: Option<(u64, i64, u32, u32)>,
    light: FrameLight,
}

impl Default for ColourTable {
    fn default() -> Self {
        let mut lab = Vec::with_capacity(BINS * BINS * BINS);
        for r in 0..BINS as u32 {
            for g in 0..BINS as u32 {
                for b in 0..BINS as u32 {
                    let (l, a, bb) =
                        srgb_to_lab([(r * 8 + 4) as u8, (g * 8 + 4) as u8, (b * 8 + 4) as u8]);
                    lab.push([l, a, bb]);
                }
            }
        }
        let mut t = Self {
            lab,
            lut: vec![0; BINS * BINS * BINS],
            cast_ab: (0.0, 0.0),
            frame_key: None,
            light: FrameLight::default(),
        };
        t.rebuild((0.0, 0.0));
        t
    }
}

impl ColourTable {
    fn rebuild(&mut self, cast_ab: (f32, f32)) {
        for (slot, [l, a, b]) in self.lut.iter_mut().zip(&self.lab) {
            let c = name_lab(*l, a - cast_ab.0, b - cast_ab.1);
            *slot = Colour::ALL.iter().position(|x| *x == c).unwrap_or(0) as u8;
        }
        self.cast_ab = cast_ab;
    }

    /// Palette index (into [`Colour::ALL`]) of an RGB pixel, under the current frame's
    /// light.
    #[inline]
    pub fn index(&self, rgb: &[u8]) -> usize {
        let (r, g, b) = (
            usize::from(rgb[0] >> 3),
            usize::from(rgb[1] >> 3),
            usize::from(rgb[2] >> 3),
        );
        usize::from(self.lut[(r * BINS + g) * BINS + b])
    }

    /// Adapt the names to `frame`'s light (estimated once per frame) and say whether
    /// colours can be named in it at all (`false`: monochrome, the object gets no colour
    /// from this frame).
    pub fn prepare_frame(&mut self, frame: &RgbFrame) -> bool {
        let key = (frame.index, frame.pts_ms, frame.width, frame.height);
        if self.frame_key != Some(key) {
            self.frame_key = Some(key);
            self.light = frame_light(frame);
            let (ca, cb) = self.light.cast_ab;
            let (da, db) = (ca - self.cast_ab.0, cb - self.cast_ab.1);
            if (da * da + db * db).sqrt() > CAST_MIN {
                self.rebuild((ca, cb));
            }
        }
        !self.light.monochrome
    }

    /// The light of the frame last prepared.
    pub fn light(&self) -> FrameLight {
        self.light
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Colour::*;

    #[test]
    fn names_reference_colours() {
        let cases: &[([u8; 3], Colour)] = &[
            ([0, 0, 0], Black),
            ([30, 30, 30], Black),
            ([255, 255, 255], White),
            ([128, 128, 128], Grey),
            ([180, 180, 185], Grey),
            ([210, 210, 215], White),
            ([255, 0, 0], Red),
            ([180, 20, 30], Red),
            ([139, 0, 0], Red),
            ([255, 140, 0], Orange),
            ([255, 165, 0], Orange),
            ([255, 255, 0], Yellow),
            ([240, 220, 40], Yellow),
            ([0, 128, 0], Green),
            ([50, 205, 50], Green),
            ([0, 0, 255], Blue),
            ([30, 60, 160], Blue),
            ([0, 170, 230], Blue),
            ([128, 0, 128], Purple),
            ([100, 40, 150], Purple),
            ([255, 192, 203], Pink),
            ([255, 105, 180], Pink),
            ([139, 69, 19], Brown),
            ([120, 80, 40], Brown),
        ];
        for (rgb, want) in cases {
            assert_eq!(name_rgb(*rgb), *want, "{rgb:?} lab {:?}", srgb_to_lab(*rgb));
        }
    }

    /// A 64x48 frame of `background`, with `patch` over its central sixteenth.
    fn frame(background: [u8; 3], patch: Option<[u8; 3]>) -> RgbFrame {
        let mut f = RgbFrame::solid(64, 48, background, 0);
        if let Some(p) = patch {
            // The middle quarter of each side: x 24..40, y 18..30.
            f.fill_rect(24, 18, 16, 12, p);
        }
        f
    }

    #[test]
    fn cctv_calibration_names_what_people_say() {
        let cases: &[([u8; 3], Colour, &str)] = &[
            ([92, 104, 128], Blue, "faded jeans under grey daylight"),
            ([120, 130, 150], Blue, "washed-out jeans, lighter"),
            ([150, 180, 205], Blue, "pale blue van"),
            ([172, 172, 170], Grey, "silver car"),
            ([150, 152, 158], Grey, "silver car reflecting a grey sky"),
            ([205, 203, 198], White, "white van under an overcast sky"),
            ([85, 85, 88], Black, "black trousers under daylight"),
            ([70, 72, 78], Black, "black car under daylight"),
            ([28, 34, 48], Blue, "dark jeans, dim light"),
            ([34, 36, 40], Black, "black trousers, dim light"),
            ([14, 16, 24], Black, "near-black, blue tint"),
        ];
        for (rgb, want, what) in cases {
            assert_eq!(
                name_rgb(*rgb),
                *want,
                "{what}: {rgb:?} lab {:?}",
                srgb_to_lab(*rgb)
            );
        }
    }

    #[test]
    fn a_yellow_cast_is_removed_so_grey_jeans_are_blue_again() {
        // Under a warm cast the road is yellowish and faded jeans look neutral.
        let jeans = [100, 104, 112];
        let mut t = ColourTable::default();
        let neutral = Colour::ALL[t.index(&jeans)];
        assert_ne!(
            neutral, Blue,
            "the test needs jeans that look grey as measured"
        );
        let mut f = frame([150, 138, 108], Some(jeans));
        // Some vegetation at the top, as in any street scene.
        f.fill_rect(0, 0, 64, 6, [90, 130, 60]);
        assert!(t.prepare_frame(&f));
        let light = t.light();
        assert!(light.cast_ab.1 > 5.0, "{light:?}");
        assert_eq!(Colour::ALL[t.index(&jeans)], Blue, "{light:?}");
        // A neutral frame brings the neutral names back.
        let g = RgbFrame {
            index: 1,
            ..frame([128, 128, 128], Some(jeans))
        };
        assert!(t.prepare_frame(&g));
        assert_eq!(t.light().cast_ab, (0.0, 0.0));
        assert_eq!(Colour::ALL[t.index(&jeans)], neutral);
    }

    #[test]
    fn monochrome_and_sodium_frames_name_no_colour() {
        // Night infrared: grey levels only, with compression noise of a level or two.
        let mut f = frame([90, 90, 90], Some([200, 200, 200]));
        for (i, v) in f.data.iter_mut().enumerate() {
            *v = v.saturating_add((i % 3 == (i / 3) % 3) as u8 * 2);
        }
        assert!(frame_light(&f).monochrome);
        let mut t = ColourTable::default();
        assert!(!t.prepare_frame(&f));
        // A low-pressure sodium lamp: everything orange, only lightness varies.
        let sodium = frame([150, 100, 40], Some([230, 160, 70]));
        assert!(
            frame_light(&sodium).monochrome,
            "{:?}",
            frame_light(&sodium)
        );
        // A grey scene with one small red object (about 1 % of the frame) is in colour.
        let mut small = frame([112, 112, 112], None);
        small.fill_rect(28, 20, 8, 6, [208, 24, 24]);
        assert!(!frame_light(&small).monochrome, "{:?}", frame_light(&small));
        // A colour frame is not monochrome, even a dull one.
        let dull = frame([120, 120, 118], Some([92, 104, 128]));
        assert!(!frame_light(&dull).monochrome);
    }

    #[test]
    fn grey_or_white_first_gives_way_to_a_named_colour() {
        use vigie_core::ColourShare;
        let s = |colour, share| ColourShare { colour, share };
        let mut v = vec![s(Grey, 0.45), s(White, 0.2), s(Blue, 0.3)];
        order_as_named(&mut v);
        assert_eq!(v[0].colour, Blue);
        assert_eq!(v[1].colour, Grey);
        // Under the share, or behind black: unchanged.
        let mut v = vec![s(Grey, 0.6), s(Blue, 0.2)];
        order_as_named(&mut v);
        assert_eq!(v[0].colour, Grey);
        let mut v = vec![s(Black, 0.5), s(Blue, 0.4)];
        order_as_named(&mut v);
        assert_eq!(v[0].colour, Black);
    }

    #[test]
    fn lab_of_white_and_red() {
        let (l, a, b) = srgb_to_lab([255, 255, 255]);
        assert!((l - 100.0).abs() < 0.5 && a.abs() < 0.5 && b.abs() < 0.5);
        let (l, a, b) = srgb_to_lab([255, 0, 0]);
        assert!((l - 53.2).abs() < 0.5 && (a - 80.1).abs() < 1.0 && (b - 67.2).abs() < 1.0);
    }

    #[test]
    fn lookup_table_agrees_with_direct_naming_on_bin_centres() {
        let t = ColourTable::default();
        for rgb in [
            [4u8, 4, 4],
            [252, 4, 4],
            [4, 4, 252],
            [252, 252, 4],
            [132, 132, 132],
        ] {
            assert_eq!(Colour::ALL[t.index(&rgb)], name_rgb(rgb));
        }
    }
}
