//! Compute nodes: the keys that sign shard results, and which of them the installation
//! trusts.
//!
//! Why: a sharded analysis (`vigie analyze --shard I/N`) runs on compute nodes, and
//! `vigie merge` brings each node's results into the case. The installation key (under
//! the data root's `keys/`) never leaves its machine, so each node signs its shard record
//! with a key of its own ([`NodeKey`]: an Ed25519 secret in a file of mode 0600, by
//! default `$XDG_CONFIG_HOME/vigie/node.ed25519`, made by `vigie node init`), and the
//! merge accepts a record only when its key is enrolled here and not revoked
//! ([`node_by_key`]).
//!
//! Why in the machine log and nowhere else: which nodes are trusted decides whose results
//! become evidence-derived data. Like operator accounts ([`crate::accounts`]), each change
//! is a typed `lifecycle` entry of the machine log (`node_enrolled`, `node_revoked`) with
//! the acting operator, made through the [`crate::admin::Administration`] permission
//! (administrators only, once operator accounts exist), and the list is replayed from the
//! *verified* log on every use: a log that fails verification is an error, never a
//! partial answer (a damaged log could hide a revocation). Replay re-checks each entry's
//! author (an enabled administrator at the time, or anyone before the first account), so
//! a signed entry vigie would not have written enrolls nothing.
//!
//! Rules: a node name is 1 to 64 characters `[A-Za-z0-9._-]`; one live (not revoked)
//! enrolment per name and per key; a revocation is for good (the key stays refused, even
//! under another name: the node makes a new key); the installation's own public key is
//! never enrolled (a shard signed with it would prove nothing about where it ran).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use fs2::FileExt;
use serde::Serialize;
use vigie_audit::event::Event;
use vigie_audit::{AuditError, Entry, KeyFile, KeyRole};

use crate::accounts::AccountBook;
use crate::admin::Administration;
use crate::app::App;
use crate::error::AppError;

/// The node key's file name in the configuration directory.
pub const NODE_KEY_FILE: &str = "node.ed25519";
/// Serialises enrolments and revocations (check, then record) across processes, in the
/// machine log's directory.
const NODES_LOCK_FILE: &str = "nodes.lock";
/// How long a node list replayed from an unchanged machine log is reused at most.
const NODES_CACHE_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(30);

/// A node's signing key (secret stays on the node, file mode 0600).
#[derive(Debug)]
pub struct NodeKey {
    key: KeyFile,
}

