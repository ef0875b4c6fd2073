//! Decoded frames as the analysis stages see them.
//!
//! Frames are packed RGB24 at the *working* resolution (the decoder scales once, with
//! swscale, so detectors and describers never touch the source resolution). Timestamps are
//! presentation timestamps in milliseconds from the stream start; `wall_ms` is the same
//! instant on the wall clock (Unix epoch, UTC) when the source's origin is known.
//!
//! Frames that no decoder produced (a still image, a test's synthetic scene, a buffer to
//! cut a window into) are built with the constructors below rather than field by field,
//! so that every crate's tests say what a frame shows, not how its bytes are laid out.

/// One decoded frame, packed RGB24, row-major, no padding (`stride == width * 3`).
///
/// `RgbFrame::default()` is an empty 0x0 frame: a buffer for something to fill (a cut
/// window, a resized copy).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// A frame of packed RGB24 `data` presented at `pts_ms`, as a decoder would give the
    /// first frame of a stream: index 0, a keyframe, no wall-clock time.
    ///
    /// # Panics
    /// If `data` does not hold `width * height * 3` bytes.
    pub fn from_rgb(width: u32, height: u32, data: Vec<u8>, pts_ms: i64) -> Self {
        assert_eq!(
            data.len(),
            width as usize * height as usize * 3,
            "a {width}x{height} RGB24 frame holds width * height * 3 bytes"
        );
        Self {
            index: 0,
            pts_ms,
            wall_ms: None,
            is_keyframe: true,
            width,
            height,
            data,
        }
    }

    /// A `width` x `height` frame of one colour (see [`Self::from_rgb`] for the other fields).
    pub fn solid(width: u32, height: u32, rgb: [u8; 3], pts_ms: i64) -> Self {
        Self::from_rgb(
            width,
            height,
            rgb.repeat(width as usize * height as usize),
            pts_ms,
        )
    }

    /// A `width` x `height` frame whose pixel (`x`, `y`) is `paint(x, y)`, painted row by
    /// row (see [`Self::from_rgb`] for the other fields).
    pub fn painted(
        width: u32,
        height: u32,
        pts_ms: i64,
        mut paint: impl FnMut(u32, u32) -> [u8; 3],
    ) -> Self {
        let mut data = Vec::with_capacity(width as usize * height as usize * 3);
        for y in 0..height {
            for x in 0..width {
                data.extend_from_slice(&paint(x, y));
            }
        }
        Self::from_rgb(width, height, data, pts_ms)
    }

    /// Paint the `w` x `h` rectangle whose top-left pixel is (`x`, `y`) in `rgb`; the part
    /// outside the frame, if any, is left out.
    pub fn fill_rect(&mut self, x: u32, y: u32, w: u32, h: u32, rgb: [u8; 3]) {
        let x1 = x.saturating_add(w).min(self.width);
        let y1 = y.saturating_add(h).min(self.height);
        let stride = self.width as usize * 3;
        for row in y.min(y1)..y1 {
            let start = row as usize * stride;
            let span = &mut self.data[start + x.min(x1) as usize * 3..start + x1 as usize * 3];
            for px in span.chunks_exact_mut(3) {
                px.copy_from_slice(&rgb);
            }
        }
    }

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
        let f = RgbFrame::from_rgb(2, 1, vec![255, 0, 0, 0, 0, 255], 40);
        assert_eq!(f.pixel(1, 0), [0, 0, 255]);
        assert_eq!(f.mean_rgb(), [127.5, 0.0, 127.5]);
        assert_eq!(
            (f.index, f.pts_ms, f.wall_ms, f.is_keyframe),
            (0, 40, None, true)
        );
    }

    #[test]
    #[should_panic(expected = "a 2x2 RGB24 frame holds width * height * 3 bytes")]
    fn a_frame_with_too_few_bytes_is_refused() {
        RgbFrame::from_rgb(2, 2, vec![0; 11], 0);
    }

    #[test]
    fn solid_and_painted_frames_hold_their_colours() {
        let s = RgbFrame::solid(3, 2, [1, 2, 3], 7);
        assert_eq!((s.width, s.height, s.pts_ms), (3, 2, 7));
        assert_eq!(s.data, [1, 2, 3].repeat(6));
        let p = RgbFrame::painted(3, 2, 0, |x, y| [x as u8, y as u8, 9]);
        assert_eq!(p.pixel(2, 0), [2, 0, 9]);
        assert_eq!(p.pixel(1, 1), [1, 1, 9]);
        assert_eq!(p.data.len(), 18);
    }

    #[test]
    fn fill_rect_paints_only_the_rectangle_and_clips_it_to_the_frame() {
        let mut f = RgbFrame::solid(4, 3, [0; 3], 0);
        f.fill_rect(1, 1, 2, 1, [9; 3]);
        let painted = |f: &RgbFrame| -> Vec<(u32, u32)> {
            (0..f.height)
                .flat_map(|y| (0..f.width).map(move |x| (x, y)))
                .filter(|&(x, y)| f.pixel(x, y) == [9; 3])
                .collect()
        };
        assert_eq!(painted(&f), [(1, 1), (2, 1)]);
        // Reaching past the right and bottom edges (and past u32::MAX): clipped.
        let mut g = RgbFrame::solid(4, 3, [0; 3], 0);
        g.fill_rect(3, 2, u32::MAX, 5, [9; 3]);
        assert_eq!(painted(&g), [(3, 2)]);
        // Wholly outside: nothing.
        g.fill_rect(4, 0, 2, 2, [7; 3]);
        g.fill_rect(0, 5, 2, 2, [7; 3]);
        assert!(g.data.iter().all(|v| *v != 7));
    }

    #[test]
    fn the_default_frame_is_an_empty_buffer() {
        let f = RgbFrame::default();
        assert_eq!((f.width, f.height, f.data.len()), (0, 0, 0));
    }
}
