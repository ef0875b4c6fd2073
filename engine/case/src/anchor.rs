//! Checks across logs, and anchors that leave the machine.
//!
//! Why: each log's chain and signed head catch edits by someone without the installation
//! key. Two attacks remain for someone with the account: deleting or resetting a whole
//! case log (its head goes with it), and rewriting a log and re-signing it with the key.
//!
//! - **Across logs** ([`check_case_logs`]): the machine log records each case log's head at
//!   every lifecycle event and report (`case_log_head`), and every case it opened. A case
//!   log that disappears, is reset, truncated or replaced no longer holds that point.
//! - **Anchors** ([`current_anchors`], [`check_anchors`]): the signed heads, exported to a
//!   file for the procedure record (`vigie audit anchor`), printed in every exploitation
//!   report and sent to the system journal as they are written. A log checked against an
//!   anchor must still hold the anchored entry with the anchored hash — whoever re-signed
//!   a shortened log with the key cannot change a copy held elsewhere.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vigie_audit::event::Event;
use vigie_audit::{Clock, Entry, HeadFile};

use crate::error::CaseError;
use crate::root::{case_log_id, DataRoot, MACHINE_LOG_ID};

/// The file format of exported anchors.
pub const ANCHOR_FORMAT: u32 = 1;

/// One log's signed head, as exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub log_id: String,
    pub seq: u64,
    pub hash: String,
    pub public_key: String,
    pub signature: String,
}

/// An anchor file (`vigie audit anchor`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorFile {
    pub format: u32,
    pub taken_at: DateTime<Utc>,
    pub software_version: String,
    pub anchors: Vec<Anchor>,
}

/// A problem found across logs or against an anchor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFinding {
    pub log_id: String,
    pub detail: String,
}

fn head_anchor(root: &DataRoot, log: &vigie_audit::AuditLog) -> Result<Option<Anchor>, CaseError> {
    let _ = root;
    Ok(match log.head()? {
        HeadFile::Present(h) => Some(Anchor {
            log_id: h.log_id,
            seq: h.seq,
            hash: h.hash,
            public_key: h.public_key,
            signature: h.signature,
        }),
        _ => None,
    })
}

/// The case ids that have a directory under the root.
fn case_dirs(root: &DataRoot) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(root.cases_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|id| crate::meta::validate_case_id(id).is_ok())
        .collect();
    ids.sort();
    ids
}

/// The signed heads of the machine log and of `cases` (every case with a directory when
/// `None`).
pub fn current_anchors(
    root: &DataRoot,
    cases: Option<&[String]>,
    clock: Arc<dyn Clock>,
) -> Result<Vec<Anchor>, CaseError> {
    let mut out = Vec::new();
    if let Some(a) = head_anchor(root, &root.machine_log(clock.clone())?)? {
        out.push(a);
    }
    let ids = match cases {
        Some(c) => c.to_vec(),
        None => case_dirs(root),
    };
    for id in ids {
        if let Some(a) = head_anchor(root, &root.case_log(&id, clock.clone())?)? {
            out.push(a);
        }
    }
    Ok(out)
}

fn log_for(
    root: &DataRoot,
    log_id: &str,
    clock: Arc<dyn Clock>,
) -> Result<Option<vigie_audit::AuditLog>, CaseError> {
    if log_id == MACHINE_LOG_ID {
        return Ok(Some(root.machine_log(clock)?));
    }
    match log_id.strip_prefix("case:") {
        Some(id) if crate::meta::validate_case_id(id).is_ok() => {
            if !root.case_dir(id).join("audit").exists() {
                return Ok(None);
            }
            Ok(Some(root.case_log(id, clock)?))
        }
        _ => Ok(None),
    }
}

fn holds(entries: &[Entry], seq: u64, hash: &str) -> Result<(), String> {
    if seq == 0 {
        return Ok(());
    }
    match entries.get((seq - 1) as usize) {
        None => Err(format!(
            "it ends at entry {} but entry {seq} was recorded: entries were cut off or the log was reset",
            entries.len()
        )),
        Some(e) if e.seq == seq && e.hash == hash => Ok(()),
        Some(_) => Err(format!(
            "its entry {seq} is not the one recorded (hash {hash}): the log was replaced or rewritten"
        )),
    }
}

/// Check every anchor against the logs as they are now.
pub fn check_anchors(
    root: &DataRoot,
    anchors: &[Anchor],
    clock: Arc<dyn Clock>,
) -> Result<Vec<LogFinding>, CaseError> {
    let mut out = Vec::new();
    for a in anchors {
        let Some(log) = log_for(root, &a.log_id, clock.clone())? else {
            out.push(LogFinding {
                log_id: a.log_id.clone(),
                detail: "the anchored log no longer exists (deleted)".into(),
            });
            continue;
        };
        let (entries, _) = log.entries_lenient()?;
        if let Err(why) = holds(&entries, a.seq, &a.hash) {
            out.push(LogFinding {
                log_id: a.log_id.clone(),
                detail: format!("against the anchor: {why}"),
            });
        }
    }
    Ok(out)
}

/// Check every case log against what the machine log recorded of it: each case it saw
/// opened must still have a log, and each recorded head must still be in that log.
pub fn check_case_logs(
    root: &DataRoot,
    clock: Arc<dyn Clock>,
) -> Result<Vec<LogFinding>, CaseError> {
    let (machine, _) = root.machine_log(clock.clone())?.entries_lenient()?;
    // Latest recorded head per case, and every case opened.
    let mut heads: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut opened: BTreeMap<String, ()> = BTreeMap::new();
    for e in &machine {
        match Event::from_entry(e) {
            Some(Event::CaseLogHead {
                case_id, seq, hash, ..
            }) => {
                let keep = heads.get(&case_id).is_none_or(|(s, _)| seq >= *s);
                if keep {
                    heads.insert(case_id, (seq, hash));
                }
            }
            Some(Event::CaseOpened { .. }) => {
                if let Some(c) = &e.case {
                    opened.insert(c.clone(), ());
                }
            }
            None if e.params.get("event").and_then(|v| v.as_str()) == Some("case_opened") => {
                if let Some(c) = &e.case {
                    opened.insert(c.clone(), ());
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for id in opened
        .keys()
        .chain(heads.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let log_id = case_log_id(id);
        let Some(log) = log_for(root, &log_id, clock.clone())? else {
            out.push(LogFinding {
                log_id,
                detail: "the machine log recorded this case, but its log is gone (deleted)".into(),
            });
            continue;
        };
        let (entries, _) = log.entries_lenient()?;
        if entries.is_empty() {
            out.push(LogFinding {
                log_id,
                detail: "the machine log recorded this case, but its log is empty (reset)".into(),
            });
            continue;
        }
        if let Some((seq, hash)) = heads.get(id.as_str()) {
            if let Err(why) = holds(&entries, *seq, hash) {
                out.push(LogFinding {
                    log_id,
                    detail: format!("against the head the machine log recorded: {why}"),
                });
            }
        }
    }
    Ok(out)
}
