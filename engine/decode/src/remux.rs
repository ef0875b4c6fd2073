//! Exporting a segment of a source by stream copy (no re-encoding).
//!
//! Why stream copy: an export handed to a court must show the original pixels, not a
//! re-encoded approximation, and copying packets is fast. The segment starts at the
//! keyframe at or before the requested start (a stream can only be cut on keyframes) and
//! ends with the first packet past the requested end; only the selected video stream is
//! copied. The file is written under a temporary name and renamed when complete, so a
//! failed export never leaves a file that looks whole.

// `codec_tag` must be cleared so the output muxer picks its own tag for the codec; the
// safe API has no setter for it.
#![allow(unsafe_code)]

use std::path::{Path, PathBuf};

use ffmpeg_next::{codec, encoder, format, media, Rational};

use crate::probe::ts_to_ms;
use crate::DecodeError;

/// What an export produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportReport {
    pub output: PathBuf,
    /// Actual segment bounds (pts from the start of the source), ms.
    pub start_ms: i64,
    pub end_ms: i64,
    pub packets: u64,
}

fn ff<'a>(path: &'a Path, action: &'static str) -> impl Fn(ffmpeg_next::Error) -> DecodeError + 'a {
    move |source| DecodeError::Ffmpeg {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// Copy `[start_ms, end_ms]` of the best (or chosen) video stream of `input_path` into
/// `output` (container chosen from its extension: .mp4, .mkv, .avi, .ts...).
pub fn export_segment(
    input_path: &Path,
    stream_index: Option<usize>,
    start_ms: i64,
    end_ms: i64,
    output: &Path,
) -> Result<ExportReport, DecodeError> {
    export(input_path, stream_index, start_ms, end_ms, output)
        .map_err(|e| e.naming_opened(input_path))
}

fn export(
    input_path: &Path,
    stream_index: Option<usize>,
    start_ms: i64,
    end_ms: i64,
    output: &Path,
) -> Result<ExportReport, DecodeError> {
    if end_ms <= start_ms {
        return Err(DecodeError::InvalidConfig(format!(
            "invalid segment {start_ms}..{end_ms} ms (expected end after start)"
        )));
    }
    let (mut ictx, meta) = crate::probe::open_input(input_path, stream_index, None)?;
    let ist = ictx.stream(meta.stream_index).expect("probed stream");
    let (ist_index, ist_tb) = (ist.index(), ist.time_base());
    let ist_start = if ist.start_time() == ffmpeg_next::ffi::AV_NOPTS_VALUE {
        0
    } else {
        ist.start_time()
    };
    let params = ist.parameters();
    if params.medium() != media::Type::Video {
        return Err(DecodeError::NoVideoStream {
            path: input_path.to_path_buf(),
            found: "no video".into(),
        });
    }
    let tmp = output.with_file_name(format!(
        ".{}.partial",
        output
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| "export".into())
    ));
    // Pick the muxer from the final name's extension, write to the temporary name.
    let ext = output
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("mp4")
        .to_ascii_lowercase();
    let muxer = match ext.as_str() {
        "mkv" => "matroska",
        "ts" => "mpegts",
        "mov" => "mov",
        "avi" => "avi",
        _ => "mp4",
    };
    // A name that is not UTF-8 is refused by name (`ffmpeg-next` would panic on it).
    crate::probe::ffmpeg_path(output)?;
    let mut octx = format::output_as(&crate::probe::ffmpeg_path(&tmp)?, muxer)
        .map_err(ff(output, "create the export file"))?;
    {
        let mut ost = octx
            .add_stream(encoder::find(codec::Id::None))
            .map_err(ff(output, "add the video stream to the export"))?;
        ost.set_parameters(params);
        // SAFETY: the stream's codecpar was just allocated by add_stream and filled by
        // set_parameters; clearing codec_tag is what FFmpeg's own remux example does.
        unsafe {
            (*ost.parameters().as_mut_ptr()).codec_tag = 0;
        }
        ost.set_time_base(ist_tb);
    }
    if let Err(e) = octx.write_header() {
        let _ = std::fs::remove_file(&tmp);
        return Err(DecodeError::InvalidConfig(format!(
            "the {muxer} container cannot hold this {} stream without re-encoding ({e}); export to .mkv instead",
            meta.codec
        )));
    }
    let ost_tb: Rational = octx.stream(0).expect("one stream").time_base();
    // Seek to the keyframe at or before the start.
    let target_us = start_ms.max(0) * 1000;
    if start_ms > 0 {
        let _ = ictx.seek(target_us, ..target_us);
    }
    let mut packets = 0u64;
    let (mut first_ms, mut last_ms) = (None, start_ms);
    let mut offset: Option<i64> = None;
    for (stream, mut packet) in ictx.packets() {
        if stream.index() != ist_index {
            continue;
        }
        let pts = packet.pts().or(packet.dts()).unwrap_or(0);
        let pts_ms = ts_to_ms(pts - ist_start, ist_tb);
        if first_ms.is_none() {
            // Start on a keyframe (at or before the requested start, after the seek).
            if !packet.is_key() {
                continue;
            }
            first_ms = Some(pts_ms);
        }
        // Stop on decode order: every frame shown up to `end_ms` has been decoded by then
        // (B-frames decode before they are shown, their references before them).
        let dts_ms = ts_to_ms(packet.dts().unwrap_or(pts) - ist_start, ist_tb);
        if dts_ms > end_ms {
            break;
        }
        // Shift timestamps so the export starts at 0.
        let base = *offset.get_or_insert(packet.dts().or(packet.pts()).unwrap_or(0));
        packet.set_pts(packet.pts().map(|p| p - base));
        packet.set_dts(packet.dts().map(|d| d - base));
        packet.rescale_ts(ist_tb, ost_tb);
        packet.set_position(-1);
        packet.set_stream(0);
        packet
            .write_interleaved(&mut octx)
            .map_err(ff(output, "write the export"))?;
        packets += 1;
        last_ms = last_ms.max(pts_ms);
    }
    octx.write_trailer()
        .map_err(ff(output, "finish the export"))?;
    drop(octx);
    if packets == 0 {
        let _ = std::fs::remove_file(&tmp);
        return Err(DecodeError::InvalidConfig(format!(
            "nothing to export between {:.1} s and {:.1} s (the source has no video there)",
            start_ms as f64 / 1000.0,
            end_ms as f64 / 1000.0
        )));
    }
    std::fs::rename(&tmp, output).map_err(|source| DecodeError::Open {
        path: output.to_path_buf(),
        source,
    })?;
    Ok(ExportReport {
        output: output.to_path_buf(),
        start_ms: first_ms.unwrap_or(start_ms),
        end_ms: last_ms,
        packets,
    })
}
