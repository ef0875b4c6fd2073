//! Analysis with the loop filter skipped: thumbnails (disclosed on contact sheets and the
//! desk) are the recorded pictures all the same, and the analysis stays deterministic.

use std::path::{Path, PathBuf};
use std::process::Command;

use vigie_decode::{
    AnalysisDecodeConfig, AnalysisDecoder, DecodeConfig, Decoder, Fidelity, LoopFilter,
};
use vigie_describe::Thumbnail;
use vigie_pipeline::{analyze_source, Analysis, AnalyzeConfig, MotionObjectDetector, SourceInput};

/// tools/gen-synthetic's scene, coded coarsely so that deblocking changes the pictures.
fn blocky_synthetic(dir: &Path) -> PathBuf {
    let src = dir.join("synthetic.mp4");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/gen-synthetic");
    let st = Command::new("bash")
        .arg(script)
        .arg(&src)
        .status()
        .expect("run tools/gen-synthetic");
    assert!(st.success());
    let out = dir.join("blocky.mp4");
    let st = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-y", "-i"])
        .arg(&src)
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "40", "-g", "20",
        ])
        .arg(&out)
        .status()
        .expect("the ffmpeg CLI is required for tests");
    assert!(st.success());
    out
}

fn analyse(clip: &Path, loop_filter: LoopFilter) -> Analysis {
    let cfg = AnalyzeConfig {
        loop_filter,
        ..AnalyzeConfig::default()
    };
    let input = SourceInput {
        source_id: "Sblocky".into(),
        camera: "synthetic".into(),
        path: clip.to_path_buf(),
    };
    let mut det = MotionObjectDetector {
        min_blob_frac: 0.002,
    };
    analyze_source(&input, &cfg, &mut det, |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap()
}

fn crop(f: &vigie_core::RgbFrame, t: &Thumbnail) -> Vec<u8> {
    let mut v = Vec::new();
    for y in t.y_px..t.y_px + t.height {
        let s = ((y * f.width + t.x_px) * 3) as usize;
        v.extend_from_slice(&f.data[s..s + (t.width * 3) as usize]);
    }
    v
}

#[test]
fn thumbnails_are_recorded_pixels_when_analysis_skips_the_loop_filter() {
    let dir = tempfile::tempdir().unwrap();
    let clip = blocky_synthetic(dir.path());
    assert_eq!(AnalyzeConfig::default().loop_filter, LoopFilter::SkipAll);
    let a = analyse(&clip, LoopFilter::SkipAll);
    assert_eq!(a.stats.fidelity, Some(Fidelity::AnalysisOnly));
    let thumbs: Vec<&Thumbnail> = a
        .descriptions
        .iter()
        .filter_map(|d| d.thumbnail.as_ref())
        .collect();
    assert!(thumbs.len() >= 3, "{} thumbnails", thumbs.len());
    assert_eq!(a.stats.thumbnails_recut, thumbs.len() as u64);
    assert_eq!(a.stats.thumbnails_dropped, 0);

    // Each thumbnail against the same crop of (1) the recorded picture, from the plain
    // decoder every disclosure path uses, and (2) the analysis picture.
    let working = AnalyzeConfig::default().decode;
    let mut plain = Decoder::open(&clip, &working).unwrap();
    let mut differs_from_analysis = 0;
    for t in &thumbs {
        let recorded = plain.frame_at(t.pts_ms).unwrap().unwrap();
        assert_eq!(recorded.pts_ms, t.pts_ms);
        assert_eq!(t.rgb, crop(&recorded, t), "thumbnail at {} ms", t.pts_ms);
        let cfg = AnalysisDecodeConfig {
            decode: DecodeConfig {
                sampling: vigie_core::SamplingMode::All,
                ..working.clone()
            },
            loop_filter: LoopFilter::SkipAll,
        };
        let mut d = AnalysisDecoder::open(&clip, &cfg).unwrap();
        let analysed = loop {
            let f = d.next_frame().unwrap().expect("the thumbnail's frame");
            if f.pts_ms() == t.pts_ms {
                break f;
            }
        };
        differs_from_analysis += usize::from(crop(analysed.for_analysis(), t) != t.rgb);
    }
    // Without the re-cut these thumbnails would have been analysis pixels.
    assert!(
        differs_from_analysis > 0,
        "the analysis pictures equal the recorded ones: this clip tests nothing"
    );
}

#[test]
fn skipping_the_loop_filter_keeps_the_analysis_deterministic_and_its_tracks() {
    let dir = tempfile::tempdir().unwrap();
    let clip = blocky_synthetic(dir.path());
    let skip = analyse(&clip, LoopFilter::SkipAll);
    let again = analyse(&clip, LoopFilter::SkipAll);
    assert_eq!(skip.tubes, again.tubes, "same file, same tracks");
    let thumbs = |a: &Analysis| -> Vec<Option<Thumbnail>> {
        a.descriptions.iter().map(|d| d.thumbnail.clone()).collect()
    };
    assert_eq!(thumbs(&skip), thumbs(&again));

    let full = analyse(&clip, LoopFilter::Apply);
    assert_eq!(full.stats.fidelity, Some(Fidelity::Recorded));
    assert_eq!(full.stats.thumbnails_recut, 0, "nothing to re-cut");
    let labels = |a: &Analysis| -> Vec<(String, i64, i64)> {
        a.descriptions
            .iter()
            .map(|d| {
                let s = &d.summary;
                (s.label.clone(), s.first_pts_ms / 1000, s.last_pts_ms / 1000)
            })
            .collect()
    };
    assert_eq!(
        labels(&skip),
        labels(&full),
        "the same objects, at the same times"
    );
}
