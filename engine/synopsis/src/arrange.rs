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
    /// (ms since the tube's first box, box in frame pixels), time-ordered.
    pub boxes: Vec<(i64, BBox)>,
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

/// A tube's footprint: (slot offset, cell, covered area in px), one entry per pair.
type Footprint = Vec<(usize, usize, f32)>;

fn footprint(t: &TubeShape, cfg: &ArrangeConfig) -> Footprint {
    let (w, h) = (cfg.frame_size.0 as f32, cfg.frame_size.1 as f32);
    let g = cfg.grid;
    let (cw, ch) = (w / g as f32, h / g as f32);
    let t0 = t.boxes.first().map(|b| b.0).unwrap_or(0);
    let mut cells: std::collections::BTreeMap<(usize, usize), f32> = Default::default();
    for (pts, b) in &t.boxes {
        let slot = ((pts - t0).max(0) / cfg.slot_ms) as usize;
        let x0 = b.x.max(0.0);
        let y0 = b.y.max(0.0);
        let x1 = (b.x + b.w).min(w);
        let y1 = (b.y + b.h).min(h);
        if x1 <= x0 || y1 <= y0 {
            continue;
        }
        let cx0 = ((x0 / cw) as usize).min(g - 1);
        let cx1 = (((x1 - 1e-3) / cw) as usize).min(g - 1);
        let cy0 = ((y0 / ch) as usize).min(g - 1);
        let cy1 = (((y1 - 1e-3) / ch) as usize).min(g - 1);
        for cy in cy0..=cy1 {
            for cx in cx0..=cx1 {
                let ox = (x1.min((cx + 1) as f32 * cw) - x0.max(cx as f32 * cw)).max(0.0);
                let oy = (y1.min((cy + 1) as f32 * ch) - y0.max(cy as f32 * ch)).max(0.0);
                let e = cells.entry((slot, cy * g + cx)).or_insert(0.0);
                *e = e.max(ox * oy);
            }
        }
    }
    cells.into_iter().map(|((s, c), a)| (s, c, a)).collect()
}

fn len_slots(t: &TubeShape, slot_ms: i64) -> usize {
    (t.duration_ms() / slot_ms) as usize + 1
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
    if cfg.slot_ms <= 0 || cfg.grid == 0 || cfg.length_ms <= 0 {
        return Err(format!(
            "invalid arrangement grid (slot {} ms, {} cells, length {} ms; expected all > 0)",
            cfg.slot_ms, cfg.grid, cfg.length_ms
        ));
    }
    if cfg.frame_size.0 == 0 || cfg.frame_size.1 == 0 {
        return Err("invalid frame size 0 (expected the working resolution)".into());
    }
    let cells = cfg.grid * cfg.grid;
    let target_slots = (cfg.length_ms / cfg.slot_ms).max(1) as usize;
    let longest = tubes
        .iter()
        .map(|t| len_slots(t, cfg.slot_ms))
        .max()
        .unwrap_or(1);
    // Room for every tube even if keep_order pushes them all to the end.
    let cap_slots = target_slots.max(longest) + if cfg.keep_order { longest } else { 0 };
    let fps: Vec<Footprint> = tubes.iter().map(|t| footprint(t, cfg)).collect();
    let mut order: Vec<usize> = (0..tubes.len()).collect();
    if cfg.keep_order {
        order.sort_by_key(|&i| (tubes[i].source_start_ms, i));
    } else {
        let weight = |i: usize| fps[i].iter().map(|e| e.2 as f64).sum::<f64>();
        order.sort_by(|&a, &b| weight(b).total_cmp(&weight(a)).then(a.cmp(&b)));
    }
    let mut occ = vec![0.0f32; (cap_slots + longest + 1) * cells];
    let mut starts = vec![0usize; tubes.len()];
    let mut min_start = 0usize;
    let (mut overlap, mut total) = (0.0f64, 0.0f64);
    for &i in &order {
        let len = len_slots(&tubes[i], cfg.slot_ms);
        let last = target_slots.max(len) - len;
        let lo = if cfg.keep_order { min_start } else { 0 };
        let hi = last.max(lo);
        let mut best = (f32::INFINITY, lo);
        for s in lo..=hi {
            let c = cost(&occ, cells, &fps[i], s);
            if c < best.0 {
                best = (c, s);
                if c == 0.0 {
                    break;
                }
            }
        }
        let s = best.1;
        starts[i] = s;
        overlap += best.0 as f64;
        for &(k, cell, a) in &fps[i] {
            occ[(s + k) * cells + cell] += a;
            total += a as f64;
        }
        if cfg.keep_order {
            min_start = s;
        }
    }
    let starts_ms: Vec<i64> = starts.iter().map(|&s| s as i64 * cfg.slot_ms).collect();
    let length_ms = tubes
        .iter()
        .zip(&starts_ms)
        .map(|(t, s)| s + t.duration_ms())
        .max()
        .unwrap_or(0);
    Ok(Arrangement {
        starts_ms,
        length_ms,
        // Each overlap is counted once (by the tube placed second) but hides pixels of
        // both tubes.
        box_collision: if total > 0.0 {
            (2.0 * overlap / total).min(1.0)
        } else {
            0.0
        },
    })
}

