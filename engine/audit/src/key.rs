//! The installation key: one Ed25519 key pair per data root, used to sign chain heads.
//!
//! Why a signature on top of the hash chain: a chain proves that no entry was changed,
//! removed or inserted *before* the last one, but not that nothing was cut off the end. The
//! signed head (last seq + last hash) closes that gap: removing entries from the end leaves
//! a head that names an entry which is no longer there, and forging a new head needs the
//! secret key. The public key is printed in every exploitation report, so a copy of the
//! log handed to an authority can be checked against it later.
//!
//! Limit, stated plainly: the secret key lives on the same machine (mode 0600, under the
//! data root), so an attacker with the account's full rights could re-sign a shortened
//! log. The report's printed head (seq, hash, signature) is what a court file keeps; a
//! shortened log no longer matches it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::fsutil;

/// File name of the secret key inside the keys directory.
pub const KEY_FILE: &str = "installation.ed25519";
/// File name of the public key (hex) beside it, for people and other tools.
pub const PUBLIC_KEY_FILE: &str = "installation.ed25519.pub";

/// Which key a key file holds: it decides what an error tells the reader to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// The installation key (`keys/` under the data root): signs chain heads.
    Installation,
    /// A compute node's key (`vigie node init`): signs the node's shard results.
    Node,
}

impl KeyRole {
    fn name(self) -> &'static str {
        match self {
            KeyRole::Installation => "installation key",
            KeyRole::Node => "node key",
        }
    }

    fn corrupt_fix(self) -> &'static str {
        match self {
            KeyRole::Installation => "restore it from the backup of the data root; without it, existing chain heads cannot be checked",
            KeyRole::Node => "move it away, make a new one with `vigie node init` and have an administrator enroll the new public key with `vigie node enroll`",
        }
    }

    fn missing_fix(self) -> &'static str {
        match self {
            KeyRole::Installation => "it is created on first use under the data root's `keys/`",
            KeyRole::Node => "run `vigie node init` on this node, then have an administrator enroll its public key with `vigie node enroll NAME --public-key HEX`",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or create the {}: {source}: {}", role.name(), path.display())]
    Io {
        role: KeyRole,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("no {} at {} ({})", role.name(), path.display(), role.missing_fix())]
    Missing { role: KeyRole, path: PathBuf },
    #[error("the {} is not 64 hex digits ({}): {}", role.name(), role.corrupt_fix(), path.display())]
    Corrupt { role: KeyRole, path: PathBuf },
    #[error("the {} is readable by other users (mode {mode:o}); run `chmod 600` on it and check who may have copied it: {}", role.name(), path.display())]
    TooOpen {
        role: KeyRole,
        path: PathBuf,
        mode: u32,
    },
}

/// An Ed25519 signing key kept in a file of its own: the secret as 64 hex digits in a
/// file of mode 0600 (refused when other users may read it), its public key as 64 hex
/// digits in `<file>.pub` beside it, for people and other tools. The installation key
/// ([`InstallationKey`]) and each compute node's key are such files.
pub struct KeyFile {
    signing: SigningKey,
    path: PathBuf,
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("KeyFile")
            .field("path", &self.path)
            .field("public", &self.public_hex())
            .finish()
    }
}

/// The public key file beside the secret key file `path` (`<path>.pub`).
pub fn public_key_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// 32 fresh secret bytes from the operating system's random source.
fn random_secret(role: KeyRole) -> Result<[u8; 32], KeyError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| KeyError::Io {
        role,
        path: PathBuf::from("<os random source>"),
        source: io::Error::other(e.to_string()),
    })?;
    Ok(secret)
}

impl KeyFile {
    /// Load the key at `path`, creating it on first use (0600, with `<path>.pub`). The
    /// parent directory is created (0700) when missing, never changed when it exists;
    /// two processes starting at once agree on one key.
    pub fn load_or_create(path: &Path, role: KeyRole) -> Result<Self, KeyError> {
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        if !parent.exists() {
            fsutil::create_private_dir_all(parent).map_err(|source| KeyError::Io {
                role,
                path: parent.to_owned(),
                source,
            })?;
        }
        let key = Self::load_or_create_in(path, role)?;
        // A missing public key file is written again (it holds nothing secret).
        let pub_path = public_key_path(path);
        if !pub_path.exists() {
            fsutil::write_atomic(&pub_path, format!("{}\n", key.public_hex()).as_bytes()).map_err(
                |source| KeyError::Io {
                    role,
                    path: pub_path,
                    source,
                },
            )?;
        }
        Ok(key)
    }

