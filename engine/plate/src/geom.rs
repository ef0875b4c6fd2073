//! Image geometry for plates: bilinear sampling, resizing into a network tensor, the
//! minimum-area rectangle of a pixel blob, and the perspective warp that rectifies a
//! tilted plate into an upright strip for the recogniser.
//!
//! Hand-written because it is small and specific: the crates that offer a warp
//! (`imageproc`) or a min-area rectangle (`geo`) would each bring a large dependency tree
//! for ~150 lines, and here the warp writes straight into the recogniser's NCHW tensor.

/// A borrowed packed RGB24 image.
#[derive(Debug, Clone, Copy)]
pub struct RgbView<'a> {
    pub data: &'a [u8],
    pub width: u32,
    pub height: u32,
}

impl<'a> RgbView<'a> {
    /// Check that `data` holds `width * height * 3` bytes and the image is not empty.
    pub fn new(data: &'a [u8], width: u32, height: u32) -> Option<Self> {
        (width > 0 && height > 0 && data.len() == width as usize * height as usize * 3).then_some(
            RgbView {
                data,
                width,
                height,
            },
        )
    }

    /// Bilinear sample at (x, y) (pixel centres at integer + 0.5 are at integer here:
    /// `x = 0` is the centre of the first column); clamped at the borders.
    #[inline]
    pub fn sample(&self, x: f32, y: f32) -> [f32; 3] {
        let w = self.width as usize;
        let h = self.height as usize;
        let x = x.clamp(0.0, (w - 1) as f32);
        let y = y.clamp(0.0, (h - 1) as f32);
        let x0 = x.floor() as usize;
        let y0 = y.floor() as usize;
        let x1 = (x0 + 1).min(w - 1);
        let y1 = (y0 + 1).min(h - 1);
        let fx = x - x0 as f32;
        let fy = y - y0 as f32;
        let px = |xx: usize, yy: usize, c: usize| self.data[(yy * w + xx) * 3 + c] as f32;
        std::array::from_fn(|c| {
            let top = px(x0, y0, c) * (1.0 - fx) + px(x1, y0, c) * fx;
            let bot = px(x0, y1, c) * (1.0 - fx) + px(x1, y1, c) * fx;
            top * (1.0 - fy) + bot * fy
        })
    }

    /// Copy of the axis-aligned region `(x, y, w, h)` (clamped to the image).
    pub fn crop(&self, x: u32, y: u32, w: u32, h: u32) -> (Vec<u8>, u32, u32) {
        let x = x.min(self.width - 1);
        let y = y.min(self.height - 1);
        let w = w.min(self.width - x).max(1);
        let h = h.min(self.height - y).max(1);
        let mut out = Vec::with_capacity((w * h * 3) as usize);
        for row in y..y + h {
            let start = ((row * self.width + x) * 3) as usize;
            out.extend_from_slice(&self.data[start..start + (w * 3) as usize]);
        }
        (out, w, h)
    }
}

