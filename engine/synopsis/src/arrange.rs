//! Rearrangement: when each tube starts in the synopsis.
//!
//! Why a coarse occupancy grid: the exact objective (overlap of object pixels between every
//! pair of shifted tubes) is quadratic in tubes and needs the pixels, which are only known
//! after a full decode. The boxes are known up front (from the analysis), so placement
//! works on a (time slot x image cell) grid where each tube's *footprint* is the box area
//! it covers in each cell and slot. Placing a tube costs one sum over its footprint per
//! candidate start, so thousands of tubes place in well under a second.
//!
//! Greedy by decreasing footprint (large tubes are the hardest to fit, so they go first),
//! each at the start with the least overlap with what is already placed (earliest on ties).
//! With `keep_order`, tubes go in chronological order and no tube starts before the one
//! that appeared before it in the source. No tube is ever dropped: a tube longer than the
//! target length makes the synopsis longer instead.

use vigie_core::BBox;

/// One tube as the arrangement sees it: box samples relative to the tube's first box.
#[derive(Debug, Clone, PartialEq)]
pub struct TubeShape {
    /// Original start in the source (pts of the first box), ms; orders tubes for
    /// `keep_order`.
    pub source_start_ms: i64,
    /// (source pts, box in frame pixels), time-ordered; times count from the first box.
    pub boxes: Vec<(i64, BBox)>,
    /// The object's pixels per grid cell, one list per box (same order): `(cell, pixels)`
    /// with `cell = row * grid + column`, from the cut-out masks when they are known. An
    /// empty list (or `None`) stands for the box's whole area.
    pub cover: Option<Vec<Vec<(u32, f32)>>>,
    /// Set when the shape is several objects placed as one (a group's window).
    pub group: Option<GroupShape>,
}

/// What the arrangement needs to know of a group's window placed as one shape.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupShape {
    /// Objects drawn: each counts against `max_objects` over the whole window.
    pub members: u32,
    /// Per box (same order as `boxes`), until when it holds, ms: the time of the next box
    /// *of the same object* (its own last box: its own time), since the boxes of several
    /// objects are interleaved in `boxes`.
    pub held_until_ms: Vec<i64>,
}

impl TubeShape {
    pub fn duration_ms(&self) -> i64 {
        match (self.boxes.first(), self.boxes.last()) {
            (Some(a), Some(b)) => (b.0 - a.0).max(0),
            _ => 0,
        }
    }
}

/// How to arrange.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrangeConfig {
    pub frame_size: (u32, u32),
    /// Time resolution of the occupancy grid, ms.
    pub slot_ms: i64,
    /// Image cells per side of the occupancy grid.
    pub grid: usize,
    /// Target synopsis length, ms (made longer if a tube does not fit).
    pub length_ms: i64,
    pub keep_order: bool,
    /// At most this many tubes at once (`None`: no cap); a tube that finds no room under
    /// the cap starts later, making the synopsis longer.
    pub max_objects: Option<usize>,
    /// Keep each tube near the synopsis time that its source time maps to (`None`: any
    /// start).
    pub band: Option<TimeBand>,
    /// The tubes are shown this many times faster than the footage (their shapes already
    /// compressed in time): the footage's own timing starts each at its source start
    /// less the first one's, divided by this ([`original_timing`]). 1: their own pace.
    pub time_scale: i64,
}

/// The time-of-day band: the background of synopsis time `t` is the scene at source time
/// `t x source / length`, so a tube from source time `s` may start only where that
/// mapping stays within `half_width_ms` of `s` (source time). Over hours of footage this
/// keeps objects over the light of their own hour; under `2 x half_width_ms` of footage
/// it binds nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBand {
    /// The source (or camera timeline) duration the synopsis condenses, ms.
    pub source_ms: i64,
    /// How far (source time) a tube's synopsis moment may be from its own time, ms.
    pub half_width_ms: i64,
}

impl TimeBand {
    /// The starts (slots) a tube from source time `source_start_ms` may take, within
    /// `0..=last` (never empty).
    pub fn slots(
        &self,
        source_start_ms: i64,
        length_ms: i64,
        slot_ms: i64,
        last: usize,
    ) -> (usize, usize) {
        let d = self.source_ms.max(1) as i128;
        let map = |t: i64| {
            let ms = (t as i128 * length_ms as i128 / d).max(0) as i64;
            (ms / slot_ms.max(1)) as usize
        };
        let lo = map(source_start_ms - self.half_width_ms).min(last);
        let hi = map(source_start_ms + self.half_width_ms).min(last).max(lo);
        (lo, hi)
    }
}

/// Where every tube goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrangement {
    /// Start in the synopsis, ms, one per input tube (same order as the input).
    pub starts_ms: Vec<i64>,
    /// Actual synopsis length: the end of the last tube, ms.
    pub length_ms: i64,
    /// Share of the tubes' box footprint that overlaps another tube's (0..1), the grid's
    /// proxy for the pixel collision rate.
    pub box_collision: f64,
}

