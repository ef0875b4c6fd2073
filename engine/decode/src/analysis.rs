//! Decoding for analysis only: frames whose pixels may differ from the recording.
//!
//! Why this exists: skipping the codec's in-loop deblocking filter (FFmpeg's
//! `skip_loop_filter`) cuts the decoder's CPU time by about a fifth on H.264 (see
//! [`LoopFilter`]), and the detector, the motion gate and the tracker work on frames
//! scaled down to ~640 px where the filter's effect is mostly averaged away. But such
//! frames are not the recorded pictures (block edges stay, and with
//! [`LoopFilter::SkipAll`] the error drifts until the next keyframe), so they must never
//! be shown, exported or handed over. The types carry that:
//!
//! - [`DecodeConfig`] has no loop-filter setting: [`crate::Decoder`] and
//!   [`crate::spawn_decoder`], which every disclosure path uses (clips, frames, contact
//!   sheets, synopsis backgrounds and cut-outs, plate crops, the player), always deblock.
//! - Only an [`AnalysisDecodeConfig`] can ask for a skip, and its decoders yield
//!   [`AnalysisFrame`]s, not [`RgbFrame`]s. An analysis frame converts to an `RgbFrame`
//!   by value only through [`AnalysisFrame::into_recorded`], which refuses frames that
//!   are not the recording's with a typed error; analysis stages borrow the pixels
//!   through [`AnalysisFrame::for_analysis`], so every such use is named in the code.
//! - The one disclosed picture cut during analysis, a track's thumbnail, is re-cut by the
//!   pipeline from a deblocking decode whenever the analysis frames were
//!   [`Fidelity::AnalysisOnly`] (`vigie_pipeline`).
//! - A codec with no in-loop filter (MPEG-1/2, MPEG-4 Part 2 such as vtest.avi, MJPEG)
//!   has nothing to skip: its analysis frames are [`Fidelity::Recorded`] whatever was
//!   asked, and no thumbnail is decoded twice (about 7% of `vigie bench analyze`'s time
//!   on vtest.avi went to cutting again thumbnails that were already the recorded pixels).

use std::path::Path;
use std::thread::JoinHandle;

use crossbeam_channel::Receiver;
use vigie_core::{RgbFrame, SourceMeta};

use crate::config::{DecodeConfig, LoopFilter};
use crate::decoder::{spawn_with, DecodeReport, Decoder};
use crate::DecodeError;

/// Whether a frame's pixels are the recorded picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fidelity {
    /// Decoded as the encoder intended: the same pixels any decoder gives.
    Recorded,
    /// Decoded with a shortcut (the loop filter skipped): for analysis, never disclosed.
    AnalysisOnly,
}

/// How to decode a source for analysis: the plain settings plus the shortcuts that only
/// analysis may take.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisDecodeConfig {
    pub decode: DecodeConfig,
    pub loop_filter: LoopFilter,
}

impl AnalysisDecodeConfig {
    /// What the frames of this configuration are at most: a decoder of a codec with no
    /// loop filter gives [`Fidelity::Recorded`] frames even when this says
    /// [`Fidelity::AnalysisOnly`] ([`AnalysisDecoder::fidelity`],
    /// [`AnalysisDecoderHandle::fidelity`]).
    pub fn fidelity(&self) -> Fidelity {
        if self.loop_filter.keeps_recorded_pixels() {
            Fidelity::Recorded
        } else {
            Fidelity::AnalysisOnly
        }
    }
}

/// A frame decoded for analysis. Not an [`RgbFrame`]: see the module docs.
#[derive(Debug)]
pub struct AnalysisFrame {
    frame: RgbFrame,
    fidelity: Fidelity,
}

impl AnalysisFrame {
    /// The pixels, for analysis stages (motion gate, detector, tracker, colour names).
    /// Whatever is cut from them must not be disclosed unless [`Self::fidelity`] is
    /// [`Fidelity::Recorded`].
    pub fn for_analysis(&self) -> &RgbFrame {
        &self.frame
    }

    pub fn fidelity(&self) -> Fidelity {
        self.fidelity
    }

    pub fn pts_ms(&self) -> i64 {
        self.frame.pts_ms
    }

    /// The frame as the recorded picture, for a use that may be disclosed; refused when
    /// the decoder took a shortcut.
    pub fn into_recorded(self) -> Result<RgbFrame, DecodeError> {
        match self.fidelity {
            Fidelity::Recorded => Ok(self.frame),
            Fidelity::AnalysisOnly => Err(DecodeError::NotRecordedPixels {
                pts_ms: self.frame.pts_ms,
            }),
        }
    }
}

/// A decoder for analysis on the calling thread (benchmarks, tests); the pipeline uses
/// [`spawn_analysis_decoder`].
pub struct AnalysisDecoder {
    inner: Decoder,
    fidelity: Fidelity,
}

impl AnalysisDecoder {
    pub fn open(path: &Path, cfg: &AnalysisDecodeConfig) -> Result<Self, DecodeError> {
        let inner = Decoder::open_with(path, &cfg.decode, cfg.loop_filter)?;
        Ok(Self {
            fidelity: inner.fidelity(),
            inner,
        })
    }

    pub fn meta(&self) -> &SourceMeta {
        self.inner.meta()
    }

    /// What this decoder's frames are (recorded pictures where the codec has no loop
    /// filter, whatever the configuration asked).
    pub fn fidelity(&self) -> Fidelity {
        self.fidelity
    }

    /// The next kept frame (sampling applies), or `None` at the end of the stream.
    pub fn next_frame(&mut self) -> Result<Option<AnalysisFrame>, DecodeError> {
        let fidelity = self.fidelity;
        Ok(self
            .inner
            .next_frame()?
            .map(|frame| AnalysisFrame { frame, fidelity }))
    }

    /// Decode to the end, discarding frames.
    pub fn run_to_end(&mut self) -> Result<(), DecodeError> {
        self.inner.run_to_end()
    }

    pub fn finish(self) -> DecodeReport {
        self.inner.finish()
    }
}

/// [`crate::DecoderHandle`] for analysis: the same bounded channel, of [`AnalysisFrame`]s.
pub struct AnalysisDecoderHandle {
    pub frames: Receiver<AnalysisFrame>,
    pub meta: SourceMeta,
    pub fidelity: Fidelity,
    thread: JoinHandle<Result<DecodeReport, DecodeError>>,
}

impl AnalysisDecoderHandle {
    /// Wait for the decoder to finish (drain or drop `frames` first).
    pub fn join(self) -> Result<DecodeReport, DecodeError> {
        drop(self.frames);
        self.thread
            .join()
            .map_err(|_| DecodeError::ThreadPanicked)?
    }
}

/// [`crate::spawn_decoder`] for analysis.
pub fn spawn_analysis_decoder(
    path: &Path,
    cfg: &AnalysisDecodeConfig,
    capacity: usize,
) -> Result<AnalysisDecoderHandle, DecodeError> {
    // The decoder says: a codec with no loop filter gives recorded pictures whatever the
    // configuration asked.
    let (frames, meta, fidelity, thread) = spawn_with(
        path,
        &cfg.decode,
        cfg.loop_filter,
        capacity,
        |frame, fidelity| AnalysisFrame { frame, fidelity },
    )?;
    Ok(AnalysisDecoderHandle {
        frames,
        meta,
        fidelity,
        thread,
    })
}
