//! Two-wheelers the detector scores weakly, kept when a person sits on them.
//!
//! Why: on real street CCTV most motorcycles the detector missed were not unseen, they were
//! scored low. Of the 196 labelled motorcycles NanoDet (512x288, int8) did not find at score
//! 0.35 on `street-cctv-vehicles`, 125 had a motorcycle box at IoU >= 0.5 scoring 0.2-0.35:
//! a machine seen at an angle, half hidden by its rider and by the traffic around it. Lowering
//! the threshold for them alone does not work: the detector also draws a dozen weak boxes
//! around every real motorcycle and on parked rows, and at 0.2 motorcycle precision falls
//! from 0.72 to 0.35. What tells the real ones apart is the rider: a person the detector is sure of,
//! sitting on the box (the tracker's rider rule, [`vigie_core::riders::sits_on`]). So a
//! bicycle or motorcycle box scoring at least [`crate::DetectorConfig::ridden_score_min`] is
//! kept when
//! - a person scoring at least the detector's threshold sits on it,
//! - that person is not already the rider of a better-scoring two-wheeler (each person rides
//!   one vehicle), and
//! - it does not overlap a vehicle box (two-wheeler, car, truck, bus) already kept (IoU below
//!   [`WEAK_OVERLAP_MAX`]): the dozen weak boxes around a real motorcycle are that
//!   motorcycle.
//!
//! On windows of a frame ([`crate::Detector::detect_windows`]) the rule runs in each
//! window and once more on the merged boxes, so that a weak box from one window also
//! gives way to a vehicle kept in another.
//!
//! Such a box carries its own score (what the model said) and the rider's
//! ([`crate::Detection::rider_score`]); the tracker weighs it by the rider's, the better
//! evidence that something is ridden there. Persons and other vehicles are untouched.

use vigie_core::classes::MOTOR_VEHICLE_FAMILY;
use vigie_core::riders::{ridable, sits_on, Seat, RIDER_CLASS};

use crate::Detection;

/// A weak two-wheeler box overlapping an already kept vehicle box at this IoU or more is a
/// duplicate of it, not a second vehicle.
pub const WEAK_OVERLAP_MAX: f32 = 0.3;

/// Keep the boxes scoring at least `score_min`, and the weak two-wheeler boxes a person
/// scoring at least `score_min` sits on (module docs). Boxes keep their order.
pub fn keep_ridden(dets: Vec<Detection>, score_min: f32, seat: &Seat) -> Vec<Detection> {
    if dets
        .iter()
        .all(|d| d.score >= score_min || !ridable(d.label))
    {
        return dets.into_iter().filter(|d| d.score >= score_min).collect();
    }
    let seating = seat_riders(&dets, score_min, seat);
    dets.into_iter()
        .zip(seating)
        .filter_map(|(d, s)| match s {
            Seating::Dropped => None,
            Seating::Kept { rider } => Some(Detection {
                // A weak box kept for its rider carries the rider's score.
                rider_score: rider
                    .filter(|_| d.score < score_min)
                    .map(|(_, score)| score),
                ..d
            }),
        })
        .collect()
}

/// Per detection, the index of the person riding it (`None` for persons, four-wheelers and
/// two-wheelers nobody sits on), by the same rule: vehicles by score, best first, each
/// taking the person not yet riding that sits on it and overlaps it most. `score_min` as in
/// [`keep_ridden`] (0 counts every person and vehicle as sure).
pub fn riders(dets: &[Detection], score_min: f32, seat: &Seat) -> Vec<Option<usize>> {
    seat_riders(dets, score_min, seat)
        .into_iter()
        .map(|s| match s {
            Seating::Kept { rider } => rider.map(|(p, _)| p),
            Seating::Dropped => None,
        })
        .collect()
}

/// What [`seat_riders`] decided for one detection.
#[derive(Debug, Clone, Copy)]
enum Seating {
    Dropped,
    /// Kept; for a vehicle, its rider (index and score).
    Kept {
        rider: Option<(usize, f32)>,
    },
}