    /// [`KeyFile::load_or_create`] once the directory exists.
    fn load_or_create_in(path: &Path, role: KeyRole) -> Result<Self, KeyError> {
        let io_err = |source| KeyError::Io {
            role,
            path: path.to_owned(),
            source,
        };
        match Self::load(path, role) {
            Ok(k) => return Ok(k),
            Err(KeyError::Missing { .. }) => {}
            Err(e) => return Err(e),
        }
        let fresh = Self {
            signing: SigningKey::from_bytes(&random_secret(role)?),
            path: path.to_owned(),
        };
        let secret_hex = format!("{}\n", hex::encode(fresh.signing.to_bytes()));
        match fsutil::write_new(path, secret_hex.as_bytes()) {
            Ok(()) => {}
            // Someone else created it first: use theirs.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Self::load(path, role),
            Err(e) => return Err(io_err(e)),
        }
        let pub_path = public_key_path(path);
        fsutil::write_atomic(&pub_path, format!("{}\n", fresh.public_hex()).as_bytes()).map_err(
            |source| KeyError::Io {
                role,
                path: pub_path,
                source,
            },
        )?;
        Ok(fresh)
    }

    /// Load an existing key; a missing file is [`KeyError::Missing`], a file other users
    /// can read [`KeyError::TooOpen`], anything but 64 hex digits [`KeyError::Corrupt`].
    pub fn load(path: &Path, role: KeyRole) -> Result<Self, KeyError> {
        let io_err = |source: io::Error| {
            if source.kind() == io::ErrorKind::NotFound {
                KeyError::Missing {
                    role,
                    path: path.to_owned(),
                }
            } else {
                KeyError::Io {
                    role,
                    path: path.to_owned(),
                    source,
                }
            }
        };
        let text = fs::read_to_string(path).map_err(io_err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path).map_err(io_err)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::TooOpen {
                    role,
                    path: path.to_owned(),
                    mode,
                });
            }
        }
        let corrupt = || KeyError::Corrupt {
            role,
            path: path.to_owned(),
        };
        let bytes = hex::decode(text.trim()).map_err(|_| corrupt())?;
        let secret: [u8; 32] = bytes.try_into().map_err(|_| corrupt())?;
        Ok(Self {
            signing: SigningKey::from_bytes(&secret),
            path: path.to_owned(),
        })
    }

    /// Where the secret key is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The public key, lower-case hex (64 digits).
    pub fn public_hex(&self) -> String {
        hex::encode(self.verifying_key().to_bytes())
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        self.signing.sign(message)
    }

    /// The signature of `message`, lower-case hex (128 digits).
    pub fn sign_hex(&self, message: &[u8]) -> String {
        hex::encode(self.sign(message).to_bytes())
    }
}

/// The installation's signing key.
pub struct InstallationKey {
    signing: SigningKey,
}

impl std::fmt::Debug for InstallationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("InstallationKey")
            .field("public", &self.public_hex())
            .finish()
    }
}

impl InstallationKey {
    /// A key from known secret bytes (tests and fixtures; real installations use
    /// [`InstallationKey::load_or_create`]).
    pub fn from_secret_bytes(secret: [u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(&secret),
        }
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, KeyError> {
        Ok(Self::from_secret_bytes(random_secret(
            KeyRole::Installation,
        )?))
    }

    /// Load the key from `keys_dir`, creating it (and the directory, 0700) on first use.
    /// Two processes starting at once agree on one key.
    pub fn load_or_create(keys_dir: &Path) -> Result<Self, KeyError> {
        let path = keys_dir.join(KEY_FILE);
        match Self::load(&path) {
            Ok(k) => return Ok(k),
            Err(KeyError::Missing { .. }) => {}
            Err(e) => return Err(e),
        }
        fsutil::create_private_dir_all(keys_dir).map_err(|source| KeyError::Io {
            role: KeyRole::Installation,
            path: path.clone(),
            source,
        })?;
        KeyFile::load_or_create_in(&path, KeyRole::Installation).map(Self::from)
    }

    /// Load an existing key; refuses a key file other users can read.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        KeyFile::load(path, KeyRole::Installation).map(Self::from)
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The public key, lower-case hex (64 digits).
    pub fn public_hex(&self) -> String {
        hex::encode(self.verifying_key().to_bytes())
    }

    /// A short fingerprint of the public key (first 16 hex digits of its SHA-256), for
    /// people comparing keys by eye.
    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.verifying_key())
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        self.signing.sign(message)
    }
}

impl From<KeyFile> for InstallationKey {
    fn from(k: KeyFile) -> Self {
        Self { signing: k.signing }
    }
}

/// Fingerprint of a public key (see [`InstallationKey::fingerprint`]).
pub fn fingerprint_of(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.to_bytes())[..8])
}

/// Check a signature made by [`InstallationKey::sign`].
pub fn verify_signature(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
    key.verify(message, signature).is_ok()
}

