//! The plate pass reads each track's crops as soon as its last one is decoded and
//! releases them, so the crops held at once follow the tracks visible together, not the
//! length of the footage (two vehicles one after the other: never both tracks' crops).

mod common;

use vigie_pipeline::plates::{
    read_plates, PlateOutcome, PlatePassConfig, TrackPlateReader, VehicleCrop,
};
use vigie_pipeline::{
    analyze_source, AnalyzeConfig, MotionObjectDetector, SourceInput, StageError,
};

/// Records what it is asked to read, and when (relative to the other tracks).
#[derive(Default)]
struct Recorder {
    calls: Vec<(usize, i64)>,
}

impl TrackPlateReader for Recorder {
    fn read_track(&mut self, crops: &[VehicleCrop]) -> Result<Option<PlateOutcome>, StageError> {
        let last = crops.iter().map(|c| c.pts_ms).max().unwrap_or(0);
        self.calls.push((crops.len(), last));
        Ok(None)
    }
}

#[test]
fn crops_are_read_and_released_track_by_track() {
    let dir = tempfile::tempdir().unwrap();
    // A red box crosses during 0-3 s, a blue one during 5-8 s.
    let graph = "color=c=gray:s=320x240:d=9:r=10[bg];\
        color=c=red:s=60x40:d=9:r=10[a];color=c=blue:s=60x40:d=9:r=10[b];\
        [bg][a]overlay=x='20+t*60':y=60:enable='between(t,0,3)'[t1];\
        [t1][b]overlay=x='20+(t-5)*60':y=140:enable='between(t,5,8)'";
    let clip = common::render_lavfi(dir.path(), "two-cars.mp4", graph);
    let mut cfg = AnalyzeConfig::default();
    cfg.decode.output_size = vigie_decode::OutputSize::Native;
    let input = SourceInput {
        source_id: "Stwo".into(),
        camera: "two".into(),
        path: clip,
    };
    let mut det = MotionObjectDetector {
        min_blob_frac: 0.002,
    };
    let mut a = analyze_source(&input, &cfg, &mut det, |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    let pass = PlatePassConfig {
        classes: vec!["moving_object".into()],
        min_vehicle_width_px: 20.0,
        frames_per_track: 3,
        min_gap_ms: 200,
        margin: 0.05,
    };
    let mut reader = Recorder::default();
    let (stats, _) = read_plates(&input, &cfg.decode, &mut a, &pass, &mut reader).unwrap();
    assert!(reader.calls.len() >= 2, "{stats:?} {:?}", reader.calls);
    assert_eq!(
        reader.calls.iter().map(|c| c.0 as u64).sum::<u64>(),
        stats.crops
    );
    // The first vehicle's crops were read before the second's were taken.
    assert!(
        stats.max_crops_held < stats.crops,
        "crops held at once {} of {}",
        stats.max_crops_held,
        stats.crops
    );
    assert!(stats.max_crops_held <= 3 * 2, "{stats:?}");
    let ends: Vec<i64> = reader.calls.iter().map(|c| c.1).collect();
    assert!(
        ends.windows(2).all(|w| w[0] <= w[1]),
        "read in order of their last crop: {ends:?}"
    );
}
