//! The scene without its objects: a per-pixel temporal median, one per time segment.
//!
//! Why a median and why segments: a moving object covers any given pixel for a small share
//! of the time, so the median of frames sampled over a stretch of footage is the empty
//! scene (a running average would keep a faint trail of every passer-by). One median for
//! hours of footage would mix day and night, so the footage is cut into segments, each
//! with its own median, and a synopsis frame blends the two segments nearest the source
//! time it stands for: lighting changes slowly and without ghosts.
//!
//! In a synopsis filtered by a query, an object that was *not* selected must never be
//! visible, and one that stood still long enough is in the median: [`Backgrounds::redact`]
//! fills such objects' boxes opaque in the segments where they may show.

use vigie_core::BBox;

use crate::mask::Rect;

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
    samples_ms: Vec<Vec<i64>>,
}

impl BackgroundBuilder {
    pub fn new(plan: BackgroundPlan, width: u32, height: u32) -> Self {
        let images = vec![None; plan.segments];
        let samples_ms = vec![Vec::new(); plan.segments];
        Self {
            plan,
            width,
            height,
            current: 0,
            buf: Vec::new(),
            images,
            samples_ms,
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
        self.samples_ms[seg].push(pts_ms);
        self.buf.push(rgb);
    }

    /// The backgrounds; `None` when no sample was pushed. A segment without samples
    /// borrows the previous one's (or the next one's, at the start).
    pub fn finish(mut self) -> Option<Backgrounds> {
        self.close_segment();
        let first = self.images.iter().flatten().next()?.clone();
        let mut last = (first, Vec::new());
        let mut images = Vec::with_capacity(self.images.len());
        let mut samples_ms = Vec::with_capacity(self.images.len());
        for (i, t) in self.images.into_iter().zip(self.samples_ms) {
            if let Some(i) = i {
                last = (i, t);
            }
            images.push(last.0.clone());
            samples_ms.push(last.1.clone());
        }
        Some(Backgrounds {
            plan: self.plan,
            width: self.width,
            height: self.height,
            redacted: vec![Vec::new(); images.len()],
            images,
            samples_ms,
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
    /// The times of the frames each segment's median was made of (those of the segment
    /// it borrows, for a segment without samples).
    pub samples_ms: Vec<Vec<i64>>,
    /// Per segment, the runs `(first pixel, length)` filled by [`Backgrounds::redact`].
    pub redacted: Vec<Vec<(u32, u32)>>,
}

/// The colour unselected objects are filled with in the backgrounds (opaque, no blur).
pub const REDACT_FILL: [u8; 3] = [96, 96, 96];

/// The box of a track nearest in time to `t` when `t` lies within the track's span.
pub fn box_at(boxes: &[(i64, BBox)], t: i64) -> Option<BBox> {
    let (first, last) = (boxes.first()?.0, boxes.last()?.0);
    if t < first || t > last {
        return None;
    }
    let k = boxes.partition_point(|b| b.0 < t);
    let near = match (k.checked_sub(1), boxes.get(k)) {
        (Some(a), Some(b)) if t - boxes[a].0 <= b.0 - t => a,
        (Some(a), None) => a,
        _ => k,
    };
    Some(boxes[near].1)
}

/// `b` grown by `pad` (share of its size) on each side plus 2 px, clamped to the frame.
pub fn grown(b: &BBox, pad: f32, width: u32, height: u32) -> Option<Rect> {
    let (dx, dy) = (b.w * pad + 2.0, b.h * pad + 2.0);
    Rect::clamp(
        &BBox {
            x: b.x - dx,
            y: b.y - dy,
            w: b.w + 2.0 * dx,
            h: b.h + 2.0 * dy,
        },
        width,
        height,
    )
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

    /// Fill opaque ([`REDACT_FILL`]) what of the given tracks (unselected objects: per
    /// track its time-ordered boxes) may show in each segment's median. A median of `k`
    /// samples shows an object's pixel when the object is there in more than half of
    /// them; filled are the pixels that one track's box (grown by `pad` of its size)
    /// covers in at least `max(1, (k-1)/2)` samples (one short of that, for margin), and
    /// those that the tracks together cover in more than half (objects taking turns at
    /// one place). The fill is kept as runs and painted again after blending, so it stays
    /// opaque between segments. Returns how many tracks had pixels filled.
    pub fn redact(&mut self, tracks: &[Vec<(i64, BBox)>], pad: f32) -> usize {
        let (w, h) = (self.width, self.height);
        let mut redacted = vec![false; tracks.len()];
        let mut all = vec![0u16; (w * h) as usize];
        let mut fill = vec![false; (w * h) as usize];
        let mut own: Vec<u16> = Vec::new();
        self.redacted = vec![Vec::new(); self.images.len()];
        for (seg, times) in self.samples_ms.iter().enumerate() {
            let k = times.len();
            if k == 0 {
                continue;
            }
            let own_threshold = (k.saturating_sub(1) / 2).max(1) as u16;
            let all_threshold = (k / 2 + 1) as u16;
            all.fill(0);
            fill.fill(false);
            let mut any = false;
            for (ti, boxes) in tracks.iter().enumerate() {
                let rects: Vec<Rect> = times
                    .iter()
                    .filter_map(|&t| box_at(boxes, t).and_then(|b| grown(&b, pad, w, h)))
                    .collect();
                let Some(first) = rects.first() else {
                    continue;
                };
                // The track's own count, in the rectangle around its sampled boxes.
                let (mut x0, mut y0, mut x1, mut y1) =
                    (first.x, first.y, first.x + first.w, first.y + first.h);
                for r in &rects {
                    x0 = x0.min(r.x);
                    y0 = y0.min(r.y);
                    x1 = x1.max(r.x + r.w);
                    y1 = y1.max(r.y + r.h);
                }
                let bw = (x1 - x0) as usize;
                own.clear();
                own.resize(bw * (y1 - y0) as usize, 0);
                for r in &rects {
                    for y in r.y..r.y + r.h {
                        let row = (y * w) as usize;
                        for c in &mut all[row + r.x as usize..row + (r.x + r.w) as usize] {
                            *c += 1;
                        }
                        let lrow = (y - y0) as usize * bw;
                        let lx = (r.x - x0) as usize;
                        for c in &mut own[lrow + lx..lrow + lx + r.w as usize] {
                            *c += 1;
                        }
                    }
                }
                for y in y0..y1 {
                    for x in x0..x1 {
                        if own[(y - y0) as usize * bw + (x - x0) as usize] >= own_threshold {
                            fill[(y * w + x) as usize] = true;
                            redacted[ti] = true;
                            any = true;
                        }
                    }
                }
            }
            for (f, &c) in fill.iter_mut().zip(&all) {
                if c >= all_threshold {
                    *f = true;
                    any = true;
                }
            }
            if !any {
                continue;
            }
            // Tracks counted in a place filled only by the tracks together.
            for (ti, boxes) in tracks.iter().enumerate() {
                if redacted[ti] {
                    continue;
                }
                redacted[ti] = times.iter().any(|&t| {
                    box_at(boxes, t)
                        .and_then(|b| grown(&b, pad, w, h))
                        .is_some_and(|r| {
                            (r.y..r.y + r.h).any(|y| {
                                let row = (y * w) as usize;
                                fill[row + r.x as usize..row + (r.x + r.w) as usize]
                                    .iter()
                                    .any(|&f| f)
                            })
                        })
                });
            }
            let img = &mut self.images[seg];
            let runs = &mut self.redacted[seg];
            let mut j = 0usize;
            while j < fill.len() {
                if fill[j] {
                    let start = j;
                    while j < fill.len() && fill[j] {
                        img[j * 3..j * 3 + 3].copy_from_slice(&REDACT_FILL);
                        j += 1;
                    }
                    runs.push((start as u32, (j - start) as u32));
                } else {
                    j += 1;
                }
            }
        }
        redacted.iter().filter(|&&r| r).count()
    }

    fn paint_redacted(&self, seg: usize, out: &mut [u8]) {
        if let Some(runs) = self.redacted.get(seg) {
            for &(start, len) in runs {
                for px in out[start as usize * 3..(start + len) as usize * 3].chunks_exact_mut(3) {
                    px.copy_from_slice(&REDACT_FILL);
                }
            }
        }
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
        // What either segment fills stays opaque (never half blended).
        self.paint_redacted(a, out);
        self.paint_redacted(b, out);
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
    fn an_unselected_object_standing_in_the_median_is_filled_opaque() {
        // 40x30 frames, one segment of 9 samples over 9 s.
        let (w, h) = (40u32, 30u32);
        let plan = BackgroundPlan::new(9_000, 9_000, 9);
        let samples: Vec<(i64, Vec<u8>)> = plan
            .sample_times_ms()
            .into_iter()
            .map(|t| (t, vec![100u8; (w * h * 3) as usize]))
            .collect();
        let mut b = Backgrounds::from_samples(plan, w, h, &samples).unwrap();
        assert_eq!(b.samples_ms[0].len(), 9);
        let at = |x: f32, y: f32| BBox {
            x,
            y,
            w: 6.0,
            h: 6.0,
        };
        // Stands at (2, 2) from 0 to 6 s (6 of 9 samples); walks by at (30, 20) for 1 s;
        // two others take turns at (15, 15): 3 and 2 samples, 5 together (a majority).
        let standing: Vec<(i64, BBox)> = (0..=60).map(|k| (k * 100, at(2.0, 2.0))).collect();
        let passing: Vec<(i64, BBox)> = (40..=50).map(|k| (k * 100, at(30.0, 20.0))).collect();
        let turn_a: Vec<(i64, BBox)> = (0..=29).map(|k| (k * 100, at(15.0, 15.0))).collect();
        let turn_b: Vec<(i64, BBox)> = (60..=80).map(|k| (k * 100, at(15.0, 15.0))).collect();
        let n = b.redact(&[standing, passing, turn_a, turn_b], 0.1);
        assert_eq!(n, 3, "the standing one and the two taking turns");
        let px = |b: &Backgrounds, x: u32, y: u32| {
            let i = ((y * w + x) * 3) as usize;
            [b.images[0][i], b.images[0][i + 1], b.images[0][i + 2]]
        };
        assert_eq!(px(&b, 4, 4), REDACT_FILL);
        assert_eq!(px(&b, 17, 17), REDACT_FILL);
        assert_eq!(
            px(&b, 32, 22),
            [100, 100, 100],
            "a passer-by is not in the median"
        );
        assert_eq!(px(&b, 25, 5), [100, 100, 100]);
        // The box is grown a little: its border is filled too.
        assert_eq!(px(&b, 1, 1), REDACT_FILL);
        // One passer-by stopping for 3 samples only, with no one else there: clear.
        let short: Vec<(i64, BBox)> = (20..=40).map(|k| (k * 100, at(30.0, 5.0))).collect();
        let mut c = b.clone();
        assert_eq!(c.redact(&[short], 0.1), 0);
    }

    #[test]
    fn a_fill_stays_opaque_when_segments_are_blended() {
        let plan = BackgroundPlan::new(4_000, 2_000, 3);
        let samples: Vec<(i64, Vec<u8>)> = plan
            .sample_times_ms()
            .into_iter()
            .map(|t| (t, vec![200u8; 4 * 4 * 3]))
            .collect();
        let mut b = Backgrounds::from_samples(plan, 4, 4, &samples).unwrap();
        // Stands at the top-left in the first segment only.
        let standing: Vec<(i64, BBox)> = (0..=20)
            .map(|k| {
                (
                    k * 100,
                    BBox {
                        x: 0.0,
                        y: 0.0,
                        w: 1.0,
                        h: 1.0,
                    },
                )
            })
            .collect();
        assert_eq!(b.redact(&[standing], 0.0), 1);
        let mut out = vec![0u8; 4 * 4 * 3];
        // Half-way between the two segment centres: still the solid fill.
        b.blended_into(2_000, &mut out);
        assert_eq!(&out[0..3], &REDACT_FILL);
        assert_eq!(&out[45..48], &[200, 200, 200]);
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
