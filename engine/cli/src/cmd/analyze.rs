//! `vigie analyze`: flags -> `vigie_app::analyze::analyze_sources` -> printing.
//!
//! The use case (batch behaviour, resumption, the audit entries, where derived data go)
//! lives in the application layer; this module only parses flags, draws progress bars and
//! prints what was done.

use std::path::PathBuf;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
pub use vigie_app::analyze::DetectorChoice as AppDetector;
use vigie_app::analyze::{analyze_sources, AnalyzeRequest};

use crate::output::{outln, print_json, Outcome};
use crate::Global;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DetectorChoice {
    /// NanoDet COCO object detector (allowlisted model, via ONNX Runtime).
    Nanodet,
    /// Model-free moving-blob detector (labels objects `moving_object`).
    Motion,
}

impl From<DetectorChoice> for AppDetector {
    fn from(c: DetectorChoice) -> Self {
        match c {
            DetectorChoice::Nanodet => AppDetector::Nanodet,
            DetectorChoice::Motion => AppDetector::Motion,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source ids or paths of registered sources (default with --all: every source).
    pub sources: Vec<String>,
    /// Analyse every source of the case.
    #[arg(long)]
    pub all: bool,
    #[arg(long, value_enum, default_value = "nanodet")]
    pub detector: DetectorChoice,
    /// NanoDet's precision: `auto` (int8 on x86_64 CPUs with AVX512-VNNI or AVX-VNNI,
    /// float elsewhere), or `float` / `int8` for every node of a sharded run, whatever its
    /// CPU (a merge refuses shards analysed at different precisions).
    #[arg(long, default_value = "auto", value_parser = super::detect::parse_detector_precision)]
    pub detector_precision: vigie_app::bench::PrecisionChoice,
    /// NanoDet's input: `auto` (by the frame's shape: 512x288 for frames at least 1.6
    /// times as wide as high, 416x352 from 13:11 up to 1.6, 416 otherwise), or one size for
    /// every source of the run. `768x448` finds more small and distant vehicles in wide
    /// footage (street frames, score 0.35, a rider counted with their two-wheeler: any
    /// vehicle found 0.96 instead of 0.86 of the time, at precision 0.67 instead of 0.72)
    /// at 2.2x the detector's time, and fewer large, near persons (doc/models.md "768 x 448
    /// on request"). Recorded per source; the report quotes the measured figures of the model
    /// each source was analysed with.
    #[arg(long, default_value = "auto", value_parser = super::detect::parse_detector_input)]
    pub detector_input: vigie_app::bench::InputChoice,
    /// Scene file (TOML) with the camera's zones and lines (format: see ARCHITECTURE.md).
    #[arg(long)]
    pub scene: Option<PathBuf>,
    /// (Moved: a source's camera is recorded at ingest, `vigie camera set` changes it.)
    #[arg(long, hide = true)]
    pub camera: Option<String>,
    /// Re-analyse sources that are already in the index.
    #[arg(long)]
    pub force: bool,
    /// Sources analysed in parallel (each already uses a decoder thread and a detector).
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Detector device: cpu, or cuda[:N] when built with the `cuda` feature.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Disable the motion gate (run the detector on every sampled frame).
    #[arg(long)]
    pub no_gate: bool,
    #[command(flatten)]
    pub decode: AnalyzeDecodeFlags,
    /// Do not read licence plates (they are read with the nanodet detector only, on cars,
    /// trucks, buses and motorcycles seen at least --plate-min-width pixels wide).
    #[arg(long)]
    pub no_plates: bool,
    /// Narrowest vehicle box, in source pixels, whose plate is read.
    #[arg(long, default_value_t = 160.0)]
    pub plate_min_width: f32,
    #[command(flatten)]
    pub plate: super::plates::PlateFlags,
    /// Analyse only share I of N (0-based, as a scheduler's array index) of the sources,
    /// into `<case>/shards/RUN/`, signed with this node's key; `vigie merge` imports it.
    #[arg(long, value_name = "I/N", requires = "run")]
    pub shard: Option<vigie_app::shard::ShardSpec>,
    /// The run a shard belongs to (the same for every shard and for the merge, e.g.
    /// slurm-$SLURM_ARRAY_JOB_ID).
    #[arg(long, requires = "shard")]
    pub run: Option<String>,
    /// This node's signing key (default ~/.config/vigie/node.ed25519; `vigie node init`).
    #[arg(long, requires = "shard")]
    pub node_key: Option<PathBuf>,
}

/// Decoding flags with analysis defaults (10 fps, 640 px).
#[derive(Debug, Clone, clap::Args)]
pub struct AnalyzeDecodeFlags {
    /// Which frames to analyse: a frame rate such as 10fps, all, nonref or keyframes.
    #[arg(long, default_value = "10fps")]
    pub sampling: vigie_core::SamplingMode,
    /// Working width in pixels, or `native`.
    #[arg(long, default_value = "640", value_parser = super::decode::parse_width)]
    pub width: vigie_decode::OutputSize,
    /// Decoder threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// Progress bars, one per source being analysed.
struct Bars {
    multi: MultiProgress,
    bars: Mutex<std::collections::HashMap<String, (ProgressBar, std::time::Instant, u64)>>,
}

impl vigie_app::Progress for Bars {
    fn begin(&self, unit: &str, total_ms: Option<u64>) {
        let bar = self.multi.add(ProgressBar::new(total_ms.unwrap_or(0)));
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {percent:>3}% {msg} eta {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(unit.to_owned());
        self.bars
            .lock()
            .expect("bars")
            .insert(unit.to_owned(), (bar, std::time::Instant::now(), 0));
    }
    fn frame(&self, unit: &str, pts_ms: i64) {
        if let Some((bar, t0, n)) = self.bars.lock().expect("bars").get_mut(unit) {
            *n += 1;
            bar.set_position(pts_ms.max(0) as u64);
            if n.is_multiple_of(10) {
                let fps = *n as f64 / t0.elapsed().as_secs_f64().max(1e-6);
                bar.set_message(format!("{fps:.1} fps"));
            }
        }
    }
    fn end(&self, unit: &str, _ok: bool) {
        if let Some((bar, _, _)) = self.bars.lock().expect("bars").remove(unit) {
            bar.finish_and_clear();
        }
    }
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    if let Some(c) = &args.camera {
        anyhow::bail!(
            "--camera is no longer an analysis flag: a source's camera is recorded at ingest \
             (`vigie ingest --camera {c}`); for sources already ingested, \
             `vigie camera set {c} SOURCE...` assigns it (logged) and re-times the index"
        );
    }
    let case = global.enter(if args.shard.is_some() {
        "analyze --shard"
    } else {
        "analyze"
    })?;
    let req = AnalyzeRequest {
        sources: args.sources,
        all: args.all,
        detector: args.detector.into(),
        detector_precision: args.detector_precision,
        detector_input: args.detector_input,
        scene: args.scene,
        force: args.force,
        jobs: args.jobs,
        device: args.device,
        motion_gate: !args.no_gate,
        sampling: args.decode.sampling,
        width: args.decode.width,
        decoder_threads: args.decode.threads,
        plates: (!args.no_plates).then(|| args.plate.options()),
        plate_min_width_px: args.plate_min_width,
    };
    let bars = Bars {
        multi: if global.progress() {
            MultiProgress::new()
        } else {
            MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
        },
        bars: Mutex::new(Default::default()),
    };
    if let (Some(shard), Some(run)) = (args.shard, args.run) {
        let sreq = vigie_app::shard::ShardRequest {
            shard,
            run,
            node_key: args
                .node_key
                .unwrap_or_else(vigie_app::nodes::NodeKey::default_path),
            analyze: req,
        };
        let out = vigie_app::shard::run_shard(case, &sreq, &bars)?;
        if global.json {
            print_json(&out.to_json())?;
        } else {
            for s in &out.record.sources {
                match &s.error {
                    None => outln!("{}: {} track(s)", s.source_id, s.tracks),
                    Some(e) => outln!("{}: {} ({e})", s.source_id, s.status),
                }
            }
            outln!(
                "shard {} of run {}: {} source(s) of {} in the plan -> {}",
                out.record.shard,
                out.record.run,
                out.record.assigned.len(),
                out.record.plan_sources.len(),
                out.dir.display()
            );
        }
        return Ok(if out.complete() {
            Outcome::Success
        } else {
            Outcome::Partial
        });
    }
    let out = analyze_sources(&case, &req, &bars)?;
    if global.json {
        print_json(&out.to_json(case.case_id()))?;
    } else {
        for d in &out.analysed {
            outln!(
                "{}: {} track(s), {} frame(s) analysed in {:.1} s ({:.1}x realtime)",
                d.source_id,
                d.tracks,
                d.frames_analysed,
                d.seconds,
                d.realtime_factor
            );
            for w in &d.warnings {
                eprintln!("vigie: warning: {}: {w}", d.source_id);
            }
        }
        for s in &out.skipped_already_analysed {
            outln!("{s}: already analysed (use --force to redo)");
        }
    }
    for (s, e) in &out.failed {
        eprintln!("vigie: failed: {s}: {e}");
    }
    let mut failed = out.failed;
    Ok(
        match (
            out.analysed.len() + out.skipped_already_analysed.len(),
            failed.len(),
        ) {
            (_, 0) => Outcome::Success,
            (0, _) => return Err(failed.remove(0).1.into()),
            _ => Outcome::Partial,
        },
    )
}
