//! Opening, entering, closing and purging cases.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vigie_audit::event::{ErasedFile, Event, FileHash, Recorder};
use vigie_audit::{
    Action, AuditAlertSink, AuditLog, Clock, EntryRef, NewEntry, TeeAlertSink, AUTOMATIC_OPERATOR,
};

use crate::lock::{ClosureLock, RunningWork, WhenBusy};

use crate::chain::{check_meta, meta_from_chain, replay_case};
use crate::error::{io_err, CaseError};
use crate::meta::{
    case_id_from_procedure, max_retention_end, new_meta_format, read_meta, retention_end,
    validate_case_id, write_meta, CaseMeta, CaseStatus, ClosureReason,
};
use crate::report::{build_report, write_report, ReportFiles};
use crate::root::DataRoot;

/// The folders a case is made with (`shards/` is made on demand; [`ERASED_AT_CLOSURE`]).
pub const SUBDIRS: [&str; 5] = ["audit", "evidence", "derived", "exports", "reports"];
/// Directories whose content is erased at closure.
pub const ERASED_AT_CLOSURE: [&str; 3] = ["derived", "exports", "shards"];

/// What `vigie case open` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRequest {
    /// Explicit id; derived from the procedure number when `None`.
    pub case_id: Option<String>,
    pub procedure: String,
    pub authorization: String,
    pub magistrate: String,
    pub authorized_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub operator: String,
    pub purpose: String,
}

fn required(value: &str, field: &'static str) -> Result<String, CaseError> {
    let v = value.trim();
    if v.is_empty() {
        Err(CaseError::MissingField(field))
    } else {
        Ok(v.to_owned())
    }
}

fn private_dir(path: &Path) -> Result<(), CaseError> {
    vigie_audit::create_private_dir_all(path).map_err(io_err(path))
}

/// Open a case: validate the authorisation, create the case directory (0700) and its
/// layout, write `case.json`, and log the opening in the case's log and the machine log.
pub fn open_case(
    root: &DataRoot,
    req: OpenRequest,
    clock: Arc<dyn Clock>,
) -> Result<CaseMeta, CaseError> {
    let procedure = required(&req.procedure, "--procedure")?;
    let authorization = required(&req.authorization, "--authorization")?;
    let magistrate = required(&req.magistrate, "--magistrate")?;
    let operator = required(&req.operator, "--operator")?;
    let purpose = required(&req.purpose, "--purpose")?;
    let case_id = match &req.case_id {
        Some(id) => {
            validate_case_id(id)?;
            id.clone()
        }
        None => case_id_from_procedure(&procedure)?,
    };
    let now = clock.now();
    let today = now.date_naive();
    if req.authorized_on > today {
        return Err(CaseError::AuthorizedInFuture {
            authorized_on: req.authorized_on,
            today,
        });
    }
    if let Some(v) = req.valid_until {
        if v < req.authorized_on {
            return Err(CaseError::ValidBeforeAuthorized {
                authorized_on: req.authorized_on,
                valid_until: v,
            });
        }
        let max = max_retention_end(req.authorized_on);
        if v > max {
            return Err(CaseError::BeyondRetention {
                authorized_on: req.authorized_on,
                valid_until: v,
                max,
            });
        }
    }
    let end = retention_end(req.authorized_on, req.valid_until);
    if today > end {
        return Err(CaseError::AlreadyExpired { end, today });
    }

    root.ensure()?;
    let cases = root.cases_dir();
    private_dir(&cases)?;
    let dir = root.case_dir(&case_id);
    // Non-recursive create: fails if the case exists, even with another process racing.
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, vigie_audit::DIR_MODE);
    match builder.create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(CaseError::CaseExists(case_id))
        }
        Err(e) => return Err(io_err(&dir)(e)),
    }
    for sub in SUBDIRS {
        private_dir(&dir.join(sub))?;
    }
    let meta = CaseMeta {
        format_version: new_meta_format(),
        case_id: case_id.clone(),
        procedure,
        authorization,
        magistrate,
        authorized_on: req.authorized_on,
        valid_until: req.valid_until,
        opened_by: operator.clone(),
        purpose,
        status: CaseStatus::Open,
        created_at: now,
        closed_at: None,
        closed_by: None,
        closure_reason: None,
    };
    write_meta(&dir, &meta)?;
    vigie_audit::sync_dir(&cases).map_err(io_err(&cases))?;

    let event = Event::CaseOpened {
        procedure: meta.procedure.clone(),
        authorization: meta.authorization.clone(),
        magistrate: meta.magistrate.clone(),
        authorized_on: meta.authorized_on,
        valid_until: meta.valid_until,
        retention_end: end,
        purpose: meta.purpose.clone(),
    };
    let recorder = Recorder {
        operator,
        case: Some(case_id),
        procedure: Some(meta.procedure.clone()),
        justification: meta.purpose.clone(),
    };
    root.case_log(&meta.case_id, clock.clone())?
        .record(&recorder, &event)?;
    root.machine_log(clock.clone())?.record(&recorder, &event)?;
    record_case_head(root, &meta.case_id, &recorder, "opened", clock)?;
    Ok(meta)
}

