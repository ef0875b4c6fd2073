//! Cutting an object out of its box: the foreground mask inside the tracked box.
//!
//! Why: pasting whole boxes would paste background too, and in a dense synopsis those
//! rectangles would hide each other. Pixels far enough from the background (sum of the
//! absolute channel differences over a threshold) are the object; a 3x3 opening removes
//! speckle and a closing fills small holes. When almost nothing in the box differs from the
//! background (an object that stood still long enough to enter the median), the whole box
//! is kept, so every selected object is still shown.

use vigie_core::BBox;

/// A box clamped to the frame, integer pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Rect {
    /// `None` when the box lies outside the frame or is empty.
    pub fn clamp(b: &BBox, width: u32, height: u32) -> Option<Self> {
        let x0 = b.x.floor().max(0.0) as u32;
        let y0 = b.y.floor().max(0.0) as u32;
        let x1 = ((b.x + b.w).ceil().max(0.0) as u32).min(width);
        let y1 = ((b.y + b.h).ceil().max(0.0) as u32).min(height);
        if x1 > x0 && y1 > y0 {
            Some(Self {
                x: x0,
                y: y0,
                w: x1 - x0,
                h: y1 - y0,
            })
        } else {
            None
        }
    }

    pub fn area(&self) -> usize {
        (self.w * self.h) as usize
    }
}

/// Below this share of foreground pixels the whole box is kept.
pub const MIN_FILL: f32 = 0.05;

/// The `w x h` mask `m` (row-major) after a 3x3 opening (erode, dilate: speckle gone)
/// then a closing (dilate, erode: small holes filled).
pub fn open_close(m: &[bool], w: usize, h: usize) -> Vec<bool> {
    let m = morph(&morph(m, w, h, false), w, h, true);
    morph(&morph(&m, w, h, true), w, h, false)
}

/// 3x3 erosion (`dilate` false) or dilation of the `w x h` mask `m`.
fn morph(m: &[bool], w: usize, h: usize, dilate: bool) -> Vec<bool> {
    let mut out = vec![false; m.len()];
    for y in 0..h {
        for x in 0..w {
            let mut any = false;
            let mut all = true;
            for dy in -1i32..=1 {
                for dx in -1i32..=1 {
                    let (xx, yy) = (x as i32 + dx, y as i32 + dy);
                    let v = xx >= 0
                        && yy >= 0
                        && (xx as usize) < w
                        && (yy as usize) < h
                        && m[yy as usize * w + xx as usize];
                    any |= v;
                    all &= v;
                }
            }
            out[y * w + x] = if dilate { any } else { all };
        }
    }
    out
}

/// The object mask inside `r` (row-major, `r.w * r.h`), and whether it fell back to the
/// whole box. `frame` and `background` are packed RGB24 of `width` pixels per row.
pub fn object_mask(
    frame: &[u8],
    background: &[u8],
    width: u32,
    r: Rect,
    threshold: u16,
) -> (Vec<bool>, bool) {
    let (w, h) = (r.w as usize, r.h as usize);
    let mut m = vec![false; w * h];
    for y in 0..h {
        let row = ((r.y as usize + y) * width as usize + r.x as usize) * 3;
        for x in 0..w {
            let i = row + x * 3;
            let d: u16 = (0..3)
                .map(|c| u16::from(frame[i + c].abs_diff(background[i + c])))
                .sum();
            m[y * w + x] = d > threshold;
        }
    }
    let m = open_close(&m, w, h);
    let fill = m.iter().filter(|&&v| v).count() as f32 / (w * h).max(1) as f32;
    if fill < MIN_FILL {
        (vec![true; w * h], true)
    } else {
        (m, false)
    }
}

/// Clear the mask `m` of the box `r` (row-major, `r.w * r.h`) where it meets `hide`;
/// returns how many object pixels were cleared.
pub fn clear_rect(m: &mut [bool], r: Rect, hide: Rect) -> u64 {
    let x0 = r.x.max(hide.x);
    let y0 = r.y.max(hide.y);
    let x1 = (r.x + r.w).min(hide.x + hide.w);
    let y1 = (r.y + r.h).min(hide.y + hide.h);
    let mut n = 0;
    for y in y0..y1.max(y0) {
        for x in x0..x1.max(x0) {
            let v = &mut m[((y - r.y) * r.w + (x - r.x)) as usize];
            n += u64::from(*v);
            *v = false;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_is_cut_out_and_speckle_removed() {
        let (width, height) = (20u32, 20u32);
        let bg = vec![100u8; (width * height * 3) as usize];
        let mut f = bg.clone();
        let mut paint = |x: u32, y: u32| {
            let i = ((y * width + x) * 3) as usize;
            f[i..i + 3].copy_from_slice(&[250, 20, 20]);
        };
        for y in 5..15 {
            for x in 8..12 {
                paint(x, y);
            }
        }
        paint(1, 1); // isolated noise pixel inside the box
        let r = Rect::clamp(
            &BBox {
                x: 0.0,
                y: 0.0,
                w: 20.0,
                h: 20.0,
            },
            width,
            height,
        )
        .unwrap();
        let (m, fallback) = object_mask(&f, &bg, width, r, 60);
        assert!(!fallback);
        assert!(!m[21], "speckle kept");
        assert!(m[10 * 20 + 10], "object lost");
        assert!(!m[10 * 20 + 3], "background kept");
        let n = m.iter().filter(|&&v| v).count();
        assert_eq!(n, 40);
    }

    #[test]
    fn still_object_keeps_its_whole_box() {
        let bg = vec![100u8; 300];
        let r = Rect {
            x: 2,
            y: 2,
            w: 4,
            h: 4,
        };
        let (m, fallback) = object_mask(&bg, &bg, 10, r, 60);
        assert!(fallback);
        assert!(m.iter().all(|&v| v));
    }

    #[test]
    fn an_unselected_box_is_cleared_from_the_mask() {
        let r = Rect {
            x: 10,
            y: 10,
            w: 4,
            h: 4,
        };
        let mut m = vec![true; 16];
        let hide = Rect {
            x: 12,
            y: 0,
            w: 20,
            h: 12,
        };
        assert_eq!(clear_rect(&mut m, r, hide), 4);
        assert_eq!(m.iter().filter(|&&v| v).count(), 12);
        assert!(!m[2] && !m[3] && !m[6] && !m[7] && m[8]);
        // Disjoint: nothing cleared.
        assert_eq!(
            clear_rect(
                &mut m,
                r,
                Rect {
                    x: 0,
                    y: 0,
                    w: 5,
                    h: 5
                }
            ),
            0
        );
    }

    #[test]
    fn boxes_are_clamped_to_the_frame() {
        let b = BBox {
            x: -5.0,
            y: 90.0,
            w: 20.0,
            h: 20.0,
        };
        assert_eq!(
            Rect::clamp(&b, 100, 100),
            Some(Rect {
                x: 0,
                y: 90,
                w: 15,
                h: 10
            })
        );
        let out = BBox { x: 200.0, ..b };
        assert_eq!(Rect::clamp(&out, 100, 100), None);
    }
}
