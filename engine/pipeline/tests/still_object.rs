//! A parked van: there from t = 3 s to t = 15 s of a 20 s clip in which nothing moves.
//! The motion gate never opens, so the detector runs only at its refresh (every 2 s);
//! the van must still get one track covering its presence (from the first refresh that
//! sees it to the last one), without the detector running on every frame in between.
//! The detector here is a stand-in that sees the van whenever it is there (the pipeline,
//! not a model, is under test).

mod common;

use vigie_core::{BBox, Detection, RgbFrame};
use vigie_motion::ForegroundMask;
use vigie_pipeline::{analyze_source, AnalyzeConfig, ObjectDetector, SourceInput, StageError};

struct SeesTheVan {
    calls: usize,
}

impl ObjectDetector for SeesTheVan {
    fn detect(
        &mut self,
        frame: &RgbFrame,
        _mask: &ForegroundMask,
    ) -> Result<Vec<Detection>, StageError> {
        self.calls += 1;
        Ok(if (3000..=15000).contains(&frame.pts_ms) {
            vec![Detection {
                bbox_in_frame: BBox {
                    x: 100.0,
                    y: 80.0,
                    w: 90.0,
                    h: 60.0,
                },
                label: "truck".into(),
                score: 0.8,
            }]
        } else {
            Vec::new()
        })
    }
    fn name(&self) -> &str {
        "sees-the-van"
    }
}

#[test]
fn a_parked_vehicle_gets_its_presence_interval_from_the_refreshes() {
    let dir = tempfile::tempdir().unwrap();
    let clip = common::render_lavfi(
        dir.path(),
        "still.mp4",
        "color=c=0x707070:s=320x240:d=20:r=10",
    );
    let mut cfg = AnalyzeConfig::default();
    cfg.decode.output_size = vigie_decode::OutputSize::Native;
    let input = SourceInput {
        source_id: "Sstill".into(),
        camera: "lot".into(),
        path: clip,
    };
    let mut det = SeesTheVan { calls: 0 };
    let a = analyze_source(&input, &cfg, &mut det, |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    let tracks: Vec<_> = a.descriptions.iter().map(|d| &d.summary).collect();
    assert_eq!(tracks.len(), 1, "{tracks:#?}");
    let van = tracks[0];
    assert_eq!(van.label, "truck");
    // Seen from the first refresh at or after 3 s, to the last one at or before 15 s.
    assert!((3000..=5200).contains(&van.first_pts_ms), "{van:?}");
    assert!((12800..=15000).contains(&van.last_pts_ms), "{van:?}");
    assert_eq!(van.heading_deg, None, "a parked van does not move");
    // 200 frames; the detector ran at the refreshes (and on the frame confirming the
    // track), not on every frame of the 12 s the van was there.
    assert_eq!(a.stats.frames_analysed, 200);
    assert!(det.calls < 30, "{} detector runs", det.calls);
}
