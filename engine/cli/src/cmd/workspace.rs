//! Entering the case a command works in: its authorisation, its evidence registry, its
//! derived-data directory and its audit log.
//!
//! Every command that touches footage or results starts here, so the refusal without an
//! open, authorised case (and an operator) is in one place, and so is the audit trail.

use std::path::PathBuf;

use anyhow::Context;
use serde_json::Value;
use vigie_audit::Action;
use vigie_case::{CaseContext, DataRoot};
use vigie_evidence::Registry;

use crate::Global;

/// The case and operator a command acts for.
pub struct Workspace {
    pub case_id: String,
    pub ctx: CaseContext,
    pub registry: Registry,
    reason: Option<String>,
}

impl Workspace {
    pub fn enter(global: &Global) -> anyhow::Result<Self> {
        let root = DataRoot::from_env();
        let ctx = CaseContext::enter_from(
            &root,
            global.case.as_deref(),
            global.operator.as_deref(),
            vigie_case::clock_from_env()?,
        )?;
        let registry = Registry::open(ctx.evidence_dir())
            .context("cannot open the case's evidence registry")?;
        Ok(Self {
            case_id: ctx.case_id().to_string(),
            registry,
            reason: global.reason.clone(),
            ctx,
        })
    }

    /// `<case>/derived`: index, thumbnails, synopses (erased at closure).
    pub fn derived_dir(&self) -> PathBuf {
        self.ctx.derived_dir()
    }

    /// Record an action in the case's audit log (synced before returning).
    pub fn log(&self, action: Action, params: Value, result: Value) -> anyhow::Result<()> {
        self.ctx
            .log(action, params, self.reason.as_deref(), result)
            .context("cannot write the audit entry; the action is not reported as done")?;
        Ok(())
    }

    pub fn log_combination(&self, params: Value, result: Value) -> anyhow::Result<()> {
        self.log(Action::Combination, params, result)
    }

    /// Re-hash a source before using it; changed evidence is refused and reported to the
    /// data controller (alert in the machine-wide and case logs).
    pub fn verify_source(&self, rec: &vigie_evidence::SourceRecord) -> anyhow::Result<()> {
        match self.registry.verify(rec) {
            Ok(()) => Ok(()),
            Err(e) => {
                if matches!(e, vigie_evidence::RegistryError::HashMismatch { .. }) {
                    let mut details = std::collections::BTreeMap::new();
                    details.insert("source_id".into(), rec.source_id.clone());
                    details.insert("sha256_at_ingest".into(), rec.sha256.clone());
                    details.insert("path".into(), rec.path.display().to_string());
                    let alert = vigie_core::Alert {
                        kind: vigie_core::AlertKind::EvidenceChanged,
                        message: "evidence changed since ingest; vigie refused to use it".into(),
                        details,
                    };
                    // The refusal stands even if the alert cannot be written.
                    let _ = self.alert_sink().raise(&alert);
                }
                Err(anyhow::Error::new(e).context("refusing to use this source"))
            }
        }
    }

    /// Where alerts go: the machine-wide log and the case's log.
    pub fn alert_sink(&self) -> Box<dyn vigie_core::AlertSink + '_> {
        Box::new(self.ctx.alert_sink())
    }
}