/// Per-channel normalisation `(pixel * scale - mean) / std`, in BGR or RGB order.
#[derive(Debug, Clone, Copy)]
pub struct Normalise {
    pub bgr: bool,
    pub scale: f32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl Normalise {
    #[inline]
    fn write(&self, rgb: [f32; 3], out: &mut [f32], plane: usize, i: usize) {
        for c in 0..3 {
            let src = if self.bgr { 2 - c } else { c };
            out[c * plane + i] = (rgb[src] * self.scale - self.mean[c]) / self.std[c];
        }
    }
}

/// Resize `img` to `dw x dh` (bilinear, pixel-centre aligned) into one NCHW item.
pub fn resize_into(img: &RgbView, dw: u32, dh: u32, norm: &Normalise, out: &mut [f32]) {
    let plane = (dw * dh) as usize;
    debug_assert_eq!(out.len(), plane * 3);
    let sx = img.width as f32 / dw as f32;
    let sy = img.height as f32 / dh as f32;
    for y in 0..dh {
        let fy = (y as f32 + 0.5) * sy - 0.5;
        for x in 0..dw {
            let fx = (x as f32 + 0.5) * sx - 0.5;
            let i = (y * dw + x) as usize;
            norm.write(img.sample(fx, fy), out, plane, i);
        }
    }
}

/// A point in image pixels.
pub type Pt = (f32, f32);

/// The homography mapping the unit-free destination rectangle `(0,0)-(w,h)` corners
/// (tl, tr, br, bl) onto `src` corners; returns the 3x3 matrix (row-major, h33 = 1).
pub fn homography(dst: [Pt; 4], src: [Pt; 4]) -> Option<[f32; 9]> {
    // Solve the 8x8 system A h = b for h11..h32, mapping dst -> src.
    let mut a = [[0f64; 9]; 8];
    for k in 0..4 {
        let (x, y) = (dst[k].0 as f64, dst[k].1 as f64);
        let (u, v) = (src[k].0 as f64, src[k].1 as f64);
        a[2 * k] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * k + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    // Gaussian elimination with partial pivoting.
    #[allow(clippy::needless_range_loop)]
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-9 {
            return None;
        }
        a.swap(col, pivot);
        for row in 0..8 {
            if row != col {
                let f = a[row][col] / a[col][col];
                for k in col..9 {
                    a[row][k] -= f * a[col][k];
                }
            }
        }
    }
    let h: [f64; 8] = std::array::from_fn(|i| a[i][8] / a[i][i]);
    Some([
        h[0] as f32,
        h[1] as f32,
        h[2] as f32,
        h[3] as f32,
        h[4] as f32,
        h[5] as f32,
        h[6] as f32,
        h[7] as f32,
        1.0,
    ])
}

#[inline]
fn apply(m: &[f32; 9], x: f32, y: f32) -> Pt {
    let d = m[6] * x + m[7] * y + m[8];
    (
        (m[0] * x + m[1] * y + m[2]) / d,
        (m[3] * x + m[4] * y + m[5]) / d,
    )
}

/// Warp the quadrilateral `corners` (tl, tr, br, bl) of `img` into an upright `dw x dh`
/// RGB24 strip (bilinear). `None` if the corners are degenerate.
pub fn warp_quad(img: &RgbView, corners: [Pt; 4], dw: u32, dh: u32) -> Option<Vec<u8>> {
    let (w, h) = (dw as f32, dh as f32);
    // Destination pixel centres map to the quad spanned by the corner points.
    let m = homography([(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)], corners)?;
    let mut out = Vec::with_capacity((dw * dh * 3) as usize);
    for y in 0..dh {
        for x in 0..dw {
            let (sx, sy) = apply(&m, x as f32 + 0.5, y as f32 + 0.5);
            let p = img.sample(sx - 0.5, sy - 0.5);
            out.extend(p.iter().map(|v| v.round().clamp(0.0, 255.0) as u8));
        }
    }
    Some(out)
}

/// A rotated rectangle: centre, size and angle (radians; `w` is along the angle).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotRect {
    pub cx: f32,
    pub cy: f32,
    pub w: f32,
    pub h: f32,
    pub angle_rad: f32,
}

impl RotRect {
    /// Corners tl, tr, br, bl, with the long side horizontal-ish and the angle folded
    /// into (-45°, 45°] so a plate is read left to right.
    pub fn corners(&self) -> [Pt; 4] {
        let (s, c) = self.angle_rad.sin_cos();
        let (hw, hh) = (self.w / 2.0, self.h / 2.0);
        let p = |dx: f32, dy: f32| (self.cx + dx * c - dy * s, self.cy + dx * s + dy * c);
        [p(-hw, -hh), p(hw, -hh), p(hw, hh), p(-hw, hh)]
    }

    /// Grow each side by `d` pixels.
    pub fn grown(&self, d: f32) -> RotRect {
        RotRect {
            w: self.w + 2.0 * d,
            h: self.h + 2.0 * d,
            ..*self
        }
    }
}

