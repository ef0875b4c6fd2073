//! vigie's audit log: who did what, when, why, on which procedure, and proof that the
//! record was not changed afterwards.
//!
//! Why: directive 2016/680 art. 25 requires logs of every collection, alteration,
//! consultation, disclosure, combination and erasure, with who and when; the French frame
//! for this kind of software (CPP R.40-39..41) requires that its use in a procedure can be
//! accounted for. A log that can be edited silently proves nothing, so this one is
//! tamper-evident:
//!
//! - **append-only JSON Lines** (`audit.jsonl`): one entry per line, in the canonical JSON
//!   form of [`canonical`] (sorted keys, no whitespace);
//! - **hash chain**: each [`Entry`] carries the previous entry's hash and its own SHA-256
//!   over the canonical JSON of its other fields; the first entry links to a genesis hash
//!   derived from the log's id, so entries cannot be moved between logs;
//! - **signed head** (`audit.head`): after every append, the last seq and hash are signed
//!   with the installation's Ed25519 key ([`InstallationKey`], `keys/` under the data
//!   root, mode 0600), so cutting entries off the end is detected too;
//! - **durable and serialised**: an entry is written and synced before `append` returns;
//!   an exclusive file lock keeps two processes from interleaving;
//! - **verification** ([`AuditLog::verify`]) names the first bad entry (line and seq), and
//!   tells an interrupted write (torn last line, head one entry behind) apart from
//!   tampering.
//!
//! Directories are created 0700 and files 0600.
//!
//! # Forwarding alerts to syslog
//!
//! Alerts (a refused model, changed evidence, a log that fails verification) are `alert`
//! entries of the machine-wide log (`<data root>/machine/audit.jsonl`) and, when a case is
//! open, of that case's log too. To hand them to the system's logging as well:
//!
//! - with a pipe: `vigie alerts --follow --json | logger -t vigie -p auth.warning`
//!   (one JSON object per line; run it under systemd or supervise it as any other
//!   forwarder);
//! - with rsyslog's file input, no vigie process needed:
//!
//!   ```text
//!   module(load="imfile")
//!   input(type="imfile" File="/var/lib/vigie/machine/audit.jsonl"
//!         Tag="vigie-audit:" Severity="notice" Facility="auth")
//!   ```
//!
//!   (every machine-log entry is forwarded; filter on `"action":"alert"` with a
//!   property-based filter to forward alerts only);
//! - with journald: `systemd-cat -t vigie` in place of `logger` in the pipe above.
//!
//! The forwarded copy is for monitoring; the signed log stays the reference.

#![forbid(unsafe_code)]

mod cache;
pub mod canonical;
mod clock;
mod entry;
pub mod event;
mod fsutil;
mod head;
pub mod journal;
mod key;
mod log;
mod sink;
mod verify;

pub use cache::{DerivedCache, LogStamp};
pub use clock::{Clock, FixedClock, SystemClock};
pub use entry::{genesis_hash, hash_of_value, Action, ActionParseError, Entry, EntryRef, NewEntry};
pub use event::{Event, ExportKind, FileHash, Recorder, EVENT_FORMAT};
pub use fsutil::{
    create_private_dir_all, private_open_options, sync_dir, write_atomic, write_new, DIR_MODE,
    FILE_MODE,
};
pub use head::{head_message, ChainPoint, HeadProblem, SignedHead};
pub use key::{
    fingerprint_of, parse_public_hex, public_key_path, verify_hex, InstallationKey, KeyError,
    KeyFile, KeyRole, KEY_FILE, PUBLIC_KEY_FILE,
};
pub use log::{
    read_head, AuditError, AuditLog, AUTOMATIC_OPERATOR, HEAD_FILE, LOCK_FILE, LOG_FILE,
    SOFTWARE_VERSION,
};
pub use sink::{alert_params, AuditAlertSink, TeeAlertSink};
pub use verify::{
    time_order_enforced, verify_bytes, Finding, FindingKind, HeadFile, Verification, VerifyStatus,
};
