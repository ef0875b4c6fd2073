//! What of a tube is shown as a moving object, and how: stationary stretches and cuts.
//!
//! Why: a synopsis is never shorter than its longest tube, and on real footage a few
//! objects stay in view a long time. Two things make them fit without dropping anything:
//! - a *stationary stretch* (a parked car, a person standing: the box centre stays within
//!   a small radius for at least a few seconds) is shown as part of the background for
//!   its duration (the synopsis' background follows the source time), not as a tube;
//! - a moving part longer than the synopsis is *cut* into segments no shorter than a
//!   stated minimum, placed like separate tubes (so shown at the same time), each
//!   labelled with its own real time.
//!
//! Everything here works on box indices of one tube (time-ordered boxes), so the pieces
//! stay exact subsets of the tube: no box is invented and none is lost (adjacent segments
//! share their boundary box so each one is as long as stated).

use vigie_core::BBox;

/// How stationary stretches are found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StillRule {
    /// Shortest stationary stretch, ms.
    pub min_ms: i64,
    /// Largest distance of the box centre from where the stretch began, as a share of
    /// the frame diagonal.
    pub radius: f64,
}

impl Default for StillRule {
    fn default() -> Self {
        Self {
            min_ms: 3_000,
            radius: 0.02,
        }
    }
}

fn centre(b: &BBox) -> (f64, f64) {
    (
        f64::from(b.x) + f64::from(b.w) / 2.0,
        f64::from(b.y) + f64::from(b.h) / 2.0,
    )
}