impl Arrangement {
    /// The tubes at `starts_ms`, given the footprint area (px) that overlaps a tube placed
    /// earlier and the total footprint area.
    fn at(tubes: &[TubeShape], starts_ms: Vec<i64>, overlap: f64, total: f64) -> Self {
        let length_ms = tubes
            .iter()
            .zip(&starts_ms)
            .map(|(t, s)| s + t.duration_ms())
            .max()
            .unwrap_or(0);
        Self {
            starts_ms,
            length_ms,
            // Each overlap is counted once (by the tube placed second) but hides pixels of
            // both tubes.
            box_collision: if total > 0.0 {
                (2.0 * overlap / total).min(1.0)
            } else {
                0.0
            },
        }
    }
}

/// A tube's footprint: (slot offset, cell, covered area in px), one entry per pair.
type Footprint = Vec<(usize, usize, f32)>;

fn footprint(t: &TubeShape, cfg: &ArrangeConfig) -> Footprint {
    let (w, h) = (cfg.frame_size.0 as f32, cfg.frame_size.1 as f32);
    let g = cfg.grid;
    let (cw, ch) = (w / g as f32, h / g as f32);
    let t0 = t.boxes.first().map(|b| b.0).unwrap_or(0);
    let slot_of = |pts: i64| ((pts - t0).max(0) / cfg.slot_ms) as usize;
    let mut cells: std::collections::BTreeMap<(usize, usize), f32> = Default::default();
    let mut here: Vec<(usize, f32)> = Vec::new();
    for (k, (pts, b)) in t.boxes.iter().enumerate() {
        here.clear();
        if let Some(cover) = t
            .cover
            .as_ref()
            .and_then(|c| c.get(k))
            .filter(|c| !c.is_empty())
        {
            here.extend(
                cover
                    .iter()
                    .filter(|&&(cell, _)| (cell as usize) < g * g)
                    .map(|&(cell, a)| (cell as usize, a)),
            );
        } else {
            let x0 = b.x.max(0.0);
            let y0 = b.y.max(0.0);
            let x1 = (b.x + b.w).min(w);
            let y1 = (b.y + b.h).min(h);
            if x1 > x0 && y1 > y0 {
                let cx0 = ((x0 / cw) as usize).min(g - 1);
                let cx1 = (((x1 - 1e-3) / cw) as usize).min(g - 1);
                let cy0 = ((y0 / ch) as usize).min(g - 1);
                let cy1 = (((y1 - 1e-3) / ch) as usize).min(g - 1);
                for cy in cy0..=cy1 {
                    for cx in cx0..=cx1 {
                        let ox = (x1.min((cx + 1) as f32 * cw) - x0.max(cx as f32 * cw)).max(0.0);
                        let oy = (y1.min((cy + 1) as f32 * ch) - y0.max(cy as f32 * ch)).max(0.0);
                        here.push((cy * g + cx, ox * oy));
                    }
                }
            }
        }
        // A box holds its slot and every slot up to the next box's: boxes further apart
        // than a slot (a detector that skipped frames, a stationary stretch's two ends)
        // leave no hole where the object still is.
        let first = slot_of(*pts);
        let next = match &t.group {
            Some(g) => g.held_until_ms.get(k).copied().filter(|&n| n > *pts),
            None => t.boxes.get(k + 1).map(|b| b.0),
        };
        let last = next.map_or(first, |next| slot_of(next).saturating_sub(1).max(first));
        for slot in first..=last {
            for &(cell, a) in &here {
                let e = cells.entry((slot, cell)).or_insert(0.0);
                *e = e.max(a);
            }
        }
    }
    cells.into_iter().map(|((s, c), a)| (s, c, a)).collect()
}

fn len_slots(t: &TubeShape, slot_ms: i64) -> usize {
    (t.duration_ms() / slot_ms) as usize + 1
}

/// Most passes of the refinement after the greedy placement (it stops when no tube
/// moves; on vtest.avi it converges in 2-5).
const REFINE_SWEEPS: usize = 12;

/// The overlap a tube placed at `start` has with the others, when the occupancy grid
/// includes it.
fn cost_without(occ: &[f32], cells: usize, fp: &Footprint, start: usize) -> f32 {
    let mut c = 0.0;
    for &(k, cell, a) in fp {
        let o = occ[(start + k) * cells + cell] - a;
        if o > 0.0 {
            c += o.min(a);
        }
    }
    c
}

/// Overlap of a footprint placed at `start` with the occupancy grid.
fn cost(occ: &[f32], cells: usize, fp: &Footprint, start: usize) -> f32 {
    let mut c = 0.0;
    for &(k, cell, a) in fp {
        let o = occ[(start + k) * cells + cell];
        if o > 0.0 {
            c += o.min(a);
        }
    }
    c
}

