//! Verification of a log against its chain and its signed head.
//!
//! The walk is pure (bytes in, verdict out) so that the mutation tests can change any byte
//! of any entry and check the verdict without touching the disk. Outcomes are distinct on
//! purpose:
//! - **intact**: every line is a well-formed entry, seqs run 1..n, each links to the
//!   previous, and the signed head names entry n;
//! - **head behind**: as intact, but the committed head names entry n-1 and announced
//!   entry n with exactly its hash: the process stopped between writing entry n and
//!   committing it (the next append commits it);
//! - **interrupted**: the head announced an entry that is not in the log: the process
//!   stopped before writing it, so it was never acknowledged;
//! - **torn tail**: the last line has no newline: a write was interrupted (crash, kill -9)
//!   before the entry was complete, so it was never acknowledged; everything before it
//!   verifies. The next append sets the fragment aside (kept, not deleted) and logs that;
//! - **tampered**: anything else, with the first bad entry's line and seq.

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::entry::{genesis_hash, hash_of_value, Entry};
use crate::head::{ChainPoint, SignedHead};
use crate::key::fingerprint_of;

/// What was found on disk where the head should be.
#[derive(Debug, Clone)]
pub enum HeadFile {
    Missing,
    Unreadable(String),
    Present(SignedHead),
}

/// Kinds of tampering (or damage) verification can find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A complete line that is not JSON (or not UTF-8).
    Unparseable,
    /// JSON, but not an audit entry (missing, extra or mistyped fields).
    NotAnEntry,
    /// The entry's content does not match its own hash: it was modified.
    HashMismatch,
    /// The seq is not the previous one + 1: an entry was deleted, inserted or moved.
    SequenceBreak,
    /// The entry does not name the previous entry's hash: entries were replaced or moved.
    BrokenLink,
    /// The log has entries but no head file.
    HeadMissing,
    /// The head file is not valid.
    HeadUnreadable,
    /// The head is not this log's, not this installation's, or its signature is wrong.
    HeadInvalid,
    /// The signed head names an entry beyond the end of the log: entries were cut off.
    Truncated,
    /// The signed head names a hash that is not the one of the entry with its seq.
    HeadMismatch,
    /// Entries after the signed head that it did not announce.
    UnsignedEntries,
    /// An entry dated before its predecessor.
    TimeWentBack,
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// 1-based line number in the log file where the problem is (for a truncation: the
    /// line where the first missing entry should be).
    pub line: u64,
    /// Seq of the bad entry when known (for a truncation: the first missing seq).
    pub seq: Option<u64>,
    /// One sentence for people.
    pub detail: String,
}

/// The verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum VerifyStatus {
    Intact,
    HeadBehind { head_seq: u64, last_seq: u64 },
    Interrupted { pending_seq: u64 },
    TornTail { line: u64, bytes: u64 },
    Tampered { finding: Finding },
}

/// The result of verifying one log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub log_id: String,
    #[serde(flatten)]
    pub status: VerifyStatus,
    /// Entries that verified before the first problem (all of them when not tampered).
    pub entries_verified: u64,
    /// The last entry that verified.
    pub last_verified: Option<ChainPoint>,
    /// The signed head as read, when its signature checks out.
    pub signed_head: Option<ChainPoint>,
    /// Fingerprint of the key the head was checked against.
    pub key_fingerprint: String,
    /// Problems that do not make the log untrustworthy: entries dated before their
    /// predecessor that were written before vigie refused such entries (0.2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Finding>,
}

/// Whether entries written by `software_version` were subject to the rule that entry
/// times never go backwards (vigie 0.2 and later).
pub fn time_order_enforced(software_version: &str) -> bool {
    let v = software_version
        .strip_prefix("vigie ")
        .unwrap_or(software_version);
    let mut parts = v
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty());
    let major: u64 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u64 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor) >= (0, 2)
}

impl Verification {
    /// Whether every complete entry verifies (intact, or only a crash's traces).
    pub fn is_trustworthy(&self) -> bool {
        !matches!(self.status, VerifyStatus::Tampered { .. })
    }

    /// One line for people.
    pub fn summary(&self) -> String {
        let mut s = self.status_summary();
        for w in &self.warnings {
            s.push_str(&format!("; warning at line {}: {}", w.line, w.detail));
        }
        s
    }

