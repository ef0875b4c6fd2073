//! Media time you can trust: each decoded frame's time, from the container's timestamps
//! when they are usable, from the frame rate when they are not.
//!
//! Why: seized footage arrives as raw `.h264` streams with no timestamps at all, as
//! MPEG-TS with timestamps that jump or restart, as recordings with holes. Taking the
//! container's value blindly put every frame of a raw stream at 0 ms (and sampling then
//! kept one frame of a hundred); taking it blindly after a reset folds later footage onto
//! earlier times. The rules, frame by frame, in presentation order:
//!
//! - no timestamp (raw stream, broken packet): the previous frame's time plus one frame
//!   duration (*synthesised*, counted);
//! - a timestamp that repeats or goes back (a reset, a wrap, a muxer bug): synthesised the
//!   same way, and a *discontinuity* is reported — later footage is never folded into an
//!   earlier time;
//! - a timestamp that jumps forward by more than [`GAP_MIN_MS`] (and five frame
//!   durations): kept — the recorder really has no frames there — and reported as a
//!   *gap* with its position and length.

use serde::Serialize;

/// A forward jump at least this long (and five frame durations) is a gap in the recording.
pub const GAP_MIN_MS: i64 = 1000;

/// A hole in a recording: no frame between `after_ms` and `after_ms + missing_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeGap {
    /// Media time of the last frame before the hole.
    pub after_ms: i64,
    /// How long no frame was recorded (beyond one frame duration).
    pub missing_ms: i64,
}

/// What the timeline did with one frame's timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// The container's timestamp, kept.
    Container,
    /// No usable timestamp: timed from the frame rate.
    Synthesised,
    /// The timestamp went back or repeated: timed from the frame rate.
    Discontinuity { from_ms: i64, to_ms: i64 },
    /// A hole before this frame.
    Gap(TimeGap),
}

/// The running media clock of one decode.
#[derive(Debug, Clone)]
pub struct Timeline {
    frame_ms: f64,
    last_ms: Option<f64>,
}

impl Timeline {
    /// A timeline for a stream of `fps` frames per second (25 when unknown or absurd).
    pub fn new(fps: Option<f64>) -> Self {
        let fps = fps.filter(|f| f.is_finite() && *f >= 0.5 && *f <= 480.0);
        Self {
            frame_ms: 1000.0 / fps.unwrap_or(25.0),
            last_ms: None,
        }
    }

    /// One frame duration in ms.
    pub fn frame_ms(&self) -> f64 {
        self.frame_ms
    }

    /// The time of the next frame in presentation order, given its container timestamp
    /// in ms (relative to the stream's start), if any.
    pub fn next(&mut self, container_ms: Option<i64>) -> (i64, Timing) {
        let expected = self.last_ms.map(|l| l + self.frame_ms).unwrap_or(0.0);
        let (t, timing) = match (container_ms, self.last_ms) {
            (None, _) => (expected, Timing::Synthesised),
            (Some(c), None) => (c.max(0) as f64, Timing::Container),
            (Some(c), Some(last)) => {
                let c = c as f64;
                if c <= last {
                    (
                        expected,
                        Timing::Discontinuity {
                            from_ms: last.round() as i64,
                            to_ms: c.round() as i64,
                        },
                    )
                } else if c - last > (GAP_MIN_MS as f64).max(5.0 * self.frame_ms) {
                    (
                        c,
                        Timing::Gap(TimeGap {
                            after_ms: last.round() as i64,
                            missing_ms: (c - last - self.frame_ms).round() as i64,
                        }),
                    )
                } else {
                    (c, Timing::Container)
                }
            }
        };
        self.last_ms = Some(t);
        (t.round() as i64, timing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_without_timestamps_is_timed_from_the_frame_rate() {
        let mut t = Timeline::new(Some(25.0));
        let times: Vec<i64> = (0..100).map(|_| t.next(None).0).collect();
        assert_eq!(times[0], 0);
        assert_eq!(times[1], 40);
        assert_eq!(times[99], 3960);
    }

    #[test]
    fn repeated_or_backward_timestamps_never_fold_time_back() {
        let mut t = Timeline::new(Some(10.0));
        assert_eq!(t.next(Some(0)).0, 0);
        assert_eq!(t.next(Some(100)).0, 100);
        // Repeated: synthesised.
        assert_eq!(
            t.next(Some(100)),
            (
                200,
                Timing::Discontinuity {
                    from_ms: 100,
                    to_ms: 100
                }
            )
        );
        // A reset to 0: later frames continue from the frame rate.
        assert!(matches!(
            t.next(Some(0)),
            (300, Timing::Discontinuity { .. })
        ));
        assert!(matches!(
            t.next(Some(100)),
            (400, Timing::Discontinuity { .. })
        ));
    }

    #[test]
    fn a_forward_jump_is_a_gap_and_keeps_the_real_time() {
        let mut t = Timeline::new(Some(25.0));
        for i in 0..50 {
            t.next(Some(i * 40));
        }
        let (ms, timing) = t.next(Some(12_000));
        assert_eq!(ms, 12_000);
        assert_eq!(
            timing,
            Timing::Gap(TimeGap {
                after_ms: 1960,
                missing_ms: 10_000
            })
        );
        // Small irregularities are not gaps.
        assert_eq!(t.next(Some(12_100)).1, Timing::Container);
    }

    #[test]
    fn absurd_frame_rates_fall_back_to_25() {
        assert_eq!(Timeline::new(Some(0.0)).frame_ms(), 40.0);
        assert_eq!(Timeline::new(Some(f64::NAN)).frame_ms(), 40.0);
        assert_eq!(Timeline::new(None).frame_ms(), 40.0);
    }
}
