//! `vigie sources`: the sources registered in the case (`vigie_app::evidence`).

use serde_json::json;

use crate::output::{outln, print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let case = global.enter("sources")?;
    let sources = vigie_app::evidence::list_sources(&case)?;
    if global.json {
        // Each registry record, with its camera and clock as the case's log says now.
        let rows: Vec<serde_json::Value> = sources
            .iter()
            .map(|r| {
                let t = case.timing(r);
                let mut v = serde_json::to_value(r).unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.insert("camera".into(), json!(t.camera));
                    o.insert("camera_origin".into(), json!(t.camera_origin));
                    o.insert("start_wall_ms".into(), json!(t.start_wall_ms));
                    o.insert("clock".into(), json!(t.correction));
                }
                v
            })
            .collect();
        print_json(&json!({ "case": case.case_id(), "sources": rows }))?;
        return Ok(Outcome::Success);
    }
    if sources.is_empty() {
        outln!(
            "no sources in case {} (add some with `vigie ingest`)",
            case.case_id()
        );
    }
    for r in &sources {
        let t = case.timing(r);
        outln!(
            "{}  sha256 {}  {} bytes  {} {}x{}  ingested {}  {}  camera {}{}",
            r.source_id,
            r.sha256,
            r.size_bytes,
            r.meta.codec,
            r.meta.width,
            r.meta.height,
            r.ingested_at.format("%Y-%m-%dT%H:%M:%SZ"),
            r.path.display(),
            t.camera,
            t.correction
                .as_deref()
                .map(|c| format!("  clock: {c}"))
                .unwrap_or_default()
        );
    }
    Ok(Outcome::Success)
}
