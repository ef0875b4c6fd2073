//! The scene without its objects: a per-pixel temporal median, one per time segment.
//!
//! Why a median and why segments: a moving object covers any given pixel for a small share
//! of the time, so the median of frames sampled over a stretch of footage is the empty
//! scene (a running average would keep a faint trail of every passer-by). One median for
//! hours of footage would mix day and night, so the footage is cut into segments, each
//! with its own median, and a synopsis frame blends the two segments nearest the source
//! time it stands for: lighting changes slowly and without ghosts.

/// When to sample and how segments are cut, from the source duration.
#[derive(Debug, Clone, PartialEq)]
pub struct BackgroundPlan {
    pub segment_ms: i64,
    pub segments: usize,
    pub samples_per_segment: usize,
}

impl BackgroundPlan {
    /// Segments of about `segment_ms` (at least one), `samples` frames each.
    pub fn new(duration_ms: i64, segment_ms: i64, samples: usize) -> Self {
        let duration_ms = duration_ms.max(1);
        let segments = ((duration_ms + segment_ms - 1) / segment_ms.max(1)).max(1) as usize;
        Self {
            segment_ms: (duration_ms / segments as i64).max(1),
            segments,
            samples_per_segment: samples.max(1),
        }
    }

    /// Every sample time, ms, evenly inside each segment, increasing.
    pub fn sample_times_ms(&self) -> Vec<i64> {
        let k = self.samples_per_segment as i64;
        (0..self.segments as i64)
            .flat_map(|s| {
                (0..k).map(move |i| s * self.segment_ms + (2 * i + 1) * self.segment_ms / (2 * k))
            })
            .collect()
    }

    /// Which segment a source time belongs to.
    pub fn segment_of(&self, pts_ms: i64) -> usize {
        ((pts_ms.max(0) / self.segment_ms) as usize).min(self.segments - 1)
    }

    pub fn centre_ms(&self, segment: usize) -> i64 {
        segment as i64 * self.segment_ms + self.segment_ms / 2
    }
}

/// Per-pixel, per-channel median of equally sized images.
///
/// # Panics
/// If `samples` is empty or the images differ in size.
pub fn median(samples: &[&[u8]]) -> Vec<u8> {
    let n = samples[0].len();
    assert!(samples.iter().all(|s| s.len() == n), "sample sizes differ");
    let mut out = vec![0u8; n];
    let mut buf = vec![0u8; samples.len()];
    for (i, o) in out.iter_mut().enumerate() {
        for (b, s) in buf.iter_mut().zip(samples) {
            *b = s[i];
        }
        let mid = buf.len() / 2;
        *o = *buf.select_nth_unstable(mid).1;
    }
    out
}

/// Builds the backgrounds from time-ordered samples, one segment at a time, so only one
/// segment's samples are ever held in memory (hours of footage stay cheap).
pub struct BackgroundBuilder {
    plan: BackgroundPlan,
    width: u32,
    height: u32,
    current: usize,
    buf: Vec<Vec<u8>>,
    images: Vec<Option<Vec<u8>>>,
}

impl BackgroundBuilder {
    pub fn new(plan: BackgroundPlan, width: u32, height: u32) -> Self {
        let images = vec![None; plan.segments];
        Self {
            plan,
            width,
            height,
            current: 0,
            buf: Vec::new(),
            images,
        }
    }

    fn close_segment(&mut self) {
        if !self.buf.is_empty() {
            let refs: Vec<&[u8]> = self.buf.iter().map(Vec::as_slice).collect();
            self.images[self.current] = Some(median(&refs));
            self.buf.clear();
        }
    }

    /// Add one sampled frame (packed RGB24 of the working size; others are ignored).
    pub fn push(&mut self, pts_ms: i64, rgb: Vec<u8>) {
        if rgb.len() != (self.width * self.height * 3) as usize {
            return;
        }
        let seg = self.plan.segment_of(pts_ms);
        if seg != self.current {
            self.close_segment();
            self.current = seg;
        }
        self.buf.push(rgb);
    }

