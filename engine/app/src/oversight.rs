//! Oversight: verifying every log, across logs, and against anchors kept elsewhere.
//!
//! `vigie audit verify` is the data controller's check. It verifies each log's chain and
//! signed head, then what a single log cannot show: a case log that vanished, was reset,
//! truncated or replaced (against the heads the machine log recorded), a `case.json` that
//! disagrees with its chain, and — given an anchor exported earlier or printed in a
//! report — a log rewritten and re-signed by someone holding the installation key.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use vigie_audit::{AuditAlertSink, AuditLog, Verification, VerifyStatus};
use vigie_case::anchor::{
    check_anchors, check_case_logs, current_anchors, Anchor, AnchorFile, LogFinding, ANCHOR_FORMAT,
};
use vigie_core::{Alert, AlertKind, AlertSink};

use crate::app::App;
use crate::error::AppError;
use crate::operator::Operator;

/// Which logs to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Machine,
    Case(String),
    All,
}

/// What `audit verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// Each log's own verification (chain and signed head).
    pub logs: Vec<Verification>,
    /// Problems across logs, in case records, and against the anchor.
    pub findings: Vec<LogFinding>,
}

impl VerifyReport {
    pub fn is_trustworthy(&self) -> bool {
        self.findings.is_empty() && self.logs.iter().all(Verification::is_trustworthy)
    }

    /// One line per failure.
    pub fn failures(&self) -> Vec<String> {
        self.logs
            .iter()
            .filter(|v| !v.is_trustworthy())
            .map(|v| format!("{}: {}", v.log_id, v.summary()))
            .chain(
                self.findings
                    .iter()
                    .map(|f| format!("{}: {}", f.log_id, f.detail)),
            )
            .collect()
    }
}

/// Read an anchor: an anchor file (`vigie audit anchor`) or an exploitation report's JSON.
pub fn read_anchors(path: &Path) -> Result<Vec<Anchor>, AppError> {
    let bytes = std::fs::read(path).map_err(AppError::io(path))?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        AppError::BadInput(format!(
            "{} is not JSON ({e}); give a file written by `vigie audit anchor` or a report's .json",
            path.display()
        ))
    })?;
    let list = v
        .get("anchors")
        .or_else(|| v.get("audit").and_then(|a| a.get("anchors")))
        .cloned()
        .ok_or_else(|| {
            AppError::BadInput(format!(
                "{} holds no anchors; give a file written by `vigie audit anchor` or a report's .json",
                path.display()
            ))
        })?;
    serde_json::from_value(list).map_err(|e| {
        AppError::BadInput(format!(
            "the anchors of {} are malformed ({e})",
            path.display()
        ))
    })
}

/// Export the current signed heads of every log to `out` (written once, never
/// overwritten), for the procedure record.
pub fn export_anchors(
    app: &App,
    operator: Option<&Operator>,
    out: &Path,
) -> Result<AnchorFile, AppError> {
    let file = AnchorFile {
        format: ANCHOR_FORMAT,
        taken_at: app.clock().now(),
        software_version: vigie_audit::SOFTWARE_VERSION.to_owned(),
        anchors: current_anchors(app.root(), None, app.clock())?,
    };
    let bytes = serde_json::to_vec_pretty(&file).expect("anchors serialise");
    vigie_audit::write_new(out, &bytes).map_err(AppError::io(out))?;
    let (sha256, size_bytes) = vigie_evidence::hash_file(out, |_| {})?;
    app.record_machine(
        operator,
        None,
        "anchors exported for the procedure record",
        &vigie_audit::event::Event::Exported {
            kind: vigie_audit::event::ExportKind::Report,
            source_id: None,
            source_sha256: None,
            detail: serde_json::json!({ "what": "anchors", "logs": file.anchors.len() }),
            files: vec![vigie_audit::event::FileHash {
                path: out.display().to_string(),
                sha256,
                size_bytes,
                inside_case: false,
            }],
        },
    )?;
    Ok(file)
}

/// Verify the logs of `scope`, across logs, and against `anchors` when given. Failures
/// are reported to the data controller (an alert in the machine log, best effort).
pub fn verify(
    app: &App,
    operator: Option<&Operator>,
    scope: &Scope,
    anchors: Option<&[Anchor]>,
) -> Result<VerifyReport, AppError> {
    let root = app.root();
    let clock = app.clock();
    let mut logs: Vec<AuditLog> = Vec::new();
    let mut findings = Vec::new();
    let case_ids: Vec<String> = match scope {
        Scope::Machine => Vec::new(),
        Scope::Case(id) => vec![id.clone()],
        Scope::All => {
            let mut ids = Vec::new();
            for listed in vigie_case::list_cases(root)? {
                match listed {
                    Ok(m) => ids.push(m.case_id),
                    Err(e) => {
                        // Never dropped in silence: a case whose record cannot be read or
                        // trusted is a finding, and its log is still verified.
                        let id = e.case_id().unwrap_or_default();
                        findings.push(LogFinding {
                            log_id: vigie_case::case_log_id(&id),
                            detail: e.to_string(),
                        });
                        if !id.is_empty() {
                            ids.push(id);
                        }
                    }
                }
            }
            ids
        }
    };
    if matches!(scope, Scope::Machine | Scope::All) {
        logs.push(root.machine_log(clock.clone())?);
    }
    for id in &case_ids {
        if let Scope::Case(_) = scope {
            // The case record against its chain (an error names the mismatch).
            if let Err(e) = vigie_case::load_case(root, id) {
                match e {
                    vigie_case::CaseError::UnknownCase(_) => return Err(e.into()),
                    other => findings.push(LogFinding {
                        log_id: vigie_case::case_log_id(id),
                        detail: other.to_string(),
                    }),
                }
            }
        }
        logs.push(root.case_log(id, clock.clone())?);
    }
    let mut results = Vec::new();
    for log in &logs {
        results.push(log.verify()?);
    }
    let across = check_case_logs(root, clock.clone())?;
    findings.extend(across.into_iter().filter(|f| match scope {
        Scope::All => true,
        Scope::Machine => true,
        Scope::Case(id) => f.log_id == vigie_case::case_log_id(id),
    }));
    if let Some(a) = anchors {
        findings.extend(check_anchors(root, a, clock.clone())?);
    }
    let report = VerifyReport {
        logs: results,
        findings,
    };
    if !report.is_trustworthy() {
        if let Ok(sink) = app.machine_alert_sink(operator) {
            let mut details = BTreeMap::new();
            for (i, f) in report.failures().iter().enumerate() {
                details.insert(format!("finding_{}", i + 1), f.clone());
            }
            let tampered_chain = report
                .logs
                .iter()
                .any(|v| matches!(v.status, VerifyStatus::Tampered { .. }));
            let _ = AuditAlertSink::raise(
                &sink,
                &Alert {
                    kind: if tampered_chain || !report.findings.is_empty() {
                        AlertKind::AuditTampered
                    } else {
                        AlertKind::RecordMismatch
                    },
                    message: "audit verification failed".into(),
                    details,
                },
            );
        }
    }
    Ok(report)
}
