//! `vigie frame --source S --at T -o f.png`: export one frame, to draw zones and lines on.

use std::path::PathBuf;

use anyhow::{bail, Context};
use serde_json::json;
use vigie_decode::{DecodeConfig, Decoder, OutputSize};

use super::workspace::Workspace;
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
    /// Output PNG file.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Parse `--at` into ms from the start of the source.
pub fn parse_at(s: &str, start_ms: Option<i64>) -> anyhow::Result<i64> {
    let s = s.trim();
    if let Ok(t) = vigie_core::parse_wall_clock(s) {
        let Some(start) = start_ms else {
            bail!("--at {s:?} is a wall-clock time but this source has no known start time; give seconds from the start instead (e.g. --at 12.5)");
        };
        let ms = t.timestamp_millis() - start;
        if ms < 0 {
            bail!("--at {s:?} is before the source starts");
        }
        return Ok(ms);
    }
    let parts: Vec<&str> = s.split(':').collect();
    let bad = || {
        anyhow::anyhow!("invalid --at {s:?} (expected seconds such as 12.5, MM:SS, HH:MM:SS, or RFC 3339 with offset)")
    };
    let nums: Vec<f64> = parts
        .iter()
        .map(|p| p.parse::<f64>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let secs = match nums.as_slice() {
        [s] => *s,
        [m, s] => m * 60.0 + s,
        [h, m, s] => h * 3600.0 + m * 60.0 + s,
        _ => return Err(bad()),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(bad());
    }
    Ok((secs * 1000.0).round() as i64)
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let ws = Workspace::enter(global)?;
    let record = ws.registry.find(&args.source)?;
    ws.verify_source(&record)?;
    let at_ms = parse_at(&args.at, record.meta.start_time.map(|s| s.epoch_ms()))?;
    let cfg = DecodeConfig {
        output_size: OutputSize::Native,
        operator_start: record.meta.start_time.map(|s| s.at),
        ..Default::default()
    };
    let mut dec = Decoder::open(&record.path, &cfg)?;
    let Some(frame) = dec.frame_at(at_ms)? else {
        bail!(
            "the source ends before {:.3} s (its duration is {})",
            at_ms as f64 / 1000.0,
            record
                .meta
                .duration_ms
                .map(|d| format!("{:.3} s", d as f64 / 1000.0))
                .unwrap_or_else(|| "unknown".into())
        );
    };
    image::save_buffer_with_format(
        &args.output,
        &frame.data,
        frame.width,
        frame.height,
        image::ExtendedColorType::Rgb8,
        image::ImageFormat::Png,
    )
    .with_context(|| format!("cannot write {}", args.output.display()))?;
    // The PNG leaves vigie: a disclosure, with the file's hash.
    let (sha256, _) = vigie_evidence::hash_file(&args.output, |_| {})?;
    ws.log(
        vigie_audit::Action::Disclosure,
        json!({ "command": "frame", "source_id": record.source_id, "at_ms": frame.pts_ms,
                "output": args.output }),
        json!({ "sha256": sha256 }),
    )?;
    if global.json {
        print_json(&json!({
            "sha256": sha256,
            "source_id": record.source_id, "pts_ms": frame.pts_ms, "wall_ms": frame.wall_ms,
            "width": frame.width, "height": frame.height, "output": args.output,
        }))?;
    } else {
        println!(
            "{}: frame at {:.3} s ({}x{}) written to {}",
            record.source_id,
            frame.pts_ms as f64 / 1000.0,
            frame.width,
            frame.height,
            args.output.display()
        );
    }
    Ok(Outcome::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_formats() {
        assert_eq!(parse_at("12.5", None).unwrap(), 12_500);
        assert_eq!(parse_at("01:02", None).unwrap(), 62_000);
        assert_eq!(parse_at("1:00:00", None).unwrap(), 3_600_000);
        assert_eq!(
            parse_at("2024-06-01T14:00:10+02:00", Some(1_717_243_200_000)).unwrap(),
            10_000
        );
        assert!(parse_at("2024-06-01T14:00:10+02:00", None).is_err());
        assert!(parse_at("soon", None)
            .unwrap_err()
            .to_string()
            .contains("expected seconds"));
        assert!(parse_at("-3", None).is_err());
    }
}