    /// The backgrounds; `None` when no sample was pushed. A segment without samples
    /// borrows the previous one's (or the next one's, at the start).
    pub fn finish(mut self) -> Option<Backgrounds> {
        self.close_segment();
        let first = self.images.iter().flatten().next()?.clone();
        let mut last = first;
        let images = self
            .images
            .into_iter()
            .map(|i| {
                if let Some(i) = i {
                    last = i;
                }
                last.clone()
            })
            .collect();
        Some(Backgrounds {
            plan: self.plan,
            width: self.width,
            height: self.height,
            images,
        })
    }
}

/// The backgrounds of a source, one per segment.
#[derive(Debug, Clone)]
pub struct Backgrounds {
    pub plan: BackgroundPlan,
    pub width: u32,
    pub height: u32,
    /// RGB24 per segment; a segment without samples borrows its neighbour's.
    pub images: Vec<Vec<u8>>,
}

impl Backgrounds {
    /// Build from sampled frames `(pts_ms, rgb)`; each frame counts for its segment.
    pub fn from_samples(
        plan: BackgroundPlan,
        width: u32,
        height: u32,
        samples: &[(i64, Vec<u8>)],
    ) -> Option<Self> {
        let mut b = BackgroundBuilder::new(plan, width, height);
        for (pts, d) in samples {
            b.push(*pts, d.clone());
        }
        b.finish()
    }

    /// The background for one source time (no blending): used for the foreground masks.
    pub fn at(&self, pts_ms: i64) -> &[u8] {
        &self.images[self.plan.segment_of(pts_ms)]
    }

    /// The background for a source time, blended linearly between the two nearest segment
    /// centres, written into `out`.
    pub fn blended_into(&self, pts_ms: i64, out: &mut [u8]) {
        let p = &self.plan;
        let s = p.segment_of(pts_ms);
        let c = p.centre_ms(s);
        let (a, b) = if pts_ms < c && s > 0 {
            (s - 1, s)
        } else if pts_ms >= c && s + 1 < p.segments {
            (s, s + 1)
        } else {
            out.copy_from_slice(&self.images[s]);
            return;
        };
        let span = (p.centre_ms(b) - p.centre_ms(a)).max(1);
        let wb = ((pts_ms - p.centre_ms(a)).clamp(0, span) * 256 / span) as u32;
        let wa = 256 - wb;
        for ((o, x), y) in out.iter_mut().zip(&self.images[a]).zip(&self.images[b]) {
            *o = ((u32::from(*x) * wa + u32::from(*y) * wb) >> 8) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_removes_a_passing_object() {
        let bg = vec![100u8; 12];
        let mut frames: Vec<Vec<u8>> = (0..5).map(|_| bg.clone()).collect();
        frames[1][0..3].copy_from_slice(&[255, 0, 0]);
        frames[3][3..6].copy_from_slice(&[0, 255, 0]);
        let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
        assert_eq!(median(&refs), bg);
    }

    #[test]
    fn plan_cuts_segments_and_samples_inside_them() {
        let p = BackgroundPlan::new(3_600_000, 60_000, 9);
        assert_eq!(p.segments, 60);
        let t = p.sample_times_ms();
        assert_eq!(t.len(), 540);
        assert!(t.windows(2).all(|w| w[0] < w[1]));
        assert!(t.iter().all(|&x| (0..3_600_000).contains(&x)));
        // Short footage: one segment.
        let p = BackgroundPlan::new(12_000, 60_000, 9);
        assert_eq!((p.segments, p.segment_ms), (1, 12_000));
        assert_eq!(p.segment_of(50_000), 0);
    }

    #[test]
    fn lighting_change_is_followed_per_segment() {
        let plan = BackgroundPlan::new(4_000, 2_000, 3);
        let samples: Vec<(i64, Vec<u8>)> = plan
            .sample_times_ms()
            .into_iter()
            .map(|t| (t, vec![if t < 2_000 { 40 } else { 200 }; 3]))
            .collect();
        let b = Backgrounds::from_samples(plan, 1, 1, &samples).unwrap();
        assert_eq!(b.at(100), &[40, 40, 40]);
        assert_eq!(b.at(3_900), &[200, 200, 200]);
        let mut mid = [0u8; 3];
        b.blended_into(2_000, &mut mid);
        assert!(mid[0] > 100 && mid[0] < 140, "{mid:?}");
        b.blended_into(0, &mut mid);
        assert_eq!(mid, [40, 40, 40]);
    }
}
