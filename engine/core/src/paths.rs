//! Where vigie keeps things on disk, resolved once from the environment.
//!
//! Two roots, both outside the source tree:
//! - the **cache** (`VIGIE_CACHE`, default `$XDG_CACHE_HOME/vigie` or `~/.cache/vigie`):
//!   things fetched from package registries (ONNX Runtime, models, default footage). It can
//!   be deleted at any time; `tools/setup` fetches it again.
//! - the **data root** (`VIGIE_HOME`, default `$XDG_DATA_HOME/vigie` or
//!   `~/.local/share/vigie`): cases, audit logs, the installation key. Never delete it by
//!   hand: closing and purging cases is done by vigie, which logs the erasure.

use std::path::PathBuf;

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"))
}

fn non_empty(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The per-user cache of fetched artefacts.
pub fn cache_dir() -> PathBuf {
    non_empty("VIGIE_CACHE").unwrap_or_else(|| {
        non_empty("XDG_CACHE_HOME")
            .unwrap_or_else(|| home().join(".cache"))
            .join("vigie")
    })
}

/// The data root (cases, audit logs, keys).
pub fn data_root() -> PathBuf {
    non_empty("VIGIE_HOME").unwrap_or_else(|| {
        non_empty("XDG_DATA_HOME")
            .unwrap_or_else(|| home().join(".local/share"))
            .join("vigie")
    })
}

/// The default real footage fetched by `tools/setup` (PETS 2009 campus scene, from the
/// Debian package `opencv-doc`).
pub fn default_footage() -> PathBuf {
    cache_dir().join("footage/vtest.avi")
}
