//! Frame-rate sampling by presentation time.
//!
//! Decided on timestamps, not frame indices, so variable-frame-rate DVR exports are
//! sampled evenly in time.

/// Keeps at most `fps` frames per second of presentation time.
#[derive(Debug, Clone)]
pub(crate) struct FpsSampler {
    interval_ms: f64,
    next_ms: Option<f64>,
}

impl FpsSampler {
    pub(crate) fn new(fps: f64) -> Self {
        Self {
            interval_ms: 1000.0 / fps,
            next_ms: None,
        }
    }

    /// Whether the frame at `pts_ms` is kept.
    pub(crate) fn keep(&mut self, pts_ms: i64) -> bool {
        let t = pts_ms as f64;
        match self.next_ms {
            // Half a millisecond of slack absorbs timestamp rounding (e.g. 33/34 ms steps).
            Some(next) if t + 0.5 < next => false,
            Some(next) => {
                // Never fall behind by more than one interval (after a gap, resync).
                self.next_ms = Some((next + self.interval_ms).max(t));
                true
            }
            None => {
                self.next_ms = Some(t + self.interval_ms);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_five_of_twenty_five() {
        let mut s = FpsSampler::new(5.0);
        let kept = (0..250).filter(|i| s.keep(i * 40)).count();
        assert_eq!(kept, 50);
    }

    #[test]
    fn handles_rounded_timestamps_at_30fps() {
        let mut s = FpsSampler::new(10.0);
        let kept = (0..300)
            .filter(|i| s.keep((f64::from(*i) * 1000.0 / 30.0).round() as i64))
            .count();
        assert_eq!(kept, 100);
    }

    #[test]
    fn higher_target_than_source_keeps_everything() {
        let mut s = FpsSampler::new(50.0);
        assert!((0..100).all(|i| s.keep(i * 40)));
    }
}
