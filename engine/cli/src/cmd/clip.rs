//! `vigie clip --track N -o out.mp4`: export the source segment where a track appears, by
//! stream copy (the original pixels), with its SHA-256, logged as a disclosure
//! (`vigie_app::results::clip`). A bare file name lands in the case's `exports/`.

use std::path::PathBuf;

use serde_json::json;
use vigie_app::results::{self, ClipRequest};

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
    /// Output file (.mp4, .mkv, .mov, .ts; use .mkv for codecs MP4 cannot hold). A bare
    /// name is written in the case's exports/ directory (erased at closure).
    #[arg(short, long)]
    pub output: PathBuf,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let case = global.enter("clip")?;
    let out = results::clip(
        &case,
        &ClipRequest {
            track_id: args.track,
            source: args.source,
            margin_s: args.margin,
            output: args.output,
        },
    )?;
    let record = &out.record;
    let wall = |ms: i64| {
        record
            .meta
            .start_time
            .and_then(|s| chrono::DateTime::from_timestamp_millis(s.epoch_ms() + ms))
            .map(|t| t.to_rfc3339())
    };
    let (start_ms, end_ms) = (out.report.start_ms, out.report.end_ms);
    if global.json {
        print_json(&json!({
            "output": out.target.path, "sha256": out.file.sha256, "size_bytes": out.file.size_bytes,
            "inside_case": out.target.inside_case,
            "source_id": record.source_id, "track_id": out.track.track_id,
            "start_ms": start_ms, "end_ms": end_ms,
            "start_wall": wall(start_ms), "end_wall": wall(end_ms),
        }))?;
    } else {
        println!(
            "track {} of {}: {:.1}-{:.1} s copied to {} (sha256 {})",
            out.track.track_id,
            record.source_id,
            start_ms as f64 / 1000.0,
            end_ms as f64 / 1000.0,
            out.target.path.display(),
            out.file.sha256
        );
    }
    Ok(Outcome::Success)
}
