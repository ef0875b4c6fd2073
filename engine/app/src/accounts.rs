//! Operator accounts: who may log in, who administers, who may enter which case.
//!
//! Why in the machine log and nowhere else: rights decide who sees footage. Kept in a side
//! file, they could be edited without trace by anyone who can write the data root (grant
//! oneself a case, re-enable a disabled colleague, swap a password hash). So every change
//! is a typed `lifecycle` entry of the machine log (`operator_added`, `operator_disabled`,
//! `operator_password_set`, `case_access_granted`, `case_access_revoked`) with the acting
//! operator and, on the CLI, the operating-system account (see [`crate::operator`]); an
//! [`AccountBook`] is replayed from the *verified* log on every use (like the case's
//! `timebook`). A machine log that fails verification is not read for rights at all: every
//! account operation and every entry into a case is refused (exit 4) until it is sorted
//! out, since a damaged log could hide a `operator_disabled` or a revocation. Replay also
//! re-checks each entry's author (an administrator, or the operator for their own
//! password), so a signed entry that vigie would not have written grants nothing.
//!
//! Passwords are hashed with Argon2id ([`ARGON2_M_KIB`], [`ARGON2_T`], [`ARGON2_P`]: the
//! second recommended option of RFC 9106, in every build: no weaker setting exists for
//! tests) into PHC strings kept in `machine/credentials.json` (0600, replaced atomically
//! under `machine/accounts.lock`). The file only *stores* hashes; the log says which one
//! counts: each account's entry records the SHA-256 of its PHC string, and a login
//! against a hash whose SHA-256 is not the recorded one is refused with a
//! `credentials_tampered` alert (exit 4). A new hash is written to the file *before* the
//! entry that makes it count, next to the old one, so a crash between the two leaves the
//! old password working and the new hash inert. Passwords are never logged and never
//! taken from the command line.
//!
//! Logins ([`Accounts::login`], the web server's door) are rate-limited per account id
//! and per peer: [`MAX_FAILURES_PER_ID`] (or [`MAX_FAILURES_PER_PEER`]) failures within
//! [`FAILURE_WINDOW_MINUTES`] lock the id (the peer) out for [`BASE_LOCKOUT_MINUTES`],
//! doubling with each lock-out of the last day up to [`MAX_LOCKOUT_HOURS`]. Every failure
//! is a `login_failed` alert and every lock-out a `login_locked_out` alert naming the id
//! and the peer; the limiter is rebuilt from those alerts when [`Accounts::open`] runs,
//! so a restart (or the next CLI process) does not forget a lock-out. Unknown and
//! disabled ids are hashed against a dummy hash, so they take as long as a wrong
//! password and get the same answer. A success is an `operator_logged_in` entry.
//!
//! Who may use an id (decided here, applied by [`crate::EnteredCase::enter`]):
//! - no account exists (installations from before accounts, and the tests): any valid id,
//!   as before;
//! - once one exists: only an enabled account, and only in the cases an administrator
//!   granted it (administrators enter every case). An id that is not an account is
//!   refused, with the `vigie operator add` command in the message: otherwise anyone could
//!   escape a revocation or a disabling by typing another name. Every refusal is an
//!   `operator_refused` alert in the machine log and the case's log.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};
use fs2::FileExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vigie_audit::event::Event;
use vigie_audit::{AuditError, Entry, Finding, FindingKind};
use vigie_core::{Alert, AlertKind, AlertSink};

use crate::app::App;
use crate::error::{AppError, ErrorClass};
use crate::operator::{Operator, OsAccount};

/// Argon2id memory cost, KiB (64 MiB).
pub const ARGON2_M_KIB: u32 = 64 * 1024;
/// Argon2id passes.
pub const ARGON2_T: u32 = 3;
/// Argon2id lanes.
pub const ARGON2_P: u32 = 4;
/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, in bytes (bounds the work one login can cost).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Failed logins of one account id that lock it out.
pub const MAX_FAILURES_PER_ID: usize = 5;
/// Failed logins from one peer that lock it out.
pub const MAX_FAILURES_PER_PEER: usize = 10;
/// Failures older than this are forgotten.
pub const FAILURE_WINDOW_MINUTES: i64 = 15;
/// The first lock-out's length; each further one within a day doubles it.
pub const BASE_LOCKOUT_MINUTES: i64 = 15;
/// The longest lock-out.
pub const MAX_LOCKOUT_HOURS: i64 = 24;
/// Password checks running at once (each takes [`ARGON2_M_KIB`] of memory).
pub const MAX_CONCURRENT_LOGINS: u32 = 4;
/// Where password hashes are stored, in the machine log's directory.
pub const CREDENTIALS_FILE: &str = "credentials.json";
const ACCOUNTS_LOCK_FILE: &str = "accounts.lock";
const CREDENTIALS_FORMAT: u32 = 1;

/// One operator account, as the machine log makes it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: String,
    /// Administrators manage accounts and enter every case.
    pub admin: bool,
    /// A disabled account cannot log in or enter a case (for good: ids are never reused).
    pub disabled: bool,
    /// The cases it was granted (administrators need none).
    pub cases: Vec<String>,
}

