//! Opening a container, choosing its video stream and reading its metadata.

use std::path::Path;

use chrono::{DateTime, FixedOffset};
use ffmpeg_next::{format, media, Rational};
use vigie_core::{SourceMeta, StartTime, StartTimeOrigin};

use crate::DecodeError;

/// `AV_TIME_BASE`: container durations are in microseconds.
const AV_TIME_BASE_US: i64 = 1_000_000;

/// Convert `ts` in `tb` units to milliseconds (i128 so long streams never overflow).
pub(crate) fn ts_to_ms(ts: i64, tb: Rational) -> i64 {
    if tb.denominator() == 0 {
        return 0;
    }
    (i128::from(ts) * i128::from(tb.numerator()) * 1000 / i128::from(tb.denominator())) as i64
}

pub(crate) fn rational_to_f64(r: Rational) -> Option<f64> {
    (r.numerator() > 0 && r.denominator() > 0)
        .then(|| f64::from(r.numerator()) / f64::from(r.denominator()))
}

/// Probe a file: container, codec, duration, resolution, fps, frame count and start time.
///
/// `operator_start` is used as the wall-clock origin when the container has no
/// `creation_time`.
pub fn probe(
    path: &Path,
    stream_index: Option<usize>,
    operator_start: Option<DateTime<FixedOffset>>,
) -> Result<SourceMeta, DecodeError> {
    let (_input, meta) =
        open_input(path, stream_index, operator_start).map_err(|e| e.naming_opened(path))?;
    Ok(meta)
}

/// `path` as FFmpeg takes it: `ffmpeg-next` panics on a name that is not UTF-8 (Linux
/// allows any bytes but `/` and NUL), so such a name is a typed error naming the file.
pub(crate) fn ffmpeg_path(path: &Path) -> Result<&str, DecodeError> {
    path.to_str().ok_or_else(|| DecodeError::NonUtf8Path {
        path: path.to_path_buf(),
    })
}

pub(crate) fn open_input(
    path: &Path,
    stream_index: Option<usize>,
    operator_start: Option<DateTime<FixedOffset>>,
) -> Result<(format::context::Input, SourceMeta), DecodeError> {
    crate::init();
    let fs_meta = std::fs::metadata(path).map_err(|source| DecodeError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    if fs_meta.len() == 0 {
        return Err(DecodeError::Empty {
            path: path.to_path_buf(),
        });
    }
    // Read-only: avformat opens files with O_RDONLY for input.
    let input = format::input(&ffmpeg_path(path)?).map_err(|e| {
        if is_moovless_mp4(path) {
            return DecodeError::NeedsSalvage {
                path: path.to_path_buf(),
            };
        }
        DecodeError::NotMedia {
            path: path.to_path_buf(),
            reason: match e {
                ffmpeg_next::Error::InvalidData => match sniff_vendor(path) {
                    Some(v) => format!("no known container or stream format; it looks like {v}"),
                    None => "no known container or stream format".into(),
                },
                other => other.to_string(),
            },
        }
    })?;

    let video: Vec<usize> = input
        .streams()
        .filter(|s| s.parameters().medium() == media::Type::Video && !is_attached_picture(s))
        .map(|s| s.index())
        .collect();
    let index = match stream_index {
        Some(i) if video.contains(&i) => i,
        Some(i) => {
            return Err(DecodeError::NotAVideoStream {
                path: path.to_path_buf(),
                index: i,
                video,
            })
        }
        None => {
            let best = input
                .streams()
                .best(media::Type::Video)
                .map(|s| s.index())
                .filter(|i| video.contains(i));
            match best.or_else(|| video.first().copied()) {
                Some(i) => i,
                None => {
                    return Err(DecodeError::NoVideoStream {
                        path: path.to_path_buf(),
                        found: describe_streams(&input),
                    })
                }
            }
        }
    };
    let stream = input
        .stream(index)
        .expect("index comes from the stream list");
    let params = stream.parameters();
    let codec_id = params.id();
    let codec_name = format!("{codec_id:?}").to_ascii_lowercase();
    let codec_name = ffmpeg_next::codec::decoder::find(codec_id)
        .map(|c| c.name().to_string())
        .unwrap_or(codec_name);
    let ctx = ffmpeg_next::codec::context::Context::from_parameters(params).map_err(|source| {
        DecodeError::Ffmpeg {
            path: path.to_path_buf(),
            action: "read the stream parameters",
            source,
        }
    })?;
    let (width, height) = match ctx.medium() {
        media::Type::Video => {
            let v = ctx
                .decoder()
                .video()
                .map_err(|source| DecodeError::Ffmpeg {
                    path: path.to_path_buf(),
                    action: "read the video parameters",
                    source,
                })?;
            (v.width(), v.height())
        }
        _ => (0, 0),
    };

    let tb = stream.time_base();
    let fps = rational_to_f64(stream.avg_frame_rate()).or_else(|| rational_to_f64(stream.rate()));
    let duration_ms = if stream.duration() > 0 {
        Some(ts_to_ms(stream.duration(), tb) as u64)
    } else if input.duration() > 0 {
        Some((input.duration() / (AV_TIME_BASE_US / 1000)) as u64)
    } else {
        None
    };
    let (frame_count, frame_count_exact) = if stream.frames() > 0 {
        (Some(stream.frames() as u64), true)
    } else {
        let est = match (duration_ms, fps) {
            (Some(d), Some(f)) => Some((d as f64 * f / 1000.0).round() as u64),
            _ => None,
        };
        (est, false)
    };
    let creation = input
        .metadata()
        .get("creation_time")
        .map(str::to_string)
        .or_else(|| stream.metadata().get("creation_time").map(str::to_string))
        .and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok());
    let start_time = match (creation, operator_start) {
        (Some(at), _) => Some(StartTime {
            at,
            origin: StartTimeOrigin::ContainerCreationTime,
        }),
        (None, Some(at)) => Some(StartTime {
            at,
            origin: StartTimeOrigin::Operator,
        }),
        (None, None) => None,
    };
    let meta = SourceMeta {
        container: input.format().name().to_string(),
        codec: codec_name,
        stream_index: index,
        video_streams: video.len(),
        width,
        height,
        fps,
        duration_ms,
        frame_count,
        frame_count_exact,
        bit_rate_bps: (input.bit_rate() > 0).then_some(input.bit_rate() as u64),
        start_time,
        timestamps: timestamp_source(input.format().name()),
    };
    Ok((input, meta))
}