/// Place every tube (see the module docs). Errors only on a bad configuration.
pub fn arrange(tubes: &[TubeShape], cfg: &ArrangeConfig) -> Result<Arrangement, String> {
    arrange_with_fixed(tubes, &[], cfg)
}

/// [`arrange`], with shapes already in place (`(shape, start ms)`: what the background
/// shows for a while, such as stationary objects) that the tubes avoid. Their area
/// counts in the collision figure; they do not count against `max_objects`.
pub fn arrange_with_fixed(
    tubes: &[TubeShape],
    fixed: &[(TubeShape, i64)],
    cfg: &ArrangeConfig,
) -> Result<Arrangement, String> {
    if cfg.slot_ms <= 0 || cfg.grid == 0 || cfg.length_ms <= 0 {
        return Err(format!(
            "invalid arrangement grid (slot {} ms, {} cells, length {} ms; expected all > 0)",
            cfg.slot_ms, cfg.grid, cfg.length_ms
        ));
    }
    if cfg.frame_size.0 == 0 || cfg.frame_size.1 == 0 {
        return Err("invalid frame size 0 (expected the working resolution)".into());
    }
    if cfg.max_objects == Some(0) {
        return Err("invalid cap of 0 objects at once (expected at least 1)".into());
    }
    let cells = cfg.grid * cfg.grid;
    let target_slots = (cfg.length_ms / cfg.slot_ms).max(1) as usize;
    let fps: Vec<Footprint> = tubes.iter().map(|t| footprint(t, cfg)).collect();
    let mut order: Vec<usize> = (0..tubes.len()).collect();
    if cfg.keep_order {
        order.sort_by_key(|&i| (tubes[i].source_start_ms, i));
    } else {
        let weight = |i: usize| fps[i].iter().map(|e| e.2 as f64).sum::<f64>();
        order.sort_by(|&a, &b| weight(b).total_cmp(&weight(a)).then(a.cmp(&b)));
    }
    // Grows as tubes are placed (keep_order or the cap can push tubes past the target).
    let mut occ: Vec<f32> = vec![0.0; (target_slots + 1) * cells];
    let mut count: Vec<u32> = vec![0; target_slots + 1];
    let grow = |occ: &mut Vec<f32>, count: &mut Vec<u32>, slots: usize| {
        if count.len() < slots {
            count.resize(slots, 0);
            occ.resize(slots * cells, 0.0);
        }
    };
    let (mut overlap, mut total) = (0.0f64, 0.0f64);
    for (shape, start) in fixed {
        let fp = footprint(shape, cfg);
        let s = (start.max(&0) / cfg.slot_ms) as usize;
        grow(&mut occ, &mut count, s + len_slots(shape, cfg.slot_ms) + 1);
        overlap += cost(&occ, cells, &fp, s) as f64;
        for &(k, cell, a) in &fp {
            occ[(s + k) * cells + cell] += a;
            total += a as f64;
        }
    }
    let mut starts = vec![0usize; tubes.len()];
    let lens: Vec<usize> = tubes.iter().map(|t| len_slots(t, cfg.slot_ms)).collect();
    // Objects each shape draws (a group's members count over its whole window; a group
    // larger than the cap takes slots where nothing else is).
    let weights: Vec<u32> = tubes
        .iter()
        .map(|t| {
            let w = t.group.as_ref().map_or(1, |g| g.members.max(1));
            cfg.max_objects.map_or(w, |m| w.min(m as u32))
        })
        .collect();
    // The start in lo..=hi with the least overlap and room under the cap (earliest on
    // ties), else the first start after hi with room.
    let best_start = |occ: &mut Vec<f32>, count: &mut Vec<u32>, i: usize, lo: usize, hi: usize| {
        let len = lens[i];
        grow(occ, count, hi + len + 1);
        let room = |count: &[u32], s: usize| match cfg.max_objects {
            None => true,
            Some(m) => count[s..s + len]
                .iter()
                .all(|&c| c as usize + weights[i] as usize <= m),
        };
        let mut best: Option<(f32, usize)> = None;
        for s in lo..=hi {
            if !room(count, s) {
                continue;
            }
            let c = cost(occ, cells, &fps[i], s);
            if best.is_none_or(|b| c < b.0) {
                best = Some((c, s));
                if c == 0.0 {
                    break;
                }
            }
        }
        match best {
            Some(b) => b.1,
            None => {
                let mut s = hi + 1;
                loop {
                    grow(occ, count, s + len + 1);
                    if room(count, s) {
                        break s;
                    }
                    s += 1;
                }
            }
        }
    };
    let add = |occ: &mut Vec<f32>, count: &mut Vec<u32>, i: usize, s: usize, sign: f32| {
        for &(k, cell, a) in &fps[i] {
            let o = &mut occ[(s + k) * cells + cell];
            *o = (*o + sign * a).max(0.0);
        }
        for n in &mut count[s..s + lens[i]] {
            *n = if sign > 0.0 {
                *n + weights[i]
            } else {
                n.saturating_sub(weights[i])
            };
        }
    };
    let window = |i: usize, last: usize| match cfg.band {
        Some(b) => b.slots(
            tubes[i].source_start_ms,
            target_slots as i64 * cfg.slot_ms,
            cfg.slot_ms,
            last,
        ),
        None => (0, last),
    };
    let mut min_start = 0usize;
    for &i in &order {
        let last = target_slots.max(lens[i]) - lens[i];
        let (w_lo, w_hi) = window(i, last);
        let lo = if cfg.keep_order {
            min_start.max(w_lo)
        } else {
            w_lo
        };
        let s = best_start(&mut occ, &mut count, i, lo, w_hi.max(lo));
        starts[i] = s;
        add(&mut occ, &mut count, i, s, 1.0);
        if cfg.keep_order {
            // Shapes keep the order of their first appearance; a member who joined a
            // group later keeps its place in the group (an object placed on its own
            // that appeared in between may then start after it).
            min_start = s;
        }
    }
    // Refinement: each tube in turn taken out and put back where it now overlaps least
    // (the greedy placed the first tubes before knowing the others). Not with keep_order
    // (each start is bound by its neighbours').
    if !cfg.keep_order {
        for _ in 0..REFINE_SWEEPS {
            let mut moved = false;
            for &i in &order {
                let old = starts[i];
                let before = cost_without(&occ, cells, &fps[i], old);
                add(&mut occ, &mut count, i, old, -1.0);
                let last = target_slots.max(lens[i]) - lens[i];
                let (w_lo, w_hi) = window(i, last);
                let mut s = best_start(&mut occ, &mut count, i, w_lo, w_hi);
                if cost(&occ, cells, &fps[i], s) >= before {
                    s = old;
                }
                moved |= s != old;
                starts[i] = s;
                add(&mut occ, &mut count, i, s, 1.0);
            }
            if !moved {
                break;
            }
        }
    }
    // The overlap of the final placement, each pair counted once (the fixed shapes'
    // among themselves were counted when put in place).
    occ.fill(0.0);
    for (shape, start) in fixed {
        let fp = footprint(shape, cfg);
        let s = (start.max(&0) / cfg.slot_ms) as usize;
        for &(k, cell, a) in &fp {
            occ[(s + k) * cells + cell] += a;
        }
    }
    for &i in &order {
        let s = starts[i];
        overlap += cost(&occ, cells, &fps[i], s) as f64;
        for &(k, cell, a) in &fps[i] {
            occ[(s + k) * cells + cell] += a;
            total += a as f64;
        }
    }
    let starts_ms: Vec<i64> = starts.iter().map(|&s| s as i64 * cfg.slot_ms).collect();
    Ok(Arrangement::at(tubes, starts_ms, overlap, total))
}

