//! Decoding every codec and container investigators receive, sampling, timestamps,
//! wall-clock origins, RGB conversion, and damaged or wrong inputs.

mod common;

use std::path::Path;

use common::{clip, clip_with, ffmpeg};
use vigie_core::{SamplingMode, StartTimeOrigin};
use vigie_decode::{probe, spawn_decoder, DecodeConfig, DecodeError, Decoder, OutputSize};

fn decode(
    path: &Path,
    cfg: &DecodeConfig,
) -> (Vec<vigie_core::RgbFrame>, vigie_decode::DecodeReport) {
    let mut d = Decoder::open(path, cfg).expect("open");
    let mut frames = Vec::new();
    while let Some(f) = d.next_frame().expect("decode") {
        frames.push(f);
    }
    (frames, d.finish())
}

fn all_frames_meta_only() -> DecodeConfig {
    DecodeConfig {
        convert_rgb: false,
        ..Default::default()
    }
}

const H264_MP4: &[&str] = &[
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-bf",
    "2",
    "-g",
    "25",
    "-pix_fmt",
    "yuv420p",
];

fn check_fifty_frames(name: &str, codec_args: &[&str], codec: &str) {
    let path = clip(name, codec_args);
    let meta = probe(&path, None, None).unwrap();
    assert_eq!(meta.codec, codec, "{name}");
    assert_eq!((meta.width, meta.height), (320, 240), "{name}");
    let (frames, report) = decode(&path, &all_frames_meta_only());
    assert_eq!(frames.len(), 50, "{name}: {report:?}");
    assert_eq!(report.frames_decoded, 50);
    assert_eq!(report.corrupt_packets, 0, "{name}: {report:?}");
    assert!(!report.is_damaged(), "{name}: {report:?}");
    // Presentation order, 40 ms apart, starting at 0.
    let pts: Vec<i64> = frames.iter().map(|f| f.pts_ms).collect();
    assert_eq!(pts[0], 0, "{name}");
    for w in pts.windows(2) {
        assert!((w[1] - w[0] - 40).abs() <= 1, "{name}: {pts:?}");
    }
}

#[test]
fn h264_in_mp4() {
    check_fifty_frames("h264.mp4", H264_MP4, "h264");
}

#[test]
fn hevc_in_mkv() {
    check_fifty_frames(
        "hevc.mkv",
        &[
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error",
        ],
        "hevc",
    );
}

#[test]
fn mpeg4_part2_in_avi() {
    check_fifty_frames("mpeg4.avi", &["-c:v", "mpeg4", "-q:v", "5"], "mpeg4");
}

#[test]
fn mjpeg_in_avi() {
    check_fifty_frames(
        "mjpeg.avi",
        &["-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p"],
        "mjpeg",
    );
}

#[test]
fn raw_h264_elementary_stream() {
    let path = clip(
        "raw.h264",
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-bf",
            "0",
            "-f",
            "h264",
        ],
    );
    let meta = probe(&path, None, None).unwrap();
    assert_eq!(meta.codec, "h264");
    let (frames, report) = decode(&path, &all_frames_meta_only());
    assert_eq!(frames.len(), 50, "{report:?}");
}

#[test]
fn raw_h265_elementary_stream() {
    let path = clip(
        "raw.h265",
        &[
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error",
            "-f",
            "hevc",
        ],
    );
    assert_eq!(probe(&path, None, None).unwrap().codec, "hevc");
    let (frames, report) = decode(&path, &all_frames_meta_only());
    assert_eq!(frames.len(), 50, "{report:?}");
}

#[test]
fn target_fps_sampling_keeps_evenly_spaced_frames() {
    let path = clip("h264.mp4", H264_MP4);
    let cfg = DecodeConfig {
        sampling: SamplingMode::TargetFps { fps: 5.0 },
        convert_rgb: false,
        ..Default::default()
    };
    let (frames, report) = decode(&path, &cfg);
    assert_eq!(report.frames_decoded, 50);
    assert_eq!(frames.len(), 10);
    assert!(frames.windows(2).all(|w| w[1].pts_ms - w[0].pts_ms == 200));
}

