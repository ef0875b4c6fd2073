//! Analysis-only decoding: skipping the loop filter changes the pixels, and such frames
//! are typed so that nothing disclosed can take them (`vigie_decode::analysis`).

mod common;

use std::path::PathBuf;

use common::clip_with;
use vigie_core::RgbFrame;
use vigie_decode::{
    spawn_analysis_decoder, AnalysisDecodeConfig, AnalysisDecoder, AnalysisFrame, DecodeConfig,
    DecodeError, Decoder, Fidelity, LoopFilter, OutputSize,
};

/// Moving detail coded coarsely, with B-frames: the deblocking filter has block edges to
/// smooth in every frame, reference or not (`veryfast`: x264's `ultrafast` turns the
/// filter off).
fn blocky_clip() -> PathBuf {
    clip_with(
        "blocky.mp4",
        "testsrc2=size=320x240:rate=25:duration=2",
        &[
            "-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "25", "-crf", "45",
            "-pix_fmt", "yuv420p",
        ],
    )
}

fn native() -> DecodeConfig {
    DecodeConfig {
        output_size: OutputSize::Native,
        ..DecodeConfig::default()
    }
}

fn plain_frames(path: &std::path::Path) -> Vec<RgbFrame> {
    let mut d = Decoder::open(path, &native()).unwrap();
    let mut v = Vec::new();
    while let Some(f) = d.next_frame().unwrap() {
        v.push(f);
    }
    v
}

fn analysis_frames(path: &std::path::Path, loop_filter: LoopFilter) -> Vec<AnalysisFrame> {
    let cfg = AnalysisDecodeConfig {
        decode: native(),
        loop_filter,
    };
    let mut d = AnalysisDecoder::open(path, &cfg).unwrap();
    let mut v = Vec::new();
    while let Some(f) = d.next_frame().unwrap() {
        v.push(f);
    }
    v
}

#[test]
fn deblocking_analysis_frames_are_the_recorded_pictures() {
    let clip = blocky_clip();
    let plain = plain_frames(&clip);
    let frames = analysis_frames(&clip, LoopFilter::Apply);
    assert_eq!(plain.len(), 50);
    assert_eq!(frames.len(), plain.len());
    for (a, p) in frames.into_iter().zip(&plain) {
        assert_eq!(a.fidelity(), Fidelity::Recorded);
        assert_eq!(&a.into_recorded().expect("recorded pixels"), p);
    }
}

#[test]
fn skipping_the_loop_filter_changes_pixels_and_types_them_analysis_only() {
    let clip = blocky_clip();
    let plain = plain_frames(&clip);
    let frames = analysis_frames(&clip, LoopFilter::SkipAll);
    assert_eq!(frames.len(), plain.len());
    let mut differ = 0;
    for (a, p) in frames.iter().zip(&plain) {
        assert_eq!(a.fidelity(), Fidelity::AnalysisOnly);
        assert_eq!(a.pts_ms(), p.pts_ms, "same frames, same times");
        differ += usize::from(a.for_analysis().data != p.data);
    }
    // The option reached the decoder: block edges were left in (nearly) every frame.
    assert!(differ >= 45, "only {differ} of 50 frames differ");
    // Turning one into a frame for disclosure is refused, with the frame's time.
    let first = frames.into_iter().nth(3).unwrap();
    let pts = first.pts_ms();
    match first.into_recorded() {
        Err(DecodeError::NotRecordedPixels { pts_ms }) => assert_eq!(pts_ms, pts),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn skipping_on_non_reference_frames_keeps_reference_frames_exact() {
    let clip = blocky_clip();
    let plain = plain_frames(&clip);
    let frames = analysis_frames(&clip, LoopFilter::SkipNonRef);
    let same = frames
        .iter()
        .zip(&plain)
        .filter(|(a, p)| a.for_analysis().data == p.data)
        .count();
    // Two B-frames between references: the references (a third) stay exact, no drift.
    assert!((15..50).contains(&same), "{same} of 50 frames identical");
}

#[test]
fn the_threaded_analysis_decoder_gives_the_same_frames() {
    let clip = blocky_clip();
    let direct = analysis_frames(&clip, LoopFilter::SkipAll);
    let cfg = AnalysisDecodeConfig {
        decode: native(),
        loop_filter: LoopFilter::SkipAll,
    };
    let h = spawn_analysis_decoder(&clip, &cfg, 4).unwrap();
    assert_eq!(h.fidelity, Fidelity::AnalysisOnly);
    let threaded: Vec<AnalysisFrame> = h.frames.iter().collect();
    h.join().unwrap();
    assert_eq!(threaded.len(), direct.len());
    for (a, b) in threaded.iter().zip(&direct) {
        assert_eq!(a.for_analysis(), b.for_analysis(), "deterministic");
    }
}

#[test]
fn codecs_without_a_loop_filter_give_recorded_pictures_even_when_asked_to_skip_it() {
    // MPEG-4 Part 2 (vtest.avi's family) has no in-loop filter: the skip is meaningless,
    // the frames are the recorded pictures and are typed so (no thumbnail to cut again).
    let clip = clip_with(
        "mpeg4.avi",
        "testsrc2=size=320x240:rate=25:duration=1",
        &["-c:v", "mpeg4", "-q:v", "20", "-bf", "2", "-g", "12"],
    );
    let plain = plain_frames(&clip);
    let frames = analysis_frames(&clip, LoopFilter::SkipAll);
    assert_eq!(plain.len(), 25);
    assert_eq!(frames.len(), plain.len());
    for (a, p) in frames.into_iter().zip(&plain) {
        assert_eq!(a.fidelity(), Fidelity::Recorded);
        assert_eq!(&a.into_recorded().expect("recorded pixels"), p);
    }
    let cfg = AnalysisDecodeConfig {
        decode: native(),
        loop_filter: LoopFilter::SkipAll,
    };
    assert_eq!(cfg.fidelity(), Fidelity::AnalysisOnly, "what was asked");
    assert_eq!(
        AnalysisDecoder::open(&clip, &cfg).unwrap().fidelity(),
        Fidelity::Recorded
    );
    let h = spawn_analysis_decoder(&clip, &cfg, 4).unwrap();
    assert_eq!(h.fidelity, Fidelity::Recorded);
    assert!(h.frames.iter().all(|f| f.fidelity() == Fidelity::Recorded));
    h.join().unwrap();
}

/// Compile-time half: a plain `DecodeConfig` (what every disclosure path decodes with)
/// cannot ask for a skipped loop filter, and an analysis frame is not an `RgbFrame`.
#[test]
fn disclosure_paths_cannot_take_analysis_frames() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