/// What goes wrong with accounts. Messages never contain a password.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("invalid operator account id {0:?}: use 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")]
    BadId(String),
    #[error("password refused: {0}")]
    WeakPassword(String),
    #[error("operator account {0} already exists (ids are never reused, even once disabled)")]
    Exists(String),
    #[error("no operator account {0}: `vigie operator list` shows them")]
    Unknown(String),
    #[error("{0}")]
    Unchanged(String),
    #[error("operator accounts exist: give the acting administrator (--operator)")]
    NoActingOperator,
    #[error(
        "operator {id} is not an enabled administrator account: only an administrator can {action}"
    )]
    NotAdmin { id: String, action: String },
    #[error("operator {id} refused{}: {why}", case_id.as_deref().map(|c| format!(" in case {c}")).unwrap_or_default())]
    Refused {
        id: String,
        case_id: Option<String>,
        why: String,
    },
    #[error("wrong operator id or password")]
    LoginFailed,
    #[error("too many failed logins: try again after {}", until.format("%Y-%m-%d %H:%M:%S UTC"))]
    LoginLocked { until: DateTime<Utc> },
    #[error("too many login attempts at once: try again in a moment")]
    LoginThrottled,
    #[error("the credentials file does not hold the password hash the machine log records for operator {0}: it was edited or replaced behind vigie's back (the data controller is told); an administrator sets a new password with `vigie operator passwd {0}`")]
    CredentialsTampered(String),
    #[error("cannot use the credentials file ({why}): {}", path.display())]
    CredentialsUnusable { path: PathBuf, why: String },
    #[error("cannot hash the password: {0}")]
    Hashing(String),
}

impl AccountError {
    /// Exit code and alert (see [`crate::error`]); each alert named here was raised by
    /// whoever refused.
    pub fn class(&self) -> ErrorClass {
        let refused = |alert| ErrorClass::Refused { alert: Some(alert) };
        match self {
            AccountError::NotAdmin { .. } | AccountError::Refused { .. } => {
                refused(AlertKind::OperatorRefused)
            }
            AccountError::LoginFailed => refused(AlertKind::LoginFailed),
            AccountError::LoginLocked { .. } => refused(AlertKind::LoginLockedOut),
            AccountError::LoginThrottled | AccountError::NoActingOperator => {
                ErrorClass::Refused { alert: None }
            }
            AccountError::CredentialsTampered(_) => ErrorClass::Integrity {
                alert: Some(AlertKind::CredentialsTampered),
            },
            AccountError::CredentialsUnusable { .. } => ErrorClass::Integrity { alert: None },
            AccountError::BadId(_)
            | AccountError::WeakPassword(_)
            | AccountError::Exists(_)
            | AccountError::Unknown(_)
            | AccountError::Unchanged(_)
            | AccountError::Hashing(_) => ErrorClass::Usage,
        }
    }
}

// ---- the book: accounts replayed from the machine log -----------------------------------

#[derive(Debug, Clone)]
struct BookEntry {
    admin: bool,
    disabled: bool,
    cases: BTreeSet<String>,
    credential_sha256: String,
}

/// The accounts as the machine log records them (replayed, never stored).
#[derive(Debug, Clone, Default)]
pub struct AccountBook {
    accounts: BTreeMap<String, BookEntry>,
}

impl AccountBook {
    /// Replay machine-log entries (in order). An entry whose author could not have made
    /// it (not an enabled administrator then, or another operator's password) is ignored.
    pub fn replay(entries: &[Entry]) -> Self {
        let mut book = AccountBook::default();
        for e in entries {
            match Event::from_entry(e) {
                // Whoever opens a case (an enabled account) may enter it: the opening is
                // in the machine log with the case's id.
                Some(Event::CaseOpened { .. }) => {
                    if let (true, Some(case_id)) = (book.enabled(&e.operator), &e.case) {
                        if let Some(a) = book.accounts.get_mut(&e.operator) {
                            a.cases.insert(case_id.clone());
                        }
                    }
                }
                Some(ev) => book.apply(&e.operator, &ev),
                None => {}
            }
        }
        book
    }

    fn apply(&mut self, author: &str, ev: &Event) {
        let by_admin = self.enabled_admin(author);
        match ev {
            Event::OperatorAdded {
                operator_id,
                admin,
                credential_sha256,
            } => {
                let first = self.accounts.is_empty();
                if (first || by_admin) && !self.accounts.contains_key(operator_id) {
                    self.accounts.insert(
                        operator_id.clone(),
                        BookEntry {
                            admin: *admin || first,
                            disabled: false,
                            cases: BTreeSet::new(),
                            credential_sha256: credential_sha256.clone(),
                        },
                    );
                }
            }
            Event::OperatorDisabled { operator_id } if by_admin => {
                if let Some(a) = self.accounts.get_mut(operator_id) {
                    a.disabled = true;
                }
            }
            Event::OperatorPasswordSet {
                operator_id,
                credential_sha256,
            } if by_admin || (author == operator_id && self.enabled(author)) => {
                if let Some(a) = self.accounts.get_mut(operator_id) {
                    a.credential_sha256 = credential_sha256.clone();
                }
            }
            Event::CaseAccessGranted {
                operator_id,
                case_id,
            } if by_admin => {
                if let Some(a) = self.accounts.get_mut(operator_id) {
                    a.cases.insert(case_id.clone());
                }
            }
            Event::CaseAccessRevoked {
                operator_id,
                case_id,
            } if by_admin => {
                if let Some(a) = self.accounts.get_mut(operator_id) {
                    a.cases.remove(case_id);
                }
            }
            _ => {}
        }
    }

