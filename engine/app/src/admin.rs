//! Administration: the lifecycle and oversight of cases.
//!
//! Opening, closing, purging, reporting on a case and reading the audit logs are not uses
//! of footage; they are how the procedure and the data controller keep the use of footage
//! under control, so they also work on closed and expired cases (a closed case's report
//! must stay printable). They take an [`Administration`] permission: an operator and a
//! reason, never an entered case.

use std::path::{Path, PathBuf};

use vigie_audit::event::{Event, ExportKind, FileHash};
use vigie_case::{
    build_report, close_case_with, list_cases, load_case, open_case, purge_expired, CaseContext,
    CaseError, CaseMeta, ClosureSummary, OpenRequest, PurgeSummary, Report, ReportFiles, WhenBusy,
};

use crate::app::App;
use crate::error::AppError;
use crate::operator::Operator;

/// Read-only access to the compiled model allowlist (listing and checking files; no
/// session is ever created from here).
pub mod policy {
    pub use vigie_policy::{
        check_cache, measured, measured_for, model_path, models, runtime_library_path,
        AllowedModelId, CacheStatus, Labels, MeasuredKind, MeasuredSpec, ORT_VERSION,
    };
}

/// The models' measured quality compiled into this build (`models/measured.toml`), as the
/// exploitation report and the technical dossier state it.
pub fn measured_catalogue() -> Vec<vigie_case::MeasuredQuality> {
    vigie_policy::measured()
        .iter()
        .map(|m| vigie_case::MeasuredQuality {
            model_id: m.model_id.to_owned(),
            sha256: m.sha256.to_owned(),
            kind: m.kind.as_str().to_owned(),
            dataset: m.dataset.to_owned(),
            split: m.split.to_owned(),
            images: m.images,
            iou: m.iou,
            score_threshold: m.score_threshold,
            vigie_version: m.vigie_version.to_owned(),
            command: m.command.to_owned(),
            date: m.date.to_owned(),
            note: m.note.map(str::to_owned),
            classes: m
                .classes
                .iter()
                .map(|c| vigie_case::MeasuredClassRow {
                    class: c.class.to_owned(),
                    objects: c.objects,
                    recall: c.recall,
                    precision: c.precision,
                })
                .collect(),
        })
        .collect()
}

/// The permission for lifecycle and oversight.
#[derive(Debug, Clone)]
pub struct Administration {
    app: App,
    operator: Operator,
    reason: Option<String>,
}

/// A written report and where it was recorded.
#[derive(Debug)]
pub struct ReportWritten {
    pub report: Report,
    pub files: ReportFiles,
}

impl Administration {
    /// As [`Administration::new`], with the reason a front end was given checked first
    /// ([`crate::operator::check_reason`]: one line of at most 500 characters).
    pub fn with_reason(
        app: &App,
        operator: Operator,
        reason: Option<&str>,
    ) -> Result<Self, AppError> {
        if let Some(r) = reason {
            crate::operator::check_reason(r)?;
        }
        Ok(Self::new(app, operator, reason))
    }

    pub fn new(app: &App, operator: Operator, reason: Option<&str>) -> Self {
        // Every report this process writes (on demand, and the final one at closure,
        // which vigie-case builds) states the measured recall of the models a case loaded.
        vigie_case::install_measured(measured_catalogue());
        Self {
            app: app.clone(),
            operator,
            reason: reason
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned),
        }
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// Once operator accounts exist, administration is for accounts too: opening a case is
    /// for any enabled account (the opener may then enter it); a case's report, closure,
    /// renewal and repair for those who may enter it; purging expired cases for
    /// administrators. A refusal is an `operator_refused` alert.
    pub(crate) fn check_rights(
        &self,
        case_id: Option<&str>,
        admin_only: bool,
    ) -> Result<(), AppError> {
        let book = crate::accounts::load_book(&self.app)?;
        if book.is_empty() {
            return Ok(());
        }
        if let Some(case_id) = case_id.filter(|_| !admin_only) {
            let sink = self.app.machine_alert_sink(Some(&self.operator))?;
            return crate::accounts::check_case_entry(&self.app, &self.operator, case_id, &sink);
        }
        let id = self.operator.as_str();
        let why = match book.account(id) {
            Some(a) if a.disabled => "the account is disabled",
            Some(a) if a.admin || !admin_only => return Ok(()),
            Some(_) => "this is for administrators",
            None => "not an operator account of this installation (`vigie operator add`)",
        };
        let sink = self.app.machine_alert_sink(Some(&self.operator))?;
        let mut details = std::collections::BTreeMap::new();
        details.insert("operator_id".to_owned(), id.to_owned());
        details.insert("why".to_owned(), why.to_owned());
        let _ = vigie_core::AlertSink::raise(
            &sink,
            &vigie_core::Alert {
                kind: vigie_core::AlertKind::OperatorRefused,
                message: "an operator id without the right to administer was refused".into(),
                details,
            },
        );
        Err(crate::accounts::AccountError::Refused {
            id: id.to_owned(),
            case_id: None,
            why: why.to_owned(),
        }
        .into())
    }
    pub fn operator(&self) -> &Operator {
        &self.operator
    }

