//! Decoder configuration, validated once before any file is opened.

use chrono::{DateTime, FixedOffset};
use vigie_core::SamplingMode;

use crate::DecodeError;

/// The working resolution frames are converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputSize {
    /// Keep the source resolution.
    Native,
    /// Scale down (never up) to at most this width, keeping the aspect ratio; the height is
    /// rounded to an even number.
    MaxWidth(u32),
    /// Exactly this size (aspect ratio not kept).
    Exact { width: u32, height: u32 },
}

impl OutputSize {
    /// The output size for a source of `src_w` x `src_h`.
    pub fn resolve(self, src_w: u32, src_h: u32) -> (u32, u32) {
        match self {
            Self::Native => (src_w, src_h),
            Self::Exact { width, height } => (width, height),
            Self::MaxWidth(max_w) if src_w <= max_w => (src_w, src_h),
            Self::MaxWidth(max_w) => {
                let h = (u64::from(src_h) * u64::from(max_w) / u64::from(src_w.max(1))) as u32;
                (max_w, (h.max(2) + 1) & !1)
            }
        }
    }
}

/// What the decoder does with the codec's in-loop deblocking filter (FFmpeg's
/// `skip_loop_filter`). Not a field of [`DecodeConfig`]: only
/// [`crate::AnalysisDecodeConfig`] carries it, so a decoder that feeds anything disclosed
/// (clips, frames, thumbnails, plate crops, synopses) cannot be asked to skip it.
///
/// Skipping it leaves the encoder's block edges in the picture. `SkipAll` also skips it
/// on reference frames, so the decoded pictures drift from the recording until the next
/// keyframe; `SkipNonRef` keeps references exact (no drift) but saves only on streams
/// with non-reference frames (B-frames). Measured with the `ffmpeg` CLI (CPU time,
/// median of 7 alternating runs): `SkipAll` 0.78 of a full decode on 1080p25 H.264 High,
/// 0.76 on 640x352 H.264 Main; `SkipNonRef` 0.92 and 1.00 (no B-frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoopFilter {
    /// Deblock every frame, as the encoder did: the recorded pictures.
    Apply,
    /// Skip deblocking on non-reference frames only.
    SkipNonRef,
    /// Skip deblocking on every frame.
    SkipAll,
}

impl LoopFilter {
    /// Whether the decoded pixels are the recorded pictures.
    pub fn keeps_recorded_pixels(self) -> bool {
        self == Self::Apply
    }
}

/// How to decode one source.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeConfig {
    /// Video stream index in the container; `None` picks FFmpeg's best video stream.
    pub stream_index: Option<usize>,
    pub sampling: SamplingMode,
    pub output_size: OutputSize,
    /// Convert frames to RGB. `false` decodes only (benchmarks, damage scans).
    pub convert_rgb: bool,
    /// Decoder threads; 0 means one per core (FFmpeg's "auto").
    pub threads: usize,
    /// Wall-clock time of the first frame, used when the container has no
    /// `creation_time`.
    pub operator_start: Option<DateTime<FixedOffset>>,
    /// Frame rate of a stream timed from its frame rate (a raw elementary stream), when
    /// the operator gave it at ingest (`--fps`): the stream's own rate otherwise.
    pub assumed_fps: Option<f64>,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        Self {
            stream_index: None,
            sampling: SamplingMode::All,
            output_size: OutputSize::MaxWidth(960),
            convert_rgb: true,
            threads: 0,
            operator_start: None,
            assumed_fps: None,
        }
    }
}

impl DecodeConfig {
    /// The settings a registered source brings: the operator's start time and, for a
    /// stream timed from its frame rate, the rate recorded at ingest.
    pub fn for_source(mut self, meta: &vigie_core::SourceMeta) -> Self {
        self.operator_start = meta.start_time.map(|s| s.at);
        if meta.timestamps == vigie_core::TimestampSource::FrameRate {
            self.assumed_fps = meta.fps;
        }
        self
    }

    pub fn validate(&self) -> Result<(), DecodeError> {
        let bad = |m: String| Err(DecodeError::InvalidConfig(m));
        match self.output_size {
            OutputSize::MaxWidth(w) if !(16..=8192).contains(&w) => {
                return bad(format!(
                    "invalid working width {w} (expected >= 16, <= 8192)"
                ))
            }
            OutputSize::Exact { width, height }
                if !(16..=8192).contains(&width) || !(16..=8192).contains(&height) =>
            {
                return bad(format!(
                    "invalid working size {width}x{height} (expected each side >= 16, <= 8192)"
                ))
            }
            _ => {}
        }
        if self.threads > 256 {
            return bad(format!(
                "invalid thread count {} (expected 0 for auto, or <= 256)",
                self.threads
            ));
        }
        if let SamplingMode::TargetFps { fps } = self.sampling {
            if !(fps.is_finite() && fps > 0.0) {
                return bad(format!("invalid target frame rate {fps} (expected > 0)"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_width_keeps_aspect_and_even_height() {
        assert_eq!(OutputSize::MaxWidth(640).resolve(1920, 1080), (640, 360));
        assert_eq!(OutputSize::MaxWidth(640).resolve(768, 576), (640, 480));
        assert_eq!(OutputSize::MaxWidth(1000).resolve(768, 576), (768, 576));
        assert_eq!(OutputSize::MaxWidth(100).resolve(333, 201), (100, 60));
        assert_eq!(OutputSize::MaxWidth(100).resolve(300, 183), (100, 62));
    }

    #[test]
    fn validation_names_the_allowed_range() {
        let cfg = DecodeConfig {
            output_size: OutputSize::MaxWidth(4),
            ..Default::default()
        };
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains("expected >= 16"), "{e}");
        assert!(DecodeConfig::default().validate().is_ok());
    }
}
