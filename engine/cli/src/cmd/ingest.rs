//! `vigie ingest PATH...`: hash, probe and register footage as evidence of the case.
//!
//! Files are hashed in parallel (rayon) while one progress bar counts bytes for the whole
//! batch. A file that cannot be read or is not video is reported and the batch goes on.

use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context;
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde_json::json;
use vigie_evidence::{AddOutcome, SourceRecord};

use super::workspace::Workspace;
use crate::output::{print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories (walked recursively; inside directories only video extensions
    /// such as .mp4 .mkv .avi .h264 .h265 are taken).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Wall-clock time of the first frame, for files whose container has no
    /// `creation_time` (RFC 3339 with offset, e.g. 2024-06-01T14:00:00+02:00).
    #[arg(long, value_parser = parse_start)]
    pub start: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Hashing threads (default: one per core).
    #[arg(long)]
    pub jobs: Option<usize>,
}

pub fn parse_start(s: &str) -> Result<chrono::DateTime<chrono::FixedOffset>, String> {
    vigie_core::parse_wall_clock(s).map_err(|e| e.to_string())
}

struct Failure {
    path: PathBuf,
    error: anyhow::Error,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let ws = Workspace::enter(global)?;
    let files = vigie_evidence::collect_sources(&args.paths)?;
    if files.is_empty() {
        anyhow::bail!("no video files found in the given paths (inside directories, only files with a video extension are taken; name files explicitly to take others)");
    }
    let total_bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = if global.progress() {
        let b = ProgressBar::new(total_bytes);
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} hashing [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .context("cannot start hashing threads")?;
    let failures = Mutex::new(Vec::<Failure>::new());
    let records: Vec<SourceRecord> = pool.install(|| {
        files
            .par_iter()
            .filter_map(|path| match ingest_one(path, args.start, &bar) {
                Ok(r) => Some(r),
                Err(error) => {
                    failures
                        .lock()
                        .expect("no panics while locked")
                        .push(Failure {
                            path: path.clone(),
                            error,
                        });
                    None
                }
            })
            .collect()
    });
    bar.finish_and_clear();

    let mut failures = failures.into_inner().expect("no panics while locked");
    let mut added = Vec::new();
    for rec in records {
        match ws.registry.add(rec.clone()) {
            Ok(outcome) => added.push((rec, outcome)),
            Err(e) => failures.push(Failure {
                path: rec.path.clone(),
                error: e.into(),
            }),
        }
    }
    failures.sort_by(|a, b| a.path.cmp(&b.path));
    // Collection: what entered the case, with hashes; written (and synced) before the
    // command reports anything as ingested.
    ws.log(
        vigie_audit::Action::Collection,
        json!({
            "paths": args.paths,
            "start": args.start.map(|s| s.to_rfc3339()),
            "sources": added.iter().map(|(r, o)| json!({
                "source_id": r.source_id, "sha256": r.sha256, "size_bytes": r.size_bytes,
                "path": r.path, "already_present": *o == AddOutcome::AlreadyPresent,
            })).collect::<Vec<_>>(),
        }),
        json!({
            "ingested": added.len(),
            "failed": failures.iter().map(|f| json!({"path": f.path, "error": format!("{:#}", f.error)})).collect::<Vec<_>>(),
        }),
    )?;

    if global.json {
        print_json(&json!({
            "case": ws.case_id,
            "ingested": added.iter().map(|(r, o)| json!({
                "source": r,
                "already_present": *o == AddOutcome::AlreadyPresent,
            })).collect::<Vec<_>>(),
            "failed": failures.iter().map(|f| json!({
                "path": f.path,
                "error": format!("{:#}", f.error),
            })).collect::<Vec<_>>(),
        }))?;
    } else {
        for (r, o) in &added {
            let note = if *o == AddOutcome::AlreadyPresent {
                " (already registered)"
            } else {
                ""
            };
            println!(
                "{}  {}  {} {}x{} {}{}  {}",
                r.source_id,
                &r.sha256[..16],
                r.meta.codec,
                r.meta.width,
                r.meta.height,
                r.meta
                    .duration_ms
                    .map(|d| format!("{:.1}s", d as f64 / 1000.0))
                    .unwrap_or_else(|| "?s".into()),
                note,
                r.path.display()
            );
        }
        println!(
            "{} source(s) registered in case {}, {} failed",
            added.len(),
            ws.case_id,
            failures.len()
        );
    }
    for f in &failures {
        eprintln!("vigie: failed: {:#}: {}", f.error, f.path.display());
    }
    Ok(match (added.is_empty(), failures.is_empty()) {
        (_, true) => Outcome::Success,
        (false, false) => Outcome::Partial,
        (true, false) => {
            let first = failures.remove(0);
            return Err(first.error);
        }
    })
}

fn ingest_one(
    path: &std::path::Path,
    start: Option<chrono::DateTime<chrono::FixedOffset>>,
    bar: &ProgressBar,
) -> anyhow::Result<SourceRecord> {
    let (sha256, size_bytes) = vigie_evidence::hash_file(path, |n| bar.inc(n))?;
    let meta = vigie_decode::probe(path, None, start)?;
    bar.set_message(path.display().to_string());
    let path = std::fs::canonicalize(path)
        .with_context(|| format!("cannot resolve path {}", path.display()))?;
    Ok(SourceRecord {
        source_id: SourceRecord::id_for_hash(&sha256),
        path,
        sha256,
        size_bytes,
        meta,
        ingested_at: Utc::now(),
    })
}
