//! Objects that were together stay together.
//!
//! Why: a synopsis shifts objects in time, each on its own, so two people who walked side
//! by side, or a group crossing the scene, end up shown at different moments. That
//! destroys what an investigator looks for (who was with whom), and it costs length: the
//! planner must pull the pair apart, because their overlap (one hides the other, as it
//! did in the footage) counts as a collision. On vtest.avi the footage itself, shown at
//! its own timing, overlaps on 9% of object pixels: a budget of 5% could only be met by
//! separating people who walked together.
//!
//! So moving parts whose boxes touch for a while form one *group*; a group is placed as
//! one unit (every member shifted by the same time, as in Pritch et al.'s interaction
//! consistency), and the overlaps between its members are the footage's own, counted
//! apart from the collisions the synopsis makes ([`crate::Figures::footage_overlap_rate`]).
//! A group longer than the synopsis is cut like a single object, into time windows shared
//! by all its members ([`cut_group`]), so a long walk together still condenses.
//!
//! Touching is judged on the boxes (grown by a share of their height), never on any
//! appearance feature: what is compared is where the objects were, not who they are.

use vigie_core::BBox;

use crate::{box_at, TubeInput, MAX_INTERPOLATION_GAP_MS};

/// When two moving parts are one group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupRule {
    /// Shortest time their boxes touch, ms (summed over the time both are present); 0:
    /// never group.
    pub min_together_ms: i64,
    /// Shortest share of the time both are present during which they touch (walking
    /// together, not passing each other).
    pub min_share: f64,
    /// Each box grown by this share of the taller box's height before the touch test (two
    /// people side by side whose boxes just miss each other).
    pub gap: f32,
}

impl Default for GroupRule {
    /// 1.5 s of touching boxes (grown by a tenth of the height), and at least half the
    /// time both are in view: people walking or standing together, not two passers-by
    /// crossing or one waiting while others pass.
    fn default() -> Self {
        Self {
            min_together_ms: 1_500,
            min_share: 0.5,
            gap: 0.1,
        }
    }
}

/// A moving part of a tube: tube index and inclusive box index range.
pub type Part = (usize, (usize, usize));

fn touch(a: &BBox, b: &BBox, gap: f32) -> bool {
    let g = gap * a.h.max(b.h);
    a.x - g < b.x + b.w && b.x - g < a.x + a.w && a.y - g < b.y + b.h && b.y - g < a.y + a.h
}

/// How long (ms) the boxes of `a` and `b` touch while both are present: each of `a`'s
/// boxes stands for the time to its next one, compared with `b`'s box at that time
/// (interpolated between detections).
fn together_ms(a: &[(i64, BBox)], b: &[(i64, BBox)], gap: f32) -> i64 {
    let (Some(b0), Some(b1)) = (b.first(), b.last()) else {
        return 0;
    };
    let mut ms = 0;
    let from = a.partition_point(|x| x.0 < b0.0);
    for w in a[from.saturating_sub(1)..].windows(2) {
        let (t, ba) = w[0];
        if t > b1.0 {
            break;
        }
        if t < b0.0 {
            continue;
        }
        if let Some((_, bb, _)) = box_at(b, t, MAX_INTERPOLATION_GAP_MS) {
            if touch(&ba, &bb, gap) {
                ms += (w[1].0 - t).min(MAX_INTERPOLATION_GAP_MS);
            }
        }
    }
    ms
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// The groups among `parts`: indices into `parts`, each group in input order, groups
/// ordered by their first member. Parts of one tube are never grouped with each other
/// directly (they do not overlap in time); grouping is transitive (A with B and B with C
/// make one group).
pub fn groups(tubes: &[TubeInput], parts: &[Part], rule: GroupRule) -> Vec<Vec<usize>> {
    let n = parts.len();
    let mut parent: Vec<usize> = (0..n).collect();
    if rule.min_together_ms > 0 {
        let span = |i: usize| {
            let (t, (a, b)) = parts[i];
            (tubes[t].boxes[a].0, tubes[t].boxes[b].0)
        };
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| (span(i).0, i));
        for (k, &i) in order.iter().enumerate() {
            let (_, end_i) = span(i);
            for &j in &order[k + 1..] {
                let (start_j, _) = span(j);
                if start_j > end_i {
                    break;
                }
                if parts[i].0 == parts[j].0 {
                    continue;
                }
                let slice = |p: Part| &tubes[p.0].boxes[p.1 .0..=p.1 .1];
                let (a, b) = (slice(parts[i]), slice(parts[j]));
                // The sparser-sampled one is walked: both directions agree within a step.
                let ms = together_ms(a, b, rule.gap).max(together_ms(b, a, rule.gap));
                let common_ms = span(i).1.min(span(j).1) - span(i).0.max(span(j).0);
                if ms >= rule.min_together_ms && ms as f64 >= rule.min_share * common_ms as f64 {
                    let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                    parent[ri.max(rj)] = ri.min(rj);
                }
            }
        }
    }
    let mut by_root: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for i in 0..n {
        let r = find(&mut parent, i);
        by_root.entry(r).or_default().push(i);
    }
    by_root.into_values().collect()
}

