//! `vigie case ...`: open, list, show, report on, close and purge procedure-scoped cases.

use std::path::PathBuf;

use anyhow::Context;
use serde_json::json;
use vigie_app::admin::Administration;
use vigie_app::types::{CaseMeta, CaseStatus, OpenRequest, WhenBusy};
use vigie_case::{parse_date, CaseError};

use crate::output::{outln, print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Subcommand)]
pub enum CaseCmd {
    /// Open a case for one procedure and its magistrate's authorisation.
    Open(OpenArgs),
    /// List the cases under the data root.
    List,
    /// Show one case (--case).
    Show,
    /// Write the exploitation report (HTML + JSON) of a case (--case).
    Report(ReportArgs),
    /// Close a case (--case): final report, erase derived data and exports, keep the audit log.
    Close(CloseArgs),
    /// Close every case whose authorisation ended or which is 3 years past it.
    PurgeExpired,
    /// Extend a case's authorisation on the magistrate's renewal (the only way to extend
    /// it; recorded in the audit chain).
    Renew(RenewArgs),
    /// Rebuild a missing, damaged or edited case.json from the case's audit chain (logged).
    Repair,
}

#[derive(Debug, clap::Args)]
pub struct RenewArgs {
    /// The new last day the authorisation covers (YYYY-MM-DD; 3 years after the first
    /// authorisation at most).
    #[arg(long)]
    pub until: String,
    /// Reference of the magistrate's renewal.
    #[arg(long, alias = "authorisation")]
    pub authorization: String,
}

