//! `vigie bench ...`: benchmarks that print figures.
//!
//! Machines are noisy, so every figure that matters is a *ratio measured in one run*: our
//! decoder and the `ffmpeg` CLI decode the same file alternately, several times, and the
//! medians are compared. Absolute speeds are printed too, for the README.
//!
//! Benchmarks run on files outside any case, so each goes through the measurement door
//! (`vigie_app::Measurement`): the file is hashed and logged in the machine log, with what
//! is computed, before anything is decoded or detected.

use std::path::PathBuf;

use anyhow::bail;
use serde_json::json;
use vigie_app::measure::Computed;
use vigie_app::Measurement;
use vigie_decode::{DecodeConfig, OutputSize};

use super::analyze::{AnalyzeDecodeFlags, DetectorChoice};
use crate::output::{outln, print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Subcommand)]
pub enum BenchCmd {
    /// Our decoder against `ffmpeg -i FILE -f null -` on the same file, in the same run.
    Decode(DecodeArgs),
    /// The whole analysis pipeline against `ffmpeg -f null` on the same file: fps,
    /// realtime factor, time per stage, peak memory.
    Analyze(AnalyzeArgs),
    /// Object detector latency (one session) and throughput (one session per worker).
    Detect(crate::cmd::detect::BenchArgs),
    /// Combined-query latency (p50/p95/p99) over a generated index of synthetic tracks.
    Search(crate::cmd::search::BenchArgs),
    /// The web interface over HTTP: search pages on a case of 1,000,000 synthetic tracks
    /// (p50/p95/p99), and a player's time to first frame on vtest.avi and a 1080p H.264
    /// clip.
    Web(crate::cmd::bench_web::WebArgs),
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
        BenchCmd::Analyze(a) => bench_analyze(a, global),
        BenchCmd::Detect(a) => crate::cmd::detect::bench(a, global),
        BenchCmd::Search(a) => crate::cmd::search::bench(a, global),
        BenchCmd::Web(a) => crate::cmd::bench_web::run(a, global),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Open the measurement door for `command` on `file`.
fn measurement(
    global: &Global,
    command: &str,
    computed: &[Computed],
    file: &std::path::Path,
) -> anyhow::Result<Measurement> {
    let app = vigie_app::App::from_env()?;
    Ok(Measurement::open(
        &app,
        global.operator()?.as_ref(),
        command,
        computed,
        &[file.to_owned()],
        global.reason.as_deref(),
    )?)
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
    let m = measurement(global, "bench decode", &[Computed::DecodeTiming], &file)?;
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
    let (_, frames) = vigie_app::bench::time_decoder(&m, &file, &only)?;
    vigie_app::bench::time_ffmpeg(&m, &file)?;
    let (mut t_ff, mut t_only, mut t_rgb) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..a.runs {
        t_ff.push(vigie_app::bench::time_ffmpeg(&m, &file)?);
        t_only.push(vigie_app::bench::time_decoder(&m, &file, &only)?.0);
        t_rgb.push(vigie_app::bench::time_decoder(&m, &file, &rgb)?.0);
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
        outln!(
            "file: {} ({} {}x{}, {} frames, median of {} alternating runs)",
            file.display(),
            meta.codec,
            meta.width,
            meta.height,
            frames,
            a.runs
        );
        outln!("ffmpeg -f null          {ff_fps:8.1} fps");
        outln!(
            "vigie decode            {only_fps:8.1} fps   ratio {:.3}{}",
            only_fps / ff_fps,
            realtime
                .map(|r| format!("   {r:.1}x realtime"))
                .unwrap_or_default()
        );
        outln!(
            "vigie decode + RGB {:>4}  {rgb_fps:8.1} fps   ratio {:.3}",
            a.width,
            rgb_fps / ff_fps
        );
    }
    Ok(Outcome::Success)
}

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// Video file (default: the real footage fetched by tools/setup).
    pub file: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "nanodet")]
    pub detector: DetectorChoice,
    /// NanoDet's input: `auto` (by the frame's shape, as analysis: 512x288 for frames at
    /// least 1.6 times as wide as high, 416x352 from 13:11 up to 1.6, 416 otherwise), or `416` /
    /// `416x352` / `512x288` / `768x448` to force one (to compare them; 768x448 finds more
    /// small and distant vehicles in wide frames, at about 2.2x the detector's time).
    #[arg(long, default_value = "auto", value_parser = super::detect::parse_detector_input)]
    pub detector_input: vigie_app::bench::InputChoice,
    /// NanoDet's precision: `auto` (as analysis: int8 on CPUs with AVX512-VNNI or
    /// AVX-VNNI, float otherwise; doc/models.md "int8 (issue 18 item 3)"), or `float` /
    /// `int8` to force one (to compare them).
    #[arg(long, default_value = "auto", value_parser = super::detect::parse_detector_precision)]
    pub detector_precision: vigie_app::bench::PrecisionChoice,
    /// Detector device: cpu, or cuda[:N].
    #[arg(long, default_value = "cpu")]
    pub device: String,
    #[command(flatten)]
    pub decode: AnalyzeDecodeFlags,
    /// Skip the plate stage.
    #[arg(long)]
    pub no_plates: bool,
    /// Narrowest vehicle box, in source pixels, whose plate is read.
    #[arg(long, default_value_t = 160.0)]
    pub plate_min_width: f32,
    #[command(flatten)]
    pub plate: super::plates::PlateFlags,
    /// Pipeline runs, alternating with `ffmpeg -f null`; medians are reported.
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    /// Run the detector on every frame the motion gate lets through or a track moves in
    /// (the rule before the adaptive detection rate), to measure what the rate saves.
    #[arg(long)]
    pub no_adaptive_rate: bool,
    /// Also analyse the file with the detector on every sampled frame and score this
    /// run's tracks against that one's: the quality cost of detecting fewer frames.
    #[arg(long)]
    pub compare_full: bool,
    /// Between refreshes, give the detector the moving regions and live tracks: crops at
    /// the picture's scale when they fit in one NanoDet input, the whole frame otherwise.
    #[arg(long)]
    pub crops: bool,
    /// Decode with the codec's loop filter, as before: analysis skips it by default
    /// (about a fifth less decoding CPU on H.264; thumbnails are then cut again from
    /// recorded pictures).
    #[arg(long)]
    pub no_skip_loop_filter: bool,
    /// Also run the other loop-filter setting in each round (alternating) and score the
    /// skipping run's tracks against the deblocking run's.
    #[arg(long)]
    pub compare_loop_filter: bool,
    /// Detect frames one by one, as before: by default analysis (`vigie analyze`, `eval
    /// track`) detects a frame together with the frame one detection step ahead (two
    /// sessions on half the detector's threads each; the tracks are the same, only the
    /// time changes).
    #[arg(long)]
    pub no_detect_ahead: bool,
    /// Also run the other detect-ahead setting in each round (alternating) and count the
    /// tracks that are the same in both runs.
    #[arg(long)]
    pub compare_detect_ahead: bool,
}