#[test]
fn keyframes_only_decodes_only_keyframes() {
    let path = clip("h264.mp4", H264_MP4); // -g 25: keyframes at 0 and 1 s
    let cfg = DecodeConfig {
        sampling: SamplingMode::KeyframesOnly,
        convert_rgb: false,
        ..Default::default()
    };
    let (frames, _) = decode(&path, &cfg);
    assert_eq!(
        frames.len(),
        2,
        "{:?}",
        frames.iter().map(|f| f.pts_ms).collect::<Vec<_>>()
    );
    assert!(frames.iter().all(|f| f.is_keyframe));
    assert_eq!(frames[1].pts_ms, 1000);
}

#[test]
fn nonref_skips_b_frames() {
    // x264 with -bf 2 and no b-pyramid: B-frames are non-reference.
    let path = clip(
        "h264_bframes.mp4",
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-bf",
            "2",
            "-x264-params",
            "b-pyramid=none:b-adapt=0",
            "-g",
            "50",
        ],
    );
    let cfg = DecodeConfig {
        sampling: SamplingMode::SkipNonRef,
        convert_rgb: false,
        ..Default::default()
    };
    let (frames, _) = decode(&path, &cfg);
    assert!(
        frames.len() < 30 && frames.len() >= 15,
        "kept {}",
        frames.len()
    );
}

#[test]
fn rgb_conversion_gives_true_colours_at_working_size() {
    let path = clip_with(
        "red.mp4",
        "color=c=0xff0000:size=640x480:rate=25:duration=1",
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv444p",
        ],
    );
    let cfg = DecodeConfig {
        output_size: OutputSize::MaxWidth(320),
        ..Default::default()
    };
    let (frames, _) = decode(&path, &cfg);
    assert_eq!(frames.len(), 25);
    let f = &frames[10];
    assert_eq!((f.width, f.height), (320, 240));
    assert_eq!(f.data.len(), 320 * 240 * 3);
    let [r, g, b] = f.mean_rgb();
    assert!(r > 240.0 && g < 15.0 && b < 15.0, "mean {r} {g} {b}");
}

#[test]
fn odd_sizes_are_packed_without_stride_padding() {
    let path = clip_with(
        "odd.mkv",
        "testsrc2=size=322x242:rate=25:duration=1",
        &["-c:v", "libx264", "-preset", "ultrafast"],
    );
    let cfg = DecodeConfig {
        output_size: OutputSize::Exact {
            width: 101,
            height: 77,
        },
        ..Default::default()
    };
    let (frames, _) = decode(&path, &cfg);
    assert!(frames.iter().all(|f| f.data.len() == 101 * 77 * 3));
}

#[test]
fn container_creation_time_is_the_wall_clock_origin() {
    let path = clip(
        "dated.mp4",
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-metadata",
            "creation_time=2024-06-01T12:00:00Z",
        ],
    );
    let operator = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00+01:00").unwrap();
    let meta = probe(&path, None, Some(operator)).unwrap();
    let st = meta.start_time.unwrap();
    assert_eq!(st.origin, StartTimeOrigin::ContainerCreationTime);
    assert_eq!(st.epoch_ms(), 1_717_243_200_000);
    let (frames, _) = decode(
        &path,
        &DecodeConfig {
            operator_start: Some(operator),
            ..all_frames_meta_only()
        },
    );
    assert_eq!(frames[25].wall_ms, Some(1_717_243_200_000 + 1000));
}

#[test]
fn operator_start_is_used_when_the_container_has_none() {
    let path = clip("mpeg4.avi", &["-c:v", "mpeg4", "-q:v", "5"]);
    assert!(probe(&path, None, None).unwrap().start_time.is_none());
    let at = chrono::DateTime::parse_from_rfc3339("2024-06-01T14:00:00+02:00").unwrap();
    let meta = probe(&path, None, Some(at)).unwrap();
    assert_eq!(meta.start_time.unwrap().origin, StartTimeOrigin::Operator);
    let (frames, _) = decode(
        &path,
        &DecodeConfig {
            operator_start: Some(at),
            ..all_frames_meta_only()
        },
    );
    assert_eq!(frames[0].wall_ms, Some(at.timestamp_millis()));
    assert_eq!(frames[49].wall_ms, Some(at.timestamp_millis() + 1960));
}

