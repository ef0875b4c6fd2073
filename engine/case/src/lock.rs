//! Who is working in a case, and closure's exclusive hold on it.
//!
//! Why: closure erases derived data. If it ran while `analyze` was still writing, the
//! analysis would recreate derived data *after* the erasure entry, and the log would lie.
//! So every piece of work holds the case's lock file (`case.lock`) **shared** for as long
//! as it runs ([`WorkGuard`]), and closure takes it **exclusively**: it refuses at once
//! while work runs, naming each command (from the small records work leaves under
//! `running/`), or — when asked to wait — leaves a `closing` request that running work
//! sees through [`closing_requested`] and stops at its next checkpoint, then waits.
//!
//! `flock` locks belong to an open file, so two entries in one process exclude each other
//! as two processes would (the tests rely on it). Locks are never trusted across machines
//! (a network file system may ignore them).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use fs2::FileExt;
use serde::{Deserialize, Serialize};
pub use vigie_audit::event::RunningWork;

use crate::error::{io_err, CaseError};

/// The lock file every piece of work holds shared and closure holds exclusively.
pub const LOCK_FILE: &str = "case.lock";
/// Directory of the running-work records.
pub const RUNNING_DIR: &str = "running";
/// The closure request running work watches for.
pub const CLOSING_FILE: &str = "closing";

static NEXT: AtomicU64 = AtomicU64::new(0);

fn open_lock(dir: &Path) -> Result<fs::File, CaseError> {
    let path = dir.join(LOCK_FILE);
    vigie_audit::private_open_options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path))
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
        || e.raw_os_error() == fs2::lock_contended_error().raw_os_error()
}