fn cross(o: Pt, a: Pt, b: Pt) -> f32 {
    (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
}

/// Convex hull (Andrew's monotone chain), counter-clockwise, no repeated end point.
pub fn convex_hull(mut pts: Vec<Pt>) -> Vec<Pt> {
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let mut hull: Vec<Pt> = Vec::with_capacity(pts.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &Pt>> = if pass == 0 {
            Box::new(pts.iter())
        } else {
            Box::new(pts.iter().rev())
        };
        for &p in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

/// The minimum-area rectangle enclosing `pts` (rotating an edge of the convex hull).
pub fn min_area_rect(pts: Vec<Pt>) -> Option<RotRect> {
    let hull = convex_hull(pts);
    if hull.is_empty() {
        return None;
    }
    if hull.len() < 3 {
        let (a, b) = (hull[0], *hull.last().expect("non-empty"));
        return Some(RotRect {
            cx: (a.0 + b.0) / 2.0,
            cy: (a.1 + b.1) / 2.0,
            w: ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt(),
            h: 0.0,
            angle_rad: (b.1 - a.1).atan2(b.0 - a.0),
        });
    }
    let mut best: Option<(f32, RotRect)> = None;
    for i in 0..hull.len() {
        let (a, b) = (hull[i], hull[(i + 1) % hull.len()]);
        let angle = (b.1 - a.1).atan2(b.0 - a.0);
        let (s, c) = angle.sin_cos();
        let (mut u0, mut u1, mut v0, mut v1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in &hull {
            let u = p.0 * c + p.1 * s;
            let v = -p.0 * s + p.1 * c;
            u0 = u0.min(u);
            u1 = u1.max(u);
            v0 = v0.min(v);
            v1 = v1.max(v);
        }
        let area = (u1 - u0) * (v1 - v0);
        if best.as_ref().is_none_or(|(ba, _)| area < *ba) {
            let (cu, cv) = ((u0 + u1) / 2.0, (v0 + v1) / 2.0);
            best = Some((
                area,
                RotRect {
                    cx: cu * c - cv * s,
                    cy: cu * s + cv * c,
                    w: u1 - u0,
                    h: v1 - v0,
                    angle_rad: angle,
                },
            ));
        }
    }
    best.map(|(_, r)| upright(r))
}

/// Make `w` the long side and fold the angle into (-45°, 45°]... for text, into
/// (-90°, 90°) with the long side along the angle.
fn upright(mut r: RotRect) -> RotRect {
    use std::f32::consts::{FRAC_PI_2, PI};
    if r.h > r.w {
        std::mem::swap(&mut r.w, &mut r.h);
        r.angle_rad += FRAC_PI_2;
    }
    while r.angle_rad > FRAC_PI_2 {
        r.angle_rad -= PI;
    }
    while r.angle_rad <= -FRAC_PI_2 {
        r.angle_rad += PI;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_area_rect_of_a_rotated_rectangle() {
        let r = RotRect {
            cx: 50.0,
            cy: 40.0,
            w: 60.0,
            h: 14.0,
            angle_rad: 0.2,
        };
        let mut pts = Vec::new();
        // Points filling the rectangle.
        for i in 0..=30 {
            for j in 0..=7 {
                let (dx, dy) = (-30.0 + 2.0 * i as f32, -7.0 + 2.0 * j as f32);
                let (s, c) = r.angle_rad.sin_cos();
                pts.push((r.cx + dx * c - dy * s, r.cy + dx * s + dy * c));
            }
        }
        let got = min_area_rect(pts).unwrap();
        assert!((got.w - 60.0).abs() < 0.5, "{got:?}");
        assert!((got.h - 14.0).abs() < 0.5, "{got:?}");
        assert!((got.angle_rad - 0.2).abs() < 0.01, "{got:?}");
        assert!((got.cx - 50.0).abs() < 0.5 && (got.cy - 40.0).abs() < 0.5);
        let c = got.corners();
        assert!(c[0].0 < c[1].0 && c[0].1 < c[3].1, "tl, tr, br, bl: {c:?}");
    }

    #[test]
    fn a_vertical_blob_is_turned_to_a_long_horizontal_side() {
        let pts: Vec<Pt> = (0..40)
            .flat_map(|y| (0..8).map(move |x| (x as f32, y as f32)))
            .collect();
        let r = min_area_rect(pts).unwrap();
        assert!(r.w > r.h);
        assert!((r.angle_rad.abs() - std::f32::consts::FRAC_PI_2).abs() < 1e-3);
    }

    #[test]
    fn warp_of_the_whole_image_is_the_image() {
        let (w, h) = (16u32, 8u32);
        let data: Vec<u8> = (0..w * h * 3).map(|i| (i * 7 % 251) as u8).collect();
        let img = RgbView::new(&data, w, h).unwrap();
        let corners = [
            (0.0, 0.0),
            (w as f32, 0.0),
            (w as f32, h as f32),
            (0.0, h as f32),
        ];
        let out = warp_quad(&img, corners, w, h).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn homography_maps_corners() {
        let dst = [(0.0, 0.0), (100.0, 0.0), (100.0, 20.0), (0.0, 20.0)];
        let src = [(10.0, 5.0), (120.0, 15.0), (118.0, 40.0), (8.0, 28.0)];
        let m = homography(dst, src).unwrap();
        for k in 0..4 {
            let p = apply(&m, dst[k].0, dst[k].1);
            assert!((p.0 - src[k].0).abs() < 1e-3 && (p.1 - src[k].1).abs() < 1e-3);
        }
        assert!(homography(dst, [(0.0, 0.0); 4]).is_none());
    }
}