#[test]
fn chosen_stream_and_wrong_stream_index() {
    let out = common::clip_dir().join("two_video.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=1",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x120:rate=25:duration=1",
        "-f",
        "lavfi",
        "-i",
        "sine=duration=1",
        "-map",
        "0",
        "-map",
        "2",
        "-map",
        "1",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        out.to_str().unwrap(),
    ]);
    let meta = probe(&out, Some(2), None).unwrap();
    assert_eq!((meta.width, meta.height, meta.video_streams), (160, 120, 2));
    let e = probe(&out, Some(1), None).unwrap_err();
    assert!(
        matches!(e, DecodeError::NotAVideoStream { index: 1, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("--stream"), "{e}");
    let e = probe(&out, Some(9), None).unwrap_err();
    assert!(matches!(e, DecodeError::NotAVideoStream { .. }), "{e}");
}

#[test]
fn channel_decoder_applies_backpressure_and_yields_all_frames() {
    let path = clip("h264.mp4", H264_MP4);
    let h = spawn_decoder(&path, &DecodeConfig::default(), 2).unwrap();
    assert_eq!(h.meta.codec, "h264");
    let n = h.frames.iter().count();
    assert_eq!(n, 50);
    assert_eq!(h.join().unwrap().frames_emitted, 50);
}

#[test]
fn channel_decoder_reports_open_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("empty.mp4");
    std::fs::write(&p, b"").unwrap();
    assert!(matches!(
        spawn_decoder(&p, &DecodeConfig::default(), 2),
        Err(DecodeError::Empty { .. })
    ));
}

// ---- bad inputs ----

#[test]
fn zero_byte_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("empty.mp4");
    std::fs::write(&p, b"").unwrap();
    let e = probe(&p, None, None).unwrap_err();
    assert!(matches!(e, DecodeError::Empty { .. }));
    assert!(e.to_string().contains("0 bytes"), "{e}");
}

#[test]
fn text_file_named_mp4_is_a_clear_error() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/not-a-video.mp4");
    let e = probe(&p, None, None).unwrap_err();
    assert!(matches!(e, DecodeError::NotMedia { .. }), "{e}");
    assert!(e.to_string().contains("not a video file"), "{e}");
}

#[test]
fn audio_only_file_is_a_clear_error() {
    let p = clip_with(
        "audio.m4a",
        "sine=frequency=440:duration=1",
        &["-c:a", "aac"],
    );
    let e = probe(&p, None, None).unwrap_err();
    assert!(matches!(e, DecodeError::NoVideoStream { .. }), "{e}");
    assert!(e.to_string().contains("audio"), "{e}");
}

#[test]
fn missing_file_is_a_clear_error() {
    let e = probe(Path::new("/no/such/clip.mp4"), None, None).unwrap_err();
    assert!(matches!(e, DecodeError::Open { .. }), "{e}");
}

fn truncate_copy(src: &Path, name: &str, fraction: f64) -> std::path::PathBuf {
    let bytes = std::fs::read(src).unwrap();
    let out = common::clip_dir().join(name);
    std::fs::write(&out, &bytes[..(bytes.len() as f64 * fraction) as usize]).unwrap();
    out
}

#[test]
fn truncated_mp4_yields_frames_before_the_damage_and_a_warning() {
    // Index at the front (faststart), as DVR exports usually are: cutting the file loses
    // the tail of the media data only.
    let src = clip_with(
        "long_faststart.mp4",
        "testsrc2=size=320x240:rate=25:duration=8",
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "25",
            "-movflags",
            "+faststart",
        ],
    );
    let cut = truncate_copy(&src, "truncated.mp4", 0.5);
    let (frames, report) = decode(&cut, &all_frames_meta_only());
    assert!(
        frames.len() > 50 && frames.len() < 180,
        "{} frames: {report:?}",
        frames.len()
    );
    assert!(report.truncated, "{report:?}");
    assert!(
        report.warnings.iter().any(|w| w.contains("truncated")),
        "{report:?}"
    );
}

#[test]
fn truncated_avi_yields_frames_before_the_damage_and_a_warning() {
    let src = clip_with(
        "long.avi",
        "testsrc2=size=320x240:rate=25:duration=8",
        &["-c:v", "mpeg4", "-q:v", "5"],
    );
    let cut = truncate_copy(&src, "truncated.avi", 0.5);
    let (frames, report) = decode(&cut, &all_frames_meta_only());
    assert!(
        frames.len() > 50 && frames.len() < 180,
        "{} frames: {report:?}",
        frames.len()
    );
    assert!(report.is_damaged(), "{report:?}");
    assert!(!report.warnings.is_empty());
}

