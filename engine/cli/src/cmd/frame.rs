//! `vigie frame --source S --at T -o f.png`: export one frame, redacted by default (every
//! object masked but those given with `--keep`, with the procedure mark), a disclosure
//! with the file's hash (`vigie_app::results::frame`). `--unredacted --justification
//! TEXT` shows everything, logged as an unredacted disclosure. A bare file name lands in
//! the case's `exports/`.

use std::path::PathBuf;

use serde_json::json;
use vigie_app::redact::Unredacted;
use vigie_app::results::{self, FrameRequest};

use crate::output::{outln, print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source id (from `vigie sources`) or the path of a registered file.
    #[arg(long)]
    pub source: String,
    /// When: seconds from the start (`12.5`), `MM:SS` or `HH:MM:SS`, or a wall-clock time
    /// (RFC 3339 with offset) when the source's start time is known.
    #[arg(long, allow_negative_numbers = true)]
    pub at: String,
    /// Output PNG file. A bare name is written in the case's exports/ directory (erased
    /// at closure).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Tracks of the source to leave clear (by default every object is masked).
    #[arg(long, value_name = "TRACK", num_args = 1..)]
    pub keep: Vec<u64>,
    /// Do not redact (e.g. to draw zones on an unanalysed camera). Needs
    /// --justification; recorded as an unredacted disclosure.
    #[arg(long)]
    pub unredacted: bool,
    /// Why this export must be unredacted (recorded with it).
    #[arg(long, value_name = "TEXT")]
    pub justification: Option<String>,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let unredacted = Unredacted::from_flags(args.unredacted, args.justification.as_deref())?;
    let case = global.enter("frame")?;
    let out = results::frame(
        &case,
        &FrameRequest {
            source: args.source,
            at: args.at,
            output: args.output,
            keep: args.keep,
            unredacted,
        },
    )?;
    if global.json {
        print_json(&json!({
            "sha256": out.file.sha256,
            "source_id": out.record.source_id, "pts_ms": out.pts_ms, "wall_ms": out.wall_ms,
            "width": out.width_px, "height": out.height_px, "output": out.target.path,
            "inside_case": out.target.inside_case,
            "redacted": out.redaction.is_some(),
            "redaction": out.redaction.as_ref().map(|r| r.detail()),
            "objects_redacted": out.redaction.as_ref().map(|r| r.figures.objects_redacted),
        }))?;
    } else {
        outln!(
            "{}: frame at {:.3} s ({}x{}) written to {}",
            out.record.source_id,
            out.pts_ms as f64 / 1000.0,
            out.width_px,
            out.height_px,
            out.target.path.display()
        );
        match &out.redaction {
            Some(r) => {
                outln!(
                    "objects redacted: {} ({:.1}% of pixels masked, {:.1}% by the motion mask)",
                    r.figures.objects_redacted,
                    100.0 * r.figures.masked_pixel_share,
                    100.0 * r.figures.motion_masked_pixel_share
                );
                outln!("plates: {}", super::clip::plates_line(&r.plates));
            }
            None => outln!("UNREDACTED: recorded as an unredacted disclosure"),
        }
    }
    Ok(Outcome::Success)
}
