//! Run the tracker over MOTChallenge detections and write MOTChallenge tracker output.
//!
//! This is how vigie's tracking is scored on TUD-Campus / TUD-Stadtmitte: detections (from
//! a `det.txt`, from ground truth as an upper bound, or from vigie's own detector) go
//! through the same [`Tracker`] the analysis pipeline uses, frame numbers become pts with a
//! fixed frame interval, and the tracks come back as a [`MotFile`] for [`crate::eval`].
pub use crate::eval::MotFile;
use crate::eval::{fields, MotBox, MotFileError};
use crate::tracker::{FinishedTrack, PointSource, TrackError, Tracker};
use crate::TrackerConfig;
use vigie_core::{BBox, Detection};

/// Frame numbers (MOTChallenge: first frame is 1) to pts and back, at a fixed interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameClock {
    pub first_frame: i64,
    pub frame_interval_ms: f64,
}

impl FrameClock {
    pub fn new(frame_interval_ms: f64) -> Self {
        FrameClock {
            first_frame: 1,
            frame_interval_ms,
        }
    }
    pub fn pts_ms(&self, frame: i64) -> i64 {
        ((frame - self.first_frame) as f64 * self.frame_interval_ms).round() as i64
    }
    pub fn frame(&self, pts_ms: i64) -> i64 {
        (pts_ms as f64 / self.frame_interval_ms).round() as i64 + self.first_frame
    }
}

/// Per-frame detections, in frame order.
pub type FrameDetections = Vec<(i64, Vec<Detection>)>;

/// Parse a MOTChallenge detection file (`frame,-1,x,y,w,h,score,...`): every row becomes a
/// detection labelled `label`, with column 7 as its score (missing: 1). MOT15 `det.txt`
/// scores are not calibrated to 0..1: rescale them or set the tracker's thresholds to suit.
pub fn parse_detections(text: &str, label: &str) -> Result<FrameDetections, MotFileError> {
    let mut by_frame: std::collections::BTreeMap<i64, Vec<Detection>> = Default::default();
    for (n, l) in text.lines().enumerate() {
        let Some(v) = fields(l, n + 1)? else { continue };
        let frame = v[0].round() as i64;
        by_frame.entry(frame).or_default().push(Detection {
            bbox_in_frame: BBox {
                x: v[2] as f32,
                y: v[3] as f32,
                w: v[4] as f32,
                h: v[5] as f32,
            },
            label: label.to_string(),
            score: v.get(6).copied().unwrap_or(1.0) as f32,
        });
    }
    Ok(by_frame.into_iter().collect())
}

/// Ground truth as detections (score = `score`, label `person`): the tracker's upper bound
/// with a perfect detector.
pub fn detections_from_gt(gt: &MotFile, score: f32) -> FrameDetections {
    gt.frames
        .iter()
        .map(|(f, boxes)| {
            let dets = boxes
                .iter()
                .map(|b| Detection {
                    bbox_in_frame: BBox {
                        x: b.x as f32,
                        y: b.y as f32,
                        w: b.w as f32,
                        h: b.h as f32,
                    },
                    label: "person".into(),
                    score,
                })
                .collect();
            (*f, dets)
        })
        .collect()
}

/// Track every frame from the first to the last listed (frames without detections are
/// fed as empty frames, so the motion model sees the real time gaps).
pub fn track_frames(
    frames: &FrameDetections,
    cfg: TrackerConfig,
    clock: FrameClock,
) -> Result<Vec<FinishedTrack>, TrackError> {
    let mut tracker = Tracker::new(cfg)?;
    let (Some(first), Some(last)) = (frames.first(), frames.last()) else {
        return Ok(Vec::new());
    };
    let by_frame: std::collections::HashMap<i64, &Vec<Detection>> =
        frames.iter().map(|(f, d)| (*f, d)).collect();
    let none = Vec::new();
    for f in first.0..=last.0 {
        tracker.update(clock.pts_ms(f), by_frame.get(&f).copied().unwrap_or(&none))?;
    }
    Ok(tracker.finish())
}

/// Tracks as MOTChallenge rows. Detection points always; with `include_predicted`, also
/// the Kalman predictions inside a track's span (gap filling, as ByteTrack's offline
/// interpolation does for benchmarks). Column 7 is the detection score (1 for predictions).
pub fn tracks_to_mot(
    tracks: &[FinishedTrack],
    clock: FrameClock,
    include_predicted: bool,
) -> MotFile {
    let mut out = MotFile::default();
    for t in tracks {
        for p in &t.history {
            if p.source == PointSource::Predicted && !include_predicted {
                continue;
            }
            let b = p.bbox_in_frame;
            out.frames
                .entry(clock.frame(p.pts_ms))
                .or_default()
                .push(MotBox {
                    id: t.id as i64,
                    x: b.x as f64,
                    y: b.y as f64,
                    w: b.w as f64,
                    h: b.h as f64,
                    conf: if p.source == PointSource::Detection {
                        p.score as f64
                    } else {
                        1.0
                    },
                });
        }
    }
    out
}
