//! `vigie probe FILE`: what a video file contains, without registering it.
//!
//! Probing reads only container headers and shows no image content, so it works outside a
//! case: operators use it to check what they were handed before ingest.

use std::path::PathBuf;

use serde_json::json;
use vigie_core::{SourceMeta, StartTimeOrigin};

use crate::output::{out, outln, print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    pub file: PathBuf,
    /// Video stream index (default: FFmpeg's best video stream).
    #[arg(long)]
    pub stream: Option<usize>,
    /// Wall-clock time of the first frame if the container has none (RFC 3339 with offset).
    #[arg(long, value_parser = super::ingest::parse_start)]
    pub start: Option<chrono::DateTime<chrono::FixedOffset>>,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let meta = vigie_decode::probe(&args.file, args.stream, args.start)?;
    if global.json {
        print_json(&json!({ "path": args.file, "meta": meta }))?;
    } else {
        out!("{}", describe(&meta));
        outln!("file:       {}", args.file.display());
    }
    Ok(Outcome::Success)
}

/// Human-readable metadata, one field a line.
pub fn describe(m: &SourceMeta) -> String {
    let mut s = String::new();
    let opt = |v: Option<String>| v.unwrap_or_else(|| "unknown".into());
    s += &format!("container:  {}\n", m.container);
    s += &format!(
        "video:      stream {} of {} video stream(s), codec {}\n",
        m.stream_index, m.video_streams, m.codec
    );
    s += &format!("resolution: {}x{}\n", m.width, m.height);
    s += &format!("fps:        {}\n", opt(m.fps.map(|f| format!("{f:.3}"))));
    s += &format!(
        "timestamps: {}\n",
        match m.timestamps {
            vigie_core::TimestampSource::Container => "the container's (checked frame by frame)",
            vigie_core::TimestampSource::FrameRate =>
                "none in the file (raw elementary stream): frames timed from the frame rate (set it with `vigie ingest --fps`)",
        }
    );
    s += &format!(
        "duration:   {}\n",
        opt(m.duration_ms.map(|d| format!("{:.3} s", d as f64 / 1000.0)))
    );
    s += &format!(
        "frames:     {}{}\n",
        opt(m.frame_count.map(|f| f.to_string())),
        if m.frame_count.is_some() && !m.frame_count_exact {
            " (estimated from duration x fps)"
        } else {
            ""
        }
    );
    s += &format!(
        "bit rate:   {}\n",
        opt(m
            .bit_rate_bps
            .map(|b| format!("{:.0} kb/s", b as f64 / 1000.0)))
    );
    s += &format!(
        "start:      {}\n",
        match &m.start_time {
            Some(st) => format!(
                "{} ({})",
                st.at.to_rfc3339(),
                match st.origin {
                    StartTimeOrigin::ContainerCreationTime => "container creation_time",
                    StartTimeOrigin::Operator => "given by the operator",
                }
            ),
            None => "unknown (give one with --start 2024-06-01T14:00:00+02:00)".into(),
        }
    );
    s
}