/// A case's metadata, open or closed, checked against the case's audit chain: a
/// `case.json` that disagrees with it is an integrity failure (and an alert), never
/// trusted.
pub fn load_case(root: &DataRoot, case_id: &str) -> Result<CaseMeta, CaseError> {
    load_case_with(root, case_id, crate::clock_from_env()?)
}

/// [`load_case`], recording any alert with `clock` (the caller's).
pub fn load_case_with(
    root: &DataRoot,
    case_id: &str,
    clock: Arc<dyn Clock>,
) -> Result<CaseMeta, CaseError> {
    validate_case_id(case_id)?;
    let meta = read_meta(&root.case_dir(case_id), case_id)?;
    let log = root.case_log(case_id, Arc::new(vigie_audit::SystemClock))?;
    // Every entry into a case comes here (a web server: every page view): the log is
    // read from where the last reading stopped, without its consultations, which the
    // replay does not look at (see `AuditLog::entries_but_consultations`).
    let fields = match replay_case(&log.entries_but_consultations()?) {
        Ok(chain) => check_meta(&meta, &chain).join(", "),
        Err(e) => e.to_string(),
    };
    if fields.is_empty() {
        return Ok(meta);
    }
    raise_record_alert(
        root,
        clock,
        case_id,
        &meta.procedure,
        "case.json disagrees with the case's audit chain; vigie refused to use it",
        &[("fields", &fields)],
    );
    Err(CaseError::RecordMismatch {
        case_id: case_id.to_owned(),
        fields,
    })
}

/// Raise a `record_mismatch` alert in the machine log (best effort: the refusal stands
/// even if the alert cannot be written).
pub(crate) fn raise_record_alert(
    root: &DataRoot,
    clock: Arc<dyn Clock>,
    case_id: &str,
    procedure: &str,
    message: &str,
    details: &[(&str, &str)],
) {
    if let Ok(machine) = root.machine_log(clock) {
        let mut d = std::collections::BTreeMap::new();
        d.insert("case_id".to_owned(), case_id.to_owned());
        for (k, v) in details {
            d.insert((*k).to_owned(), (*v).to_owned());
        }
        let _ = vigie_core::AlertSink::raise(
            &AuditAlertSink::new(machine, None).for_case(case_id, procedure),
            &vigie_core::Alert {
                kind: vigie_core::AlertKind::RecordMismatch,
                message: message.to_owned(),
                details: d,
            },
        );
    }
}

/// Record in the machine log the case log's current head, so that a case log that later
/// disappears, is reset, truncated or replaced is detected (`vigie audit verify`).
pub fn record_case_head(
    root: &DataRoot,
    case_id: &str,
    recorder: &Recorder,
    at: &str,
    clock: Arc<dyn Clock>,
) -> Result<EntryRef, CaseError> {
    let log = root.case_log(case_id, clock.clone())?;
    let last = log
        .entries()?
        .last()
        .map(|e| (e.seq, e.hash.clone()))
        .unwrap_or((0, vigie_audit::genesis_hash(log.log_id())));
    Ok(root.machine_log(clock)?.record(
        recorder,
        &Event::CaseLogHead {
            case_id: case_id.to_owned(),
            seq: last.0,
            hash: last.1,
            at: at.to_owned(),
        },
    )?)
}