    /// Whether no account exists (ids are then free, as before accounts).
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    pub fn account(&self, id: &str) -> Option<Account> {
        self.accounts.get(id).map(|a| Account {
            id: id.to_owned(),
            admin: a.admin,
            disabled: a.disabled,
            cases: a.cases.iter().cloned().collect(),
        })
    }

    /// Every account, by id.
    pub fn accounts(&self) -> Vec<Account> {
        self.accounts
            .keys()
            .filter_map(|id| self.account(id))
            .collect()
    }

    fn enabled(&self, id: &str) -> bool {
        self.accounts.get(id).is_some_and(|a| !a.disabled)
    }

    fn enabled_admin(&self, id: &str) -> bool {
        self.accounts
            .get(id)
            .is_some_and(|a| a.admin && !a.disabled)
    }

    /// Whether `id` may enter `case_id`: an enabled administrator, or an enabled account
    /// granted the case.
    pub fn can_enter(&self, id: &str, case_id: &str) -> bool {
        self.accounts
            .get(id)
            .is_some_and(|a| !a.disabled && (a.admin || a.cases.contains(case_id)))
    }

    fn credential(&self, id: &str) -> Option<&str> {
        self.accounts.get(id).map(|a| a.credential_sha256.as_str())
    }
}

/// The machine log's entries, up to the last one that verifies; refused (exit 4) when the
/// log fails verification: rights are never read from a log that may have lost entries.
fn verified_machine_entries(app: &App) -> Result<Vec<Entry>, AppError> {
    verified_entries(&app.machine_log()?)
}

pub(crate) fn verified_entries(log: &vigie_audit::AuditLog) -> Result<Vec<Entry>, AppError> {
    let v = log.verify()?;
    if let vigie_audit::VerifyStatus::Tampered { finding } = v.status {
        return Err(AuditError::Tampered {
            log_id: v.log_id,
            finding,
        }
        .into());
    }
    let Some(last) = v.last_verified else {
        return Ok(Vec::new());
    };
    let mut entries = log.entries()?;
    entries.retain(|e| e.seq <= last.seq);
    // Entries appended since the verification are left out; the verified ones must be
    // the ones read.
    if entries.last().map(|e| (e.seq, e.hash.as_str())) != Some((last.seq, last.hash.as_str())) {
        return Err(AuditError::Tampered {
            log_id: v.log_id,
            finding: Finding {
                kind: FindingKind::HashMismatch,
                line: last.seq,
                seq: Some(last.seq),
                detail: "the machine log changed between its verification and its reading".into(),
            },
        }
        .into());
    }
    Ok(entries)
}

/// The accounts as the verified machine log makes them now. A web server asks at every
/// request (the session's account, its right to the case, the case's entry), and
/// verifying the whole machine log each time grows with the log; so the book replayed
/// from a log that verified is kept ([`vigie_audit::DerivedCache`]) and reused while the
/// log's files are exactly as they were then (same files, sizes, modification and change
/// times, same installation key), for at most [`BOOK_CACHE_MAX_AGE`]. Any append (a
/// disabling, a revocation, from this process or a `vigie operator` command) changes the
/// log's size and its head file, so the next request verifies and replays again: a change
/// is seen at the next request, as before. An edit in place changes the change time
/// (`ctime`, which no unprivileged program can set back), so it is verified, and refused,
/// at the next request too. A log that fails verification is never kept.
pub(crate) fn load_book(app: &App) -> Result<AccountBook, AppError> {
    static BOOKS: vigie_audit::DerivedCache<AccountBook> =
        vigie_audit::DerivedCache::new(BOOK_CACHE_MAX_AGE, 8);
    let log = app.machine_log()?;
    BOOKS.get_or_derive(&log, || {
        Ok(AccountBook::replay(&cached_machine_entries(app)?))
    })
}

/// The machine log's entries as verified now, kept under the same rule as the book: what
/// is replayed from the machine log at every case entry (the account book, the cases'
/// ledger) verifies and reads it once between two changes, not once per replay.
pub(crate) fn cached_machine_entries(app: &App) -> Result<std::sync::Arc<Vec<Entry>>, AppError> {
    static ENTRIES: vigie_audit::DerivedCache<std::sync::Arc<Vec<Entry>>> =
        vigie_audit::DerivedCache::new(BOOK_CACHE_MAX_AGE, 8);
    let log = app.machine_log()?;
    ENTRIES.get_or_derive(&log, || Ok(std::sync::Arc::new(verified_entries(&log)?)))
}

/// How long a replayed account book is reused at most, even when the machine log's files
/// look unchanged.
pub const BOOK_CACHE_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(30);

