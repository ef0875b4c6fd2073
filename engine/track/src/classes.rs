//! Which detector classes may be one object, and which label a track finally gets.
//!
//! Why: COCO has no "van". NanoDet calls a van `car` in one frame and `truck` in the next
//! (and a minibus `bus`); the detector keeps one box per object of the family
//! (`vigie_core::classes`), but the label may change from frame to frame. Matching strictly per label broke such a van into a `car`
//! track and a `truck` track, one of them often too short to be kept. So the tracker and
//! the offline linker treat `car`, `truck` and `bus` as one *family* (they may continue one
//! another), and a track's label is the one most of its detections carried
//! ([`LabelVotes`]): a van seen 12 times as `truck` and 5 times as `car` is one `truck`
//! track. Persons, bicycles and motorcycles stay strictly per class: a detector does not
//! confuse them with cars, and a person must never continue a bicycle's track.

pub use vigie_core::classes::{same_family, MOTOR_VEHICLE_FAMILY};

/// The labels of a track's detections, counted: the track's label is the most frequent
/// one (ties: the larger summed score, then the first seen).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelVotes {
    /// (label, detections, summed score), in order of first appearance.
    votes: Vec<(String, u32, f32)>,
}

impl LabelVotes {
    /// Count one detection.
    pub fn add(&mut self, label: &str, score: f32) {
        match self.votes.iter_mut().find(|v| v.0 == label) {
            Some(v) => {
                v.1 += 1;
                v.2 += score;
            }
            None => self.votes.push((label.to_string(), 1, score)),
        }
    }

    /// The dominant label, `None` before any detection.
    pub fn dominant(&self) -> Option<&str> {
        let mut best: Option<&(String, u32, f32)> = None;
        for v in &self.votes {
            if best.is_none_or(|b| v.1 > b.1 || (v.1 == b.1 && v.2 > b.2)) {
                best = Some(v);
            }
        }
        best.map(|b| b.0.as_str())
    }

    /// Detections counted.
    pub fn total(&self) -> u32 {
        self.votes.iter().map(|v| v.1).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_frequent_label_wins() {
        let mut v = LabelVotes::default();
        assert_eq!(v.dominant(), None);
        v.add("car", 0.9);
        assert_eq!(v.dominant(), Some("car"));
        v.add("truck", 0.6);
        v.add("truck", 0.6);
        assert_eq!(v.dominant(), Some("truck"));
        v.add("car", 0.5);
        // 2 against 2: the larger summed score (1.4 > 1.2).
        assert_eq!(v.dominant(), Some("car"));
        assert_eq!(v.total(), 4);
    }
}
