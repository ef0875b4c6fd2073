//! The motion mask: what moves but was not detected (vigie-motion's background model over
//! the export's decoded frames).

use vigie_core::RgbFrame;
use vigie_motion::{find_blobs, BackgroundModel, MotionConfig};

use crate::{MotionParams, RedactError};

pub(crate) fn config(p: &MotionParams) -> MotionConfig {
    MotionConfig {
        model_width: p.model_width,
        k_sigma: p.k_sigma,
        min_diff: p.min_diff,
        min_blob_frac: p.min_area_frac,
        ..MotionConfig::default()
    }
}

/// Cells of the model grid to fill (1), covering the frame (`width` x `height` cells).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MotionCells {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl MotionCells {
    pub fn any(&self) -> bool {
        self.data.iter().any(|c| *c != 0)
    }
}

/// The background model of one export, fed every decoded frame in order.
pub struct MotionMasker {
    model: BackgroundModel,
    params: MotionParams,
    tmp: Vec<u8>,
}

impl MotionMasker {
    pub fn new(params: &MotionParams) -> Result<Self, RedactError> {
        Ok(Self {
            model: BackgroundModel::new(config(params))?,
            params: params.clone(),
            tmp: Vec::new(),
        })
    }

    /// Learn from a frame without masking it (frames before the export, so that the
    /// model knows the background when the export starts).
    pub fn observe(&mut self, frame: &RgbFrame) {
        self.model.apply(frame);
    }

    /// Start the background from the per-pixel median of `frames` (a few frames spread
    /// over the export and the seconds before it): objects that move are not in it, so
    /// the places they leave do not show as motion ("ghosts") as they would if the model
    /// learnt its background from the first frames alone. Frames of another size than
    /// the first are left out.
    pub fn prime(&mut self, frames: &[RgbFrame]) {
        let Some(first) = frames.first() else {
            return;
        };
        let same: Vec<&RgbFrame> = frames
            .iter()
            .filter(|f| f.width == first.width && f.height == first.height)
            .collect();
        let mut median = first.clone();
        let mut v = Vec::with_capacity(same.len());
        for (i, out) in median.data.iter_mut().enumerate() {
            v.clear();
            v.extend(same.iter().map(|f| f.data[i]));
            let mid = v.len() / 2;
            *out = *v.select_nth_unstable(mid).1;
        }
        // The model's warm-up (its first 10 frames) learns fast: all of it on the median.
        for _ in 0..12 {
            self.model.apply(&median);
        }
    }

    /// Learn from `frame` and return the cells to fill: its foreground blobs of at least
    /// the minimum area, dilated.
    pub fn update(&mut self, frame: &RgbFrame) -> MotionCells {
        let mask = self.model.apply(frame);
        let (w, h) = (mask.width as usize, mask.height as usize);
        let min_area = ((self.params.min_area_frac * (w * h) as f32) as usize).max(2);
        let mut data = vec![0u8; w * h];
        for b in find_blobs(mask, min_area) {
            // The blob's own pixels (not its bounding box: a diagonal walker's box would
            // cover much of the frame).
            for y in b.y0..=b.y1 {
                for x in b.x0..=b.x1 {
                    let i = y as usize * w + x as usize;
                    if mask.data[i] != 0 {
                        data[i] = 1;
                    }
                }
            }
        }
        for _ in 0..self.params.dilate {
            self.tmp.clear();
            self.tmp.extend_from_slice(&data);
            for y in 0..h {
                for x in 0..w {
                    if self.tmp[y * w + x] != 0 {
                        continue;
                    }
                    let (x0, x1) = (x.saturating_sub(1), (x + 1).min(w - 1));
                    let (y0, y1) = (y.saturating_sub(1), (y + 1).min(h - 1));
                    if (y0..=y1).any(|yy| (x0..=x1).any(|xx| self.tmp[yy * w + xx] != 0)) {
                        data[y * w + x] = 1;
                    }
                }
            }
        }
        MotionCells {
            width: w as u32,
            height: h as u32,
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{apply, FramePlan, Rect, FILL_RGB};

    /// A grey frame with, if given, a red 16-pixel square whose top-left pixel is (x, y).
    fn frame(w: u32, h: u32, square: Option<(u32, u32)>) -> RgbFrame {
        let mut f = RgbFrame::solid(w, h, [120; 3], 0);
        if let Some((x, y)) = square {
            f.fill_rect(x, y, 16, 16, [250, 20, 20]);
        }
        f
    }

    #[test]
    fn an_undetected_moving_blob_is_filled_but_not_inside_a_selected_box() {
        let p = MotionParams {
            model_width: 64,
            ..Default::default()
        };
        let mut m = MotionMasker::new(&p).unwrap();
        for _ in 0..15 {
            m.observe(&frame(128, 64, None));
        }
        let mut f = frame(128, 64, Some((20, 20)));
        let cells = m.update(&f);
        assert!(cells.any());
        let plan = FramePlan {
            width: 128,
            height: 64,
            masks: vec![],
            clear: vec![],
            explained: vec![],
            vehicles: vec![],
        };
        let a = apply(&mut f.data, &plan, Some(&cells), FILL_RGB);
        let at = |img: &[u8], x: u32, y: u32| img[((y * 128 + x) * 3) as usize];
        assert_eq!(at(&f.data, 28, 28), 16, "the blob is filled");
        assert_eq!(at(&f.data, 100, 50), 120, "the background is not");
        assert!(a.motion_pixels >= 256, "{a:?}");
        // Primed with frames where the square moves, the background has no square: the
        // place it starts from shows no motion once it has left.
        let mut m = MotionMasker::new(&p).unwrap();
        let moving: Vec<RgbFrame> = (0..5).map(|k| frame(128, 64, Some((k * 20, 30)))).collect();
        m.prime(&moving);
        let later = m.update(&frame(128, 64, Some((100, 30))));
        let at_cell = |x: u32, y: u32| later.data[(y / 2 * 64 + x / 2) as usize];
        assert_eq!(at_cell(8, 38), 0, "no ghost where the square was first");
        assert_eq!(at_cell(108, 38), 1, "the square where it is now");
        // The same blob inside a selected object's box stays clear.
        let mut g = frame(128, 64, Some((20, 20)));
        let plan = FramePlan {
            clear: vec![Rect {
                x0: 10,
                y0: 10,
                x1: 50,
                y1: 50,
            }],
            ..plan
        };
        let a = apply(&mut g.data, &plan, Some(&cells), FILL_RGB);
        assert_eq!(at(&g.data, 28, 28), 250);
        assert_eq!(a.motion_pixels, 0);
    }
}