/// Record in the machine log that `case_id`'s log holds `entry` (just written by this
/// process: a disclosure), without reading the case log again.
pub fn record_case_entry_head(
    root: &DataRoot,
    case_id: &str,
    recorder: &Recorder,
    at: &str,
    entry: &EntryRef,
    clock: Arc<dyn Clock>,
) -> Result<EntryRef, CaseError> {
    Ok(root.machine_log(clock)?.record(
        recorder,
        &Event::CaseLogHead {
            case_id: case_id.to_owned(),
            seq: entry.seq,
            hash: entry.hash.clone(),
            at: at.to_owned(),
        },
    )?)
}

/// Extend a case's authorisation on the magistrate's renewal: the only way to change its
/// end. Recorded in the case's log (the chain is the reference) before `case.json`.
pub fn renew_case(
    root: &DataRoot,
    case_id: &str,
    operator: &str,
    authorization: &str,
    until: NaiveDate,
    justification: Option<&str>,
    clock: Arc<dyn Clock>,
) -> Result<CaseMeta, CaseError> {
    let operator = required(operator, "--operator")?;
    let authorization = required(authorization, "--authorization")?;
    let mut meta = load_case_with(root, case_id, clock.clone())?;
    if meta.status == CaseStatus::Closed {
        return Err(CaseError::RenewClosed(case_id.to_owned()));
    }
    let current = meta.retention_end();
    if until <= current {
        return Err(CaseError::RenewNotLater { until, current });
    }
    let max = max_retention_end(meta.authorized_on);
    if until > max {
        return Err(CaseError::BeyondRetention {
            authorized_on: meta.authorized_on,
            valid_until: until,
            max,
        });
    }
    let recorder = Recorder {
        operator,
        case: Some(case_id.to_owned()),
        procedure: Some(meta.procedure.clone()),
        justification: justification
            .map(str::trim)
            .filter(|j| !j.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| format!("renewal of the authorisation ({authorization})")),
    };
    let event = Event::CaseRenewed {
        authorization: authorization.clone(),
        valid_until: until,
        previous_authorization: meta.authorization.clone(),
        previous_valid_until: meta.valid_until,
        retention_end: retention_end(meta.authorized_on, Some(until)),
    };
    root.case_log(case_id, clock.clone())?
        .record(&recorder, &event)?;
    root.machine_log(clock.clone())?.record(&recorder, &event)?;
    meta.authorization = authorization;
    meta.valid_until = Some(until);
    write_meta(&root.case_dir(case_id), &meta)?;
    record_case_head(root, case_id, &recorder, "renewed", clock)?;
    Ok(meta)
}

/// Rebuild a missing, damaged or edited `case.json` from the case's chain (logged in both
/// logs). Refused when the chain itself fails verification.
pub fn repair_case(
    root: &DataRoot,
    case_id: &str,
    operator: &str,
    justification: Option<&str>,
    clock: Arc<dyn Clock>,
) -> Result<(CaseMeta, Vec<String>), CaseError> {
    let operator = required(operator, "--operator")?;
    validate_case_id(case_id)?;
    let dir = root.case_dir(case_id);
    if !dir.is_dir() {
        return Err(CaseError::UnknownCase(case_id.to_owned()));
    }
    let log = root.case_log(case_id, clock.clone())?;
    let check = log.verify()?;
    if let vigie_audit::VerifyStatus::Tampered { finding } = check.status {
        return Err(vigie_audit::AuditError::Tampered {
            log_id: check.log_id,
            finding,
        }
        .into());
    }
    let chain = replay_case(&log.entries()?).map_err(|e| CaseError::RecordMismatch {
        case_id: case_id.to_owned(),
        fields: e.to_string(),
    })?;
    let (old, was) = match read_meta(&dir, case_id) {
        Ok(m) => (Some(m), "present".to_owned()),
        Err(CaseError::UnknownCase(_)) => (None, "missing".to_owned()),
        Err(e) => (None, format!("unreadable: {e}")),
    };
    let fields: Vec<String> = old
        .as_ref()
        .map(|m| {
            check_meta(m, &chain)
                .iter()
                .map(|s| s.to_string())
                .collect()
        })
        .unwrap_or_default();
    let meta = meta_from_chain(case_id, &chain, old.as_ref().map(|m| m.created_at));
    let recorder = Recorder {
        operator,
        case: Some(case_id.to_owned()),
        procedure: Some(meta.procedure.clone()),
        justification: justification
            .map(str::trim)
            .filter(|j| !j.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| "case.json rebuilt from the audit chain".to_owned()),
    };
    let event = Event::CaseRecordRepaired {
        fields: fields.clone(),
        was,
    };
    log.record(&recorder, &event)?;
    root.machine_log(clock.clone())?.record(&recorder, &event)?;
    write_meta(&dir, &meta)?;
    record_case_head(root, case_id, &recorder, "repaired", clock)?;
    Ok((meta, fields))
}

