//! Riders: a person riding a bicycle or a motorcycle is one object with it.
//!
//! Why: a COCO detector boxes the rider (`person`) and the machine (`bicycle`,
//! `motorcycle`) apart, so a cyclist came out as two results, a "person" whose lower body
//! colours are the bicycle's frame and a "bicycle" with no colours worth searching, and
//! the machine's box (the bicycle alone) left the rider out of synopses and redaction
//! masks. Annotators box a motorcycle *with* its rider (the street CCTV set's VOC boxes),
//! and an investigator speaks of "a man in red on a scooter". So after a source is tracked
//! and linked, a person track that rides on a two-wheeler's track becomes that vehicle's
//! rider: one object, the vehicle's class, `ridden`, its box the union of both.
//!
//! A person rides a vehicle when, over the frames where both were detected:
//! - in most of them ([`RiderConfig::min_on_share`]) the person sits on it: centred over it
//!   horizontally, head above the machine's top, feet (the box's bottom) in its lower part
//!   (see [`on_vehicle`]);
//! - those frames are most of the person's own detections ([`RiderConfig::min_rider_share`]):
//!   someone who walked for a minute and then rode for five seconds stays a pedestrian;
//! - the vehicle travels while ridden ([`RiderConfig::min_travel_h`] of its box heights): a
//!   person standing by a parked bicycle, locking it, is not riding it.
//!
//! A pedestrian walking past a parked bicycle overlaps it for a few frames of the time
//! both are seen, and the bicycle does not move: not attached. Each person rides at most
//! one vehicle and each vehicle gets one rider (a pillion passenger stays a person of its
//! own), chosen by one optimal assignment on the evidence (frames on the vehicle, times
//! the share of common frames). Pure geometry over finished tracks: no pixels.

use std::collections::BTreeMap;

use vigie_core::BBox;

use crate::assign::max_weight_matching;
use crate::tracker::{FinishedTrack, PointSource, TrackPoint};

pub use vigie_core::riders::{sits_on, Seat, RIDDEN_CLASSES, RIDER_CLASS};

/// When a person track is a vehicle's rider. Fractions of the vehicle's box unless said.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RiderConfig {
    /// Attach riders at all.
    pub enabled: bool,
    /// At least this many frames where both tracks were detected.
    pub min_common_detections: usize,
    /// Share of those frames where the person sits on the vehicle.
    pub min_on_share: f32,
    /// Share of the person's own detections where it sits on the vehicle.
    pub min_rider_share: f32,
    /// The vehicle's centre moves at least this many of its (median) box heights between
    /// the first and the last frame the person sits on it.
    pub min_travel_h: f32,
    /// Where the person's box lies on the vehicle's in one frame (the detector's rule too).
    #[serde(flatten)]
    pub seat: Seat,
}

impl Default for RiderConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            min_common_detections: 3,
            min_on_share: 0.6,
            min_rider_share: 0.5,
            min_travel_h: 1.0,
            seat: Seat::default(),
        }
    }
}

/// A person track attached to a vehicle track as its rider.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiderMatch {
    pub vehicle_id: u64,
    pub rider_id: u64,
    /// Frames where both were detected, and those where the person sat on the vehicle.
    pub common_detections: usize,
    pub on_detections: usize,
}

/// Whether a person's box `p` sits on a vehicle's box `v` in one frame
/// ([`vigie_core::riders::sits_on`] with `cfg.seat`).
pub fn on_vehicle(p: &BBox, v: &BBox, cfg: &RiderConfig) -> bool {
    sits_on(p, v, &cfg.seat)
}

fn detections_by_pts(t: &FinishedTrack) -> BTreeMap<i64, BBox> {
    t.history
        .iter()
        .filter(|p| p.source == PointSource::Detection)
        .map(|p| (p.pts_ms, p.bbox_in_frame))
        .collect()
}

/// The evidence that `person` rides `vehicle`, `None` when it does not.
fn evaluate(
    person: &BTreeMap<i64, BBox>,
    vehicle: &BTreeMap<i64, BBox>,
    cfg: &RiderConfig,
) -> Option<(usize, usize)> {
    let mut common = 0usize;
    let mut on: Vec<(i64, BBox)> = Vec::new();
    for (pts, p) in person {
        let Some(v) = vehicle.get(pts) else { continue };
        common += 1;
        if on_vehicle(p, v, cfg) {
            on.push((*pts, *v));
        }
    }
    if common < cfg.min_common_detections.max(1) {
        return None;
    }
    let n_on = on.len();
    if (n_on as f32) < cfg.min_on_share * common as f32
        || (n_on as f32) < cfg.min_rider_share * person.len() as f32
    {
        return None;
    }
    let (first, last) = (on.first()?.1, on.last()?.1);
    let mut heights: Vec<f32> = on.iter().map(|(_, v)| v.h).collect();
    heights.sort_by(f32::total_cmp);
    let h = heights[heights.len() / 2].max(1.0);
    let (a, b) = (first.centre(), last.centre());
    let travel_h = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt() / h;
    (travel_h >= cfg.min_travel_h).then_some((common, n_on))
}

