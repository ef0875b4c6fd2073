//! Frame -> network input: bilinear resize (aspect kept or not, as the model's manifest
//! entry says), channel reorder, `(pixel * scale - mean) / std`, NCHW f32; all parameters
//! from the model's manifest entry.
//!
//! - `resize = "letterbox"` (NanoDet): the frame is scaled by `min(W / w, H / h)` into the
//!   `W` x `H` input, **centred** (NanoDet's own keep-ratio convention), and the rest is
//!   filled with **black** pixels, i.e. `(0 - mean) / std` after normalisation (the
//!   padding measured in ../shared/MODELS.md). The scaled picture is `round(w * s)` x
//!   `round(h * s)` pixels at the integer offset `((W - nw) / 2, (H - nh) / 2)`.
//! - `resize = "stretch"`: the frame fills the whole input (aspect ratio not kept).
//!
//! The resize samples at pixel centres (like OpenCV's `INTER_LINEAR`, which NanoDet's
//! training pipeline uses), so a point maps back to the frame with one scale and one
//! offset per axis ([`Geometry`]). One pass over the input tensor, no allocation per frame
//! (sampling tables are cached per source size).

use vigie_core::RgbFrame;
use vigie_policy::{ChannelOrder, PreprocessSpec, Resize};

use crate::BBox;

/// Where the frame lies in the network input: the picture occupies
/// `[offset_x, offset_x + content_w) x [offset_y, offset_y + content_h)` input pixels;
/// input coordinate `u` is frame coordinate `(u - offset) / scale` on each axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    pub frame_w: u32,
    pub frame_h: u32,
    pub offset_x: u32,
    pub offset_y: u32,
    pub content_w: u32,
    pub content_h: u32,
}

impl Geometry {
    /// The layout of a `frame_w` x `frame_h` frame in a `input_w` x `input_h` input.
    /// `Resize::Letterbox` keeps the aspect ratio; every other mode stretches.
    pub fn new(resize: Resize, input_w: u32, input_h: u32, frame_w: u32, frame_h: u32) -> Self {
        let (content_w, content_h) = match resize {
            Resize::Letterbox => {
                let s = (input_w as f64 / frame_w as f64).min(input_h as f64 / frame_h as f64);
                let side = |v: u32, max: u32| ((v as f64 * s).round() as u32).clamp(1, max);
                (side(frame_w, input_w), side(frame_h, input_h))
            }
            _ => (input_w, input_h),
        };
        Geometry {
            frame_w,
            frame_h,
            offset_x: (input_w - content_w) / 2,
            offset_y: (input_h - content_h) / 2,
            content_w,
            content_h,
        }
    }

    /// Input pixels per frame pixel, per axis (equal within rounding when letterboxed).
    pub fn scale(&self) -> (f32, f32) {
        (
            self.content_w as f32 / self.frame_w as f32,
            self.content_h as f32 / self.frame_h as f32,
        )
    }

    /// A box in network-input pixels -> frame pixels: subtract the padding offset, divide
    /// by the scale, clip to the frame.
    pub fn to_frame(&self, b: BBox) -> BBox {
        let (sx, sy) = self.scale();
        let (fw, fh) = (self.frame_w as f32, self.frame_h as f32);
        let x1 = ((b.x - self.offset_x as f32) / sx).clamp(0.0, fw);
        let y1 = ((b.y - self.offset_y as f32) / sy).clamp(0.0, fh);
        let x2 = ((b.x + b.w - self.offset_x as f32) / sx).clamp(0.0, fw);
        let y2 = ((b.y + b.h - self.offset_y as f32) / sy).clamp(0.0, fh);
        BBox {
            x: x1,
            y: y1,
            w: x2 - x1,
            h: y2 - y1,
        }
    }

    /// A box in frame pixels -> network-input pixels (the inverse of [`Self::to_frame`]).
    pub fn to_input(&self, b: BBox) -> BBox {
        let (sx, sy) = self.scale();
        BBox {
            x: b.x * sx + self.offset_x as f32,
            y: b.y * sy + self.offset_y as f32,
            w: b.w * sx,
            h: b.h * sy,
        }
    }
}

