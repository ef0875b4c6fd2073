//! `vigie coverage`: for each camera, which wall-clock intervals were recorded, analysed
//! (at what sampling), damaged or missing, as a table, JSON, or a timeline image.
//!
//! Why: no search result over a stretch without analysed footage means no footage, not
//! that nothing happened; investigators must see where those stretches are before they
//! conclude anything. The flags are checked before entering the case, and
//! `vigie_app::coverage::coverage` records the consultation (the image its disclosure)
//! before anything is printed.

use std::path::PathBuf;

use serde_json::json;
use vigie_app::coverage::{
    self, format_duration_ms, interval_note, local_label, utc_label, CameraCoverage, Coverage,
    CoverageRequest, CoverageState,
};

use crate::output::{out, outln, print_json, Outcome};
use crate::Global;

/// Show, per camera, when footage was recorded, analysed, damaged or missing.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
States: analysed (with the sampling used), recorded (not analysed: a search finds nothing
there), damaged (a hole in a recording's timestamps, or the part after a truncation or a
read error), missing (no recording between a camera's recordings, or inside --from/--to).
Times are shown in UTC, and in the camera's local time when its time zone is known.
Sources with no known start are listed apart with how to place them.

Examples:
  vigie coverage
  vigie coverage --camera entrance --from 2024-06-01T14:00:00+02:00 --to 2024-06-01T18:00:00+02:00
  vigie coverage --image coverage.svg")]
pub struct CoverageArgs {
    /// Only this camera.
    #[arg(long)]
    pub camera: Option<String>,
    /// Wall-clock start of the range, RFC 3339 with offset (2024-06-01T14:00:00+02:00);
    /// time without recording after it counts as missing.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Wall-clock end of the range, RFC 3339 with offset.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Also write the timeline as an SVG image (one row per camera). A bare name is
    /// written in the case's exports/ directory (erased at closure); logged as a
    /// disclosure with its hash.
    #[arg(long, value_name = "FILE.svg")]
    pub image: Option<PathBuf>,
}

pub fn run(args: CoverageArgs, global: &Global) -> anyhow::Result<Outcome> {
    // Validated before entering the case: a typo is reported as such.
    let req = CoverageRequest::parse(
        args.camera.as_deref(),
        args.from.as_deref(),
        args.to.as_deref(),
    )?;
    let case = global.enter("coverage")?;
    let target = args
        .image
        .as_deref()
        .map(|p| coverage::timeline_target(&case, p))
        .transpose()?;
    let cov = coverage::coverage(&case, &req)?;
    let image = target
        .map(|t| coverage::write_timeline(&case, &cov, t))
        .transpose()?;
    if global.json {
        let mut v = serde_json::to_value(&cov)?;
        if let (Some(obj), Some((t, f))) = (v.as_object_mut(), &image) {
            obj.insert(
                "image".into(),
                json!({ "path": t.path, "sha256": f.sha256, "inside_case": t.inside_case }),
            );
        }
        print_json(&v)?;
        return Ok(Outcome::Success);
    }
    out!("{}", table(&cov));
    if let Some((t, f)) = &image {
        outln!("timeline: {} (sha256 {})", t.path.display(), f.sha256);
    }
    Ok(Outcome::Success)
}

/// The coverage as text: a block per camera, then the sources that cannot be placed.
fn table(cov: &Coverage) -> String {
    let mut out = String::new();
    if cov.cameras.is_empty() && cov.unplaced.is_empty() {
        out.push_str("no footage in this case matches (see `vigie sources`)\n");
        return out;
    }
    for cam in &cov.cameras {
        camera_block(&mut out, cam);
    }
    if !cov.unplaced.is_empty() {
        out.push_str(&format!(
            "not placed in time ({} source{}):\n",
            cov.unplaced.len(),
            if cov.unplaced.len() == 1 { "" } else { "s" }
        ));
        for u in &cov.unplaced {
            out.push_str(&format!(
                "  {}  camera {}, {}, {}: {}\n",
                u.source_id,
                u.camera,
                u.duration_ms
                    .map(|d| format_duration_ms(d as i64))
                    .unwrap_or_else(|| "length unknown".into()),
                match &u.sampling {
                    Some(s) if u.analysed => format!("analysed at {s}"),
                    _ if u.analysed => "analysed".to_owned(),
                    _ => "not analysed".to_owned(),
                },
                u.fix
            ));
        }
    }
    out
}

fn camera_block(out: &mut String, cam: &CameraCoverage) {
    let zone = cam.time_zone.as_deref();
    out.push_str(&format!(
        "camera {}{}\n",
        cam.camera,
        zone.map(|z| format!(" (local time: {z})"))
            .unwrap_or_default()
    ));
    let mut rows: Vec<Vec<String>> = vec![{
        let mut h = vec!["from (UTC)".to_owned(), "to (UTC)".to_owned()];
        if let Some(z) = zone {
            h.push(format!("from ({z})"));
            h.push(format!("to ({z})"));
        }
        h.extend(["state", "duration", "sampling", "sources", "note"].map(str::to_owned));
        h
    }];
    for i in &cam.intervals {
        let mut r = vec![utc_label(i.from_wall_ms), utc_label(i.to_wall_ms)];
        if zone.is_some() {
            r.push(local_label(i.from_wall_ms, zone).unwrap_or_else(|| "?".into()));
            r.push(local_label(i.to_wall_ms, zone).unwrap_or_else(|| "?".into()));
        }
        r.push(i.state.as_str().to_owned());
        r.push(format_duration_ms(i.duration_ms()));
        r.push(i.sampling.clone().unwrap_or_else(|| "-".into()));
        r.push(if i.sources.is_empty() {
            "-".into()
        } else {
            i.sources.join(",")
        });
        r.push(interval_note(i).unwrap_or_default());
        rows.push(r);
    }
    let cols = rows[0].len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str("  ");
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    let t = &cam.totals;
    let pct = |p: Option<f64>| p.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "-".into());
    out.push_str(&format!(
        "  totals: recorded {} (analysed {}, not analysed {}), damaged {}, missing {}; \
         analysed {} of the span, {} of the recorded footage\n",
        format_duration_ms(t.recorded_ms),
        format_duration_ms(t.analysed_ms),
        format_duration_ms(t.not_analysed_ms),
        format_duration_ms(t.damaged_ms),
        format_duration_ms(t.missing_ms),
        pct(t.analysed_percent_of_span()),
        pct(t.analysed_percent_of_recorded()),
    ));
    for o in &cam.overlaps {
        out.push_str(&format!(
            "  overlap: {} record the same time from {} to {} ({}): merged above\n",
            o.sources.join(" and "),
            utc_label(o.from_wall_ms),
            utc_label(o.to_wall_ms),
            format_duration_ms(o.to_wall_ms - o.from_wall_ms)
        ));
    }
    for s in &cam.sources {
        let mut damage = Vec::new();
        if s.truncated {
            damage.push("truncated".to_owned());
        }
        if s.read_error {
            damage.push("read error".to_owned());
        }
        if s.gaps > 0 {
            damage.push(format!("{} gap(s) in its timestamps", s.gaps));
        }
        if s.corrupt_packets + s.corrupt_frames > 0 {
            damage.push(format!(
                "{} corrupt packet(s), {} damaged frame(s)",
                s.corrupt_packets, s.corrupt_frames
            ));
        }
        if s.timestamp_discontinuities > 0 {
            damage.push(format!(
                "{} timestamp discontinuit{} (timed from the frame rate)",
                s.timestamp_discontinuities,
                if s.timestamp_discontinuities == 1 {
                    "y"
                } else {
                    "ies"
                }
            ));
        }
        if s.salvaged {
            damage.push("salvaged from a damaged export".to_owned());
        }
        out.push_str(&format!(
            "  source {}: {} to {}, {}{}{}\n",
            s.source_id,
            utc_label(s.from_wall_ms),
            utc_label(s.to_wall_ms),
            match &s.sampling {
                Some(x) if s.analysed => format!("analysed at {x}"),
                _ if s.analysed => "analysed".to_owned(),
                _ => CoverageState::Recorded.describe().to_owned(),
            },
            if damage.is_empty() {
                String::new()
            } else {
                format!("; {}", damage.join(", "))
            },
            s.correction
                .as_deref()
                .map(|c| format!("; clock: {c}"))
                .unwrap_or_default(),
        ));
    }
}
