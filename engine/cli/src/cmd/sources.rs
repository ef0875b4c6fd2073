//! `vigie sources`: the sources registered in the case.

use serde_json::json;

use super::workspace::Workspace;
use crate::output::{print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let ws = Workspace::enter(global)?;
    let sources = ws.registry.sources()?;
    ws.log(
        vigie_audit::Action::Consultation,
        json!({ "command": "sources" }),
        json!({ "count": sources.len() }),
    )?;
    if global.json {
        print_json(&json!({ "case": ws.case_id, "sources": sources }))?;
        return Ok(Outcome::Success);
    }
    if sources.is_empty() {
        println!(
            "no sources in case {} (add some with `vigie ingest`)",
            ws.case_id
        );
    }
    for r in &sources {
        println!(
            "{}  sha256 {}  {} bytes  {} {}x{}  ingested {}  {}",
            r.source_id,
            r.sha256,
            r.size_bytes,
            r.meta.codec,
            r.meta.width,
            r.meta.height,
            r.ingested_at.format("%Y-%m-%dT%H:%M:%SZ"),
            r.path.display()
        );
    }
    Ok(Outcome::Success)
}
