//! The PP-OCRv6 text detector (`ppocrv6-det-small`, DB: differentiable binarisation) used
//! as a plate localiser: every line of text in a vehicle crop, as rotated rectangles.
//!
//! Why keep it beside the dedicated plate detector (`clp`): it was trained on text in
//! general, so it does not care which country's plate it sees, and it finds two-line
//! plates line by line; its weakness is that it also finds every sticker and logo, so the
//! reader ranks its boxes by what the recogniser makes of them.
//!
//! Post-processing follows the upstream DB pipeline (rapidocr / PaddleOCR): probability
//! map above 0.3, connected components, minimum-area rectangle of each, mean probability
//! at least `box_threshold`, then "unclip" (the network predicts a shrunk text kernel: each side
//! is pushed out by `area * unclip_ratio / perimeter`).

use vigie_core::AlertSink;
use vigie_policy::{ids, ModelSession, SessionConfig, Task};

use crate::geom::{min_area_rect, resize_into, Normalise, RgbView, RotRect};
use crate::PlateError;

#[derive(Debug, Clone, PartialEq)]
pub struct TextDetectorConfig {
    /// Binarisation threshold of the probability map.
    pub pixel_threshold: f32,
    /// Minimum mean probability inside a component.
    pub box_threshold: f32,
    pub unclip_ratio: f32,
    /// The image is scaled so that its shorter side is at least this (small crops are
    /// enlarged: small text needs it) ...
    pub min_side_px: u32,
    /// ... and its longer side at most this.
    pub max_side_px: u32,
    pub session: SessionConfig,
}

impl Default for TextDetectorConfig {
    fn default() -> Self {
        TextDetectorConfig {
            pixel_threshold: 0.3,
            box_threshold: 0.5,
            unclip_ratio: 1.6,
            min_side_px: 480,
            max_side_px: 960,
            session: SessionConfig::default(),
        }
    }
}

/// A line of text found in the image (pixels of the image given).
#[derive(Debug, Clone, PartialEq)]
pub struct TextBox {
    pub rect: RotRect,
    pub score: f32,
}

/// Input size for an image of `w x h`: shorter side up to `min_side`, longer side at most
/// `max_side`, both rounded to multiples of 32.
pub fn input_size(w: u32, h: u32, min_side: u32, max_side: u32) -> (u32, u32) {
    let (w, h) = (w as f32, h as f32);
    let mut s = (min_side as f32 / w.min(h)).max(1.0);
    if w.max(h) * s > max_side as f32 {
        s = max_side as f32 / w.max(h);
    }
    let r = |v: f32| (((v * s) / 32.0).round().max(1.0) as u32) * 32;
    (r(w), r(h))
}

