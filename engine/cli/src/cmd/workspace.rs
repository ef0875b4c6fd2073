//! Resolving the case a command works in, and its evidence registry.

use anyhow::{bail, Context};
use vigie_evidence::Registry;

use crate::Global;

/// The case and operator a command acts for.
pub struct Workspace {
    pub case_id: String,
    pub operator: String,
    pub registry: Registry,
}

impl Workspace {
    pub fn enter(global: &Global) -> anyhow::Result<Self> {
        let Some(case_id) = global.case.clone() else {
            bail!("no case given: pass --case <CASE> (or set VIGIE_CASE); every command that touches footage works inside one authorised case (see `vigie case open --help`)");
        };
        let Some(operator) = global.operator.clone().filter(|o| !o.trim().is_empty()) else {
            bail!("no operator given: pass --operator <ID> (or set VIGIE_OPERATOR); every action is recorded with who did it");
        };
        let dir = vigie_core::paths::data_root()
            .join("cases")
            .join(&case_id)
            .join("evidence");
        let registry = Registry::open(&dir).context("cannot open the case's evidence registry")?;
        Ok(Self {
            case_id,
            operator,
            registry,
        })
    }
}