/// Every case under the root, sorted by id. Directories without a valid `case.json` are
/// reported as errors next to the good ones, not hidden.
pub fn list_cases(root: &DataRoot) -> Result<Vec<Result<CaseMeta, CaseError>>, CaseError> {
    list_cases_with(root, crate::clock_from_env()?)
}

/// [`list_cases`], recording any alert with `clock`.
pub fn list_cases_with(
    root: &DataRoot,
    clock: Arc<dyn Clock>,
) -> Result<Vec<Result<CaseMeta, CaseError>>, CaseError> {
    let dir = root.cases_dir();
    let read = match fs::read_dir(&dir) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(&dir)(e)),
    };
    let mut ids: Vec<String> = Vec::new();
    for entry in read {
        let entry = entry.map_err(io_err(&dir))?;
        if entry.file_type().map_err(io_err(entry.path()))?.is_dir() {
            ids.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    ids.sort();
    Ok(ids
        .iter()
        .map(|id| load_case_with(root, id, clock.clone()))
        .collect())
}

/// An open, authorised, unexpired case, entered by one operator. Every command that
/// touches footage or results goes through this.
#[derive(Clone)]
pub struct CaseContext {
    root: DataRoot,
    meta: CaseMeta,
    operator: String,
    dir: PathBuf,
    log: AuditLog,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for CaseContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseContext")
            .field("case_id", &self.meta.case_id)
            .field("operator", &self.operator)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl CaseContext {
    /// Enter a case; refuses an unknown, closed or expired case and an empty operator.
    pub fn enter(
        root: &DataRoot,
        case_id: &str,
        operator: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CaseError> {
        if case_id.trim().is_empty() {
            return Err(CaseError::NoCase);
        }
        let operator = operator.trim();
        if operator.is_empty() {
            return Err(CaseError::NoOperator);
        }
        let meta = load_case_with(root, case_id, clock.clone())?;
        if meta.status == CaseStatus::Closed {
            return Err(CaseError::Closed {
                case_id: meta.case_id.clone(),
                closed_at: meta
                    .closed_at
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default(),
            });
        }
        let today = clock.now().date_naive();
        if meta.is_expired(today) {
            return Err(CaseError::Expired {
                case_id: meta.case_id.clone(),
                end: meta.retention_end(),
                today,
            });
        }
        let log = root.case_log(case_id, clock.clone())?;
        Ok(Self {
            root: root.clone(),
            dir: root.case_dir(case_id),
            meta,
            operator: operator.to_owned(),
            log,
            clock,
        })
    }

    /// Enter from optional flags (`--case`, `--operator`), with the matching refusals.
    pub fn enter_from(
        root: &DataRoot,
        case_id: Option<&str>,
        operator: Option<&str>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CaseError> {
        let case_id = case_id
            .filter(|c| !c.trim().is_empty())
            .ok_or(CaseError::NoCase)?;
        let operator = operator
            .filter(|o| !o.trim().is_empty())
            .ok_or(CaseError::NoOperator)?;
        Self::enter(root, case_id, operator, clock)
    }

    pub fn case_id(&self) -> &str {
        &self.meta.case_id
    }
    pub fn procedure(&self) -> &str {
        &self.meta.procedure
    }
    pub fn operator(&self) -> &str {
        &self.operator
    }
    pub fn meta(&self) -> &CaseMeta {
        &self.meta
    }
    pub fn root(&self) -> &DataRoot {
        &self.root
    }
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// `<case>/evidence`: open `vigie_evidence::Registry` here.
    pub fn evidence_dir(&self) -> PathBuf {
        self.dir.join("evidence")
    }
    /// `<case>/derived`: index, thumbnails, crops, synopses. Erased at closure.
    pub fn derived_dir(&self) -> PathBuf {
        self.dir.join("derived")
    }
    /// `<case>/exports`: extracts handed over. Erased at closure (their hashes stay in
    /// the log's disclosure entries).
    pub fn exports_dir(&self) -> PathBuf {
        self.dir.join("exports")
    }
    /// `<case>/reports`.
    pub fn reports_dir(&self) -> PathBuf {
        self.dir.join("reports")
    }
    /// The case's audit log.
    pub fn audit_log(&self) -> &AuditLog {
        &self.log
    }

    /// Record an action in the case's log (synced before returning). `justification`
    /// `None` records the case's purpose.
    ///
    /// Conventions the exploitation report reads: a `consultation`'s `result.count` is its
    /// number of results; a `disclosure`'s `result.sha256` (or `params.sha256`) is the
    /// hash of what left vigie; a `model_load`'s `params.model_id` and `params.sha256`
    /// name the model.
    pub fn log(
        &self,
        action: Action,
        params: Value,
        justification: Option<&str>,
        result: Value,
    ) -> Result<EntryRef, CaseError> {
        let justification = justification
            .map(str::trim)
            .filter(|j| !j.is_empty())
            .unwrap_or(&self.meta.purpose)
            .to_owned();
        Ok(self.log.append(NewEntry {
            operator: self.operator.clone(),
            case: Some(self.meta.case_id.clone()),
            procedure: Some(self.meta.procedure.clone()),
            action,
            params,
            justification,
            result,
        })?)
    }

    /// Record a typed event in the case's log (synced before returning). `justification`
    /// `None` records the case's purpose.
    pub fn record(
        &self,
        event: &Event,
        justification: Option<&str>,
    ) -> Result<EntryRef, CaseError> {
        Ok(self.log.record(&self.recorder(justification), event)?)
    }

    /// Who records this case's entries, and why.
    pub fn recorder(&self, justification: Option<&str>) -> Recorder {
        Recorder {
            operator: self.operator.clone(),
            case: Some(self.meta.case_id.clone()),
            procedure: Some(self.meta.procedure.clone()),
            justification: justification
                .map(str::trim)
                .filter(|j| !j.is_empty())
                .unwrap_or(&self.meta.purpose)
                .to_owned(),
        }
    }

    /// Where alerts go while working in this case: the machine log and the case's log.
    /// If the machine log cannot be opened, alerts still go to the case's log and the
    /// sink reports the machine log's failure after recording them there.
    pub fn alert_sink(&self) -> impl vigie_core::AlertSink + '_ {
        let case = AuditAlertSink::new(self.log.clone(), Some(&self.operator))
            .for_case(self.case_id(), self.procedure());
        let machine = self.root.machine_log(self.clock.clone()).map(|m| {
            AuditAlertSink::new(m, Some(&self.operator)).for_case(self.case_id(), self.procedure())
        });
        CaseAlertSink {
            case,
            machine: machine.map_err(|e| e.to_string()),
        }
    }

    /// Like [`CaseContext::alert_sink`], failing at once if the machine log cannot be
    /// opened.
    pub fn try_alert_sink(
        &self,
    ) -> Result<TeeAlertSink<AuditAlertSink, AuditAlertSink>, CaseError> {
        let machine = self.root.machine_log(self.clock.clone())?;
        Ok(TeeAlertSink {
            first: AuditAlertSink::new(machine, Some(&self.operator))
                .for_case(self.case_id(), self.procedure()),
            second: AuditAlertSink::new(self.log.clone(), Some(&self.operator))
                .for_case(self.case_id(), self.procedure()),
        })
    }
}

/// The sink of [`CaseContext::alert_sink`].
struct CaseAlertSink {
    case: AuditAlertSink,
    machine: Result<AuditAlertSink, String>,
}

impl vigie_core::AlertSink for CaseAlertSink {
    fn raise(&self, alert: &vigie_core::Alert) -> Result<(), vigie_core::AlertSinkError> {
        match &self.machine {
            Ok(machine) => {
                // Both are attempted even if the first fails.
                let m = machine.raise(alert);
                let c = self.case.raise(alert);
                m.and(c)
            }
            Err(why) => {
                self.case.raise(alert)?;
                Err(vigie_core::AlertSinkError(format!(
                    "alert recorded in the case's log, but not in the machine-wide log: {why}"
                )))
            }
        }
    }
}

/// One file or directory erased at closure: its path inside the case, not its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasedItem {
    pub path: String,
    pub bytes: u64,
}

/// What closing a case did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosureSummary {
    pub case_id: String,
    pub reason: ClosureReason,
    pub erased_files: u64,
    pub erased_bytes: u64,
    pub erased: Vec<ErasedItem>,
    pub erasure_entry: EntryRef,
    pub final_report: ReportFiles,
    /// Copies disclosed outside the case that vigie could not erase.
    pub outside_copies: Vec<FileHash>,
    /// Work that closure stopped (`--wait`).
    pub stopped_work: Vec<RunningWork>,
}

fn list_files(base: &Path, dir: &Path, out: &mut Vec<ErasedItem>) -> Result<(), CaseError> {
    let read = match fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    let mut entries: Vec<_> = read.collect::<Result<Vec<_>, _>>().map_err(io_err(dir))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let ft = e.file_type().map_err(io_err(&path))?;
        if ft.is_dir() {
            list_files(base, &path, out)?;
        } else {
            let bytes = if ft.is_file() {
                e.metadata().map_err(io_err(&path))?.len()
            } else {
                0
            };
            out.push(ErasedItem {
                path: path
                    .strip_prefix(base)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned(),
                bytes,
            });
        }
    }
    Ok(())
}