/// What [`arrange_auto_with`] found: the arrangement and the target length it was made
/// for (give it back to the shape function to get the shapes arranged).
#[derive(Debug, Clone, PartialEq)]
pub struct AutoResult {
    pub arrangement: Arrangement,
    pub target_ms: i64,
    /// Every tube at its source timing (at `time_scale`) was better (only with
    /// `keep_order`): the arrangement is that timing, for the shapes of `target_ms`.
    pub original: bool,
}

/// The shortest target length in `[min_length_ms, max_length_ms]` whose arrangement keeps
/// the collision at or under `max_collision`, where the shapes depend on the length
/// (`shapes_for(len)` gives the tubes to place and the fixed shapes, e.g. long tubes cut
/// into segments no longer than `len`). Lengths are scanned upwards in 10% steps, then
/// the step that first met the budget is bisected (the collision is not monotonic in the
/// length: a greedy placement); falls back to `max_length_ms` when even that collides
/// more.
pub fn arrange_auto_with<F>(
    cfg: &ArrangeConfig,
    min_length_ms: i64,
    max_length_ms: i64,
    max_collision: f64,
    shapes_for: F,
) -> Result<AutoResult, String>
where
    F: Fn(i64) -> (Vec<TubeShape>, Vec<(TubeShape, i64)>),
{
    let at = |len: i64| {
        let (tubes, fixed) = shapes_for(len);
        arrange_with_fixed(
            &tubes,
            &fixed,
            &ArrangeConfig {
                length_ms: len,
                ..cfg.clone()
            },
        )
    };
    let mut lo = min_length_ms.max(cfg.slot_ms);
    let mut hi = max_length_ms.max(lo);
    let mut best = (at(lo)?, lo);
    let mut found = best.0.box_collision <= max_collision;
    let mut prev = lo;
    while !found && prev < hi {
        let len = ((prev as f64 * 1.1) as i64).max(prev + cfg.slot_ms).min(hi);
        let a = at(len)?;
        if a.box_collision <= max_collision {
            found = true;
            lo = prev;
            hi = len;
            best = (a, len);
        } else {
            if len == hi {
                best = (a, len);
            }
            prev = len;
        }
    }
    if found {
        while hi - lo > cfg.slot_ms {
            let mid = lo + (hi - lo) / 2;
            let a = at(mid)?;
            if a.box_collision <= max_collision {
                hi = mid;
                best = (a, mid);
            } else {
                lo = mid;
            }
        }
    }
    // In chronological order the source's own timing is always possible: never do worse
    // than it (longer, or more collisions when over budget).
    if cfg.keep_order {
        // That timing is planned for its own length (the shapes cut for it; the caller
        // runs the background on the objects' clock), and judged as planned; never
        // longer than the longest length allowed.
        let (tubes, _) = shapes_for(best.1);
        let len = original_timing(&tubes, cfg)?.length_ms.max(cfg.slot_ms);
        let (tubes, _) = shapes_for(len);
        let original = original_timing(&tubes, cfg)?;
        let over =
            best.0.box_collision > max_collision && original.box_collision <= best.0.box_collision;
        let fits = original.length_ms <= max_length_ms.max(min_length_ms);
        if fits && (best.0.length_ms > original.length_ms || over) {
            return Ok(AutoResult {
                arrangement: original,
                target_ms: len,
                original: true,
            });
        }
    }
    Ok(AutoResult {
        arrangement: best.0,
        target_ms: best.1,
        original: false,
    })
}

