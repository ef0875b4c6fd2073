//! Decode throughput: decode only, decode + RGB at working resolution, and sampling modes,
//! on a 1080p H.264 clip (synthetic) and on the default real footage when present.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigie_core::SamplingMode;
use vigie_decode::{DecodeConfig, Decoder, OutputSize};

fn decode_all(path: &std::path::Path, cfg: &DecodeConfig) -> u64 {
    let mut d = Decoder::open(path, cfg).expect("open clip");
    d.run_to_end().expect("decode");
    d.finish().frames_decoded
}

fn bench_decode(c: &mut Criterion) {
    let clip = vigie_benches::synthetic_clip(
        "h264_1080p_4s.mp4",
        "1920x1080",
        4,
        &[
            "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-bf", "2",
        ],
    );
    let frames = decode_all(
        &clip,
        &DecodeConfig {
            convert_rgb: false,
            ..Default::default()
        },
    );
    let mut g = c.benchmark_group("decode_h264_1080p");
    g.sample_size(10);
    g.throughput(Throughput::Elements(frames));
    let variants = [
        (
            "decode_only",
            DecodeConfig {
                convert_rgb: false,
                ..Default::default()
            },
        ),
        (
            "decode_only_1thread",
            DecodeConfig {
                convert_rgb: false,
                threads: 1,
                ..Default::default()
            },
        ),
        (
            "rgb_640",
            DecodeConfig {
                output_size: OutputSize::MaxWidth(640),
                ..Default::default()
            },
        ),
        (
            "rgb_native",
            DecodeConfig {
                output_size: OutputSize::Native,
                ..Default::default()
            },
        ),
        (
            "nonref_rgb_640",
            DecodeConfig {
                sampling: SamplingMode::SkipNonRef,
                output_size: OutputSize::MaxWidth(640),
                ..Default::default()
            },
        ),
        (
            "5fps_rgb_640",
            DecodeConfig {
                sampling: SamplingMode::TargetFps { fps: 5.0 },
                output_size: OutputSize::MaxWidth(640),
                ..Default::default()
            },
        ),
    ];
    for (name, cfg) in variants {
        g.bench_function(name, |b| b.iter(|| decode_all(&clip, &cfg)));
    }
    g.finish();

    if let Some(real) = vigie_benches::default_footage() {
        let mut g = c.benchmark_group("decode_vtest_mpeg4");
        g.sample_size(10);
        let cfg = DecodeConfig {
            output_size: OutputSize::MaxWidth(640),
            ..Default::default()
        };
        let frames = decode_all(&real, &cfg);
        g.throughput(Throughput::Elements(frames));
        g.bench_function("rgb_640", |b| b.iter(|| decode_all(&real, &cfg)));
        g.finish();
    }
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
