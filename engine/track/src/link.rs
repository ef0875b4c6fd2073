//! Offline linking of track fragments: the pass a recording allows and a live tracker
//! cannot make.
//!
//! Why: the online tracker gives up on an object after `track_buffer_ms` unseen (behind a
//! pole, a parked van, a crowd), and the object comes back under a new id. An investigator
//! then sees two half-tracks, neither of which may match "crossed the line heading north".
//! vigie analyses recordings, so once a source is tracked it can look at the whole of it:
//! a fragment that ends, and another of the same class that starts shortly after where
//! the first was heading, with the same size and the same colours, are one object.
//!
//! The cues are motion continuity (the end of A extrapolated at its last velocity, and the
//! start of B extrapolated backwards, must meet B's start / A's end), the time gap, the
//! box size, and the object's colour description (a histogram of colour names, given by
//! the caller). Never a biometric feature: nothing here looks at pixels.
//!
//! Pairs are chosen by one optimal assignment (each fragment has at most one successor
//! and one predecessor), solved per connected group of candidate pairs, so a source with
//! thousands of tracks never builds a thousands-square matrix. Chains of links become one
//! track (the first fragment's id); the gap between fragments is filled with interpolated
//! points (`PointSource::Predicted`), one per `step_ms`.

use std::collections::BTreeMap;

use vigie_core::BBox;

use crate::assign::max_weight_matching;
use crate::tracker::{FinishedTrack, PointSource, TrackPoint};

/// How fragments are linked.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LinkConfig {
    /// Link at all.
    pub enabled: bool,
    /// Longest time between the last detection of a fragment and the first of the next.
    pub max_gap_ms: i64,
    /// Largest distance between where a fragment was heading and where the next one
    /// starts, in box heights, at a gap of 0; grows by `dist_per_s_h` per second of gap.
    pub max_dist_h: f32,
    pub dist_per_s_h: f32,
    /// Largest ratio between the two fragments' box heights (median over the window;
    /// widths are not compared: an occluder narrows the boxes at both ends), >= 1.
    pub max_size_ratio: f32,
    /// Share of the distance covered at the fragments' speed during the gap that is
    /// allowed as error on top of `max_dist_h` and `dist_per_s_h`.
    pub speed_uncertainty: f32,
    /// Smallest colour histogram intersection (0..1) when both fragments have colours.
    pub min_colour_similarity: f32,
    /// Velocity is measured over the fragment's last (first) `velocity_window_ms`.
    pub velocity_window_ms: i64,
    /// Largest speed used for extrapolation, box heights per second (a noisy velocity
    /// must not throw the prediction across the frame).
    pub max_speed_h_s: f32,
    /// Spacing of the interpolated points that fill a gap.
    pub step_ms: i64,
    /// Speed (box heights per second) above which both ends must head the same way
    /// (cosine of the angle between them at least `min_heading_cos`).
    pub heading_speed_h_s: f32,
    pub min_heading_cos: f32,
    /// The working frame size, when known: a fragment that ends at an edge heading out
    /// of the frame left the scene, and one that starts at an edge heading in entered
    /// it; neither is joined there (people leave and others enter through the same door).
    #[serde(default)]
    pub frame_size: Option<(u32, u32)>,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_gap_ms: 4000,
            max_dist_h: 0.5,
            dist_per_s_h: 0.3,
            max_size_ratio: 1.3,
            speed_uncertainty: 0.5,
            min_colour_similarity: 0.35,
            velocity_window_ms: 1000,
            max_speed_h_s: 3.0,
            step_ms: 100,
            heading_speed_h_s: 0.2,
            min_heading_cos: 0.3,
            frame_size: None,
        }
    }
}

/// A linked track: the fragments it was made of, first the one whose id it keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Linked {
    pub track: FinishedTrack,
    /// Ids of every fragment, in time order (`track.id` first).
    pub fragments: Vec<u64>,
}

/// What one end of a fragment looks like.
#[derive(Debug, Clone, Copy)]
struct End {
    pts_ms: i64,
    bbox: BBox,
    centre: (f32, f32),
    /// Median height over the window: an object going behind an occluder shrinks to a
    /// sliver in its last boxes, its height much less than its width.
    h: f32,
    /// px per ms, over the window.
    velocity: (f32, f32),
}

