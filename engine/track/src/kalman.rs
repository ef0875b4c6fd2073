//! Constant-velocity Kalman filter on (cx, cy, aspect, h), as in SORT and ByteTrack.
//!
//! The state is 8-dimensional: box centre `cx, cy`, aspect ratio `a = w / h`, height `h`,
//! and their velocities. Only the first four are measured (`H = [I 0]`). Noise is
//! proportional to the box height (ByteTrack's `std_weight_position = 1/20`,
//! `std_weight_velocity = 1/160`), so the filter behaves the same for a near and a far
//! object. Time is counted in *nominal frames* (`dt_frames = Δpts_ms / frame_interval_ms`)
//! so that sampled decoding (every n-th frame) or a variable frame rate predicts the right
//! distance; process noise grows linearly with `dt_frames`.
//!
//! The matrices are small fixed-size arrays: the structure (`F = I + dt·shift`, `H = [I 0]`)
//! keeps the algebra to a few loops and a 4x4 inverse, with no linear-algebra dependency.

// Matrix algebra reads best as index loops over rows and columns.
#![allow(clippy::needless_range_loop)]

use vigie_core::BBox;

type V8 = [f64; 8];
type M8 = [[f64; 8]; 8];
type M4 = [[f64; 4]; 4];

const STD_WEIGHT_POSITION: f64 = 1.0 / 20.0;
const STD_WEIGHT_VELOCITY: f64 = 1.0 / 160.0;
/// Smallest height kept in the state, so a shrinking prediction never inverts a box.
const MIN_H_PX: f64 = 1e-3;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Kalman {
    mean: V8,
    cov: M8,
}

/// (cx, cy, a, h) from a top-left/size box.
fn measure(b: &BBox) -> [f64; 4] {
    let w = b.w as f64;
    let h = b.h as f64;
    [b.x as f64 + w / 2.0, b.y as f64 + h / 2.0, w / h, h]
}

fn diag8(v: &V8) -> M8 {
    let mut m = [[0.0; 8]; 8];
    for i in 0..8 {
        m[i][i] = v[i];
    }
    m
}

