//! `vigie clock ...`: correct a recorder's clock and show what is in force. The work is
//! `vigie_app::clock` (and `vigie_app::clock_read` for the burned-in clock).

use serde_json::json;
use vigie_app::clock::{self, ClockRequest};

use crate::output::{outln, print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Subcommand)]
pub enum ClockCmd {
    /// Correct a source's clock, or a camera's default: --offset, or the true time of one
    /// frame (--at with --true), or --revert. Needs --reason. Logged; every result, search,
    /// synopsis and report then uses it.
    Set(SetArgs),
    /// Each source's recorded and corrected start, the correction in force and its
    /// history, and daylight-saving changes inside the recording.
    Show(ShowArgs),
    /// Read the recorder's clock burned into the picture at a few points of a source and
    /// propose the correction it supports (advice only: prints the `clock set` command).
    /// Logged as a consultation.
    Read(super::clock_read::ClockReadArgs),
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// The source (id or path); or use --camera for a camera's default.
    pub source: Option<String>,
    /// Correct every source of this camera that has no correction of its own.
    #[arg(long, conflicts_with = "source")]
    pub camera: Option<String>,
    /// True time = recorder's time + OFFSET (+90s, -1h30m, +00:01:30).
    #[arg(long, allow_hyphen_values = true)]
    pub offset: Option<String>,
    /// Media time of a frame (12.5, 12.5s or 00:00:12.5) whose true time is --true.
    #[arg(long)]
    pub at: Option<String>,
    /// The true time of the frame at --at: 2024-06-01T14:03:10+02:00, or a local
    /// 2024-06-01 14:03:10 or 14:03:10 with --tz.
    #[arg(long = "true", value_name = "TIME")]
    pub true_time: Option<String>,
    /// Withdraw this source's (or camera's) correction.
    #[arg(long)]
    pub revert: bool,
    /// The place's time zone (IANA: Europe/Paris): local times are read and shown in it.
    #[arg(long)]
    pub tz: Option<String>,
    /// The recorder wrote its local time (in --tz) where UTC belongs.
    #[arg(long)]
    pub recorder_local: bool,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// One source (default: all).
    pub source: Option<String>,
}

pub fn run(c: ClockCmd, global: &Global) -> anyhow::Result<Outcome> {
    match c {
        ClockCmd::Set(a) => {
            let case = global.enter("clock set")?;
            let out = clock::correct_clock(
                &case,
                &ClockRequest {
                    source: a.source,
                    camera: a.camera,
                    offset: a.offset,
                    at: a.at,
                    true_time: a.true_time,
                    revert: a.revert,
                    time_zone: a.tz,
                    recorder_local: a.recorder_local,
                },
            )?;
            if global.json {
                print_json(&json!({ "case": case.case_id(), "clock": out }))?;
            } else {
                let zone = out.correction.zone().ok().flatten();
                let show = |ms: Option<i64>| {
                    ms.map(|m| vigie_core::clock::format_local(m, zone.as_ref()))
                        .unwrap_or_else(|| "unknown".into())
                };
                outln!("recorded: {}", out.correction.describe());
                if let Some(p) = &out.previous {
                    outln!("replaces: {p}");
                }
                for e in &out.sources {
                    outln!(
                        "{}: start {} (recorder: {})",
                        e.source_id,
                        show(e.corrected_start_wall_ms),
                        show(e.recorded_start_wall_ms)
                    );
                }
            }
            for n in &out.notes {
                eprintln!("vigie: note: {n}");
            }
        }
        ClockCmd::Show(a) => {
            let case = global.enter("clock show")?;
            let views = clock::clocks(&case, a.source.as_deref())?;
            if global.json {
                print_json(&json!({ "case": case.case_id(), "sources": views }))?;
            } else {
                for v in &views {
                    let start = v.start.clone().unwrap_or_else(|| "unknown".into());
                    let recorded = v.recorded_start.clone().unwrap_or_else(|| "unknown".into());
                    outln!("{}  camera {}  start {start}", v.source_id, v.camera);
                    if v.in_force.is_some() {
                        outln!("  recorder said: {recorded}");
                    }
                    outln!(
                        "  clock: {}",
                        v.in_force
                            .as_deref()
                            .unwrap_or("the recorder's (no correction)")
                    );
                    for h in &v.history {
                        outln!("  history: {h}");
                    }
                    for n in &v.notes {
                        outln!("  note: {n}");
                    }
                }
            }
        }
        ClockCmd::Read(a) => return super::clock_read::run(a, global),
    }
    Ok(Outcome::Success)
}
