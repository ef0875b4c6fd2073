//! `vigie bench ...`: benchmarks that print figures.
//!
//! Machines are noisy, so every figure that matters is a *ratio measured in one run*: our
//! decoder and the `ffmpeg` CLI decode the same file alternately, several times, and the
//! medians are compared. Absolute speeds are printed too, for the README.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};
use serde_json::json;
use vigie_decode::{DecodeConfig, Decoder, OutputSize};

use crate::output::{print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Subcommand)]
pub enum BenchCmd {
    /// Our decoder against `ffmpeg -i FILE -f null -` on the same file, in the same run.
    Decode(DecodeArgs),
    /// The whole analysis pipeline against `ffmpeg -f null` on the same file: fps,
    /// realtime factor, time per stage, peak memory.
    Analyze(crate::cmd::analyze::BenchArgs),
    /// Object detector latency (one session) and throughput (one session per worker).
    Detect(crate::cmd::detect::BenchArgs),
    /// Combined-query latency (p50/p95/p99) over a generated index of synthetic tracks.
    Search(crate::cmd::search::BenchArgs),
}

#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// Video file to decode (default: the real footage fetched by tools/setup).
    pub file: Option<PathBuf>,
    /// Alternating runs of each decoder; medians are reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Working width for the decode + RGB figure.
    #[arg(long, default_value_t = 640)]
    pub width: u32,
    /// Decoder threads for our decoder (0 = one per core, as ffmpeg's default).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

pub fn run(cmd: BenchCmd, global: &Global) -> anyhow::Result<Outcome> {
    match cmd {
        BenchCmd::Decode(a) => bench_decode(a, global),
        BenchCmd::Analyze(a) => crate::cmd::analyze::bench(a, global),
        BenchCmd::Detect(a) => crate::cmd::detect::bench(a, global),
        BenchCmd::Search(a) => crate::cmd::search::bench(a, global),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time_ours(path: &Path, cfg: &DecodeConfig) -> anyhow::Result<(f64, u64)> {
    let t = Instant::now();
    let mut d = Decoder::open(path, cfg)?;
    d.run_to_end()?;
    let frames = d.finish().frames_decoded;
    Ok((t.elapsed().as_secs_f64(), frames))
}

pub fn time_ffmpeg(path: &Path) -> anyhow::Result<f64> {
    let t = Instant::now();
    let out = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-nostdin",
            "-v",
            "error",
            "-threads",
            "0",
            "-i",
        ])
        .arg(path)
        .args(["-map", "0:v:0", "-f", "null", "-"])
        .output()
        .context("cannot run the `ffmpeg` CLI (tools/setup installs it)")?;
    let secs = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "ffmpeg failed on this file: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(secs)
}

fn bench_decode(a: DecodeArgs, global: &Global) -> anyhow::Result<Outcome> {
    let file = a.file.unwrap_or_else(vigie_core::paths::default_footage);
    if !file.exists() {
        bail!(
            "no such file {} (run tools/setup to fetch the default footage, or name a file)",
            file.display()
        );
    }
    if a.runs == 0 {
        bail!("invalid --runs 0 (expected >= 1)");
    }
    let meta = vigie_decode::probe(&file, None, None)?;
    let only = DecodeConfig {
        convert_rgb: false,
        threads: a.threads,
        ..Default::default()
    };
    let rgb = DecodeConfig {
        output_size: OutputSize::MaxWidth(a.width),
        threads: a.threads,
        ..Default::default()
    };
    // Warm-up: page cache and FFmpeg's one-time initialisation.
    let (_, frames) = time_ours(&file, &only)?;
    time_ffmpeg(&file)?;
    let (mut t_ff, mut t_only, mut t_rgb) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..a.runs {
        t_ff.push(time_ffmpeg(&file)?);
        t_only.push(time_ours(&file, &only)?.0);
        t_rgb.push(time_ours(&file, &rgb)?.0);
    }
    let fps = |t: f64| frames as f64 / t;
    let (ff, only_s, rgb_s) = (median(t_ff), median(t_only), median(t_rgb));
    let (ff_fps, only_fps, rgb_fps) = (fps(ff), fps(only_s), fps(rgb_s));
    let realtime = meta.fps.map(|f| only_fps / f);
    if global.json {
        print_json(&json!({
            "file": file,
            "codec": meta.codec,
            "resolution": [meta.width, meta.height],
            "frames": frames,
            "runs": a.runs,
            "ffmpeg_null_fps": ff_fps,
            "vigie_decode_fps": only_fps,
            "vigie_decode_rgb_fps": rgb_fps,
            "rgb_width": a.width,
            "ratio_decode_vs_ffmpeg": only_fps / ff_fps,
            "ratio_decode_rgb_vs_ffmpeg": rgb_fps / ff_fps,
            "realtime_factor": realtime,
        }))?;
    } else {
        println!(
            "file: {} ({} {}x{}, {} frames, median of {} alternating runs)",
            file.display(),
            meta.codec,
            meta.width,
            meta.height,
            frames,
            a.runs
        );
        println!("ffmpeg -f null          {ff_fps:8.1} fps");
        println!(
            "vigie decode            {only_fps:8.1} fps   ratio {:.3}{}",
            only_fps / ff_fps,
            realtime
                .map(|r| format!("   {r:.1}x realtime"))
                .unwrap_or_default()
        );
        println!(
            "vigie decode + RGB {:>4}  {rgb_fps:8.1} fps   ratio {:.3}",
            a.width,
            rgb_fps / ff_fps
        );
    }
    Ok(Outcome::Success)
}
