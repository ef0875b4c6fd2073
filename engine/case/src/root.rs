//! The data root and where everything lives under it.
//!
//! ```text
//! <root>/                      VIGIE_HOME (default ~/.local/share/vigie), 0700
//!   keys/installation.ed25519  the installation's signing key (0600)
//!   keys/installation.ed25519.pub
//!   machine/audit.jsonl        machine-wide log: case lifecycle, alerts
//!   cases/<case_id>/           one directory per case, 0700
//!     case.json                procedure, authorisation, status
//!     audit/audit.jsonl        the case's own log (+ audit.head, audit.lock)
//!     evidence/sources.json    the registry of ingested sources (hashes)
//!     derived/                 index, thumbnails, crops, synopses: erased at closure
//!     exports/                 extracts handed over: erased at closure (hashes stay in the log)
//!     reports/                 exploitation reports (HTML + JSON); the final one stays
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use vigie_audit::{AuditLog, Clock, InstallationKey, SOFTWARE_VERSION};

use crate::error::{io_err, CaseError};

/// Log id of the machine-wide log.
pub const MACHINE_LOG_ID: &str = "machine";

/// Environment variable for a fake "now" (tests only; see [`crate::clock_from_env`]).
pub const FAKE_NOW_ENV: &str = "VIGIE_FAKE_NOW";

/// The data root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRoot {
    path: PathBuf,
}

impl DataRoot {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// `VIGIE_HOME`, or the platform default (see `vigie_core::paths::data_root`).
    pub fn from_env() -> Self {
        Self::new(vigie_core::paths::data_root())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn cases_dir(&self) -> PathBuf {
        self.path.join("cases")
    }
    pub fn case_dir(&self, case_id: &str) -> PathBuf {
        self.cases_dir().join(case_id)
    }
    pub fn keys_dir(&self) -> PathBuf {
        self.path.join("keys")
    }
    pub fn machine_log_dir(&self) -> PathBuf {
        self.path.join("machine")
    }

    /// Create the root itself (0700) if needed.
    pub fn ensure(&self) -> Result<(), CaseError> {
        vigie_audit::create_private_dir_all(&self.path).map_err(io_err(&self.path))
    }

    /// The installation key (created on first use).
    pub fn key(&self) -> Result<Arc<InstallationKey>, CaseError> {
        self.ensure()?;
        Ok(Arc::new(InstallationKey::load_or_create(&self.keys_dir())?))
    }

    /// The version string written into audit entries: marks entries written under the
    /// test-only fake clock, so they can never pass for real ones.
    pub fn software_version() -> String {
        match std::env::var_os(FAKE_NOW_ENV) {
            Some(v) if crate::TEST_CLOCK && !v.is_empty() => {
                format!("{SOFTWARE_VERSION} (test clock {FAKE_NOW_ENV})")
            }
            _ => SOFTWARE_VERSION.to_owned(),
        }
    }

    pub(crate) fn open_log(
        &self,
        dir: PathBuf,
        log_id: String,
        clock: Arc<dyn Clock>,
    ) -> Result<AuditLog, CaseError> {
        let key = self.key()?;
        Ok(
            AuditLog::open(dir, log_id, key, clock)?
                .with_software_version(Self::software_version()),
        )
    }

    /// The machine-wide log.
    pub fn machine_log(&self, clock: Arc<dyn Clock>) -> Result<AuditLog, CaseError> {
        self.open_log(self.machine_log_dir(), MACHINE_LOG_ID.to_owned(), clock)
    }

    /// A case's log (the case need not be open: used for reports and verification).
    pub fn case_log(&self, case_id: &str, clock: Arc<dyn Clock>) -> Result<AuditLog, CaseError> {
        crate::meta::validate_case_id(case_id)?;
        self.open_log(
            self.case_dir(case_id).join("audit"),
            case_log_id(case_id),
            clock,
        )
    }
}

/// Log id of a case's log.
pub fn case_log_id(case_id: &str) -> String {
    format!("case:{case_id}")
}