fn seat_riders(dets: &[Detection], score_min: f32, seat: &Seat) -> Vec<Seating> {
    let core = |d: &Detection| -> vigie_core::BBox { d.bbox_in_frame.into() };
    let is_rider = |d: &Detection| d.label == RIDER_CLASS && d.score >= score_min;
    // Vehicles by score, best first (ties by position, so the result is deterministic).
    let mut vehicles: Vec<usize> = (0..dets.len())
        .filter(|&i| dets[i].label != RIDER_CLASS)
        .collect();
    vehicles.sort_by(|&a, &b| dets[b].score.total_cmp(&dets[a].score).then(a.cmp(&b)));
    let mut out: Vec<Seating> = dets
        .iter()
        .map(|d| match is_rider(d) {
            true => Seating::Kept { rider: None },
            false => Seating::Dropped,
        })
        .collect();
    let mut riding = vec![false; dets.len()];
    let mut kept_vehicles: Vec<vigie_core::BBox> = Vec::new();
    for v in vehicles {
        let vb = core(&dets[v]);
        let rider = if ridable(dets[v].label) {
            (0..dets.len())
                .filter(|&p| is_rider(&dets[p]) && !riding[p])
                .filter(|&p| sits_on(&core(&dets[p]), &vb, seat))
                .max_by(|&a, &b| {
                    let overlap = |p: usize| core(&dets[p]).intersection_area(&vb);
                    overlap(a).total_cmp(&overlap(b)).then(b.cmp(&a))
                })
        } else {
            None
        };
        let strong = dets[v].score >= score_min;
        let weak_kept = !strong
            && rider.is_some()
            && kept_vehicles.iter().all(|k| k.iou(&vb) < WEAK_OVERLAP_MAX);
        if !(strong || weak_kept) {
            continue;
        }
        if let Some(p) = rider {
            riding[p] = true;
        }
        out[v] = Seating::Kept {
            rider: rider.map(|p| (p, dets[p].score)),
        };
        // Only vehicles make a weak two-wheeler a duplicate (with `--classes all`, a
        // bench or a suitcase kept nearby does not).
        if ridable(dets[v].label) || MOTOR_VEHICLE_FAMILY.contains(&dets[v].label) {
            kept_vehicles.push(vb);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::det;

    fn labels(d: &[Detection]) -> Vec<(&str, f32, Option<f32>)> {
        d.iter()
            .map(|d| (d.label, d.score, d.rider_score))
            .collect()
    }

    #[test]
    fn a_weak_motorcycle_with_a_sure_rider_is_kept_with_the_riders_score() {
        let dets = vec![
            det("person", 0.8, 105.0, 110.0, 40.0, 90.0),
            det("motorcycle", 0.25, 100.0, 150.0, 60.0, 60.0),
        ];
        let out = keep_ridden(dets, 0.35, &Seat::default());
        assert_eq!(
            labels(&out),
            vec![("person", 0.8, None), ("motorcycle", 0.25, Some(0.8))]
        );
    }

    #[test]
    fn weak_boxes_without_a_sure_rider_go_as_before() {
        let dets = vec![
            // A weak person does not vouch for anything, and goes itself.
            det("person", 0.3, 105.0, 110.0, 40.0, 90.0),
            det("motorcycle", 0.25, 100.0, 150.0, 60.0, 60.0),
            // A person beside a weak bicycle.
            det("person", 0.9, 300.0, 110.0, 40.0, 90.0),
            det("bicycle", 0.25, 360.0, 150.0, 60.0, 60.0),
            // A sure car stays, a weak car is not rescued by anything.
            det("car", 0.7, 500.0, 100.0, 100.0, 60.0),
            det("car", 0.3, 700.0, 100.0, 100.0, 60.0),
        ];
        let out = keep_ridden(dets, 0.35, &Seat::default());
        assert_eq!(
            labels(&out),
            vec![("person", 0.9, None), ("car", 0.7, None)]
        );
    }

    #[test]
    fn each_rider_vouches_once_and_a_weak_duplicate_of_a_kept_box_goes() {
        let dets = vec![
            det("person", 0.8, 105.0, 110.0, 40.0, 90.0),
            // The sure box of the motorcycle takes its rider ...
            det("motorcycle", 0.6, 100.0, 150.0, 60.0, 60.0),
            // ... so a weak box nearby, the same machine, has no rider left.
            det("motorcycle", 0.25, 95.0, 145.0, 55.0, 60.0),
            // A second rider sits on both weak boxes below; the better one is kept, the
            // other overlaps it.
            det("person", 0.7, 305.0, 110.0, 40.0, 90.0),
            det("motorcycle", 0.3, 300.0, 150.0, 60.0, 60.0),
            det("bicycle", 0.28, 302.0, 152.0, 58.0, 58.0),
        ];
        let out = keep_ridden(dets, 0.35, &Seat::default());
        assert_eq!(
            labels(&out),
            vec![
                ("person", 0.8, None),
                ("motorcycle", 0.6, None),
                ("person", 0.7, None),
                ("motorcycle", 0.3, Some(0.7)),
            ]
        );
    }

    #[test]
    fn riders_are_found_by_the_same_rule_on_kept_boxes() {
        let dets = vec![
            det("person", 0.8, 105.0, 110.0, 40.0, 90.0),
            det("motorcycle", 0.6, 100.0, 150.0, 60.0, 60.0),
            det("person", 0.7, 305.0, 110.0, 40.0, 90.0),
            det("car", 0.9, 295.0, 140.0, 70.0, 70.0),
            det("bicycle", 0.5, 500.0, 150.0, 60.0, 60.0),
        ];
        // Nobody rides a car; the bicycle has nobody on it.
        assert_eq!(
            riders(&dets, 0.0, &Seat::default()),
            vec![None, Some(0), None, None, None]
        );
    }

    #[test]
    fn a_kept_object_that_is_no_vehicle_does_not_hide_a_ridden_motorcycle() {
        let dets = vec![
            det("bench", 0.9, 95.0, 140.0, 70.0, 70.0),
            det("person", 0.8, 105.0, 110.0, 40.0, 90.0),
            det("motorcycle", 0.25, 100.0, 150.0, 60.0, 60.0),
        ];
        let out = keep_ridden(dets, 0.35, &Seat::default());
        assert_eq!(
            labels(&out),
            vec![
                ("bench", 0.9, None),
                ("person", 0.8, None),
                ("motorcycle", 0.25, Some(0.8))
            ]
        );
    }

    #[test]
    fn a_weak_motorcycle_under_a_kept_car_is_that_car() {
        // A rider's feet on a weak motorcycle box lying over a sure car: a person beside a
        // car, not a second vehicle.
        let dets = vec![
            det("car", 0.9, 95.0, 140.0, 70.0, 70.0),
            det("person", 0.8, 105.0, 110.0, 40.0, 90.0),
            det("motorcycle", 0.25, 100.0, 150.0, 60.0, 60.0),
        ];
        let out = keep_ridden(dets, 0.35, &Seat::default());
        assert_eq!(
            labels(&out),
            vec![("car", 0.9, None), ("person", 0.8, None)]
        );
    }
}
