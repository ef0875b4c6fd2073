//! `vigie verify`: re-hash every registered source (or the named ones) and report changes.

use serde_json::json;
use vigie_evidence::RegistryError;

use super::workspace::Workspace;
use crate::output::{print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source ids or paths (default: every source of the case).
    pub sources: Vec<String>,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let ws = Workspace::enter(global)?;
    let records = if args.sources.is_empty() {
        ws.registry.sources()?
    } else {
        args.sources
            .iter()
            .map(|s| ws.registry.find(s))
            .collect::<Result<Vec<_>, _>>()?
    };
    let mut results = Vec::new();
    let mut first_bad: Option<RegistryError> = None;
    for r in &records {
        let res = ws.registry.verify(r);
        let status = match &res {
            Ok(()) => "ok".to_string(),
            Err(e) => e.to_string(),
        };
        if !global.json {
            println!("{}  {}", r.source_id, status);
        }
        results.push(json!({ "source_id": r.source_id, "path": r.path, "ok": res.is_ok(), "status": status }));
        if let Err(e) = res {
            first_bad.get_or_insert(e);
        }
    }
    ws.log(
        vigie_audit::Action::Consultation,
        json!({ "command": "verify", "sources": records.iter().map(|r| &r.source_id).collect::<Vec<_>>() }),
        json!({ "count": results.len(), "changed": results.iter().filter(|r| r["ok"] == false).count() }),
    )?;
    if first_bad.is_some() {
        let _ = ws.alert_sink().raise(&vigie_core::Alert {
            kind: vigie_core::AlertKind::EvidenceChanged,
            message: "evidence changed since ingest (found by `vigie verify`)".into(),
            details: results
                .iter()
                .filter(|r| r["ok"] == false)
                .map(|r| {
                    (
                        r["source_id"].as_str().unwrap_or("?").to_string(),
                        r["status"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect(),
        });
    }
    if global.json {
        print_json(&json!({ "case": ws.case_id, "results": results }))?;
    }
    match first_bad {
        None => Ok(Outcome::Success),
        Some(e) => Err(anyhow::Error::new(e).context(format!(
            "{} source(s) failed verification",
            results.iter().filter(|r| r["ok"] == false).count()
        ))),
    }
}