/// Which person tracks ride which vehicle tracks (each at most once), among `tracks`
/// (finished and linked tracks of one source).
pub fn find_riders(tracks: &[FinishedTrack], cfg: &RiderConfig) -> Vec<RiderMatch> {
    if !cfg.enabled {
        return Vec::new();
    }
    let persons: Vec<&FinishedTrack> = tracks.iter().filter(|t| t.label == RIDER_CLASS).collect();
    let vehicles: Vec<&FinishedTrack> = tracks
        .iter()
        .filter(|t| RIDDEN_CLASSES.contains(&t.label.as_str()))
        .collect();
    if persons.is_empty() || vehicles.is_empty() {
        return Vec::new();
    }
    let person_dets: Vec<BTreeMap<i64, BBox>> =
        persons.iter().map(|t| detections_by_pts(t)).collect();
    let vehicle_dets: Vec<BTreeMap<i64, BBox>> =
        vehicles.iter().map(|t| detections_by_pts(t)).collect();
    let mut evidence: BTreeMap<(usize, usize), (usize, usize)> = BTreeMap::new();
    for (ip, p) in persons.iter().enumerate() {
        for (iv, v) in vehicles.iter().enumerate() {
            if p.last_pts_ms() < v.first_pts_ms() || v.last_pts_ms() < p.first_pts_ms() {
                continue;
            }
            if let Some(e) = evaluate(&person_dets[ip], &vehicle_dets[iv], cfg) {
                evidence.insert((ip, iv), e);
            }
        }
    }
    let matched = max_weight_matching(persons.len(), vehicles.len(), |ip, iv| {
        evidence.get(&(ip, iv)).map(|&(common, on)| {
            // Frames on the vehicle, times the share of common frames on it.
            let w = on as f64 * on as f64 / common as f64;
            (w * 1000.0).round() as i64 + 1
        })
    });
    let mut out: Vec<RiderMatch> = matched
        .into_iter()
        .map(|(ip, iv)| {
            let (common, on) = evidence[&(ip, iv)];
            RiderMatch {
                vehicle_id: vehicles[iv].id,
                rider_id: persons[ip].id,
                common_detections: common,
                on_detections: on,
            }
        })
        .collect();
    out.sort_by_key(|m| m.vehicle_id);
    out
}