    fn status_summary(&self) -> String {
        let n = self.entries_verified;
        match &self.status {
            VerifyStatus::Intact => format!("intact: {n} entries, chain and signed head verified"),
            VerifyStatus::HeadBehind { head_seq, last_seq } => format!(
                "intact: {n} entries; the signed head names entry {head_seq}, not the last one ({last_seq}): vigie stopped between writing and signing it (the next entry re-signs the head)"
            ),
            VerifyStatus::Interrupted { pending_seq } => format!(
                "intact: {n} entries; entry {pending_seq} was announced but never written (vigie stopped before writing it, so no command reported it done)"
            ),
            VerifyStatus::TornTail { line, bytes } => format!(
                "torn last line: line {line} ({bytes} bytes) is an incomplete write from a crash and was never acknowledged; the {n} complete entries before it verify (the next entry sets the fragment aside)"
            ),
            VerifyStatus::Tampered { finding } => format!(
                "TAMPERED: first bad entry at line {}{}: {} ({} entries verified before it)",
                finding.line,
                finding
                    .seq
                    .map(|s| format!(" (seq {s})"))
                    .unwrap_or_default(),
                finding.detail,
                n
            ),
        }
    }
}

fn finding(kind: FindingKind, line: u64, seq: Option<u64>, detail: impl Into<String>) -> Finding {
    Finding {
        kind,
        line,
        seq,
        detail: detail.into(),
    }
}

/// Verify the bytes of a log and its head.
pub fn verify_bytes(log: &[u8], head: &HeadFile, log_id: &str, key: &VerifyingKey) -> Verification {
    let mut v = Verification {
        log_id: log_id.to_owned(),
        status: VerifyStatus::Intact,
        entries_verified: 0,
        last_verified: None,
        signed_head: None,
        key_fingerprint: fingerprint_of(key),
        warnings: Vec::new(),
    };
    let mut prev_time: Option<chrono::DateTime<chrono::Utc>> = None;

    // Split into complete lines and a possible torn tail.
    let (complete, torn): (&[u8], &[u8]) = match log.iter().rposition(|&b| b == b'\n') {
        Some(i) => (&log[..=i], &log[i + 1..]),
        None => (&[], log),
    };
    let lines: Vec<&[u8]> = if complete.is_empty() {
        Vec::new()
    } else {
        complete[..complete.len() - 1]
            .split(|&b| b == b'\n')
            .collect()
    };

    let mut prev_hash = genesis_hash(log_id);
    // hashes[i] = hash of entry with seq i+1
    let mut hashes: Vec<String> = Vec::with_capacity(lines.len());
    for (i, raw) in lines.iter().enumerate() {
        let line_no = i as u64 + 1;
        let expected_seq = line_no;
        let entry = match check_line(raw, line_no, expected_seq, &prev_hash) {
            Ok(e) => e,
            Err(f) => {
                v.status = VerifyStatus::Tampered { finding: f };
                return v;
            }
        };
        if let Some(prev) = prev_time {
            if entry.time < prev {
                let f = finding(
                    FindingKind::TimeWentBack,
                    line_no,
                    Some(entry.seq),
                    format!(
                        "entry {} is dated {} but its predecessor {}: entry times may not go backwards (was the system clock set back?)",
                        entry.seq,
                        entry.time.to_rfc3339(),
                        prev.to_rfc3339()
                    ),
                );
                if time_order_enforced(&entry.software_version) {
                    v.status = VerifyStatus::Tampered { finding: f };
                    return v;
                }
                v.warnings.push(f);
            }
        }
        prev_time = Some(entry.time);
        let hash = current_hash(raw);
        prev_hash = hash.clone();
        hashes.push(hash.clone());
        v.entries_verified = line_no;
        v.last_verified = Some(ChainPoint {
            seq: expected_seq,
            hash,
        });
    }
    let last_seq = hashes.len() as u64;
    let next_line = last_seq + 1;

    // The head.
    let head = match head {
        HeadFile::Missing => {
            if last_seq > 0 {
                v.status = VerifyStatus::Tampered {
                    finding: finding(
                        FindingKind::HeadMissing,
                        next_line,
                        None,
                        "the log has entries but its signed head (audit.head) is missing, so cutting entries off the end could not be detected",
                    ),
                };
            } else if !torn.is_empty() {
                v.status = torn_status(next_line, torn);
            }
            return v;
        }
        HeadFile::Unreadable(why) => {
            v.status = VerifyStatus::Tampered {
                finding: finding(
                    FindingKind::HeadUnreadable,
                    next_line,
                    None,
                    format!("the signed head cannot be read: {why}"),
                ),
            };
            return v;
        }
        HeadFile::Present(h) => h,
    };
    if let Err(problem) = head.check(key, log_id) {
        v.status = VerifyStatus::Tampered {
            finding: finding(
                FindingKind::HeadInvalid,
                next_line,
                None,
                problem.to_string(),
            ),
        };
        return v;
    }
    v.signed_head = Some(ChainPoint {
        seq: head.seq,
        hash: head.hash.clone(),
    });
    let hash_at = |seq: u64| -> String {
        if seq == 0 {
            genesis_hash(log_id)
        } else {
            hashes[(seq - 1) as usize].clone()
        }
    };
    if head.seq > last_seq {
        v.status = VerifyStatus::Tampered {
            finding: finding(
                FindingKind::Truncated,
                next_line,
                Some(last_seq + 1),
                format!(
                    "the signed head names entry {} but the log ends at entry {last_seq}: entries {}..={} were cut off",
                    head.seq,
                    last_seq + 1,
                    head.seq
                ),
            ),
        };
        return v;
    }
    if hash_at(head.seq) != head.hash {
        v.status = VerifyStatus::Tampered {
            finding: finding(
                FindingKind::HeadMismatch,
                head.seq.max(1),
                Some(head.seq),
                format!(
                    "the signed head names hash {} for entry {} but the log has another entry there",
                    head.hash, head.seq
                ),
            ),
        };
        return v;
    }
    // Entries after the committed head: only the one it announced, with that very hash.
    if head.seq < last_seq {
        let announced = head
            .pending
            .as_ref()
            .is_some_and(|p| p.seq == head.seq + 1 && p.hash == hash_at(head.seq + 1));
        let first_unsigned = if announced {
            head.seq + 2
        } else {
            head.seq + 1
        };
        if first_unsigned <= last_seq {
            v.status = VerifyStatus::Tampered {
                finding: finding(
                    FindingKind::UnsignedEntries,
                    first_unsigned,
                    Some(first_unsigned),
                    format!(
                        "entries {first_unsigned}..={last_seq} were neither committed nor announced by the signed head: they were added without the installation key"
                    ),
                ),
            };
            return v;
        }
    }
    if !torn.is_empty() {
        v.status = torn_status(next_line, torn);
    } else if head.seq + 1 == last_seq {
        v.status = VerifyStatus::HeadBehind {
            head_seq: head.seq,
            last_seq,
        };
    } else if let Some(p) = head.pending.as_ref().filter(|p| p.seq == last_seq + 1) {
        v.status = VerifyStatus::Interrupted { pending_seq: p.seq };
    }
    v
}

