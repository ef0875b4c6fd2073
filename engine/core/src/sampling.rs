//! Which decoded frames reach the analysis stages.
//!
//! CCTV archives are long and mostly static, so analysing every frame is rarely worth it.
//! The sampling mode is chosen per run; the cheapest modes (`nonref`, `keyframes`) also let
//! the decoder skip work (FFmpeg's `skip_frame`), not just drop frames after decoding.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum SamplingMode {
    /// Every decoded frame.
    All,
    /// At most `fps` frames per second of presentation time (evenly spaced by pts).
    TargetFps { fps: f64 },
    /// The decoder skips non-reference frames (B-frames in most CCTV H.264).
    SkipNonRef,
    /// The decoder only decodes keyframes.
    KeyframesOnly,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid sampling mode {given:?} (expected `all`, `nonref`, `keyframes` or a frame rate such as `5fps`, with 0 < fps <= 1000)")]
pub struct SamplingModeParseError {
    pub given: String,
}

impl FromStr for SamplingMode {
    type Err = SamplingModeParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || SamplingModeParseError {
            given: s.to_string(),
        };
        match s.trim().to_ascii_lowercase().as_str() {
            "all" | "every" => Ok(Self::All),
            "nonref" | "skip-nonref" => Ok(Self::SkipNonRef),
            "keyframes" | "key" => Ok(Self::KeyframesOnly),
            other => {
                let num = other.strip_suffix("fps").unwrap_or(other);
                let fps: f64 = num.trim().parse().map_err(|_| err())?;
                if fps.is_finite() && fps > 0.0 && fps <= 1000.0 {
                    Ok(Self::TargetFps { fps })
                } else {
                    Err(err())
                }
            }
        }
    }
}

impl fmt::Display for SamplingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("all"),
            Self::TargetFps { fps } => write!(f, "{fps}fps"),
            Self::SkipNonRef => f.write_str("nonref"),
            Self::KeyframesOnly => f.write_str("keyframes"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_mode() {
        assert_eq!("all".parse(), Ok(SamplingMode::All));
        assert_eq!("nonref".parse(), Ok(SamplingMode::SkipNonRef));
        assert_eq!("keyframes".parse(), Ok(SamplingMode::KeyframesOnly));
        assert_eq!("5fps".parse(), Ok(SamplingMode::TargetFps { fps: 5.0 }));
        assert_eq!("2.5".parse(), Ok(SamplingMode::TargetFps { fps: 2.5 }));
    }

    #[test]
    fn rejects_nonsense_and_names_it() {
        for bad in ["", "0fps", "-3", "fast", "nanfps", "5000fps"] {
            let e = bad.parse::<SamplingMode>().unwrap_err();
            assert_eq!(e.given, bad);
            assert!(e.to_string().contains("expected"));
        }
    }

    #[test]
    fn display_round_trips() {
        for m in [
            SamplingMode::All,
            SamplingMode::SkipNonRef,
            SamplingMode::KeyframesOnly,
            SamplingMode::TargetFps { fps: 7.5 },
        ] {
            assert_eq!(m.to_string().parse::<SamplingMode>(), Ok(m));
        }
    }
}