/// DB post-processing of a `[h, w]` probability map into boxes in map pixels.
pub fn boxes_from_map(map: &[f32], w: usize, h: usize, cfg: &TextDetectorConfig) -> Vec<TextBox> {
    let mut label = vec![0u32; w * h];
    let mut next = 0u32;
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if label[start] != 0 || map[start] <= cfg.pixel_threshold {
            continue;
        }
        next += 1;
        label[start] = next;
        stack.push(start);
        let mut pts = Vec::new();
        let mut sum = 0f32;
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            sum += map[i];
            // Pixel corners, so that a one-pixel-wide line still has an area.
            pts.push((x as f32, y as f32));
            pts.push((x as f32 + 1.0, y as f32 + 1.0));
            pts.push((x as f32 + 1.0, y as f32));
            pts.push((x as f32, y as f32 + 1.0));
            let mut visit = |j: usize| {
                if label[j] == 0 && map[j] > cfg.pixel_threshold {
                    label[j] = next;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        let n = pts.len() / 4;
        if n < 4 {
            continue;
        }
        let score = sum / n as f32;
        if score < cfg.box_threshold {
            continue;
        }
        let Some(rect) = min_area_rect(pts) else {
            continue;
        };
        if rect.h < 2.0 {
            continue;
        }
        let d = rect.w * rect.h * cfg.unclip_ratio / (2.0 * (rect.w + rect.h));
        out.push(TextBox {
            rect: rect.grown(d),
            score,
        });
    }
    out
}

/// The text detector bound to one session.
#[derive(Debug)]
pub struct TextDetector {
    session: ModelSession,
    cfg: TextDetectorConfig,
    norm: Normalise,
    input: Vec<f32>,
}

impl TextDetector {
    pub fn open(cfg: TextDetectorConfig, alerts: &dyn AlertSink) -> Result<Self, PlateError> {
        let spec = ids::PPOCRV6_DET_SMALL.spec();
        if spec.task != Task::TextDetection {
            return Err(PlateError::BadConfig(format!(
                "model '{}' is not a text detector; models/manifest.toml and this build disagree: rebuild vigie",
                spec.id
            )));
        }
        if cfg.min_side_px < 32 || cfg.max_side_px < cfg.min_side_px {
            return Err(PlateError::BadConfig(format!(
                "text detector sides {}..{} px (expected 32 <= min <= max)",
                cfg.min_side_px, cfg.max_side_px
            )));
        }
        let session = ModelSession::open(ids::PPOCRV6_DET_SMALL, &cfg.session, alerts)?;
        let p = spec.preprocess;
        Ok(TextDetector {
            session,
            norm: Normalise {
                bgr: p.channel_order == vigie_policy::ChannelOrder::Bgr,
                scale: p.scale,
                mean: p.mean,
                std: p.std,
            },
            cfg,
            input: Vec::new(),
        })
    }

    /// Lines of text in `img`, in its pixels, best score first.
    pub fn detect(&mut self, img: &RgbView) -> Result<Vec<TextBox>, PlateError> {
        let (iw, ih) = input_size(
            img.width,
            img.height,
            self.cfg.min_side_px,
            self.cfg.max_side_px,
        );
        self.input.clear();
        self.input.resize((3 * iw * ih) as usize, 0.0);
        resize_into(img, iw, ih, &self.norm, &mut self.input);
        let shape = [1, 3, ih as usize, iw as usize];
        let out = self.session.run(&[(&shape, &self.input)])?;
        let o = &out[0];
        let (mh, mw) = match o.shape.as_slice() {
            [1, 1, h, w] => (*h, *w),
            other => {
                return Err(PlateError::BadOutput {
                    model: self.session.spec().id.to_string(),
                    problem: format!("probability map of shape {other:?}, expected [1, 1, H, W]"),
                })
            }
        };
        let sx = img.width as f32 / mw as f32;
        let sy = img.height as f32 / mh as f32;
        let mut boxes = boxes_from_map(&o.data, mw, mh, &self.cfg);
        for b in &mut boxes {
            // Back to image pixels (the angle changes with a non-uniform scale; the two
            // scales differ by the rounding to 32 only, so it is kept).
            b.rect.cx *= sx;
            b.rect.cy *= sy;
            b.rect.w *= sx;
            b.rect.h *= sy;
        }
        boxes.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(boxes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_size_rounds_and_bounds() {
        assert_eq!(input_size(450, 390, 480, 960), (544, 480));
        let (w, h) = input_size(4000, 3000, 480, 960);
        assert_eq!((w, h), (960, 736));
        assert_eq!(input_size(100, 20, 480, 960), (960, 192));
    }

    #[test]
    fn one_blob_gives_one_unclipped_box() {
        let (w, h) = (64, 32);
        let mut map = vec![0f32; w * h];
        for y in 12..18 {
            for x in 10..50 {
                map[y * w + x] = 0.9;
            }
        }
        // A faint blob under box_threshold, and a single stray pixel.
        for y in 25..28 {
            for x in 5..15 {
                map[y * w + x] = 0.35;
            }
        }
        map[2 * w + 60] = 0.99;
        let boxes = boxes_from_map(&map, w, h, &TextDetectorConfig::default());
        assert_eq!(boxes.len(), 1, "{boxes:?}");
        let r = boxes[0].rect;
        assert!(
            (r.cx - 30.0).abs() < 0.6 && (r.cy - 15.0).abs() < 0.6,
            "{r:?}"
        );
        // 40 x 6 kernel, d = 240 * 1.6 / 92 = 4.17 per side.
        assert!(
            (r.w - 48.3).abs() < 0.6 && (r.h - 14.3).abs() < 0.6,
            "{r:?}"
        );
    }
}