/// The shortest length (between the longest tube and `max_length_ms`) whose arrangement
/// keeps the box collision at or under `max_collision`, by bisection; falls back to
/// `max_length_ms` when even that collides more.
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
    let mut hi = max_length_ms.max(longest);
    let mut lo = longest;
    let at = |len: i64| {
        arrange(
            tubes,
            &ArrangeConfig {
                length_ms: len,
                ..cfg.clone()
            },
        )
    };
    // The collision is not monotonic in the length (a greedy placement), so lengths are
    // scanned upwards in 10% steps, then the step that first met the budget is bisected.
    let mut best = at(lo)?;
    let mut found = best.box_collision <= max_collision;
    let mut prev = lo;
    while !found && prev < hi {
        let len = ((prev as f64 * 1.1) as i64).max(prev + cfg.slot_ms).min(hi);
        let a = at(len)?;
        if a.box_collision <= max_collision {
            found = true;
            lo = prev;
            hi = len;
            best = a;
        } else {
            if len == hi {
                best = a;
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
                best = a;
            } else {
                lo = mid;
            }
        }
    }
    // In chronological order the source's own timing is always possible: never do worse
    // than it (longer, or more collisions when over budget).
    if cfg.keep_order {
        let original = original_timing(tubes, cfg)?;
        let over =
            best.box_collision > max_collision && original.box_collision <= best.box_collision;
        if best.length_ms > original.length_ms || over {
            return Ok(original);
        }
    }
    Ok(best)
}

/// Every tube at its source start (shifted so the first starts at 0), with the collision
/// measured as [`arrange`] does: chronological by definition, never longer than the
/// footage.
pub fn original_timing(tubes: &[TubeShape], cfg: &ArrangeConfig) -> Result<Arrangement, String> {
    let t0 = tubes.iter().map(|t| t.source_start_ms).min().unwrap_or(0);
    let starts: Vec<i64> = tubes
        .iter()
        .map(|t| (t.source_start_ms - t0) / cfg.slot_ms * cfg.slot_ms)
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
    let length_ms = tubes
        .iter()
        .zip(&starts_ms)
        .map(|(t, s)| s + t.duration_ms())
        .max()
        .unwrap_or(0);
    Ok(Arrangement {
        starts_ms,
        length_ms,
        box_collision: if total > 0.0 {
            (2.0 * overlap / total).min(1.0)
        } else {
            0.0
        },
    })
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
        }
    }

    fn cfg(length_ms: i64, keep_order: bool) -> ArrangeConfig {
        ArrangeConfig {
            frame_size: (200, 200),
            slot_ms: 100,
            grid: 10,
            length_ms,
            keep_order,
        }
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