/// The check [`crate::EnteredCase::enter`] makes before `operator` works in `case_id`
/// (see the module's documentation); a refusal is an `operator_refused` alert in `alerts`.
pub fn check_case_entry(
    app: &App,
    operator: &Operator,
    case_id: &str,
    alerts: &dyn AlertSink,
) -> Result<(), AppError> {
    let book = load_book(app)?;
    if book.is_empty() {
        return Ok(());
    }
    let id = operator.as_str();
    let why = match book.account(id) {
        Some(a) if a.disabled => "the account is disabled".to_owned(),
        Some(a) if a.admin || a.cases.iter().any(|c| c == case_id) => return Ok(()),
        Some(_) => format!(
            "no access to this case; an administrator grants it with `vigie operator grant {id} {case_id}`"
        ),
        None => format!(
            "not an operator account of this installation; an administrator creates it with `vigie operator add {id}` and grants it the case with `vigie operator grant {id} {case_id}`"
        ),
    };
    let mut details = BTreeMap::new();
    details.insert("operator_id".to_owned(), id.to_owned());
    details.insert("case_id".to_owned(), case_id.to_owned());
    details.insert("why".to_owned(), why.clone());
    if let Some(os) = operator.os_account() {
        details.insert("os_account".to_owned(), os.to_string());
    }
    // The refusal stands even if the alert cannot be written.
    let _ = alerts.raise(&Alert {
        kind: AlertKind::OperatorRefused,
        message: "an operator id without the right to enter the case was refused".into(),
        details,
    });
    Err(AccountError::Refused {
        id: id.to_owned(),
        case_id: Some(case_id.to_owned()),
        why,
    }
    .into())
}

/// Check an account id: ASCII letters, digits, `.`, `_`, `@`, `-`, 1 to 64 characters,
/// starting with a letter or digit (no look-alikes, no spaces: an id names one person in
/// every report).
pub fn check_account_id(id: &str) -> Result<(), AccountError> {
    let ok = (1..=64).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'));
    if ok {
        Ok(())
    } else {
        Err(AccountError::BadId(id.chars().take(80).collect()))
    }
}

/// The password rules: at least [`MIN_PASSWORD_CHARS`] characters, at most
/// [`MAX_PASSWORD_BYTES`] bytes, not the account id, no control characters.
pub fn check_password(id: &str, password: &str) -> Result<(), AccountError> {
    let weak = |why: &str| Err(AccountError::WeakPassword(why.to_owned()));
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return weak(&format!("use at least {MIN_PASSWORD_CHARS} characters"));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return weak(&format!("use at most {MAX_PASSWORD_BYTES} bytes"));
    }
    if password.chars().any(char::is_control) {
        return weak("no control characters (the password is read up to the end of its line)");
    }
    if password.trim().eq_ignore_ascii_case(id) {
        return weak("it may not be the operator id");
    }
    Ok(())
}

// ---- password hashes ---------------------------------------------------------------------

fn hasher() -> Argon2<'static> {
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None)
        .expect("the compiled Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A new Argon2id PHC string for `password`, with a fresh 16-byte salt.
fn hash_password(password: &str) -> Result<String, AccountError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AccountError::Hashing(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccountError::Hashing(e.to_string()))?;
    Ok(hasher()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| AccountError::Hashing(e.to_string()))?
        .to_string())
}

/// Whether `password` matches `phc` (an Argon2id PHC string; anything else never matches).
fn verify_password(phc: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    parsed.algorithm == argon2::ARGON2ID_IDENT
        && password.len() <= MAX_PASSWORD_BYTES
        && Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
}

/// The SHA-256 of a PHC string, as the machine log records it.
pub fn credential_sha256(phc: &str) -> String {
    hex::encode(Sha256::digest(phc.as_bytes()))
}

/// `machine/credentials.json`: each account id with the PHC strings stored for it. Only
/// the one whose SHA-256 the machine log records counts; others are leftovers of an
/// interrupted change, removed at the next one.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CredentialsDoc {
    format_version: u32,
    operators: BTreeMap<String, Vec<String>>,
}

struct Credentials {
    path: PathBuf,
}

impl Credentials {
    fn new(app: &App) -> Self {
        Self {
            path: app.root().machine_log_dir().join(CREDENTIALS_FILE),
        }
    }

    fn unusable(&self, why: impl Into<String>) -> AccountError {
        AccountError::CredentialsUnusable {
            path: self.path.clone(),
            why: why.into(),
        }
    }

    fn read(&self) -> Result<CredentialsDoc, AccountError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(CredentialsDoc {
                    format_version: CREDENTIALS_FORMAT,
                    operators: BTreeMap::new(),
                })
            }
            Err(e) => return Err(self.unusable(e.to_string())),
        };
        let doc: CredentialsDoc = serde_json::from_slice(&bytes).map_err(|e| {
            self.unusable(format!(
                "unreadable: {e}; move it aside and set every password again with `vigie operator passwd`"
            ))
        })?;
        if doc.format_version != CREDENTIALS_FORMAT {
            return Err(self.unusable(format!("format {} unknown", doc.format_version)));
        }
        Ok(doc)
    }

    /// The PHC string stored for `id` whose SHA-256 is `sha256`, if any. Refused when the
    /// file can be read by other accounts (the hashes would be open to offline guessing).
    fn find(&self, id: &str, sha256: &str) -> Result<Option<String>, AccountError> {
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(&self.path) {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(self.unusable(format!(
                    "readable by other accounts (mode {mode:o}): `chmod 600` it and consider every password exposed"
                )));
            }
        }
        Ok(self
            .read()?
            .operators
            .remove(id)
            .unwrap_or_default()
            .into_iter()
            .find(|phc| credential_sha256(phc) == sha256))
    }

    /// Keep for `id` only the hashes whose SHA-256 is in `keep`, then add `add`.
    fn update(&self, id: &str, keep: &[&str], add: Option<&str>) -> Result<(), AppError> {
        let mut doc = self.read()?;
        let list = doc.operators.entry(id.to_owned()).or_default();
        list.retain(|phc| keep.contains(&credential_sha256(phc).as_str()));
        list.extend(add.map(str::to_owned));
        if list.is_empty() {
            doc.operators.remove(id);
        }
        let mut bytes = serde_json::to_vec_pretty(&doc).expect("credentials serialise");
        bytes.push(b'\n');
        vigie_audit::write_atomic(&self.path, &bytes).map_err(AppError::io(&self.path))
    }
}

