//! `vigie ingest PATH...`: hash, probe and register footage as evidence of the case.
//!
//! The work is `vigie_app::evidence::ingest` (files hashed in parallel, a bad file
//! reported and the batch going on); this module turns flags into a request, shows a
//! progress bar counting files, and prints what was registered.

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use vigie_app::evidence::{self, IngestRequest};

use crate::output::{outln, print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories (walked recursively; inside directories only video extensions
    /// such as .mp4 .mkv .avi .h264 .h265 are taken).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Wall-clock time of the first frame, for files whose container has no
    /// `creation_time` (RFC 3339 with offset, e.g. 2024-06-01T14:00:00+02:00).
    #[arg(long, value_parser = parse_start)]
    pub start: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Hashing threads (default: one per core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Frame rate of raw elementary streams (.h264, .h265), which carry no timestamps:
    /// their frames are timed from it (default: the rate the stream declares, else 25).
    #[arg(long)]
    pub fps: Option<f64>,
    /// A healthy export of the same recorder: its parameter sets let an export cut before
    /// its index (moov) be salvaged when the stream does not repeat them.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// The camera the files belong to. Without it, a camera is proposed per file from its
    /// export folder and channel (`ch02`...), recorded as proposed: confirm or change it
    /// with `vigie camera set`.
    #[arg(long)]
    pub camera: Option<String>,
}

pub fn parse_start(s: &str) -> Result<chrono::DateTime<chrono::FixedOffset>, String> {
    vigie_core::parse_wall_clock(s).map_err(|e| e.to_string())
}

/// A terminal bar counting the files of the batch.
struct FileBar(ProgressBar);

impl vigie_app::Progress for FileBar {
    fn end(&self, unit: &str, _ok: bool) {
        self.0.inc(1);
        self.0.set_message(unit.to_owned());
    }
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let case = global.enter("ingest")?;
    let bar = if global.progress() {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{spinner} hashing {pos} file(s) {msg}")
                .expect("valid template"),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let req = IngestRequest {
        paths: args.paths,
        start: args.start,
        fps: args.fps,
        reference: args.reference,
        jobs: args.jobs,
        camera: args.camera,
        // The operator names the files on this machine: any path they can read.
        confine_to: Vec::new(),
    };
    let out = evidence::ingest(&case, &req, &FileBar(bar.clone()));
    bar.finish_and_clear();
    let mut out = out?;
    let case_id = case.case_id();

    if global.json {
        print_json(&json!({
            "case": case_id,
            "ingested": out.ingested.iter().map(|i| json!({
                "source": i.record,
                "already_present": i.already_present,
                "registered_path": i.registered_path,
                "camera": i.camera,
                "camera_confirmed": i.camera_confirmed,
            })).collect::<Vec<_>>(),
            "failed": out.failed.iter().map(|f| json!({
                "path": f.path,
                "error": evidence::error_chain(&f.error),
            })).collect::<Vec<_>>(),
            "skipped": out.skipped.iter().map(|(p, why)| json!({
                "path": p,
                "why": why,
            })).collect::<Vec<_>>(),
        }))?;
    } else {
        for i in &out.ingested {
            let r = &i.record;
            let note = match (&i.registered_path, i.already_present) {
                (Some(first), _) => format!(" (already registered from {})", first.display()),
                (None, true) => " (already registered)".to_owned(),
                (None, false) => String::new(),
            };
            if let Some(s) = &r.salvage {
                eprintln!(
                    "vigie: warning: {}: cut before its index; {} video units salvaged (parameter sets from the {}; {} bytes unreadable), the original untouched (sha256 {})",
                    r.source_id, s.nal_units, s.parameter_sets, s.bytes_skipped, r.sha256
                );
            }
            outln!(
                "{}  {}  {} {}x{} {}{}  {}  camera {}{}",
                r.source_id,
                &r.sha256[..16],
                r.meta.codec,
                r.meta.width,
                r.meta.height,
                r.meta
                    .duration_ms
                    .map(|d| format!("{:.1}s", d as f64 / 1000.0))
                    .unwrap_or_else(|| "?s".into()),
                note,
                r.path.display(),
                i.camera,
                if i.camera_confirmed {
                    ""
                } else {
                    " (proposed)"
                }
            );
        }
        for (p, why) in &out.skipped {
            outln!("skipped: {} ({why})", p.display());
        }
        if out.ingested.iter().any(|i| !i.camera_confirmed) {
            outln!(
                "cameras marked (proposed) were taken from folder and channel names: confirm or change them with `vigie camera set CAMERA SOURCE...`"
            );
        }
        let known = out.ingested.iter().filter(|i| i.already_present).count();
        outln!(
            "{} source(s) registered in case {}{}, {} failed, {} skipped (not recordings)",
            out.ingested.len() - known,
            case_id,
            if known > 0 {
                format!(" ({known} already registered)")
            } else {
                String::new()
            },
            out.failed.len(),
            out.skipped.len()
        );
    }
    for f in &out.failed {
        eprintln!(
            "vigie: failed: {}: {}",
            evidence::error_chain(&f.error),
            f.path.display()
        );
    }
    Ok(match (out.ingested.is_empty(), out.failed.is_empty()) {
        (_, true) => Outcome::Success,
        (false, false) => Outcome::Partial,
        (true, false) => {
            let first = out.failed.remove(0);
            return Err(first.error.into());
        }
    })
}
