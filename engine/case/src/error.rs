//! Why a case operation was refused or failed; every message names the fix.

use std::io;
use std::path::PathBuf;

use chrono::NaiveDate;

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("no case given: pass --case <CASE> (or set VIGIE_CASE); every command that touches footage or results works inside one authorised case (see `vigie case open --help`, `vigie case list`)")]
    NoCase,
    #[error("no operator given: pass --operator <ID> (or set VIGIE_OPERATOR); every action is recorded with who did it")]
    NoOperator,
    #[error("invalid case id {0:?}: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. `--id PV-2026-0042`)")]
    InvalidCaseId(String),
    #[error("unknown case {0:?}: run `vigie case list` to see the cases, or `vigie case open` to open one for a new authorisation")]
    UnknownCase(String),
    #[error("case {0:?} already exists: pick another id with `--id`, or work in the existing case with `--case {0}`")]
    CaseExists(String),
    #[error("case {case_id:?} was closed on {closed_at}: its derived data are erased and no further work is allowed; `vigie case report --case {case_id}` still shows its record; new work needs a new authorisation and a new case")]
    Closed { case_id: String, closed_at: String },
    #[error("case {case_id:?} has expired: its authorisation ran until {end} (inclusive) and today is {today}; no further work is allowed; run `vigie case purge-expired` to close it and erase its derived data, and open a new case if the magistrate renews the authorisation")]
    Expired {
        case_id: String,
        end: NaiveDate,
        today: NaiveDate,
    },
    #[error("case {0:?} is being closed: no new work may start in it (see `vigie case show --case {0}`)")]
    Closing(String),
    #[error("case {case_id:?} cannot be closed now: work is running in it: {running}; wait for it to finish, or run `vigie case close --wait` to stop it at its next checkpoint and close once it has")]
    Busy { case_id: String, running: String },
    #[error("case {case_id:?}: case.json disagrees with the case's audit chain ({fields}); vigie refused to use it and alerted the data controller; if the file was damaged by accident, `vigie case repair --case {case_id}` rebuilds it from the chain")]
    RecordMismatch { case_id: String, fields: String },
    #[error("case {case_id:?}: its audit log no longer holds what the machine log recorded of it ({detail}): the case's files were restored from an older copy, reset or replaced; vigie refused to enter it and alerted the data controller; `vigie audit verify` shows the finding, and the case's log must be restored from the copy that holds the recorded entry")]
    LogBehindMachineRecord { case_id: String, detail: String },
    #[error("source {source_id} of case {case_id:?}: the evidence registry disagrees with the source's collection entry in the audit chain ({fields}); vigie refused to use it and alerted the data controller; restore evidence/sources.json from a backup, or re-ingest the original file")]
    EvidenceMismatch {
        case_id: String,
        source_id: String,
        fields: String,
    },
    #[error("case {0:?} cannot be renewed: it is closed; a new authorisation needs a new case")]
    RenewClosed(String),
    #[error("the renewal's --until {until} is not after the current end {current}; a renewal extends the authorisation")]
    RenewNotLater {
        until: NaiveDate,
        current: NaiveDate,
    },
    #[error("case {0:?} is already closed; nothing to do (see `vigie case show --case {0}`)")]
    AlreadyClosed(String),
    #[error("missing {0}: `vigie case open` needs --procedure, --authorization, --magistrate, --authorized-on, --operator and --purpose")]
    MissingField(&'static str),
    #[error("invalid date {value:?} for {field}: use YYYY-MM-DD (e.g. 2026-03-01)")]
    BadDate { field: &'static str, value: String },
    #[error("the authorisation date {authorized_on} is in the future (today is {today}, UTC); check --authorized-on")]
    AuthorizedInFuture {
        authorized_on: NaiveDate,
        today: NaiveDate,
    },
    #[error(
        "--valid-until {valid_until} is before --authorized-on {authorized_on}; check both dates"
    )]
    ValidBeforeAuthorized {
        authorized_on: NaiveDate,
        valid_until: NaiveDate,
    },
    #[error("--valid-until {valid_until} is more than 3 years after --authorized-on {authorized_on}: data may be kept 3 years at most (CPP art. 230-22); use --valid-until {max} or earlier")]
    BeyondRetention {
        authorized_on: NaiveDate,
        valid_until: NaiveDate,
        max: NaiveDate,
    },
    #[error("this authorisation already expired on {end} (today is {today}): it cannot be used to open a case; ask the magistrate for a new one")]
    AlreadyExpired { end: NaiveDate, today: NaiveDate },
    #[error(
        "the case file is not valid ({why}); `vigie case repair --case <id>` rebuilds it from the case's audit chain: {path}"
    )]
    CorruptMeta { path: PathBuf, why: String },
    #[error("cannot read or write case data: {source}: {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Audit(#[from] vigie_audit::AuditError),
    #[error(transparent)]
    Key(#[from] vigie_audit::KeyError),
    #[error(transparent)]
    Registry(#[from] vigie_evidence::RegistryError),
    #[error("invalid VIGIE_FAKE_NOW {0:?} (test-only; use an RFC 3339 time such as 2026-03-01T12:00:00Z, or unset it)")]
    BadFakeNow(String),
}

impl CaseError {
    /// The case an error is about, when it names one.
    pub fn case_id(&self) -> Option<String> {
        match self {
            CaseError::UnknownCase(c)
            | CaseError::CaseExists(c)
            | CaseError::AlreadyClosed(c)
            | CaseError::Closing(c)
            | CaseError::RenewClosed(c)
            | CaseError::InvalidCaseId(c) => Some(c.clone()),
            CaseError::Closed { case_id, .. }
            | CaseError::Expired { case_id, .. }
            | CaseError::Busy { case_id, .. }
            | CaseError::RecordMismatch { case_id, .. }
            | CaseError::LogBehindMachineRecord { case_id, .. }
            | CaseError::EvidenceMismatch { case_id, .. } => Some(case_id.clone()),
            CaseError::CorruptMeta { path, .. } => path
                .parent()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned()),
            _ => None,
        }
    }
}

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> CaseError {
    let path = path.into();
    move |source| CaseError::Io { path, source }
}
