//! Thumbnails cut from the recorded pictures, and handed over one at a time.
//!
//! Why: the describer keeps each track's best view as it goes, cut from the analysis
//! frames. When those were decoded with the loop filter skipped
//! ([`vigie_decode::Fidelity::AnalysisOnly`]) the cut is not the recorded picture, and a
//! thumbnail is disclosed (contact sheets, the desk's search grid). So each one is cut
//! again, at the same instant, place and working size, from a [`vigie_decode::Decoder`]:
//! its [`DecodeConfig`] cannot skip the filter, so the pixels are those a run without the
//! shortcut gives, byte for byte. A thumbnail whose frame cannot be found again is dropped
//! rather than kept from analysis pixels. The analysis keeps no pixels for them in the
//! meantime (`Describer::keep_thumbnail_pixels`): only where and when each best view is.
//!
//! Memory: with a sink ([`recut_thumbnails_into`], used through
//! [`crate::analyze_source_with_thumbnails`]) each thumbnail is handed to it as soon as it
//! is cut and its pixels are released before the next one is cut, so at most one
//! thumbnail's pixels are held at a time, whatever the length of the footage (kept in the
//! descriptions until the end, a 60-min 1080p source held 16 MB more at its end).
//! [`recut_thumbnails`] keeps them all in the descriptions, for callers that compare or
//! measure them.
//!
//! Cost: thumbnails are visited in time order; one a little ahead of the decoder's
//! position is reached by decoding forward, a farther one by seeking to the keyframe
//! before it. `AnalysisStats::thumbnails_recut` and `StageTimes::thumbnails` say what
//! it took.

use std::path::Path;

use vigie_decode::{DecodeConfig, Decoder};
use vigie_describe::{Description, Thumbnail};

use crate::{PipelineError, StageError};

/// A thumbnail at most this far ahead of the last frame decoded is reached by decoding
/// forward rather than by seeking (CCTV keyframes are 1 to 4 s apart).
pub const FORWARD_MAX_MS: i64 = 2000;

/// Where each thumbnail goes once its pixels are final: `(i, &descriptions[i])`, the
/// thumbnail in `descriptions[i].thumbnail`. Its pixels are released when it returns
/// (`Thumbnail::rgb` left empty; where, when and how big stay). An error stops the work
/// and comes back as [`PipelineError::ThumbnailSink`].
pub type ThumbnailSink<'a> = dyn FnMut(usize, &Description) -> Result<(), StageError> + 'a;

/// What [`recut_thumbnails`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recut {
    pub recut: u64,
    /// Thumbnails whose frame the deblocking decode did not give again (broken
    /// timestamps): removed.
    pub dropped: u64,
}

/// Replace the pixels of every thumbnail in `descriptions` by the same crop of the
/// recorded picture, all kept in `descriptions` (every thumbnail of the source held at
/// once: [`recut_thumbnails_into`] holds one). `decode` is the analysis's plain
/// configuration (its working size, stream and timing are reused; its sampling is not,
/// the exact frames are wanted).
pub fn recut_thumbnails(
    path: &Path,
    decode: &DecodeConfig,
    descriptions: &mut [Description],
) -> Result<Recut, PipelineError> {
    recut(path, decode, descriptions, None)
}

/// [`recut_thumbnails`], each thumbnail handed to `sink` as soon as it is cut (in time
/// order) and its pixels released before the next is cut. A dropped thumbnail is not
/// handed over. An error stops the re-cut: no later thumbnail is cut.
pub fn recut_thumbnails_into(
    path: &Path,
    decode: &DecodeConfig,
    descriptions: &mut [Description],
    sink: &mut ThumbnailSink<'_>,
) -> Result<Recut, PipelineError> {
    recut(path, decode, descriptions, Some(sink))
}

/// Hand every thumbnail of `descriptions` that holds pixels to `sink`, in order, and
/// release each one's pixels as it returns: for thumbnails cut from recorded pictures
/// during the analysis, which need no re-cut.
pub fn hand_over(
    descriptions: &mut [Description],
    sink: &mut ThumbnailSink<'_>,
) -> Result<(), PipelineError> {
    for (i, d) in descriptions.iter_mut().enumerate() {
        if d.thumbnail.as_ref().is_some_and(|t| !t.rgb.is_empty()) {
            give(sink, i, d)?;
        }
    }
    Ok(())
}

/// `sink(i, d)`, then `d`'s thumbnail pixels released whatever it returned.
fn give(sink: &mut ThumbnailSink<'_>, i: usize, d: &mut Description) -> Result<(), PipelineError> {
    let r = sink(i, d);
    if let Some(t) = d.thumbnail.as_mut() {
        t.rgb = Vec::new();
    }
    r.map_err(|source| PipelineError::ThumbnailSink { source })
}

fn recut(
    path: &Path,
    decode: &DecodeConfig,
    descriptions: &mut [Description],
    mut sink: Option<&mut ThumbnailSink<'_>>,
) -> Result<Recut, PipelineError> {
    let mut order: Vec<(i64, usize)> = descriptions
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.thumbnail.as_ref().map(|t| (t.pts_ms, i)))
        .collect();
    let mut out = Recut::default();
    if order.is_empty() {
        return Ok(out);
    }
    order.sort_unstable();
    let cfg = DecodeConfig {
        sampling: vigie_core::SamplingMode::All,
        ..decode.clone()
    };
    let mut dec = Decoder::open(path, &cfg)?;
    let mut frame: Option<vigie_core::RgbFrame> = None;
    for (pts_ms, i) in order {
        if frame.as_ref().is_none_or(|f| f.pts_ms != pts_ms) {
            let position = dec.report().last_pts_ms;
            frame = match position {
                Some(p) if p < pts_ms && pts_ms - p <= FORWARD_MAX_MS => {
                    dec.frame_at_forward(pts_ms)?
                }
                _ => dec.frame_at(pts_ms)?,
            };
            if frame.as_ref().is_some_and(|f| f.pts_ms != pts_ms) {
                // A seek can time frames differently from a decode from the start (a
                // timestamp reset before this point): decode from the start.
                dec = Decoder::open(path, &cfg)?;
                frame = dec.frame_at_forward(pts_ms)?;
            }
        }
        let d = &mut descriptions[i];
        let t = d.thumbnail.as_mut().expect("listed with a thumbnail");
        match frame.as_ref().filter(|f| f.pts_ms == pts_ms) {
            Some(f) if cut(f, t) => {
                out.recut += 1;
                if let Some(sink) = sink.as_deref_mut() {
                    give(sink, i, d)?;
                }
            }
            _ => {
                d.thumbnail = None;
                d.summary.thumbnail_at = None;
                out.dropped += 1;
            }
        }
    }
    Ok(out)
}

/// Cut `t`'s rectangle from `f` into `t.rgb`; `false` if it does not fit.
fn cut(f: &vigie_core::RgbFrame, t: &mut Thumbnail) -> bool {
    let (x0, y0, w, h) = (
        t.x_px as usize,
        t.y_px as usize,
        t.width as usize,
        t.height as usize,
    );
    if x0 + w > f.width as usize || y0 + h > f.height as usize {
        return false;
    }
    let row = f.width as usize * 3;
    t.rgb.clear();
    for y in y0..y0 + h {
        let s = y * row + x0 * 3;
        t.rgb.extend_from_slice(&f.data[s..s + w * 3]);
    }
    true
}
