//! Labels (times and track ids) drawn in the shared 5x7 font (`vigie_core::font`), so
//! rendering needs no font file and no text-rendering library.

use vigie_core::font::glyph;
pub use vigie_core::font::{GLYPH_H, GLYPH_W};

/// Width and height in pixels of `text` drawn at `scale`.
pub fn text_size(text: &str, scale: u32) -> (u32, u32) {
    let n = text.chars().count() as u32;
    (
        (n * (GLYPH_W + 1)).saturating_sub(1) * scale,
        GLYPH_H * scale,
    )
}

/// Draw `text` at (`x`, `y`) (top-left) on a packed RGB24 image, on a dark plate one pixel
/// wider all round; clipped at the image edges. Characters without a glyph draw as '-'.
pub fn draw_text(img: &mut [u8], width: u32, height: u32, x: i32, y: i32, text: &str, scale: u32) {
    let (tw, th) = text_size(text, scale);
    let mut put = |px: i32, py: i32, rgb: [u8; 3], dim: bool| {
        if px < 0 || py < 0 || px as u32 >= width || py as u32 >= height {
            return;
        }
        let i = ((py as u32 * width + px as u32) * 3) as usize;
        if dim {
            for c in 0..3 {
                img[i + c] /= 4;
            }
        } else {
            img[i..i + 3].copy_from_slice(&rgb);
        }
    };
    for py in y - 1..y + th as i32 + 1 {
        for px in x - 1..x + tw as i32 + 1 {
            put(px, py, [0; 3], true);
        }
    }
    for (k, c) in text.chars().enumerate() {
        let g = glyph(c).or_else(|| glyph('-')).unwrap_or([0; 7]);
        let gx = x + (k as u32 * (GLYPH_W + 1) * scale) as i32;
        for (row, bits) in g.iter().enumerate() {
            for col in 0..GLYPH_W {
                if bits & (0x10 >> col) != 0 {
                    for sy in 0..scale {
                        for sx in 0..scale {
                            put(
                                gx + (col * scale + sx) as i32,
                                y + (row as u32 * scale + sy) as i32,
                                [255, 255, 255],
                                false,
                            );
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_character_has_a_glyph() {
        for c in "0123456789:#.- s/".chars() {
            assert!(glyph(c).is_some(), "{c}");
        }
    }

    #[test]
    fn text_is_drawn_white_on_a_dark_plate_and_clipped() {
        let (w, h) = (40u32, 12u32);
        let mut img = vec![200u8; (w * h * 3) as usize];
        draw_text(&mut img, w, h, 2, 2, "1:#", 1);
        let at = |x: u32, y: u32| img[((y * w + x) * 3) as usize];
        // '1' top row is 0x04: column 2 lit.
        assert_eq!(at(4, 2), 255);
        assert_eq!(at(2, 2), 50, "plate dims the background");
        assert_eq!(at(39, 11), 200, "outside the plate untouched");
        assert_eq!(text_size("1:#", 2), (34, 14));
        draw_text(&mut img, w, h, 35, 8, "00:00", 2); // runs off the edge: no panic
    }
}