/// Close a case: erase its derived data and exports (logging what was erased, not its
/// content), mark it closed, and write the final exploitation report. The audit log, the
/// evidence registry and the reports stay.
pub fn close_case(
    root: &DataRoot,
    case_id: &str,
    operator: &str,
    justification: Option<&str>,
    clock: Arc<dyn Clock>,
) -> Result<ClosureSummary, CaseError> {
    close_with_reason(
        root,
        case_id,
        operator,
        justification,
        ClosureReason::Closed,
        WhenBusy::Refuse,
        clock,
    )
}

/// [`close_case`], choosing what happens while work is running in the case: refuse at
/// once (naming it), or ask it to stop and wait.
pub fn close_case_with(
    root: &DataRoot,
    case_id: &str,
    operator: &str,
    justification: Option<&str>,
    when_busy: WhenBusy,
    clock: Arc<dyn Clock>,
) -> Result<ClosureSummary, CaseError> {
    close_with_reason(
        root,
        case_id,
        operator,
        justification,
        ClosureReason::Closed,
        when_busy,
        clock,
    )
}

fn close_with_reason(
    root: &DataRoot,
    case_id: &str,
    operator: &str,
    justification: Option<&str>,
    reason: ClosureReason,
    when_busy: WhenBusy,
    clock: Arc<dyn Clock>,
) -> Result<ClosureSummary, CaseError> {
    let operator = operator.trim();
    if operator.is_empty() {
        return Err(CaseError::NoOperator);
    }
    validate_case_id(case_id)?;
    let dir = root.case_dir(case_id);
    read_meta(&dir, case_id)?; // refuses an unknown case
                               // A tampered log is named as such (before the record is checked against it).
    let check = root.case_log(case_id, clock.clone())?.verify()?;
    if let vigie_audit::VerifyStatus::Tampered { finding } = check.status {
        return Err(vigie_audit::AuditError::Tampered {
            log_id: check.log_id,
            finding,
        }
        .into());
    }
    let meta0 = load_case_with(root, case_id, clock.clone())?; // checked against the chain
    if meta0.status == CaseStatus::Closed {
        return Err(CaseError::AlreadyClosed(case_id.to_owned()));
    }
    let lock = ClosureLock::acquire(&dir, case_id, when_busy)?;
    let mut meta = read_meta(&dir, case_id)?; // again, under the lock
    if meta.status == CaseStatus::Closed {
        return Err(CaseError::AlreadyClosed(case_id.to_owned()));
    }

    // 0. The erasure must be recorded: refuse before erasing anything if the log would
    //    refuse the entry (tampered), rather than erase without a trace.
    let log = root.case_log(case_id, clock.clone())?;
    let check = log.verify()?;
    if let vigie_audit::VerifyStatus::Tampered { finding } = check.status {
        return Err(vigie_audit::AuditError::Tampered {
            log_id: check.log_id,
            finding,
        }
        .into());
    }

    // Copies disclosed outside the case: vigie cannot erase them; the erasure entry
    // lists them so the record says where they went.
    let outside_copies = outside_copies(&log, &dir)?;

    // 1. What will be erased.
    let mut erased = Vec::new();
    for sub in ERASED_AT_CLOSURE {
        list_files(&dir, &dir.join(sub), &mut erased)?;
    }
    let erased_bytes = erased.iter().map(|e| e.bytes).sum();
    let justification = justification
        .map(str::trim)
        .filter(|j| !j.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| match reason {
            ClosureReason::Closed => format!("closure of procedure {}", meta.procedure),
            ClosureReason::Expired => format!(
                "retention limit reached: the authorisation ran until {} (CPP art. 230-22: erasure at closure, 3 years at most)",
                meta.retention_end()
            ),
        });

    // 2. Erase, then record. If erasing fails half-way the case stays open and a second
    //    `close` erases the rest; the entry is written only once everything is gone.
    for sub in ERASED_AT_CLOSURE {
        let p = dir.join(sub);
        match fs::remove_dir_all(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&p)(e)),
        }
    }
    vigie_audit::sync_dir(&dir).map_err(io_err(&dir))?;
    let event = match reason {
        ClosureReason::Closed => "closed",
        ClosureReason::Expired => "expired",
    };
    let erased_files: Vec<ErasedFile> = erased
        .iter()
        .map(|e| ErasedFile {
            path: e.path.clone(),
            bytes: e.bytes,
        })
        .collect();
    let recorder = Recorder {
        operator: operator.to_owned(),
        case: Some(case_id.to_owned()),
        procedure: Some(meta.procedure.clone()),
        justification: justification.clone(),
    };
    let erasure_entry = log.record(
        &recorder,
        &Event::CaseClosed {
            reason: event.to_owned(),
            erased_dirs: ERASED_AT_CLOSURE.iter().map(|s| s.to_string()).collect(),
            erased: erased_files,
            erased_files: erased.len() as u64,
            erased_bytes,
            kept: ["case.json", "audit", "evidence/sources.json", "reports"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            outside_copies: outside_copies.clone(),
            stopped_work: lock.stopped.clone(),
        },
    )?;

    // 3. Closed.
    let now = clock.now();
    meta.status = CaseStatus::Closed;
    meta.closed_at = Some(now);
    meta.closed_by = Some(operator.to_owned());
    meta.closure_reason = Some(reason);
    write_meta(&dir, &meta)?;

    // 4. Final report (reads the log, including the erasure entry).
    let report = build_report(root, case_id, clock.clone())?;
    let files = write_report(&dir.join("reports"), "final-report", &report)?;

    record_case_head(root, case_id, &recorder, "closed", clock.clone())?;
    root.machine_log(clock)?.record(
        &recorder,
        &Event::CaseClosedSummary {
            reason: event.to_owned(),
            erased_files: erased.len() as u64,
            erased_bytes,
            case_log_seq: erasure_entry.seq,
            case_log_hash: erasure_entry.hash.clone(),
            final_report: vec![
                FileHash {
                    path: files.html.display().to_string(),
                    sha256: files.html_sha256.clone(),
                    size_bytes: fs::metadata(&files.html).map(|m| m.len()).unwrap_or(0),
                    inside_case: true,
                },
                FileHash {
                    path: files.json.display().to_string(),
                    sha256: files.json_sha256.clone(),
                    size_bytes: fs::metadata(&files.json).map(|m| m.len()).unwrap_or(0),
                    inside_case: true,
                },
            ],
        },
    )?;
    let stopped_work = lock.stopped.clone();
    drop(lock);

    Ok(ClosureSummary {
        case_id: case_id.to_owned(),
        reason,
        erased_files: erased.len() as u64,
        erased_bytes,
        erased,
        erasure_entry,
        final_report: files,
        outside_copies,
        stopped_work,
    })
}

