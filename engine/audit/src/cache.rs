//! Keeping what is derived from a log (the accounts a machine log grants, the case a case
//! log records, its sources and cameras) between uses, without ever using it past a
//! change of the log.
//!
//! Why: a long-lived front end (the web server) asks the same questions of the same logs
//! at every request, and reading a log is linear in its length: a case in use for months
//! holds tens of thousands of entries, and reading them three times per page view took
//! most of a second. What is derived from a log only changes when the log does, so it is
//! kept under a [`LogStamp`] (what `stat` says of the log file and its signed head, and
//! the installation key) and derived again as soon as the stamp differs:
//! - an append changes the log's size and replaces the head file (a new inode);
//! - an edit in place changes the change time (`ctime`), which no unprivileged program can
//!   set back (unlike the modification time);
//! - the stamp is taken *before* the log is read, so a change during the reading leaves a
//!   stamp that no longer matches, and the next use derives again;
//! - whatever is kept is also derived again after [`DerivedCache`]'s age limit, which
//!   bounds what a file system with coarse timestamps could hide.
//!
//! The cache never makes a check weaker than the reading it replaces: a verification that
//! failed is not kept (the next use verifies again), and callers that read leniently keep
//! only what the lenient reading gave.
//!
//! A case's log changes at every page view (each records its consultation), so a stamp
//! alone would never match twice. For it, [`AuditLog::entries_but_consultations`] reads
//! incrementally: logs are append-only, so what was read stays as it was read as long as
//! the file is the same file (device and inode), no shorter, and still ends, where the
//! last reading stopped, with the very line read last; only the lines appended since are
//! read. Consultations (the bulk of a case's log: searches, page views, players) are left
//! out of what is kept, since nothing replayed from a case's log looks at them. Like the
//! lenient reading it replaces, it verifies nothing (verification is `vigie audit verify`,
//! the dashboard's check and the anchors); but every [`TAIL_MAX_AGE`] the bytes already
//! read are hashed again and compared with their SHA-256 taken as they were read, so even
//! an edit in the middle of the file makes the next reading a full one within that delay
//! (hashing is a tenth of the cost of parsing: a minute's check of a 10,000-entry log is
//! tens of milliseconds, not the quarter second of a full reading).

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

use crate::entry::{Action, Entry};
use crate::event::Event;
use crate::log::{AuditError, AuditLog};

/// One state of a file, told without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    dev_ino_ctime: (u64, u64, i64, i64),
}