// ---- rate limiting -----------------------------------------------------------------------

/// Failures and lock-outs of one account id or one peer.
#[derive(Debug, Default)]
struct Strikes {
    failures: Vec<DateTime<Utc>>,
    lockouts: Vec<DateTime<Utc>>,
    locked_until: Option<DateTime<Utc>>,
    pending: u32,
}

impl Strikes {
    fn refresh(&mut self, now: DateTime<Utc>) {
        let window = Duration::minutes(FAILURE_WINDOW_MINUTES);
        self.failures.retain(|t| now - *t < window);
        self.lockouts.retain(|t| now - *t < Duration::days(1));
        if self.locked_until.is_some_and(|u| u <= now) {
            self.locked_until = None;
        }
    }

    /// Count a failure; `Some(until)` when it locks the key out.
    fn fail(&mut self, now: DateTime<Utc>, max: usize) -> Option<DateTime<Utc>> {
        self.refresh(now);
        self.failures.push(now);
        if self.failures.len() < max {
            return None;
        }
        let doublings = self.lockouts.len().min(16) as i32;
        let minutes =
            (BASE_LOCKOUT_MINUTES * 2i64.pow(doublings as u32)).min(MAX_LOCKOUT_HOURS * 60);
        let until = now + Duration::minutes(minutes);
        self.failures.clear();
        self.lockouts.push(now);
        self.locked_until = Some(until);
        Some(until)
    }

    fn idle(&self) -> bool {
        self.pending == 0
            && self.failures.is_empty()
            && self.lockouts.is_empty()
            && self.locked_until.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Operator,
    Peer,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Operator => "operator",
            Scope::Peer => "peer",
        }
    }
}

/// The login rate limiter: per account id and per peer, in memory, rebuilt from the
/// machine log's `login_failed` alerts and `operator_logged_in` entries.
#[derive(Debug, Default)]
struct Limiter {
    ids: HashMap<String, Strikes>,
    peers: HashMap<String, Strikes>,
    pending: u32,
}

impl Limiter {
    fn replay(entries: &[Entry]) -> Self {
        let mut l = Limiter::default();
        for e in entries {
            match Event::from_entry(e) {
                Some(Event::Alert {
                    kind: AlertKind::LoginFailed,
                    details,
                    ..
                }) => {
                    let get = |k: &str| details.get(k).cloned().unwrap_or_default();
                    l.failure(&get("operator_id"), &get("peer"), e.time);
                }
                Some(Event::OperatorLoggedIn { operator_id, .. }) => l.success(&operator_id),
                _ => {}
            }
        }
        l
    }

    /// Admit one password check for `id` from `peer`, or say why not.
    fn begin(&mut self, id: &str, peer: &str, now: DateTime<Utc>) -> Result<(), AccountError> {
        if self.ids.len() + self.peers.len() > 4096 {
            self.ids.retain(|_, s| {
                s.refresh(now);
                !s.idle()
            });
            self.peers.retain(|_, s| {
                s.refresh(now);
                !s.idle()
            });
        }
        let i = self.ids.entry(id.to_owned()).or_default();
        i.refresh(now);
        let p = self.peers.entry(peer.to_owned()).or_default();
        p.refresh(now);
        let (i, p) = (&self.ids[id], &self.peers[peer]);
        if let Some(until) = i.locked_until.max(p.locked_until) {
            return Err(AccountError::LoginLocked { until });
        }
        // Checks in flight count as failures to come: parallel guesses cannot overrun
        // the limit.
        if i.failures.len() + i.pending as usize >= MAX_FAILURES_PER_ID
            || p.failures.len() + p.pending as usize >= MAX_FAILURES_PER_PEER
            || self.pending >= MAX_CONCURRENT_LOGINS
        {
            return Err(AccountError::LoginThrottled);
        }
        self.ids.get_mut(id).expect("inserted").pending += 1;
        self.peers.get_mut(peer).expect("inserted").pending += 1;
        self.pending += 1;
        Ok(())
    }

    fn end(&mut self, id: &str, peer: &str) {
        if let Some(s) = self.ids.get_mut(id) {
            s.pending = s.pending.saturating_sub(1);
        }
        if let Some(s) = self.peers.get_mut(peer) {
            s.pending = s.pending.saturating_sub(1);
        }
        self.pending = self.pending.saturating_sub(1);
    }

    /// Count a failure; the lock-outs it causes.
    fn failure(&mut self, id: &str, peer: &str, now: DateTime<Utc>) -> Vec<(Scope, DateTime<Utc>)> {
        let mut out = Vec::new();
        if let Some(u) = self
            .ids
            .entry(id.to_owned())
            .or_default()
            .fail(now, MAX_FAILURES_PER_ID)
        {
            out.push((Scope::Operator, u));
        }
        if let Some(u) = self
            .peers
            .entry(peer.to_owned())
            .or_default()
            .fail(now, MAX_FAILURES_PER_PEER)
        {
            out.push((Scope::Peer, u));
        }
        out
    }

