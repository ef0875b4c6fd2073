//! `vigie frame --source S --at T -o f.png`: export one frame, to draw zones and lines on
//! (`vigie_app::results::frame`, a disclosure with the file's hash). A bare file name
//! lands in the case's `exports/`.

use std::path::PathBuf;

use serde_json::json;
use vigie_app::results::{self, FrameRequest};

use crate::output::{print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source id (from `vigie sources`) or the path of a registered file.
    #[arg(long)]
    pub source: String,
    /// When: seconds from the start (`12.5`), `MM:SS` or `HH:MM:SS`, or a wall-clock time
    /// (RFC 3339 with offset) when the source's start time is known.
    #[arg(long)]
    pub at: String,
    /// Output PNG file. A bare name is written in the case's exports/ directory (erased
    /// at closure).
    #[arg(short, long)]
    pub output: PathBuf,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let case = global.enter("frame")?;
    let out = results::frame(
        &case,
        &FrameRequest {
            source: args.source,
            at: args.at,
            output: args.output,
        },
    )?;
    if global.json {
        print_json(&json!({
            "sha256": out.file.sha256,
            "source_id": out.record.source_id, "pts_ms": out.pts_ms, "wall_ms": out.wall_ms,
            "width": out.width_px, "height": out.height_px, "output": out.target.path,
            "inside_case": out.target.inside_case,
        }))?;
    } else {
        println!(
            "{}: frame at {:.3} s ({}x{}) written to {}",
            out.record.source_id,
            out.pts_ms as f64 / 1000.0,
            out.width_px,
            out.height_px,
            out.target.path.display()
        );
    }
    Ok(Outcome::Success)
}
