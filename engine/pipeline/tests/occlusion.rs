//! A red box that passes behind a grey pillar for about 1.5 s: the online tracker loses
//! it (longer than its 700 ms buffer) and sees it again under a new id; the offline linking
//! pass over the whole source makes it one track again, its path through the pillar
//! filled in. Without linking, two tracks.

mod common;

use vigie_pipeline::{analyze_source, AnalyzeConfig, MotionObjectDetector, SourceInput};

fn analyse(clip: &std::path::Path, link: bool) -> Vec<vigie_core::TrackSummary> {
    let mut cfg = AnalyzeConfig::default();
    cfg.decode.output_size = vigie_decode::OutputSize::Native;
    cfg.link.enabled = link;
    let input = SourceInput {
        source_id: "Socc".into(),
        camera: "occ".into(),
        path: clip.to_owned(),
    };
    let mut det = MotionObjectDetector {
        min_blob_frac: 0.002,
    };
    let a = analyze_source(&input, &cfg, &mut det, |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    a.descriptions.into_iter().map(|d| d.summary).collect()
}

#[test]
fn an_object_hidden_behind_a_pillar_is_one_track() {
    let dir = tempfile::tempdir().unwrap();
    // Red 40x30 box, x = 10 + 60 t; the pillar (x 260..380, drawn over it) hides it from
    // about t = 3.7 s to t = 6.2 s... at 60 px/s: 120 px + 40 px box = 2.7 s fully or
    // partly hidden, about 1.3 s fully hidden.
    let graph = "color=c=0x707070:s=480x200:d=10:r=10[bg];color=c=0xd01818:s=40x30:d=10:r=10[o];\
        color=c=0x505050:s=120x200:d=10:r=10[p];\
        [bg][o]overlay=x='10+t*60':y=90[t1];[t1][p]overlay=x=260:y=0";
    let clip = common::render_lavfi(dir.path(), "pillar.mp4", graph);
    let apart = analyse(&clip, false);
    assert_eq!(apart.len(), 2, "online: lost behind the pillar: {apart:#?}");
    let one = analyse(&clip, true);
    assert_eq!(one.len(), 1, "offline: one object: {one:#?}");
    let t = &one[0];
    assert_eq!(t.track_id, apart[0].track_id.min(apart[1].track_id));
    // The background model needs about a second; the box leaves the frame at 7.8 s.
    assert!(t.first_pts_ms <= 1500 && t.last_pts_ms >= 7500, "{t:?}");
    assert_eq!(t.direction, Some(vigie_core::Compass::E));
    assert_eq!(t.colours[0].colour, vigie_core::Colour::Red);
}