fn end_of(points: &[&TrackPoint], last: bool, window_ms: i64) -> Option<End> {
    let window: Vec<&TrackPoint> = if last {
        let e = *points.last()?;
        let mut w: Vec<&TrackPoint> = points
            .iter()
            .rev()
            .take_while(|p| e.pts_ms - p.pts_ms <= window_ms)
            .copied()
            .collect();
        w.reverse();
        w
    } else {
        let e = *points.first()?;
        points
            .iter()
            .take_while(|p| p.pts_ms - e.pts_ms <= window_ms)
            .copied()
            .collect()
    };
    let (first, lastp) = (*window.first()?, *window.last()?);
    let edge = if last { lastp } else { first };
    let (c0, c1) = (first.bbox_in_frame.centre(), lastp.bbox_in_frame.centre());
    let dt = (lastp.pts_ms - first.pts_ms) as f32;
    let velocity = if dt >= 1.0 {
        ((c1.0 - c0.0) / dt, (c1.1 - c0.1) / dt)
    } else {
        (0.0, 0.0)
    };
    let mut hs: Vec<f32> = window.iter().map(|p| p.bbox_in_frame.h).collect();
    hs.sort_by(f32::total_cmp);
    Some(End {
        pts_ms: edge.pts_ms,
        bbox: edge.bbox_in_frame,
        centre: edge.bbox_in_frame.centre(),
        h: hs[hs.len() / 2],
        velocity,
    })
}

/// Histogram intersection of two colour histograms (normalised), 0..1.
pub fn colour_similarity(a: &[u32], b: &[u32]) -> Option<f32> {
    let (na, nb) = (a.iter().sum::<u32>(), b.iter().sum::<u32>());
    if na < 20 || nb < 20 || a.len() != b.len() {
        return None;
    }
    Some(
        a.iter()
            .zip(b)
            .map(|(x, y)| (*x as f32 / na as f32).min(*y as f32 / nb as f32))
            .sum(),
    )
}

/// The cost of B continuing A (`None`: they cannot be one object). Lower is better.
fn link_cost(
    a: &FinishedTrack,
    b: &FinishedTrack,
    ea: &End,
    sb: &End,
    colours: &dyn Fn(u64) -> Option<Vec<u32>>,
    cfg: &LinkConfig,
) -> Option<f32> {
    if !crate::classes::same_family(&a.label, &b.label) {
        return None;
    }
    let gap_ms = sb.pts_ms - ea.pts_ms;
    if gap_ms <= 0 || gap_ms > cfg.max_gap_ms {
        return None;
    }
    let h = (ea.h + sb.h) / 2.0;
    if h <= 0.0 {
        return None;
    }
    let ratio = if ea.h > sb.h {
        ea.h / sb.h.max(1e-3)
    } else {
        sb.h / ea.h.max(1e-3)
    };
    if ratio > cfg.max_size_ratio {
        return None;
    }
    let max_v = cfg.max_speed_h_s * h / 1000.0;
    let clamp = |v: (f32, f32)| {
        let n = (v.0 * v.0 + v.1 * v.1).sqrt();
        if n > max_v && n > 0.0 {
            (v.0 * max_v / n, v.1 * max_v / n)
        } else {
            v
        }
    };
    let (va, vb) = (clamp(ea.velocity), clamp(sb.velocity));
    let speed = |v: (f32, f32)| (v.0 * v.0 + v.1 * v.1).sqrt();
    let h_s = |v: (f32, f32)| speed(v) * 1000.0 / h;
    // Both moving: the same way.
    if h_s(va) > cfg.heading_speed_h_s && h_s(vb) > cfg.heading_speed_h_s {
        let cos = (va.0 * vb.0 + va.1 * vb.1) / (speed(va) * speed(vb));
        if cos < cfg.min_heading_cos {
            return None;
        }
    }
    // Left the frame, or came into it: not a hidden stretch.
    if let Some((w, fh)) = cfg.frame_size {
        let (w, fh) = (w as f32, fh as f32);
        let margin = 0.01 * w.max(fh);
        let through_edge = |b: &BBox, v: (f32, f32), outwards: bool| {
            let sign = if outwards { 1.0 } else { -1.0 };
            let fast = |c: f32| sign * c * 1000.0 / h > cfg.heading_speed_h_s;
            (b.x <= margin && fast(-v.0))
                || (b.x + b.w >= w - margin && fast(v.0))
                || (b.y <= margin && fast(-v.1))
                || (b.y + b.h >= fh - margin && fast(v.1))
        };
        if through_edge(&ea.bbox, va, true) || through_edge(&sb.bbox, vb, false) {
            return None;
        }
    }
    let g = gap_ms as f32;
    // Where B should start, given how both ends move; the uncertainty grows with the
    // gap, and with the speed (an occluder shrinks the boxes at both ends, which moves
    // their centres and slows their measured velocity).
    let v = ((va.0 + vb.0) / 2.0, (va.1 + vb.1) / 2.0);
    let expected = (ea.centre.0 + v.0 * g, ea.centre.1 + v.1 * g);
    let err = ((sb.centre.0 - expected.0).powi(2) + (sb.centre.1 - expected.1).powi(2)).sqrt();
    let allowed = cfg.max_dist_h * h
        + cfg.dist_per_s_h * h * g / 1000.0
        + cfg.speed_uncertainty * speed(va).max(speed(vb)) * g;
    if err > allowed {
        return None;
    }
    let d_h = err / allowed;
    let colour = match (colours(a.id), colours(b.id)) {
        (Some(x), Some(y)) => colour_similarity(&x, &y),
        _ => None,
    };
    if let Some(s) = colour {
        if s < cfg.min_colour_similarity {
            return None;
        }
    }
    Some(d_h + g / cfg.max_gap_ms as f32 + (1.0 - colour.unwrap_or(0.5)))
}

