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
//! [`clock_from_env`], which honours `VIGIE_FAKE_NOW` only in debug builds with the
//! `test-clock` feature ([`TEST_CLOCK`]; entries written under it are marked in their
//! `software_version`); a release build ignores it.

#![forbid(unsafe_code)]

pub mod anchor;
mod case;
pub mod chain;
pub mod dossier;
mod error;
pub mod lock;
mod meta;
pub mod report;
mod root;
pub mod timebook;

use std::sync::Arc;

pub use case::{
    close_case, close_case_with, list_cases, list_cases_with, load_case, load_case_with, open_case,
    purge_expired, record_case_entry_head, record_case_head, renew_case, repair_case, CaseContext,
    ClosureSummary, ErasedItem, OpenRequest, PurgeFailure, PurgeOutcome, PurgeSummary,
    ERASED_AT_CLOSURE, SUBDIRS,
};
pub use error::CaseError;
pub use lock::{running_work, ClosureLock, RunningWork, WhenBusy, WorkGuard};
pub use meta::{
    case_id_from_procedure, max_retention_end, parse_date, retention_end, validate_case_id,
    CaseMeta, CaseStatus, ClosureReason, MAX_RETENTION_MONTHS, META_FILE,
};
pub use report::{
    build_report, build_report_with, install_measured, render_html, render_json, write_report,
    MeasuredClassRow, MeasuredQuality, Report, ReportFiles,
};
pub use root::{case_log_id, DataRoot, FAKE_NOW_ENV, MACHINE_LOG_ID};
pub use vigie_audit::{Action, Clock, EntryRef, FixedClock, SystemClock};

/// Whether this build honours the test clock: only a debug build with the `test-clock`
/// feature (enabled by the test suites, never by `cargo build --release` or tools/setup).
/// A release build ignores `VIGIE_FAKE_NOW` whatever its features: no variable changes the
/// clock of a release build.
pub const TEST_CLOCK: bool = cfg!(all(feature = "test-clock", debug_assertions));

/// The clock the CLI uses: the system clock, or — in a test build only ([`TEST_CLOCK`]) —
/// the instant in `VIGIE_FAKE_NOW` (RFC 3339, e.g. `2029-06-01T12:00:00Z`).
pub fn clock_from_env() -> Result<Arc<dyn Clock>, CaseError> {
    clock_from(std::env::var(FAKE_NOW_ENV).ok().as_deref(), TEST_CLOCK)
}

/// [`clock_from_env`] with the variable's value and whether it may be honoured.
pub fn clock_from(fake_now: Option<&str>, honour: bool) -> Result<Arc<dyn Clock>, CaseError> {
    match fake_now {
        Some(v) if honour && !v.trim().is_empty() => chrono::DateTime::parse_from_rfc3339(v.trim())
            .map(|t| Arc::new(FixedClock(t.with_timezone(&chrono::Utc))) as Arc<dyn Clock>)
            .map_err(|_| CaseError::BadFakeNow(v.to_owned())),
        _ => Ok(Arc::new(SystemClock)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forged_clock_is_ignored_unless_honoured() {
        let real = chrono::Utc::now();
        let c = clock_from(Some("2099-01-01T00:00:00Z"), false).unwrap();
        assert!((c.now() - real).num_seconds().abs() < 60);
        let c = clock_from(Some("2099-01-01T00:00:00Z"), true).unwrap();
        assert_eq!(c.now().to_rfc3339(), "2099-01-01T00:00:00+00:00");
        // A release build (no debug assertions) never honours it.
        #[cfg(not(debug_assertions))]
        const {
            assert!(!TEST_CLOCK)
        };
    }
}