/// The shortest length (between the longest tube and `max_length_ms`) whose arrangement
/// keeps the box collision at or under `max_collision` (see [`arrange_auto_with`], here
/// with shapes that do not depend on the length); falls back to `max_length_ms` when even
/// that collides more.
pub fn arrange_auto(
    tubes: &[TubeShape],
    cfg: &ArrangeConfig,
    max_length_ms: i64,
    max_collision: f64,
) -> Result<Arrangement, String> {
    let longest = tubes
        .iter()
        .map(TubeShape::duration_ms)
        .max()
        .unwrap_or(0)
        .max(cfg.slot_ms);
    arrange_auto_with(cfg, longest, max_length_ms, max_collision, |_| {
        (tubes.to_vec(), Vec::new())
    })
    .map(|r| r.arrangement)
}

/// Every tube at its source start (shifted so the first starts at 0; at `time_scale` N,
/// N times sooner, as the tubes run N times faster), with the collision measured as
/// [`arrange`] does: chronological by definition, never longer than the footage.
pub fn original_timing(tubes: &[TubeShape], cfg: &ArrangeConfig) -> Result<Arrangement, String> {
    let t0 = tubes.iter().map(|t| t.source_start_ms).min().unwrap_or(0);
    let k = cfg.time_scale.max(1);
    let starts: Vec<i64> = tubes
        .iter()
        .map(|t| (t.source_start_ms - t0) / k / cfg.slot_ms * cfg.slot_ms)
        .collect();
    measure(tubes, cfg, starts)
}

