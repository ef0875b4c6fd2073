//! `vigie verify`: re-hash every registered source (or the named ones) and report changes
//! (`vigie_app::evidence::verify_sources`, which also alerts the data controller).

use serde_json::json;

use crate::output::{outln, print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source ids or paths (default: every source of the case).
    pub sources: Vec<String>,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let case = global.enter("verify")?;
    let checks = vigie_app::evidence::verify_sources(&case, &args.sources)?;
    let mut results = Vec::new();
    for c in &checks {
        let status = c.status();
        if !global.json {
            outln!("{}  {}", c.record.source_id, status);
        }
        results.push(
            json!({ "source_id": c.record.source_id, "path": c.record.path,
                             "ok": c.result.is_ok(), "status": status }),
        );
    }
    if global.json {
        print_json(&json!({ "case": case.case_id(), "results": results }))?;
    }
    let bad = checks.iter().filter(|c| c.result.is_err()).count();
    match checks.into_iter().find_map(|c| c.result.err()) {
        None => Ok(Outcome::Success),
        Some(e) => Err(anyhow::Error::new(vigie_app::AppError::from(e))
            .context(format!("{bad} source(s) failed verification"))),
    }
}
