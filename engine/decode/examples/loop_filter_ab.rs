//! What skipping the loop filter saves in vigie's own decoder: for each file, rounds of
//! alternating runs (deblocking, skipped on non-reference frames, skipped on all), decode
//! only and decode + RGB at analysis settings (640 px, 10 fps), with wall and process CPU
//! time. Medians and ratios to the deblocking run are printed; the machine's load moves
//! the runs of one round together.
//!
//! `cargo run --release -p vigie-decode --example loop_filter_ab -- ROUNDS FILE...`

use std::path::Path;
use std::time::Instant;

use vigie_core::SamplingMode;
use vigie_decode::{AnalysisDecodeConfig, AnalysisDecoder, DecodeConfig, LoopFilter, OutputSize};

/// User + system CPU time of this process (every decoder thread), in seconds.
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at ") ".
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn run(path: &Path, cfg: &AnalysisDecodeConfig) -> (f64, f64, u64) {
    let (t, c) = (Instant::now(), cpu_s());
    let mut d = AnalysisDecoder::open(path, cfg).expect("open");
    d.run_to_end().expect("decode");
    let frames = d.finish().frames_decoded;
    (t.elapsed().as_secs_f64(), cpu_s() - c, frames)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    vigie_decode::init();
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let filters = [
        LoopFilter::Apply,
        LoopFilter::SkipNonRef,
        LoopFilter::SkipAll,
    ];
    for file in args {
        let path = Path::new(&file);
        for (what, decode) in [
            (
                "decode only",
                DecodeConfig {
                    convert_rgb: false,
                    ..DecodeConfig::default()
                },
            ),
            (
                "decode + RGB 640, 10 fps",
                DecodeConfig {
                    sampling: SamplingMode::TargetFps { fps: 10.0 },
                    output_size: OutputSize::MaxWidth(640),
                    ..DecodeConfig::default()
                },
            ),
        ] {
            let mut wall = vec![Vec::new(); filters.len()];
            let mut cpu = vec![Vec::new(); filters.len()];
            let mut frames = 0;
            for _ in 0..rounds {
                for (i, lf) in filters.iter().enumerate() {
                    let cfg = AnalysisDecodeConfig {
                        decode: decode.clone(),
                        loop_filter: *lf,
                    };
                    let (w, c, n) = run(path, &cfg);
                    wall[i].push(w);
                    cpu[i].push(c);
                    frames = n;
                }
            }
            let (w0, c0) = (median(wall[0].clone()), median(cpu[0].clone()));
            for (i, lf) in filters.iter().enumerate() {
                let (w, c) = (median(wall[i].clone()), median(cpu[i].clone()));
                println!(
                    "{file} | {what} | {lf:?} | {frames} frames | wall {w:.3} s ({:.1} fps, {:.3} of Apply) | cpu {c:.2} s ({:.3} of Apply)",
                    frames as f64 / w,
                    w / w0,
                    c / c0
                );
            }
        }
    }
}