#[derive(Debug, clap::Args)]
pub struct OpenArgs {
    /// Judicial procedure number.
    #[arg(long)]
    pub procedure: String,
    /// Reference of the magistrate's authorisation.
    #[arg(long, alias = "authorisation")]
    pub authorization: String,
    /// The magistrate who authorised.
    #[arg(long)]
    pub magistrate: String,
    /// Date of the authorisation (YYYY-MM-DD).
    #[arg(long, alias = "authorised-on")]
    pub authorized_on: String,
    /// Last day the authorisation covers (YYYY-MM-DD); 3 years after --authorized-on at most.
    #[arg(long)]
    pub valid_until: Option<String>,
    /// Why the footage is examined (recorded as the default justification of every action).
    #[arg(long)]
    pub purpose: String,
    /// Case id (default: derived from the procedure number, e.g. 2026/00042 -> 2026-00042).
    #[arg(long)]
    pub id: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct CloseArgs {
    /// If work is running in the case, ask it to stop at its next checkpoint and close
    /// once it has (without this, closure refuses at once and names the running work).
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Directory to write the report into (default: the case's reports/ directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn case_id(global: &Global) -> Result<&str, CaseError> {
    global
        .case
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .ok_or(CaseError::NoCase)
}

fn admin(global: &Global) -> anyhow::Result<Administration> {
    let app = vigie_app::App::from_env()?;
    let operator = vigie_app::Operator::from_flag(global.operator.as_deref())?;
    Ok(Administration::with_reason(
        &app,
        operator,
        global.reason.as_deref(),
    )?)
}

fn meta_json(m: &CaseMeta) -> serde_json::Value {
    let mut v = serde_json::to_value(m).unwrap_or_default();
    v["retention_end"] = json!(m.retention_end());
    v
}

fn print_meta(m: &CaseMeta) {
    outln!("case          {}", m.case_id);
    outln!("procedure     {}", m.procedure);
    outln!(
        "authorisation {} ({}, {})",
        m.authorization,
        m.magistrate,
        m.authorized_on
    );
    match m.valid_until {
        Some(v) => outln!("valid until   {v}"),
        None => outln!("valid until   (not stated: 3-year limit)"),
    }
    outln!("retention end {} (last day)", m.retention_end());
    outln!("purpose       {}", m.purpose);
    outln!(
        "opened        {} by {}",
        m.created_at.format("%Y-%m-%d %H:%M UTC"),
        m.opened_by
    );
    match (m.status, m.closed_at, &m.closed_by) {
        (CaseStatus::Closed, Some(at), Some(by)) => {
            outln!(
                "status        closed {} by {}",
                at.format("%Y-%m-%d %H:%M UTC"),
                by
            )
        }
        _ => outln!("status        open"),
    }
}

pub fn run(cmd: CaseCmd, global: &Global) -> anyhow::Result<Outcome> {
    match cmd {
        CaseCmd::Open(a) => {
            let req = OpenRequest {
                case_id: a.id,
                procedure: a.procedure,
                authorization: a.authorization,
                magistrate: a.magistrate,
                authorized_on: parse_date("--authorized-on", &a.authorized_on)?,
                valid_until: a
                    .valid_until
                    .as_deref()
                    .map(|v| parse_date("--valid-until", v))
                    .transpose()?,
                operator: String::new(),
                purpose: a.purpose,
            };
            let meta = admin(global)?.open_case(req)?;
            if global.json {
                print_json(&meta_json(&meta))?;
            } else {
                outln!(
                    "opened case {} (procedure {}), authorised until {}",
                    meta.case_id,
                    meta.procedure,
                    meta.retention_end()
                );
                outln!(
                    "work in it with: --case {} (or VIGIE_CASE={})",
                    meta.case_id,
                    meta.case_id
                );
            }
            Ok(Outcome::Success)
        }
        CaseCmd::List => {
            let app = vigie_app::App::from_env()?;
            let root = app.root();
            let cases = vigie_case::list_cases(root)?;
            let mut outcome = Outcome::Success;
            let today = app.clock().now().date_naive();
            let mut rows = Vec::new();
            for c in &cases {
                match c {
                    Ok(m) => rows.push(m),
                    Err(e) => {
                        eprintln!("vigie: warning: {e}");
                        outcome = Outcome::Partial;
                    }
                }
            }
            if global.json {
                print_json(&json!({
                    "data_root": root.path(),
                    "cases": rows.iter().map(|m| meta_json(m)).collect::<Vec<_>>(),
                }))?;
            } else if rows.is_empty() {
                outln!(
                    "no case under {} (open one with `vigie case open`)",
                    root.path().display()
                );
            } else {
                for m in rows {
                    let status = match m.status {
                        CaseStatus::Closed => "closed".to_owned(),
                        CaseStatus::Open if m.is_expired(today) => {
                            "EXPIRED (run `vigie case purge-expired`)".to_owned()
                        }
                        CaseStatus::Open => format!("open until {}", m.retention_end()),
                    };
                    outln!("{:<24} {:<20} {}", m.case_id, m.procedure, status);
                }
            }
            Ok(outcome)
        }
        CaseCmd::Show => {
            let app = vigie_app::App::from_env()?;
            let meta = vigie_case::load_case(app.root(), case_id(global)?)?;
            if global.json {
                print_json(&meta_json(&meta))?;
            } else {
                print_meta(&meta);
            }
            Ok(Outcome::Success)
        }
        CaseCmd::Report(a) => {
            let id = case_id(global)?;
            let written = admin(global)?.write_report(id, a.out.as_deref())?;
            let (report, files) = (written.report, written.files);
            if global.json {
                print_json(&json!({
                    "html": files.html, "json": files.json,
                    "html_sha256": files.html_sha256, "json_sha256": files.json_sha256,
                    "audit": report.audit.verification,
                }))?;
            } else {
                outln!("report written: {}", files.html.display());
                outln!("                {}", files.json.display());
                outln!("sha256 (html):  {}", files.html_sha256);
                outln!("audit log:      {}", report.audit.summary);
            }
            if !report.audit.verification.is_trustworthy() {
                return Err(crate::cmd::audit::VerifyFailed(report.audit.summary)).context(
                    "the report was written, but it records that the case's audit log failed verification",
                );
            }
            Ok(Outcome::Success)
        }
        CaseCmd::Close(a) => {
            let id = case_id(global)?;
            let summary = admin(global)?.close_case(
                id,
                if a.wait {
                    WhenBusy::StopAndWait
                } else {
                    WhenBusy::Refuse
                },
            )?;
            if global.json {
                print_json(&serde_json::to_value(&summary)?)?;
            } else {
                outln!(
                    "closed case {}: erased {} files ({} bytes) of derived data and exports",
                    summary.case_id,
                    summary.erased_files,
                    summary.erased_bytes
                );
                outln!("final report: {}", summary.final_report.html.display());
                outln!(
                    "audit log and evidence registry kept; erasure recorded as entry {}",
                    summary.erasure_entry.seq
                );
                for w in &summary.stopped_work {
                    outln!(
                        "stopped: `vigie {}` by {} (pid {})",
                        w.command,
                        w.operator,
                        w.pid
                    );
                }
                for f in &summary.outside_copies {
                    outln!(
                        "disclosed copy outside the case, NOT erased (its holder must erase it): {} (sha256 {})",
                        f.path, f.sha256
                    );
                }
            }
            Ok(Outcome::Success)
        }
        CaseCmd::Renew(a) => {
            let id = case_id(global)?;
            let until = parse_date("--until", &a.until)?;
            let meta = admin(global)?.renew_case(id, &a.authorization, until)?;
            if global.json {
                print_json(&meta_json(&meta))?;
            } else {
                outln!(
                    "case {} renewed ({}): authorised until {}",
                    meta.case_id,
                    meta.authorization,
                    meta.retention_end()
                );
            }
            Ok(Outcome::Success)
        }
        CaseCmd::Repair => {
            let id = case_id(global)?;
            let (meta, fields) = admin(global)?.repair_case(id)?;
            if global.json {
                print_json(&json!({ "case": meta_json(&meta), "fields_restored": fields }))?;
            } else if fields.is_empty() {
                outln!(
                    "case {}: case.json rebuilt from the audit chain",
                    meta.case_id
                );
            } else {
                outln!(
                    "case {}: case.json rebuilt from the audit chain (restored: {})",
                    meta.case_id,
                    fields.join(", ")
                );
            }
            Ok(Outcome::Success)
        }
        CaseCmd::PurgeExpired => {
            let app = vigie_app::App::from_env()?;
            let done = match global.operator.as_deref().filter(|o| !o.trim().is_empty()) {
                Some(_) => admin(global)?.purge_expired()?,
                None => vigie_case::purge_expired(app.root(), None, app.clock())?,
            };
            if global.json {
                print_json(&serde_json::to_value(&done)?)?;
            } else if done.purged.is_empty() && done.failed.is_empty() {
                outln!("no expired case");
            } else {
                for d in &done.purged {
                    outln!(
                        "purged case {} (authorisation ended {}): erased {} files, final report {}",
                        d.case_id,
                        d.retention_end,
                        d.closure.erased_files,
                        d.closure.final_report.html.display()
                    );
                }
            }
            for f in &done.failed {
                eprintln!(
                    "vigie: error: expired case {} (ended {}) could not be purged: {}",
                    f.case_id, f.retention_end, f.error
                );
            }
            Ok(if done.failed.is_empty() {
                Outcome::Success
            } else {
                Outcome::Partial
            })
        }
    }
}