/// Link fragments of the same objects. `colours(id)` gives a fragment's colour
/// histogram when known. Tracks come back in the order of their first point; a track
/// that was not linked comes back unchanged.
pub fn link_fragments(
    tracks: Vec<FinishedTrack>,
    cfg: &LinkConfig,
    colours: &dyn Fn(u64) -> Option<Vec<u32>>,
) -> Vec<Linked> {
    let mut tracks = tracks;
    tracks.sort_by_key(|t| (t.first_pts_ms(), t.id));
    if !cfg.enabled || tracks.len() < 2 {
        return tracks
            .into_iter()
            .map(|t| Linked {
                fragments: vec![t.id],
                track: t,
            })
            .collect();
    }
    let ends: Vec<(Option<End>, Option<End>)> = tracks
        .iter()
        .map(|t| {
            let dets: Vec<&TrackPoint> = t.detections().collect();
            (
                end_of(&dets, false, cfg.velocity_window_ms),
                end_of(&dets, true, cfg.velocity_window_ms),
            )
        })
        .collect();
    // Candidate pairs (a ends, then b starts within the gap): sparse, by start time.
    let mut pairs: Vec<(usize, usize, f32)> = Vec::new();
    for (ia, a) in tracks.iter().enumerate() {
        let Some(ea) = ends[ia].1 else { continue };
        for (ib, b) in tracks.iter().enumerate() {
            let Some(sb) = ends[ib].0 else { continue };
            if ib == ia || sb.pts_ms <= ea.pts_ms || sb.pts_ms - ea.pts_ms > cfg.max_gap_ms {
                continue;
            }
            if let Some(c) = link_cost(a, b, &ea, &sb, colours, cfg) {
                pairs.push((ia, ib, c));
            }
        }
    }
    // Groups of pairs that share a fragment: each solved on its own.
    let mut parent: Vec<usize> = (0..tracks.len()).collect();
    fn find(p: &mut [usize], x: usize) -> usize {
        let mut r = x;
        while p[r] != r {
            r = p[r];
        }
        let mut y = x;
        while p[y] != r {
            let n = p[y];
            p[y] = r;
            y = n;
        }
        r
    }
    for &(a, b, _) in &pairs {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            parent[ra] = rb;
        }
    }
    let mut groups: BTreeMap<usize, Vec<(usize, usize, f32)>> = BTreeMap::new();
    for &p in &pairs {
        let r = find(&mut parent, p.0);
        groups.entry(r).or_default().push(p);
    }
    let mut next: Vec<Option<usize>> = vec![None; tracks.len()];
    let mut has_prev = vec![false; tracks.len()];
    for (_, group) in groups {
        let mut rows: Vec<usize> = group.iter().map(|p| p.0).collect();
        let mut cols: Vec<usize> = group.iter().map(|p| p.1).collect();
        rows.sort_unstable();
        rows.dedup();
        cols.sort_unstable();
        cols.dedup();
        let cost: BTreeMap<(usize, usize), f32> =
            group.iter().map(|&(a, b, c)| ((a, b), c)).collect();
        // Highest weight for the lowest cost; every allowed pair stays positive.
        let matched = max_weight_matching(rows.len(), cols.len(), |r, c| {
            cost.get(&(rows[r], cols[c]))
                .map(|c| ((10.0 - c).max(0.01) * 1000.0) as i64)
        });
        for (r, c) in matched {
            next[rows[r]] = Some(cols[c]);
            has_prev[cols[c]] = true;
        }
    }
    // Chains, from each fragment without a predecessor.
    let mut slots: Vec<Option<FinishedTrack>> = tracks.into_iter().map(Some).collect();
    let mut out = Vec::new();
    for start in 0..slots.len() {
        if has_prev[start] {
            continue;
        }
        let Some(mut track) = slots[start].take() else {
            continue;
        };
        let mut fragments = vec![track.id];
        let mut cur = start;
        while let Some(n) = next[cur] {
            let Some(b) = slots[n].take() else { break };
            fragments.push(b.id);
            join(&mut track, b, cfg.step_ms);
            cur = n;
        }
        out.push(Linked { track, fragments });
    }
    out.sort_by_key(|l| (l.track.first_pts_ms(), l.track.id));
    out
}

