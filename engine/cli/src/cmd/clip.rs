//! `vigie clip --track N -o out.mp4`: export the source segment where a track appears, by
//! stream copy (the original pixels), with its SHA-256, logged as a disclosure.

use std::path::PathBuf;

use anyhow::{bail, Context};
use serde_json::json;
use vigie_index::{Index, INDEX_FILE_NAME};

use super::workspace::Workspace;
use crate::output::{print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Track id (as printed by `vigie search`).
    #[arg(long)]
    pub track: u64,
    /// Source id, when several sources have a track with this id.
    #[arg(long)]
    pub source: Option<String>,
    /// Seconds of context kept before and after the track.
    #[arg(long, default_value_t = 2.0)]
    pub margin: f64,
    /// Output file (.mp4, .mkv, .mov, .ts; use .mkv for codecs MP4 cannot hold).
    #[arg(short, long)]
    pub output: PathBuf,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let ws = Workspace::enter(global)?;
    if !(0.0..=600.0).contains(&args.margin) {
        bail!(
            "invalid --margin {} (expected 0 to 600 seconds)",
            args.margin
        );
    }
    let index_path = ws.derived_dir().join(INDEX_FILE_NAME);
    let index = Index::open_existing(&index_path)
        .context("no index in this case yet: run `vigie analyze` first")?;
    let source_filter = match &args.source {
        Some(s) => Some(ws.registry.find(s)?.source_id),
        None => None,
    };
    let hits = index.tracks_by_id(source_filter.as_deref(), args.track)?;
    let track = match hits.as_slice() {
        [] => bail!(
            "no track {} in this case's index (see `vigie search`)",
            args.track
        ),
        [one] => one.clone(),
        many => bail!(
            "track id {} exists in several sources ({}); choose one with --source",
            args.track,
            many.iter()
                .map(|t| t.source_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let record = ws.registry.find(&track.source_id)?;
    ws.verify_source(&record)?;
    let margin_ms = (args.margin * 1000.0) as i64;
    let start = (track.first_pts_ms - margin_ms).max(0);
    let end = track.last_pts_ms + margin_ms;
    let report = vigie_decode::export_segment(
        &record.path,
        Some(record.meta.stream_index),
        start,
        end,
        &args.output,
    )?;
    let (sha256, size) = vigie_evidence::hash_file(&args.output, |_| {})?;
    ws.log(
        vigie_audit::Action::Disclosure,
        json!({
            "command": "clip", "source_id": record.source_id, "source_sha256": record.sha256,
            "track_id": track.track_id, "start_ms": report.start_ms, "end_ms": report.end_ms,
            "output": args.output,
        }),
        json!({ "sha256": sha256, "size_bytes": size, "packets": report.packets }),
    )?;
    let wall = |ms: i64| {
        record
            .meta
            .start_time
            .and_then(|s| chrono::DateTime::from_timestamp_millis(s.epoch_ms() + ms))
            .map(|t| t.to_rfc3339())
    };
    if global.json {
        print_json(&json!({
            "output": args.output, "sha256": sha256, "size_bytes": size,
            "source_id": record.source_id, "track_id": track.track_id,
            "start_ms": report.start_ms, "end_ms": report.end_ms,
            "start_wall": wall(report.start_ms), "end_wall": wall(report.end_ms),
        }))?;
    } else {
        println!(
            "track {} of {}: {:.1}-{:.1} s copied to {} (sha256 {})",
            track.track_id,
            record.source_id,
            report.start_ms as f64 / 1000.0,
            report.end_ms as f64 / 1000.0,
            args.output.display(),
            sha256
        );
    }
    Ok(Outcome::Success)
}
