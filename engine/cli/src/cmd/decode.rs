//! `vigie decode SOURCE`: decode a registered source and report what came out.
//!
//! This is the damage scan an investigator runs before analysis: it says how many frames
//! the file really holds, which parts are damaged, and how fast this machine decodes it.
//! The source's hash is checked first; changed evidence is refused. The work is
//! `vigie_app::evidence::decode_source`; this module parses flags and prints.

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use vigie_app::evidence::DecodeRequest;
use vigie_app::types::{OutputSize, SamplingMode};

use crate::output::{outln, print_json, Outcome};
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

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source id (from `vigie sources`) or the path of a registered file.
    pub source: String,
    #[command(flatten)]
    pub flags: DecodeFlags,
}

/// A terminal bar counting decoded frames.
struct FrameBar(ProgressBar);

impl vigie_app::Progress for FrameBar {
    fn frame(&self, _unit: &str, _pts_ms: i64) {
        self.0.inc(1);
    }
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let case = global.enter("decode")?;
    let bar = if global.progress() {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} decoding [{bar:30}] {pos}/{len} frames {per_sec} eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        if let Ok(r) = case.find_source(&args.source) {
            b.set_length(r.meta.frame_count.unwrap_or(0));
        }
        b
    } else {
        ProgressBar::hidden()
    };
    let req = DecodeRequest {
        source: args.source,
        sampling: args.flags.sampling,
        width: args.flags.width,
        threads: args.flags.threads,
        stream: args.flags.stream,
    };
    let out = vigie_app::evidence::decode_source(&case, &req, &FrameBar(bar.clone()));
    bar.finish_and_clear();
    let out = out?;
    let report = &out.report;
    let (first, last) = (out.wall(out.first_frame_ms), out.wall(out.last_frame_ms));
    if global.json {
        print_json(&json!({
            "source_id": out.record.source_id,
            "sampling": out.sampling.to_string(),
            "working_size": [out.working_size_px.0, out.working_size_px.1],
            "report": report,
            "seconds": out.elapsed_s,
            "decoded_fps": out.decoded_fps,
            "first_frame": first,
            "last_frame": last,
        }))?;
    } else {
        outln!(
            "{}: {} frames decoded, {} kept ({}), working size {}x{}, {:.1} fps",
            out.record.source_id,
            report.frames_decoded,
            report.frames_emitted,
            out.sampling,
            out.working_size_px.0,
            out.working_size_px.1,
            out.decoded_fps
        );
        outln!("first frame {first}  last frame {last}");
        outln!(
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
