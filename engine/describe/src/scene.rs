//! Zones and lines drawn on a camera view, and how a track's path meets them.
//!
//! Coordinates are fractions of the frame (0..1, origin top-left), so a scene file drawn
//! once on a `vigie frame` export applies at any working resolution. The point that enters
//! a zone or crosses a line is the box's **bottom centre** — where a person's feet or a
//! car's wheels touch the ground — which is what an investigator means by "stood in the
//! doorway" on a perspective view.
//!
//! Scene file (TOML):
//! ```toml
//! [[zone]]
//! name = "doorway"
//! polygon = [[0.10, 0.20], [0.30, 0.20], [0.30, 0.50], [0.10, 0.50]]
//!
//! [[line]]
//! name = "gate"
//! from = [0.50, 0.00]
//! to = [0.50, 1.00]
//! ```
//! A line is directional: walking along it from `from` to `to`, crossing from its left-hand
//! side to its right-hand side is `in`, the other way is `out` (on screen, with y pointing
//! down: for a vertical line drawn top to bottom, moving right to left is `in`).

use serde::Deserialize;
use vigie_core::{CrossingDirection, LineCrossing, ZoneVisit};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    pub name: String,
    pub polygon: Vec<[f32; 2]>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    pub name: String,
    pub from: [f32; 2],
    pub to: [f32; 2],
}

/// The zones and lines of one camera.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    #[serde(default, rename = "zone")]
    pub zones: Vec<Zone>,
    #[serde(default, rename = "line")]
    pub lines: Vec<Line>,
}

#[derive(Debug, thiserror::Error)]
pub enum SceneError {
    #[error("invalid scene file: {0} (see the format in `vigie analyze --help`)")]
    Parse(String),
    #[error("zone {name:?} has {points} point(s); a zone needs at least 3")]
    TooFewPoints { name: String, points: usize },
    #[error("{what} {name:?} has a coordinate {value} outside 0..1 (coordinates are fractions of the frame)")]
    OutOfRange {
        what: &'static str,
        name: String,
        value: f32,
    },
    #[error("{what} name {name:?} is used twice; names must be unique per camera")]
    Duplicate { what: &'static str, name: String },
    #[error("line {0:?} has the same start and end point")]
    DegenerateLine(String),
}

impl Scene {
    pub fn parse(text: &str) -> Result<Self, SceneError> {
        let s: Scene = toml::from_str(text).map_err(|e| SceneError::Parse(e.to_string()))?;
        s.validate()?;
        Ok(s)
    }

