//! What vigie knows about one evidence source (a video file) before analysing it.
//!
//! Investigators need every result tied to a real wall-clock time, so each source carries
//! its start time *and where that start time came from*: the container's own
//! `creation_time`, or a value the operator typed (`--start`). The origin is recorded so the
//! exploitation report can say which times are the camera's and which are an operator's.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// Where a source's wall-clock origin comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartTimeOrigin {
    /// The container's `creation_time` tag (camera or DVR export clock).
    ContainerCreationTime,
    /// Given by the operator on the command line (`--start`).
    Operator,
}

/// The wall-clock time of the first frame of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartTime {
    pub at: DateTime<FixedOffset>,
    pub origin: StartTimeOrigin,
}

impl StartTime {
    /// Milliseconds since the Unix epoch (UTC).
    pub fn epoch_ms(&self) -> i64 {
        self.at.timestamp_millis()
    }
}

/// Where the media time of a source's frames comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampSource {
    /// The container's timestamps (checked frame by frame: repeated or broken ones are
    /// replaced from the frame rate, gaps are reported).
    #[default]
    Container,
    /// A raw elementary stream (`.h264`, `.h265`...) carries no timestamps: each frame's
    /// time is its index divided by the frame rate.
    FrameRate,
}

/// Metadata of the selected video stream of one source, as probed by the decoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceMeta {
    /// FFmpeg demuxer name(s), e.g. `mov,mp4,m4a,3gp,3g2,mj2` or `avi`.
    pub container: String,
    /// FFmpeg codec name, e.g. `h264`, `hevc`, `mpeg4`, `mjpeg`.
    pub codec: String,
    /// Index of the selected video stream in the container.
    pub stream_index: usize,
    /// Number of video streams in the container.
    pub video_streams: usize,
    pub width: u32,
    pub height: u32,
    /// Average frame rate, when the container or stream states one.
    pub fps: Option<f64>,
    /// Duration in milliseconds, when known (raw elementary streams often have none).
    pub duration_ms: Option<u64>,
    /// Frame count: the container's count when it has one, else estimated from
    /// duration x fps (see `frame_count_exact`).
    pub frame_count: Option<u64>,
    /// Whether `frame_count` was stated by the container (true) or estimated (false).
    pub frame_count_exact: bool,
    /// Container-level bit rate in bits per second, when known.
    pub bit_rate_bps: Option<u64>,
    /// Wall-clock origin of the first frame, if known.
    pub start_time: Option<StartTime>,
    /// Where frame times come from (absent in registries written before 0.2: container).
    #[serde(default)]
    pub timestamps: TimestampSource,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_epoch() {
        let at = DateTime::parse_from_rfc3339("2024-06-01T14:00:00+02:00").unwrap();
        let st = StartTime {
            at,
            origin: StartTimeOrigin::Operator,
        };
        assert_eq!(st.epoch_ms(), 1_717_243_200_000);
        let json = serde_json::to_string(&st).unwrap();
        assert!(json.contains("\"operator\""), "{json}");
    }
}