/// A group's members cut into time windows no longer than about `length_ms` and never
/// shorter than `min_ms` (a group spanning less than twice `min_ms` is one window), as
/// [`crate::segment::cut`] cuts one part: `n` equal windows of the group's span. Returns,
/// per window (in time order, empty windows left out), the members' segments in it:
/// `(index into members, inclusive box range)`. A member's segments share their
/// boundary box, so no box is lost and none is invented; a segment shorter than `min_ms`
/// is merged into its neighbour (a member shorter than that is one segment), so a member
/// that joined late is not shown as a sliver.
pub fn cut_group(
    tubes: &[TubeInput],
    parts: &[Part],
    members: &[usize],
    length_ms: i64,
    min_ms: i64,
) -> Vec<Vec<(usize, (usize, usize))>> {
    let time = |p: Part, k: usize| tubes[p.0].boxes[k].0;
    let g0 = members
        .iter()
        .map(|&m| time(parts[m], parts[m].1 .0))
        .min()
        .unwrap_or(0);
    let g1 = members
        .iter()
        .map(|&m| time(parts[m], parts[m].1 .1))
        .max()
        .unwrap_or(0);
    let d = g1 - g0;
    let n = crate::segment::count(d, length_ms, min_ms);
    let bounds: Vec<i64> = (1..n).map(|k| g0 + k * d / n).collect();
    let window_of = |t: i64| bounds.partition_point(|&b| b <= t);
    let mut windows: Vec<Vec<(usize, (usize, usize))>> = vec![Vec::new(); n as usize];
    for (mi, &m) in members.iter().enumerate() {
        let (ti, (a, b)) = parts[m];
        let boxes = &tubes[ti].boxes;
        let mut cuts = vec![a];
        for &t in &bounds {
            let idx = (a + boxes[a..=b].partition_point(|x| x.0 < t)).min(b);
            if idx > *cuts.last().unwrap_or(&a) && idx < b {
                cuts.push(idx);
            }
        }
        cuts.push(b);
        // (window, segment); a single-box member is one segment.
        let mut segs: Vec<(usize, (usize, usize))> = if a == b {
            vec![(window_of(boxes[a].0), (a, b))]
        } else {
            cuts.windows(2)
                .map(|w| (window_of(boxes[w[0]].0), (w[0], w[1])))
                .collect()
        };
        // A member that starts just before a boundary (or ends just after one) would get
        // a sliver: merged into its neighbour, which keeps its window (that window's unit
        // then reaches a little earlier or later), as `segment::cut` merges short segments.
        crate::segment::merge_short(&mut segs, boxes, min_ms, |s| &mut s.1);
        for (w, seg) in segs {
            windows[w].push((mi, seg));
        }
    }
    windows.retain(|w| !w.is_empty());
    windows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tube(id: u64, points: &[(i64, f32, f32)]) -> TubeInput {
        let first = points.first().map_or(0, |p| p.0);
        let last = points.last().map_or(0, |p| p.0);
        TubeInput {
            track_id: id,
            label: "person".into(),
            first_pts_ms: first,
            last_pts_ms: last,
            first_wall_ms: None,
            last_wall_ms: None,
            boxes: points
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
                .collect(),
        }
    }

    /// A walks 0..10 s along y = 100; B beside it (10 px right) from 2 s to 8 s; C
    /// crosses A's path at 5 s (0.4 s of touching); D walks the same path 30 s later.
    fn scene() -> Vec<TubeInput> {
        let walk = |t0: i64, t1: i64, dx: f32, y: f32| -> Vec<(i64, f32, f32)> {
            (t0 / 100..=t1 / 100)
                .map(|k| (k * 100, (k * 100) as f32 * 0.02 + dx, y))
                .collect()
        };
        let cross: Vec<(i64, f32, f32)> = (40..=60)
            .map(|k| (k * 100, 100.0, (k * 100 - 5_000) as f32 * 0.5 + 100.0))
            .collect();
        vec![
            tube(1, &walk(0, 10_000, 0.0, 100.0)),
            tube(2, &walk(2_000, 8_000, 10.0, 100.0)),
            tube(3, &cross),
            tube(4, &walk(30_000, 40_000, 0.0, 100.0)),
        ]
    }

    fn whole(tubes: &[TubeInput]) -> Vec<Part> {
        tubes
            .iter()
            .enumerate()
            .map(|(i, t)| (i, (0, t.boxes.len() - 1)))
            .collect()
    }

    #[test]
    fn walking_together_groups_crossing_does_not() {
        let tubes = scene();
        let parts = whole(&tubes);
        let g = groups(&tubes, &parts, GroupRule::default());
        assert_eq!(g, vec![vec![0, 1], vec![2], vec![3]]);
        // Off: every part alone.
        let off = GroupRule {
            min_together_ms: 0,
            ..GroupRule::default()
        };
        assert_eq!(groups(&tubes, &parts, off).len(), 4);
    }

    #[test]
    fn a_group_is_cut_into_shared_windows_and_loses_no_box() {
        let tubes = scene();
        let parts = whole(&tubes);
        let members = [0usize, 1];
        let w = cut_group(&tubes, &parts, &members, 3_000, 2_000);
        // 10 s span, 3 s windows: 4 windows of 2.5 s.
        assert_eq!(w.len(), 4, "{w:?}");
        for (mi, &m) in members.iter().enumerate() {
            let (ti, (a, b)) = parts[m];
            let mut segs: Vec<(usize, usize)> = w
                .iter()
                .flatten()
                .filter(|s| s.0 == mi)
                .map(|s| s.1)
                .collect();
            segs.sort();
            assert_eq!(segs.first().unwrap().0, a);
            assert_eq!(segs.last().unwrap().1, b);
            for pair in segs.windows(2) {
                assert_eq!(pair[0].1, pair[1].0, "segments share their boundary box");
            }
            // Every segment lasts at least the minimum, and lies in the window of its
            // first box or, when a sliver before a boundary was merged into it, the next.
            for (k, win) in w.iter().enumerate() {
                for s in win.iter().filter(|s| s.0 == mi) {
                    let (t0, t1) = (tubes[ti].boxes[s.1 .0].0, tubes[ti].boxes[s.1 .1].0);
                    assert!(t1 - t0 >= 2_000, "{t0}..{t1}");
                    let first = t0 / 2_500;
                    assert!(k as i64 == first || k as i64 == first + 1, "{t0} {k}");
                }
            }
        }
        // B (2..8 s) would have had a 0.5 s sliver before 2.5 s: merged into the next
        // window, so B is not in the first.
        assert!(w[0].iter().all(|s| s.0 != 1), "{w:?}");
        // Too short to cut: one window.
        assert_eq!(cut_group(&tubes, &parts, &members, 20_000, 3_000).len(), 1);
    }
}