/// Inverse of a symmetric positive-definite 4x4 matrix (Gauss-Jordan, partial pivoting).
fn inv4(a: &M4) -> Option<M4> {
    let mut m = *a;
    let mut inv = [[0.0; 4]; 4];
    for (i, row) in inv.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for col in 0..4 {
        let pivot = (col..4).max_by(|&x, &y| m[x][col].abs().total_cmp(&m[y][col].abs()))?;
        if m[pivot][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        inv.swap(col, pivot);
        let p = m[col][col];
        for j in 0..4 {
            m[col][j] /= p;
            inv[col][j] /= p;
        }
        for r in 0..4 {
            if r != col {
                let f = m[r][col];
                if f != 0.0 {
                    for j in 0..4 {
                        m[r][j] -= f * m[col][j];
                        inv[r][j] -= f * inv[col][j];
                    }
                }
            }
        }
    }
    Some(inv)
}

impl Kalman {
    /// A new track from its first detection: position known, velocity unknown.
    pub(crate) fn new(b: &BBox) -> Self {
        let z = measure(b);
        let h = z[3];
        let mut mean = [0.0; 8];
        mean[..4].copy_from_slice(&z);
        let p = 2.0 * STD_WEIGHT_POSITION * h;
        let v = 10.0 * STD_WEIGHT_VELOCITY * h;
        let std = [p, p, 1e-2, p, v, v, 1e-5, v];
        Kalman {
            mean,
            cov: diag8(&std.map(|s| s * s)),
        }
    }

    /// Move the state forward by `dt_frames` nominal frames. `freeze_height` zeroes the
    /// height velocity first (ByteTrack does this for tracks that are not currently seen,
    /// so a lost box does not grow or shrink without evidence).
    pub(crate) fn predict(&mut self, dt_frames: f64, freeze_height: bool) {
        if freeze_height {
            self.mean[7] = 0.0;
        }
        let dt = dt_frames.max(0.0);
        for i in 0..4 {
            self.mean[i] += dt * self.mean[i + 4];
        }
        self.mean[3] = self.mean[3].max(MIN_H_PX);
        // P' = F P F^T + Q with F = I + dt * E, E[i][i+4] = 1 for i < 4.
        let p = self.cov;
        let mut fp = p;
        for i in 0..4 {
            for j in 0..8 {
                fp[i][j] += dt * p[i + 4][j];
            }
        }
        let mut fpf = fp;
        for row in fpf.iter_mut() {
            for j in 0..4 {
                row[j] += dt * row[j + 4];
            }
        }
        let h = self.mean[3];
        let sp = STD_WEIGHT_POSITION * h;
        let sv = STD_WEIGHT_VELOCITY * h;
        let q = [sp, sp, 1e-2, sp, sv, sv, 1e-5, sv].map(|s| s * s * dt);
        for (i, qi) in q.iter().enumerate() {
            fpf[i][i] += qi;
        }
        self.cov = fpf;
    }

    /// Correct the state with a measured box.
    pub(crate) fn update(&mut self, b: &BBox) {
        let z = measure(b);
        let h = self.mean[3];
        let sp = STD_WEIGHT_POSITION * h;
        let r = [sp, sp, 1e-1, sp].map(|s| s * s);
        // S = H P H^T + R: the top-left 4x4 block of P.
        let mut s = [[0.0; 4]; 4];
        for i in 0..4 {
            for j in 0..4 {
                s[i][j] = self.cov[i][j];
            }
            s[i][i] += r[i];
        }
        let Some(s_inv) = inv4(&s) else {
            // Degenerate covariance: restart from the measurement rather than diverge.
            *self = Kalman::new(b);
            return;
        };
        // P H^T: the first four columns of P (8x4). K = P H^T S^-1.
        let mut k = [[0.0; 4]; 8];
        for (i, krow) in k.iter_mut().enumerate() {
            for (j, kij) in krow.iter_mut().enumerate() {
                *kij = (0..4).map(|m| self.cov[i][m] * s_inv[m][j]).sum();
            }
        }
        let y: [f64; 4] = std::array::from_fn(|i| z[i] - self.mean[i]);
        for (i, krow) in k.iter().enumerate() {
            self.mean[i] += (0..4).map(|j| krow[j] * y[j]).sum::<f64>();
        }
        self.mean[3] = self.mean[3].max(MIN_H_PX);
        // P = P - K S K^T = P - (P H^T) K^T.
        let pht: [[f64; 4]; 8] = std::array::from_fn(|i| std::array::from_fn(|j| self.cov[i][j]));
        for i in 0..8 {
            for j in 0..8 {
                self.cov[i][j] -= (0..4).map(|m| pht[i][m] * k[j][m]).sum::<f64>();
            }
        }
        // Keep it symmetric against rounding drift.
        for i in 0..8 {
            for j in (i + 1)..8 {
                let v = 0.5 * (self.cov[i][j] + self.cov[j][i]);
                self.cov[i][j] = v;
                self.cov[j][i] = v;
            }
        }
    }

    /// The state as a top-left/size box in frame pixels.
    pub(crate) fn bbox(&self) -> BBox {
        let [cx, cy, a, h] = [self.mean[0], self.mean[1], self.mean[2], self.mean[3]];
        let w = (a * h).max(0.0);
        BBox {
            x: (cx - w / 2.0) as f32,
            y: (cy - h / 2.0) as f32,
            w: w as f32,
            h: h as f32,
        }
    }

    /// Velocity of the box centre, pixels per nominal frame.
    pub(crate) fn velocity_px_frame(&self) -> (f64, f64) {
        (self.mean[4], self.mean[5])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(x: f32, y: f32) -> BBox {
        BBox {
            x,
            y,
            w: 20.0,
            h: 40.0,
        }
    }

    #[test]
    fn learns_a_constant_velocity() {
        let mut k = Kalman::new(&bx(0.0, 0.0));
        for i in 1..30 {
            k.predict(1.0, false);
            k.update(&bx(3.0 * i as f32, -(i as f32)));
        }
        let (vx, vy) = k.velocity_px_frame();
        assert!((vx - 3.0).abs() < 0.05, "vx {vx}");
        assert!((vy + 1.0).abs() < 0.05, "vy {vy}");
        k.predict(2.0, false);
        let b = k.bbox();
        assert!((b.x - 3.0 * 31.0).abs() < 0.5, "x {}", b.x);
        assert!((b.w - 20.0).abs() < 0.1 && (b.h - 40.0).abs() < 0.1);
    }

    #[test]
    fn inverse_is_an_inverse() {
        let a = [
            [4.0, 1.0, 0.0, 0.5],
            [1.0, 3.0, 0.2, 0.0],
            [0.0, 0.2, 2.0, 0.1],
            [0.5, 0.0, 0.1, 5.0],
        ];
        let inv = inv4(&a).unwrap();
        for i in 0..4 {
            for j in 0..4 {
                let v: f64 = (0..4).map(|m| a[i][m] * inv[m][j]).sum();
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-9);
            }
        }
        assert!(inv4(&[[0.0; 4]; 4]).is_none());
    }

    #[test]
    fn prediction_uncertainty_grows_and_update_shrinks_it() {
        let mut k = Kalman::new(&bx(10.0, 10.0));
        let p0 = k.cov[0][0];
        k.predict(1.0, false);
        let p1 = k.cov[0][0];
        assert!(p1 > p0);
        k.update(&bx(10.0, 10.0));
        assert!(k.cov[0][0] < p1);
    }
}
