//! Decoded frames as the analysis stages see them.
//!
//! Frames are packed RGB24 at the *working* resolution (the decoder scales once, with
//! swscale, so detectors and describers never touch the source resolution). Timestamps are
//! presentation timestamps in milliseconds from the stream start; `wall_ms` is the same
//! instant on the wall clock (Unix epoch, UTC) when the source's origin is known.

/// One decoded frame, packed RGB24, row-major, no padding (`stride == width * 3`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbFrame {
    /// Index of this frame among the frames the decoder produced (before sampling).
    pub index: u64,
    /// Presentation timestamp, milliseconds from the start of the stream.
    pub pts_ms: i64,
    /// Wall-clock time of the frame (milliseconds since the Unix epoch, UTC), if the
    /// source's origin is known.
    pub wall_ms: Option<i64>,
    /// Whether the decoder flagged this frame as a keyframe.
    pub is_keyframe: bool,
    pub width: u32,
    pub height: u32,
    /// `width * height * 3` bytes.
    pub data: Vec<u8>,
}

impl RgbFrame {
    /// The RGB triple at pixel (`x`, `y`) in frame coordinates.
    ///
    /// # Panics
    /// If the pixel lies outside the frame.
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        assert!(x < self.width && y < self.height, "pixel outside frame");
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// Mean of each channel over the whole frame (used by tests and quick checks).
    pub fn mean_rgb(&self) -> [f64; 3] {
        let mut sum = [0u64; 3];
        for px in self.data.chunks_exact(3) {
            sum[0] += u64::from(px[0]);
            sum[1] += u64::from(px[1]);
            sum[2] += u64::from(px[2]);
        }
        let n = (self.data.len() / 3).max(1) as f64;
        [sum[0] as f64 / n, sum[1] as f64 / n, sum[2] as f64 / n]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_and_mean() {
        let f = RgbFrame {
            index: 0,
            pts_ms: 0,
            wall_ms: None,
            is_keyframe: true,
            width: 2,
            height: 1,
            data: vec![255, 0, 0, 0, 0, 255],
        };
        assert_eq!(f.pixel(1, 0), [0, 0, 255]);
        assert_eq!(f.mean_rgb(), [127.5, 0.0, 127.5]);
    }
}