    /// The reason given (trimmed, `None` when empty).
    pub(crate) fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// Open a case for one procedure and its authorisation (logged in the case's log and
    /// the machine log).
    pub fn open_case(&self, mut req: OpenRequest) -> Result<CaseMeta, AppError> {
        self.check_rights(None, false)?;
        req.operator = self.operator.as_str().to_owned();
        Ok(open_case(self.app.root(), req, self.app.clock())?)
    }

    /// Every case (a damaged `case.json` is an error next to the good ones, never hidden).
    pub fn list_cases(&self) -> Result<Vec<Result<CaseMeta, CaseError>>, AppError> {
        Ok(list_cases(self.app.root())?)
    }

    pub fn show_case(&self, case_id: &str) -> Result<CaseMeta, AppError> {
        Ok(load_case(self.app.root(), case_id)?)
    }

    /// Close a case: refuse while work runs (naming it), or stop it and wait.
    pub fn close_case(
        &self,
        case_id: &str,
        when_busy: WhenBusy,
    ) -> Result<ClosureSummary, AppError> {
        self.check_rights(Some(case_id), false)?;
        Ok(close_case_with(
            self.app.root(),
            case_id,
            self.operator.as_str(),
            self.reason.as_deref(),
            when_busy,
            self.app.clock(),
        )?)
    }

    /// Extend a case's authorisation on the magistrate's renewal (the only way to extend
    /// it; recorded in the chain first).
    pub fn renew_case(
        &self,
        case_id: &str,
        authorization: &str,
        until: chrono::NaiveDate,
    ) -> Result<CaseMeta, AppError> {
        self.check_rights(Some(case_id), false)?;
        // A case folder put back after its closure reads as open: the machine log says.
        if let Some(closed_at) = crate::ledger::closed_on_record(&self.app, case_id)? {
            return Err(CaseError::Closed {
                case_id: case_id.to_owned(),
                closed_at,
            }
            .into());
        }
        Ok(vigie_case::renew_case(
            self.app.root(),
            case_id,
            self.operator.as_str(),
            authorization,
            until,
            self.reason.as_deref(),
            self.app.clock(),
        )?)
    }

    /// Rebuild a case's `case.json` from its chain; returns the record and the fields that
    /// differed.
    pub fn repair_case(&self, case_id: &str) -> Result<(CaseMeta, Vec<String>), AppError> {
        self.check_rights(Some(case_id), false)?;
        Ok(vigie_case::repair_case(
            self.app.root(),
            case_id,
            self.operator.as_str(),
            self.reason.as_deref(),
            self.app.clock(),
        )?)
    }

    /// Close every case whose authorisation ran out.
    pub fn purge_expired(&self) -> Result<PurgeSummary, AppError> {
        self.check_rights(None, true)?;
        Ok(purge_expired(
            self.app.root(),
            Some(self.operator.as_str()),
            self.app.clock(),
        )?)
    }

