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

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or create the installation key: {source}: {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the installation key is not 64 hex digits (restore it from the backup of the data root; without it, existing chain heads cannot be checked): {path}")]
    Corrupt { path: PathBuf },
    #[error("the installation key is readable by other users (mode {mode:o}); run `chmod 600` on it and check who may have copied it: {path}")]
    TooOpen { path: PathBuf, mode: u32 },
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
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| KeyError::Io {
            path: PathBuf::from("<os random source>"),
            source: io::Error::other(e.to_string()),
        })?;
        Ok(Self::from_secret_bytes(secret))
    }

    /// Load the key from `keys_dir`, creating it (and the directory, 0700) on first use.
    /// Two processes starting at once agree on one key.
    pub fn load_or_create(keys_dir: &Path) -> Result<Self, KeyError> {
        let path = keys_dir.join(KEY_FILE);
        let io_err = |source| KeyError::Io {
            path: path.clone(),
            source,
        };
        match Self::load(&path) {
            Ok(k) => return Ok(k),
            Err(KeyError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        fsutil::create_private_dir_all(keys_dir).map_err(io_err)?;
        let fresh = Self::generate()?;
        let secret_hex = format!("{}\n", hex::encode(fresh.signing.to_bytes()));
        match fsutil::write_new(&path, secret_hex.as_bytes()) {
            Ok(()) => {}
            // Someone else created it first: use theirs.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Self::load(&path),
            Err(e) => return Err(io_err(e)),
        }
        let pub_path = keys_dir.join(PUBLIC_KEY_FILE);
        fsutil::write_atomic(&pub_path, format!("{}\n", fresh.public_hex()).as_bytes()).map_err(
            |source| KeyError::Io {
                path: pub_path,
                source,
            },
        )?;
        Ok(fresh)
    }

    /// Load an existing key; refuses a key file other users can read.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let text = fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.to_owned(),
            source,
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path)
                .map_err(|source| KeyError::Io {
                    path: path.to_owned(),
                    source,
                })?
                .permissions()
                .mode()
                & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::TooOpen {
                    path: path.to_owned(),
                    mode,
                });
            }
        }
        let bytes = hex::decode(text.trim()).map_err(|_| KeyError::Corrupt {
            path: path.to_owned(),
        })?;
        let secret: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Corrupt {
            path: path.to_owned(),
        })?;
        Ok(Self::from_secret_bytes(secret))
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

/// Fingerprint of a public key (see [`InstallationKey::fingerprint`]).
pub fn fingerprint_of(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.to_bytes())[..8])
}

/// Check a signature made by [`InstallationKey::sign`].
pub fn verify_signature(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
    key.verify(message, signature).is_ok()
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
}
