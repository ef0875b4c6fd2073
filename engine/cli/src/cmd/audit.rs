//! `vigie audit verify` and `vigie audit show`: check and read the audit logs.

use serde_json::json;
use vigie_audit::{Action, AuditLog, Entry};
use vigie_case::DataRoot;

use crate::output::{outln, print_json, Outcome};
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
    /// Export the current signed heads of every log to a file for the procedure record
    /// (check the logs against it later with `vigie audit verify --against FILE`).
    Anchor(AnchorArgs),
}

#[derive(Debug, clap::Args)]
pub struct AnchorArgs {
    /// Where to write the anchors (a new file; it is never overwritten).
    #[arg(short, long)]
    pub output: std::path::PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Verify the machine-wide log (case lifecycle and alerts).
    #[arg(long)]
    pub machine: bool,
    /// Also check the logs against anchors kept elsewhere: a file written by `vigie audit
    /// anchor`, or an exploitation report's .json. Detects a log shortened or rewritten
    /// and re-signed with the installation key.
    #[arg(long, value_name = "FILE")]
    pub against: Option<std::path::PathBuf>,
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
        AuditCmd::Anchor(a) => anchor(global, a),
    }
}

fn verify(_root: &DataRoot, global: &Global, a: VerifyArgs) -> anyhow::Result<Outcome> {
    use vigie_app::oversight::{read_anchors, verify, Scope};
    let app = vigie_app::App::from_env()?;
    let scope = if a.machine {
        Scope::Machine
    } else {
        match global.case.as_deref().filter(|c| !c.trim().is_empty()) {
            Some(c) => Scope::Case(c.to_owned()),
            None => Scope::All,
        }
    };
    let anchors = a.against.as_deref().map(read_anchors).transpose()?;
    let report = verify(
        &app,
        global.operator()?.as_ref(),
        &scope,
        anchors.as_deref(),
    )?;
    if global.json {
        // An array of per-log verifications, as before; cross-log and anchor findings
        // appear as extra elements with `log_id` and `finding`.
        let mut out = serde_json::to_value(&report.logs)?;
        if let Some(list) = out.as_array_mut() {
            for f in &report.findings {
                list.push(json!({ "log_id": f.log_id, "status": "tampered", "finding": { "detail": f.detail } }));
            }
        }
        print_json(&out)?;
    } else {
        for v in &report.logs {
            outln!("{}: {}", v.log_id, v.summary());
        }
        for f in &report.findings {
            outln!("{}: FAILED: {}", f.log_id, f.detail);
        }
        if let Some(a) = &anchors {
            outln!("checked against {} anchor(s)", a.len());
        }
    }
    if report.is_trustworthy() {
        Ok(Outcome::Success)
    } else {
        Err(VerifyFailed(report.failures().join("; ")).into())
    }
}

fn anchor(global: &Global, a: AnchorArgs) -> anyhow::Result<Outcome> {
    let app = vigie_app::App::from_env()?;
    let file = vigie_app::oversight::export_anchors(&app, global.operator()?.as_ref(), &a.output)?;
    if global.json {
        print_json(&serde_json::to_value(&file)?)?;
    } else {
        for an in &file.anchors {
            outln!("{:<28} entry {:>6}  {}", an.log_id, an.seq, an.hash);
        }
        outln!(
            "{} anchor(s) written to {}: keep it with the procedure record, outside this machine",
            file.anchors.len(),
            a.output.display()
        );
    }
    Ok(Outcome::Success)
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
            outln!(
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
