//! For tests that need fetched artefacts or the shared datasets.
//!
//! Such a test skips when what it needs is absent (a developer who has not run
//! tools/setup), and says so visibly. Under CI (`CI` set), where everything is fetched and
//! `../shared` lies beside the clone, a skip would hide a test that never ran: there it
//! fails instead.

use std::path::PathBuf;

/// Skip a test (print why) — or fail it under CI.
pub fn skip(reason: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("skipped under CI, where nothing may be skipped: {reason}");
    }
    eprintln!("skipped: {reason}");
}

/// `../shared/datasets` beside the repository (test-only data, never committed).
pub fn shared_datasets() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
}
