//! The signed chain head: `audit.head` beside `audit.jsonl`.
//!
//! Rewritten (atomically) twice per append, under the log's lock: first to announce the
//! entry about to be written (`pending`: its seq and hash), then, once the entry is synced,
//! to commit it (`seq`/`hash` name it, no pending). Each version carries an Ed25519
//! signature over the log's id, the committed point and the pending one. See `key.rs` for
//! why the chain alone is not enough.
//!
//! Why announce first: a crash between writing an entry and signing it must not look like
//! someone appending an entry without the key. With the announcement, an entry after the
//! committed head is accepted only if the signed head announced exactly that hash.

use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

/// A point of the chain: an entry's seq and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainPoint {
    pub seq: u64,
    pub hash: String,
}

use crate::key::{verify_signature, InstallationKey};

const HEAD_FORMAT: u32 = 1;

/// The content of a head file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedHead {
    pub format: u32,
    pub log_id: String,
    /// Seq of the last entry (0: the log has no entry yet).
    pub seq: u64,
    /// Hash of the last entry (the genesis hash when `seq` is 0).
    pub hash: String,
    /// The entry being written after it, announced before the write.
    pub pending: Option<ChainPoint>,
    /// Public key of the installation that signed (hex).
    pub public_key: String,
    /// Ed25519 signature (hex) over [`head_message`].
    pub signature: String,
}

/// Why a head file cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadProblem {
    WrongFormat(u32),
    WrongLog { found: String },
    WrongKey { found: String },
    BadSignature,
}

impl std::fmt::Display for HeadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeadProblem::WrongFormat(n) => write!(f, "head has format {n}, expected {HEAD_FORMAT}"),
            HeadProblem::WrongLog { found } => write!(f, "head belongs to log {found:?}"),
            HeadProblem::WrongKey { found } => write!(
                f,
                "head was signed by another key ({found}), not this installation's"
            ),
            HeadProblem::BadSignature => f.write_str("head signature does not match its content"),
        }
    }
}

/// The exact bytes a head signature covers.
pub fn head_message(log_id: &str, seq: u64, hash: &str, pending: Option<&ChainPoint>) -> Vec<u8> {
    let (pseq, phash) = match pending {
        Some(p) => (p.seq.to_string(), p.hash.as_str()),
        None => ("-".to_owned(), "-"),
    };
    format!("vigie-audit-head/v1\n{log_id}\n{seq}\n{hash}\n{pseq}\n{phash}").into_bytes()
}

impl SignedHead {
    pub fn sign(
        key: &InstallationKey,
        log_id: &str,
        seq: u64,
        hash: &str,
        pending: Option<ChainPoint>,
    ) -> Self {
        let sig = key.sign(&head_message(log_id, seq, hash, pending.as_ref()));
        Self {
            format: HEAD_FORMAT,
            log_id: log_id.to_owned(),
            seq,
            hash: hash.to_owned(),
            pending,
            public_key: key.public_hex(),
            signature: hex::encode(sig.to_bytes()),
        }
    }

    /// Check that this head is for `log_id`, was signed by `key`, and is intact.
    pub fn check(&self, key: &VerifyingKey, log_id: &str) -> Result<(), HeadProblem> {
        if self.format != HEAD_FORMAT {
            return Err(HeadProblem::WrongFormat(self.format));
        }
        if self.log_id != log_id {
            return Err(HeadProblem::WrongLog {
                found: self.log_id.clone(),
            });
        }
        if self.public_key != hex::encode(key.to_bytes()) {
            return Err(HeadProblem::WrongKey {
                found: self.public_key.clone(),
            });
        }
        let sig = hex::decode(&self.signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .map(|b| Signature::from_bytes(&b))
            .ok_or(HeadProblem::BadSignature)?;
        if verify_signature(
            key,
            &head_message(&self.log_id, self.seq, &self.hash, self.pending.as_ref()),
            &sig,
        ) {
            Ok(())
        } else {
            Err(HeadProblem::BadSignature)
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("a head serialises");
        v.push(b'\n');
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_check() {
        let key = InstallationKey::from_secret_bytes([7; 32]);
        let other = InstallationKey::from_secret_bytes([8; 32]);
        let head = SignedHead::sign(&key, "case:X", 3, "ab", None);
        assert_eq!(head.check(&key.verifying_key(), "case:X"), Ok(()));
        assert!(matches!(
            head.check(&key.verifying_key(), "case:Y"),
            Err(HeadProblem::WrongLog { .. })
        ));
        assert!(matches!(
            head.check(&other.verifying_key(), "case:X"),
            Err(HeadProblem::WrongKey { .. })
        ));
        let mut forged = head.clone();
        forged.seq = 2;
        assert_eq!(
            forged.check(&key.verifying_key(), "case:X"),
            Err(HeadProblem::BadSignature)
        );
        let mut announced = head.clone();
        announced.pending = Some(ChainPoint {
            seq: 4,
            hash: "cd".into(),
        });
        assert_eq!(
            announced.check(&key.verifying_key(), "case:X"),
            Err(HeadProblem::BadSignature)
        );
        let mut resigned_by_other = SignedHead::sign(&other, "case:X", 2, "ab", None);
        resigned_by_other.public_key = key.public_hex();
        assert_eq!(
            resigned_by_other.check(&key.verifying_key(), "case:X"),
            Err(HeadProblem::BadSignature)
        );
    }
}
