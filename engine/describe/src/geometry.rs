//! How a track moved: size, speed, heading, simplified path, entry and exit edges.

use vigie_core::{BBox, Edge};

use crate::scene::GroundPoint;
use crate::DescribeConfig;

/// The motion part of a track summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Motion {
    pub width_px: f32,
    pub height_px: f32,
    pub size_frac: f32,
    pub speed_px_s: f32,
    pub heading_deg: Option<f32>,
    pub path_norm: Vec<(f32, f32)>,
    pub entry_edge: Edge,
    pub exit_edge: Edge,
}

fn median(mut v: Vec<f32>) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f32::total_cmp);
    v[v.len() / 2]
}

/// Box bottom centres, normalised to the frame.
pub fn ground_points(history: &[(i64, BBox)], w: u32, h: u32) -> Vec<GroundPoint> {
    history
        .iter()
        .map(|(t, b)| GroundPoint {
            pts_ms: *t,
            x: (b.x + b.w / 2.0) / w.max(1) as f32,
            y: (b.y + b.h) / h.max(1) as f32,
        })
        .collect()
}

fn edge_of(b: &BBox, w: f32, h: f32, margin: f32) -> Edge {
    let d = [
        (b.y / h, Edge::Top),
        (1.0 - (b.y + b.h) / h, Edge::Bottom),
        (b.x / w, Edge::Left),
        (1.0 - (b.x + b.w) / w, Edge::Right),
    ];
    d.iter()
        .filter(|(dist, _)| *dist <= margin)
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, e)| *e)
        .unwrap_or(Edge::Inside)
}

/// Mean centre over a slice of the history.
fn mean_centre(h: &[(i64, BBox)]) -> (f32, f32) {
    let n = h.len().max(1) as f32;
    let (sx, sy) = h.iter().fold((0.0, 0.0), |(sx, sy), (_, b)| {
        let (cx, cy) = b.centre();
        (sx + cx, sy + cy)
    });
    (sx / n, sy / n)
}

pub fn describe_motion(history: &[(i64, BBox)], w: u32, h: u32, cfg: &DescribeConfig) -> Motion {
    let (fw, fh) = (w.max(1) as f32, h.max(1) as f32);
    let width_px = median(history.iter().map(|(_, b)| b.w).collect());
    let height_px = median(history.iter().map(|(_, b)| b.h).collect());
    let size_frac = median(history.iter().map(|(_, b)| b.area()).collect()) / (fw * fh);
    // Speed from a lightly smoothed centre path (moving average of 3), so box jitter does
    // not count as motion.
    let centres: Vec<(i64, (f32, f32))> = (0..history.len())
        .map(|i| {
            let lo = i.saturating_sub(1);
            let hi = (i + 2).min(history.len());
            (history[i].0, mean_centre(&history[lo..hi]))
        })
        .collect();
    let path_len: f32 = centres
        .windows(2)
        .map(|p| ((p[1].1 .0 - p[0].1 .0).powi(2) + (p[1].1 .1 - p[0].1 .1).powi(2)).sqrt())
        .sum();
    let duration_s = match (history.first(), history.last()) {
        (Some(a), Some(b)) if b.0 > a.0 => (b.0 - a.0) as f32 / 1000.0,
        _ => 0.0,
    };
    let speed_px_s = if duration_s > 0.0 {
        path_len / duration_s
    } else {
        0.0
    };
    // Heading from the mean position of the first and last 20 % of the track.
    let k = (history.len() / 5).max(1);
    let heading_deg = if history.len() >= 2 {
        let a = mean_centre(&history[..k]);
        let b = mean_centre(&history[history.len() - k..]);
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let moved = (dx * dx + dy * dy).sqrt();
        // Barely moved (less than half its own height): no direction.
        (moved >= 0.5 * height_px.max(4.0)).then(|| dx.atan2(-dy).to_degrees().rem_euclid(360.0))
    } else {
        None
    };
    let norm: Vec<(f32, f32)> = centres.iter().map(|(_, c)| (c.0 / fw, c.1 / fh)).collect();
    let path_norm = simplify(&norm, cfg.path_epsilon_norm);
    let margin = cfg.edge_margin_frac;
    let entry_edge = history
        .first()
        .map(|(_, b)| edge_of(b, fw, fh, margin))
        .unwrap_or(Edge::Inside);
    let exit_edge = history
        .last()
        .map(|(_, b)| edge_of(b, fw, fh, margin))
        .unwrap_or(Edge::Inside);
    Motion {
        width_px,
        height_px,
        size_frac,
        speed_px_s,
        heading_deg,
        path_norm,
        entry_edge,
        exit_edge,
    }
}

