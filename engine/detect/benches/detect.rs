//! Detector latency per stage: preprocessing (1080p and 960-wide frames -> 416x416 NCHW),
//! the whole `detect` call on bus.jpg (preprocess + NanoDet on ONNX Runtime CPU + GFL
//! decoding + NMS). The model stages are skipped, with a message, when the model, ONNX
//! Runtime or the still is absent (CI builds the benches with `--no-run`).

use criterion::{criterion_group, criterion_main, Criterion};
use vigie_core::{MemoryAlertSink, RgbFrame};
use vigie_detect::preprocess::Preprocessor;
use vigie_detect::still::load_still;
use vigie_detect::{Detector, DetectorConfig};
use vigie_policy::{ids, model_path};

fn synthetic(width: u32, height: u32) -> RgbFrame {
    let data = (0..width * height * 3).map(|i| (i % 251) as u8).collect();
    RgbFrame::from_rgb(width, height, data, 0)
}

fn preprocess(c: &mut Criterion) {
    let mut g = c.benchmark_group("preprocess");
    let mut pre = Preprocessor::new(ids::NANODET_COCO_416.spec().preprocess);
    let mut out = Vec::new();
    for (w, h) in [(1920, 1080), (960, 540)] {
        let f = synthetic(w, h);
        g.bench_function(format!("{w}x{h}_to_416"), |b| {
            b.iter(|| pre.run(&f, &mut out))
        });
    }
    g.finish();
}

fn detect(c: &mut Criterion) {
    let still = vigie_core::test_support::shared_datasets().join("stills/bus.jpg");
    if !model_path(ids::NANODET_COCO_416).is_file() || !still.is_file() {
        eprintln!(
            "detect bench skipped: NanoDet (tools/fetch-models) or {} absent",
            still.display()
        );
        return;
    }
    let frame = load_still(&still).expect("bus.jpg");
    let sink = MemoryAlertSink::default();
    let mut det = match Detector::new(DetectorConfig::default(), &sink) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("detect bench skipped: {e}");
            return;
        }
    };
    let mut g = c.benchmark_group("detect");
    g.sample_size(20);
    g.bench_function("nanodet_416_bus_jpg", |b| {
        b.iter(|| det.detect(&frame).expect("detect"))
    });
    // One inference call for 2 and 4 frames (time for all of them): what a second or a
    // fourth crop window costs against one letterboxed frame.
    let two = [&frame, &frame];
    g.bench_function("nanodet_416_bus_jpg_batch2", |b| {
        b.iter(|| det.detect_batch(&two).expect("detect"))
    });
    let four = [&frame, &frame, &frame, &frame];
    g.bench_function("nanodet_416_bus_jpg_batch4", |b| {
        b.iter(|| det.detect_batch(&four).expect("detect"))
    });
    g.finish();
}

criterion_group!(benches, preprocess, detect);
criterion_main!(benches);
