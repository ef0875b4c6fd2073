//! A tiny embedded 5x7 bitmap font for the labels (times and track ids), so rendering needs
//! no font file and no text-rendering library.

/// Glyph rows, top to bottom, 5 bits each (bit 4 is the leftmost column).
fn glyph(c: char) -> Option<[u8; 7]> {
    Some(match c {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        '#' => [0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        '/' => [0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10],
        's' => [0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E],
        ' ' => [0; 7],
        _ => return None,
    })
}

pub const GLYPH_W: u32 = 5;
pub const GLYPH_H: u32 = 7;

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
