//! `vigie models`: the models this build can run (the compiled allowlist), with the state
//! of each one's file in the cache and what each was measured to find (per-frame recall
//! and precision per class, `models/measured.toml`). A modified file raises an alert, as
//! loading it would.
//!
//! Also home of [`alert_sink`], the one place the CLI builds the sink that receives the
//! policy's refusals (the machine-wide alert log, read by `vigie alerts`).

use std::io::Write;

use serde_json::json;
use vigie_app::admin::policy::{
    check_cache, measured_for, model_path, models, runtime_library_path, CacheStatus, Labels,
    ORT_VERSION,
};
use vigie_core::AlertSink;

use crate::output::{print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Skip hashing the cached files (only list the compiled allowlist).
    #[arg(long)]
    pub no_check: bool,
}

/// The sink for alerts raised by the model policy: the machine-wide audit log
/// (`<data root>/machine/audit.jsonl`, signed with the installation key), so that
/// `vigie alerts` shows every refusal to the data controller. (Commands working in a case
/// use `Workspace::alert_sink`, which also writes to the case's log.)
pub fn alert_sink(global: &Global) -> anyhow::Result<Box<dyn AlertSink>> {
    let root = vigie_case::DataRoot::from_env();
    let machine = root.machine_log(vigie_case::clock_from_env()?)?;
    Ok(Box::new(vigie_audit::AuditAlertSink::new(
        machine,
        global.operator.as_deref(),
    )))
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let statuses = if args.no_check {
        None
    } else {
        let sink = alert_sink(global)?;
        Some(check_cache(sink.as_ref()))
    };
    let mut outcome = Outcome::Success;
    let mut rows = Vec::new();
    for (i, spec) in models().iter().enumerate() {
        let id = vigie_app::admin::policy::AllowedModelId::lookup(spec.id)?;
        let status = match statuses.as_ref().map(|s| &s[i].1) {
            None => "unchecked".to_string(),
            Some(Ok(CacheStatus::Present)) => "ok".to_string(),
            Some(Ok(CacheStatus::Missing)) => {
                outcome = Outcome::Partial;
                "missing (run tools/fetch-models)".to_string()
            }
            Some(Ok(CacheStatus::Modified { actual_sha256 })) => {
                outcome = Outcome::Partial;
                format!("MODIFIED, refused (found sha256 {actual_sha256}; alert recorded)")
            }
            Some(Err(e)) => {
                outcome = Outcome::Partial;
                format!("error: {e}")
            }
        };
        let labels = match spec.labels {
            Labels::Inline(l) => json!({ "count": l.len(), "names": l }),
            Labels::FromMetadata { key } => json!({ "from_metadata": key }),
        };
        rows.push(json!({
            "id": spec.id,
            "task": spec.task,
            "sha256": spec.sha256_hex(),
            "size_bytes": spec.size_bytes,
            "licence": spec.licence,
            "source": spec.source,
            "description": spec.description,
            "file": model_path(id).display().to_string(),
            "inputs": spec.inputs,
            "outputs": spec.outputs,
            "preprocess": spec.preprocess,
            "labels": labels,
            "status": status,
            "measured": measured_for(spec.id),
        }));
    }
    let (lib, pinned) = runtime_library_path();
    if global.json {
        print_json(&json!({
            "models": rows,
            "onnxruntime": { "version": ORT_VERSION, "library": lib.display().to_string(), "pinned": pinned, "present": lib.is_file() },
        }))?;
    } else {
        let mut out = crate::output::stdout();
        for r in &rows {
            writeln!(
                out,
                "{}  {}",
                r["id"].as_str().unwrap_or_default(),
                r["task"].as_str().unwrap_or_default()
            )?;
            writeln!(
                out,
                "    sha256   {}",
                r["sha256"].as_str().unwrap_or_default()
            )?;
            writeln!(
                out,
                "    licence  {}",
                r["licence"].as_str().unwrap_or_default()
            )?;
            let s = &r["source"];
            writeln!(
                out,
                "    source   {} {}@{} {}",
                s["registry"].as_str().unwrap_or_default(),
                s["package"].as_str().unwrap_or_default(),
                s["version"].as_str().unwrap_or_default(),
                s["path"].as_str().unwrap_or_default()
            )?;
            writeln!(
                out,
                "    status   {}",
                r["status"].as_str().unwrap_or_default()
            )?;
            let id = r["id"].as_str().unwrap_or_default();
            let measured = measured_for(id);
            if measured.is_empty() {
                writeln!(out, "    measured none recorded in this build")?;
            }
            let fig = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into());
            for m in measured {
                writeln!(
                    out,
                    "    measured {} ({}{}, IoU >= {}, score >= {}, {}, {})",
                    m.dataset,
                    m.kind.as_str().replace('_', "-"),
                    m.images
                        .map(|n| format!(", {n} frames"))
                        .unwrap_or_default(),
                    m.iou,
                    m.score_threshold,
                    m.date,
                    m.command
                )?;
                for c in m.classes {
                    writeln!(
                        out,
                        "      {:<12} objects {:>5}  recall {}  precision {}",
                        c.class,
                        c.objects
                            .map(|n| n.to_string())
                            .unwrap_or_else(|| "-".into()),
                        fig(c.recall),
                        fig(c.precision)
                    )?;
                }
            }
        }
        writeln!(
            out,
            "recall and precision are per frame (a labelled object found on a frame), not per track: a search with no result means none was found, not that none passed"
        )?;
        writeln!(
            out,
            "onnxruntime {ORT_VERSION}: {} ({})",
            if lib.is_file() {
                "present"
            } else {
                "missing, run tools/fetch-onnxruntime"
            },
            lib.display()
        )?;
    }
    Ok(outcome)
}