#[test]
fn truncated_raw_h264_decodes_what_is_there() {
    let src = clip_with(
        "long.h264",
        "testsrc2=size=320x240:rate=25:duration=4",
        &["-c:v", "libx264", "-preset", "ultrafast", "-f", "h264"],
    );
    let cut = truncate_copy(&src, "truncated.h264", 0.5);
    let (frames, _report) = decode(&cut, &all_frames_meta_only());
    assert!(
        frames.len() > 20 && frames.len() < 100,
        "{} frames",
        frames.len()
    );
}

#[test]
fn bit_flipped_file_is_decoded_with_damage_counted() {
    let src = clip_with(
        "flip_src.h264",
        "testsrc2=size=320x240:rate=25:duration=4",
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "10",
            "-f",
            "h264",
        ],
    );
    let mut bytes = std::fs::read(&src).unwrap();
    // Flip bits all over the second half of the stream (not the headers at the front).
    let n = bytes.len();
    let mut i = n / 2;
    while i < n - 16 {
        bytes[i] ^= 0xA5;
        i += 997;
    }
    let p = common::clip_dir().join("flipped.h264");
    std::fs::write(&p, &bytes).unwrap();
    let (frames, report) = decode(&p, &all_frames_meta_only());
    assert!(
        frames.len() >= 40,
        "only {} frames: {report:?}",
        frames.len()
    );
    assert!(
        report.corrupt_packets + report.corrupt_frames > 0,
        "{report:?}"
    );
    assert!(!report.warnings.is_empty());
}

#[test]
fn invalid_configuration_is_refused_before_opening() {
    let path = clip("h264.mp4", H264_MP4);
    let cfg = DecodeConfig {
        output_size: OutputSize::MaxWidth(3),
        ..Default::default()
    };
    assert!(matches!(
        Decoder::open(&path, &cfg),
        Err(DecodeError::InvalidConfig(_))
    ));
}

// ---- real footage ----

#[test]
fn real_footage_vtest_avi() {
    let Some(p) = common::vtest() else { return };
    let meta = probe(&p, None, None).unwrap();
    assert_eq!((meta.width, meta.height), (768, 576));
    assert_eq!(meta.frame_count, Some(795));
    let cfg = DecodeConfig {
        output_size: OutputSize::MaxWidth(384),
        sampling: SamplingMode::TargetFps { fps: 2.0 },
        ..Default::default()
    };
    let (frames, report) = decode(&p, &cfg);
    assert_eq!(report.frames_decoded, 795);
    assert_eq!(frames.len(), 159);
    assert!(!report.is_damaged(), "{report:?}");
    assert_eq!((frames[0].width, frames[0].height), (384, 288));
    // A real scene is not a flat colour.
    let [r, g, b] = frames[5].mean_rgb();
    assert!(r > 30.0 && g > 30.0 && b > 30.0 && r < 230.0, "{r} {g} {b}");
}

#[test]
fn real_footage_mot15_tud() {
    for (name, frames_expected) in [("TUD-Campus", 71), ("TUD-Stadtmitte", 179)] {
        let Some(p) = common::shared(&format!("mot15-tud/{name}/{name}.mp4")) else {
            return;
        };
        let meta = probe(&p, None, None).unwrap();
        assert_eq!((meta.width, meta.height), (640, 480), "{name}");
        let (frames, report) = decode(&p, &all_frames_meta_only());
        assert_eq!(frames.len(), frames_expected, "{name}: {report:?}");
    }
}

#[test]
fn frame_at_seeks_to_the_requested_time() {
    let src = clip_with(
        "seek.mp4",
        "testsrc2=size=320x240:rate=25:duration=6",
        &["-c:v", "libx264", "-preset", "ultrafast", "-g", "25"],
    );
    let mut d = Decoder::open(&src, &DecodeConfig::default()).unwrap();
    let f = d.frame_at(3_020).unwrap().unwrap();
    assert_eq!(f.pts_ms, 3_040);
    assert_eq!((f.width, f.height), (320, 240));
    // Fewer frames decoded than from the start: the seek went to the keyframe at 3 s.
    assert!(d.report().frames_decoded < 40, "{:?}", d.report());
    assert!(d.frame_at(60_000).unwrap().is_none());
}

