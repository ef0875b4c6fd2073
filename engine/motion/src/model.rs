//! Per-pixel running-Gaussian background model on a downscaled grey image.

use vigie_core::RgbFrame;

/// Background-model parameters. Defaults suit 5-25 fps CCTV at any resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct MotionConfig {
    /// Width of the grey image the model runs on (height keeps the aspect ratio).
    pub model_width: u32,
    /// Learning rate where the pixel is background (per frame, 0..1).
    pub learn_bg: f32,
    /// Learning rate where the pixel is foreground: slow, so standing objects are absorbed
    /// only after a while (about 1 / learn_fg frames).
    pub learn_fg: f32,
    /// A pixel is foreground when it is more than `k_sigma` standard deviations away...
    pub k_sigma: f32,
    /// ...and more than this many grey levels away (camera noise floor).
    pub min_diff: f32,
    /// Blobs smaller than this fraction of the model image are ignored.
    pub min_blob_frac: f32,
    /// The gate opens when this fraction of pixels is foreground.
    pub gate_frac: f32,
}

impl Default for MotionConfig {
    fn default() -> Self {
        Self {
            model_width: 192,
            learn_bg: 0.03,
            learn_fg: 0.003,
            k_sigma: 2.5,
            min_diff: 14.0,
            min_blob_frac: 0.0008,
            gate_frac: 0.0008,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid motion setting {name} = {value} (expected {expected})")]
pub struct MotionConfigError {
    pub name: &'static str,
    pub value: f32,
    pub expected: &'static str,
}

impl MotionConfig {
    pub fn validate(&self) -> Result<(), MotionConfigError> {
        let check = |name, value: f32, ok: bool, expected| {
            if ok {
                Ok(())
            } else {
                Err(MotionConfigError {
                    name,
                    value,
                    expected,
                })
            }
        };
        check(
            "model_width",
            self.model_width as f32,
            (32..=1024).contains(&self.model_width),
            ">= 32, <= 1024",
        )?;
        check(
            "learn_bg",
            self.learn_bg,
            self.learn_bg > 0.0 && self.learn_bg <= 1.0,
            "> 0, <= 1",
        )?;
        check(
            "learn_fg",
            self.learn_fg,
            self.learn_fg >= 0.0 && self.learn_fg <= self.learn_bg,
            ">= 0, <= learn_bg",
        )?;
        check("k_sigma", self.k_sigma, self.k_sigma > 0.0, "> 0")?;
        check("min_diff", self.min_diff, self.min_diff >= 0.0, ">= 0")?;
        check(
            "min_blob_frac",
            self.min_blob_frac,
            (0.0..1.0).contains(&self.min_blob_frac),
            ">= 0, < 1",
        )?;
        check(
            "gate_frac",
            self.gate_frac,
            (0.0..1.0).contains(&self.gate_frac),
            ">= 0, < 1",
        )
    }
}

/// A binary foreground mask at the model's resolution.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ForegroundMask {
    pub width: u32,
    pub height: u32,
    /// 1 = foreground, row-major.
    pub data: Vec<u8>,
    /// Share of foreground pixels.
    pub fg_frac: f32,
    /// Whether the motion gate is open (the frame needs the detector).
    pub gate_open: bool,
}

impl ForegroundMask {
    /// Scale factors from mask pixels to a frame of `w` x `h`.
    pub fn scale_to(&self, w: u32, h: u32) -> (f32, f32) {
        (
            w as f32 / self.width.max(1) as f32,
            h as f32 / self.height.max(1) as f32,
        )
    }

    /// Whether frame pixel (`x`, `y`) of a `w` x `h` frame is foreground.
    pub fn at_frame(&self, x: u32, y: u32, w: u32, h: u32) -> bool {
        if self.width == 0 {
            return false;
        }
        let mx = (u64::from(x) * u64::from(self.width) / u64::from(w.max(1))) as u32;
        let my = (u64::from(y) * u64::from(self.height) / u64::from(h.max(1))) as u32;
        let (mx, my) = (mx.min(self.width - 1), my.min(self.height - 1));
        self.data[(my * self.width + mx) as usize] != 0
    }

    /// Share of foreground pixels inside a frame-space box.
    pub fn fill_in(&self, bbox: &vigie_core::BBox, w: u32, h: u32) -> f32 {
        let (sx, sy) = self.scale_to(w, h);
        let x0 = (bbox.x / sx).floor().max(0.0) as u32;
        let y0 = (bbox.y / sy).floor().max(0.0) as u32;
        let x1 = (((bbox.x + bbox.w) / sx).ceil() as u32).min(self.width);
        let y1 = (((bbox.y + bbox.h) / sy).ceil() as u32).min(self.height);
        let (mut fg, mut n) = (0u32, 0u32);
        for y in y0..y1 {
            for x in x0..x1 {
                fg += u32::from(self.data[(y * self.width + x) as usize]);
                n += 1;
            }
        }
        if n == 0 {
            0.0
        } else {
            fg as f32 / n as f32
        }
    }
}

/// The background model. One per camera stream; not shared between threads.
pub struct BackgroundModel {
    cfg: MotionConfig,
    width: u32,
    height: u32,
    mean: Vec<f32>,
    var: Vec<f32>,
    grey: Vec<f32>,
    raw: Vec<u8>,
    tmp: Vec<u8>,
    /// Scratch of the separable morphology ([`morph`]).
    rows: Vec<u8>,
    /// Per model column, the first and last frame column of its footprint.
    cols: Vec<(usize, usize)>,
    mask: ForegroundMask,
    frames: u64,
}

impl BackgroundModel {
    pub fn new(cfg: MotionConfig) -> Result<Self, MotionConfigError> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            width: 0,
            height: 0,
            mean: Vec::new(),
            var: Vec::new(),
            grey: Vec::new(),
            raw: Vec::new(),
            tmp: Vec::new(),
            rows: Vec::new(),
            cols: Vec::new(),
            mask: ForegroundMask::default(),
            frames: 0,
        })
    }

    pub fn mask(&self) -> &ForegroundMask {
        &self.mask
    }

    /// Frames seen so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The current background estimate as a grey image (model resolution).
    pub fn background(&self) -> (u32, u32, Vec<u8>) {
        (
            self.width,
            self.height,
            self.mean
                .iter()
                .map(|m| m.clamp(0.0, 255.0) as u8)
                .collect(),
        )
    }

    fn downscale(&mut self, frame: &RgbFrame) {
        let w = self.cfg.model_width.min(frame.width).max(1);
        let h = ((u64::from(frame.height) * u64::from(w)) / u64::from(frame.width.max(1))).max(1)
            as u32;
        if w != self.width || h != self.height {
            // First frame, or the stream changed size: start the model afresh.
            self.width = w;
            self.height = h;
            self.mean.clear();
            self.var.clear();
            self.frames = 0;
        }
        let n = (w * h) as usize;
        self.grey.resize(n, 0.0);
        let fw = frame.width as usize;
        // The footprint's first and last column of each model column, computed once per
        // frame rather than with two divisions per model pixel.
        self.cols.clear();
        self.cols.extend((0..w as usize).map(|mx| {
            let x0 = mx * fw / w as usize;
            let x1 = (((mx + 1) * fw / w as usize).max(x0 + 1) - 1).min(fw - 1);
            (x0, x1)
        }));
        // Box-average each model pixel's footprint (sampled on a 2x2 grid: cheap and
        // enough to suppress compression noise).
        for my in 0..h as usize {
            let y0 = my * frame.height as usize / h as usize;
            let y1 = (((my + 1) * frame.height as usize / h as usize).max(y0 + 1) - 1)
                .min(frame.height as usize - 1);
            for (mx, &(x0, x1)) in self.cols.iter().enumerate() {
                let mut s = 0.0f32;
                for (yy, xx) in [(y0, x0), (y0, x1), (y1, x0), (y1, x1)] {
                    let i = (yy * fw + xx) * 3;
                    let d = &frame.data[i..i + 3];
                    s +=
                        0.299 * f32::from(d[0]) + 0.587 * f32::from(d[1]) + 0.114 * f32::from(d[2]);
                }
                self.grey[my * w as usize + mx] = s / 4.0;
            }
        }
    }

    /// Update the model with a frame and compute its foreground mask.
    pub fn apply(&mut self, frame: &RgbFrame) -> &ForegroundMask {
        self.downscale(frame);
        let n = (self.width * self.height) as usize;
        if self.mean.len() != n {
            self.mean = self.grey.clone();
            self.var = vec![self.cfg.min_diff * self.cfg.min_diff; n];
        }
        self.raw.resize(n, 0);
        // Learn fast during warm-up so the first seconds do not stay foreground.
        let warm = self.frames < 10;
        let (k2, min2) = (
            self.cfg.k_sigma * self.cfg.k_sigma,
            self.cfg.min_diff * self.cfg.min_diff,
        );
        for i in 0..n {
            let d = self.grey[i] - self.mean[i];
            let d2 = d * d;
            let fg = !warm && d2 > k2 * self.var[i] && d2 > min2;
            self.raw[i] = u8::from(fg);
            let a = if warm {
                0.5
            } else if fg {
                self.cfg.learn_fg
            } else {
                self.cfg.learn_bg
            };
            self.mean[i] += a * d;
            // The variance learns only from background: learning it from a standing
            // object would widen the threshold until the object vanished in seconds.
            if !fg {
                self.var[i] = ((1.0 - a) * self.var[i] + a * d2).clamp(4.0, 2500.0);
            }
        }
        self.frames += 1;
        // Opening (erode, dilate) removes speckle; a second dilation reconnects the parts
        // of one object (a person's legs and torso).
        let (w, h) = (self.width as usize, self.height as usize);
        self.tmp.resize(n, 0);
        morph(&self.raw, &mut self.tmp, &mut self.rows, w, h, false);
        morph(&self.tmp, &mut self.raw, &mut self.rows, w, h, true);
        morph(&self.raw, &mut self.tmp, &mut self.rows, w, h, true);
        let fg = self.tmp.iter().filter(|v| **v != 0).count();
        self.mask.width = self.width;
        self.mask.height = self.height;
        std::mem::swap(&mut self.mask.data, &mut self.tmp);
        self.mask.fg_frac = fg as f32 / n.max(1) as f32;
        self.mask.gate_open = self.mask.fg_frac >= self.cfg.gate_frac && fg > 0;
        &self.mask
    }
}

