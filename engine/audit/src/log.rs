//! The append-only log file and its writer.
//!
//! One directory holds `audit.jsonl` (one canonical JSON entry per line), `audit.head` (the
//! signed head) and `audit.lock`. Every append takes an exclusive `flock` on the lock file,
//! so two processes (or two threads with their own handles) never interleave; readers and
//! verification take a shared lock, so they never see a half-written line of a live writer.
//!
//! Durability order of one append: the head is replaced (atomically: temp file, sync,
//! rename, directory sync) by one that announces the entry's seq and hash; the entry line
//! is written with a single `write` in append mode and `fdatasync`ed; the head is replaced
//! again to commit it. Only then does `append` return: a command reports success only
//! after its entry is on disk and signed.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DurationRound, TimeDelta};
use fs2::FileExt;
use serde_json::{json, Value};

use crate::clock::Clock;
use crate::entry::{genesis_hash, Action, Entry, EntryRef, NewEntry};
use crate::fsutil;
use crate::head::{ChainPoint, SignedHead};
use crate::key::InstallationKey;
use crate::verify::{check_line, verify_bytes, Finding, FindingKind, HeadFile, Verification};

pub const LOG_FILE: &str = "audit.jsonl";
pub const HEAD_FILE: &str = "audit.head";
pub const LOCK_FILE: &str = "audit.lock";

