//! Procedure-scoped cases: the only way vigie touches footage.
//!
//! Why: the law allows this kind of software only inside one judicial procedure, on the
//! magistrate's authorisation for that procedure (CPP R.40-40), with data erased at
//! closure and within 3 years at most (art. 230-22), and every processing logged
//! (directive 2016/680 art. 25). This crate makes that the normal way to work:
//!
//! - [`open_case`] records the procedure and the authorisation, creates the case's
//!   directory (0700) under the [`DataRoot`], and logs the opening;
//! - [`CaseContext::enter`] is the door every footage command goes through: it refuses an
//!   unknown, closed or expired case and a missing operator, and gives the case's
//!   directories and its audit log ([`CaseContext::log`]);
//! - [`close_case`] / [`purge_expired`] erase derived data and exports, log what was
//!   erased, and write the final exploitation report ([`report`]);
//! - [`dossier`] generates the technical dossier from the code's real state.
//!
//! Time comes from a [`Clock`] so retention can be tested; the CLI uses
//! [`clock_from_env`], which honours `VIGIE_FAKE_NOW` **for tests only** (entries written
//! under it are marked in their `software_version`).

#![forbid(unsafe_code)]

mod case;
pub mod dossier;
mod error;
pub mod lock;
mod meta;
pub mod report;
mod root;

use std::sync::Arc;

pub use case::{
    close_case, close_case_with, list_cases, load_case, open_case, purge_expired, CaseContext,
    ClosureSummary, ErasedItem, OpenRequest, PurgeFailure, PurgeOutcome, PurgeSummary,
    ERASED_AT_CLOSURE,
};
pub use error::CaseError;
pub use lock::{running_work, ClosureLock, RunningWork, WhenBusy, WorkGuard};
pub use meta::{
    case_id_from_procedure, max_retention_end, parse_date, retention_end, validate_case_id,
    CaseMeta, CaseStatus, ClosureReason, MAX_RETENTION_MONTHS, META_FILE,
};
pub use report::{build_report, render_html, render_json, write_report, Report, ReportFiles};
pub use root::{case_log_id, DataRoot, FAKE_NOW_ENV, MACHINE_LOG_ID};
pub use vigie_audit::{Action, Clock, EntryRef, FixedClock, SystemClock};

/// The clock the CLI uses: the system clock, or — for tests only — the instant in
/// `VIGIE_FAKE_NOW` (RFC 3339, e.g. `2029-06-01T12:00:00Z`).
pub fn clock_from_env() -> Result<Arc<dyn Clock>, CaseError> {
    match std::env::var(FAKE_NOW_ENV) {
        Ok(v) if !v.trim().is_empty() => chrono::DateTime::parse_from_rfc3339(v.trim())
            .map(|t| Arc::new(FixedClock(t.with_timezone(&chrono::Utc))) as Arc<dyn Clock>)
            .map_err(|_| CaseError::BadFakeNow(v)),
        _ => Ok(Arc::new(SystemClock)),
    }
}
