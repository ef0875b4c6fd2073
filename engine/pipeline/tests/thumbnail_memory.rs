//! Thumbnails are handed to the caller one at a time and their pixels released, so the
//! thumbnail pixels held at once do not grow with the length of the footage: a re-cut
//! one (analysis with the loop filter skipped) as soon as it is cut, in time order, with
//! the same pixels the in-place re-cut gives.

mod common;

use std::path::{Path, PathBuf};

use vigie_decode::{Fidelity, LoopFilter};
use vigie_describe::Description;
use vigie_pipeline::thumbnails::recut_thumbnails_into;
use vigie_pipeline::{
    analyze_source, analyze_source_with_thumbnails, Analysis, AnalyzeConfig, MotionObjectDetector,
    PipelineError, SourceInput, StageError,
};

/// Three boxes crossing one after the other (0-3 s, 4-7 s, 8-11 s): three tracks whose
/// best views are seconds apart (H.264, which has a loop filter to skip).
fn three_crossings(dir: &Path) -> PathBuf {
    let graph = "color=c=gray:s=320x240:d=12:r=10[bg];\
        color=c=red:s=60x40:d=12:r=10[a];color=c=blue:s=60x40:d=12:r=10[b];\
        color=c=green:s=60x40:d=12:r=10[c];\
        [bg][a]overlay=x='20+t*60':y=30:enable='between(t,0,3)'[t1];\
        [t1][b]overlay=x='20+(t-4)*60':y=100:enable='between(t,4,7)'[t2];\
        [t2][c]overlay=x='20+(t-8)*60':y=170:enable='between(t,8,11)'";
    common::render_lavfi(dir, "three.mp4", graph)
}

fn input(clip: &Path) -> SourceInput {
    SourceInput {
        source_id: "Sthree".into(),
        camera: "three".into(),
        path: clip.to_path_buf(),
    }
}

fn config(loop_filter: LoopFilter) -> AnalyzeConfig {
    AnalyzeConfig {
        loop_filter,
        ..AnalyzeConfig::default()
    }
}

fn detector() -> MotionObjectDetector {
    MotionObjectDetector {
        min_blob_frac: 0.002,
    }
}

/// Every thumbnail kept in place (the reference the handed-over ones must equal).
fn kept(clip: &Path, loop_filter: LoopFilter) -> Analysis {
    analyze_source(&input(clip), &config(loop_filter), &mut detector(), |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap()
}

/// What the sink was given: index, instant and pixels.
type Handed = Vec<(usize, i64, Vec<u8>)>;

fn handed_over(clip: &Path, loop_filter: LoopFilter) -> (Analysis, Handed) {
    let mut handed = Handed::new();
    let a = analyze_source_with_thumbnails(
        &input(clip),
        &config(loop_filter),
        &mut detector(),
        |_| std::ops::ControlFlow::Continue(()),
        |i, d: &Description| {
            let t = d
                .thumbnail
                .as_ref()
                .expect("handed over with its thumbnail");
            assert_eq!(t.rgb.len(), (t.width * t.height * 3) as usize);
            handed.push((i, t.pts_ms, t.rgb.clone()));
            Ok(())
        },
    )
    .unwrap();
    (a, handed)
}

fn holds_no_pixels(descriptions: &[Description]) -> bool {
    descriptions
        .iter()
        .filter_map(|d| d.thumbnail.as_ref())
        .all(|t| t.rgb.capacity() == 0)
}

#[test]
fn recut_thumbnails_are_handed_over_in_time_order_and_released() {
    let dir = tempfile::tempdir().unwrap();
    let clip = three_crossings(dir.path());
    let reference = kept(&clip, LoopFilter::SkipAll);
    assert_eq!(reference.stats.fidelity, Some(Fidelity::AnalysisOnly));
    let (a, handed) = handed_over(&clip, LoopFilter::SkipAll);
    assert!(handed.len() >= 3, "{} thumbnails", handed.len());
    assert_eq!(a.stats.thumbnails_recut, handed.len() as u64);
    assert_eq!(a.stats.thumbnails_dropped, 0);
    let times: Vec<i64> = handed.iter().map(|h| h.1).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "in time order: {times:?}"
    );
    // The same pixels as the in-place re-cut, each handed over once, none held after.
    for (i, pts_ms, rgb) in &handed {
        let t = reference.descriptions[*i].thumbnail.as_ref().unwrap();
        assert_eq!((t.pts_ms, &t.rgb), (*pts_ms, rgb), "thumbnail {i}");
    }
    let mut indices: Vec<usize> = handed.iter().map(|h| h.0).collect();
    indices.sort_unstable();
    indices.dedup();
    assert_eq!(indices.len(), handed.len(), "each once");
    assert_eq!(
        reference
            .descriptions
            .iter()
            .filter(|d| d.thumbnail.is_some())
            .count(),
        handed.len(),
        "every thumbnail handed over"
    );
    assert!(holds_no_pixels(&a.descriptions));
    let summaries =
        |a: &Analysis| -> Vec<_> { a.descriptions.iter().map(|d| d.summary.clone()).collect() };
    assert_eq!(summaries(&a), summaries(&reference));
}

#[test]
fn each_thumbnail_is_released_before_the_next_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let clip = three_crossings(dir.path());
    let reference = kept(&clip, LoopFilter::SkipAll);
    // As the analysis leaves them: where and when each best view is, no pixels.
    let mut located = reference.descriptions.clone();
    for t in located.iter_mut().filter_map(|d| d.thumbnail.as_mut()) {
        t.rgb = Vec::new();
    }
    let n = located.iter().filter(|d| d.thumbnail.is_some()).count();
    assert!(n >= 3, "{n} thumbnails");
    let decode = config(LoopFilter::SkipAll).decode;
    // A sink that fails at its k-th call sees the state the re-cut is in at that moment:
    // the thumbnails before were released, none after has been cut yet.
    for k in 0..n {
        let mut descriptions = located.clone();
        let mut calls = 0;
        let r = recut_thumbnails_into(
            &clip,
            &decode,
            &mut descriptions,
            &mut |_, _: &Description| {
                calls += 1;
                if calls > k {
                    Err(StageError::from("disk full"))
                } else {
                    Ok(())
                }
            },
        );
        assert!(
            matches!(r, Err(PipelineError::ThumbnailSink { .. })),
            "{r:?}"
        );
        assert_eq!(calls, k + 1, "stopped at the failing call");
        let held: Vec<usize> = descriptions
            .iter()
            .enumerate()
            .filter(|(_, d)| d.thumbnail.as_ref().is_some_and(|t| !t.rgb.is_empty()))
            .map(|(i, _)| i)
            .collect();
        assert!(
            held.is_empty(),
            "failing at call {k}: thumbnails still holding pixels {held:?}"
        );
    }
}

#[test]
fn thumbnails_of_a_recorded_analysis_are_handed_over_and_released() {
    let dir = tempfile::tempdir().unwrap();
    let clip = three_crossings(dir.path());
    let reference = kept(&clip, LoopFilter::Apply);
    assert_eq!(reference.stats.fidelity, Some(Fidelity::Recorded));
    let (a, handed) = handed_over(&clip, LoopFilter::Apply);
    assert_eq!(a.stats.thumbnails_recut, 0, "nothing to re-cut");
    let expected: Vec<(usize, i64, Vec<u8>)> = reference
        .descriptions
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.thumbnail.as_ref().map(|t| (i, t.pts_ms, t.rgb.clone())))
        .collect();
    assert!(expected.len() >= 3, "{} thumbnails", expected.len());
    assert_eq!(handed, expected);
    assert!(holds_no_pixels(&a.descriptions));
}
