//! `vigie audit verify` and `vigie audit show`: check and read the audit logs.

use std::collections::BTreeMap;

use serde_json::json;
use vigie_audit::{Action, AuditLog, Entry, VerifyStatus};
use vigie_case::{list_cases, DataRoot};
use vigie_core::{Alert, AlertKind, AlertSink};

use crate::output::{print_json, Outcome};
use crate::Global;

/// An audit log failed verification (exit code 4).
#[derive(Debug)]
pub struct VerifyFailed(pub String);

impl std::fmt::Display for VerifyFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "audit log verification failed: {}; keep the data root as it is and inform the data controller",
            self.0
        )
    }
}

impl std::error::Error for VerifyFailed {}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCmd {
    /// Verify audit logs (chain and signed head): the case's with --case, the machine-wide
    /// one with --machine, every log otherwise.
    Verify(VerifyArgs),
    /// Print the entries of a log (--case, or --machine), optionally filtered.
    Show(ShowArgs),
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Verify the machine-wide log (case lifecycle and alerts).
    #[arg(long)]
    pub machine: bool,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Show the machine-wide log instead of a case's.
    #[arg(long)]
    pub machine: bool,
    /// Only entries of this category (collection, consultation, disclosure, combination,
    /// alteration, erasure, model_load, alert).
    #[arg(long)]
    pub action: Option<Action>,
    /// Only entries by this operator (the global --operator is who *you* are).
    #[arg(long = "by", value_name = "OPERATOR")]
    pub by: Option<String>,
}

fn log_for(root: &DataRoot, global: &Global, machine: bool) -> anyhow::Result<AuditLog> {
    let clock = vigie_case::clock_from_env()?;
    if machine {
        return Ok(root.machine_log(clock)?);
    }
    let id = global
        .case
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .ok_or(vigie_case::CaseError::NoCase)?;
    vigie_case::load_case(root, id)?; // unknown case: say so, do not create a log
    Ok(root.case_log(id, clock)?)
}

pub fn run(cmd: AuditCmd, global: &Global) -> anyhow::Result<Outcome> {
    let root = DataRoot::from_env();
    match cmd {
        AuditCmd::Verify(a) => verify(&root, global, a),
        AuditCmd::Show(a) => show(&root, global, a),
    }
}

fn verify(root: &DataRoot, global: &Global, a: VerifyArgs) -> anyhow::Result<Outcome> {
    let clock = vigie_case::clock_from_env()?;
    let mut logs: Vec<AuditLog> = Vec::new();
    if a.machine {
        logs.push(root.machine_log(clock.clone())?);
    } else if global.case.as_deref().is_some_and(|c| !c.trim().is_empty()) {
        logs.push(log_for(root, global, false)?);
    } else {
        logs.push(root.machine_log(clock.clone())?);
        for meta in list_cases(root)?.into_iter().flatten() {
            logs.push(root.case_log(&meta.case_id, clock.clone())?);
        }
    }
    let mut results = Vec::new();
    let mut failed = Vec::new();
    for log in &logs {
        let v = log.verify()?;
        if !v.is_trustworthy() {
            failed.push(format!("{}: {}", v.log_id, v.summary()));
            // Tell the data controller through the machine log (best effort: it may be
            // the broken one).
            if log.log_id() != vigie_case::MACHINE_LOG_ID {
                if let Ok(machine) = root.machine_log(clock.clone()) {
                    let mut details = BTreeMap::new();
                    details.insert("log".to_owned(), v.log_id.clone());
                    if let VerifyStatus::Tampered { finding } = &v.status {
                        details.insert("line".to_owned(), finding.line.to_string());
                        details.insert("kind".to_owned(), format!("{:?}", finding.kind));
                    }
                    let sink =
                        vigie_audit::AuditAlertSink::new(machine, global.operator.as_deref());
                    if let Err(e) = sink.raise(&Alert {
                        kind: AlertKind::AuditTampered,
                        message: format!("audit log {} failed verification", v.log_id),
                        details,
                    }) {
                        eprintln!("vigie: warning: {e}");
                    }
                }
            }
        }
        if !global.json {
            println!("{}: {}", v.log_id, v.summary());
        }
        results.push(v);
    }
    if global.json {
        print_json(&serde_json::to_value(&results)?)?;
    }
    if failed.is_empty() {
        Ok(Outcome::Success)
    } else {
        Err(VerifyFailed(failed.join("; ")).into())
    }
}

fn show(root: &DataRoot, global: &Global, a: ShowArgs) -> anyhow::Result<Outcome> {
    let log = log_for(root, global, a.machine)?;
    let (entries, bad) = log.entries_lenient()?;
    let selected: Vec<&Entry> = entries
        .iter()
        .filter(|e| a.action.is_none_or(|x| e.action == x))
        .filter(|e| a.by.as_deref().is_none_or(|o| e.operator == o))
        .collect();
    for line in &bad {
        eprintln!(
            "vigie: warning: line {line} of {} is not an audit entry (run `vigie audit verify`)",
            log.log_id()
        );
    }
    if global.json {
        print_json(&json!(selected))?;
    } else {
        for e in &selected {
            println!(
                "{:>5} {} {:<12} {:<14} {} {}",
                e.seq,
                e.time.format("%Y-%m-%d %H:%M:%S"),
                e.action.as_str(),
                e.operator,
                vigie_audit::canonical::to_canonical_string(&e.params),
                vigie_audit::canonical::to_canonical_string(&e.result),
            );
        }
    }
    Ok(if bad.is_empty() {
        Outcome::Success
    } else {
        Outcome::Partial
    })
}
