//! `vigie synopsis --source S -o out.mp4 [search filters]`: the source's objects condensed
//! into a short video over the empty scene, each labelled with its time and track id, with
//! a JSON index and a WebVTT track leading back to the original footage.
//!
//! Order matters as in `vigie search`: the filters are validated and the outputs checked
//! before any work; the synopsis is a combination of the case's data (logged with its
//! parameters and figures), and the files written are a disclosure (logged with their
//! SHA-256) before anything is reported as done. The work is
//! `vigie_app::results::synopsis`; a bare `-o` name lands in the case's `exports/`.

use std::path::PathBuf;

use serde_json::json;
use vigie_app::results::{self, SynopsisOptions, SynopsisRequest};

use crate::output::{print_json, Outcome};
use crate::Global;

/// Condense a source's objects into a short video (a synopsis), optionally only those
/// matching search filters.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Writes OUT.mp4 (H.264), OUT.json (every object: source, track, original times, where it is
shown) and OUT.vtt (the same as WebVTT cues). Filters are those of `vigie search`.

No object is dropped: an object longer than the synopsis is cut into segments (at least
--min-segment-s) shown at the same time, each labelled with its own time (14:02:10 #12 2/3);
an object standing still for 3 s or more is shown in the background while the source time
passes its stationary stretch (labelled from-to #id) and listed with it in OUT.json. In a
filtered synopsis the objects not selected are never visible (filled opaque in the background
where they stood still).

Examples:
  vigie synopsis --source cam1 -o cam1-synopsis.mp4
  vigie synopsis --source cam1 --max-length-s 60 --max-objects 12 -o dense.mp4
  vigie synopsis --source cam1 --class car --colour red -o red-cars.mp4 --keep-order")]
pub struct Args {
    /// Source id (from `vigie sources`) or path.
    #[arg(long)]
    pub source: String,
    /// Output video (.mp4); OUT.json and OUT.vtt are written next to it. A bare name is
    /// written in the case's exports/ directory (erased at closure).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Target synopsis length in seconds (default: the shortest that keeps collisions
    /// under --max-collisions).
    #[arg(long, value_name = "SECONDS")]
    pub length_s: Option<f64>,
    /// Collision budget for the automatic length: share of object area overlapping
    /// another object (0..1).
    #[arg(long, default_value_t = 0.05, value_name = "SHARE")]
    pub max_collisions: f64,
    /// Longest automatic length in seconds (the figures say which collision rate it
    /// gave).
    #[arg(long, value_name = "SECONDS", conflicts_with = "length_s")]
    pub max_length_s: Option<f64>,
    /// At most this many objects on screen at once (density).
    #[arg(long, value_name = "N")]
    pub max_objects: Option<usize>,
    /// Shortest segment a long object is cut into, seconds.
    #[arg(long, default_value_t = 3.0, value_name = "SECONDS")]
    pub min_segment_s: f64,
    /// Keep the chronological order of objects (an object never starts before one that
    /// appeared before it).
    #[arg(long)]
    pub keep_order: bool,
    #[command(flatten)]
    pub filters: super::search::FilterArgs,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let case = global.enter("synopsis")?;
    let req = SynopsisRequest {
        filters: args.filters.any().then(|| args.filters.query_args(None)),
        source: args.source,
        output: args.output,
        length_s: args.length_s,
        max_collisions: args.max_collisions,
        keep_order: args.keep_order,
    };
    let opts = SynopsisOptions {
        max_length_s: args.max_length_s,
        max_objects: args.max_objects,
        min_segment_s: Some(args.min_segment_s),
    };
    let out = results::synopsis_with(&case, &req, &opts)?;
    let f = &out.figures;
    let hashes: Vec<_> = out
        .files
        .iter()
        .map(|h| {
            json!({ "file": h.path, "sha256": h.sha256, "size_bytes": h.size_bytes,
                    "inside_case": h.inside_case })
        })
        .collect();
    if global.json {
        print_json(&json!({
            "output": out.video.path,
            "index": out.index.path,
            "webvtt": out.webvtt.path,
            "inside_case": out.video.inside_case,
            "files": hashes,
            "figures": f,
            "tubes": out.entries,
        }))?;
        return Ok(Outcome::Success);
    }
    println!(
        "synopsis of {}: {} -> {}",
        out.record.source_id,
        out.video.path.display(),
        out.files[0].sha256
    );
    println!(
        "  index {}, WebVTT {}",
        out.index.path.display(),
        out.webvtt.path.display()
    );
    println!(
        "  source {:.1} s -> synopsis {:.1} s: condensation {:.1}x",
        f.source_duration_ms as f64 / 1000.0,
        f.synopsis_duration_ms as f64 / 1000.0,
        f.condensation
    );
    println!(
        "  collisions {:.1}% of object pixels ({} the {:.1}% budget; planned {:.1}%)",
        f.collision_rate * 100.0,
        if f.collision_within_budget {
            "within"
        } else {
            "over"
        },
        f.max_collision * 100.0,
        f.box_collision * 100.0
    );
    println!(
        "  objects shown {} / selected {}: {} moving segments ({} objects cut into {} \
         segments), {} stationary stretches in the background (objects only there: {})",
        f.objects_shown,
        f.objects_selected,
        f.segments_shown,
        f.objects_cut,
        f.segments_cut,
        f.stationary_stretches,
        f.objects_stationary_only
    );
    println!(
        "  at most {} objects at once{}{}",
        f.max_objects_at_once,
        f.max_objects
            .map(|m| format!(" (cap {m})"))
            .unwrap_or_default(),
        if f.objects_redacted > 0 {
            format!(
                "; {} unselected objects filled opaque in the background",
                f.objects_redacted
            )
        } else {
            String::new()
        }
    );
    println!(
        "  render {:.0} fps vs source decode {:.0} fps; render {:.1} s vs decode {:.1} s ({:.2}x)",
        f.render_fps, f.decode_fps, f.render_s, f.decode_s, f.render_vs_decode
    );
    println!(
        "  steps: background {:.1} s, cut-out {:.1} s, plan {:.1} s, render {:.1} s",
        f.background_s, f.extract_s, f.plan_s, f.render_s
    );
    Ok(Outcome::Success)
}