    pub fn validate(&self) -> Result<(), SceneError> {
        let in_range = |what, name: &str, pts: &[[f32; 2]]| {
            for p in pts {
                for v in p {
                    if !(0.0..=1.0).contains(v) || !v.is_finite() {
                        return Err(SceneError::OutOfRange {
                            what,
                            name: name.to_string(),
                            value: *v,
                        });
                    }
                }
            }
            Ok(())
        };
        let mut seen = std::collections::HashSet::new();
        for z in &self.zones {
            if z.polygon.len() < 3 {
                return Err(SceneError::TooFewPoints {
                    name: z.name.clone(),
                    points: z.polygon.len(),
                });
            }
            in_range("zone", &z.name, &z.polygon)?;
            if !seen.insert(("zone", z.name.clone())) {
                return Err(SceneError::Duplicate {
                    what: "zone",
                    name: z.name.clone(),
                });
            }
        }
        for l in &self.lines {
            in_range("line", &l.name, &[l.from, l.to])?;
            if l.from == l.to {
                return Err(SceneError::DegenerateLine(l.name.clone()));
            }
            if !seen.insert(("line", l.name.clone())) {
                return Err(SceneError::Duplicate {
                    what: "line",
                    name: l.name.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Even-odd point-in-polygon.
pub fn point_in_polygon(p: (f32, f32), poly: &[[f32; 2]]) -> bool {
    let mut inside = false;
    let n = poly.len();
    let mut j = n - 1;
    for i in 0..n {
        let (xi, yi) = (poly[i][0], poly[i][1]);
        let (xj, yj) = (poly[j][0], poly[j][1]);
        if (yi > p.1) != (yj > p.1) && p.0 < (xj - xi) * (p.1 - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

fn cross(o: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
}

/// Whether segments p1-p2 and q1-q2 intersect (proper or touching).
fn segments_intersect(p1: (f32, f32), p2: (f32, f32), q1: (f32, f32), q2: (f32, f32)) -> bool {
    let d1 = cross(q1, q2, p1);
    let d2 = cross(q1, q2, p2);
    let d3 = cross(p1, p2, q1);
    let d4 = cross(p1, p2, q2);
    (d1 > 0.0) != (d2 > 0.0) && (d3 > 0.0) != (d4 > 0.0)
}

/// One observation of a track's ground point, normalised to the frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroundPoint {
    pub pts_ms: i64,
    pub x: f32,
    pub y: f32,
}

/// Zone visits: time inside (sum of intervals between consecutive observations inside) and
/// dwell (longest stretch inside while moving slower than `still_norm_s`, in frame
/// fractions per second).
pub fn zone_visits(points: &[GroundPoint], zones: &[Zone], still_norm_s: f32) -> Vec<ZoneVisit> {
    // Stationary = moved less than `still_norm_s` over a one-second window centred on the
    // point (not frame to frame: box jitter would break every stretch).
    const HALF_WINDOW_MS: i64 = 500;
    let still: Vec<bool> = (0..points.len())
        .map(|i| {
            let t = points[i].pts_ms;
            let j = points[..=i]
                .iter()
                .position(|q| q.pts_ms >= t - HALF_WINDOW_MS)
                .unwrap_or(i);
            let k = i + points[i..]
                .iter()
                .take_while(|q| q.pts_ms <= t + HALF_WINDOW_MS)
                .count()
                - 1;
            let (p, q) = (points[k], points[j]);
            let dt_s = ((p.pts_ms - q.pts_ms).max(1) as f32 / 1000.0).max(0.5);
            let dist = ((p.x - q.x).powi(2) + (p.y - q.y).powi(2)).sqrt();
            dist / dt_s <= still_norm_s
        })
        .collect();
    let mut out = Vec::new();
    for z in zones {
        let inside: Vec<bool> = points
            .iter()
            .map(|p| point_in_polygon((p.x, p.y), &z.polygon))
            .collect();
        let Some(first) = inside.iter().position(|i| *i) else {
            continue;
        };
        let mut inside_ms = 0i64;
        let (mut dwell, mut best_dwell) = (0i64, 0i64);
        for i in 1..points.len() {
            let dt = points[i].pts_ms - points[i - 1].pts_ms;
            if inside[i] && inside[i - 1] {
                inside_ms += dt;
                if still[i] {
                    dwell += dt;
                    best_dwell = best_dwell.max(dwell);
                    continue;
                }
            }
            dwell = 0;
        }
        out.push(ZoneVisit {
            zone: z.name.clone(),
            entered_ms: points[first].pts_ms,
            time_inside_ms: inside_ms,
            dwell_ms: best_dwell,
        });
    }
    out
}

/// Crossings of directional lines by the ground point's path.
pub fn line_crossings(points: &[GroundPoint], lines: &[Line]) -> Vec<LineCrossing> {
    let mut out = Vec::new();
    for l in lines {
        let (f, t) = ((l.from[0], l.from[1]), (l.to[0], l.to[1]));
        for w in points.windows(2) {
            let (a, b) = ((w[0].x, w[0].y), (w[1].x, w[1].y));
            if segments_intersect(a, b, f, t) {
                // In image coordinates (y down), cross > 0 means the point is on the
                // right-hand side when walking from `from` to `to`; the side the path
                // arrives on gives the direction (a start exactly on the line is fine).
                let direction = if cross(f, t, b) > 0.0 {
                    CrossingDirection::In
                } else {
                    CrossingDirection::Out
                };
                out.push(LineCrossing {
                    line: l.name.clone(),
                    direction,
                    at_ms: w[1].pts_ms,
                });
            }
        }
    }
    out.sort_by_key(|c| c.at_ms);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(from: (f32, f32), to: (f32, f32), steps: usize, dt_ms: i64) -> Vec<GroundPoint> {
        (0..=steps)
            .map(|i| {
                let t = i as f32 / steps as f32;
                GroundPoint {
                    pts_ms: i as i64 * dt_ms,
                    x: from.0 + (to.0 - from.0) * t,
                    y: from.1 + (to.1 - from.1) * t,
                }
            })
            .collect()
    }

    #[test]
    fn parses_validates_and_names_bad_parts() {
        let s = Scene::parse(
            "[[zone]]\nname='door'\npolygon=[[0.1,0.1],[0.3,0.1],[0.3,0.4]]\n[[line]]\nname='gate'\nfrom=[0.5,0.0]\nto=[0.5,1.0]\n",
        )
        .unwrap();
        assert_eq!((s.zones.len(), s.lines.len()), (1, 1));
        let e = Scene::parse("[[zone]]\nname='z'\npolygon=[[0.1,0.1],[1.3,0.1],[0.3,0.4]]")
            .unwrap_err();
        assert!(e.to_string().contains("outside 0..1"), "{e}");
        let e = Scene::parse("[[zone]]\nname='z'\npolygon=[[0.1,0.1],[0.3,0.1]]").unwrap_err();
        assert!(e.to_string().contains("at least 3"), "{e}");
        let e = Scene::parse("[[zone]]\nnom='z'").unwrap_err();
        assert!(e.to_string().contains("invalid scene file"), "{e}");
    }

    #[test]
    fn crossing_directions_follow_the_documented_rule() {
        let gate = Line {
            name: "gate".into(),
            from: [0.5, 0.0],
            to: [0.5, 1.0],
        };
        // Right to left across a line drawn top to bottom: `in`.
        let c = line_crossings(
            &walk((0.8, 0.5), (0.2, 0.5), 10, 100),
            std::slice::from_ref(&gate),
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].direction, CrossingDirection::In);
        let c = line_crossings(
            &walk((0.2, 0.5), (0.8, 0.5), 10, 100),
            std::slice::from_ref(&gate),
        );
        assert_eq!(c[0].direction, CrossingDirection::Out);
        // Passing beside the segment's end is no crossing.
        let short = Line {
            name: "s".into(),
            from: [0.5, 0.0],
            to: [0.5, 0.3],
        };
        assert!(line_crossings(&walk((0.2, 0.5), (0.8, 0.5), 10, 100), &[short]).is_empty());
    }

    #[test]
    fn dwell_counts_only_stationary_time_inside() {
        let zone = Zone {
            name: "door".into(),
            polygon: vec![[0.4, 0.4], [0.6, 0.4], [0.6, 0.6], [0.4, 0.6]],
        };
        let mut pts = walk((0.1, 0.5), (0.5, 0.5), 10, 100); // arrive at 1.0 s
        let t0 = pts.last().unwrap().pts_ms;
        for i in 1..=40 {
            pts.push(GroundPoint {
                pts_ms: t0 + i * 250,
                x: 0.5,
                y: 0.5,
            }); // stand 10 s
        }
        let t1 = pts.last().unwrap().pts_ms;
        for i in 1..=10 {
            pts.push(GroundPoint {
                pts_ms: t1 + i * 100,
                x: 0.5 + 0.04 * i as f32,
                y: 0.5,
            });
        }
        let v = zone_visits(&pts, &[zone], 0.02);
        assert_eq!(v.len(), 1);
        assert!((9_000..=10_250).contains(&v[0].dwell_ms), "{:?}", v[0]);
        assert!(
            v[0].time_inside_ms >= 10_000 && v[0].time_inside_ms < 11_500,
            "{:?}",
            v[0]
        );
        assert!(v[0].entered_ms <= 1000);
    }

    #[test]
    fn polygon_membership() {
        let sq = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
        assert!(point_in_polygon((0.5, 0.5), &sq));
        assert!(!point_in_polygon((1.5, 0.5), &sq));
        let tri = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
        assert!(!point_in_polygon((0.8, 0.8), &tri));
    }
}