/// Precomputed sampling positions for one axis.
#[derive(Debug, Clone)]
struct Axis {
    lo: Vec<usize>,
    hi: Vec<usize>,
    w_hi: Vec<f32>,
}

fn axis(src: u32, dst: u32) -> Axis {
    let scale = src as f32 / dst as f32;
    let mut a = Axis {
        lo: Vec::new(),
        hi: Vec::new(),
        w_hi: Vec::new(),
    };
    for d in 0..dst {
        let s = ((d as f32 + 0.5) * scale - 0.5).max(0.0);
        let lo = (s.floor() as usize).min(src as usize - 1);
        let hi = (lo + 1).min(src as usize - 1);
        a.lo.push(lo);
        a.hi.push(hi);
        a.w_hi.push(s - lo as f32);
    }
    a
}

/// Reusable preprocessing state (sampling tables are cached per source size).
#[derive(Debug, Clone)]
pub struct Preprocessor {
    spec: PreprocessSpec,
    cached: Option<(Geometry, Axis, Axis)>,
    /// Two source rows resized horizontally (output channel order, one plane per channel
    /// of `content_w` values each), with the source row each holds: consecutive output
    /// rows often share a source row.
    rows: [(Option<usize>, Vec<f32>); 2],
}

impl Preprocessor {
    pub fn new(spec: PreprocessSpec) -> Self {
        Preprocessor {
            spec,
            cached: None,
            rows: [(None, Vec::new()), (None, Vec::new())],
        }
    }

    /// Network input size (width, height).
    pub fn input_size(&self) -> (u32, u32) {
        (self.spec.width, self.spec.height)
    }

    /// Where a `frame_w` x `frame_h` frame lies in the network input.
    pub fn geometry(&self, frame_w: u32, frame_h: u32) -> Geometry {
        Geometry::new(
            self.spec.resize,
            self.spec.width,
            self.spec.height,
            frame_w,
            frame_h,
        )
    }

    /// The normalised value of a black pixel, per output channel: what fills the padding.
    pub fn pad_value(&self) -> [f32; 3] {
        std::array::from_fn(|c| -self.spec.mean[c] / self.spec.std[c])
    }

    /// Write the NCHW tensor for `frame` into `out` (resized to `3 * width * height`).
    /// The frame must be non-empty and well-formed (checked by the detector).
    pub fn run(&mut self, frame: &RgbFrame, out: &mut Vec<f32>) {
        let plane = (self.spec.width * self.spec.height) as usize;
        out.clear();
        out.resize(plane * 3, 0.0);
        self.run_into(frame, out);
    }