impl FileStamp {
    /// `Some(None)`: no such file; `None`: it cannot be looked at (nothing is kept then).
    fn of(path: &Path) -> Option<Option<Self>> {
        match std::fs::metadata(path) {
            Ok(m) => Some(Some(Self {
                len: m.len(),
                modified: m.modified().ok(),
                #[cfg(unix)]
                dev_ino_ctime: {
                    use std::os::unix::fs::MetadataExt;
                    (m.dev(), m.ino(), m.ctime(), m.ctime_nsec())
                },
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(None),
            Err(_) => None,
        }
    }
}

/// One state of a log (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogStamp {
    log: Option<FileStamp>,
    head: Option<FileStamp>,
    key: [u8; 32],
}

impl AuditLog {
    /// The log's current stamp; `None` when its files cannot be looked at (derive from
    /// the files themselves then).
    pub fn stamp(&self) -> Option<LogStamp> {
        Some(LogStamp {
            log: FileStamp::of(&self.log_path())?,
            head: FileStamp::of(&self.head_path())?,
            key: self.key().verifying_key().to_bytes(),
        })
    }
}

struct Kept<T> {
    dir: PathBuf,
    stamp: LogStamp,
    at: Instant,
    value: T,
}

/// What was derived from logs, by log directory, each under the stamp its log had when
/// it was read (for a `static`: one per kind of derivation).
pub struct DerivedCache<T> {
    kept: Mutex<Vec<Kept<T>>>,
    max_age: Duration,
    capacity: usize,
}

impl<T> std::fmt::Debug for DerivedCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DerivedCache")
            .field("max_age", &self.max_age)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl<T: Clone> DerivedCache<T> {
    /// Keep at most `capacity` logs' derivations, each for at most `max_age`.
    pub const fn new(max_age: Duration, capacity: usize) -> Self {
        Self {
            kept: Mutex::new(Vec::new()),
            max_age,
            capacity,
        }
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Vec<Kept<T>>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What `derive` makes of `log`: kept from an earlier call while the log is unchanged,
    /// else derived now (and kept when it succeeds).
    pub fn get_or_derive<E>(
        &self,
        log: &AuditLog,
        derive: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        // Taken before reading: a change during the reading leaves a stale stamp.
        let stamp = log.stamp();
        if let Some(s) = &stamp {
            if let Some(k) = self
                .kept()
                .iter()
                .find(|k| k.dir == log.dir() && k.stamp == *s && k.at.elapsed() < self.max_age)
            {
                return Ok(k.value.clone());
            }
        }
        let value = derive()?;
        if let Some(stamp) = stamp {
            let mut kept = self.kept();
            kept.retain(|k| k.dir != log.dir());
            if kept.len() >= self.capacity.max(1) {
                kept.remove(0);
            }
            kept.push(Kept {
                dir: log.dir().to_owned(),
                stamp,
                at: Instant::now(),
                value: value.clone(),
            });
        }
        Ok(value)
    }
}

/// How long an incremental reading of a log goes on before the bytes already read are
/// checked again (their SHA-256 against the one taken as they were read).
pub const TAIL_MAX_AGE: Duration = Duration::from_secs(60);

/// How far a log was read, and what was kept of it.
struct Tail {
    dir: PathBuf,
    key: [u8; 32],
    #[cfg(unix)]
    dev_ino: (u64, u64),
    /// Bytes read (up to and including the last newline).
    offset: u64,
    /// SHA-256 of those bytes, as they were read.
    prefix: Sha256,
    /// The last complete line read (without its newline).
    last_line: Vec<u8>,
    checked_at: Instant,
    kept: Arc<Vec<Entry>>,
}

static TAILS: Mutex<Vec<Tail>> = Mutex::new(Vec::new());
/// Logs followed at once (cases a server serves).
const TAILS_CAPACITY: usize = 64;

/// Whether an entry is left out: a consultation (by its action and, for typed entries, by
/// its event), never the first entry (the opening a case's replay starts from).
fn is_consultation(e: &Entry) -> bool {
    e.action == Action::Consultation
        && Event::from_entry(e).is_none_or(|ev| ev.action() == Action::Consultation)
}

/// The complete lines of `bytes` (up to its last newline) as entries, consultations left
/// out (`first` says whether the first line is the log's first); the bytes consumed and
/// the last complete line.
fn take_lines(bytes: &[u8], mut first: bool, into: &mut Vec<Entry>) -> (u64, Option<Vec<u8>>) {
    let Some(end) = bytes.iter().rposition(|&b| b == b'\n') else {
        return (0, None);
    };
    let mut last = None;
    for raw in bytes[..end].split(|&b| b == b'\n') {
        if let Ok(e) = serde_json::from_slice::<Entry>(raw) {
            if first || !is_consultation(&e) {
                into.push(e);
            }
        }
        first = false;
        last = Some(raw);
    }
    (end as u64 + 1, last.map(<[u8]>::to_vec))
}

impl Tail {
    /// Take in `rest`, the bytes after those read so far.
    fn extend(&mut self, rest: &[u8]) {
        let mut added = Vec::new();
        let (used, last) = take_lines(rest, false, &mut added);
        if !added.is_empty() {
            let mut kept = self.kept.as_ref().clone();
            kept.extend(added);
            self.kept = Arc::new(kept);
        }
        if let Some(last) = last {
            self.prefix.update(&rest[..used as usize]);
            self.offset += used;
            self.last_line = last;
        }
    }
}

impl AuditLog {
    /// Every entry but the consultations, leniently read as [`Self::entries_lenient`]
    /// reads (lines that are not entries are skipped), the first entry always kept; read
    /// incrementally between calls (see the module's documentation). For replays of a
    /// case's state (its opening and closure, its sources, cameras and clocks), which a
    /// long-lived front end makes at every request.
    pub fn entries_but_consultations(&self) -> Result<Arc<Vec<Entry>>, AuditError> {
        self.entries_but_consultations_checking(TAIL_MAX_AGE)
    }

    /// [`Self::entries_but_consultations`], checking the bytes already read when the last
    /// check is older than `max_age`.
    fn entries_but_consultations_checking(
        &self,
        max_age: Duration,
    ) -> Result<Arc<Vec<Entry>>, AuditError> {
        let path = self.log_path();
        let io = |source| AuditError::Io {
            path: path.clone(),
            source,
        };
        let _lock = self.lock(false)?;
        let mut file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Arc::new(Vec::new())),
            Err(e) => return Err(io(e)),
        };
        let meta = file.metadata().map_err(io)?;
        #[cfg(unix)]
        let dev_ino = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        let key = self.key().verifying_key().to_bytes();
        let mut tails = TAILS.lock().unwrap_or_else(|e| e.into_inner());
        let at = tails.iter().position(|t| t.dir == self.dir());
        let mut whole: Option<Vec<u8>> = None;
        // Carry on from where the last reading stopped, when that is sound.
        if let Some(t) = at.map(|i| &mut tails[i]) {
            #[cfg(unix)]
            let same_file = t.dev_ino == dev_ino;
            #[cfg(not(unix))]
            let same_file = true;
            let back = t.last_line.len() as u64 + 1;
            if same_file && t.key == key && meta.len() >= t.offset && t.offset >= back {
                if t.checked_at.elapsed() < max_age {
                    // Only the end: the line read last must still be there, unchanged.
                    file.seek(SeekFrom::Start(t.offset - back)).map_err(io)?;
                    let mut bytes = Vec::with_capacity((meta.len() - t.offset + back) as usize);
                    file.read_to_end(&mut bytes).map_err(io)?;
                    let (seen, rest) = bytes.split_at(back as usize);
                    if seen[..seen.len() - 1] == t.last_line[..] && seen[seen.len() - 1] == b'\n' {
                        t.extend(rest);
                        return Ok(t.kept.clone());
                    }
                } else {
                    // Everything read so far must hash as it did.
                    let mut bytes = Vec::with_capacity(meta.len() as usize);
                    file.read_to_end(&mut bytes).map_err(io)?;
                    let offset = t.offset as usize;
                    if bytes.len() >= offset
                        && Sha256::digest(&bytes[..offset]) == t.prefix.clone().finalize()
                    {
                        t.checked_at = Instant::now();
                        t.extend(&bytes[offset..]);
                        return Ok(t.kept.clone());
                    }
                    whole = Some(bytes);
                }
            }
        }
        // Read in full.
        let bytes = match whole {
            Some(b) => b,
            None => {
                file.seek(SeekFrom::Start(0)).map_err(io)?;
                let mut bytes = Vec::with_capacity(meta.len() as usize);
                file.read_to_end(&mut bytes).map_err(io)?;
                bytes
            }
        };
        let mut kept = Vec::new();
        let (offset, last) = take_lines(&bytes, true, &mut kept);
        let kept = Arc::new(kept);
        if let Some(i) = at {
            tails.remove(i);
        }
        if let Some(last_line) = last {
            if tails.len() >= TAILS_CAPACITY {
                tails.remove(0);
            }
            tails.push(Tail {
                dir: self.dir().to_owned(),
                key,
                #[cfg(unix)]
                dev_ino,
                offset,
                prefix: Sha256::new_with_prefix(&bytes[..offset as usize]),
                last_line,
                checked_at: Instant::now(),
                kept: kept.clone(),
            });
        }
        Ok(kept)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::{InstallationKey, NewEntry, SystemClock};

    fn entry(n: u64) -> NewEntry {
        NewEntry {
            action: crate::Action::Consultation,
            operator: "op".into(),
            case: None,
            procedure: None,
            justification: "test".into(),
            params: serde_json::json!({ "n": n }),
            result: serde_json::Value::Null,
        }
    }

    fn typed(log: &AuditLog, event: &Event) {
        let recorder = crate::Recorder {
            operator: "op".into(),
            case: None,
            procedure: None,
            justification: "test".into(),
        };
        log.record(&recorder, event).unwrap();
    }

    #[test]
    fn the_incremental_reading_equals_a_full_one() {
        let dir = tempfile::tempdir().unwrap();
        let key = Arc::new(InstallationKey::from_secret_bytes([9; 32]));
        let log = AuditLog::open(dir.path().join("case"), "c", key, Arc::new(SystemClock)).unwrap();
        assert!(log.entries_but_consultations().unwrap().is_empty());
        // The first entry is kept whatever it is; consultations after it are not.
        log.append(entry(0)).unwrap();
        typed(&log, &Event::SourcesListed { count: 1 });
        let alteration = NewEntry {
            action: crate::Action::Alteration,
            ..entry(1)
        };
        log.append(alteration).unwrap();
        let full = |log: &AuditLog| -> Vec<u64> {
            let (all, _) = log.entries_lenient().unwrap();
            all.iter()
                .enumerate()
                .filter(|(i, e)| *i == 0 || !is_consultation(e))
                .map(|(_, e)| e.seq)
                .collect()
        };
        let seqs = |v: &[Entry]| v.iter().map(|e| e.seq).collect::<Vec<_>>();
        assert_eq!(seqs(&log.entries_but_consultations().unwrap()), vec![1, 3]);
        // Appends are read from where the last reading stopped.
        for n in 0..5 {
            typed(&log, &Event::SourcesListed { count: n });
        }
        log.append(NewEntry {
            action: crate::Action::Collection,
            ..entry(9)
        })
        .unwrap();
        assert_eq!(seqs(&log.entries_but_consultations().unwrap()), full(&log));
        assert_eq!(
            seqs(&log.entries_but_consultations().unwrap()),
            vec![1, 3, 9]
        );
        // The last line read edited in place: read in full again.
        let path = log.log_path();
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = text.replacen("\"n\":9", "\"n\":8", 1);
        assert_ne!(edited, text);
        std::fs::write(&path, &edited).unwrap();
        let now = log.entries_but_consultations().unwrap();
        assert_eq!(now.last().unwrap().params["n"], 8);
        // A shorter or replaced file: read in full again.
        let lines: Vec<&str> = edited.lines().take(3).collect();
        std::fs::write(&path, format!("{}\n", lines.join("\n"))).unwrap();
        assert_eq!(seqs(&log.entries_but_consultations().unwrap()), vec![1, 3]);
        // A line being written (no newline yet) is left for the next reading.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut f, b"{\"seq\":").unwrap();
        assert_eq!(seqs(&log.entries_but_consultations().unwrap()), vec![1, 3]);
    }

    #[test]
    fn the_bytes_read_are_checked_again_now_and_then() {
        let dir = tempfile::tempdir().unwrap();
        let key = Arc::new(InstallationKey::from_secret_bytes([10; 32]));
        let log = AuditLog::open(dir.path().join("case"), "c", key, Arc::new(SystemClock)).unwrap();
        log.append(entry(0)).unwrap();
        log.append(NewEntry {
            action: crate::Action::Alteration,
            ..entry(1)
        })
        .unwrap();
        typed(&log, &Event::SourcesListed { count: 2 });
        let check = |log: &AuditLog| log.entries_but_consultations_checking(Duration::ZERO);
        assert_eq!(check(&log).unwrap().len(), 2);
        // Unchanged: only the end is read.
        log.append(NewEntry {
            action: crate::Action::Collection,
            ..entry(3)
        })
        .unwrap();
        typed(&log, &Event::SourcesListed { count: 4 });
        assert_eq!(check(&log).unwrap().len(), 3);
        // Edited in the middle, the last line intact: read in full again.
        let path = log.log_path();
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = text.replacen("\"n\":1", "\"n\":5", 1);
        assert_ne!(edited, text);
        std::fs::write(&path, &edited).unwrap();
        // (Not seen before the check is due...)
        assert_eq!(log.entries_but_consultations().unwrap()[1].params["n"], 1);
        // ... and seen when it is.
        assert_eq!(check(&log).unwrap()[1].params["n"], 5);
    }

    #[test]
    fn a_change_of_the_log_is_never_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let key = Arc::new(InstallationKey::from_secret_bytes([7; 32]));
        let log = AuditLog::open(dir.path().join("log"), "t", key, Arc::new(SystemClock)).unwrap();
        log.append(entry(1)).unwrap();
        static CACHE: DerivedCache<usize> = DerivedCache::new(Duration::from_secs(60), 4);
        let derived = AtomicUsize::new(0);
        let count = || {
            derived.fetch_add(1, Ordering::SeqCst);
            Ok::<_, crate::AuditError>(log.entries_lenient()?.0.len())
        };
        assert_eq!(CACHE.get_or_derive(&log, count).unwrap(), 1);
        assert_eq!(CACHE.get_or_derive(&log, count).unwrap(), 1);
        assert_eq!(derived.load(Ordering::SeqCst), 1, "kept while unchanged");
        // An append.
        log.append(entry(2)).unwrap();
        assert_eq!(CACHE.get_or_derive(&log, count).unwrap(), 2);
        assert_eq!(derived.load(Ordering::SeqCst), 2);
        // An edit in place, same length, modification time set back.
        let path = log.log_path();
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen("\"n\":2", "\"n\":3", 1)).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(before)
            .unwrap();
        assert_eq!(CACHE.get_or_derive(&log, count).unwrap(), 2);
        assert_eq!(derived.load(Ordering::SeqCst), 3, "derived again");
        // A failed derivation is not kept.
        let failing = || Err::<usize, &str>("no");
        let other = AuditLog::open(
            dir.path().join("other"),
            "o",
            Arc::new(InstallationKey::from_secret_bytes([8; 32])),
            Arc::new(SystemClock),
        )
        .unwrap();
        assert!(CACHE.get_or_derive(&other, failing).is_err());
        assert_eq!(CACHE.get_or_derive(&other, || Ok::<_, &str>(7)).unwrap(), 7);
    }
}
