//! `vigie synopsis --source S -o out.mp4 [search filters]`: the source's objects condensed
//! into a short video over the empty scene, each labelled with its time and track id, with
//! a JSON index and a WebVTT track leading back to the original footage.
//!
//! Order matters as in `vigie search`: the filters are validated and the outputs checked
//! before any work; the synopsis is a combination of the case's data (logged with its
//! parameters and figures), and the files written are a disclosure (logged with their
//! SHA-256) before anything is reported as done.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;
use serde_json::json;
use vigie_core::BBox;
use vigie_index::{Index, Query, INDEX_FILE_NAME, MAX_LIMIT};
use vigie_synopsis::{SourceInput, SynopsisConfig, TubeInput};

use super::workspace::Workspace;
use crate::output::{print_json, Outcome};
use crate::Global;

/// Condense a source's objects into a short video (a synopsis), optionally only those
/// matching search filters.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Writes OUT.mp4 (H.264), OUT.json (every object: source, track, original times, where it is
shown) and OUT.vtt (the same as WebVTT cues). Filters are those of `vigie search`.

Examples:
  vigie synopsis --source cam1 -o cam1-synopsis.mp4
  vigie synopsis --source cam1 --class car --colour red -o red-cars.mp4 --keep-order")]
pub struct Args {
    /// Source id (from `vigie sources`) or path.
    #[arg(long)]
    pub source: String,
    /// Output video (.mp4); OUT.json and OUT.vtt are written next to it.
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
    /// Keep the chronological order of objects (an object never starts before one that
    /// appeared before it).
    #[arg(long)]
    pub keep_order: bool,
    #[command(flatten)]
    pub filters: super::search::FilterArgs,
}

#[derive(Deserialize)]
struct TubeFile {
    source_id: String,
    frame_size: (u32, u32),
    tubes: Vec<TubeRecord>,
}

#[derive(Deserialize)]
struct TubeRecord {
    track_id: u64,
    boxes: Vec<(i64, BBox)>,
}

fn sibling(output: &Path, ext: &str) -> PathBuf {
    output.with_extension(ext)
}

fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let query = Query::parse(&args.filters.query_args(Some(MAX_LIMIT.to_string())))?;
    let cfg = SynopsisConfig {
        length_ms: args.length_s.map(|s| (s * 1000.0).round() as i64),
        max_collision: args.max_collisions,
        keep_order: args.keep_order,
        ..SynopsisConfig::default()
    };
    cfg.validate()?;
    match args.output.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("mp4") => {}
        _ => bail!(
            "the synopsis must be an .mp4 file (H.264); name it e.g. synopsis.mp4: {}",
            args.output.display()
        ),
    }
    let index_out = sibling(&args.output, "json");
    let vtt_out = sibling(&args.output, "vtt");
    for p in [&args.output, &index_out, &vtt_out] {
        if p.exists() {
            bail!(
                "the output file already exists (choose another name; vigie never overwrites \
                 an output): {}",
                p.display()
            );
        }
    }
    let ws = Workspace::enter(global)?;
    let record = ws.registry.find(&args.source)?;
    let derived = ws.derived_dir();
    let index = Index::open_existing(&derived.join(INDEX_FILE_NAME))
        .context("no index in this case yet: run `vigie analyze` first")?;
    let tracks = if args.filters.any() {
        let result = index.search(&query)?;
        if result.truncated {
            bail!(
                "more than {MAX_LIMIT} tracks match; narrow the filters (e.g. --from/--to) \
                 and make several synopses"
            );
        }
        result
            .hits
            .into_iter()
            .map(|h| h.track)
            .filter(|t| t.source_id == record.source_id)
            .collect::<Vec<_>>()
    } else {
        index.tracks_of_source(&record.source_id)?
    };
    if tracks.is_empty() {
        bail!(
            "no track of source {} matches (see `vigie search`; run `vigie analyze` on it first \
             if it was never analysed)",
            record.source_id
        );
    }
    let tube_path = derived
        .join("tubes")
        .join(format!("{}.json", record.source_id));
    let tube_file: TubeFile =
        serde_json::from_slice(&std::fs::read(&tube_path).with_context(|| {
            format!(
                "no per-frame boxes for this source (analysed by an older vigie?); re-run \
                 `vigie analyze --force {}`: {}",
                record.source_id,
                tube_path.display()
            )
        })?)
        .with_context(|| {
            format!(
                "the tube file is damaged; re-run `vigie analyze --force`: {}",
                tube_path.display()
            )
        })?;
    if tube_file.source_id != record.source_id {
        bail!(
            "the tube file belongs to another source ({}); re-run `vigie analyze --force`: {}",
            tube_file.source_id,
            tube_path.display()
        );
    }
    let mut boxes: std::collections::HashMap<u64, Vec<(i64, BBox)>> = tube_file
        .tubes
        .into_iter()
        .map(|t| (t.track_id, t.boxes))
        .collect();
    let mut tubes = Vec::with_capacity(tracks.len());
    for t in &tracks {
        let Some(b) = boxes.remove(&t.track_id).filter(|b| !b.is_empty()) else {
            bail!(
                "track {} has no per-frame boxes in the tube file; re-run `vigie analyze --force {}`",
                t.track_id,
                record.source_id
            );
        };
        tubes.push(TubeInput {
            track_id: t.track_id,
            label: t.label.clone(),
            first_pts_ms: t.first_pts_ms,
            last_pts_ms: t.last_pts_ms,
            first_wall_ms: t.first_wall_ms,
            last_wall_ms: t.last_wall_ms,
            boxes: b,
        });
    }
    let last_box = tubes
        .iter()
        .filter_map(|t| t.boxes.last().map(|b| b.0))
        .max()
        .unwrap_or(0);
    let source = SourceInput {
        source_id: record.source_id.clone(),
        path: record.path.clone(),
        stream_index: Some(record.meta.stream_index),
        frame_size: tube_file.frame_size,
        duration_ms: record
            .meta
            .duration_ms
            .map(|d| d as i64)
            .unwrap_or(0)
            .max(last_box + 1),
        fps: record
            .meta
            .fps
            .filter(|f| *f > 0.0 && *f <= 240.0)
            .unwrap_or(25.0),
        start: record.meta.start_time.map(|s| s.at),
    };
    ws.verify_source(&record)?;
    std::fs::create_dir_all(&derived)
        .with_context(|| format!("cannot create {}", derived.display()))?;
    let params = json!({
        "command": "synopsis",
        "source_id": record.source_id,
        "source_sha256": record.sha256,
        "filters": if args.filters.any() { Some(query.to_args()) } else { None },
        "length_s": args.length_s,
        "max_collisions": args.max_collisions,
        "keep_order": args.keep_order,
        "output": args.output,
        "vigie_version": env!("CARGO_PKG_VERSION"),
    });
    let syn = vigie_synopsis::run(&source, &tubes, &cfg, &args.output, &derived)?;
    let f = &syn.figures;
    let index_doc = json!({
        "vigie_version": env!("CARGO_PKG_VERSION"),
        "case": ws.case_id,
        "source_id": record.source_id,
        "source_path": record.path,
        "source_sha256": record.sha256,
        "synopsis": args.output.file_name().map(|n| n.to_string_lossy().into_owned()),
        "frame_size": [source.frame_size.0, source.frame_size.1],
        "fps": source.fps,
        "filters": params["filters"],
        "figures": f,
        "tubes": syn.entries,
    });
    write_new(&index_out, &serde_json::to_vec_pretty(&index_doc)?)?;
    write_new(&vtt_out, vigie_synopsis::webvtt(&syn.entries).as_bytes())?;
    let tracks_shown: Vec<u64> = syn.entries.iter().map(|e| e.track_id).collect();
    ws.log_combination(
        params.clone(),
        json!({ "figures": f, "tracks": tracks_shown }),
    )?;
    let mut hashes = Vec::new();
    for p in [&args.output, &index_out, &vtt_out] {
        let (sha256, size) = vigie_evidence::hash_file(p, |_| {})?;
        hashes.push(json!({ "file": p, "sha256": sha256, "size_bytes": size }));
    }
    ws.log(
        vigie_audit::Action::Disclosure,
        params,
        json!({ "files": hashes, "tracks": tracks_shown }),
    )?;
    if global.json {
        print_json(&json!({
            "output": args.output,
            "index": index_out,
            "webvtt": vtt_out,
            "files": hashes,
            "figures": f,
            "tubes": syn.entries,
        }))?;
        return Ok(Outcome::Success);
    }
    println!(
        "synopsis of {}: {} -> {}",
        record.source_id,
        args.output.display(),
        hashes[0]["sha256"].as_str().unwrap_or("")
    );
    println!(
        "  index {}, WebVTT {}",
        index_out.display(),
        vtt_out.display()
    );
    println!(
        "  source {:.1} s -> synopsis {:.1} s: condensation {:.1}x",
        f.source_duration_ms as f64 / 1000.0,
        f.synopsis_duration_ms as f64 / 1000.0,
        f.condensation
    );
    println!(
        "  collisions {:.1}% of object pixels (box proxy {:.1}%)",
        f.collision_rate * 100.0,
        f.box_collision * 100.0
    );
    println!(
        "  objects shown {} / selected {}",
        f.objects_shown, f.objects_selected
    );
    println!(
        "  render {:.0} fps vs source decode {:.0} fps; render {:.1} s vs decode {:.1} s ({:.2}x)",
        f.render_fps, f.decode_fps, f.render_s, f.decode_s, f.render_vs_decode
    );
    println!(
        "  steps: background {:.1} s, cut-out {:.1} s, render {:.1} s",
        f.background_s, f.extract_s, f.render_s
    );
    Ok(Outcome::Success)
}