/// 3x3 erosion (`dilate == false`) or dilation of a 0/1 image. Outside the image counts
/// as background for dilation and as foreground for erosion, so objects at the border
/// survive.
///
/// Separable (a 1x3 pass along the rows, then a 3x1 pass down the columns into `dst`),
/// which gives exactly the 3x3 result because the outside value is the operation's
/// identity; branch-free so the compiler vectorises it (it runs three times per frame).
fn morph(src: &[u8], dst: &mut [u8], rows: &mut Vec<u8>, w: usize, h: usize, dilate: bool) {
    debug_assert!(src.len() >= w * h && dst.len() >= w * h);
    if w == 0 || h == 0 {
        return;
    }
    // Values are 0 or 1: dilation is an OR, erosion an AND.
    let op = |a: u8, b: u8| if dilate { a | b } else { a & b };
    let outside = u8::from(!dilate);
    rows.resize(w * h, 0);
    for (s, r) in src.chunks_exact(w).zip(rows.chunks_exact_mut(w)).take(h) {
        let norm = |v: u8| u8::from(v != 0);
        if w == 1 {
            r[0] = op(norm(s[0]), outside);
            continue;
        }
        r[0] = op(op(outside, norm(s[0])), norm(s[1]));
        for x in 1..w - 1 {
            r[x] = op(op(norm(s[x - 1]), norm(s[x])), norm(s[x + 1]));
        }
        r[w - 1] = op(op(norm(s[w - 2]), norm(s[w - 1])), outside);
    }
    for y in 0..h {
        let mid = &rows[y * w..(y + 1) * w];
        let out = &mut dst[y * w..(y + 1) * w];
        out.copy_from_slice(mid);
        if y > 0 {
            let up = &rows[(y - 1) * w..y * w];
            out.iter_mut().zip(up).for_each(|(o, u)| *o = op(*o, *u));
        } else {
            out.iter_mut().for_each(|o| *o = op(*o, outside));
        }
        if y + 1 < h {
            let down = &rows[(y + 1) * w..(y + 2) * w];
            out.iter_mut().zip(down).for_each(|(o, d)| *o = op(*o, *d));
        } else {
            out.iter_mut().for_each(|o| *o = op(*o, outside));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct 3x3 definition [`morph`] must match.
    fn morph_reference(src: &[u8], dst: &mut [u8], w: usize, h: usize, dilate: bool) {
        for y in 0..h {
            for x in 0..w {
                let mut acc = !dilate;
                'n: for dy in -1i32..=1 {
                    for dx in -1i32..=1 {
                        let (xx, yy) = (x as i32 + dx, y as i32 + dy);
                        let v = if xx < 0 || yy < 0 || xx >= w as i32 || yy >= h as i32 {
                            !dilate
                        } else {
                            src[yy as usize * w + xx as usize] != 0
                        };
                        if dilate && v {
                            acc = true;
                            break 'n;
                        }
                        if !dilate && !v {
                            acc = false;
                            break 'n;
                        }
                    }
                }
                dst[y * w + x] = u8::from(acc);
            }
        }
    }

    #[test]
    fn separable_morphology_matches_the_3x3_definition() {
        // Pseudo-random masks of several shapes (1-pixel-wide and -high ones included),
        // both operations, borders included.
        let mut seed = 0x2545_f491_u32;
        for &(w, h) in &[(1, 1), (1, 7), (7, 1), (2, 2), (5, 3), (192, 144), (33, 17)] {
            for density in [2u32, 5, 9] {
                let src: Vec<u8> = (0..w * h)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 17;
                        seed ^= seed << 5;
                        u8::from(seed % 10 < density)
                    })
                    .collect();
                for dilate in [false, true] {
                    let (mut a, mut b) = (vec![9u8; w * h], vec![9u8; w * h]);
                    morph(&src, &mut a, &mut Vec::new(), w, h, dilate);
                    morph_reference(&src, &mut b, w, h, dilate);
                    assert_eq!(a, b, "{w}x{h} density {density} dilate {dilate}");
                }
            }
        }
    }

    /// A grey (`bg`) frame with, if given, a yellow square: (x, y, side) in pixels.
    fn frame(w: u32, h: u32, bg: u8, square: Option<(u32, u32, u32)>) -> RgbFrame {
        let mut f = RgbFrame::solid(w, h, [bg; 3], 0);
        if let Some((x, y, side)) = square {
            f.fill_rect(x, y, side, side, [240, 240, 60]);
        }
        f
    }

    #[test]
    fn static_scene_keeps_the_gate_closed_and_a_moving_square_opens_it() {
        let mut m = BackgroundModel::new(MotionConfig::default()).unwrap();
        for _ in 0..30 {
            let mask = m.apply(&frame(384, 288, 90, None));
            assert!(!mask.gate_open || m.frames() <= 10);
        }
        assert_eq!(m.mask().fg_frac, 0.0);
        let mask = m.apply(&frame(384, 288, 90, Some((100, 100, 40))));
        assert!(mask.gate_open);
        assert!(mask.at_frame(120, 120, 384, 288));
        assert!(!mask.at_frame(300, 250, 384, 288));
        let fill = mask.fill_in(
            &vigie_core::BBox {
                x: 100.0,
                y: 100.0,
                w: 40.0,
                h: 40.0,
            },
            384,
            288,
        );
        assert!(fill > 0.7, "fill {fill}");
    }

    #[test]
    fn a_parked_object_is_absorbed_into_the_background() {
        let cfg = MotionConfig {
            learn_fg: 0.02,
            ..Default::default()
        };
        let mut m = BackgroundModel::new(cfg).unwrap();
        for _ in 0..20 {
            m.apply(&frame(192, 144, 90, None));
        }
        for _ in 0..400 {
            m.apply(&frame(192, 144, 90, Some((50, 50, 30))));
        }
        assert!(!m.mask().gate_open, "fg {}", m.mask().fg_frac);
    }

    #[test]
    fn invalid_settings_name_the_range() {
        let e = MotionConfig {
            model_width: 8,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains(">= 32"));
        assert!(BackgroundModel::new(MotionConfig {
            k_sigma: 0.0,
            ..Default::default()
        })
        .is_err());
    }
}
