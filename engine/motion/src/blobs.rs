//! Connected components of a foreground mask (8-connectivity, one pass with a stack).

use crate::ForegroundMask;

/// One connected foreground region, in mask pixels (inclusive bounds).
#[derive(Debug, Clone, PartialEq)]
pub struct Blob {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
    pub area: usize,
}

impl Blob {
    /// Share of the bounding box covered by the blob.
    pub fn fill(&self) -> f32 {
        let box_area = ((self.x1 - self.x0 + 1) * (self.y1 - self.y0 + 1)) as f32;
        self.area as f32 / box_area
    }
}

/// Blobs of at least `min_area` mask pixels, largest first.
pub fn find_blobs(mask: &ForegroundMask, min_area: usize) -> Vec<Blob> {
    let (w, h) = (mask.width as usize, mask.height as usize);
    let mut seen = vec![false; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if mask.data[start] == 0 || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut b = Blob {
            x0: u32::MAX,
            y0: u32::MAX,
            x1: 0,
            y1: 0,
            area: 0,
        };
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            b.area += 1;
            b.x0 = b.x0.min(x as u32);
            b.x1 = b.x1.max(x as u32);
            b.y0 = b.y0.min(y as u32);
            b.y1 = b.y1.max(y as u32);
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (xx, yy) = (x as i64 + dx, y as i64 + dy);
                    if xx < 0 || yy < 0 || xx >= w as i64 || yy >= h as i64 {
                        continue;
                    }
                    let j = yy as usize * w + xx as usize;
                    if mask.data[j] != 0 && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        if b.area >= min_area {
            out.push(b);
        }
    }
    out.sort_by_key(|b| std::cmp::Reverse(b.area));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_separate_blobs_with_bounds() {
        let (w, h) = (10u32, 6u32);
        let mut data = vec![0u8; 60];
        for (x, y) in [(1, 1), (2, 1), (1, 2), (2, 2), (7, 4), (8, 5), (5, 0)] {
            data[y * 10 + x] = 1;
        }
        let mask = ForegroundMask {
            width: w,
            height: h,
            data,
            fg_frac: 0.0,
            gate_open: true,
        };
        let blobs = find_blobs(&mask, 2);
        assert_eq!(blobs.len(), 2);
        assert_eq!(
            (
                blobs[0].x0,
                blobs[0].y0,
                blobs[0].x1,
                blobs[0].y1,
                blobs[0].area
            ),
            (1, 1, 2, 2, 4)
        );
        assert_eq!((blobs[1].x0, blobs[1].y0, blobs[1].area), (7, 4, 2)); // diagonal = connected
        assert_eq!(blobs[0].fill(), 1.0);
    }
}
