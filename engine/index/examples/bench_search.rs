//! `vigie bench search` without the CLI (no FFmpeg needed to build):
//! `cargo run --release -p vigie-index --example bench_search -- [TRACKS] [RUNS] [INDEX_PATH]`.
//! An existing INDEX_PATH is reused as is (generation is the slow part).

use std::path::PathBuf;

use vigie_index::synth::{self, SynthConfig};
use vigie_index::Index;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let tracks: u64 = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let runs: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(200);
    let dir = tempfile::tempdir()?;
    let path = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().join("index.sqlite"));
    let cfg = SynthConfig {
        tracks,
        ..SynthConfig::default()
    };
    let fresh = !path.exists();
    let mut ix = Index::open(&path)?;
    if fresh {
        let g = synth::generate(&mut ix, &cfg, |n| {
            if n % 100_000 == 0 {
                eprintln!("{n} tracks");
            }
        })?;
        eprintln!(
            "generated {} tracks in {} sources: {:.1} s, ANALYZE {:.1} s",
            g.tracks, g.sources, g.seconds, g.analyse_seconds
        );
    }
    let size = std::fs::metadata(&path)?.len();
    eprintln!("index: {:.0} MiB", size as f64 / 1048576.0);
    if std::env::var_os("VIGIE_EXPLAIN").is_some() {
        let mut rng = synth::Rng::new(7);
        for kind in synth::QueryKind::ALL {
            let q = synth::random_query(&mut rng, kind, synth::span_ms(&cfg));
            eprintln!("{}:\n  {}", kind.name(), ix.explain(&q)?.join("\n  "));
        }
    }
    let figs = synth::bench_queries(&ix, runs, 7, synth::span_ms(&cfg))?;
    for f in &figs {
        println!(
            "{:<26} p50 {:7.2} ms  p95 {:7.2} ms  p99 {:7.2} ms  max {:7.2} ms  mean hits {:7.1}  truncated {}/{}",
            f.name, f.p50_ms, f.p95_ms, f.p99_ms, f.max_ms, f.mean_hits, f.truncated_runs, f.runs
        );
    }
    Ok(())
}
