//! `vigie synopsis --source S -o out.mp4 [search filters]`: the source's objects condensed
//! into a short video over the empty scene, each labelled with its time and track id, with
//! a JSON index and a WebVTT track leading back to the original footage.
//! `vigie synopsis --camera NAME [--from T --to T]`: every file of the camera (or a time
//! range across them) on one timeline ordered by corrected wall clock.
//!
//! Order matters as in `vigie search`: the filters are validated and the outputs checked
//! before any work; the synopsis is a combination of the case's data (logged with its
//! parameters and figures), and the files written are a disclosure (logged with their
//! SHA-256) before anything is reported as done. The work is
//! `vigie_app::synopsis` (`synopsis_with`, `camera_synopsis_with`); a bare `-o` name lands
//! in the case's `exports/`.

use std::path::PathBuf;

use serde_json::json;
use vigie_app::synopsis::{self, CameraSynopsisRequest, SynopsisOptions, SynopsisRequest};
use vigie_app::types::{Figures, FileHash};

use crate::output::{outln, print_json, Outcome};
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
passes its stationary stretch (at least --still-show-min-s; labelled from-to #id) and listed
with it in OUT.json. In a filtered synopsis the objects not selected are never visible (filled
opaque in the background where they stood still).

With --camera instead of --source: every file of the camera with a wall-clock start, ordered by
its corrected clock (`vigie clock set`), cut to --from..--to when given, on one timeline; each
file's own background is shown while the timeline passes through it and each object stays near
its own time of day. Files without a wall-clock start are left out and named (give them a clock,
or make their own synopsis with --source: labelled with media time).

Examples:
  vigie synopsis --source cam1 -o cam1-synopsis.mp4
  vigie synopsis --source cam1 --max-length-s 60 --max-objects 12 -o dense.mp4
  vigie synopsis --source cam1 --class car --colour red -o red-cars.mp4 --keep-order
  vigie synopsis --camera hall --from 2024-06-01T08:00:00+02:00 --to 2024-06-01T12:00:00+02:00 \
      --class person -o hall-morning.mp4")]
pub struct Args {
    /// Source id (from `vigie sources`) or path; or --camera NAME for every file of a
    /// camera.
    #[arg(long, required_unless_present = "camera", conflicts_with = "camera")]
    pub source: Option<String>,
    /// Output video (.mp4); OUT.json and OUT.vtt are written next to it. A bare name is
    /// written in the case's exports/ directory (erased at closure).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Target synopsis length in seconds (default: the shortest that keeps collisions
    /// under --max-collisions).
    #[arg(long, allow_negative_numbers = true, value_name = "SECONDS")]
    pub length_s: Option<f64>,
    /// Collision budget for the automatic length: share of object pixels overlapping
    /// another object's shown at another relative time than in the footage (0..1;
    /// objects that were together are shown together, and their overlap is the
    /// footage's own, printed apart), checked on the pixels of the plans tried (on the planning
    /// grid alone with --keep-order); the figures say whether it was met.
    #[arg(
        long,
        allow_negative_numbers = true,
        default_value_t = 0.05,
        value_name = "SHARE"
    )]
    pub max_collisions: f64,
    /// Longest automatic length in seconds (the figures say which collision rate it
    /// gave).
    #[arg(
        long,
        allow_negative_numbers = true,
        value_name = "SECONDS",
        conflicts_with = "length_s"
    )]
    pub max_length_s: Option<f64>,
    /// At most this many objects on screen at once (density).
    #[arg(long, value_name = "N")]
    pub max_objects: Option<usize>,
    /// Shortest segment a long object is cut into, seconds.
    #[arg(
        long,
        allow_negative_numbers = true,
        default_value_t = 3.0,
        value_name = "SECONDS"
    )]
    pub min_segment_s: f64,
    /// Shortest time a standing object (shown as part of the background) stays on screen,
    /// seconds; longer stops stay as long as the background takes to pass them.
    #[arg(
        long,
        allow_negative_numbers = true,
        default_value_t = vigie_synopsis::DEFAULT_STILL_SHOW_MIN_MS as f64 / 1000.0,
        value_name = "SECONDS"
    )]
    pub still_show_min_s: f64,
    /// Objects whose boxes touch for at least this long (and half the time both are in
    /// view: walking or standing together) are shown together, with their own relative
    /// timing, seconds; 0: every object placed on its own.
    #[arg(
        long,
        allow_negative_numbers = true,
        default_value_t = vigie_synopsis::group::GroupRule::default().min_together_ms as f64 / 1000.0,
        value_name = "SECONDS"
    )]
    pub together_s: f64,
    /// Show moving objects this many times faster than they moved (1: at their own pace).
    /// A dense scene then condenses further at the same collisions; labels keep each
    /// frame's real time and read `XN`. Standing objects are background, unaffected.
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=vigie_synopsis::MAX_OBJECT_SPEED as i64))]
    pub object_speed: u32,
    /// Keep the chronological order of objects (an object never starts before one that
    /// appeared before it).
    #[arg(long)]
    pub keep_order: bool,
    #[command(flatten)]
    pub filters: super::search::FilterArgs,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let case = global.enter("synopsis")?;
    let opts = SynopsisOptions {
        max_length_s: args.max_length_s,
        max_objects: args.max_objects,
        min_segment_s: Some(args.min_segment_s),
        still_show_min_s: Some(args.still_show_min_s),
        together_s: Some(args.together_s),
        object_speed: Some(args.object_speed),
    };
    let Some(source) = args.source.clone() else {
        return run_camera(&case, args, &opts, global);
    };
    let req = SynopsisRequest {
        filters: args.filters.any().then(|| args.filters.query_args(None)),
        source,
        output: args.output,
        length_s: args.length_s,
        max_collisions: args.max_collisions,
        keep_order: args.keep_order,
    };
    let out = synopsis::synopsis_with(&case, &req, &opts)?;
    let hashes = hashes(&out.files);
    if global.json {
        print_json(&json!({
            "output": out.video.path,
            "index": out.index.path,
            "webvtt": out.webvtt.path,
            "inside_case": out.video.inside_case,
            "files": hashes,
            "figures": out.figures,
            "tubes": out.entries,
        }))?;
        return Ok(Outcome::Success);
    }
    outln!(
        "synopsis of {}: {} -> {}",
        out.record.source_id,
        out.video.path.display(),
        out.files[0].sha256
    );
    outln!(
        "  index {}, WebVTT {}",
        out.index.path.display(),
        out.webvtt.path.display()
    );
    print_figures(&out.figures);
    Ok(Outcome::Success)
}

