//! The exploitation report: what was done in a case, by whom, on which footage, with which
//! models, and whether the record of it is intact.
//!
//! Built only from the case's own files (case.json, the evidence registry, the audit log
//! and its verification), never from memory of the running process, so any later run
//! gives the same report for the same log. Written as JSON (for tools) and as one
//! self-contained HTML page (inline CSS, no script, no external resource) that prints to
//! PDF from any browser and can be attached to the procedure file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use vigie_audit::event::{Event, FileHash};
use vigie_audit::{Action, Clock, Entry, Verification};

use crate::error::{io_err, CaseError};
use crate::meta::CaseMeta;
use crate::root::DataRoot;

const REPORT_FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub format_version: u32,
    pub generated_at: DateTime<Utc>,
    pub software_version: String,
    pub case: CaseMeta,
    pub retention_end: NaiveDate,
    pub operators: Vec<OperatorRow>,
    pub sources: Vec<SourceRow>,
    pub models: Vec<ModelRow>,
    pub searches: Vec<SearchRow>,
    pub exports: Vec<ExportRow>,
    pub erasures: Vec<ActionRow>,
    pub alerts: Vec<AlertRow>,
    /// Entries per action category.
    pub entries_by_action: BTreeMap<String, u64>,
    pub audit: AuditSection,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatorRow {
    pub operator: String,
    pub entries: u64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRow {
    pub source_id: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub container: String,
    pub codec: String,
    pub duration_ms: Option<u64>,
    pub start_time: Option<String>,
    pub start_time_origin: Option<String>,
    pub ingested_at: DateTime<Utc>,
    pub path: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRow {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub model_id: Option<String>,
    pub sha256: Option<String>,
    pub params: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRow {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub operator: String,
    pub action: Action,
    pub params: Value,
    pub result_count: Option<u64>,
    pub justification: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportRow {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub operator: String,
    pub params: Value,
    /// The first file's hash (kept for readers of report format 1).
    pub sha256: Option<String>,
    /// Every file that left vigie in this disclosure, with its hash and destination.
    #[serde(default)]
    pub files: Vec<FileHash>,
    pub justification: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRow {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub operator: String,
    pub params: Value,
    pub result: Value,
    pub justification: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRow {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub kind: Option<String>,
    pub message: Option<String>,
    pub params: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditSection {
    pub verification: Verification,
    pub summary: String,
    /// Line numbers that could not be read as entries (left out of the tables above).
    pub unreadable_lines: Vec<u64>,
    pub public_key: String,
    pub key_fingerprint: String,
    /// The signed heads of the machine log and of the case's log when the report was
    /// written: keep this report elsewhere and `vigie audit verify --against` it later.
    #[serde(default)]
    pub anchors: Vec<crate::anchor::Anchor>,
}

/// Where a report was written, with the hashes to cite it by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFiles {
    pub html: PathBuf,
    pub json: PathBuf,
    pub html_sha256: String,
    pub json_sha256: String,
}

fn str_at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| v.get(*k).and_then(Value::as_str))
}

/// Build the report of a case (open or closed) from its files.
pub fn build_report(
    root: &DataRoot,
    case_id: &str,
    clock: Arc<dyn Clock>,
) -> Result<Report, CaseError> {
    let meta = crate::case::load_case_with(root, case_id, clock.clone())?;
    let dir = root.case_dir(case_id);
    let log = root.case_log(case_id, clock.clone())?;
    let verification = log.verify()?;
    let (entries, unreadable_lines) = log.entries_lenient()?;

    let registry = vigie_evidence::Registry::open(dir.join("evidence"))?;
    let sources = registry
        .sources()?
        .into_iter()
        .map(|s| SourceRow {
            source_id: s.source_id,
            sha256: s.sha256,
            size_bytes: s.size_bytes,
            container: s.meta.container,
            codec: s.meta.codec,
            duration_ms: s.meta.duration_ms,
            start_time: s.meta.start_time.map(|t| t.at.to_rfc3339()),
            start_time_origin: s.meta.start_time.map(|t| {
                serde_json::to_value(t.origin)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            }),
            ingested_at: s.ingested_at,
            path: s.path,
        })
        .collect();

    let mut operators: BTreeMap<String, OperatorRow> = BTreeMap::new();
    let mut entries_by_action: BTreeMap<String, u64> = BTreeMap::new();
    let mut models = Vec::new();
    let mut searches = Vec::new();
    let mut exports = Vec::new();
    let mut erasures = Vec::new();
    let mut alerts = Vec::new();
    for e in &entries {
        *entries_by_action
            .entry(e.action.as_str().to_owned())
            .or_default() += 1;
        let row = operators.entry(e.operator.clone()).or_insert(OperatorRow {
            operator: e.operator.clone(),
            entries: 0,
            first_at: e.time,
            last_at: e.time,
        });
        row.entries += 1;
        row.first_at = row.first_at.min(e.time);
        row.last_at = row.last_at.max(e.time);
        let typed = Event::from_entry(e);
        match e.action {
            Action::ModelLoad => models.push(ModelRow {
                seq: e.seq,
                at: e.time,
                model_id: match &typed {
                    Some(Event::ModelLoaded { model_id, .. }) => Some(model_id.clone()),
                    _ => str_at(&e.params, &["model_id", "model", "id"]).map(str::to_owned),
                },
                sha256: match &typed {
                    Some(Event::ModelLoaded { sha256, .. }) => Some(sha256.clone()),
                    _ => str_at(&e.params, &["sha256"]).map(str::to_owned),
                },
                params: e.params.clone(),
            }),
            Action::Consultation | Action::Combination => searches.push(SearchRow {
                seq: e.seq,
                at: e.time,
                operator: e.operator.clone(),
                action: e.action,
                params: e.params.clone(),
                result_count: match &typed {
                    Some(Event::Search { count, .. }) => Some(*count),
                    Some(Event::SourcesListed { count }) => Some(*count),
                    Some(Event::SourceAnalysed { tracks, .. }) => Some(*tracks),
                    Some(Event::SynopsisBuilt { tracks, .. }) => Some(tracks.len() as u64),
                    Some(Event::PlatesRead { reads, .. }) => {
                        Some(reads.iter().filter(|r| r.is_some()).count() as u64)
                    }
                    Some(_) => None,
                    None => ["count", "results", "result_count"]
                        .iter()
                        .find_map(|k| e.result.get(*k).and_then(Value::as_u64)),
                },
                justification: e.justification.clone(),
            }),
            Action::Disclosure => {
                let files = match &typed {
                    Some(ev) => ev.files().to_vec(),
                    None => legacy_disclosed_files(e),
                };
                exports.push(ExportRow {
                    seq: e.seq,
                    at: e.time,
                    operator: e.operator.clone(),
                    params: e.params.clone(),
                    sha256: files.first().map(|f| f.sha256.clone()),
                    files,
                    justification: e.justification.clone(),
                })
            }
            Action::Erasure => erasures.push(action_row(e)),
            Action::Alert => alerts.push(AlertRow {
                seq: e.seq,
                at: e.time,
                kind: match &typed {
                    Some(Event::Alert { kind, .. }) => serde_json::to_value(kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned)),
                    _ => str_at(&e.params, &["kind", "event"]).map(str::to_owned),
                },
                message: str_at(&e.params, &["message"]).map(str::to_owned),
                params: e.params.clone(),
            }),
            Action::Collection | Action::Alteration | Action::Lifecycle => {}
        }
    }

    let key = root.key()?;
    Ok(Report {
        format_version: REPORT_FORMAT,
        generated_at: clock.now(),
        software_version: DataRoot::software_version(),
        retention_end: meta.retention_end(),
        case: meta,
        operators: operators.into_values().collect(),
        sources,
        models,
        searches,
        exports,
        erasures,
        alerts,
        entries_by_action,
        audit: AuditSection {
            summary: verification.summary(),
            verification,
            unreadable_lines,
            public_key: key.public_hex(),
            key_fingerprint: key.fingerprint(),
            anchors: crate::anchor::current_anchors(root, Some(&[case_id.to_owned()]), clock)?,
        },
    })
}

/// The files of a disclosure written before typed events: `result.sha256` (clips, frames,
/// sheets), `result.files[]` (synopses: video, index, WebVTT), `params.sha256`.
fn legacy_disclosed_files(e: &Entry) -> Vec<FileHash> {
    let output = str_at(&e.params, &["output", "file", "html", "sheet"]).unwrap_or_default();
    // Old entries name files inside the case relative to it (`exports/...`).
    let inside = |p: &str| p.starts_with("exports/") || p.starts_with("reports/");
    if let Some(list) = e.result.get("files").and_then(Value::as_array) {
        return list
            .iter()
            .filter_map(|f| {
                Some(FileHash {
                    path: str_at(f, &["file", "path"]).unwrap_or_default().to_owned(),
                    sha256: str_at(f, &["sha256"])?.to_owned(),
                    size_bytes: f.get("size_bytes").and_then(Value::as_u64).unwrap_or(0),
                    inside_case: inside(str_at(f, &["file", "path"]).unwrap_or_default()),
                })
            })
            .collect();
    }
    str_at(&e.result, &["sha256", "output_sha256"])
        .or_else(|| str_at(&e.params, &["sha256"]))
        .map(|h| {
            vec![FileHash {
                path: output.to_owned(),
                sha256: h.to_owned(),
                size_bytes: e
                    .result
                    .get("size_bytes")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
                inside_case: inside(output),
            }]
        })
        .unwrap_or_default()
}

fn action_row(e: &Entry) -> ActionRow {
    ActionRow {
        seq: e.seq,
        at: e.time,
        operator: e.operator.clone(),
        params: e.params.clone(),
        result: e.result.clone(),
        justification: e.justification.clone(),
    }
}

/// The report as pretty JSON (with a trailing newline).
pub fn render_json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a report serialises");
    s.push('\n');
    s
}

/// Write `<stem>.json` and `<stem>.html` into `dir` (atomically, 0600). A missing `dir`
/// is created 0700; an existing one is left as it is (it may be the operator's own).
pub fn write_report(dir: &Path, stem: &str, report: &Report) -> Result<ReportFiles, CaseError> {
    if !dir.is_dir() {
        vigie_audit::create_private_dir_all(dir).map_err(io_err(dir))?;
    }
    let json = render_json(report);
    let html = render_html(report);
    let json_path = dir.join(format!("{stem}.json"));
    let html_path = dir.join(format!("{stem}.html"));
    vigie_audit::write_atomic(&json_path, json.as_bytes()).map_err(io_err(&json_path))?;
    vigie_audit::write_atomic(&html_path, html.as_bytes()).map_err(io_err(&html_path))?;
    Ok(ReportFiles {
        html_sha256: hex::encode(Sha256::digest(html.as_bytes())),
        json_sha256: hex::encode(Sha256::digest(json.as_bytes())),
        html: html_path,
        json: json_path,
    })
}

/// Escape text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn t(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn j(v: &Value) -> String {
    esc(&vigie_audit::canonical::to_canonical_string(v))
}

fn opt(v: &Option<String>) -> String {
    v.as_deref().map(esc).unwrap_or_else(|| "—".to_owned())
}

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#111}\
h1{font-size:1.5em}h2{font-size:1.15em;border-bottom:1px solid #999;margin-top:1.6em}\
table{border-collapse:collapse;width:100%;font-size:.85em;margin:.5em 0}\
th,td{border:1px solid #bbb;padding:.25em .4em;text-align:left;vertical-align:top}\
th{background:#eee}code{font-size:.9em;word-break:break-all}\
.ok{color:#060;font-weight:bold}.bad{color:#a00;font-weight:bold}.warn{color:#a60;font-weight:bold}\
.muted{color:#555}@media print{body{margin:0;max-width:none}}";

/// The report as one self-contained HTML page.
pub fn render_html(r: &Report) -> String {
    let mut h = String::new();
    let c = &r.case;
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n<title>Rapport d'exploitation / Exploitation report — {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&c.procedure)
    );
    let _ = writeln!(
        h,
        "<h1>Rapport d'exploitation — procédure {}<br><span class=\"muted\">Exploitation report</span></h1>",
        esc(&c.procedure)
    );
    let _ = writeln!(
        h,
        "<p class=\"muted\">Generated {} by {}. Case <code>{}</code>. Report format {}.</p>",
        t(&r.generated_at),
        esc(&r.software_version),
        esc(&c.case_id),
        r.format_version
    );

    // Audit verification first: a reader must know whether to trust the rest.
    let (class, label) = match r.audit.verification.status {
        vigie_audit::VerifyStatus::Tampered { .. } => ("bad", "FAILED"),
        vigie_audit::VerifyStatus::Intact => ("ok", "VERIFIED"),
        _ => ("warn", "VERIFIED (interrupted write)"),
    };
    let _ = writeln!(h, "<h2>Audit log verification</h2>");
    let _ = writeln!(
        h,
        "<p><span class=\"{class}\">{label}</span> — {}</p>",
        esc(&r.audit.summary)
    );
    let head = r
        .audit
        .verification
        .signed_head
        .as_ref()
        .map(|p| format!("entry {} — <code>{}</code>", p.seq, esc(&p.hash)))
        .unwrap_or_else(|| "—".into());
    let _ = writeln!(
        h,
        "<table><tr><th>Signed head</th><td>{head}</td></tr><tr><th>Installation public key (Ed25519)</th><td><code>{}</code></td></tr><tr><th>Key fingerprint</th><td><code>{}</code></td></tr><tr><th>Unreadable lines</th><td>{}</td></tr></table>",
        esc(&r.audit.public_key),
        esc(&r.audit.key_fingerprint),
        if r.audit.unreadable_lines.is_empty() {
            "none".to_owned()
        } else {
            r.audit
                .unreadable_lines
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    );

    let _ = writeln!(h, "<h2>Anchors (signed heads)</h2>");
    let _ = writeln!(
        h,
        "<p class=\"muted\">Keep this report outside the machine: <code>vigie audit verify --against</code> its JSON proves later that no entry up to these points was removed or rewritten, even by someone holding the installation key.</p>"
    );
    table(
        &mut h,
        &["Log", "Entry", "Hash", "Signature"],
        r.audit.anchors.iter().map(|a| {
            vec![
                esc(&a.log_id),
                a.seq.to_string(),
                format!("<code>{}</code>", esc(&a.hash)),
                format!("<code>{}</code>", esc(&a.signature)),
            ]
        }),
    );

    let _ = writeln!(h, "<h2>Procedure and authorisation</h2>\n<table>");
    let rows: [(&str, String); 11] = [
        ("Procedure number", esc(&c.procedure)),
        ("Authorisation reference", esc(&c.authorization)),
        ("Magistrate", esc(&c.magistrate)),
        ("Authorised on", c.authorized_on.to_string()),
        (
            "Valid until",
            c.valid_until
                .map(|d| d.to_string())
                .unwrap_or_else(|| "— (3-year limit applies)".into()),
        ),
        ("Retention end (last day)", r.retention_end.to_string()),
        ("Purpose", esc(&c.purpose)),
        ("Opened by", esc(&c.opened_by)),
        ("Opened at", t(&c.created_at)),
        (
            "Status",
            match (c.status, c.closure_reason) {
                (crate::CaseStatus::Open, _) => "open".to_owned(),
                (crate::CaseStatus::Closed, Some(crate::ClosureReason::Expired)) => {
                    "closed (authorisation expired)".to_owned()
                }
                (crate::CaseStatus::Closed, _) => "closed".to_owned(),
            },
        ),
        (
            "Closed",
            match (&c.closed_at, &c.closed_by) {
                (Some(at), Some(by)) => format!("{} by {}", t(at), esc(by)),
                _ => "—".into(),
            },
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(h, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    let _ = writeln!(h, "</table>");

    let _ = writeln!(h, "<h2>Operators</h2>");
    table(
        &mut h,
        &["Operator", "Entries", "First action", "Last action"],
        r.operators.iter().map(|o| {
            vec![
                esc(&o.operator),
                o.entries.to_string(),
                t(&o.first_at),
                t(&o.last_at),
            ]
        }),
    );

    let _ = writeln!(h, "<h2>Sources (evidence) and their hashes</h2>");
    table(
        &mut h,
        &[
            "Id",
            "SHA-256",
            "Size (bytes)",
            "Format",
            "Duration",
            "Start time",
            "Ingested",
            "Path at ingest",
        ],
        r.sources.iter().map(|s| {
            vec![
                esc(&s.source_id),
                format!("<code>{}</code>", esc(&s.sha256)),
                s.size_bytes.to_string(),
                format!("{} / {}", esc(&s.container), esc(&s.codec)),
                s.duration_ms
                    .map(|ms| format!("{:.1} s", ms as f64 / 1000.0))
                    .unwrap_or_else(|| "—".into()),
                match (&s.start_time, &s.start_time_origin) {
                    (Some(st), Some(o)) => format!("{} ({})", esc(st), esc(o)),
                    (Some(st), None) => esc(st),
                    _ => "—".into(),
                },
                t(&s.ingested_at),
                format!("<code>{}</code>", esc(&s.path.to_string_lossy())),
            ]
        }),
    );

    let _ = writeln!(h, "<h2>Models loaded and their hashes</h2>");
    table(
        &mut h,
        &["Entry", "Time", "Model", "SHA-256", "Parameters"],
        r.models.iter().map(|m| {
            vec![
                m.seq.to_string(),
                t(&m.at),
                opt(&m.model_id),
                m.sha256
                    .as_deref()
                    .map(|s| format!("<code>{}</code>", esc(s)))
                    .unwrap_or_else(|| "—".into()),
                format!("<code>{}</code>", j(&m.params)),
            ]
        }),
    );

    let _ = writeln!(h, "<h2>Searches</h2>");
    table(
        &mut h,
        &[
            "Entry",
            "Time",
            "Operator",
            "Kind",
            "Parameters",
            "Results",
            "Justification",
        ],
        r.searches.iter().map(|s| {
            vec![
                s.seq.to_string(),
                t(&s.at),
                esc(&s.operator),
                s.action.as_str().to_owned(),
                format!("<code>{}</code>", j(&s.params)),
                s.result_count
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "—".into()),
                esc(&s.justification),
            ]
        }),
    );

    let _ = writeln!(h, "<h2>Exports (disclosures) and their hashes</h2>");
    table(
        &mut h,
        &[
            "Entry",
            "Time",
            "Operator",
            "Files (SHA-256, destination)",
            "Parameters",
            "Justification",
        ],
        r.exports.iter().map(|e| {
            vec![
                e.seq.to_string(),
                t(&e.at),
                esc(&e.operator),
                if e.files.is_empty() {
                    e.sha256
                        .as_deref()
                        .map(|s| format!("<code>{}</code>", esc(s)))
                        .unwrap_or_else(|| "—".into())
                } else {
                    e.files
                        .iter()
                        .map(|f| {
                            format!(
                                "<code>{}</code> {}{}",
                                esc(&f.sha256),
                                esc(&f.path),
                                if f.inside_case {
                                    ""
                                } else {
                                    " <span class=\"warn\">(outside the case)</span>"
                                }
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("<br>")
                },
                format!("<code>{}</code>", j(&e.params)),
                esc(&e.justification),
            ]
        }),
    );

    let _ = writeln!(h, "<h2>Alerts</h2>");
    table(
        &mut h,
        &["Entry", "Time", "Kind", "Message", "Details"],
        r.alerts.iter().map(|a| {
            vec![
                a.seq.to_string(),
                t(&a.at),
                opt(&a.kind),
                opt(&a.message),
                format!("<code>{}</code>", j(&a.params)),
            ]
        }),
    );

    let _ = writeln!(h, "<h2>Erasures</h2>");
    table(
        &mut h,
        &[
            "Entry",
            "Time",
            "Operator",
            "What was erased",
            "Result",
            "Justification",
        ],
        r.erasures.iter().map(|e| {
            vec![
                e.seq.to_string(),
                t(&e.at),
                esc(&e.operator),
                format!("<code>{}</code>", j(&e.params)),
                format!("<code>{}</code>", j(&e.result)),
                esc(&e.justification),
            ]
        }),
    );

    let _ = writeln!(h, "<h2>Audit entries by category</h2>");
    table(
        &mut h,
        &["Category", "Entries"],
        r.entries_by_action
            .iter()
            .map(|(k, v)| vec![esc(k), v.to_string()]),
    );
    let _ = writeln!(
        h,
        "<p class=\"muted\">Every entry of the case's audit log is in <code>audit/audit.jsonl</code>; <code>vigie audit verify --case {}</code> re-checks it against the signed head and the public key above.</p>",
        esc(&c.case_id)
    );
    h.push_str("</body>\n</html>\n");
    h
}

fn table(h: &mut String, headers: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    let mut body = String::new();
    for row in rows {
        body.push_str("<tr>");
        for cell in row {
            let _ = write!(body, "<td>{cell}</td>");
        }
        body.push_str("</tr>\n");
    }
    if body.is_empty() {
        h.push_str("<p class=\"muted\">None.</p>\n");
        return;
    }
    h.push_str("<table><tr>");
    for head in headers {
        let _ = write!(h, "<th>{head}</th>");
    }
    h.push_str("</tr>\n");
    h.push_str(&body);
    h.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_html() {
        assert_eq!(
            esc("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }
}
