//! Tracker parameters, validated once before any frame is seen.
//!
//! Defaults follow ByteTrack's published MOT17 settings (track_thresh 0.5, match_thresh
//! 0.8, second-stage 0.5, unconfirmed 0.7, track_buffer 30 frames at 30 fps), with the IoU
//! gates written as minimum IoU instead of maximum `1 - IoU` cost so the names say what
//! they mean.

use serde::{Deserialize, Serialize};

/// Every parameter of the tracker. See the field docs for defaults and allowed ranges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrackerConfig {
    /// Detections scoring at least this are "high" (first association, may start tracks).
    /// Default 0.5. Allowed: `low_score_min <= value <= 1`.
    pub high_score_min: f32,
    /// Detections scoring below this are ignored; between this and `high_score_min` they
    /// are "low" and only extend tracks seen in the previous frame (second association),
    /// or lost tracks of their size (`lost_low_match`).
    /// Default 0.1. Allowed: `0 <= value <= high_score_min`.
    pub low_score_min: f32,
    /// An unmatched high detection starts a new (tentative) track only if it scores at
    /// least this. Default 0.6. Allowed: `high_score_min <= value <= 1`.
    pub new_track_score_min: f32,
    /// Minimum IoU between a track's predicted box and a high detection to match them.
    /// Default 0.2. Allowed: `0 < value <= 1`.
    pub high_match_iou_min: f32,
    /// Minimum IoU for a low detection to extend a track. Default 0.5. Allowed: `0 < value <= 1`.
    pub low_match_iou_min: f32,
    /// Minimum IoU for a high detection to extend a tentative track. Default 0.3.
    /// Allowed: `0 < value <= 1`.
    pub tentative_match_iou_min: f32,
    /// Consecutive matched frames before a tentative track is confirmed, gets an id and is
    /// reported. A tentative track that misses one frame is dropped. Default 2.
    /// Allowed: `1..=100`.
    pub min_hits: u32,
    /// How long a confirmed track may go unseen (no detection) before it is finished.
    /// Kept short on purpose: a moving track coasting on its prediction takes the first box
    /// it overlaps at `high_match_iou_min`, often a neighbour's in a group, while the
    /// offline linking ([`crate::link`]) joins a hidden object's fragments later with both
    /// ends, their motion and their colours in view (on TUD-Stadtmitte 1000 ms gave IDF1
    /// 0.648, 700 ms 0.709 with the same boxes, 0.726 with `backfill_ms`). Default 700 ms. Allowed: `0..=600000`.
    pub track_buffer_ms: i64,
    /// Nominal time between frames, the Kalman filter's time unit (velocities are per
    /// nominal frame; a gap of two intervals predicts twice as far). Default 40 ms (25 fps).
    /// Allowed: `1.0..=10000.0`.
    pub frame_interval_ms: f64,
    /// Only associate detections with tracks of the same label (a car never continues a
    /// person's track). Default true.
    pub per_class: bool,
    /// Match high detections to tracks seen in the previous frame before lost tracks (a
    /// matching cascade, as in DeepSORT) instead of all at once (ByteTrack). It stops a
    /// lost track coasting on its predicted motion from taking a neighbour's box, but when
    /// the detector misses boxes in a crowd it lets a seen track take the box of a briefly
    /// lost neighbour; on TUD-Stadtmitte with 15 % of boxes dropped it triples ID switches,
    /// so it is off by default. Default false.
    pub prefer_recent_tracks: bool,
    /// A track whose centre moved less than this (box heights per second, over its last
    /// second of detections, or its last two detections when they are further apart) is
    /// still: a parked car, a person waiting. Default 0.1. Allowed: `0..=10`.
    pub still_speed_h_s: f32,
    /// How long a still confirmed track may go unseen before it is finished. Still
    /// objects are re-detected only at the motion gate's refresh (every 2 s by default),
    /// so this must outlast a few refreshes, one of which may miss. Default 6500 ms.
    /// Allowed: `track_buffer_ms..=600000`.
    pub still_track_buffer_ms: i64,
    /// When a track is confirmed, look back this far for where it was before: the
    /// unmatched detections of the frames before its first one (kept for this long, low
    /// ones included), followed backwards from its first box at its first boxes'
    /// velocity, gate `low_match_iou_min`, same class family, a height within 1.25 of
    /// the expected box's (not a part of the object), up to [`BACKFILL_MAX_MISSES`]
    /// frames with boxes in a row without a match (frames where no box was left are not
    /// kept: the pipeline also feeds frames the detector never saw). A person walking in
    /// partly hidden scores low until fully in view, and ByteTrack starts no track from
    /// low boxes; a recording lets vigie give the track its real arrival time. Default
    /// 1000 ms; 0 turns it off. Allowed: `0..=10000`.
    pub backfill_ms: i64,
    /// Let low detections extend lost tracks too (ByteTrack extends only tracks seen in
    /// the previous frame), gate `low_match_iou_min`, when the box is the track's height
    /// within 1.25: an object coming out from behind another scores low first, and a part
    /// of a neighbour is not the track's size. Default true.
    pub lost_low_match: bool,
}