/// Append `b` to `a`, with interpolated points across the gap. The joined track takes
/// the label of the fragment with more detections (`car` and `truck` fragments of one van).
fn join(a: &mut FinishedTrack, b: FinishedTrack, step_ms: i64) {
    if b.label != a.label && b.detections().count() > a.detections().count() {
        a.label = b.label.clone();
    }
    let (Some(pa), Some(pb)) = (a.history.last().cloned(), b.history.first().cloned()) else {
        a.history.extend(b.history);
        return;
    };
    let gap = pb.pts_ms - pa.pts_ms;
    let step = step_ms.max(1);
    let mut t = pa.pts_ms + step;
    while t < pb.pts_ms {
        let f = (t - pa.pts_ms) as f32 / gap as f32;
        let lerp = |x: f32, y: f32| x + (y - x) * f;
        let (ba, bb) = (pa.bbox_in_frame, pb.bbox_in_frame);
        a.history.push(TrackPoint {
            pts_ms: t,
            bbox_in_frame: BBox {
                x: lerp(ba.x, bb.x),
                y: lerp(ba.y, bb.y),
                w: lerp(ba.w, bb.w),
                h: lerp(ba.h, bb.h),
            },
            score: 0.0,
            source: PointSource::Predicted,
        });
        t += step;
    }
    a.history.extend(b.history);
    a.reason = b.reason;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::FinishReason;

    /// A fragment of a box 40x80 moving right at `vx` px per 100 ms, detected every
    /// 100 ms from `t0` to `t1`.
    fn fragment(id: u64, label: &str, t0: i64, t1: i64, x0: f32, vx: f32) -> FinishedTrack {
        let history = (0..)
            .map(|i| t0 + 100 * i)
            .take_while(|t| *t <= t1)
            .map(|t| TrackPoint {
                pts_ms: t,
                bbox_in_frame: BBox {
                    x: x0 + vx * ((t - t0) / 100) as f32,
                    y: 100.0,
                    w: 40.0,
                    h: 80.0,
                },
                score: 0.9,
                source: PointSource::Detection,
            })
            .collect();
        FinishedTrack {
            id,
            label: label.into(),
            history,
            reason: FinishReason::Lost,
        }
    }

    fn no_colours(_: u64) -> Option<Vec<u32>> {
        None
    }

    #[test]
    fn an_occlusion_is_bridged_into_one_track_with_interpolated_points() {
        // 10 px per 100 ms; hidden from 2.0 s to 3.5 s (x from 200 to 350).
        let a = fragment(1, "person", 0, 2000, 0.0, 10.0);
        let b = fragment(2, "person", 3500, 5000, 350.0, 10.0);
        let out = link_fragments(vec![b, a], &LinkConfig::default(), &no_colours);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].fragments, vec![1, 2]);
        let t = &out[0].track;
        assert_eq!(t.id, 1);
        assert_eq!(t.first_pts_ms(), 0);
        assert_eq!(t.last_pts_ms(), 5000);
        // The gap is filled every 100 ms, on the straight line between the two ends.
        let mid = t.history.iter().find(|p| p.pts_ms == 2700).unwrap();
        assert_eq!(mid.source, PointSource::Predicted);
        assert!((mid.bbox_in_frame.x - 270.0).abs() < 1e-3, "{:?}", mid);
        let times: Vec<i64> = t.history.iter().map(|p| p.pts_ms).collect();
        assert!(times.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn fragments_that_cannot_be_one_object_stay_apart() {
        let a = fragment(1, "person", 0, 2000, 0.0, 10.0);
        // Another class; too far from where A was heading; too long after; overlapping.
        let car = fragment(2, "car", 2500, 4000, 250.0, 10.0);
        let far = fragment(3, "person", 2500, 4000, 600.0, 10.0);
        let late = fragment(4, "person", 9000, 9500, 900.0, 10.0);
        let overlap = fragment(5, "person", 1500, 3000, 150.0, 10.0);
        let out = link_fragments(
            vec![a, car, far, late, overlap],
            &LinkConfig::default(),
            &no_colours,
        );
        assert_eq!(out.len(), 5);
        assert!(out.iter().all(|l| l.fragments.len() == 1));
    }

    #[test]
    fn colours_decide_between_two_candidates_and_never_link_different_ones() {
        let a = fragment(1, "person", 0, 2000, 0.0, 10.0);
        let b = fragment(2, "person", 2500, 4000, 250.0, 10.0);
        let c = fragment(3, "person", 2500, 4000, 262.0, 10.0);
        // A and C: blue; B: red.
        let colours = |id: u64| -> Option<Vec<u32>> {
            Some(match id {
                2 => vec![0, 100, 0],
                _ => vec![100, 0, 0],
            })
        };
        let out = link_fragments(vec![a, b, c], &LinkConfig::default(), &colours);
        let linked: Vec<&Linked> = out.iter().filter(|l| l.fragments.len() > 1).collect();
        assert_eq!(linked.len(), 1);
        assert_eq!(linked[0].fragments, vec![1, 3]);
    }

    #[test]
    fn chains_of_three_and_the_optimal_pairing() {
        let a = fragment(1, "person", 0, 1000, 0.0, 10.0);
        let b = fragment(2, "person", 2000, 3000, 200.0, 10.0);
        let c = fragment(3, "person", 4000, 5000, 400.0, 10.0);
        // Two walkers crossing paths in opposite directions stay two objects.
        let d = fragment(4, "person", 0, 1000, 1000.0, -10.0);
        let e = fragment(5, "person", 2000, 3000, 800.0, -10.0);
        let out = link_fragments(vec![e, c, a, d, b], &LinkConfig::default(), &no_colours);
        let mut chains: Vec<Vec<u64>> = out.into_iter().map(|l| l.fragments).collect();
        chains.sort();
        assert_eq!(chains, vec![vec![1, 2, 3], vec![4, 5]]);
    }

    #[test]
    fn one_leaving_and_another_entering_by_the_same_edge_stay_two() {
        // A walks right out of a 640-wide frame; B comes in from the right edge, walking
        // left, 1 s later, same size, same colours.
        let a = fragment(1, "person", 0, 2000, 400.0, 10.0);
        let b = fragment(2, "person", 3000, 5000, 600.0, -10.0);
        let cfg = LinkConfig {
            frame_size: Some((640, 360)),
            ..LinkConfig::default()
        };
        assert_eq!(
            link_fragments(vec![a.clone(), b.clone()], &cfg, &no_colours).len(),
            2
        );
        // Opposite headings alone already keep them apart.
        assert_eq!(
            link_fragments(vec![a, b], &LinkConfig::default(), &no_colours).len(),
            2
        );
    }

    #[test]
    fn disabled_changes_nothing() {
        let a = fragment(1, "person", 0, 2000, 0.0, 10.0);
        let b = fragment(2, "person", 3500, 5000, 350.0, 10.0);
        let cfg = LinkConfig {
            enabled: false,
            ..LinkConfig::default()
        };
        assert_eq!(link_fragments(vec![a, b], &cfg, &no_colours).len(), 2);
    }
}
