//! `vigie clip --track N -o out.mp4`: export the source segment where a track appears,
//! redacted by default (every other person, plate zone and moving thing masked, re-encoded
//! as H.264 MP4 with the procedure mark), with its SHA-256 and the source segment's,
//! logged as a disclosure (`vigie_app::results::clip`). `--unredacted --justification
//! TEXT` copies the original pixels instead, logged as an unredacted disclosure. A bare
//! file name lands in the case's `exports/`. Vehicles are covered on their plate where the
//! plate detector locates it in the frame, on their lower part elsewhere: the line
//! `plates:` says how often each.

use std::path::PathBuf;

use serde_json::json;
use vigie_app::redact::Unredacted;
use vigie_app::results::{self, ClipRequest};

use crate::output::{outln, print_json, Outcome};
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
    #[arg(long, allow_negative_numbers = true, default_value_t = 2.0)]
    pub margin: f64,
    /// Output file: .mp4 (a redacted clip is H.264 MP4); with --unredacted also .mkv,
    /// .mov, .ts (use .mkv for codecs MP4 cannot hold). A bare name is written in the
    /// case's exports/ directory (erased at closure).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Other tracks of the same source to leave clear (everything else is masked).
    #[arg(long, value_name = "TRACK", num_args = 1..)]
    pub keep: Vec<u64>,
    /// Do not redact: copy the original segment (bystanders and plates shown). Needs
    /// --justification; recorded as an unredacted disclosure.
    #[arg(long)]
    pub unredacted: bool,
    /// Why this export must be unredacted (recorded with it).
    #[arg(long, value_name = "TEXT")]
    pub justification: Option<String>,
}

/// How plates were covered, in one line (vehicles by frame).
pub fn plates_line(p: &vigie_app::redact::PlateRedaction) -> String {
    let f = &p.figures;
    if p.detector.is_some() {
        return format!(
            "{} vehicle-frames: plate located in {}, lower part in {} ({} too small to \
             search); plate detector {:.0} ms",
            f.vehicle_frames,
            f.located,
            f.lower_part + f.lower_part_small,
            f.lower_part_small,
            p.detector_ms
        );
    }
    match (&p.not_located, p.method) {
        (Some(why), vigie_app::redact::VehicleMask::LowerPart) => {
            format!("lower part of every vehicle ({why})")
        }
        (Some(why), _) => why.clone(),
        (None, _) => "no vehicle that carries a plate".into(),
    }
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let unredacted = Unredacted::from_flags(args.unredacted, args.justification.as_deref())?;
    let case = global.enter("clip")?;
    let out = results::clip(
        &case,
        &ClipRequest {
            track_id: args.track,
            source: args.source,
            margin_s: args.margin,
            output: args.output,
            keep: args.keep,
            unredacted,
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
            "redacted": out.redaction.is_some(),
            "redaction": out.redaction.as_ref().map(|r| r.detail()),
            "objects_redacted": out.redaction.as_ref().map(|r| r.figures.objects_redacted),
        }))?;
    } else if let Some(r) = &out.redaction {
        outln!(
            "track {} of {}: {:.1}-{:.1} s redacted to {} (sha256 {})",
            out.track.track_id,
            record.source_id,
            start_ms as f64 / 1000.0,
            end_ms as f64 / 1000.0,
            out.target.path.display(),
            out.file.sha256
        );
        outln!(
            "objects redacted: {} ({} frames, {:.1}% of pixels masked, {:.1}% by the motion \
             mask); kept clear: {}; source segment sha256 {}",
            r.figures.objects_redacted,
            r.figures.frames,
            100.0 * r.figures.masked_pixel_share,
            100.0 * r.figures.motion_masked_pixel_share,
            r.selected
                .iter()
                .map(|t| format!("#{t}"))
                .collect::<Vec<_>>()
                .join(" "),
            r.source_segment.sha256
        );
        outln!("plates: {}", plates_line(&r.plates));
    } else {
        outln!(
            "track {} of {}: {:.1}-{:.1} s copied UNREDACTED to {} (sha256 {}); recorded as \
             an unredacted disclosure",
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