    /// Write the NCHW tensor for `frame` into `out`, which must hold exactly
    /// `3 * width * height` values (one item of a batch). Every value is written.
    ///
    /// Two passes with the arithmetic of the one-pass bilinear formula (so the same bits):
    /// each source row the picture needs is resized horizontally once (`rows`), then each
    /// output row blends two such rows, a loop over contiguous floats that vectorises.
    pub fn run_into(&mut self, frame: &RgbFrame, out: &mut [f32]) {
        let (dw, dh) = (self.spec.width as usize, self.spec.height as usize);
        let key = (frame.width, frame.height);
        if self.cached.as_ref().map(|c| (c.0.frame_w, c.0.frame_h)) != Some(key) {
            let g = self.geometry(frame.width, frame.height);
            self.cached = Some((
                g,
                axis(frame.width, g.content_w),
                axis(frame.height, g.content_h),
            ));
        }
        // A new frame: the cached rows belong to the previous one.
        for r in &mut self.rows {
            r.0 = None;
        }
        let pad = self.pad_value();
        let (g, ax, ay) = self.cached.as_ref().expect("just set");
        let plane = dw * dh;
        assert_eq!(out.len(), plane * 3, "preprocess output buffer size");
        // Output channel c takes source channel src_c[c].
        let src_c = match self.spec.channel_order {
            ChannelOrder::Rgb => [0usize, 1, 2],
            ChannelOrder::Bgr => [2usize, 1, 0],
        };
        let mul: [f32; 3] = std::array::from_fn(|c| self.spec.scale / self.spec.std[c]);
        let add: [f32; 3] = std::array::from_fn(|c| -self.spec.mean[c] / self.spec.std[c]);
        let (x0, x1) = (g.offset_x as usize, (g.offset_x + g.content_w) as usize);
        let (y0, y1) = (g.offset_y as usize, (g.offset_y + g.content_h) as usize);
        let cw = x1 - x0;
        let stride = frame.width as usize * 3;
        let data = &frame.data;
        // One source row resized horizontally into `dst` (3 planes of `cw`).
        let resize_row = |src_row: usize, dst: &mut Vec<f32>| {
            dst.resize(3 * cw, 0.0);
            let line = &data[src_row * stride..(src_row + 1) * stride];
            let (h0, rest) = dst.split_at_mut(cw);
            let (h1, h2) = rest.split_at_mut(cw);
            for (sx, ((o0, o1), o2)) in h0.iter_mut().zip(h1.iter_mut()).zip(h2).enumerate() {
                let (lo, hi, wx) = (ax.lo[sx] * 3, ax.hi[sx] * 3, ax.w_hi[sx]);
                let a = &line[lo..lo + 3];
                let b = &line[hi..hi + 3];
                let h = |k: usize| a[k] as f32 * (1.0 - wx) + b[k] as f32 * wx;
                *o0 = h(src_c[0]);
                *o1 = h(src_c[1]);
                *o2 = h(src_c[2]);
            }
        };
        let (c0, rest) = out.split_at_mut(plane);
        let (c1, c2) = rest.split_at_mut(plane);
        for y in 0..dh {
            let row = y * dw..(y + 1) * dw;
            let (r0, r1, r2) = (&mut c0[row.clone()], &mut c1[row.clone()], &mut c2[row]);
            if y < y0 || y >= y1 {
                r0.fill(pad[0]);
                r1.fill(pad[1]);
                r2.fill(pad[2]);
                continue;
            }
            for (r, p) in [(&mut *r0, pad[0]), (&mut *r1, pad[1]), (&mut *r2, pad[2])] {
                r[..x0].fill(p);
                r[x1..].fill(p);
            }
            let sy = y - y0;
            let (lo, hi, wy) = (ay.lo[sy], ay.hi[sy], ay.w_hi[sy]);
            // Slot 0 holds the top row, slot 1 the bottom one; the previous output row's
            // bottom row is often this one's top row, and is moved rather than recomputed.
            if self.rows[0].0 != Some(lo) {
                if self.rows[1].0 == Some(lo) {
                    self.rows.swap(0, 1);
                } else {
                    resize_row(lo, &mut self.rows[0].1);
                    self.rows[0].0 = Some(lo);
                }
            }
            if self.rows[1].0 != Some(hi) {
                resize_row(hi, &mut self.rows[1].1);
                self.rows[1].0 = Some(hi);
            }
            let top = &self.rows[0].1;
            let bot = &self.rows[1].1;
            for (c, r) in [(0usize, &mut *r0), (1, &mut *r1), (2, &mut *r2)] {
                let (t, b) = (&top[c * cw..(c + 1) * cw], &bot[c * cw..(c + 1) * cw]);
                let (m, a) = (mul[c], add[c]);
                for ((o, t), b) in r[x0..x1].iter_mut().zip(t).zip(b) {
                    *o = (t * (1.0 - wy) + b * wy) * m + a;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_policy::Resize;

    fn spec(order: ChannelOrder) -> PreprocessSpec {
        PreprocessSpec {
            width: 4,
            height: 2,
            resize: Resize::Stretch,
            channel_order: order,
            scale: 1.0,
            mean: [10.0, 20.0, 30.0],
            std: [2.0, 4.0, 5.0],
        }
    }

    #[test]
    fn solid_frame_is_normalised_per_channel_in_bgr_order() {
        let mut p = Preprocessor::new(spec(ChannelOrder::Bgr));
        let mut out = Vec::new();
        p.run(&RgbFrame::solid(13, 7, [100, 60, 40], 0), &mut out);
        assert_eq!(out.len(), 3 * 8);
        // Channel 0 is blue: (40 - 10) / 2.
        assert!(out[..8].iter().all(|v| (*v - 15.0).abs() < 1e-4), "{out:?}");
        assert!(out[8..16].iter().all(|v| (*v - 10.0).abs() < 1e-4));
        assert!(out[16..].iter().all(|v| (*v - 14.0).abs() < 1e-4));
    }

    #[test]
    fn resize_keeps_left_and_right_halves_apart() {
        // Left half black, right half white, 8x2 -> 4x2.
        let mut f = RgbFrame::solid(8, 2, [0, 0, 0], 0);
        f.fill_rect(4, 0, 4, 2, [255, 255, 255]);
        let mut s = spec(ChannelOrder::Rgb);
        s.mean = [0.0; 3];
        s.std = [1.0; 3];
        let mut p = Preprocessor::new(s);
        let mut out = Vec::new();
        p.run(&f, &mut out);
        assert_eq!(&out[0..4], &[0.0, 0.0, 255.0, 255.0]);
    }

    /// The one-pass formula [`Preprocessor::run_into`] must reproduce bit for bit.
    fn reference(p: &mut Preprocessor, frame: &RgbFrame) -> Vec<f32> {
        let spec = p.spec;
        let (dw, dh) = (spec.width as usize, spec.height as usize);
        let g = p.geometry(frame.width, frame.height);
        let (ax, ay) = (
            axis(frame.width, g.content_w),
            axis(frame.height, g.content_h),
        );
        let pad = p.pad_value();
        let src_c = match spec.channel_order {
            ChannelOrder::Rgb => [0usize, 1, 2],
            ChannelOrder::Bgr => [2usize, 1, 0],
        };
        let mul: [f32; 3] = std::array::from_fn(|c| spec.scale / spec.std[c]);
        let add: [f32; 3] = std::array::from_fn(|c| -spec.mean[c] / spec.std[c]);
        let (x0, x1) = (g.offset_x as usize, (g.offset_x + g.content_w) as usize);
        let (y0, y1) = (g.offset_y as usize, (g.offset_y + g.content_h) as usize);
        let stride = frame.width as usize * 3;
        let data = &frame.data;
        let mut out = vec![0f32; 3 * dw * dh];
        for c in 0..3 {
            for y in 0..dh {
                for x in 0..dw {
                    let v = if y < y0 || y >= y1 || x < x0 || x >= x1 {
                        pad[c]
                    } else {
                        let (sx, sy) = (x - x0, y - y0);
                        let (s0, s1) = (ay.lo[sy] * stride, ay.hi[sy] * stride);
                        let wy = ay.w_hi[sy];
                        let (p00, p01) = (s0 + ax.lo[sx] * 3, s0 + ax.hi[sx] * 3);
                        let (p10, p11) = (s1 + ax.lo[sx] * 3, s1 + ax.hi[sx] * 3);
                        let wx = ax.w_hi[sx];
                        let k = src_c[c];
                        let top = data[p00 + k] as f32 * (1.0 - wx) + data[p01 + k] as f32 * wx;
                        let bot = data[p10 + k] as f32 * (1.0 - wx) + data[p11 + k] as f32 * wx;
                        (top * (1.0 - wy) + bot * wy) * mul[c] + add[c]
                    };
                    out[c * dw * dh + y * dw + x] = v;
                }
            }
        }
        out
    }

    #[test]
    fn two_pass_resize_gives_the_bits_of_the_one_pass_formula() {
        // Down- and upscaling, letterbox and stretch, both channel orders, frames of
        // several sizes one after the other through the same preprocessor (row cache and
        // tables renewed), pseudo-random pixels.
        let mut seed = 0x9e37_79b9_u32;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (seed >> 24) as u8
        };
        let nanodet = vigie_policy::ids::NANODET_COCO_512X288.spec().preprocess;
        let specs = [
            nanodet,
            vigie_policy::ids::NANODET_COCO_416.spec().preprocess,
            spec(ChannelOrder::Rgb),
            lb_spec(64, 48),
        ];
        for s in specs {
            let mut p = Preprocessor::new(s);
            for &(w, h) in &[
                (640, 360),
                (640, 480),
                (97, 31),
                (3, 200),
                (1, 1),
                (640, 360),
            ] {
                let f = RgbFrame::painted(w, h, 0, |_, _| [next(), next(), next()]);
                let mut out = Vec::new();
                p.run(&f, &mut out);
                let want = reference(&mut p, &f);
                assert_eq!(out.len(), want.len());
                let same = out
                    .iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "{w}x{h} into {}x{}", s.width, s.height);
            }
        }
    }

    fn lb_spec(w: u32, h: u32) -> PreprocessSpec {
        PreprocessSpec {
            width: w,
            height: h,
            resize: Resize::Letterbox,
            channel_order: ChannelOrder::Bgr,
            scale: 1.0,
            mean: [103.53, 116.28, 123.675],
            std: [57.375, 57.12, 58.395],
        }
    }

    fn bbox(x: f32, y: f32, w: f32, h: f32) -> BBox {
        BBox { x, y, w, h }
    }

    fn assert_close(a: BBox, b: BBox) {
        let d = [a.x - b.x, a.y - b.y, a.w - b.w, a.h - b.h];
        assert!(
            d.iter().all(|v| v.abs() < 1e-3),
            "{a:?} != {b:?} (difference {d:?})"
        );
    }

    #[test]
    fn nanodet_is_letterboxed_by_its_manifest_entry() {
        let spec = vigie_policy::ids::NANODET_COCO_416.spec().preprocess;
        assert_eq!(spec.resize, Resize::Letterbox);
        assert_eq!((spec.width, spec.height), (416, 416));
    }

    #[test]
    fn letterbox_layout_for_common_frame_shapes() {
        let g = |w, h| {
            let g = Geometry::new(Resize::Letterbox, 416, 416, w, h);
            (g.offset_x, g.offset_y, g.content_w, g.content_h)
        };
        // 16:9: 416 x 234, centred vertically (182 padding rows, 91 above).
        assert_eq!(g(1920, 1080), (0, 91, 416, 234));
        assert_eq!(g(1280, 720), (0, 91, 416, 234));
        // 4:3: 416 x 312.
        assert_eq!(g(640, 480), (0, 52, 416, 312));
        // Portrait 9:16: 234 x 416, centred horizontally.
        assert_eq!(g(1080, 1920), (91, 0, 234, 416));
        // Square: no padding.
        assert_eq!(g(500, 500), (0, 0, 416, 416));
        // Stretch fills the input whatever the shape.
        let s = Geometry::new(Resize::Stretch, 416, 416, 1920, 1080);
        assert_eq!(
            (s.offset_x, s.offset_y, s.content_w, s.content_h),
            (0, 0, 416, 416)
        );
    }

    #[test]
    fn letterbox_into_a_non_square_input() {
        // A 512x288 input (doc/models.md, "Detector input size"): a 16:9 frame fills it, a
        // 4:3 one is pillarboxed.
        let g = |w, h| {
            let g = Geometry::new(Resize::Letterbox, 512, 288, w, h);
            (g.offset_x, g.offset_y, g.content_w, g.content_h)
        };
        assert_eq!(g(1920, 1080), (0, 0, 512, 288));
        assert_eq!(g(1280, 720), (0, 0, 512, 288));
        assert_eq!(g(640, 480), (64, 0, 384, 288));
        assert_eq!(g(1080, 1920), (175, 0, 162, 288));
    }

    #[test]
    fn input_boxes_map_to_the_expected_frame_pixels() {
        let cases = [
            // (frame w, h, box in input pixels, expected box in frame pixels)
            (
                1920,
                1080,
                bbox(104.0, 143.0, 208.0, 117.0),
                bbox(480.0, 240.0, 960.0, 540.0),
            ),
            (
                1920,
                1080,
                bbox(0.0, 91.0, 416.0, 234.0),
                bbox(0.0, 0.0, 1920.0, 1080.0),
            ),
            (
                640,
                480,
                bbox(65.0, 117.0, 130.0, 195.0),
                bbox(100.0, 100.0, 200.0, 300.0),
            ),
            (
                1080,
                1920,
                bbox(91.0 + 52.0, 104.0, 117.0, 208.0),
                bbox(240.0, 480.0, 540.0, 960.0),
            ),
            (
                500,
                500,
                bbox(41.6, 83.2, 83.2, 166.4),
                bbox(50.0, 100.0, 100.0, 200.0),
            ),
        ];
        for (w, h, input, want) in cases {
            let g = Geometry::new(Resize::Letterbox, 416, 416, w, h);
            assert_close(g.to_frame(input), want);
            assert_close(g.to_input(want), input);
        }
    }

    #[test]
    fn boxes_of_the_512x288_model_map_to_frame_pixels_exactly() {
        // The geometry of the allowlisted wide model, from its manifest entry.
        let spec = vigie_policy::ids::NANODET_COCO_512X288.spec().preprocess;
        assert_eq!(
            (spec.resize, spec.width, spec.height),
            (Resize::Letterbox, 512, 288)
        );
        let cases = [
            // 1920x1080: scale 512 / 1920 = 4/15, no padding.
            (
                1920,
                1080,
                bbox(128.0, 64.0, 64.0, 96.0),
                bbox(480.0, 240.0, 240.0, 360.0),
            ),
            (
                1920,
                1080,
                bbox(0.0, 0.0, 512.0, 288.0),
                bbox(0.0, 0.0, 1920.0, 1080.0),
            ),
            // 1280x720: scale 0.4.
            (
                1280,
                720,
                bbox(200.0, 100.0, 40.0, 80.0),
                bbox(500.0, 250.0, 100.0, 200.0),
            ),
            // 640x480 forced into 512x288: scale 0.6, pillarboxed 64 px left and right.
            (
                640,
                480,
                bbox(64.0 + 60.0, 30.0, 120.0, 180.0),
                bbox(100.0, 50.0, 200.0, 300.0),
            ),
            // 2560x1080 (2.37:1): scale 0.2, letterboxed 36 rows above and below.
            (
                2560,
                1080,
                bbox(100.0, 36.0 + 20.0, 50.0, 100.0),
                bbox(500.0, 100.0, 250.0, 500.0),
            ),
        ];
        for (w, h, input, want) in cases {
            let g = Geometry::new(spec.resize, spec.width, spec.height, w, h);
            assert_close(g.to_frame(input), want);
            assert_close(g.to_input(want), input);
        }
        let g = |w, h| {
            let g = Geometry::new(spec.resize, spec.width, spec.height, w, h);
            (g.offset_x, g.offset_y, g.content_w, g.content_h)
        };
        assert_eq!(g(2560, 1080), (0, 36, 512, 216));
        // 1366x768 (odd 16:9): scale 512 / 1366, 768 rows become 287.86 -> 288.
        assert_eq!(g(1366, 768), (0, 0, 512, 288));
        // A box in the side padding of a pillarboxed frame is empty once in the frame.
        let b =
            Geometry::new(spec.resize, 512, 288, 640, 480).to_frame(bbox(10.0, 10.0, 40.0, 40.0));
        assert_eq!((b.x, b.w), (0.0, 0.0));
    }

    #[test]
    fn boxes_of_the_416x352_model_map_to_frame_pixels_exactly() {
        // The geometry of the allowlisted landscape model, from its manifest entry.
        let spec = vigie_policy::ids::NANODET_COCO_416X352.spec().preprocess;
        assert_eq!(
            (spec.resize, spec.width, spec.height),
            (Resize::Letterbox, 416, 352)
        );
        let cases = [
            // 640x480 (TUD): scale 0.65, 312 rows, 20 rows of padding above and below.
            (
                640,
                480,
                bbox(65.0, 20.0 + 13.0, 130.0, 195.0),
                bbox(100.0, 20.0, 200.0, 300.0),
            ),
            // 768x576 (vtest.avi): scale 416 / 768, 312 rows, 20 above.
            (
                768,
                576,
                bbox(104.0, 20.0 + 52.0, 52.0, 104.0),
                bbox(192.0, 96.0, 96.0, 192.0),
            ),
            // 720x576 (PAL as coded): scale 416 / 720, 332.8 -> 333 rows, 9 above.
            (
                720,
                576,
                bbox(0.0, 9.0, 416.0, 333.0),
                bbox(0.0, 0.0, 720.0, 576.0),
            ),
        ];
        for (w, h, input, want) in cases {
            let g = Geometry::new(spec.resize, spec.width, spec.height, w, h);
            assert_close(g.to_frame(input), want);
            assert_close(g.to_input(want), input);
        }
        // The picture lies where it lies in the square, 32 rows higher.
        for (w, h) in [(640, 480), (768, 576), (720, 576), (704, 576), (1080, 720)] {
            let sq = Geometry::new(Resize::Letterbox, 416, 416, w, h);
            let g = Geometry::new(spec.resize, spec.width, spec.height, w, h);
            assert_eq!(
                (g.offset_x, g.offset_y + 32, g.content_w, g.content_h),
                (sq.offset_x, sq.offset_y, sq.content_w, sq.content_h),
                "{w}x{h}"
            );
        }
    }

    #[test]
    fn boxes_reaching_into_the_padding_are_clipped_to_the_frame() {
        let g = Geometry::new(Resize::Letterbox, 416, 416, 1920, 1080);
        // The whole input square is the whole frame.
        assert_close(
            g.to_frame(bbox(0.0, 0.0, 416.0, 416.0)),
            bbox(0.0, 0.0, 1920.0, 1080.0),
        );
        // A box from the top padding into the picture keeps only its part in the picture.
        assert_close(
            g.to_frame(bbox(13.0, 50.0, 26.0, 54.0)),
            bbox(60.0, 0.0, 120.0, 60.0),
        );
        // A box wholly in the bottom padding is empty.
        let b = g.to_frame(bbox(10.0, 330.0, 20.0, 20.0));
        assert_eq!((b.y, b.h), (1080.0, 0.0));
    }

    #[test]
    fn frame_to_input_to_frame_round_trips() {
        let mut seed = 12345u32;
        let mut next = |max: f32| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 * max
        };
        for (w, h) in [
            (1920, 1080),
            (1280, 720),
            (640, 480),
            (1080, 1920),
            (500, 500),
            (719, 401),
        ] {
            for resize in [Resize::Letterbox, Resize::Stretch] {
                let g = Geometry::new(resize, 416, 416, w, h);
                for _ in 0..200 {
                    let (x, y) = (next(w as f32 - 1.0), next(h as f32 - 1.0));
                    let b = bbox(x, y, next(w as f32 - x), next(h as f32 - y));
                    let back = g.to_frame(g.to_input(b));
                    assert_close(back, b);
                    let i = g.to_input(b);
                    assert!(i.x >= g.offset_x as f32 - 1e-3 && i.y >= g.offset_y as f32 - 1e-3);
                    assert!(i.x + i.w <= (g.offset_x + g.content_w) as f32 + 1e-3);
                    assert!(i.y + i.h <= (g.offset_y + g.content_h) as f32 + 1e-3);
                }
            }
        }
    }

    /// Every value of channel `c` in input rows `rows`, columns `cols`.
    fn region(
        out: &[f32],
        w: usize,
        h: usize,
        c: usize,
        rows: std::ops::Range<usize>,
        cols: std::ops::Range<usize>,
    ) -> Vec<f32> {
        let plane = &out[c * w * h..(c + 1) * w * h];
        rows.flat_map(|y| cols.clone().map(move |x| plane[y * w + x]))
            .collect()
    }

    #[test]
    fn the_padding_is_black_after_normalisation_and_the_picture_fills_the_rest() {
        // A white 16:9 frame into a 16 x 16 input: picture 16 x 9 at rows 3..12.
        let mut p = Preprocessor::new(lb_spec(16, 16));
        let mut out = Vec::new();
        p.run(&RgbFrame::solid(32, 18, [255, 255, 255], 0), &mut out);
        let pad = p.pad_value();
        for (c, &pad_c) in pad.iter().enumerate() {
            let black = (0.0 - lb_spec(1, 1).mean[c]) / lb_spec(1, 1).std[c];
            assert_eq!(pad_c, black);
            let white = (255.0 - lb_spec(1, 1).mean[c]) / lb_spec(1, 1).std[c];
            for v in region(&out, 16, 16, c, 0..3, 0..16)
                .into_iter()
                .chain(region(&out, 16, 16, c, 12..16, 0..16))
            {
                assert_eq!(v, pad_c);
            }
            for v in region(&out, 16, 16, c, 3..12, 0..16) {
                assert!((v - white).abs() < 1e-5, "{v} vs {white}");
            }
        }
        // Portrait: picture 9 x 16 at columns 3..12, padding left and right.
        let mut p = Preprocessor::new(lb_spec(16, 16));
        p.run(&RgbFrame::solid(18, 32, [255, 255, 255], 0), &mut out);
        for (c, &pad_c) in pad.iter().enumerate() {
            for v in region(&out, 16, 16, c, 0..16, 0..3)
                .into_iter()
                .chain(region(&out, 16, 16, c, 0..16, 12..16))
            {
                assert_eq!(v, pad_c);
            }
            assert!(region(&out, 16, 16, c, 0..16, 3..12)
                .iter()
                .all(|v| *v != pad_c));
        }
    }

    #[test]
    fn letterboxed_picture_is_placed_to_the_pixel() {
        // 32 x 18 frame, left half black, right half white, into 16 x 16: the picture is
        // halved, so input column 7 is black and 8 is white, rows 3..12 only.
        let mut f = RgbFrame::solid(32, 18, [0, 0, 0], 0);
        f.fill_rect(16, 0, 16, 18, [255, 255, 255]);
        let mut s = lb_spec(16, 16);
        s.mean = [0.0; 3];
        s.std = [1.0; 3];
        let mut p = Preprocessor::new(s);
        let mut out = Vec::new();
        p.run(&f, &mut out);
        assert_eq!(region(&out, 16, 16, 0, 3..12, 0..8), vec![0.0; 72]);
        assert_eq!(region(&out, 16, 16, 0, 3..12, 8..16), vec![255.0; 72]);
        // Padding (black, mean 0): 0 everywhere outside rows 3..12.
        assert_eq!(region(&out, 16, 16, 1, 0..3, 8..16), vec![0.0; 24]);
        assert_eq!(region(&out, 16, 16, 1, 12..16, 8..16), vec![0.0; 32]);
        // Every value is written (a reused batch buffer keeps no stale values).
        out.fill(7.0);
        p.run_into(&RgbFrame::solid(18, 32, [255, 255, 255], 0), &mut out);
        assert_eq!(region(&out, 16, 16, 2, 0..16, 0..3), vec![0.0; 48]);
        assert_eq!(region(&out, 16, 16, 2, 0..16, 12..16), vec![0.0; 64]);
        assert!(out.iter().all(|v| *v == 0.0 || *v == 255.0));
    }
}