/// The stationary stretches of a tube: inclusive box index ranges, increasing and
/// disjoint, each at least `rule.min_ms` long, where every box centre lies within
/// `rule.radius` x diagonal of the first box's centre. Greedy from the start: a stretch
/// is extended as far as it goes, and the next one may begin at the box right after it.
pub fn stationary(
    boxes: &[(i64, BBox)],
    frame_size: (u32, u32),
    rule: StillRule,
) -> Vec<(usize, usize)> {
    let diag = (f64::from(frame_size.0).powi(2) + f64::from(frame_size.1).powi(2)).sqrt();
    let r2 = (rule.radius * diag).powi(2);
    let mut out = Vec::new();
    let mut i = 0usize;
    while i < boxes.len() {
        let (ax, ay) = centre(&boxes[i].1);
        let mut j = i;
        while j + 1 < boxes.len() {
            let (x, y) = centre(&boxes[j + 1].1);
            if (x - ax).powi(2) + (y - ay).powi(2) > r2 {
                break;
            }
            j += 1;
        }
        if boxes[j].0 - boxes[i].0 >= rule.min_ms {
            out.push((i, j));
            i = j + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// The moving parts of a tube of `n` boxes: what the stationary stretches leave,
/// inclusive index ranges, in order.
pub fn moving_parts(n: usize, stills: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0usize;
    for &(a, b) in stills {
        if a > at {
            out.push((at, a - 1));
        }
        at = b + 1;
    }
    if at < n {
        out.push((at, n - 1));
    }
    out
}

/// Cut the boxes `part` (inclusive index range of `boxes`) into segments no longer than
/// about `length_ms` and never shorter than `min_ms` (a part shorter than twice `min_ms`
/// is never cut): `n = ceil(d / length)` equal shares of the part's duration `d`, fewer
/// when a share would fall under `min_ms`. Segments are inclusive index ranges that share
/// their boundary box; a segment made shorter than `min_ms` by a gap in the boxes is
/// merged into its neighbour.
pub fn cut(
    boxes: &[(i64, BBox)],
    part: (usize, usize),
    length_ms: i64,
    min_ms: i64,
) -> Vec<(usize, usize)> {
    let (a, b) = part;
    let d = boxes[b].0 - boxes[a].0;
    let n = count(d, length_ms, min_ms);
    if n == 1 {
        return vec![part];
    }
    let t0 = boxes[a].0;
    // Boundary k: the first box at or after t0 + k d / n.
    let mut bounds = vec![a];
    for k in 1..n {
        let t = t0 + k * d / n;
        let idx = (a + boxes[a..=b].partition_point(|x| x.0 < t)).min(b);
        if idx > *bounds.last().unwrap_or(&a) && idx < b {
            bounds.push(idx);
        }
    }
    bounds.push(b);
    let mut segs: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
    // Gaps in the boxes can leave a short segment: merge it into a neighbour.
    merge_short(&mut segs, boxes, min_ms, |s| s);
    segs
}

/// How many equal segments a duration `d` is cut into: enough that none is longer than
/// `length_ms`, few enough that none is shorter than `min_ms` (at least one).
pub(crate) fn count(d: i64, length_ms: i64, min_ms: i64) -> i64 {
    let length_ms = length_ms.max(1);
    let by_length = (d + length_ms - 1) / length_ms;
    let by_min = if min_ms > 0 { d / min_ms } else { by_length };
    by_length.min(by_min).max(1)
}

/// Segments (time-ordered, sharing boundary boxes; `range` gives each one's inclusive box
/// range) shorter than `min_ms` merged into the next one, the last into the one before,
/// until every one is long enough or one is left. The neighbour keeps its other fields.
pub(crate) fn merge_short<T>(
    segs: &mut Vec<T>,
    boxes: &[(i64, BBox)],
    min_ms: i64,
    range: impl Fn(&mut T) -> &mut (usize, usize),
) {
    let mut k = 0;
    while segs.len() > 1 && k < segs.len() {
        let (a, b) = *range(&mut segs[k]);
        if boxes[b].0 - boxes[a].0 < min_ms {
            if k + 1 < segs.len() {
                range(&mut segs[k + 1]).0 = a;
            } else {
                range(&mut segs[k - 1]).1 = b;
            }
            segs.remove(k);
            k = 0;
        } else {
            k += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(points: &[(i64, f32, f32)]) -> Vec<(i64, BBox)> {
        points
            .iter()
            .map(|&(t, x, y)| {
                (
                    t,
                    BBox {
                        x,
                        y,
                        w: 20.0,
                        h: 40.0,
                    },
                )
            })
            .collect()
    }

    /// Walks 0..5 s, stands 5..15 s (jittering by 2 px), walks again 15..20 s; 10 fps.
    fn walk_stand_walk() -> Vec<(i64, BBox)> {
        let pts: Vec<(i64, f32, f32)> = (0..=200)
            .map(|k| {
                let t = k * 100;
                let x = if t < 5_000 {
                    t as f32 * 0.05
                } else if t <= 15_000 {
                    250.0 + (k % 3) as f32
                } else {
                    250.0 + (t - 15_000) as f32 * 0.05
                };
                (t, x, 100.0 + (k % 2) as f32)
            })
            .collect();
        track(&pts)
    }

    #[test]
    fn a_standing_person_is_one_stationary_stretch_between_moving_parts() {
        let b = walk_stand_walk();
        let s = stationary(&b, (640, 480), StillRule::default());
        assert_eq!(s.len(), 1, "{s:?}");
        let (from, to) = (b[s[0].0].0, b[s[0].1].0);
        // Radius 16 px at 640x480: the walk is 5 px per 100 ms, so the stretch starts a
        // few frames before the stop and ends a few frames after the start.
        assert!(
            (4_600..=5_000).contains(&from) && (15_000..=15_400).contains(&to),
            "{from}..{to}"
        );
        let m = moving_parts(b.len(), &s);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].0, 0);
        assert_eq!(m[1].1, b.len() - 1);
        // Together they cover every box exactly once.
        let covered: usize = m.iter().chain(&s).map(|(a, b)| b - a + 1).sum();
        assert_eq!(covered, b.len());
    }

    #[test]
    fn walking_is_never_stationary_and_a_short_stop_is_not_either() {
        let walk: Vec<(i64, f32, f32)> =
            (0..100).map(|k| (k * 100, k as f32 * 3.0, 50.0)).collect();
        assert!(stationary(&track(&walk), (640, 480), StillRule::default()).is_empty());
        // Standing for 2 s only.
        let mut stop = walk.clone();
        for p in stop.iter_mut().skip(30).take(20) {
            p.1 = 90.0;
        }
        assert!(stationary(&track(&stop), (640, 480), StillRule::default()).is_empty());
        // A wholly stationary object: one stretch, no moving part.
        let parked: Vec<(i64, f32, f32)> = (0..600).map(|k| (k * 100, 300.0, 200.0)).collect();
        let s = stationary(&track(&parked), (640, 480), StillRule::default());
        assert_eq!(s, vec![(0, 599)]);
        assert!(moving_parts(600, &s).is_empty());
    }

    #[test]
    fn cutting_keeps_every_box_and_each_segment_at_least_the_minimum() {
        let boxes: Vec<(i64, f32, f32)> = (0..=785)
            .map(|k| (1_000 + k * 100, k as f32, 0.0))
            .collect();
        let b = track(&boxes);
        for (length, min) in [
            (10_000, 3_000),
            (13_000, 3_000),
            (4_000, 3_000),
            (100_000, 3_000),
            (2_000, 3_000),
        ] {
            let segs = cut(&b, (0, b.len() - 1), length, min);
            // Contiguous, sharing boundary boxes, first to last.
            assert_eq!(segs[0].0, 0);
            assert_eq!(segs.last().unwrap().1, b.len() - 1);
            for w in segs.windows(2) {
                assert_eq!(w[0].1, w[1].0, "{segs:?}");
            }
            for s in &segs {
                let d = b[s.1].0 - b[s.0].0;
                assert!(
                    d >= min,
                    "segment {s:?} of {d} ms under {min} (length {length})"
                );
                if length >= 2 * min {
                    assert!(d <= length + 100, "segment {s:?} of {d} ms over {length}");
                }
            }
        }
        assert_eq!(cut(&b, (0, b.len() - 1), 100_000, 3_000).len(), 1);
        assert_eq!(cut(&b, (0, b.len() - 1), 10_000, 3_000).len(), 8);
        // A part shorter than twice the minimum is never cut.
        assert_eq!(cut(&b, (0, 50), 1_000, 3_000), vec![(0, 50)]);
    }

    #[test]
    fn a_gap_in_the_boxes_never_leaves_a_short_segment() {
        // 0..6 s, then nothing until 20 s, then 20..21 s.
        let mut p: Vec<(i64, f32, f32)> = (0..=60).map(|k| (k * 100, k as f32, 0.0)).collect();
        p.extend((0..=10).map(|k| (20_000 + k * 100, 100.0, 0.0)));
        let b = track(&p);
        let segs = cut(&b, (0, b.len() - 1), 7_000, 3_000);
        for s in &segs {
            assert!(b[s.1].0 - b[s.0].0 >= 3_000, "{segs:?}");
        }
        assert_eq!(segs[0].0, 0);
        assert_eq!(segs.last().unwrap().1, b.len() - 1);
    }
}
