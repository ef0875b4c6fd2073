//! Frame -> network input: plain (aspect-distorting) bilinear resize, channel reorder,
//! `(pixel * scale - mean) / std`, NCHW f32; all parameters from the model's manifest entry.
//!
//! The resize samples at pixel centres (like OpenCV's `INTER_LINEAR`, which NanoDet's
//! training pipeline uses), so boxes map back to the frame with a plain scale.

use vigie_core::RgbFrame;
use vigie_policy::{ChannelOrder, PreprocessSpec};

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
    cached: Option<((u32, u32), Axis, Axis)>,
}

impl Preprocessor {
    pub fn new(spec: PreprocessSpec) -> Self {
        Preprocessor { spec, cached: None }
    }

    /// Network input size (width, height).
    pub fn input_size(&self) -> (u32, u32) {
        (self.spec.width, self.spec.height)
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
    /// `3 * width * height` values (one item of a batch).
    pub fn run_into(&mut self, frame: &RgbFrame, out: &mut [f32]) {
        let (dw, dh) = (self.spec.width, self.spec.height);
        let key = (frame.width, frame.height);
        if self.cached.as_ref().map(|c| c.0) != Some(key) {
            self.cached = Some((key, axis(frame.width, dw), axis(frame.height, dh)));
        }
        let (_, ax, ay) = self.cached.as_ref().expect("just set");
        let plane = (dw * dh) as usize;
        assert_eq!(out.len(), plane * 3, "preprocess output buffer size");
        // Output channel c takes source channel src_c[c].
        let src_c = match self.spec.channel_order {
            ChannelOrder::Rgb => [0usize, 1, 2],
            ChannelOrder::Bgr => [2usize, 1, 0],
        };
        let mul: [f32; 3] = std::array::from_fn(|c| self.spec.scale / self.spec.std[c]);
        let add: [f32; 3] = std::array::from_fn(|c| -self.spec.mean[c] / self.spec.std[c]);
        let stride = frame.width as usize * 3;
        let data = &frame.data;
        let (c0, rest) = out.split_at_mut(plane);
        let (c1, c2) = rest.split_at_mut(plane);
        for y in 0..dh as usize {
            let r0 = ay.lo[y] * stride;
            let r1 = ay.hi[y] * stride;
            let wy = ay.w_hi[y];
            for x in 0..dw as usize {
                let p00 = r0 + ax.lo[x] * 3;
                let p01 = r0 + ax.hi[x] * 3;
                let p10 = r1 + ax.lo[x] * 3;
                let p11 = r1 + ax.hi[x] * 3;
                let wx = ax.w_hi[x];
                let i = y * dw as usize + x;
                let px = |k: usize| {
                    let top = data[p00 + k] as f32 * (1.0 - wx) + data[p01 + k] as f32 * wx;
                    let bot = data[p10 + k] as f32 * (1.0 - wx) + data[p11 + k] as f32 * wx;
                    top * (1.0 - wy) + bot * wy
                };
                c0[i] = px(src_c[0]) * mul[0] + add[0];
                c1[i] = px(src_c[1]) * mul[1] + add[1];
                c2[i] = px(src_c[2]) * mul[2] + add[2];
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

    fn solid(w: u32, h: u32, rgb: [u8; 3]) -> RgbFrame {
        RgbFrame {
            index: 0,
            pts_ms: 0,
            wall_ms: None,
            is_keyframe: true,
            width: w,
            height: h,
            data: rgb
                .iter()
                .copied()
                .cycle()
                .take((w * h * 3) as usize)
                .collect(),
        }
    }

    #[test]
    fn solid_frame_is_normalised_per_channel_in_bgr_order() {
        let mut p = Preprocessor::new(spec(ChannelOrder::Bgr));
        let mut out = Vec::new();
        p.run(&solid(13, 7, [100, 60, 40]), &mut out);
        assert_eq!(out.len(), 3 * 8);
        // Channel 0 is blue: (40 - 10) / 2.
        assert!(out[..8].iter().all(|v| (*v - 15.0).abs() < 1e-4), "{out:?}");
        assert!(out[8..16].iter().all(|v| (*v - 10.0).abs() < 1e-4));
        assert!(out[16..].iter().all(|v| (*v - 14.0).abs() < 1e-4));
    }

    #[test]
    fn resize_keeps_left_and_right_halves_apart() {
        // Left half black, right half white, 8x2 -> 4x2.
        let mut f = solid(8, 2, [0, 0, 0]);
        for y in 0..2 {
            for x in 4..8 {
                let i = (y * 8 + x) * 3;
                f.data[i..i + 3].copy_from_slice(&[255, 255, 255]);
            }
        }
        let mut s = spec(ChannelOrder::Rgb);
        s.mean = [0.0; 3];
        s.std = [1.0; 3];
        let mut p = Preprocessor::new(s);
        let mut out = Vec::new();
        p.run(&f, &mut out);
        assert_eq!(&out[0..4], &[0.0, 0.0, 255.0, 255.0]);
    }
}