    /// A successful login clears the account's failures and lock-out history (not the
    /// peer's: one good account must not reset guesses at others).
    fn success(&mut self, id: &str) {
        if let Some(s) = self.ids.get_mut(id) {
            s.failures.clear();
            s.lockouts.clear();
            s.locked_until = None;
        }
    }
}

/// Releases a password check's place in the limiter, whatever happens.
struct InFlight<'a> {
    limiter: &'a Mutex<Limiter>,
    id: &'a str,
    peer: &'a str,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        lock(self.limiter).end(self.id, self.peer);
    }
}

fn lock(m: &Mutex<Limiter>) -> std::sync::MutexGuard<'_, Limiter> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Attacker-chosen text for a log: printable, at most 64 characters.
fn loggable(s: &str) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(64).collect();
    if s.chars().count() > 64 {
        out.push('…');
    }
    out
}

// ---- the accounts ------------------------------------------------------------------------

/// Operator accounts of one installation: the door the web server logs in through, and the
/// administration the `vigie operator` commands call. Long-lived in a server (it keeps
/// the login rate limiter); every answer is replayed from the machine log.
pub struct Accounts {
    app: App,
    limiter: Mutex<Limiter>,
    /// A hash unknown and disabled ids are checked against, so they take as long as a
    /// wrong password.
    dummy: OnceLock<String>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("app", &self.app)
            .finish_non_exhaustive()
    }
}

impl Accounts {
    /// The accounts of `app`'s installation, with the rate limiter rebuilt from the
    /// machine log. Refused (exit 4) when the machine log fails verification.
    pub fn open(app: &App) -> Result<Self, AppError> {
        let entries = verified_machine_entries(app)?;
        Ok(Self {
            app: app.clone(),
            limiter: Mutex::new(Limiter::replay(&entries)),
            dummy: OnceLock::new(),
        })
    }

    fn book(&self) -> Result<AccountBook, AppError> {
        load_book(&self.app)
    }

    /// Whether any account exists.
    pub fn any(&self) -> Result<bool, AppError> {
        Ok(!self.book()?.is_empty())
    }

    /// The account `id` as the machine log says now (a session re-checks it on each
    /// request: a disabling or a revocation applies at once).
    pub fn get(&self, id: &str) -> Result<Option<Account>, AppError> {
        Ok(self.book()?.account(id))
    }

    /// The account `id` as the machine log says now, with the SHA-256 of its current
    /// credential: a web session keeps the one it signed in with and ends when the
    /// password changes (a stolen session does not outlive a password change).
    pub fn get_with_credential(&self, id: &str) -> Result<Option<(Account, String)>, AppError> {
        let book = self.book()?;
        Ok(book.account(id).zip(book.credential(id).map(str::to_owned)))
    }

    /// Whether `id` may enter `case_id` now: an enabled administrator, or an enabled
    /// account granted the case.
    pub fn can_enter(&self, id: &str, case_id: &str) -> Result<bool, AppError> {
        Ok(self.book()?.can_enter(id, case_id))
    }

    /// Every account, by id.
    pub fn list(&self) -> Result<Vec<Account>, AppError> {
        Ok(self.book()?.accounts())
    }

    /// Check `id`'s password, from `peer` (the client's address, or the CLI's
    /// operating-system account). Rate-limited per id and per peer; a failure is a
    /// `login_failed` alert, a lock-out a `login_locked_out` alert; a success is an
    /// `operator_logged_in` entry, written before the account is returned.
    pub fn login(&self, id: &str, password: &str, peer: &str) -> Result<Account, AppError> {
        self.login_with_credential(id, password, peer)
            .map(|(a, _)| a)
    }

    /// As [`Accounts::login`], with the SHA-256 of the credential the password was
    /// checked against: a web session keeps it, and ends when the account's credential
    /// is no longer that one (read in the same step, so a password changed during the
    /// sign-in cannot give the old password a session that outlives the change).
    pub fn login_with_credential(
        &self,
        id: &str,
        password: &str,
        peer: &str,
    ) -> Result<(Account, String), AppError> {
        let (id_key, peer_key) = (loggable(id), loggable(peer));
        let now = self.app.clock().now();
        lock(&self.limiter).begin(&id_key, &peer_key, now)?;
        let _in_flight = InFlight {
            limiter: &self.limiter,
            id: &id_key,
            peer: &peer_key,
        };

        enum Found {
            Usable(Account, String, String),
            Tampered(Account),
            Disabled,
            Unknown,
        }
        let book = self.book()?;
        let found = match book.account(id).filter(|_| id_key == id) {
            Some(a) if a.disabled => Found::Disabled,
            Some(a) => {
                let sha = book.credential(id).unwrap_or_default();
                match Credentials::new(&self.app).find(id, sha)? {
                    Some(phc) => Found::Usable(a, phc, sha.to_owned()),
                    None => Found::Tampered(a),
                }
            }
            None => Found::Unknown,
        };
        let reason = match found {
            Found::Usable(a, phc, sha) => {
                if verify_password(&phc, password) {
                    lock(&self.limiter).success(&id_key);
                    let op = Operator::new(id)?;
                    self.app.record_machine(
                        Some(&op),
                        None,
                        &format!("login from {peer_key} (password checked)"),
                        &Event::OperatorLoggedIn {
                            operator_id: id.to_owned(),
                            peer: peer_key.clone(),
                        },
                    )?;
                    return Ok((a, sha));
                }
                "wrong_password"
            }
            Found::Tampered(a) => {
                // Same time as a real check, then the refusal.
                let _ = verify_password(self.dummy(), password);
                self.raise(
                    AlertKind::CredentialsTampered,
                    "the credentials file does not hold the password hash the machine log records; login refused",
                    &[("operator_id", &a.id), ("peer", &peer_key)],
                );
                return Err(AccountError::CredentialsTampered(a.id).into());
            }
            Found::Disabled => {
                let _ = verify_password(self.dummy(), password);
                "disabled_account"
            }
            Found::Unknown => {
                let _ = verify_password(self.dummy(), password);
                "unknown_account"
            }
        };
        let lockouts = lock(&self.limiter).failure(&id_key, &peer_key, now);
        self.raise(
            AlertKind::LoginFailed,
            "a login was refused (wrong operator id or password)",
            &[
                ("operator_id", &id_key),
                ("peer", &peer_key),
                ("reason", reason),
            ],
        );
        for (scope, until) in lockouts {
            let until = until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            self.raise(
                AlertKind::LoginLockedOut,
                &format!(
                    "too many failed logins: the {} is locked out until {until}",
                    scope.as_str()
                ),
                &[
                    ("scope", scope.as_str()),
                    ("operator_id", &id_key),
                    ("peer", &peer_key),
                    ("locked_until", &until),
                ],
            );
        }
        Err(AccountError::LoginFailed.into())
    }