/// A public key given as 64 hex digits (either case, surrounding white space ignored);
/// `None` when it is not one, or not a valid Ed25519 point.
pub fn parse_public_hex(public_hex: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(public_hex.trim()).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// Whether `signature_hex` (128 hex digits) is `public_hex`'s (64 hex digits) Ed25519
/// signature of `message`; `false` on any malformed input. Strict verification: no
/// malleable or small-order signatures.
pub fn verify_hex(public_hex: &str, message: &[u8], signature_hex: &str) -> bool {
    let Some(key) = parse_public_hex(public_hex) else {
        return false;
    };
    let Some(bytes) = hex::decode(signature_hex.trim())
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
    else {
        return false;
    };
    key.verify_strict(message, &Signature::from_bytes(&bytes))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_loaded() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("keys");
        let a = InstallationKey::load_or_create(&dir).unwrap();
        let b = InstallationKey::load_or_create(&dir).unwrap();
        assert_eq!(a.public_hex(), b.public_hex());
        let sig = a.sign(b"head");
        assert!(verify_signature(&b.verifying_key(), b"head", &sig));
        assert!(!verify_signature(&b.verifying_key(), b"heaD", &sig));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        let public = fs::read_to_string(dir.join(PUBLIC_KEY_FILE)).unwrap();
        assert_eq!(public.trim(), a.public_hex());
        assert!(!format!("{a:?}").contains(&hex::encode(a.signing.to_bytes())));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_world_readable_key() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("keys");
        InstallationKey::load_or_create(&dir).unwrap();
        fs::set_permissions(dir.join(KEY_FILE), fs::Permissions::from_mode(0o644)).unwrap();
        let err = InstallationKey::load_or_create(&dir).unwrap_err();
        assert!(matches!(err, KeyError::TooOpen { .. }), "{err}");
        assert!(err.to_string().contains("chmod 600"));
    }

    #[test]
    fn corrupt_key_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("keys");
        InstallationKey::load_or_create(&dir).unwrap();
        fs::write(dir.join(KEY_FILE), "not hex\n").unwrap();
        assert!(matches!(
            InstallationKey::load_or_create(&dir).unwrap_err(),
            KeyError::Corrupt { .. }
        ));
    }

    #[test]
    fn parallel_creation_agrees() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("keys");
        let keys: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| InstallationKey::load_or_create(&dir).unwrap().public_hex()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.windows(2).all(|w| w[0] == w[1]), "{keys:?}");
    }

    #[test]
    fn key_file_created_private_then_reloaded() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("cfg/vigie/node.ed25519");
        let a = KeyFile::load_or_create(&path, KeyRole::Node).unwrap();
        let b = KeyFile::load(&path, KeyRole::Node).unwrap();
        assert_eq!(a.public_hex(), b.public_hex());
        assert_eq!(a.path(), path);
        let public = fs::read_to_string(public_key_path(&path)).unwrap();
        assert_eq!(public.trim(), a.public_hex());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        assert!(!format!("{a:?}").contains(&hex::encode(a.signing.to_bytes())));
        // A lost public key file comes back.
        fs::remove_file(public_key_path(&path)).unwrap();
        KeyFile::load_or_create(&path, KeyRole::Node).unwrap();
        assert!(public_key_path(&path).exists());
    }

    #[test]
    fn missing_node_key_names_the_commands() {
        let tmp = tempfile::tempdir().unwrap();
        let err = KeyFile::load(&tmp.path().join("nope"), KeyRole::Node).unwrap_err();
        assert!(matches!(err, KeyError::Missing { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("vigie node init") && msg.contains("vigie node enroll"));
    }

    #[test]
    fn hex_signatures_verify_and_tampering_does_not() {
        let a = KeyFile {
            signing: SigningKey::from_bytes(&[5; 32]),
            path: PathBuf::new(),
        };
        let other = InstallationKey::from_secret_bytes([6; 32]);
        let sig = a.sign_hex(b"shard record");
        assert_eq!(sig.len(), 128);
        assert!(verify_hex(&a.public_hex(), b"shard record", &sig));
        assert!(verify_hex(
            &a.public_hex().to_uppercase(),
            b"shard record",
            &sig
        ));
        assert!(!verify_hex(&a.public_hex(), b"shard recorD", &sig));
        assert!(!verify_hex(&other.public_hex(), b"shard record", &sig));
        let mut bad = sig.clone().into_bytes();
        bad[10] = if bad[10] == b'0' { b'1' } else { b'0' };
        assert!(!verify_hex(
            &a.public_hex(),
            b"shard record",
            std::str::from_utf8(&bad).unwrap()
        ));
        assert!(!verify_hex("zz", b"shard record", &sig));
        assert!(!verify_hex(&a.public_hex(), b"shard record", "abcd"));
        assert!(parse_public_hex(&a.public_hex()).is_some());
        assert!(parse_public_hex(&sig).is_none());
    }
}