/// What `purge-expired` did with one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeOutcome {
    pub case_id: String,
    pub retention_end: NaiveDate,
    pub closure: ClosureSummary,
}

/// An expired case `purge-expired` could not close (the others were still purged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeFailure {
    pub case_id: String,
    pub retention_end: NaiveDate,
    pub error: String,
}

/// What `purge-expired` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeSummary {
    pub purged: Vec<PurgeOutcome>,
    pub failed: Vec<PurgeFailure>,
}

/// Close every open case whose authorisation (or 3-year limit) has run out. A case that
/// cannot be closed (e.g. its audit log fails verification) is reported in `failed` and
/// does not stop the others.
pub fn purge_expired(
    root: &DataRoot,
    operator: Option<&str>,
    clock: Arc<dyn Clock>,
) -> Result<PurgeSummary, CaseError> {
    let operator = operator
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .unwrap_or(AUTOMATIC_OPERATOR)
        .to_owned();
    let today = clock.now().date_naive();
    let mut out = PurgeSummary::default();
    for listed in list_cases_with(root, clock.clone())? {
        let meta = match listed {
            Ok(m) => m,
            Err(e) => {
                // A case whose record cannot be trusted is not skipped in silence: it is
                // reported, and it stays for the data controller to look at.
                out.failed.push(PurgeFailure {
                    case_id: e.case_id().unwrap_or_default(),
                    retention_end: today,
                    error: e.to_string(),
                });
                continue;
            }
        };
        if meta.status == CaseStatus::Open && meta.is_expired(today) {
            match close_with_reason(
                root,
                &meta.case_id,
                &operator,
                None,
                ClosureReason::Expired,
                WhenBusy::Refuse,
                clock.clone(),
            ) {
                Ok(closure) => out.purged.push(PurgeOutcome {
                    case_id: meta.case_id.clone(),
                    retention_end: meta.retention_end(),
                    closure,
                }),
                Err(e) => out.failed.push(PurgeFailure {
                    case_id: meta.case_id.clone(),
                    retention_end: meta.retention_end(),
                    error: e.to_string(),
                }),
            }
        }
    }
    Ok(out)
}

/// Every file a case's log records as disclosed outside the case's directory.
fn outside_copies(log: &AuditLog, dir: &Path) -> Result<Vec<FileHash>, CaseError> {
    let (entries, _) = log.entries_lenient()?;
    let mut out: Vec<FileHash> = Vec::new();
    for e in &entries {
        if e.action != Action::Disclosure {
            continue;
        }
        match Event::from_entry(e) {
            Some(ev) => out.extend(ev.files().iter().filter(|f| !f.inside_case).cloned()),
            None => {
                // Entries written before typed events: `params.output` is the path.
                if let Some(p) = e.params.get("output").and_then(Value::as_str) {
                    let path = Path::new(p);
                    let inside = path.is_relative() || path.starts_with(dir);
                    if !inside {
                        out.push(FileHash {
                            path: p.to_owned(),
                            sha256: e
                                .result
                                .get("sha256")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                            size_bytes: e
                                .result
                                .get("size_bytes")
                                .and_then(Value::as_u64)
                                .unwrap_or(0),
                            inside_case: false,
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}