    /// Record the end of `id`'s session from `peer` (`logout`, `idle`...).
    pub fn logout(&self, id: &str, peer: &str, why: &str) -> Result<(), AppError> {
        let op = Operator::new(id)?;
        self.app.record_machine(
            Some(&op),
            None,
            &format!("session ended: {}", loggable(why)),
            &Event::OperatorLoggedOut {
                operator_id: id.to_owned(),
                peer: loggable(peer),
                why: loggable(why),
            },
        )?;
        Ok(())
    }

    /// Record that a long-running front end (`service`, e.g. `web`) started under this
    /// process's operating-system account.
    pub fn service_started(&self, service: &str) -> Result<(), AppError> {
        let os = OsAccount::current()
            .map(|o| o.to_string())
            .unwrap_or_else(|| "unknown".to_owned());
        self.app.record_machine(
            None,
            None,
            &format!("{} started", loggable(service)),
            &Event::ServiceStarted {
                service: loggable(service),
                os_account: os,
                pid: std::process::id(),
            },
        )?;
        Ok(())
    }

    /// Create account `id`. The first account of an installation is created without an
    /// acting administrator (`by` is then `None`, or the id typed on the command line)
    /// and is an administrator whatever `admin` says; after it, `by` must be an enabled
    /// administrator.
    pub fn add(
        &self,
        by: Option<&Operator>,
        id: &str,
        admin: bool,
        password: &str,
    ) -> Result<Account, AppError> {
        check_account_id(id)?;
        check_password(id, password)?;
        let _lock = self.exclusive()?;
        let book = self.book()?;
        let first = book.is_empty();
        if !first {
            let by = by.ok_or(AccountError::NoActingOperator)?;
            self.require_admin(&book, by, "add operator accounts", id)?;
        }
        if book.account(id).is_some() {
            return Err(AccountError::Exists(id.to_owned()).into());
        }
        let admin = admin || first;
        let phc = hash_password(password)?;
        let sha = credential_sha256(&phc);
        // Leftovers of an interrupted `add` of the same id go.
        Credentials::new(&self.app).update(id, &[], Some(&phc))?;
        let author = match by {
            Some(by) => by.clone(),
            None => Operator::new(id)?,
        };
        self.app.record_machine(
            Some(&author),
            None,
            &author.justification(&format!(
                "operator accounts: add {id}{}{}",
                if admin { " (administrator)" } else { "" },
                if first {
                    ", the installation's first account"
                } else {
                    ""
                }
            )),
            &Event::OperatorAdded {
                operator_id: id.to_owned(),
                admin,
                credential_sha256: sha,
            },
        )?;
        Ok(Account {
            id: id.to_owned(),
            admin,
            disabled: false,
            cases: Vec::new(),
        })
    }

    /// Disable account `id` for good (its sessions end at their next request). The last
    /// enabled administrator cannot be disabled.
    pub fn disable(&self, by: &Operator, id: &str) -> Result<(), AppError> {
        let _lock = self.exclusive()?;
        let book = self.book()?;
        self.require_admin(&book, by, "disable operator accounts", id)?;
        let a = book
            .account(id)
            .ok_or_else(|| AccountError::Unknown(id.to_owned()))?;
        if a.disabled {
            return Err(
                AccountError::Unchanged(format!("operator {id} is already disabled")).into(),
            );
        }
        if a.admin
            && book
                .accounts()
                .iter()
                .filter(|x| x.admin && !x.disabled)
                .count()
                == 1
        {
            return Err(AccountError::Unchanged(format!(
                "operator {id} is the last enabled administrator: add another administrator first"
            ))
            .into());
        }
        self.app.record_machine(
            Some(by),
            None,
            &by.justification(&format!("operator accounts: disable {id}")),
            &Event::OperatorDisabled {
                operator_id: id.to_owned(),
            },
        )?;
        // Its hash is of no use any more (best effort: it counts for nothing anyway).
        let _ = Credentials::new(&self.app).update(id, &[], None);
        Ok(())
    }