/// Detected frames in a row without a match that end a backward extension
/// ([`TrackerConfig::backfill_ms`]).
pub const BACKFILL_MAX_MISSES: usize = 3;

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            high_score_min: 0.5,
            low_score_min: 0.1,
            new_track_score_min: 0.6,
            high_match_iou_min: 0.2,
            low_match_iou_min: 0.5,
            tentative_match_iou_min: 0.3,
            min_hits: 2,
            track_buffer_ms: 700,
            frame_interval_ms: 40.0,
            per_class: true,
            prefer_recent_tracks: false,
            still_speed_h_s: 0.1,
            still_track_buffer_ms: 6500,
            backfill_ms: 1000,
            lost_low_match: true,
        }
    }
}

/// A tracker parameter outside its allowed range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid tracker setting {name} = {value} (expected {expected})")]
pub struct ConfigError {
    pub name: &'static str,
    pub value: String,
    pub expected: &'static str,
}

fn check(
    ok: bool,
    name: &'static str,
    value: impl ToString,
    expected: &'static str,
) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        Err(ConfigError {
            name,
            value: value.to_string(),
            expected,
        })
    }
}

impl TrackerConfig {
    /// Check every parameter; the error names the first bad one and its allowed range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let unit = |v: f32| v.is_finite() && (0.0..=1.0).contains(&v);
        check(
            unit(self.low_score_min),
            "low_score_min",
            self.low_score_min,
            "0 <= value <= 1",
        )?;
        check(
            unit(self.high_score_min) && self.high_score_min >= self.low_score_min,
            "high_score_min",
            self.high_score_min,
            "low_score_min <= value <= 1",
        )?;
        check(
            unit(self.new_track_score_min) && self.new_track_score_min >= self.high_score_min,
            "new_track_score_min",
            self.new_track_score_min,
            "high_score_min <= value <= 1",
        )?;
        for (name, v) in [
            ("high_match_iou_min", self.high_match_iou_min),
            ("low_match_iou_min", self.low_match_iou_min),
            ("tentative_match_iou_min", self.tentative_match_iou_min),
        ] {
            check(unit(v) && v > 0.0, name, v, "0 < value <= 1")?;
        }
        check(
            (1..=100).contains(&self.min_hits),
            "min_hits",
            self.min_hits,
            "1 <= value <= 100",
        )?;
        check(
            (0..=600_000).contains(&self.track_buffer_ms),
            "track_buffer_ms",
            self.track_buffer_ms,
            "0 <= value <= 600000",
        )?;
        check(
            (self.track_buffer_ms..=600_000).contains(&self.still_track_buffer_ms),
            "still_track_buffer_ms",
            self.still_track_buffer_ms,
            "track_buffer_ms <= value <= 600000",
        )?;
        check(
            self.still_speed_h_s.is_finite() && (0.0..=10.0).contains(&self.still_speed_h_s),
            "still_speed_h_s",
            self.still_speed_h_s,
            "0 <= value <= 10",
        )?;
        check(
            (0..=10_000).contains(&self.backfill_ms),
            "backfill_ms",
            self.backfill_ms,
            "0 <= value <= 10000",
        )?;
        check(
            self.frame_interval_ms.is_finite()
                && (1.0..=10_000.0).contains(&self.frame_interval_ms),
            "frame_interval_ms",
            self.frame_interval_ms,
            "1 <= value <= 10000",
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        TrackerConfig::default().validate().unwrap();
    }

    #[test]
    fn errors_name_the_setting_and_range() {
        let c = TrackerConfig {
            high_score_min: 0.05,
            ..TrackerConfig::default()
        };
        let e = c.validate().unwrap_err();
        assert_eq!(e.name, "high_score_min");
        assert!(e.to_string().contains("low_score_min <= value <= 1"), "{e}");
        let c = TrackerConfig {
            min_hits: 0,
            ..TrackerConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().name, "min_hits");
        let c = TrackerConfig {
            frame_interval_ms: f64::NAN,
            ..TrackerConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().name, "frame_interval_ms");
        let c = TrackerConfig {
            low_match_iou_min: 0.0,
            ..TrackerConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().name, "low_match_iou_min");
    }
}
