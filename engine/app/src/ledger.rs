//! What the machine log says of each case, checked at every entry into a case.
//!
//! Why: a case's own files (`case.json`, its audit log and signed head) are the case's
//! record, and a case is entered on what they say. Someone with the account can copy a
//! case's folder before closure and put `case.json` and `audit/` back afterwards: the
//! case then reads as open, and work ran again in a case the magistrate's frame had
//! closed; only a later `vigie audit verify` said so. The machine log, which the case's
//! folder does not hold, records every closure (`case_closed_summary`) and the case log's
//! head at every lifecycle event and report, and after every entry a command writes but
//! consultations (`case_log_head`, `EnteredCase::record`). Entry now refuses
//!
//! - a case the machine log records as closed (after its last opening), whatever its
//!   `case.json` says;
//! - a case whose log no longer reaches the last head the machine log recorded of it
//!   (restored from an older copy, reset or replaced), or holds another entry there.
//!
//! Both are `record_mismatch` alerts. What is replayed from the verified machine log is
//! kept while the log's files are unchanged ([`vigie_audit::DerivedCache`], as the
//! account book), so a web server's page views do not read the machine log each time.
//!
//! Not covered: rolling a case log back to a point after the last recorded head (the
//! consultations written since); the anchors (`vigie audit anchor`, the system journal)
//! and `vigie audit verify --against` are the check for that. Noting consultations too
//! would change the machine log at every page view, and every change makes the next entry
//! verify it in full (`accounts::cached_machine_entries`).

use std::collections::BTreeMap;

use vigie_audit::event::Event;
use vigie_audit::{Entry, HeadFile};
use vigie_case::{CaseContext, CaseError};
use vigie_core::{Alert, AlertKind, AlertSink};

use crate::app::App;
use crate::error::AppError;

/// What the machine log records of every case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseLedger {
    /// Cases whose last lifecycle event in the machine log is a closure, with its time.
    closed: BTreeMap<String, String>,
    /// Per case, the last head of its log that the machine log recorded: (seq, hash).
    heads: BTreeMap<String, (u64, String)>,
}

impl CaseLedger {
    /// Replay the machine log's entries, in order (an id opened again after a closure,
    /// once its folder was removed, is a new case).
    pub fn replay(entries: &[Entry]) -> Self {
        let mut ledger = Self::default();
        for e in entries {
            let Some(case_id) = e.case.clone() else {
                continue;
            };
            match Event::from_entry(e) {
                Some(Event::CaseOpened { .. }) => {
                    ledger.closed.remove(&case_id);
                    ledger.heads.remove(&case_id);
                }
                Some(Event::CaseClosedSummary { .. }) => {
                    ledger
                        .closed
                        .insert(case_id, e.time.format("%Y-%m-%d %H:%M UTC").to_string());
                }
                Some(Event::CaseLogHead { seq, hash, .. }) => {
                    let newer = ledger.heads.get(&case_id).is_none_or(|(s, _)| seq >= *s);
                    if newer {
                        ledger.heads.insert(case_id, (seq, hash));
                    }
                }
                _ => {}
            }
        }
        ledger
    }

    /// The machine log's record of `case_id`, checked against the case as it was entered.
    /// `Err` holds what disagrees (for the alert and the error).
    fn check(&self, ctx: &CaseContext) -> Result<(), Refusal> {
        let case_id = ctx.case_id();
        if let Some(at) = self.closed.get(case_id) {
            return Err(Refusal::Closed { at: at.clone() });
        }
        let Some((seq, hash)) = self.heads.get(case_id) else {
            return Ok(());
        };
        let log = ctx.audit_log();
        let reached = match log.head() {
            Ok(HeadFile::Present(h)) => h.seq,
            // A missing or unreadable head is `vigie audit verify`'s finding; the log's
            // entries (consultations included) still say how far it reaches.
            _ => log
                .entries_lenient()
                .ok()
                .and_then(|(e, _)| e.last().map(|e| e.seq))
                .unwrap_or(0),
        };
        if reached < *seq {
            return Err(Refusal::Behind {
                detail: format!(
                    "its log ends at entry {reached}, but the machine log recorded entry {seq}"
                ),
            });
        }
        // Consultations are not kept by this reading; any other entry is, and a recorded
        // head is a lifecycle event or a report, which are.
        if let Ok(entries) = log.entries_but_consultations() {
            if let Some(e) = entries.iter().find(|e| e.seq == *seq) {
                if e.hash != *hash {
                    return Err(Refusal::Behind {
                        detail: format!(
                            "its entry {seq} is not the one the machine log recorded (replaced or rewritten)"
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Why the ledger refuses a case.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Refusal {
    Closed { at: String },
    Behind { detail: String },
}

/// The ledger as the verified machine log makes it now (kept while the log is unchanged,
/// at most [`crate::accounts::BOOK_CACHE_MAX_AGE`]).
pub fn load_ledger(app: &App) -> Result<CaseLedger, AppError> {
    static LEDGERS: vigie_audit::DerivedCache<CaseLedger> =
        vigie_audit::DerivedCache::new(crate::accounts::BOOK_CACHE_MAX_AGE, 8);
    let log = app.machine_log()?;
    LEDGERS.get_or_derive(&log, || {
        Ok(CaseLedger::replay(
            &crate::accounts::cached_machine_entries(app)?,
        ))
    })
}

/// When the machine log records `case_id` as closed (after its last opening), the time of
/// the closure: whatever the case's own files say, nothing but reading its record may be
/// done in it (`renew` refuses, a report is recorded in the machine log).
pub fn closed_on_record(app: &App, case_id: &str) -> Result<Option<String>, AppError> {
    Ok(load_ledger(app)?.closed.get(case_id).cloned())
}

/// The check [`crate::EnteredCase::enter`] makes: refuses (with a `record_mismatch` alert
/// in `alerts`) a case the machine log records as closed, or whose log was rolled back
/// before the last head the machine log recorded of it.
pub fn check_case_entry(
    app: &App,
    ctx: &CaseContext,
    alerts: &dyn AlertSink,
) -> Result<(), AppError> {
    let Err(refusal) = load_ledger(app)?.check(ctx) else {
        return Ok(());
    };
    let case_id = ctx.case_id().to_owned();
    let (message, detail, err) = match refusal {
        Refusal::Closed { at } => (
            "the case's record says it is open, but the machine log records its closure; vigie refused to enter it",
            format!("closed at {at}"),
            CaseError::Closed {
                case_id: case_id.clone(),
                closed_at: at,
            },
        ),
        Refusal::Behind { detail } => (
            "the case's audit log no longer holds what the machine log recorded of it; vigie refused to enter it",
            detail.clone(),
            CaseError::LogBehindMachineRecord {
                case_id: case_id.clone(),
                detail,
            },
        ),
    };
    let mut details = BTreeMap::new();
    details.insert("case_id".to_owned(), case_id);
    details.insert("why".to_owned(), detail);
    // The refusal stands even if the alert cannot be written.
    let _ = alerts.raise(&Alert {
        kind: AlertKind::RecordMismatch,
        message: message.into(),
        details,
    });
    Err(err.into())
}