/// The operator recorded for entries vigie writes by itself.
pub const AUTOMATIC_OPERATOR: &str = "vigie";

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot read or write the audit log: {source}: {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the audit log {log_id} failed verification, so vigie refuses to add to it: {}; run `vigie audit verify` for details, keep the data root as it is and inform the data controller", .finding.detail)]
    Tampered { log_id: String, finding: Finding },
    #[error("the audit log {log_id} has an unreadable entry at line {line} ({why}); run `vigie audit verify`")]
    Unreadable {
        log_id: String,
        line: u64,
        why: String,
    },
    #[error("an audit entry needs {0} (pass --operator and, if you want another reason than the case's purpose, --reason)")]
    Incomplete(&'static str),
    #[error(transparent)]
    Key(#[from] crate::key::KeyError),
    #[error("the system clock ({now}) is before the last entry of the audit log {log_id} ({last}): entry times may not go backwards; correct the system clock (and tell the data controller if it was set back on purpose)")]
    ClockWentBack {
        log_id: String,
        last: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    },
}

/// One audit log (a case's, or the machine-wide one).
#[derive(Clone)]
pub struct AuditLog {
    dir: PathBuf,
    log_id: String,
    key: Arc<InstallationKey>,
    clock: Arc<dyn Clock>,
    software_version: String,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("log_id", &self.log_id)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// The version string recorded in entries by default.
pub const SOFTWARE_VERSION: &str = concat!("vigie ", env!("CARGO_PKG_VERSION"));

impl AuditLog {
    /// Open the log in `dir` (created, mode 0700, if needed). `log_id` names the log in its
    /// genesis hash and head (e.g. `case:<id>` or `machine`).
    pub fn open(
        dir: impl Into<PathBuf>,
        log_id: impl Into<String>,
        key: Arc<InstallationKey>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuditError> {
        let dir = dir.into();
        fsutil::create_private_dir_all(&dir).map_err(|source| AuditError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Self {
            dir,
            log_id: log_id.into(),
            key,
            clock,
            software_version: SOFTWARE_VERSION.to_owned(),
        })
    }

    /// Record another version string (e.g. to mark entries written under a fake clock).
    pub fn with_software_version(mut self, version: impl Into<String>) -> Self {
        self.software_version = version.into();
        self
    }

    pub fn log_id(&self) -> &str {
        &self.log_id
    }
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn log_path(&self) -> PathBuf {
        self.dir.join(LOG_FILE)
    }
    pub fn head_path(&self) -> PathBuf {
        self.dir.join(HEAD_FILE)
    }
    pub fn key(&self) -> &InstallationKey {
        &self.key
    }
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    fn io(&self, path: PathBuf) -> impl FnOnce(io::Error) -> AuditError {
        move |source| AuditError::Io { path, source }
    }

    pub(crate) fn lock(&self, exclusive: bool) -> Result<File, AuditError> {
        let path = self.dir.join(LOCK_FILE);
        let f = fsutil::private_open_options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(self.io(path.clone()))?;
        if exclusive {
            f.lock_exclusive().map_err(self.io(path))?;
        } else {
            f.lock_shared().map_err(self.io(path))?;
        }
        Ok(f)
    }

    fn tampered(&self, finding: Finding) -> AuditError {
        AuditError::Tampered {
            log_id: self.log_id.clone(),
            finding,
        }
    }

    /// Record a typed event (see [`crate::event`]); returns once it is synced.
    pub fn record(
        &self,
        recorder: &crate::event::Recorder,
        event: &crate::event::Event,
    ) -> Result<EntryRef, AuditError> {
        self.append(recorder.entry(event))
    }

    /// Append an entry; returns once it is synced to disk and the head is re-signed.
    pub fn append(&self, new: NewEntry) -> Result<EntryRef, AuditError> {
        if new.operator.trim().is_empty() {
            return Err(AuditError::Incomplete("an operator"));
        }
        if new.justification.trim().is_empty() {
            return Err(AuditError::Incomplete("a justification"));
        }
        let _lock = self.lock(true)?;
        let mut refs = self.append_locked(vec![new])?;
        Ok(refs.pop().expect("one entry appended"))
    }

    fn append_locked(&self, mut batch: Vec<NewEntry>) -> Result<Vec<EntryRef>, AuditError> {
        let log_path = self.log_path();
        let head_path = self.head_path();

        let mut head = read_head(&head_path)?;
        let exists = log_path.exists();
        if !exists {
            match &head {
                HeadFile::Present(h) if h.seq > 0 => {
                    return Err(self.tampered(Finding {
                        kind: FindingKind::Truncated,
                        line: 1,
                        seq: Some(1),
                        detail: format!(
                            "the log file is missing but its signed head names entry {}",
                            h.seq
                        ),
                    }))
                }
                HeadFile::Unreadable(why) => {
                    return Err(self.tampered(Finding {
                        kind: FindingKind::HeadUnreadable,
                        line: 1,
                        seq: None,
                        detail: format!("the signed head cannot be read: {why}"),
                    }))
                }
                _ => {}
            }
            // Sign the empty chain *before* the log exists: from then on a log with
            // entries and no head is always tampering, never a first-write crash.
            head = HeadFile::Present(self.write_head(0, &genesis_hash(&self.log_id), None)?);
        }
        let mut file = fsutil::private_open_options()
            .read(true)
            .append(true)
            .create(true)
            .open(&log_path)
            .map_err(self.io(log_path.clone()))?;
        if !exists {
            fsutil::sync_dir(&self.dir).map_err(self.io(self.dir.clone()))?;
        }

        let tail = read_tail(&mut file).map_err(self.io(log_path.clone()))?;
        let mut last_time: Option<chrono::DateTime<chrono::Utc>> = None;
        let (mut last_seq, mut last_hash) = match &tail.last_line {
            None => (0, genesis_hash(&self.log_id)),
            Some(raw) => {
                // Seq and link were checked when this entry was appended; here we need its
                // own integrity (hash over content) and its seq.
                let value: Value = serde_json::from_slice(raw).map_err(|e| {
                    self.tampered(Finding {
                        kind: FindingKind::Unparseable,
                        line: 0,
                        seq: None,
                        detail: format!("the last entry is not valid JSON ({e})"),
                    })
                })?;
                let prev = value
                    .get("prev_hash")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let seq = value.get("seq").and_then(Value::as_u64).unwrap_or(0);
                let entry = check_line(raw, 0, seq, &prev).map_err(|f| self.tampered(f))?;
                last_time = Some(entry.time);
                (entry.seq, entry.hash.clone())
            }
        };
        let last_prev = tail
            .last_line
            .as_ref()
            .and_then(|raw| serde_json::from_slice::<Value>(raw).ok())
            .and_then(|v| {
                v.get("prev_hash")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });

        // The head must name the last entry, or the one before it (crash between writing
        // and signing). Anything else means entries were cut off or added behind our back.
        let head = match head {
            HeadFile::Present(h) => h,
            HeadFile::Missing => {
                return Err(self.tampered(Finding {
                    kind: FindingKind::HeadMissing,
                    line: last_seq + 1,
                    seq: None,
                    detail: "the log exists but its signed head (audit.head) is missing".into(),
                }))
            }
            HeadFile::Unreadable(why) => {
                return Err(self.tampered(Finding {
                    kind: FindingKind::HeadUnreadable,
                    line: last_seq + 1,
                    seq: None,
                    detail: format!("the signed head cannot be read: {why}"),
                }))
            }
        };
        if let Err(p) = head.check(&self.key.verifying_key(), &self.log_id) {
            return Err(self.tampered(Finding {
                kind: FindingKind::HeadInvalid,
                line: last_seq + 1,
                seq: None,
                detail: p.to_string(),
            }));
        }
        let announced_last = head
            .pending
            .as_ref()
            .is_some_and(|p| p.seq == last_seq && p.hash == last_hash);
        let head_ok = (head.seq == last_seq && head.hash == last_hash)
            || (head.seq + 1 == last_seq
                && Some(&head.hash) == last_prev.as_ref()
                && announced_last);
        if !head_ok {
            let (kind, detail) = if head.seq > last_seq {
                (
                    FindingKind::Truncated,
                    format!(
                        "the signed head names entry {} but the log ends at entry {last_seq}",
                        head.seq
                    ),
                )
            } else {
                (
                    FindingKind::HeadMismatch,
                    format!(
                        "the signed head names entry {} which does not match the end of the log (entry {last_seq})",
                        head.seq
                    ),
                )
            };
            return Err(self.tampered(Finding {
                kind,
                line: last_seq + 1,
                seq: Some(head.seq),
                detail,
            }));
        }

        // A torn last line: an interrupted write that was never acknowledged. Keep the
        // fragment in a side file, cut it from the log, and say so in the log itself.
        if let Some((offset, fragment)) = &tail.torn {
            let side = self.dir.join(format!(
                "audit.torn-{}-{}",
                last_seq + 1,
                self.clock.now().timestamp_millis()
            ));
            fsutil::write_new(&side, fragment).map_err(self.io(side.clone()))?;
            file.set_len(*offset).map_err(self.io(log_path.clone()))?;
            file.sync_all().map_err(self.io(log_path.clone()))?;
            batch.insert(
                0,
                NewEntry {
                    operator: AUTOMATIC_OPERATOR.into(),
                    case: batch[0].case.clone(),
                    procedure: batch[0].procedure.clone(),
                    action: Action::Alert,
                    params: json!({
                        "event": "audit_torn_tail_set_aside",
                        "torn_bytes": fragment.len(),
                        "set_aside_as": side.file_name().map(|n| n.to_string_lossy().into_owned()),
                    }),
                    justification: "automatic: an earlier write to this log was interrupted (crash or kill) before its line was complete; that entry was never acknowledged, and its fragment is kept beside the log".into(),
                    result: json!({}),
                },
            );
        }

        // Per entry: announce it in the signed head (seq + hash, with the previous entry
        // committed), write and sync it, then commit the last one. A crash at any point
        // leaves a state `verify` recognises as an interruption, never as tampering.
        let mut refs = Vec::with_capacity(batch.len());
        for new in batch {
            let now = self
                .clock
                .now()
                .duration_trunc(TimeDelta::milliseconds(1))
                .unwrap_or_else(|_| self.clock.now());
            // Entry times never go backwards within a log: a clock set back (by mistake
            // or to backdate work) stops the log instead of writing a lie.
            if let Some(prev) = last_time {
                if now < prev {
                    return Err(AuditError::ClockWentBack {
                        log_id: self.log_id.clone(),
                        last: prev,
                        now,
                    });
                }
            }
            last_time = Some(now);
            let mut entry = Entry {
                seq: last_seq + 1,
                time: now,
                operator: new.operator,
                case: new.case,
                procedure: new.procedure,
                action: new.action,
                params: new.params,
                justification: new.justification,
                result: new.result,
                software_version: self.software_version.clone(),
                prev_hash: last_hash.clone(),
                hash: String::new(),
            };
            entry.hash = entry.compute_hash();
            self.write_head(
                last_seq,
                &last_hash,
                Some(ChainPoint {
                    seq: entry.seq,
                    hash: entry.hash.clone(),
                }),
            )?;
            let mut line = entry.to_line().into_bytes();
            line.push(b'\n');
            file.write_all(&line).map_err(self.io(log_path.clone()))?;
            file.sync_data().map_err(self.io(log_path.clone()))?;
            last_seq = entry.seq;
            last_hash = entry.hash.clone();
            refs.push(EntryRef {
                seq: entry.seq,
                hash: entry.hash,
            });
        }
        self.write_head(last_seq, &last_hash, None)?;
        Ok(refs)
    }

    fn write_head(
        &self,
        seq: u64,
        hash: &str,
        pending: Option<ChainPoint>,
    ) -> Result<SignedHead, AuditError> {
        let head = SignedHead::sign(&self.key, &self.log_id, seq, hash, pending.clone());
        let path = self.head_path();
        fsutil::write_atomic(&path, &head.to_bytes()).map_err(self.io(path))?;
        if pending.is_none() {
            // A copy of every committed head leaves the machine's vigie files: the system
            // journal keeps it even if the data root is deleted or rewritten.
            crate::journal::send_head(&head);
        }
        Ok(head)
    }

    /// The signed head as it is on disk.
    pub fn head(&self) -> Result<HeadFile, AuditError> {
        let _lock = self.lock(false)?;
        read_head(&self.head_path())
    }

    /// All complete entries, in order (a torn last line is skipped). Fails on an
    /// unreadable line; use [`AuditLog::verify`] to check integrity.
    pub fn entries(&self) -> Result<Vec<Entry>, AuditError> {
        let bytes = {
            let _lock = self.lock(false)?;
            read_or_empty(&self.log_path())?
        };
        let complete = match bytes.iter().rposition(|&b| b == b'\n') {
            Some(i) => &bytes[..i],
            None => return Ok(Vec::new()),
        };
        complete
            .split(|&b| b == b'\n')
            .enumerate()
            .map(|(i, raw)| {
                serde_json::from_slice::<Entry>(raw).map_err(|e| AuditError::Unreadable {
                    log_id: self.log_id.clone(),
                    line: i as u64 + 1,
                    why: e.to_string(),
                })
            })
            .collect()
    }

    /// Every complete line that reads as an entry, and the line numbers of those that do
    /// not: for reports, which must show what is there even when the log is damaged.
    pub fn entries_lenient(&self) -> Result<(Vec<Entry>, Vec<u64>), AuditError> {
        let bytes = {
            let _lock = self.lock(false)?;
            read_or_empty(&self.log_path())?
        };
        let mut good = Vec::new();
        let mut bad = Vec::new();
        if let Some(i) = bytes.iter().rposition(|&b| b == b'\n') {
            for (n, raw) in bytes[..i].split(|&b| b == b'\n').enumerate() {
                match serde_json::from_slice::<Entry>(raw) {
                    Ok(e) => good.push(e),
                    Err(_) => bad.push(n as u64 + 1),
                }
            }
        }
        Ok((good, bad))
    }

    /// Verify the whole log against its chain and the signed head.
    pub fn verify(&self) -> Result<Verification, AuditError> {
        let _lock = self.lock(false)?;
        let bytes = read_or_empty(&self.log_path())?;
        let head = read_head(&self.head_path())?;
        Ok(verify_bytes(
            &bytes,
            &head,
            &self.log_id,
            &self.key.verifying_key(),
        ))
    }
}

fn read_or_empty(path: &Path) -> Result<Vec<u8>, AuditError> {
    match fs::read(path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(AuditError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Read a head file.
pub fn read_head(path: &Path) -> Result<HeadFile, AuditError> {
    match fs::read(path) {
        Ok(bytes) => Ok(match serde_json::from_slice::<SignedHead>(&bytes) {
            Ok(h) => HeadFile::Present(h),
            Err(e) => HeadFile::Unreadable(e.to_string()),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(HeadFile::Missing),
        Err(source) => Err(AuditError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// The end of a log file: its last complete line and a torn fragment after it, if any.
struct Tail {
    /// The last complete line, without its newline.
    last_line: Option<Vec<u8>>,
    /// (offset where the fragment starts, fragment bytes).
    torn: Option<(u64, Vec<u8>)>,
}

const TAIL_CHUNK: u64 = 64 * 1024;

/// Read backwards from the end until the last complete line is in hand, so an append costs
/// the same on the first entry and the millionth. (Gaps earlier in the log are not this
/// function's business: appending after them hides nothing, `verify` still finds them.)
fn read_tail(file: &mut File) -> io::Result<Tail> {
    let len = file.seek(SeekFrom::End(0))?;
    let mut start = len;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let want = TAIL_CHUNK.min(start);
        start -= want;
        let mut chunk = vec![0u8; want as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&buf);
        buf = chunk;
        let newlines = buf.iter().filter(|&&b| b == b'\n').count();
        if start == 0 || newlines >= 2 {
            break;
        }
    }
    // `buf` holds file[start..len].
    let (complete_end, torn) = match buf.iter().rposition(|&b| b == b'\n') {
        Some(i) if i + 1 < buf.len() => (i, Some((start + i as u64 + 1, buf[i + 1..].to_vec()))),
        Some(i) => (i, None),
        None => {
            // No newline at all: the whole file (start is 0) is one torn fragment.
            let torn = (!buf.is_empty()).then(|| (0, buf.clone()));
            return Ok(Tail {
                last_line: None,
                torn,
            });
        }
    };
    let line_start = buf[..complete_end]
        .iter()
        .rposition(|&b| b == b'\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    Ok(Tail {
        last_line: Some(buf[line_start..complete_end].to_vec()),
        torn,
    })
}
