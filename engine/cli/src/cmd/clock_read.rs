//! `vigie clock read SOURCE`: read the recorder's clock burned into the picture at a few
//! points of a source and propose the correction it supports (`vigie_app::clock_read`).
//! Advice only: it prints the `vigie clock set` command that would apply it, and changes
//! nothing. The reading is logged as a consultation, after the model loads.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use vigie_app::clock_read::{self, ClockReadOutcome, ClockReadRequest};

use crate::output::{out, print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Args)]
pub struct ClockReadArgs {
    /// The source (id from `vigie sources`, or the path of a registered file).
    pub source: String,
    /// How many evenly spaced points of the source to read.
    #[arg(long, default_value_t = clock_read::DEFAULT_POINTS)]
    pub points: usize,
    /// The order of the overlay's date fields when it is known: dmy, mdy or ymd (default:
    /// the order most readings allow, or the one closest to the recorded start).
    #[arg(long, value_name = "ORDER")]
    pub date_order: Option<String>,
    /// Execution device: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

/// One bar over the source's media time.
struct Bar(ProgressBar);

impl vigie_app::Progress for Bar {
    fn begin(&self, unit: &str, total_ms: Option<u64>) {
        self.0.set_length(total_ms.unwrap_or(0));
        self.0.set_prefix(unit.to_owned());
    }
    fn frame(&self, _unit: &str, pts_ms: i64) {
        self.0.set_position(pts_ms.max(0) as u64);
    }
    fn end(&self, _unit: &str, _ok: bool) {
        self.0.finish_and_clear();
    }
}

pub fn run(args: ClockReadArgs, global: &Global) -> anyhow::Result<Outcome> {
    let case = global.enter("clock read")?;
    let bar = ProgressBar::with_draw_target(
        Some(0),
        if global.progress() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} reading the burned-in clock [{bar:30}] {percent:>3}%",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let out = clock_read::read_burned_clock(
        &case,
        &ClockReadRequest {
            source: args.source,
            points: args.points,
            date_order: args.date_order,
            device: args.device,
        },
        &Bar(bar),
    )?;
    if global.json {
        let mut doc = serde_json::to_value(&out)?;
        doc["case"] = case.case_id().into();
        print_json(&doc)?;
    } else {
        out!("{}", render(&out));
    }
    Ok(Outcome::Success)
}

/// The text report: a table of readings, the proposal, the drift and the notes.
fn render(out: &ClockReadOutcome) -> String {
    let mut s = format!(
        "{}: burned-in clock read at {} points ({} read, {} consistent)\n\n",
        out.source_id,
        out.points,
        out.read_count(),
        out.consistent_count()
    );
    s.push_str(&format!(
        "{:>10}  {:<24}  {:<19}  {:>5}  {}\n",
        "media", "overlay text", "local time", "conf", "agrees"
    ));
    for r in &out.readings {
        let agrees = match (&r.local_time, r.consistent) {
            (None, _) => "-".to_string(),
            (Some(_), true) => "yes".to_string(),
            (Some(_), false) => {
                format!("NO ({:+.1} s)", r.residual_ms.unwrap_or(0) as f64 / 1000.0)
            }
        };
        let text = r.text.as_deref().unwrap_or("(no clock found)");
        s.push_str(&format!(
            "{:>9.3}s  {:<24}  {:<19}  {:>5}  {}{}\n",
            r.pts_ms as f64 / 1000.0,
            text,
            r.local_time.as_deref().unwrap_or("-"),
            r.confidence
                .map(|c| format!("{c:.2}"))
                .unwrap_or_else(|| "-".into()),
            agrees,
            if r.corrected { " (re-read)" } else { "" }
        ));
    }
    s.push('\n');
    match &out.proposal {
        Some(p) => s.push_str(&format!(
            "proposal: the frame at {:.3} s shows {} (local recorder time; the first frame {}), from {} consistent readings\n",
            p.pts_ms as f64 / 1000.0,
            p.local_time,
            p.local_start,
            p.readings_used
        )),
        None => s.push_str("proposal: none (too few readings agree)\n"),
    }
    if let Some(d) = &out.drift {
        s.push_str(&format!(
            "drift: {:+.1} s per hour over {:.0} s ({}; one-second readings explain up to {:.1} s/h)\n",
            d.drift_s_per_h,
            d.span_ms as f64 / 1000.0,
            if d.flagged { "FLAGGED" } else { "within resolution" },
            d.explained_s_per_h
        ));
    }
    if let Some(c) = &out.recorded_start {
        s.push_str(&format!(
            "recorded start vs burned-in clock: {:+.1} s{}\n",
            c.difference_ms as f64 / 1000.0,
            c.time_zone
                .as_deref()
                .map(|z| format!(" (clock read in {z})"))
                .unwrap_or_else(|| " (clock read as UTC)".into())
        ));
    }
    for n in &out.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    if let Some(c) = &out.command {
        s.push_str(&format!(
            "\nto apply it (advice only: review first):\n  {c}\n"
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use vigie_app::clock_read::{ClockDrift, ClockProposal, ClockReading};

    use super::*;

    fn reading(pts_ms: i64, text: &str, local: Option<&str>, consistent: bool) -> ClockReading {
        ClockReading {
            pts_ms,
            text: Some(text.into()),
            box_px: Some([30.0, 28.0, 64.0, 10.0]),
            confidence: Some(0.9),
            local_time: local.map(str::to_owned),
            corrected: false,
            consistent,
            residual_ms: Some(if consistent { 0 } else { 10_000 }),
        }
    }

    #[test]
    fn the_report_shows_each_reading_the_outlier_the_drift_and_the_command() {
        let out = ClockReadOutcome {
            source_id: "S0123456789ab".into(),
            sha256: "ab".repeat(32),
            models: vec!["ppocrv6-det-small".into(), "ppocrv6-rec-small".into()],
            device: "cpu".into(),
            points: 3,
            readings: vec![
                reading(5000, "07/03/2017 12:04:17", Some("2017-03-07 12:04:17"), true),
                reading(15000, "07/03/2017 12:04:37", Some("2017-03-07 12:04:37"), false),
                reading(25000, "07/03/2017 12:04:37", Some("2017-03-07 12:04:37"), true),
            ],
            date_order: Some(vigie_app::clock_read::DateOrder::Dmy),
            other_dates: Vec::new(),
            proposal: Some(ClockProposal {
                pts_ms: 5000,
                local_time: "2017-03-07 12:04:17".into(),
                local_start: "2017-03-07 12:04:12".into(),
                readings_used: 2,
                dated: true,
            }),
            drift: Some(ClockDrift {
                drift_s_per_h: 0.0,
                explained_s_per_h: 270.0,
                span_ms: 20000,
                flagged: false,
            }),
            recorded_start: None,
            command: Some("vigie clock set S0123456789ab --at 5s --true \"2017-03-07 12:04:17\" --tz ZONE --reason \"read from the burned-in clock\"".into()),
            notes: vec!["readings at 15.0 s disagree with the others".into()],
        };
        let text = render(&out);
        eprintln!("{text}");
        assert!(text.contains("3 read, 2 consistent"), "{text}");
        assert!(text.contains("NO (+10.0 s)"), "{text}");
        assert!(
            text.contains("the frame at 5.000 s shows 2017-03-07 12:04:17"),
            "{text}"
        );
        assert!(text.contains("within resolution"), "{text}");
        assert!(text.contains("note: readings at 15.0 s"), "{text}");
        assert!(
            text.contains("  vigie clock set S0123456789ab --at 5s"),
            "{text}"
        );
    }
}
