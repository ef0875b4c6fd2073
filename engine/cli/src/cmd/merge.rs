//! `vigie merge`: import the shard results of `vigie analyze --shard` into the case.
//!
//! The use case (verification of each signed record, import, audit entries) is
//! `vigie_app::shard::merge_shards`; this prints what was merged, what is missing and
//! how to re-run it.

use vigie_app::shard::{merge_shards, MergeRequest};

use crate::output::{outln, print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Merge only this run (default: every run of the case).
    #[arg(long)]
    pub run: Option<String>,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let case = global.enter("merge")?;
    let out = merge_shards(&case, &MergeRequest { run: args.run })?;
    if global.json {
        print_json(&serde_json::to_value(&out)?)?;
    } else {
        for m in &out.merged {
            outln!(
                "merged {} {} from node {} ({}): {} source(s), {} track(s)",
                m.run,
                m.shard,
                m.node,
                m.host,
                m.sources.len(),
                m.tracks
            );
        }
        for m in &out.already_merged {
            outln!("{} {}: already merged", m.run, m.shard);
        }
    }
    for f in &out.failed {
        eprintln!(
            "vigie: failed in {} {}: {}: {} (re-run: {})",
            f["run"].as_str().unwrap_or_default(),
            f["shard"].as_str().unwrap_or_default(),
            f["source_id"].as_str().unwrap_or_default(),
            f["error"].as_str().unwrap_or_default(),
            f["rerun"].as_str().unwrap_or_default()
        );
    }
    for m in &out.missing {
        eprintln!(
            "vigie: missing: {} {} has no finished result (run: {})",
            m["run"].as_str().unwrap_or_default(),
            m["shard"].as_str().unwrap_or_default(),
            m["rerun"].as_str().unwrap_or_default()
        );
    }
    for r in &out.refused {
        eprintln!(
            "vigie: refused: {} {}: {} (alert raised; nothing of it was imported: run that \
             shard again on an enrolled node, or start a new run, then merge again)",
            r["run"].as_str().unwrap_or_default(),
            r["shard"].as_str().unwrap_or_default(),
            r["reason"].as_str().unwrap_or_default()
        );
    }
    Ok(if out.complete() {
        Outcome::Success
    } else {
        Outcome::Partial
    })
}
