//! Whether a person's box sits on a bicycle's or motorcycle's box, in one frame.
//!
//! Why in the core: two stages ask the same geometric question and must get the same
//! answer. The detector (`vigie_detect`) keeps a two-wheeler box it scored weakly when a
//! person it scored well sits on it (a rider is evidence that something is ridden there);
//! the tracker (`vigie_track::riders`) attaches a person track to the two-wheeler track it
//! rides. One rule, here, with its parameters named in the vehicle's heights and widths so
//! that it does not depend on the picture's scale.

use serde::{Deserialize, Serialize};

use crate::track::BBox;

/// Classes a person can ride.
pub const RIDDEN_CLASSES: [&str; 2] = ["bicycle", "motorcycle"];

/// The class of a rider.
pub const RIDER_CLASS: &str = "person";

/// Whether detections labelled `label` can be ridden.
pub fn ridable(label: &str) -> bool {
    RIDDEN_CLASSES.contains(&label)
}

/// Where a rider's box lies on the vehicle's. Fractions of the vehicle's box unless said.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Seat {
    /// Horizontal overlap of the two boxes, as a share of the narrower one (seen from the
    /// front, a bicycle is narrower than its rider).
    pub min_x_overlap: f32,
    /// Largest horizontal distance between the centres, as a share of the wider box.
    pub max_centre_dx: f32,
    /// The person's top is at most this far below the vehicle's top (vehicle heights).
    pub max_head_below_top_h: f32,
    /// The person's bottom is at least this far below the vehicle's top ...
    pub min_feet_below_top_h: f32,
    /// ... and at most this far below the vehicle's bottom (vehicle heights).
    pub max_feet_below_bottom_h: f32,
    /// The person's box height, in vehicle heights, within this range.
    pub height_ratio: (f32, f32),
}

impl Default for Seat {
    fn default() -> Self {
        Seat {
            min_x_overlap: 0.5,
            max_centre_dx: 0.35,
            max_head_below_top_h: 0.1,
            min_feet_below_top_h: 0.3,
            max_feet_below_bottom_h: 0.25,
            height_ratio: (0.5, 4.0),
        }
    }
}

/// Whether a person's box `p` sits on a vehicle's box `v`: centred over it horizontally,
/// head above the machine's top, feet (the box's bottom) in its lower part.
pub fn sits_on(p: &BBox, v: &BBox, seat: &Seat) -> bool {
    if v.w <= 0.0 || v.h <= 0.0 || p.w <= 0.0 || p.h <= 0.0 {
        return false;
    }
    let x_overlap = ((p.x + p.w).min(v.x + v.w) - p.x.max(v.x)).max(0.0);
    let centre_dx = ((p.x + p.w / 2.0) - (v.x + v.w / 2.0)).abs();
    let (p_bottom, v_bottom) = (p.y + p.h, v.y + v.h);
    let ratio = p.h / v.h;
    x_overlap >= seat.min_x_overlap * p.w.min(v.w)
        && centre_dx <= seat.max_centre_dx * p.w.max(v.w)
        && p.y <= v.y + seat.max_head_below_top_h * v.h
        && p_bottom >= v.y + seat.min_feet_below_top_h * v.h
        && p_bottom <= v_bottom + seat.max_feet_below_bottom_h * v.h
        && (seat.height_ratio.0..=seat.height_ratio.1).contains(&ratio)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: f32, y: f32, w: f32, h: f32) -> BBox {
        BBox { x, y, w, h }
    }

    #[test]
    fn a_rider_sits_a_passer_by_and_a_person_beside_do_not() {
        let seat = Seat::default();
        let bike = b(100.0, 150.0, 60.0, 60.0);
        // Head above the saddle, feet on the pedals, centred.
        assert!(sits_on(&b(105.0, 110.0, 40.0, 90.0), &bike, &seat));
        // The same person beside the bicycle.
        assert!(!sits_on(&b(170.0, 110.0, 40.0, 90.0), &bike, &seat));
        // A person standing behind it: feet above the machine's lower part.
        assert!(!sits_on(&b(105.0, 60.0, 40.0, 100.0), &bike, &seat));
        // A child-sized box hidden in the machine's box (head below its top).
        assert!(!sits_on(&b(110.0, 170.0, 30.0, 40.0), &bike, &seat));
        // Empty boxes never sit.
        assert!(!sits_on(&b(105.0, 110.0, 0.0, 90.0), &bike, &seat));
    }

    #[test]
    fn only_two_wheelers_are_ridden() {
        assert!(ridable("bicycle") && ridable("motorcycle"));
        assert!(!ridable("car") && !ridable("person"));
    }
}
