//! `vigie alerts`: the alerts recorded in the machine-wide log, for the data controller.
//!
//! `--follow --json` prints one JSON object per line as alerts arrive, for forwarding to
//! syslog: `vigie alerts --follow --json | logger -t vigie -p auth.warning`.

use std::io::Write;
use std::time::Duration;

use serde_json::json;
use vigie_audit::{Action, Entry};
use vigie_case::DataRoot;

use crate::output::{outln, print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep running and print new alerts as they are recorded (polls once a second).
    #[arg(long)]
    pub follow: bool,
}

fn alert_json(e: &Entry) -> serde_json::Value {
    json!({
        "seq": e.seq,
        "time": e.time,
        "case": e.case,
        "procedure": e.procedure,
        "operator": e.operator,
        "kind": e.params.get("kind"),
        "message": e.params.get("message"),
        "details": e.params.get("details"),
    })
}

fn print_text(e: &Entry) {
    outln!(
        "{} {:<16} {}{}",
        e.time.format("%Y-%m-%d %H:%M:%S UTC"),
        e.params
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or("alert"),
        e.params
            .get("message")
            .and_then(|m| m.as_str())
            .or_else(|| e.params.get("event").and_then(|m| m.as_str()))
            .unwrap_or(""),
        e.case
            .as_deref()
            .map(|c| format!(" (case {c})"))
            .unwrap_or_default()
    );
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let root = DataRoot::from_env();
    let log = root.machine_log(vigie_case::clock_from_env()?)?;
    let wanted = |e: &Entry| {
        e.action == Action::Alert
            && global
                .case
                .as_deref()
                .is_none_or(|c| e.case.as_deref() == Some(c))
    };
    let alerts: Vec<Entry> = log.entries()?.into_iter().filter(|e| wanted(e)).collect();
    if !args.follow {
        if global.json {
            print_json(&json!(alerts.iter().map(alert_json).collect::<Vec<_>>()))?;
        } else if alerts.is_empty() {
            outln!("no alert recorded");
        } else {
            alerts.iter().for_each(print_text);
        }
        return Ok(Outcome::Success);
    }
    let mut last_seq = 0;
    let mut out = crate::output::stdout();
    loop {
        let seen = last_seq;
        for e in log.entries()?.into_iter().filter(|e| e.seq > seen) {
            last_seq = e.seq;
            if !wanted(&e) {
                continue;
            }
            if global.json {
                writeln!(out, "{}", alert_json(&e))?;
            } else {
                print_text(&e);
            }
        }
        out.flush()?;
        if crate::output::stdout_failed() {
            return Ok(Outcome::Success); // the reader went away: nothing left to do
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}
