//! `vigie case ...`: open, list, show, report on, close and purge procedure-scoped cases.

use std::path::PathBuf;

use anyhow::Context;
use serde_json::json;
use vigie_case::{
    build_report, close_case, list_cases, load_case, open_case, parse_date, purge_expired,
    write_report, Action, CaseContext, CaseError, CaseMeta, CaseStatus, Clock, DataRoot,
    OpenRequest,
};

use crate::output::{print_json, Outcome};
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
    Close,
    /// Close every case whose authorisation ended or which is 3 years past it.
    PurgeExpired,
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

fn operator(global: &Global) -> Result<&str, CaseError> {
    global
        .operator
        .as_deref()
        .filter(|o| !o.trim().is_empty())
        .ok_or(CaseError::NoOperator)
}

fn meta_json(m: &CaseMeta) -> serde_json::Value {
    let mut v = serde_json::to_value(m).unwrap_or_default();
    v["retention_end"] = json!(m.retention_end());
    v
}

fn print_meta(m: &CaseMeta) {
    println!("case          {}", m.case_id);
    println!("procedure     {}", m.procedure);
    println!(
        "authorisation {} ({}, {})",
        m.authorization, m.magistrate, m.authorized_on
    );
    match m.valid_until {
        Some(v) => println!("valid until   {v}"),
        None => println!("valid until   (not stated: 3-year limit)"),
    }
    println!("retention end {} (last day)", m.retention_end());
    println!("purpose       {}", m.purpose);
    println!(
        "opened        {} by {}",
        m.created_at.format("%Y-%m-%d %H:%M UTC"),
        m.opened_by
    );
    match (m.status, m.closed_at, &m.closed_by) {
        (CaseStatus::Closed, Some(at), Some(by)) => {
            println!(
                "status        closed {} by {}",
                at.format("%Y-%m-%d %H:%M UTC"),
                by
            )
        }
        _ => println!("status        open"),
    }
}