/// An MP4/MOV with media data and no index (an export cut short).
fn is_moovless_mp4(path: &Path) -> bool {
    matches!(crate::salvage::mdat_without_moov_at(path), Ok(Some(_)))
}

/// A vendor format recognised by its first bytes, named in the refusal so the operator
/// knows which export tool to ask for.
fn sniff_vendor(path: &Path) -> Option<&'static str> {
    use std::io::Read;
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let head = &head[..n];
    const KNOWN: [(&[u8], &str); 5] = [
        (
            b"DHAV",
            "a Dahua DAV file (export it again as MP4/AVI from the recorder or Dahua's player)",
        ),
        (
            b"IMKH",
            "a Hikvision file header (export it again as MP4 from the recorder or iVMS)",
        ),
        (
            b"HXVS",
            "a XMeye/Sofia .h264 with vendor frame headers (convert it with the vendor's player)",
        ),
        (
            b"HXVF",
            "a XMeye/Sofia .h264 with vendor frame headers (convert it with the vendor's player)",
        ),
        (
            b"MDVR",
            "a mobile DVR container (export it with the vendor's tool)",
        ),
    ];
    KNOWN
        .iter()
        .find(|(magic, _)| head.windows(magic.len()).take(16).any(|w| w == *magic))
        .map(|(_, name)| *name)
}

/// Raw elementary streams carry no timestamps: their frames are timed from the frame rate.
pub fn timestamp_source(demuxer: &str) -> vigie_core::TimestampSource {
    const RAW: [&str; 7] = [
        "h264",
        "hevc",
        "mpegvideo",
        "m4v",
        "cavsvideo",
        "vc1",
        "mjpeg",
    ];
    if demuxer.split(',').any(|d| RAW.contains(&d)) {
        vigie_core::TimestampSource::FrameRate
    } else {
        vigie_core::TimestampSource::Container
    }
}

fn is_attached_picture(s: &format::stream::Stream) -> bool {
    s.disposition()
        .contains(format::stream::Disposition::ATTACHED_PIC)
}

fn describe_streams(input: &format::context::Input) -> String {
    let kinds: Vec<String> = input
        .streams()
        .map(|s| {
            let kind = match s.parameters().medium() {
                media::Type::Audio => "audio",
                media::Type::Video => "cover picture",
                media::Type::Subtitle => "subtitles",
                media::Type::Data => "data",
                media::Type::Attachment => "attachment",
                _ => "unknown",
            };
            format!("{} ({kind})", s.index())
        })
        .collect();
    if kinds.is_empty() {
        "no streams".into()
    } else {
        kinds.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_conversion() {
        assert_eq!(ts_to_ms(90_000, Rational::new(1, 90_000)), 1000);
        assert_eq!(ts_to_ms(3, Rational::new(1, 25)), 120);
        // No overflow on huge timestamps: i64::MAX/2 ns is about 146 years.
        assert_eq!(
            ts_to_ms(i64::MAX / 2, Rational::new(1, 1_000_000_000)),
            i64::MAX / 2 / 1_000_000
        );
        assert_eq!(ts_to_ms(5, Rational::new(1, 0)), 0);
    }
}
