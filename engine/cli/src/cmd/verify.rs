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
