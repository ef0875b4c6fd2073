//! A stretch zeroed inside a file loses frames that neither the last timestamp (the file
//! still ends where it should) nor the timestamps' gaps show: the container's exact frame
//! count against the frames decoded is what reveals it.

mod common;

use std::path::{Path, PathBuf};

use common::clip_with;
use vigie_core::SamplingMode;
use vigie_decode::{DecodeConfig, DecodeReport, Decoder};

fn decode_all(path: &Path, sampling: SamplingMode) -> DecodeReport {
    let cfg = DecodeConfig {
        convert_rgb: false,
        sampling,
        ..Default::default()
    };
    let Ok(mut d) = Decoder::open(path, &cfg) else {
        panic!("open {}", path.display());
    };
    d.run_to_end().expect("decode");
    d.finish()
}

/// A copy of `src` with `len` bytes zeroed from the middle.
fn zeroed_copy(src: &Path, name: &str, len: usize) -> PathBuf {
    let mut bytes = std::fs::read(src).unwrap();
    let mid = bytes.len() / 2;
    let end = (mid + len).min(bytes.len());
    bytes[mid..end].fill(0);
    let out = common::clip_dir().join(name);
    std::fs::write(&out, bytes).unwrap();
    out
}

fn ten_seconds_of_mpeg4_avi() -> PathBuf {
    clip_with(
        "missing-src.avi",
        "testsrc2=size=320x240:rate=25:duration=10",
        &["-c:v", "mpeg4", "-q:v", "5", "-g", "25"],
    )
}

#[test]
fn a_zeroed_stretch_inside_the_file_is_reported_as_missing_frames() {
    let src = ten_seconds_of_mpeg4_avi();
    let healthy = decode_all(&src, SamplingMode::All);
    assert_eq!(healthy.frames_decoded, 250, "{healthy:?}");
    assert_eq!(healthy.missing_frames, 0, "{healthy:?}");
    assert!(!healthy.is_damaged(), "{healthy:?}");

    let len = std::fs::metadata(&src).unwrap().len() as usize / 8;
    let damaged = zeroed_copy(&src, "missing-zeroed.avi", len);
    let report = decode_all(&damaged, SamplingMode::All);
    assert!(report.frames_decoded < 250, "{report:?}");
    assert_eq!(
        report.missing_frames,
        250 - report.frames_decoded,
        "{report:?}"
    );
    assert!(report.is_damaged(), "{report:?}");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("could not be decoded")),
        "{report:?}"
    );
    // Sampling that skips frames in the decoder says nothing of missing frames.
    let keys = decode_all(&damaged, SamplingMode::KeyframesOnly);
    assert_eq!(keys.missing_frames, 0, "{keys:?}");
}

#[test]
fn the_sample_footage_with_200_kb_zeroed_is_not_reported_clean() {
    let Some(src) = common::vtest() else {
        eprintln!("skipped: the sample footage is not installed (tools/setup)");
        return;
    };
    let damaged = zeroed_copy(&src, "vtest-zeroed.avi", 200 * 1024);
    let report = decode_all(&damaged, SamplingMode::All);
    assert!(report.missing_frames > 0, "{report:?}");
    assert!(report.is_damaged(), "{report:?}");
}

#[test]
fn a_healthy_mp4_cut_without_re_encoding_is_not_called_damaged() {
    // Cut with `-ss 9 -c copy -t 4` (what recorders' and phones' "clip" exports do): the
    // MP4 keeps the GOP before the cut, listed in its frame count but dropped by its edit
    // list. Those frames are not missing.
    let src = clip_with(
        "trim-src.mp4",
        "testsrc2=size=320x240:rate=25:duration=14",
        &["-c:v", "libx264", "-g", "250", "-pix_fmt", "yuv420p"],
    );
    let cut = common::clip_dir().join("trim-cut.mp4");
    common::ffmpeg(&[
        "-ss",
        "9",
        "-i",
        src.to_str().unwrap(),
        "-c",
        "copy",
        "-t",
        "4",
        cut.to_str().unwrap(),
    ]);
    let report = decode_all(&cut, SamplingMode::All);
    assert!(report.frames_decoded >= 90, "{report:?}");
    assert_eq!(report.missing_frames, 0, "{report:?}");
    assert!(!report.is_damaged(), "{report:?}");
}
