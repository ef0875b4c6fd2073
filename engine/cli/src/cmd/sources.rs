//! `vigie sources`: the sources registered in the case (`vigie_app::evidence`).

use serde_json::json;

use crate::output::{print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let case = global.enter("sources")?;
    let sources = vigie_app::evidence::list_sources(&case)?;
    if global.json {
        print_json(&json!({ "case": case.case_id(), "sources": sources }))?;
        return Ok(Outcome::Success);
    }
    if sources.is_empty() {
        println!(
            "no sources in case {} (add some with `vigie ingest`)",
            case.case_id()
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