/// The box collision of given starts (ms, multiples of `slot_ms`).
pub fn measure(
    tubes: &[TubeShape],
    cfg: &ArrangeConfig,
    starts_ms: Vec<i64>,
) -> Result<Arrangement, String> {
    if cfg.slot_ms <= 0 || cfg.grid == 0 || starts_ms.len() != tubes.len() {
        return Err("invalid arrangement to measure".into());
    }
    let cells = cfg.grid * cfg.grid;
    let slots = tubes
        .iter()
        .zip(&starts_ms)
        .map(|(t, s)| (s.max(&0) / cfg.slot_ms) as usize + len_slots(t, cfg.slot_ms))
        .max()
        .unwrap_or(1);
    let mut occ = vec![0.0f32; (slots + 1) * cells];
    let (mut overlap, mut total) = (0.0f64, 0.0f64);
    for (t, s) in tubes.iter().zip(&starts_ms) {
        let fp = footprint(t, cfg);
        let s = (s.max(&0) / cfg.slot_ms) as usize;
        overlap += cost(&occ, cells, &fp, s) as f64;
        for &(k, cell, a) in &fp {
            occ[(s + k) * cells + cell] += a;
            total += a as f64;
        }
    }
    Ok(Arrangement::at(tubes, starts_ms, overlap, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tube(start_ms: i64, dur_ms: i64, x: f32, y: f32) -> TubeShape {
        TubeShape {
            source_start_ms: start_ms,
            boxes: (0..=dur_ms / 100)
                .map(|k| {
                    (
                        start_ms + k * 100,
                        BBox {
                            x,
                            y,
                            w: 20.0,
                            h: 20.0,
                        },
                    )
                })
                .collect(),
            cover: None,
            group: None,
        }
    }

    fn cfg(length_ms: i64, keep_order: bool) -> ArrangeConfig {
        ArrangeConfig {
            time_scale: 1,
            frame_size: (200, 200),
            slot_ms: 100,
            grid: 10,
            length_ms,
            keep_order,
            max_objects: None,
            band: None,
        }
    }

    #[test]
    fn the_footage_timing_of_faster_tubes_is_sooner_by_their_speed() {
        // Tubes from 0, 10 s and 21 s shown twice as fast: at 0, 5 s and 10.5 s, as one
        // clock (a tube at its own pace would no longer meet its neighbours as it did).
        let tubes = [
            tube(0, 4_000, 0.0, 0.0),
            tube(10_000, 4_000, 50.0, 0.0),
            tube(21_000, 4_000, 100.0, 0.0),
        ];
        let fast = ArrangeConfig {
            time_scale: 2,
            ..cfg(30_000, true)
        };
        assert_eq!(
            original_timing(&tubes, &fast).unwrap().starts_ms,
            vec![0, 5_000, 10_500]
        );
        assert_eq!(
            original_timing(&tubes, &cfg(30_000, true))
                .unwrap()
                .starts_ms,
            vec![0, 10_000, 21_000]
        );
    }

    #[test]
    fn a_box_holds_the_slots_up_to_the_next_one() {
        // Two boxes 1 s apart (a stationary paste's ends, a detector that skipped frames):
        // the object is there in every slot between them, not only at the two ends.
        let b = BBox {
            x: 0.0,
            y: 0.0,
            w: 20.0,
            h: 20.0,
        };
        let t = TubeShape {
            source_start_ms: 0,
            boxes: vec![(0, b), (1_000, b)],
            cover: None,
            group: None,
        };
        let fp = footprint(&t, &cfg(10_000, false));
        let slots: std::collections::BTreeSet<usize> = fp.iter().map(|e| e.0).collect();
        assert_eq!(slots, (0..=10).collect());
        // Another object in the middle of that second collides.
        let other = TubeShape {
            source_start_ms: 0,
            boxes: vec![(0, b), (100, b)],
            cover: None,
            group: None,
        };
        let a = arrange_with_fixed(&[other], &[(t, 0)], &cfg(3_000, false)).unwrap();
        assert!(a.starts_ms[0] >= 1_000, "{:?}", a.starts_ms);
    }

    #[test]
    fn a_group_members_box_holds_until_its_own_next_box() {
        // Member A detected once a second at (0,0), member B every 100 ms far away: in the
        // group's shape their boxes interleave, yet A is there in every slot of its
        // second, as it would be alone.
        let at = |x: f32| BBox {
            x,
            y: 0.0,
            w: 20.0,
            h: 20.0,
        };
        let mut boxes: Vec<(i64, BBox, i64)> = (0..=2)
            .map(|k| (k * 1_000, at(0.0), (k * 1_000 + 1_000).min(2_000)))
            .collect();
        boxes.extend((0..=20).map(|k| (k * 100, at(150.0), (k * 100 + 100).min(2_000))));
        boxes.sort_by_key(|b| b.0);
        let t = TubeShape {
            source_start_ms: 0,
            group: Some(GroupShape {
                members: 2,
                held_until_ms: boxes.iter().map(|b| b.2).collect(),
            }),
            boxes: boxes.iter().map(|b| (b.0, b.1)).collect(),
            cover: None,
        };
        let fp = footprint(&t, &cfg(10_000, false));
        // Cell 0 (A's place): every slot of the 2 s.
        let a_slots: std::collections::BTreeSet<usize> =
            fp.iter().filter(|e| e.1 == 0).map(|e| e.0).collect();
        assert_eq!(a_slots, (0..=20).collect());
    }

    #[test]
    fn disjoint_places_share_time_without_collision() {
        // Four tubes in four different places, spread over a long source: all can start at 0.
        let tubes: Vec<_> = (0..4)
            .map(|i| tube(i * 60_000, 2_000, 40.0 * i as f32, 0.0))
            .collect();
        let a = arrange(&tubes, &cfg(2_000, false)).unwrap();
        assert_eq!(a.starts_ms, vec![0, 0, 0, 0]);
        assert_eq!(a.length_ms, 2_000);
        assert_eq!(a.box_collision, 0.0);
    }

    #[test]
    fn same_place_is_serialised_when_there_is_room() {
        let tubes: Vec<_> = (0..3)
            .map(|i| tube(i * 60_000, 1_000, 50.0, 50.0))
            .collect();
        let a = arrange(&tubes, &cfg(3_300, false)).unwrap();
        let mut s = a.starts_ms.clone();
        s.sort();
        // Each tube spans 11 slots (0..=1000 ms): back to back, no overlap.
        assert!(s[1] - s[0] >= 1_100 && s[2] - s[1] >= 1_100, "{s:?}");
        assert_eq!(a.box_collision, 0.0);
    }

    #[test]
    fn collisions_are_counted_when_forced() {
        // Two identical tubes and no room: they must overlap completely.
        let tubes: Vec<_> = (0..2)
            .map(|i| tube(i * 10_000, 1_000, 50.0, 50.0))
            .collect();
        let a = arrange(&tubes, &cfg(1_000, false)).unwrap();
        assert_eq!(a.starts_ms, vec![0, 0]);
        assert!((a.box_collision - 1.0).abs() < 1e-9, "{}", a.box_collision);
        // Half the time available: the second starts where the overlap is least.
        let a = arrange(&tubes, &cfg(1_600, false)).unwrap();
        assert!(a.box_collision > 0.0 && a.box_collision < 1.0);
    }

    #[test]
    fn no_tube_dropped_and_long_tubes_stretch_the_synopsis() {
        let mut tubes: Vec<_> = (0..50)
            .map(|i| tube(i * 1_000, 500 + (i % 7) * 300, (i % 9) as f32 * 20.0, 0.0))
            .collect();
        tubes.push(tube(99_000, 9_000, 0.0, 150.0));
        let a = arrange(&tubes, &cfg(3_000, false)).unwrap();
        assert_eq!(a.starts_ms.len(), tubes.len());
        for (t, s) in tubes.iter().zip(&a.starts_ms) {
            assert!(*s >= 0 && s + t.duration_ms() <= a.length_ms);
        }
        assert!(a.length_ms >= 9_000);
    }

    #[test]
    fn keep_order_keeps_chronology() {
        // Later tubes in free places would jump ahead without keep_order.
        let tubes = vec![
            tube(5_000, 3_000, 0.0, 0.0),
            tube(1_000, 3_000, 0.0, 0.0),
            tube(9_000, 500, 150.0, 150.0),
        ];
        let free = arrange(&tubes, &cfg(7_000, false)).unwrap();
        assert_eq!(free.starts_ms[2], 0);
        let kept = arrange(&tubes, &cfg(7_000, true)).unwrap();
        let s = &kept.starts_ms;
        assert!(s[1] <= s[0] && s[0] <= s[2], "{s:?}");
        assert_eq!(kept.box_collision, 0.0);
    }

    #[test]
    fn auto_length_finds_a_short_synopsis_under_the_collision_target() {
        let tubes: Vec<_> = (0..20)
            .map(|i| tube(i * 30_000, 2_000, (i % 5) as f32 * 40.0, 0.0))
            .collect();
        let a = arrange_auto(&tubes, &cfg(1, false), 600_000, 0.05).unwrap();
        assert!(a.box_collision <= 0.05);
        // 5 places, 4 tubes each of 2.1 s: about 8.4 s, far under the 600 s source.
        assert!(a.length_ms <= 12_000, "{}", a.length_ms);
    }

    #[test]
    fn thousands_of_tubes_place_quickly() {
        let tubes: Vec<_> = (0..3000)
            .map(|i| {
                tube(
                    i * 1_200,
                    1_000 + (i % 13) * 700,
                    ((i * 37) % 180) as f32,
                    ((i * 53) % 180) as f32,
                )
            })
            .collect();
        let t0 = std::time::Instant::now();
        let c = ArrangeConfig {
            slot_ms: 500,
            grid: 16,
            ..cfg(120_000, false)
        };
        let a = arrange(&tubes, &c).unwrap();
        assert_eq!(a.starts_ms.len(), 3000);
        assert!(t0.elapsed().as_secs_f64() < 20.0, "{:?}", t0.elapsed());
    }

    #[test]
    fn keep_order_auto_is_never_longer_than_the_footage() {
        // Short tubes first, then long ones: chronological greedy would overflow.
        let mut tubes: Vec<_> = (0..10).map(|i| tube(i * 1_000, 200, 0.0, 0.0)).collect();
        tubes.extend((0..3).map(|i| tube(10_000 + i * 3_000, 8_000, 0.0, 0.0)));
        let a = arrange_auto(&tubes, &cfg(1, true), 21_000, 0.05).unwrap();
        assert!(a.length_ms <= 21_000, "{}", a.length_ms);
        assert!(a.starts_ms.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn measure_matches_arrange() {
        let tubes: Vec<_> = (0..6)
            .map(|i| tube(i * 700, 1_500, (i % 3) as f32 * 30.0, 0.0))
            .collect();
        let c = cfg(2_500, false);
        let a = arrange(&tubes, &c).unwrap();
        // Measuring in the same order gives the same figure; in another order the
        // pairwise overlap is the same too.
        let m = measure(&tubes, &c, a.starts_ms.clone()).unwrap();
        assert!((m.box_collision - a.box_collision).abs() < 1e-6);
        assert_eq!(m.length_ms, a.length_ms);
    }

    #[test]
    fn placement_avoids_shapes_already_in_place() {
        // A stationary object pasted at 0..1 s where the tube would otherwise go first.
        let still = tube(0, 1_000, 50.0, 50.0);
        let t = vec![tube(5_000, 1_000, 50.0, 50.0)];
        let a = arrange_with_fixed(&t, &[(still, 0)], &cfg(3_000, false)).unwrap();
        assert!(a.starts_ms[0] >= 1_100, "{:?}", a.starts_ms);
        assert_eq!(a.box_collision, 0.0);
        // No room: the overlap with it is counted.
        let a =
            arrange_with_fixed(&t, &[(tube(0, 3_000, 50.0, 50.0), 0)], &cfg(1_000, false)).unwrap();
        assert!(a.box_collision > 0.4, "{}", a.box_collision);
    }

    #[test]
    fn mask_cover_replaces_the_box_area() {
        // Two boxes at the same place, but their objects' pixels are in different cells
        // (a thin object on the left of one box, on the right of the other): no overlap.
        let mut a = tube(0, 1_000, 40.0, 40.0);
        let mut b = tube(9_000, 1_000, 40.0, 40.0);
        let n = a.boxes.len();
        // Grid 10 over 200 px: 20 px cells; the boxes span cells 2..=3 on x, row 2..=3.
        a.cover = Some(vec![vec![(2 * 10 + 2, 100.0)]; n]);
        b.cover = Some(vec![vec![(2 * 10 + 3, 100.0)]; n]);
        let with = arrange(&[a.clone(), b.clone()], &cfg(1_000, false)).unwrap();
        assert_eq!(with.box_collision, 0.0);
        a.cover = None;
        b.cover = None;
        let without = arrange(&[a, b], &cfg(1_000, false)).unwrap();
        assert!(without.box_collision > 0.9, "{}", without.box_collision);
    }

    #[test]
    fn a_cap_on_tubes_at_once_lengthens_the_synopsis() {
        // Five tubes in five different places: all at once without a cap.
        let tubes: Vec<_> = (0..5)
            .map(|i| tube(i * 10_000, 1_000, 35.0 * i as f32, 0.0))
            .collect();
        let free = arrange(&tubes, &cfg(1_000, false)).unwrap();
        assert_eq!(free.length_ms, 1_000);
        let capped = arrange(
            &tubes,
            &ArrangeConfig {
                max_objects: Some(2),
                ..cfg(1_000, false)
            },
        )
        .unwrap();
        let mut s = capped.starts_ms.clone();
        s.sort();
        // Two, two, one: each tube spans 11 slots.
        assert_eq!(s, vec![0, 0, 1_100, 1_100, 2_200], "{s:?}");
        assert!(arrange(
            &tubes,
            &ArrangeConfig {
                max_objects: Some(0),
                ..cfg(1_000, false)
            }
        )
        .is_err());
    }

    #[test]
    fn refinement_never_makes_the_placement_worse() {
        // Many tubes crossing the same place: the greedy's result is refined; the
        // figure is the final placement's, as measured independently.
        let tubes: Vec<_> = (0..30)
            .map(|i| {
                tube(
                    i * 2_000,
                    800 + (i % 5) * 300,
                    (i % 4) as f32 * 30.0,
                    (i % 3) as f32 * 30.0,
                )
            })
            .collect();
        let c = cfg(6_000, false);
        let a = arrange(&tubes, &c).unwrap();
        let m = measure(&tubes, &c, a.starts_ms.clone()).unwrap();
        assert!(
            (m.box_collision - a.box_collision).abs() < 1e-6,
            "{} vs {}",
            m.box_collision,
            a.box_collision
        );
    }

    #[test]
    fn the_time_band_keeps_tubes_near_their_own_time() {
        // Ten tubes in one place spread over 10 h: unbound, they pile up at the start of a
        // 20 s synopsis wherever they collide least; within an hour of their own time
        // they stay in order, each near its tenth of the synopsis.
        let tubes: Vec<_> = (0..10)
            .map(|i| tube(i * 3_600_000, 1_000, 0.0, 0.0))
            .collect();
        let band = TimeBand {
            source_ms: 36_000_000,
            half_width_ms: 1_800_000,
        };
        let a = arrange(
            &tubes,
            &ArrangeConfig {
                band: Some(band),
                ..cfg(20_000, false)
            },
        )
        .unwrap();
        for (i, s) in a.starts_ms.iter().enumerate() {
            let own = i as i64 * 2_000;
            assert!(
                (s - own).abs() <= 1_000,
                "tube {i} at {s} ms, its time {own}"
            );
        }
        // Under an hour of footage the band binds nothing.
        let short = TimeBand {
            source_ms: 600_000,
            half_width_ms: 1_800_000,
        };
        assert_eq!(short.slots(300_000, 20_000, 100, 150), (0, 150));
    }

    #[test]
    fn bad_grid_is_refused() {
        assert!(arrange(
            &[],
            &ArrangeConfig {
                slot_ms: 0,
                ..cfg(1_000, false)
            }
        )
        .is_err());
    }
}