fn hashes(files: &[FileHash]) -> Vec<serde_json::Value> {
    files
        .iter()
        .map(|h| {
            json!({ "file": h.path, "sha256": h.sha256, "size_bytes": h.size_bytes,
                    "inside_case": h.inside_case })
        })
        .collect()
}

fn run_camera(
    case: &vigie_app::EnteredCase,
    args: Args,
    opts: &SynopsisOptions,
    global: &Global,
) -> anyhow::Result<Outcome> {
    let req = CameraSynopsisRequest {
        filters: args.filters.query_args(None),
        output: args.output,
        length_s: args.length_s,
        max_collisions: args.max_collisions,
        keep_order: args.keep_order,
    };
    let out = synopsis::camera_synopsis_with(case, &req, opts)?;
    if global.json {
        print_json(&json!({
            "camera": out.camera,
            "output": out.video.path,
            "index": out.index.path,
            "webvtt": out.webvtt.path,
            "inside_case": out.video.inside_case,
            "files": hashes(&out.files),
            "sources": out.sources,
            "left_out": out.left_out,
            "figures": out.figures,
            "tubes": out.entries,
        }))?;
        return Ok(Outcome::Success);
    }
    outln!(
        "synopsis of camera {} ({} files): {} -> {}",
        out.camera,
        out.sources.len(),
        out.video.path.display(),
        out.files[0].sha256
    );
    outln!(
        "  index {}, WebVTT {}",
        out.index.path.display(),
        out.webvtt.path.display()
    );
    for s in &out.sources {
        outln!(
            "  {}  {} .. {}  ({:.1}-{:.1} s of the file, {} objects)  sha256 {}",
            s.source_id,
            s.from_wall.as_deref().unwrap_or("?"),
            s.to_wall.as_deref().unwrap_or("?"),
            s.from_ms as f64 / 1000.0,
            s.to_ms as f64 / 1000.0,
            s.tracks.len(),
            s.source_sha256
        );
    }
    for l in &out.left_out {
        eprintln!("vigie: note: {} left out: {}", l.source_id, l.why);
    }
    print_figures(&out.figures);
    Ok(Outcome::Success)
}

fn print_figures(f: &Figures) {
    outln!(
        "  {} source{} {:.1} s -> synopsis {:.1} s: condensation {:.1}x",
        f.sources,
        if f.sources == 1 { "" } else { "s" },
        f.source_duration_ms as f64 / 1000.0,
        f.synopsis_duration_ms as f64 / 1000.0,
        f.condensation
    );
    if f.object_speed > 1 {
        outln!(
            "  moving objects shown {}x faster than they moved (labels: real time, X{})",
            f.object_speed,
            f.object_speed
        );
    }
    outln!(
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
    outln!(
        "  overlaps as in the footage {:.1}% of object pixels ({} group{} of objects that \
         were together, each shown together)",
        f.footage_overlap_rate * 100.0,
        f.groups,
        if f.groups == 1 { "" } else { "s" }
    );
    outln!(
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
    outln!(
        "  at most {} objects at once{}; {} unselected objects redacted",
        f.max_objects_at_once,
        f.max_objects
            .map(|m| format!(" (cap {m})"))
            .unwrap_or_default(),
        f.objects_redacted
    );
    outln!(
        "  render {:.0} fps vs source decode {:.0} fps; render {:.1} s vs decode {:.1} s ({:.2}x)",
        f.render_fps,
        f.decode_fps,
        f.render_s,
        f.decode_s,
        f.render_vs_decode
    );
    outln!(
        "  steps: background {:.1} s, cut-out {:.1} s, plan {:.1} s, render {:.1} s",
        f.background_s,
        f.extract_s,
        f.plan_s,
        f.render_s
    );
}
