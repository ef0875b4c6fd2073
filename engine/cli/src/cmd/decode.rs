//! `vigie decode SOURCE`: decode a registered source and report what came out.
//!
//! This is the damage scan an investigator runs before analysis: it says how many frames
//! the file really holds, which parts are damaged, and how fast this machine decodes it.
//! The source's hash is checked first; changed evidence is refused.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use vigie_core::SamplingMode;
use vigie_decode::{DecodeConfig, Decoder, OutputSize};

use super::workspace::Workspace;
use crate::output::{print_json, Outcome};
use crate::Global;

/// Decoding flags shared by the commands that decode.
#[derive(Debug, Clone, clap::Args)]
pub struct DecodeFlags {
    /// Which frames to keep: all, nonref (decoder skips non-reference frames), keyframes,
    /// or a frame rate such as 5fps.
    #[arg(long, default_value = "all")]
    pub sampling: SamplingMode,
    /// Working width in pixels (frames are scaled down to it, keeping the aspect ratio),
    /// or `native`.
    #[arg(long, default_value = "960", value_parser = parse_width)]
    pub width: OutputSize,
    /// Decoder threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Video stream index (default: the best video stream).
    #[arg(long)]
    pub stream: Option<usize>,
}

pub fn parse_width(s: &str) -> Result<OutputSize, String> {
    if s.eq_ignore_ascii_case("native") {
        return Ok(OutputSize::Native);
    }
    s.parse::<u32>().map(OutputSize::MaxWidth).map_err(|_| {
        format!("invalid width {s:?} (expected a number of pixels such as 640, or `native`)")
    })
}

impl DecodeFlags {
    pub fn config(&self) -> DecodeConfig {
        DecodeConfig {
            stream_index: self.stream,
            sampling: self.sampling,
            output_size: self.width,
            convert_rgb: true,
            threads: self.threads,
            operator_start: None,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source id (from `vigie sources`) or the path of a registered file.
    pub source: String,
    #[command(flatten)]
    pub flags: DecodeFlags,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let ws = Workspace::enter(global)?;
    let record = ws.registry.find(&args.source)?;
    ws.verify_source(&record)?;
    let mut cfg = args.flags.config();
    cfg.operator_start = record.meta.start_time.map(|s| s.at);
    let started = Instant::now();
    let mut dec = Decoder::open(&record.path, &cfg)?;
    let bar = if global.progress() {
        let b = ProgressBar::new(record.meta.frame_count.unwrap_or(0));
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} decoding [{bar:30}] {pos}/{len} frames {per_sec} eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let (mut first, mut last, mut size) = (None, None, (0, 0));
    while let Some(frame) = dec.next_frame()? {
        bar.set_position(frame.index + 1);
        first.get_or_insert(frame.wall_ms.unwrap_or(frame.pts_ms));
        last = Some(frame.wall_ms.unwrap_or(frame.pts_ms));
        size = (frame.width, frame.height);
    }
    bar.finish_and_clear();
    let report = dec.finish();
    let secs = started.elapsed().as_secs_f64();
    let fps = report.frames_decoded as f64 / secs.max(1e-9);
    let wall = |ms: Option<i64>| -> serde_json::Value {
        match (ms, record.meta.start_time) {
            (Some(ms), Some(_)) => chrono::DateTime::from_timestamp_millis(ms)
                .map(|t| json!(t.to_rfc3339()))
                .unwrap_or(json!(null)),
            (Some(ms), None) => json!(format!("{} ms from start", ms)),
            _ => json!(null),
        }
    };
    ws.log(
        vigie_audit::Action::Consultation,
        json!({ "command": "decode", "source_id": record.source_id, "sha256": record.sha256,
                "sampling": cfg.sampling.to_string() }),
        json!({ "frames_decoded": report.frames_decoded, "corrupt_packets": report.corrupt_packets,
                "truncated": report.truncated }),
    )?;
    if global.json {
        print_json(&json!({
            "source_id": record.source_id,
            "sampling": cfg.sampling.to_string(),
            "working_size": [size.0, size.1],
            "report": report,
            "seconds": secs,
            "decoded_fps": fps,
            "first_frame": wall(first),
            "last_frame": wall(last),
        }))?;
    } else {
        println!(
            "{}: {} frames decoded, {} kept ({}), working size {}x{}, {:.1} fps",
            record.source_id,
            report.frames_decoded,
            report.frames_emitted,
            cfg.sampling,
            size.0,
            size.1,
            fps
        );
        println!("first frame {}  last frame {}", wall(first), wall(last));
        println!(
            "damage: {} corrupt packet(s), {} damaged frame(s){}{}",
            report.corrupt_packets,
            report.corrupt_frames,
            if report.truncated { ", truncated" } else { "" },
            if report.read_error {
                ", read error"
            } else {
                ""
            }
        );
    }
    for w in &report.warnings {
        eprintln!("vigie: warning: {w}");
    }
    Ok(Outcome::Success)
}
