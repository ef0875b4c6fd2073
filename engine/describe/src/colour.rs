//! Naming colours in CIELAB.
//!
//! Why CIELAB rather than RGB or HSV thresholds: its lightness axis is separate from
//! chroma, so "grey" vs "coloured" is a chroma threshold that does not depend on
//! brightness, and hue angles follow perception closely enough that one table of hue ranges
//! names colours under CCTV's typically washed-out colours. Brown is a dark orange and pink
//! a light red/magenta, which is how people name them.

use vigie_core::Colour;

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

/// Chroma below which a pixel is achromatic (black, grey, white).
pub const ACHROMATIC_CHROMA: f32 = 13.0;

/// The palette name of a Lab colour.
pub fn name_lab(l: f32, a: f32, b: f32) -> Colour {
    let chroma = (a * a + b * b).sqrt();
    // Very dark pixels are black whatever their hue (sensor noise dominates).
    if l < 18.0 || chroma < ACHROMATIC_CHROMA * (0.6 + 0.4 * (l / 50.0).min(1.0)) {
        return if l < 30.0 {
            Colour::Black
        } else if l > 80.0 {
            Colour::White
        } else {
            Colour::Grey
        };
    }
    let h = b.atan2(a).to_degrees().rem_euclid(360.0);
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

/// The palette name of an sRGB pixel.
pub fn name_rgb(rgb: [u8; 3]) -> Colour {
    let (l, a, b) = srgb_to_lab(rgb);
    name_lab(l, a, b)
}

/// A 32x32x32 lookup table from quantised RGB to palette index, built once: naming every
/// object pixel through Lab would cost a `powf` and a `cbrt` each.
pub struct ColourTable {
    lut: Vec<u8>,
}

impl Default for ColourTable {
    fn default() -> Self {
        let mut lut = vec![0u8; 32 * 32 * 32];
        for r in 0..32u32 {
            for g in 0..32u32 {
                for b in 0..32u32 {
                    let c = name_rgb([(r * 8 + 4) as u8, (g * 8 + 4) as u8, (b * 8 + 4) as u8]);
                    let idx = Colour::ALL.iter().position(|x| *x == c).unwrap_or(0);
                    lut[((r * 32 + g) * 32 + b) as usize] = idx as u8;
                }
            }
        }
        Self { lut }
    }
}

impl ColourTable {
    /// Palette index (into [`Colour::ALL`]) of an RGB pixel.
    #[inline]
    pub fn index(&self, rgb: &[u8]) -> usize {
        let (r, g, b) = (
            usize::from(rgb[0] >> 3),
            usize::from(rgb[1] >> 3),
            usize::from(rgb[2] >> 3),
        );
        usize::from(self.lut[(r * 32 + g) * 32 + b])
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