    /// Write a case's exploitation report into `out` (default: the case's `reports/`).
    /// Handing a report out is a disclosure: recorded in the case's log while it is open,
    /// in the machine log once it is closed or expired.
    pub fn write_report(
        &self,
        case_id: &str,
        out: Option<&Path>,
    ) -> Result<ReportWritten, AppError> {
        self.check_rights(Some(case_id), false)?;
        let root = self.app.root();
        let meta = load_case(root, case_id)?;
        let mut report = build_report(root, case_id, self.app.clock())?;
        // Cameras and corrected clocks as the case's log records them (the same book the
        // report's source table uses).
        let book = root
            .case_log(case_id, self.app.clock())
            .and_then(|log| Ok(log.entries_lenient()?.0))
            .map(|entries| vigie_case::timebook::TimeBook::replay(&entries))
            .unwrap_or_default();
        report.coverage = coverage_section(&root.case_dir(case_id), &book);
        let stem = format!("report-{}", report.generated_at.format("%Y%m%dT%H%M%SZ"));
        let case_dir = root.case_dir(case_id);
        let dir: PathBuf = out
            .map(Path::to_owned)
            .unwrap_or_else(|| case_dir.join("reports"));
        let files = vigie_case::write_report(&dir, &stem, &report)?;
        let inside = |p: &Path| match (p.canonicalize(), case_dir.canonicalize()) {
            (Ok(p), Ok(c)) => p.starts_with(c),
            _ => false,
        };
        let hashed = |p: &Path, sha256: &str| FileHash {
            path: p.display().to_string(),
            sha256: sha256.to_owned(),
            size_bytes: std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            inside_case: inside(p),
        };
        let event = Event::Exported {
            kind: ExportKind::Report,
            source_id: None,
            source_sha256: None,
            detail: serde_json::json!({ "audit": report.audit.verification.status }),
            files: vec![
                hashed(&files.html, &files.html_sha256),
                hashed(&files.json, &files.json_sha256),
            ],
        };
        let entered = match crate::ledger::closed_on_record(&self.app, case_id)? {
            // Closed on the machine log's record, whatever the case's files say.
            Some(closed_at) => Err(CaseError::Closed {
                case_id: case_id.to_owned(),
                closed_at,
            }),
            None => CaseContext::enter(root, case_id, self.operator.as_str(), self.app.clock()),
        };
        match entered {
            Ok(ctx) => {
                ctx.record(&event, self.reason.as_deref())?;
            }
            Err(CaseError::Closed { .. } | CaseError::Expired { .. }) => {
                let why = self
                    .reason
                    .clone()
                    .unwrap_or_else(|| format!("report on case {case_id} (not open)"));
                self.app.record_machine(
                    Some(&self.operator),
                    Some((case_id, &meta.procedure)),
                    &why,
                    &event,
                )?;
            }
            Err(e) => return Err(e.into()),
        }
        let recorder = vigie_audit::event::Recorder {
            operator: self.operator.as_str().to_owned(),
            case: Some(case_id.to_owned()),
            procedure: Some(meta.procedure.clone()),
            justification: self
                .reason
                .clone()
                .unwrap_or_else(|| format!("exploitation report on case {case_id}")),
        };
        vigie_case::record_case_head(root, case_id, &recorder, "report", self.app.clock())?;
        Ok(ReportWritten { report, files })
    }
}

/// The report's coverage section, when the case's index exists (derived data are erased
/// at closure: a closed case's report has none). Computed from the case's files, without
/// entering the case (the report is written for closed and expired cases too). A failure
/// is said in the section, never a reason not to write the report.
fn coverage_section(
    case_dir: &Path,
    book: &vigie_case::timebook::TimeBook,
) -> Option<vigie_case::report::CoverageSection> {
    let layout = crate::layout::DerivedLayout::new(case_dir);
    if !layout.index_path().exists() {
        return None;
    }
    let computed = (|| -> Result<_, AppError> {
        let index_sources = layout.existing_index()?.sources()?;
        let records = vigie_evidence::Registry::open(case_dir.join("evidence"))?.sources()?;
        let timed: Vec<_> = records
            .into_iter()
            .map(|rec| {
                let t = book.timing(&rec);
                (rec, t)
            })
            .collect();
        Ok(crate::coverage::compute_from(
            &timed,
            &index_sources,
            &crate::coverage::CoverageRequest::default(),
        ))
    })();
    Some(match computed {
        Ok(cov) => cov.to_report_section(),
        Err(e) => vigie_case::report::CoverageSection {
            cameras: Vec::new(),
            unplaced: Vec::new(),
            timeline_svg: None,
            unavailable: Some(e.to_string()),
        },
    })
}