pub fn run(cmd: CaseCmd, global: &Global) -> anyhow::Result<Outcome> {
    let root = DataRoot::from_env();
    let clock = vigie_case::clock_from_env()?;
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
                operator: operator(global)?.to_owned(),
                purpose: a.purpose,
            };
            let meta = open_case(&root, req, clock)?;
            if global.json {
                print_json(&meta_json(&meta))?;
            } else {
                println!(
                    "opened case {} (procedure {}), authorised until {}",
                    meta.case_id,
                    meta.procedure,
                    meta.retention_end()
                );
                println!(
                    "work in it with: --case {} (or VIGIE_CASE={})",
                    meta.case_id, meta.case_id
                );
            }
            Ok(Outcome::Success)
        }
        CaseCmd::List => {
            let cases = list_cases(&root)?;
            let mut outcome = Outcome::Success;
            let today = clock.now().date_naive();
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
                println!(
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
                    println!("{:<24} {:<20} {}", m.case_id, m.procedure, status);
                }
            }
            Ok(outcome)
        }
        CaseCmd::Show => {
            let meta = load_case(&root, case_id(global)?)?;
            if global.json {
                print_json(&meta_json(&meta))?;
            } else {
                print_meta(&meta);
            }
            Ok(Outcome::Success)
        }
        CaseCmd::Report(a) => {
            let id = case_id(global)?;
            let op = operator(global)?;
            let meta = load_case(&root, id)?;
            let report = build_report(&root, id, clock.clone())?;
            let stem = format!("report-{}", report.generated_at.format("%Y%m%dT%H%M%SZ"));
            let dir = a.out.unwrap_or_else(|| root.case_dir(id).join("reports"));
            let files = write_report(&dir, &stem, &report)?;
            let params = json!({
                "event": "report_written",
                "html": files.html.file_name().map(|n| n.to_string_lossy().into_owned()),
                "json": files.json.file_name().map(|n| n.to_string_lossy().into_owned()),
            });
            let result = json!({
                "sha256": files.html_sha256,
                "json_sha256": files.json_sha256,
                "audit": report.audit.verification.status,
            });
            // Handing out a report is a disclosure: in the case's log while the case is
            // open, in the machine log once it is closed or expired.
            match CaseContext::enter(&root, id, op, clock.clone()) {
                Ok(ctx) => {
                    ctx.log(Action::Disclosure, params, global.reason.as_deref(), result)?;
                }
                Err(CaseError::Closed { .. } | CaseError::Expired { .. }) => {
                    root.machine_log(clock)?.append(vigie_audit::NewEntry {
                        operator: op.to_owned(),
                        case: Some(id.to_owned()),
                        procedure: Some(meta.procedure.clone()),
                        action: Action::Disclosure,
                        params,
                        justification: global
                            .reason
                            .clone()
                            .unwrap_or_else(|| format!("report on case {id} (not open)")),
                        result,
                    })?;
                }
                Err(e) => return Err(e.into()),
            }
            if global.json {
                print_json(&json!({
                    "html": files.html, "json": files.json,
                    "html_sha256": files.html_sha256, "json_sha256": files.json_sha256,
                    "audit": report.audit.verification,
                }))?;
            } else {
                println!("report written: {}", files.html.display());
                println!("                {}", files.json.display());
                println!("sha256 (html):  {}", files.html_sha256);
                println!("audit log:      {}", report.audit.summary);
            }
            if !report.audit.verification.is_trustworthy() {
                return Err(crate::cmd::audit::VerifyFailed(report.audit.summary)).context(
                    "the report was written, but it records that the case's audit log failed verification",
                );
            }
            Ok(Outcome::Success)
        }
        CaseCmd::Close => {
            let id = case_id(global)?;
            let summary = close_case(
                &root,
                id,
                operator(global)?,
                global.reason.as_deref(),
                clock,
            )?;
            if global.json {
                print_json(&serde_json::to_value(&summary)?)?;
            } else {
                println!(
                    "closed case {}: erased {} files ({} bytes) of derived data and exports",
                    summary.case_id, summary.erased_files, summary.erased_bytes
                );
                println!("final report: {}", summary.final_report.html.display());
                println!(
                    "audit log and evidence registry kept; erasure recorded as entry {}",
                    summary.erasure_entry.seq
                );
            }
            Ok(Outcome::Success)
        }
        CaseCmd::PurgeExpired => {
            let done = purge_expired(&root, global.operator.as_deref(), clock)?;
            if global.json {
                print_json(&serde_json::to_value(&done)?)?;
            } else if done.purged.is_empty() && done.failed.is_empty() {
                println!("no expired case");
            } else {
                for d in &done.purged {
                    println!(
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

/// Exit code for the case and audit errors found in an error chain (see `output.rs`):
/// 3 refused (no case, no operator, closed, expired, invalid authorisation), 4 integrity
/// failure (tampered or unreadable audit log, corrupt case file), 2 other bad input.
pub fn exit_code_for_cause(cause: &(dyn std::error::Error + 'static)) -> Option<u8> {
    use vigie_audit::AuditError;
    fn audit_code(e: &AuditError) -> u8 {
        match e {
            AuditError::Tampered { .. } | AuditError::Unreadable { .. } => 4,
            AuditError::Incomplete(_) => 3,
            AuditError::Io { .. } | AuditError::Key(_) => 2,
        }
    }
    if cause
        .downcast_ref::<crate::cmd::audit::VerifyFailed>()
        .is_some()
    {
        return Some(4);
    }
    if let Some(e) = cause.downcast_ref::<AuditError>() {
        return Some(audit_code(e));
    }
    let e = cause.downcast_ref::<CaseError>()?;
    Some(match e {
        CaseError::NoCase
        | CaseError::NoOperator
        | CaseError::Closed { .. }
        | CaseError::Expired { .. }
        | CaseError::AuthorizedInFuture { .. }
        | CaseError::BeyondRetention { .. }
        | CaseError::AlreadyExpired { .. } => 3,
        CaseError::CorruptMeta { .. } => 4,
        CaseError::Audit(a) => audit_code(a),
        CaseError::Registry(r) => match r {
            vigie_evidence::RegistryError::HashMismatch { .. }
            | vigie_evidence::RegistryError::PathContentChanged { .. } => 3,
            vigie_evidence::RegistryError::Corrupt { .. }
            | vigie_evidence::RegistryError::Version { .. } => 4,
            _ => 2,
        },
        _ => 2,
    })
}