/// A running piece of work: the shared hold on the case and its record. Dropping it
/// releases both.
#[derive(Debug)]
pub struct WorkGuard {
    _file: fs::File,
    record: PathBuf,
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Record {
    command: String,
    operator: String,
    pid: u32,
    started_at: DateTime<Utc>,
}

impl WorkGuard {
    /// Start work in the case directory `dir`: refused while the case is being closed.
    pub fn begin(
        dir: &Path,
        case_id: &str,
        command: &str,
        operator: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, CaseError> {
        if closing_requested(dir) {
            return Err(CaseError::Closing(case_id.to_owned()));
        }
        let file = open_lock(dir)?;
        match FileExt::try_lock_shared(&file) {
            Ok(()) => {}
            Err(e) if would_block(&e) => return Err(CaseError::Closing(case_id.to_owned())),
            Err(e) => return Err(io_err(dir.join(LOCK_FILE))(e)),
        }
        let running = dir.join(RUNNING_DIR);
        vigie_audit::create_private_dir_all(&running).map_err(io_err(&running))?;
        let record = running.join(format!(
            "{}-{}.json",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let body = serde_json::to_vec(&Record {
            command: command.to_owned(),
            operator: operator.to_owned(),
            pid: std::process::id(),
            started_at: now,
        })
        .expect("a record serialises");
        vigie_audit::write_atomic(&record, &body).map_err(io_err(&record))?;
        Ok(Self {
            _file: file,
            record,
            dir: dir.to_owned(),
        })
    }

    /// Whether closure has asked running work to stop.
    pub fn closing_requested(&self) -> bool {
        closing_requested(&self.dir)
    }
}

impl Drop for WorkGuard {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.record);
    }
}

/// Whether a closure is waiting for running work to stop.
pub fn closing_requested(dir: &Path) -> bool {
    dir.join(CLOSING_FILE).exists()
}

fn pid_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// The work recorded as running in the case (records of processes that died are left out).
pub fn running_work(dir: &Path) -> Vec<RunningWork> {
    let Ok(read) = fs::read_dir(dir.join(RUNNING_DIR)) else {
        return Vec::new();
    };
    let mut out: Vec<RunningWork> = read
        .filter_map(Result::ok)
        .filter_map(|e| fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice::<Record>(&b).ok())
        .filter(|r| pid_alive(r.pid))
        .map(|r| RunningWork {
            command: r.command,
            operator: r.operator,
            pid: r.pid,
            started_at: r.started_at,
        })
        .collect();
    out.sort_by_key(|w| w.started_at);
    out
}

/// How closure treats running work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenBusy {
    /// Refuse at once, naming the running commands.
    Refuse,
    /// Ask running work to stop at its next checkpoint, and wait until it has.
    StopAndWait,
}

/// Closure's exclusive hold on a case; dropping it releases the lock and withdraws the
/// closing request.
#[derive(Debug)]
pub struct ClosureLock {
    _file: fs::File,
    dir: PathBuf,
    /// Work that was running when closure asked it to stop.
    pub stopped: Vec<RunningWork>,
}

impl ClosureLock {
    pub fn acquire(dir: &Path, case_id: &str, when_busy: WhenBusy) -> Result<Self, CaseError> {
        let file = open_lock(dir)?;
        match FileExt::try_lock_exclusive(&file) {
            Ok(()) => {
                return Ok(Self {
                    _file: file,
                    dir: dir.to_owned(),
                    stopped: Vec::new(),
                })
            }
            Err(e) if would_block(&e) => {}
            Err(e) => return Err(io_err(dir.join(LOCK_FILE))(e)),
        }
        let running = running_work(dir);
        if when_busy == WhenBusy::Refuse {
            return Err(CaseError::Busy {
                case_id: case_id.to_owned(),
                running: running
                    .iter()
                    .map(|w| {
                        format!(
                            "`vigie {}` by {} (pid {}, since {})",
                            w.command,
                            w.operator,
                            w.pid,
                            w.started_at.format("%H:%M:%S UTC")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let marker = dir.join(CLOSING_FILE);
        vigie_audit::write_atomic(&marker, b"closure requested\n").map_err(io_err(&marker))?;
        let locked = FileExt::lock_exclusive(&file);
        if let Err(e) = locked {
            let _ = fs::remove_file(&marker);
            return Err(io_err(dir.join(LOCK_FILE))(e));
        }
        Ok(Self {
            _file: file,
            dir: dir.to_owned(),
            stopped: running,
        })
    }
}

impl Drop for ClosureLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(self.dir.join(CLOSING_FILE));
        // Records left by processes that died; live work cannot exist under this lock.
        let _ = fs::remove_dir_all(self.dir.join(RUNNING_DIR));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_blocks_closure_and_closure_blocks_work() {
        let d = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let w = WorkGuard::begin(d.path(), "C", "analyze", "op1", now).unwrap();
        let w2 = WorkGuard::begin(d.path(), "C", "search", "op2", now).unwrap();
        let running = running_work(d.path());
        assert_eq!(running.len(), 2);
        let err = ClosureLock::acquire(d.path(), "C", WhenBusy::Refuse).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("vigie analyze") && msg.contains("vigie search"),
            "{msg}"
        );
        drop(w);
        drop(w2);
        assert!(running_work(d.path()).is_empty());
        let lock = ClosureLock::acquire(d.path(), "C", WhenBusy::Refuse).unwrap();
        assert!(matches!(
            WorkGuard::begin(d.path(), "C", "analyze", "op1", now),
            Err(CaseError::Closing(_))
        ));
        drop(lock);
        WorkGuard::begin(d.path(), "C", "analyze", "op1", now).unwrap();
    }

    #[test]
    fn waiting_closure_asks_work_to_stop() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().to_owned();
        let w = WorkGuard::begin(&dir, "C", "analyze", "op1", Utc::now()).unwrap();
        assert!(!w.closing_requested());
        let dir2 = dir.clone();
        let closer = std::thread::spawn(move || {
            ClosureLock::acquire(&dir2, "C", WhenBusy::StopAndWait).unwrap()
        });
        // The work's checkpoint: wait for the request (polling a file, as work does).
        while !w.closing_requested() {
            std::thread::yield_now();
        }
        drop(w);
        let lock = closer.join().unwrap();
        assert_eq!(lock.stopped.len(), 1);
        assert_eq!(lock.stopped[0].command, "analyze");
        drop(lock);
        assert!(!closing_requested(&dir));
    }
}
