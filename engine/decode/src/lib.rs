//! Decoding recorded footage with FFmpeg (`ffmpeg-next`).
//!
//! Why this crate exists rather than calling `ffmpeg-next` everywhere:
//! - **Speed.** FFmpeg decoders start single-threaded; opened through `ffmpeg-next`'s safe
//!   API they get only one of frame *or* slice threading. [`Decoder::open`] turns on both,
//!   with one thread per core, which is what the `ffmpeg` CLI does and what makes our decode
//!   throughput match it (see `vigie bench decode`).
//! - **Cheap sampling.** `nonref` and `keyframes` tell the *decoder* to skip work
//!   (`skip_frame`), and frames dropped by a target frame rate are never converted to RGB.
//!   Analysis may also skip the in-loop deblocking filter ([`analysis`]): its frames are
//!   then typed as analysis-only and cannot feed anything disclosed.
//! - **Damage accounting.** Seized footage is often damaged. Corrupt packets and frames are
//!   counted and decoding goes on; a truncated file yields the frames before the damage
//!   and a warning; files that are not video at all fail at open with an error that says
//!   what the file is and what to do. See [`DecodeReport`] and [`DecodeError`].
//! - **Time.** Every frame carries its presentation time in milliseconds and, when the
//!   source's origin is known, its wall-clock time ([`vigie_core::StartTime`]).
//!
//! The lifecycle is explicit (as in rav1e): [`Decoder::open`] validates everything up
//! front, [`Decoder::next_frame`] yields frames until `None`, [`Decoder::finish`] returns
//! the report. [`spawn_decoder`] runs the same loop on a thread behind a bounded channel.

pub mod analysis;
mod config;
mod decoder;
mod error;
mod probe;
mod remux;
pub mod salvage;
mod sampler;
pub mod timeline;

pub use analysis::{
    spawn_analysis_decoder, AnalysisDecodeConfig, AnalysisDecoder, AnalysisDecoderHandle,
    AnalysisFrame, Fidelity,
};
pub use config::{DecodeConfig, LoopFilter, OutputSize};
pub use decoder::{spawn_decoder, DecodeReport, Decoder, DecoderHandle};
pub use error::DecodeError;
pub use probe::{probe, timestamp_source};
pub use remux::{export_segment, ExportReport};
pub use timeline::TimeGap;

/// Initialise FFmpeg once per process and silence its own logging (vigie counts and
/// reports damage itself). Set `VIGIE_FFMPEG_LOG=warning` (or `info`, `debug`) to see
/// FFmpeg's messages on stderr.
pub fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ffmpeg_next::init();
        use ffmpeg_next::util::log::Level;
        let level = match std::env::var("VIGIE_FFMPEG_LOG").as_deref() {
            Ok("error") => Level::Error,
            Ok("warning") => Level::Warning,
            Ok("info") => Level::Info,
            Ok("debug") => Level::Debug,
            _ => Level::Quiet,
        };
        ffmpeg_next::util::log::set_level(level);
    });
}