#[test]
fn export_segment_copies_the_stream_from_the_keyframe_before() {
    let src = clip_with(
        "export_src.mp4",
        "testsrc2=size=320x240:rate=25:duration=8",
        &["-c:v", "libx264", "-preset", "ultrafast", "-g", "25"],
    );
    let out = common::clip_dir().join("segment.mp4");
    let r = vigie_decode::export_segment(&src, None, 3_500, 5_000, &out).unwrap();
    assert_eq!(r.start_ms, 3_000, "starts on the keyframe at 3 s");
    let meta = probe(&out, None, None).unwrap();
    assert_eq!(meta.codec, "h264");
    let (frames, report) = decode(&out, &all_frames_meta_only());
    assert!(!report.is_damaged(), "{report:?}");
    assert!((50..=56).contains(&frames.len()), "{} frames", frames.len());
    // Into a container that cannot hold the codec: a clear error, no file left.
    let avi_src = clip(
        "mjpeg.avi",
        &["-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p"],
    );
    let bad = common::clip_dir().join("segment.ts");
    let e = vigie_decode::export_segment(&avi_src, None, 0, 1000, &bad);
    if let Err(e) = e {
        assert!(
            e.to_string().contains(".mkv") || e.to_string().contains("export"),
            "{e}"
        );
        assert!(!bad.exists());
    }
    assert!(vigie_decode::export_segment(&src, None, 5_000, 4_000, &out).is_err());
}

/// 100 frames at 25 fps as a raw elementary stream: no timestamps in the file.
fn raw_stream(name: &str, codec: &[&str], format: &str) -> std::path::PathBuf {
    let mut args: Vec<&str> = codec.to_vec();
    args.extend_from_slice(&["-f", format]);
    clip_with(name, "testsrc2=size=160x120:rate=25:duration=4", &args)
}

fn check_timed_from_frame_rate(path: &Path) {
    let meta = probe(path, None, None).unwrap();
    assert_eq!(meta.timestamps, vigie_core::TimestampSource::FrameRate);
    let (frames, report) = decode(path, &all_frames_meta_only());
    assert_eq!(frames.len(), 100, "{report:?}");
    let pts: Vec<i64> = frames.iter().map(|f| f.pts_ms).collect();
    let expected: Vec<i64> = (0..100).map(|i| i * 40).collect();
    assert_eq!(pts, expected, "every frame at its own time");
    assert_eq!(report.timestamps_synthesised, 100, "{report:?}");
    assert!(report
        .warnings
        .iter()
        .any(|w| w.contains("timed from the frame rate")));
    // Sampling at 10 fps keeps 40 frames, not 1.
    let cfg = DecodeConfig {
        sampling: SamplingMode::TargetFps { fps: 10.0 },
        ..all_frames_meta_only()
    };
    let (frames, _) = decode(path, &cfg);
    assert_eq!(frames.len(), 40);
}

#[test]
fn raw_h264_at_25_fps_without_timestamps_is_timed_from_the_frame_rate() {
    let path = raw_stream(
        "raw100.h264",
        &["-c:v", "libx264", "-preset", "ultrafast", "-bf", "2"],
        "h264",
    );
    check_timed_from_frame_rate(&path);
}

#[test]
fn raw_h265_at_25_fps_without_timestamps_is_timed_from_the_frame_rate() {
    let path = raw_stream(
        "raw100.h265",
        &[
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error",
        ],
        "hevc",
    );
    check_timed_from_frame_rate(&path);
}

#[test]
fn a_timestamp_jump_is_reported_as_a_gap_at_its_place() {
    // Two 2-second MPEG-TS recordings, the second stamped 10 s later, joined byte-wise as
    // a recorder writes across a hole.
    let dir = common::clip_dir();
    let a = clip_with(
        "gap-a.ts",
        "testsrc2=size=160x120:rate=25:duration=2",
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-bf",
            "0",
            "-f",
            "mpegts",
        ],
    );
    let b = clip_with(
        "gap-b.ts",
        "testsrc2=size=160x120:rate=25:duration=2",
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-bf",
            "0",
            "-output_ts_offset",
            "12",
            "-f",
            "mpegts",
        ],
    );
    let joined = dir.join("gap.ts");
    let mut bytes = std::fs::read(&a).unwrap();
    bytes.extend(std::fs::read(&b).unwrap());
    std::fs::write(&joined, bytes).unwrap();
    let (frames, report) = decode(&joined, &all_frames_meta_only());
    assert_eq!(frames.len(), 100, "{report:?}");
    assert_eq!(report.gaps.len(), 1, "{report:?}");
    let gap = report.gaps[0];
    assert!((gap.after_ms - 1960).abs() <= 40, "{gap:?}");
    assert!((gap.missing_ms - 10_000).abs() <= 100, "{gap:?}");
    // The frames after the hole keep their real time.
    assert!(
        (frames[50].pts_ms - 12_000).abs() <= 100,
        "{}",
        frames[50].pts_ms
    );
    assert!(report
        .warnings
        .iter()
        .any(|w| w.contains("gap in the recording")));
}