/// Ramer–Douglas–Peucker polyline simplification.
pub fn simplify(points: &[(f32, f32)], epsilon: f32) -> Vec<(f32, f32)> {
    if points.len() <= 2 {
        return points.to_vec();
    }
    let mut keep = vec![false; points.len()];
    keep[0] = true;
    keep[points.len() - 1] = true;
    let mut stack = vec![(0usize, points.len() - 1)];
    while let Some((s, e)) = stack.pop() {
        let (a, b) = (points[s], points[e]);
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = (dx * dx + dy * dy).sqrt();
        let mut best = (0.0f32, s);
        for (i, p) in points.iter().enumerate().take(e).skip(s + 1) {
            let d = if len == 0.0 {
                ((p.0 - a.0).powi(2) + (p.1 - a.1).powi(2)).sqrt()
            } else {
                (dy * p.0 - dx * p.1 + b.0 * a.1 - b.1 * a.0).abs() / len
            };
            if d > best.0 {
                best = (d, i);
            }
        }
        if best.0 > epsilon {
            keep[best.1] = true;
            stack.push((s, best.1));
            stack.push((best.1, e));
        }
    }
    points
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(p, _)| *p)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::Compass;

    fn track(from: (f32, f32), to: (f32, f32), n: usize, dt_ms: i64) -> Vec<(i64, BBox)> {
        (0..n)
            .map(|i| {
                let t = i as f32 / (n - 1) as f32;
                let (cx, cy) = (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
                (
                    i as i64 * dt_ms,
                    BBox {
                        x: cx - 10.0,
                        y: cy - 20.0,
                        w: 20.0,
                        h: 40.0,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn speed_heading_and_edges_of_a_straight_walk() {
        // 300 px to the right in 3 s, starting at the left edge.
        let h = track((10.0, 200.0), (310.0, 200.0), 31, 100);
        let m = describe_motion(&h, 640, 480, &DescribeConfig::default());
        assert!((m.speed_px_s - 100.0).abs() < 5.0, "{}", m.speed_px_s);
        assert_eq!(
            Compass::from_heading_deg(m.heading_deg.unwrap()),
            Compass::E
        );
        assert_eq!(m.entry_edge, Edge::Left);
        assert_eq!(m.exit_edge, Edge::Inside);
        assert_eq!(m.path_norm.len(), 2, "{:?}", m.path_norm);
        assert_eq!((m.width_px, m.height_px), (20.0, 40.0));
    }

    #[test]
    fn every_compass_direction() {
        for c in Compass::ALL {
            let a = c.heading_deg().to_radians();
            let (dx, dy) = (a.sin() * 200.0, -a.cos() * 200.0);
            let h = track((320.0, 240.0), (320.0 + dx, 240.0 + dy), 20, 100);
            let m = describe_motion(&h, 640, 480, &DescribeConfig::default());
            assert_eq!(Compass::from_heading_deg(m.heading_deg.unwrap()), c);
        }
    }

    #[test]
    fn a_standing_object_has_no_direction() {
        let h = track((320.0, 240.0), (323.0, 241.0), 50, 100);
        let m = describe_motion(&h, 640, 480, &DescribeConfig::default());
        assert_eq!(m.heading_deg, None);
        assert!(m.speed_px_s < 5.0);
    }

    #[test]
    fn simplification_keeps_corners() {
        let pts: Vec<(f32, f32)> = (0..=10)
            .map(|i| (i as f32 / 10.0, 0.0))
            .chain((1..=10).map(|i| (1.0, i as f32 / 10.0)))
            .collect();
        assert_eq!(
            simplify(&pts, 0.01),
            vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)]
        );
    }
}