impl NodeKey {
    /// `$XDG_CONFIG_HOME/vigie/node.ed25519`, else `$HOME/.config/vigie/node.ed25519`.
    pub fn default_path() -> PathBuf {
        let non_empty = |var: &str| {
            std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        non_empty("XDG_CONFIG_HOME")
            .filter(|p| p.is_absolute())
            .unwrap_or_else(|| {
                non_empty("HOME")
                    .unwrap_or_else(|| PathBuf::from("."))
                    .join(".config")
            })
            .join("vigie")
            .join(NODE_KEY_FILE)
    }

    /// Create (0600, parent dirs 0700) when missing; refuse a too-open or corrupt file
    /// with an error naming the fix.
    pub fn load_or_create(path: &Path) -> Result<NodeKey, AppError> {
        Ok(Self {
            key: KeyFile::load_or_create(path, KeyRole::Node).map_err(AuditError::from)?,
        })
    }

    /// Load an existing key; a missing file is an error that says to run `vigie node
    /// init` and then have an administrator run `vigie node enroll`.
    pub fn load(path: &Path) -> Result<NodeKey, AppError> {
        Ok(Self {
            key: KeyFile::load(path, KeyRole::Node).map_err(AuditError::from)?,
        })
    }

    /// Where the secret key is (its public key is in `<path>.pub`).
    pub fn path(&self) -> &Path {
        self.key.path()
    }

    /// The public key, lower-case hex (64 digits).
    pub fn public_hex(&self) -> String {
        self.key.public_hex()
    }

    /// The Ed25519 signature of `message`, lower-case hex (128 digits).
    pub fn sign_hex(&self, message: &[u8]) -> String {
        self.key.sign_hex(message)
    }
}

/// Whether `signature_hex` is `public_hex`'s Ed25519 signature of `message` (false on
/// any malformed input).
pub fn verify_signature(public_hex: &str, message: &[u8], signature_hex: &str) -> bool {
    vigie_audit::verify_hex(public_hex, message, signature_hex)
}

/// One enrolment of a node, as the machine log records it.
#[derive(Debug, Clone, Serialize)]
pub struct EnrolledNode {
    pub name: String,
    /// Ed25519 public key, 64 lower-case hex digits.
    pub public_key: String,
    pub enrolled_at: DateTime<Utc>,
    /// The operator who enrolled it.
    pub enrolled_by: String,
    /// When it was revoked (for good), if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl EnrolledNode {
    /// Whether its shard results are accepted (not revoked).
    pub fn is_live(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// Check a node name: 1 to 64 characters, ASCII letters, digits, `.`, `_`, `-`.
pub fn check_node_name(name: &str) -> Result<(), AppError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(AppError::BadInput(format!(
            "invalid node name {:?}: use 1 to 64 letters, digits, '.', '_' or '-'",
            name.chars().take(80).collect::<String>()
        )))
    }
}

/// A public key as typed or read from a file: 64 hex digits (either case, white space
/// around ignored) that make a valid Ed25519 key; returned in lower case.
pub fn parse_public_key(text: &str) -> Result<String, AppError> {
    let text = text.trim();
    if text.len() == 64 && vigie_audit::parse_public_hex(text).is_some() {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(AppError::BadInput(format!(
            "not an Ed25519 public key (64 hex digits, as `vigie node init` prints it): {:?}",
            text.chars().take(80).collect::<String>()
        )))
    }
}

/// The public key in `path`: a node key's `.pub` file, or any file holding the 64 hex
/// digits. A secret key file is refused (it holds 64 hex digits too, and must never be
/// copied off its node, let alone written into the machine log): a file with a
/// `<path>.pub` beside it, or one named like vigie's secret key files (`*.ed25519`).
pub fn read_public_key_file(path: &Path) -> Result<String, AppError> {
    let is_secret = vigie_audit::public_key_path(path).exists()
        || path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".ed25519"));
    if is_secret {
        return Err(AppError::BadInput(format!(
            "{} is a secret key, not a public one: give its public key file ({}) or the hex `vigie node init` printed; a secret copied off its node should be replaced (`vigie node init --key NEW_PATH` there)",
            path.display(),
            vigie_audit::public_key_path(path).display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(AppError::io(path))?;
    parse_public_key(&text)
}

// ---- the list, replayed from the verified machine log ---------------------------------

/// Node enrolments replayed from machine-log entries (in order). An entry whose author
/// could not have made it (not an enabled administrator then, once accounts exist), or
/// that breaks the rules, changes nothing.
fn replay(entries: &[Entry]) -> Vec<EnrolledNode> {
    // Only additions and disablings decide who is an enabled administrator; replaying
    // them alone up to each node entry keeps the replay linear in the log's length.
    let mut account_entries: Vec<Entry> = Vec::new();
    let mut book = AccountBook::default();
    let mut nodes: Vec<EnrolledNode> = Vec::new();
    for e in entries {
        let Some(ev) = Event::from_entry(e) else {
            continue;
        };
        match ev {
            Event::OperatorAdded { .. } | Event::OperatorDisabled { .. } => {
                account_entries.push(e.clone());
                book = AccountBook::replay(&account_entries);
            }
            Event::NodeEnrolled { node, public_key } => {
                if !may_administer(&book, &e.operator)
                    || check_node_name(&node).is_err()
                    || parse_public_key(&public_key).is_err()
                {
                    continue;
                }
                let key = public_key.to_ascii_lowercase();
                if nodes
                    .iter()
                    .any(|n| (n.name == node && n.is_live()) || n.public_key == key)
                {
                    continue;
                }
                nodes.push(EnrolledNode {
                    name: node,
                    public_key: key,
                    enrolled_at: e.time,
                    enrolled_by: e.operator.clone(),
                    revoked_at: None,
                });
            }
            Event::NodeRevoked { node } => {
                if !may_administer(&book, &e.operator) {
                    continue;
                }
                if let Some(n) = nodes.iter_mut().find(|n| n.name == node && n.is_live()) {
                    n.revoked_at = Some(e.time);
                }
            }
            _ => {}
        }
    }
    nodes
}

/// What `Administration` allows for administrators only: anyone before the first account,
/// an enabled administrator after.
fn may_administer(book: &AccountBook, id: &str) -> bool {
    book.is_empty() || book.account(id).is_some_and(|a| a.admin && !a.disabled)
}

/// Every node enrolled, replayed from the VERIFIED machine log (a log that fails
/// verification is an error, never a partial answer). Revoked ones are included, with
/// their revocation time, in the order they were enrolled.
pub fn enrolled_nodes(app: &App) -> Result<Vec<EnrolledNode>, AppError> {
    // Kept while the machine log's files are exactly as they were (see
    // `accounts::load_book` for why this is safe): any append or edit is seen at once.
    static NODES: vigie_audit::DerivedCache<Vec<EnrolledNode>> =
        vigie_audit::DerivedCache::new(NODES_CACHE_MAX_AGE, 8);
    let log = app.machine_log()?;
    NODES.get_or_derive(&log, || {
        Ok(replay(&crate::accounts::verified_entries(&log)?))
    })
}

/// The enrolled, not revoked node holding `public_hex` (None otherwise).
pub fn node_by_key(app: &App, public_hex: &str) -> Result<Option<EnrolledNode>, AppError> {
    let key = public_hex.trim().to_ascii_lowercase();
    Ok(enrolled_nodes(app)?
        .into_iter()
        .find(|n| n.is_live() && n.public_key == key))
}

impl Administration {
    /// Enroll `name` (1-64 chars [A-Za-z0-9._-]) with `public_hex`. Refuse: bad name,
    /// malformed key, a name already enrolled and not revoked, a key already enrolled
    /// under another live name (or revoked: revocation is for good), the installation's
    /// own public key. Administrators only, once operator accounts exist.
    pub fn enroll_node(&self, name: &str, public_hex: &str) -> Result<EnrolledNode, AppError> {
        check_node_name(name)?;
        let key = parse_public_key(public_hex)?;
        let app = self.app();
        let _lock = nodes_lock(app)?;
        self.check_rights(None, true)?;
        let log = app.machine_log()?;
        if log.key().public_hex() == key {
            return Err(AppError::BadInput(format!(
                "that is this installation's own public key, not a node's: on the node, run `vigie node init` and enroll the public key it prints (node {name})"
            )));
        }
        let nodes = enrolled_nodes(app)?;
        if let Some(n) = nodes.iter().find(|n| n.name == name && n.is_live()) {
            return Err(AppError::BadInput(format!(
                "node {name} is already enrolled (since {}, key {}): revoke it first with `vigie node revoke {name}` to enroll another key",
                n.enrolled_at.format("%Y-%m-%d %H:%M UTC"),
                short(&n.public_key)
            )));
        }
        if let Some(n) = nodes.iter().find(|n| n.public_key == key) {
            return Err(AppError::BadInput(if n.is_live() {
                format!(
                    "key {} is already enrolled as node {}: one key per node",
                    short(&key),
                    n.name
                )
            } else {
                format!(
                    "key {} was revoked (node {}) and stays refused: make a new key on the node (`vigie node init --key NEW_PATH`) and enroll that one",
                    short(&key),
                    n.name
                )
            }));
        }
        let operator = self.operator();
        let why = match self.reason() {
            Some(r) => format!("compute nodes: enroll {name} ({r})"),
            None => format!("compute nodes: enroll {name}"),
        };
        app.record_machine(
            Some(operator),
            None,
            &operator.justification(&why),
            &Event::NodeEnrolled {
                node: name.to_owned(),
                public_key: key.clone(),
            },
        )?;
        enrolled_nodes(app)?
            .into_iter()
            .find(|n| n.name == name && n.is_live() && n.public_key == key)
            .ok_or_else(|| {
                AppError::BadInput(format!(
                    "node {name}: the enrolment was recorded but does not count (was the acting operator's right withdrawn meanwhile?)"
                ))
            })
    }

    /// Revoke (for good) an enrolled node by name: its shard results are refused from
    /// now on, and its key can never be enrolled again.
    pub fn revoke_node(&self, name: &str) -> Result<(), AppError> {
        check_node_name(name)?;
        let app = self.app();
        let _lock = nodes_lock(app)?;
        self.check_rights(None, true)?;
        let nodes = enrolled_nodes(app)?;
        if !nodes.iter().any(|n| n.name == name && n.is_live()) {
            return Err(AppError::BadInput(
                if nodes.iter().any(|n| n.name == name) {
                    format!("node {name} is already revoked")
                } else {
                    format!("no enrolled node {name}: `vigie node list` shows them")
                },
            ));
        }
        let operator = self.operator();
        let why = match self.reason() {
            Some(r) => format!("compute nodes: revoke {name} ({r})"),
            None => format!("compute nodes: revoke {name}"),
        };
        app.record_machine(
            Some(operator),
            None,
            &operator.justification(&why),
            &Event::NodeRevoked {
                node: name.to_owned(),
            },
        )?;
        Ok(())
    }
}

/// The first 16 hex digits of a key, for messages.
fn short(key: &str) -> &str {
    key.get(..16).unwrap_or(key)
}

/// Serialise node changes across processes.
fn nodes_lock(app: &App) -> Result<std::fs::File, AppError> {
    let dir = app.root().machine_log_dir();
    vigie_audit::create_private_dir_all(&dir).map_err(AppError::io(&dir))?;
    let path = dir.join(NODES_LOCK_FILE);
    let f = vigie_audit::private_open_options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(AppError::io(&path))?;
    f.lock_exclusive().map_err(AppError::io(&path))?;
    Ok(f)
}
