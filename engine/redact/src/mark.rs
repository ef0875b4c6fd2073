//! The visible mark burned into every redacted (or unredacted) export, in the shared 5x7
//! font (`vigie_core::font`). Lower-case letters are drawn as capitals.

use crate::Rect;

/// The mark's glyphs: the shared font, lower-case letters drawn as capitals.
fn glyph(c: char) -> Option<[u8; 7]> {
    vigie_core::font::glyph(c.to_ascii_uppercase())
}

/// The glyph drawn for a character without one.
const UNKNOWN: [u8; 7] = [0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04];

use vigie_core::font::{GLYPH_H, GLYPH_W};

/// The mark's text: `PROCEDURE <n> · vigie · REDACTED <k> objects` (`redacted: None`:
/// `UNREDACTED`).
pub fn mark_text(procedure: &str, redacted: Option<u64>) -> String {
    match redacted {
        Some(k) => format!(
            "PROCEDURE {procedure} · vigie · REDACTED {k} object{}",
            if k == 1 { "" } else { "s" }
        ),
        None => format!("PROCEDURE {procedure} · vigie · UNREDACTED"),
    }
}

/// Width and height in pixels of `text` drawn at `scale`.
pub fn text_size(text: &str, scale: u32) -> (u32, u32) {
    let n = text.chars().count() as u32;
    (
        (n * (GLYPH_W + 1)).saturating_sub(1) * scale,
        GLYPH_H * scale,
    )
}

/// Burn `text` in the bottom-right corner of a packed RGB24 frame: white capitals on an
/// opaque black plate, scaled with the frame's height (and down until it fits the width).
/// Returns the plate's rectangle (empty when the frame is too small for any text).
pub fn draw_mark(img: &mut [u8], width: u32, height: u32, text: &str) -> Rect {
    assert_eq!(
        img.len(),
        width as usize * height as usize * 3,
        "frame size"
    );
    let pad = 2u32;
    // Plate (text + padding) plus the margin to the frame's edges, at `scale`.
    let need = |text: &str, scale: u32| {
        let (tw, th) = text_size(text, scale);
        (tw + 2 * (pad + 1) * scale, th + 2 * (pad + 1) * scale)
    };
    let mut scale = (height / 200).max(1);
    while scale > 1 && need(text, scale).0 > width {
        scale -= 1;
    }
    let (nw, nh) = need(text, scale);
    if nh > height {
        return Rect::default();
    }
    if nw > width {
        // Too narrow for the whole text at the smallest scale: as much as fits.
        let fit = ((width.saturating_sub(2 * (pad + 1)) + 1) / (GLYPH_W + 1)) as usize;
        if fit == 0 {
            return Rect::default();
        }
        let short: String = text.chars().take(fit).collect();
        return draw_mark(img, width, height, &short);
    }
    let (tw, th) = text_size(text, scale);
    let p = pad * scale;
    let (pw, ph) = (tw + 2 * p, th + 2 * p);
    let margin = scale;
    let plate = Rect {
        x0: width - margin - pw,
        y0: height - margin - ph,
        x1: width - margin,
        y1: height - margin,
    };
    for y in plate.y0..plate.y1 {
        let row = (y * width) as usize * 3;
        img[row + plate.x0 as usize * 3..row + plate.x1 as usize * 3].fill(0);
    }
    let (x, y) = (plate.x0 + p, plate.y0 + p);
    for (k, c) in text.chars().enumerate() {
        let g = glyph(c).unwrap_or(UNKNOWN);
        let gx = x + k as u32 * (GLYPH_W + 1) * scale;
        for (row, bits) in g.iter().enumerate() {
            for col in 0..GLYPH_W {
                if bits & (0x10 >> col) == 0 {
                    continue;
                }
                for sy in 0..scale {
                    let py = y + row as u32 * scale + sy;
                    let i = (py * width + gx + col * scale) as usize * 3;
                    img[i..i + 3 * scale as usize].fill(255);
                }
            }
        }
    }
    plate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_is_drawn_in_the_bottom_right_corner() {
        let (w, h) = (640u32, 360u32);
        let mut img = vec![120u8; (w * h * 3) as usize];
        let text = mark_text("2026/00042", Some(2));
        assert_eq!(text, "PROCEDURE 2026/00042 · vigie · REDACTED 2 objects");
        let r = draw_mark(&mut img, w, h, &text);
        assert!(!r.is_empty());
        assert_eq!((r.x1, r.y1), (w - 1, h - 1), "{r:?}");
        let at = |x: u32, y: u32| img[((y * w + x) * 3) as usize];
        let inside: Vec<u8> = (r.y0..r.y1)
            .flat_map(|y| (r.x0..r.x1).map(move |x| (x, y)))
            .map(|(x, y)| at(x, y))
            .collect();
        assert!(inside.contains(&255), "white text");
        assert!(inside.contains(&0), "black plate");
        assert!(
            !inside.contains(&120),
            "opaque: nothing of the frame shows through"
        );
        assert_eq!(at(0, 0), 120);
        // 'P' top row is 0x1E: its first column lit at the text's origin.
        let s = (h / 200).max(1);
        assert_eq!(at(r.x0 + 2 * s, r.y0 + 2 * s), 255);
        assert_eq!(mark_text("X", None), "PROCEDURE X · vigie · UNREDACTED");
    }

    #[test]
    fn the_mark_scales_with_the_frame_and_fits_small_ones() {
        let mut big = vec![0u8; 1920 * 1080 * 3];
        let r = draw_mark(
            &mut big,
            1920,
            1080,
            "PROCEDURE 1 · vigie · REDACTED 0 objects",
        );
        assert_eq!(r.y1 - r.y0, 7 * 5 + 4 * 5);
        let mut small = vec![0u8; 64 * 32 * 3];
        let r = draw_mark(
            &mut small,
            64,
            32,
            "PROCEDURE 1 · vigie · REDACTED 0 objects",
        );
        assert!(!r.is_empty() && r.x1 <= 64);
        let mut tiny = vec![0u8; 4 * 4 * 3];
        assert!(draw_mark(&mut tiny, 4, 4, "PROCEDURE").is_empty());
        assert!(glyph('é').is_none() && glyph('v').is_some());
    }
}