    /// Set `id`'s password: by the operator themselves or by an administrator.
    pub fn set_password(&self, by: &Operator, id: &str, password: &str) -> Result<(), AppError> {
        check_password(id, password)?;
        let _lock = self.exclusive()?;
        let book = self.book()?;
        if by.as_str() != id {
            self.require_admin(&book, by, "set another operator's password", id)?;
        }
        let a = book
            .account(id)
            .ok_or_else(|| AccountError::Unknown(id.to_owned()))?;
        if a.disabled {
            return Err(AccountError::Unchanged(format!(
                "operator {id} is disabled: its password cannot be set"
            ))
            .into());
        }
        let old = book.credential(id).unwrap_or_default().to_owned();
        let phc = hash_password(password)?;
        let sha = credential_sha256(&phc);
        let creds = Credentials::new(&self.app);
        // The old hash stays until the log makes the new one count.
        creds.update(id, &[&old], Some(&phc))?;
        self.app.record_machine(
            Some(by),
            None,
            &by.justification(&format!("operator accounts: set the password of {id}")),
            &Event::OperatorPasswordSet {
                operator_id: id.to_owned(),
                credential_sha256: sha.clone(),
            },
        )?;
        let _ = creds.update(id, &[&sha], None);
        Ok(())
    }

    /// Let `id` enter case `case_id` (which must exist).
    pub fn grant(&self, by: &Operator, id: &str, case_id: &str) -> Result<(), AppError> {
        let _lock = self.exclusive()?;
        let book = self.book()?;
        self.require_admin(&book, by, "grant access to cases", id)?;
        let a = book
            .account(id)
            .ok_or_else(|| AccountError::Unknown(id.to_owned()))?;
        if a.disabled {
            return Err(AccountError::Unchanged(format!(
                "operator {id} is disabled: it cannot be granted a case"
            ))
            .into());
        }
        // The case must exist (and agree with its log).
        vigie_case::load_case_with(self.app.root(), case_id, self.app.clock())?;
        if a.cases.iter().any(|c| c == case_id) {
            return Err(AccountError::Unchanged(format!(
                "operator {id} already has access to case {case_id}"
            ))
            .into());
        }
        self.app.record_machine(
            Some(by),
            None,
            &by.justification(&format!("operator accounts: grant {id} case {case_id}")),
            &Event::CaseAccessGranted {
                operator_id: id.to_owned(),
                case_id: case_id.to_owned(),
            },
        )?;
        Ok(())
    }

    /// Withdraw `id`'s access to case `case_id` (work it has running finishes; the next
    /// entry into the case is refused).
    pub fn revoke(&self, by: &Operator, id: &str, case_id: &str) -> Result<(), AppError> {
        let _lock = self.exclusive()?;
        let book = self.book()?;
        self.require_admin(&book, by, "revoke access to cases", id)?;
        let a = book
            .account(id)
            .ok_or_else(|| AccountError::Unknown(id.to_owned()))?;
        if !a.cases.iter().any(|c| c == case_id) {
            return Err(AccountError::Unchanged(format!(
                "operator {id} has no access to case {case_id}"
            ))
            .into());
        }
        self.app.record_machine(
            Some(by),
            None,
            &by.justification(&format!("operator accounts: revoke {id} case {case_id}")),
            &Event::CaseAccessRevoked {
                operator_id: id.to_owned(),
                case_id: case_id.to_owned(),
            },
        )?;
        Ok(())
    }

    /// Serialise account changes (check, then record) across processes.
    fn exclusive(&self) -> Result<File, AppError> {
        let dir = self.app.root().machine_log_dir();
        vigie_audit::create_private_dir_all(&dir).map_err(AppError::io(&dir))?;
        let path = dir.join(ACCOUNTS_LOCK_FILE);
        let f = vigie_audit::private_open_options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(AppError::io(&path))?;
        f.lock_exclusive().map_err(AppError::io(&path))?;
        Ok(f)
    }

    /// `by` must be an enabled administrator; otherwise an `operator_refused` alert.
    fn require_admin(
        &self,
        book: &AccountBook,
        by: &Operator,
        action: &str,
        target: &str,
    ) -> Result<(), AppError> {
        if book.enabled_admin(by.as_str()) {
            return Ok(());
        }
        let os = by.os_account().map(|o| o.to_string()).unwrap_or_default();
        self.raise(
            AlertKind::OperatorRefused,
            &format!("an operator who is not an enabled administrator tried to {action}"),
            &[
                ("operator_id", by.as_str()),
                ("action", action),
                ("target", &loggable(target)),
                ("os_account", &os),
            ],
        );
        Err(AccountError::NotAdmin {
            id: by.as_str().to_owned(),
            action: action.to_owned(),
        }
        .into())
    }

    /// Raise an alert in the machine log (the refusal stands even if it cannot be
    /// written).
    fn raise(&self, kind: AlertKind, message: &str, details: &[(&str, &str)]) {
        if let Ok(sink) = self.app.machine_alert_sink(None) {
            let _ = sink.raise(&Alert {
                kind,
                message: message.to_owned(),
                details: details
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            });
        }
    }

    fn dummy(&self) -> &str {
        self.dummy
            .get_or_init(|| hash_password("vigie: no such account, same cost").unwrap_or_default())
    }
}

#[cfg(test)]
mod tests;