/// `vigie bench analyze FILE`: the whole pipeline against `ffmpeg -f null` decoding of the
/// same file, measured in the same run; nothing is written to any case.
fn bench_analyze(args: AnalyzeArgs, global: &Global) -> anyhow::Result<Outcome> {
    let file = args.file.unwrap_or_else(vigie_core::paths::default_footage);
    if !file.exists() {
        bail!(
            "no such file {} (run tools/setup to fetch the default footage, or name a file)",
            file.display()
        );
    }
    if args.runs == 0 {
        bail!("invalid --runs 0 (expected >= 1)");
    }
    let plates = !args.no_plates && args.detector == DetectorChoice::Nanodet;
    let mut computed = vec![
        Computed::DecodeTiming,
        Computed::Detections,
        Computed::Tracks,
    ];
    if plates {
        computed.push(Computed::PlateReads);
    }
    let m = measurement(global, "bench analyze", &computed, &file)?;
    let r = vigie_app::bench::bench_analyze(
        &m,
        &vigie_app::bench::BenchAnalyzeRequest {
            file: file.clone(),
            detector: args.detector.into(),
            detector_input: args.detector_input,
            detector_precision: args.detector_precision,
            device: args.device.clone(),
            sampling: args.decode.sampling,
            width: args.decode.width,
            decoder_threads: args.decode.threads,
            plates: plates.then(|| args.plate.options()),
            plate_min_width_px: args.plate_min_width,
            runs: args.runs,
            adaptive_rate: !args.no_adaptive_rate,
            compare_full: args.compare_full,
            detect_regions: args.crops,
            loop_filter: if args.no_skip_loop_filter {
                vigie_decode::LoopFilter::Apply
            } else {
                vigie_decode::LoopFilter::SkipAll
            },
            compare_loop_filter: args.compare_loop_filter,
            detect_ahead: !args.no_detect_ahead,
            compare_detect_ahead: args.compare_detect_ahead,
        },
    )?;
    if global.json {
        print_json(&r.to_json())?;
    } else {
        outln!(
            "file: {} ({} {}x{}, {:.1} s, {} frames), detector {}, sampling {}",
            file.display(),
            r.codec,
            r.resolution.0,
            r.resolution.1,
            r.source_seconds,
            r.frames_decoded,
            r.detector,
            r.sampling
        );
        outln!(
            "pipeline        {:8.1} source fps  {:6.2}x realtime  {:.1} s{}",
            r.source_fps(),
            r.realtime_factor(),
            r.seconds,
            if args.runs > 1 {
                format!(" (median of {} alternating runs)", args.runs)
            } else {
                String::new()
            }
        );
        outln!(
            "ffmpeg -f null  {:8.1} source fps  ratio {:.3}",
            r.ffmpeg_fps(),
            r.ratio_to_ffmpeg_decode()
        );
        outln!(
            "loop filter: {:?}; {} thumbnails cut again from recorded pictures ({:.0} ms)",
            r.loop_filter,
            r.thumbnails_recut,
            r.ms_thumbnails
        );
        if let Some(c) = &r.loop_filter_comparison {
            outln!(
                "loop filter {:?}: {:.2}x realtime ({:.1} s, median); {} tracks, {} identical; skipping against deblocking: {}",
                c.other,
                r.source_seconds / c.other_seconds,
                c.other_seconds,
                c.other_tracks,
                c.identical_tubes,
                quality_line(&c.quality),
            );
        }
        if let Some(c) = &r.ahead_comparison {
            outln!(
                "detect ahead {}: {:.2}x realtime ({:.1} s, median); {} tracks, {} identical; detected frames {}, descriptions {}",
                if c.other_detect_ahead { "on" } else { "off" },
                r.source_seconds / c.other_seconds,
                c.other_seconds,
                c.other_tracks,
                c.identical_tubes,
                if c.same_detected_frames { "the same" } else { "DIFFERENT" },
                if c.same_descriptions { "the same" } else { "DIFFERENT" },
            );
        }
        outln!(
            "frames: {} analysed, {} through the detector ({} detected ahead with an earlier frame, {} more detected ahead and not needed), {} skipped by the motion gate; {} tracks",
            r.frames_analysed,
            r.frames_detected,
            r.frames_detected_ahead,
            r.detected_ahead_unused,
            r.frames_gated_out,
            r.tracks
        );
        let why = &r.detect_reasons;
        outln!(
            "detector: {:.1} % of analysed frames, {:.1} % of their area ({}{}); why: refresh {}, unconfirmed {}, unexplained motion {}, lost track {}, young track {}, track step {}, gate or moving track {}, no gate {}",
            100.0 * r.detector_frame_share,
            100.0 * r.detected_area_share,
            if args.no_adaptive_rate { "rate: gate only" } else { "rate: adaptive" },
            if args.crops {
                format!("; {} frames in crops", r.frames_in_crops)
            } else {
                String::new()
            },
            why.refresh,
            why.tentative,
            why.unexplained_motion,
            why.lost_track,
            why.young_track,
            why.track_step,
            why.gate_or_moving_track,
            why.ungated,
        );
        if let Some(q) = &r.quality {
            outln!(
                "quality against the detector on every sampled frame ({} frames detected, {:.1} s): {}",
                q.full_frames_detected,
                q.full_seconds,
                quality_line(q),
            );
        }
        outln!(
            "per analysed frame: motion {:.2} ms, track {:.2} ms, describe {:.2} ms, waiting for decoder {:.2} ms; detector {:.1} ms per detected frame",
            r.ms_motion, r.ms_track, r.ms_describe, r.ms_waiting_for_decoder, r.ms_per_detected_frame,
        );
        if let Some(p) = &r.plates {
            outln!(
                "plates: {} vehicle tracks, {} large enough, {} with a plate; {:.0} ms per track read ({} crops, at most {} held at once, {:.1} ms each; native-resolution re-decode {:.0} ms)",
                p.vehicle_tracks,
                p.tracks_read,
                p.tracks_with_plate,
                p.ms_per_vehicle_track,
                p.crops,
                p.max_crops_held,
                p.read_ms_per_crop,
                p.decode_ms
            );
        }
        if let Some(mib) = vigie_app::bench::peak_rss_mib() {
            outln!("peak RSS {mib:.0} MiB");
        }
    }
    Ok(Outcome::Success)
}

/// One run's tracks scored against a reference run's: the words both comparisons print.
fn quality_line(q: &vigie_app::bench::QualityCost) -> String {
    format!(
        "{} tracks vs {}; of its tracks {} mostly followed, {} partly, {} lost; {} id switches; MOTA {:.3} IDF1 {:.3}",
        q.tracks,
        q.full_tracks,
        q.mostly_tracked,
        q.partially_tracked,
        q.mostly_lost,
        q.id_switches,
        q.mota,
        q.idf1,
    )
}