#[test]
fn vendor_formats_are_identified_by_content_not_by_extension() {
    let dir = common::clip_dir();
    // A `.264` with a short vendor header before the first start code.
    let raw = clip_with(
        "vendor-src.264",
        "testsrc2=size=160x120:rate=25:duration=2",
        &["-c:v", "libx264", "-preset", "ultrafast", "-f", "h264"],
    );
    let vendor = dir.join("vendor.264");
    let mut bytes = b"HKVS\x01\x00\x00\x00VENDORHEADER0123456789abcdef".to_vec();
    bytes.extend(std::fs::read(&raw).unwrap());
    std::fs::write(&vendor, bytes).unwrap();
    let meta = probe(&vendor, None, None).unwrap();
    assert_eq!(
        (meta.container.as_str(), meta.codec.as_str()),
        ("h264", "h264")
    );
    let (frames, _) = decode(&vendor, &all_frames_meta_only());
    assert_eq!(frames.len(), 50);
    // An MPEG-PS export named `.mp4`.
    let ps = clip_with(
        "ps-export.mp4",
        "testsrc2=size=160x120:rate=25:duration=2",
        &["-c:v", "libx264", "-preset", "ultrafast", "-f", "mpeg"],
    );
    let meta = probe(&ps, None, None).unwrap();
    assert_eq!(
        meta.container, "mpeg",
        "identified as MPEG-PS whatever its name"
    );
    let (frames, _) = decode(&ps, &all_frames_meta_only());
    assert_eq!(frames.len(), 50);
}

/// An MP4 export (index at the end) cut to its first quarter, as an interrupted copy
/// leaves it.
fn cut_mp4(name: &str, repeat_headers: bool) -> (std::path::PathBuf, std::path::PathBuf) {
    let mut args = vec![
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-b:v",
        "500k",
        "-g",
        "25",
        "-pix_fmt",
        "yuv420p",
    ];
    if repeat_headers {
        args.extend_from_slice(&["-x264-params", "repeat-headers=1"]);
    }
    let full = clip_with(
        &format!("{name}-full.mp4"),
        "testsrc2=size=320x240:rate=25:duration=10",
        &args,
    );
    let bytes = std::fs::read(&full).unwrap();
    let cut = common::clip_dir().join(format!("{name}-cut.mp4"));
    std::fs::write(&cut, &bytes[..bytes.len() / 4]).unwrap();
    (full, cut)
}

fn decode_salvaged(s: &vigie_decode::salvage::Salvaged, name: &str) -> usize {
    let raw = common::clip_dir().join(format!("{name}.h264"));
    std::fs::write(&raw, &s.annex_b).unwrap();
    decode(&raw, &all_frames_meta_only()).0.len()
}

#[test]
fn an_mp4_cut_before_its_index_is_salvaged_from_in_band_parameter_sets() {
    use vigie_decode::salvage::{salvage, ParameterSets};
    let (_, cut) = cut_mp4("inband", true);
    let before = std::fs::read(&cut).unwrap();
    match probe(&cut, None, None) {
        Err(DecodeError::NeedsSalvage { .. }) => {}
        other => panic!("expected a salvage hint, got {other:?}"),
    }
    let s = salvage(&cut, None).unwrap();
    assert_eq!(s.parameter_sets, ParameterSets::Stream);
    let frames = decode_salvaged(&s, "inband-salvaged");
    // About a quarter of 250 frames, minus the unit cut in the middle.
    assert!((40..=80).contains(&frames), "{frames} frames salvaged");
    assert_eq!(
        std::fs::read(&cut).unwrap(),
        before,
        "the original is untouched"
    );
}

#[test]
fn without_in_band_parameter_sets_a_reference_file_is_needed() {
    use vigie_decode::salvage::{salvage, ParameterSets};
    let (healthy, cut) = cut_mp4("outofband", false);
    let err = salvage(&cut, None).unwrap_err().to_string();
    assert!(err.contains("--reference"), "{err}");
    let s = salvage(&cut, Some(&healthy)).unwrap();
    assert!(matches!(s.parameter_sets, ParameterSets::Reference { .. }));
    let frames = decode_salvaged(&s, "outofband-salvaged");
    assert!((40..=80).contains(&frames), "{frames} frames salvaged");
}