fn torn_status(line: u64, torn: &[u8]) -> VerifyStatus {
    VerifyStatus::TornTail {
        line,
        bytes: torn.len() as u64,
    }
}

fn current_hash(raw: &[u8]) -> String {
    // Only called on lines check_line accepted.
    match serde_json::from_slice::<Value>(raw) {
        Ok(Value::Object(map)) => map
            .get("hash")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

/// Check one complete line: JSON object, hash over content, well-formed entry, seq, link.
pub(crate) fn check_line(
    raw: &[u8],
    line: u64,
    expected_seq: u64,
    prev_hash: &str,
) -> Result<Entry, Finding> {
    let value: Value = serde_json::from_slice(raw).map_err(|e| {
        finding(
            FindingKind::Unparseable,
            line,
            None,
            format!("the line is not valid JSON ({e})"),
        )
    })?;
    let Value::Object(map) = value else {
        return Err(finding(
            FindingKind::NotAnEntry,
            line,
            None,
            "the line is JSON but not an object",
        ));
    };
    let seq_hint = map.get("seq").and_then(Value::as_u64);
    let Some(stored) = map.get("hash").and_then(Value::as_str) else {
        return Err(finding(
            FindingKind::NotAnEntry,
            line,
            seq_hint,
            "the entry has no hash",
        ));
    };
    let computed = hash_of_value(&map);
    if stored != computed {
        return Err(finding(
            FindingKind::HashMismatch,
            line,
            seq_hint,
            "the entry's content does not match its hash: it was modified after it was written",
        ));
    }
    let entry: Entry = serde_json::from_value(Value::Object(map)).map_err(|e| {
        finding(
            FindingKind::NotAnEntry,
            line,
            seq_hint,
            format!("the entry is not in the audit format ({e})"),
        )
    })?;
    if entry.seq != expected_seq {
        let what = if entry.seq > expected_seq {
            format!(
                "entries {expected_seq}..={} are missing (deleted) or out of order",
                entry.seq - 1
            )
        } else {
            "an entry was inserted or moved here".to_owned()
        };
        return Err(finding(
            FindingKind::SequenceBreak,
            line,
            Some(entry.seq),
            format!("expected seq {expected_seq}, found {}: {what}", entry.seq),
        ));
    }
    if entry.prev_hash != prev_hash {
        return Err(finding(
            FindingKind::BrokenLink,
            line,
            Some(entry.seq),
            "the entry does not link to the previous entry's hash: entries were replaced, moved or copied from another log",
        ));
    }
    Ok(entry)
}