/// Fold `rider`'s boxes into `vehicle`: in each frame the box covers both (where only one
/// was seen, its box), a frame is a detection if either was detected there, and the
/// score is the vehicle's where it was detected. The vehicle keeps its id and class.
pub fn attach_rider(vehicle: &mut FinishedTrack, rider: &FinishedTrack) {
    let mut frames: BTreeMap<i64, (Option<TrackPoint>, Option<TrackPoint>)> = BTreeMap::new();
    for p in std::mem::take(&mut vehicle.history) {
        let pts_ms = p.pts_ms;
        frames.entry(pts_ms).or_default().0 = Some(p);
    }
    for p in &rider.history {
        frames.entry(p.pts_ms).or_default().1 = Some(p.clone());
    }
    vehicle.history = frames
        .into_values()
        .filter_map(|pair| match pair {
            (Some(v), Some(r)) => {
                let detected =
                    v.source == PointSource::Detection || r.source == PointSource::Detection;
                Some(TrackPoint {
                    pts_ms: v.pts_ms,
                    bbox_in_frame: v.bbox_in_frame.union(&r.bbox_in_frame),
                    score: if v.source == PointSource::Detection {
                        v.score
                    } else {
                        r.score
                    },
                    source: if detected {
                        PointSource::Detection
                    } else {
                        PointSource::Predicted
                    },
                })
            }
            (Some(p), None) | (None, Some(p)) => Some(p),
            (None, None) => None,
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::FinishReason;

    fn bbox(x: f32, y: f32, w: f32, h: f32) -> BBox {
        BBox { x, y, w, h }
    }

    /// A track detected every 100 ms from `t0_ms` for `n` frames, its box at `at(i)`.
    fn track(
        id: u64,
        label: &str,
        t0_ms: i64,
        n: usize,
        at: impl Fn(usize) -> BBox,
    ) -> FinishedTrack {
        FinishedTrack {
            id,
            label: label.into(),
            history: (0..n)
                .map(|i| TrackPoint {
                    pts_ms: t0_ms + 100 * i as i64,
                    bbox_in_frame: at(i),
                    score: 0.8,
                    source: PointSource::Detection,
                })
                .collect(),
            reason: FinishReason::Lost,
        }
    }

    /// A bicycle 60x40 riding right at 6 px per frame, from x = 20.
    fn bicycle(id: u64) -> FinishedTrack {
        track(id, "bicycle", 0, 30, |i| {
            bbox(20.0 + 6.0 * i as f32, 200.0, 60.0, 40.0)
        })
    }

    /// A rider on it: 26x64, centred over the bicycle, feet at its lower third.
    fn rider_on(id: u64, dx: f32) -> FinishedTrack {
        track(id, "person", 0, 30, move |i| {
            bbox(20.0 + 6.0 * i as f32 + 17.0 + dx, 162.0, 26.0, 64.0)
        })
    }

    #[test]
    fn a_rider_is_attached_and_the_box_covers_both() {
        let cfg = RiderConfig::default();
        let tracks = vec![
            bicycle(1),
            rider_on(2, 0.0),
            track(3, "car", 0, 30, |i| {
                bbox(300.0 - 5.0 * i as f32, 100.0, 80.0, 50.0)
            }),
        ];
        let m = find_riders(&tracks, &cfg);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!((m[0].vehicle_id, m[0].rider_id), (1, 2));
        assert_eq!((m[0].common_detections, m[0].on_detections), (30, 30));
        let mut bike = tracks[0].clone();
        attach_rider(&mut bike, &tracks[1]);
        assert_eq!(bike.history.len(), 30);
        let b = bike.history[0].bbox_in_frame;
        assert_eq!((b.x, b.y, b.w, b.h), (20.0, 162.0, 60.0, 78.0));
        assert_eq!(bike.label, "bicycle");
        assert_eq!(bike.id, 1);
    }

    #[test]
    fn a_pedestrian_passing_a_parked_bicycle_is_not_attached() {
        let cfg = RiderConfig::default();
        // Parked: never moves. The pedestrian walks right to left across it, 8 px/frame.
        let parked = track(1, "bicycle", 0, 40, |_| bbox(200.0, 200.0, 60.0, 40.0));
        let walker = track(2, "person", 0, 40, |i| {
            bbox(400.0 - 8.0 * i as f32, 150.0, 26.0, 80.0)
        });
        assert!(find_riders(&[parked.clone(), walker], &cfg).is_empty());
        // Standing by it (locking it) for the whole time: on it in every frame, but the
        // bicycle does not travel.
        let standing = track(3, "person", 0, 40, |_| bbox(217.0, 162.0, 26.0, 64.0));
        assert!(find_riders(&[parked, standing], &cfg).is_empty());
    }

    #[test]
    fn a_person_who_mostly_walked_is_not_attached() {
        let cfg = RiderConfig::default();
        // Walks for 5 s (50 frames), then rides the bicycle for 3 s (30 frames).
        let walker_then_rider = track(2, "person", -5000, 80, |i| {
            if i < 50 {
                bbox(600.0 - 5.0 * i as f32, 150.0, 26.0, 80.0)
            } else {
                bbox(20.0 + 6.0 * (i - 50) as f32 + 17.0, 162.0, 26.0, 64.0)
            }
        });
        assert!(find_riders(&[bicycle(1), walker_then_rider], &cfg).is_empty());
    }

    #[test]
    fn two_persons_on_one_bicycle_give_one_rider() {
        let cfg = RiderConfig::default();
        // Person 2 sits centred in every frame; person 3 is on it in most frames only.
        let mut second = rider_on(3, 8.0);
        for p in second.history.iter_mut().step_by(3) {
            p.bbox_in_frame.x += 60.0;
        }
        let tracks = vec![bicycle(1), second, rider_on(2, 0.0)];
        let m = find_riders(&tracks, &cfg);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!((m[0].vehicle_id, m[0].rider_id), (1, 2));
    }

    #[test]
    fn two_bicycles_two_riders_each_on_their_own() {
        let cfg = RiderConfig::default();
        let other_bike = track(4, "motorcycle", 0, 30, |i| {
            bbox(400.0 - 6.0 * i as f32, 300.0, 70.0, 50.0)
        });
        let other_rider = track(5, "person", 0, 30, |i| {
            bbox(400.0 - 6.0 * i as f32 + 20.0, 255.0, 30.0, 75.0)
        });
        let tracks = vec![bicycle(1), rider_on(2, 0.0), other_bike, other_rider];
        let m = find_riders(&tracks, &cfg);
        let pairs: Vec<(u64, u64)> = m.iter().map(|m| (m.vehicle_id, m.rider_id)).collect();
        assert_eq!(pairs, vec![(1, 2), (4, 5)]);
    }

    #[test]
    fn union_keeps_frames_seen_by_one_only() {
        let bike = bicycle(1);
        // The rider is seen from 1 s before the bicycle (first detected late) to 1 s
        // before its end, and lost (predicted) in one frame.
        let mut rider = track(2, "person", -1000, 30, |i| {
            bbox(37.0 + 6.0 * i as f32 - 60.0, 162.0, 26.0, 64.0)
        });
        rider.history[15].source = PointSource::Predicted;
        let mut joined = bike.clone();
        attach_rider(&mut joined, &rider);
        assert_eq!(joined.history.len(), 40);
        assert_eq!(joined.first_pts_ms(), -1000);
        assert_eq!(joined.last_pts_ms(), 2900);
        assert!(joined
            .history
            .iter()
            .all(|p| p.source == PointSource::Detection));
        assert!(joined.history.windows(2).all(|w| w[0].pts_ms < w[1].pts_ms));
    }

    #[test]
    fn disabled_attaches_nothing() {
        let cfg = RiderConfig {
            enabled: false,
            ..RiderConfig::default()
        };
        assert!(find_riders(&[bicycle(1), rider_on(2, 0.0)], &cfg).is_empty());
    }
}
