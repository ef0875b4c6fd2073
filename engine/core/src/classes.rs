//! Which detector classes may be one object.
//!
//! Why: COCO has no "van". A COCO detector calls a van `car` in one frame and `truck` in
//! the next (and a minibus `bus`), and, since its class scores are independent, often
//! both in one frame. The detector's suppression of duplicate boxes
//! (`vigie_detect`), the tracker and the offline linker (`vigie_track`) all treat `car`,
//! `truck` and `bus` as one *family*: one object, one box, one track. Persons, bicycles
//! and motorcycles stay strictly per class: a detector does not confuse them with cars,
//! and a person must never continue a bicycle's track.

/// The class of pedestrians (COCO `person`).
pub const PERSON: &str = "person";

/// Motor vehicles the COCO detector confuses with one another (vans, minibuses, pick-ups).
pub const MOTOR_VEHICLE_FAMILY: [&str; 3] = ["car", "truck", "bus"];

/// Whether detections labelled `a` and `b` may be one object.
pub fn same_family(a: &str, b: &str) -> bool {
    a == b || (MOTOR_VEHICLE_FAMILY.contains(&a) && MOTOR_VEHICLE_FAMILY.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cars_trucks_and_buses_are_one_family_and_nothing_else_is() {
        assert!(same_family("car", "truck"));
        assert!(same_family("bus", "car"));
        assert!(same_family("person", "person"));
        assert!(!same_family("person", "bicycle"));
        assert!(!same_family("motorcycle", "car"));
        assert!(!same_family("bicycle", "motorcycle"));
    }
}
