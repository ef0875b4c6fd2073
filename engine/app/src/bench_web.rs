//! The scratch installation `vigie bench web` times the web interface on: its own data
//! root (never the operator's), one administrator account, one open case holding a
//! synthetic index of a million tracks over registered sources, and real footage to play.
//!
//! Why a real case and not a bare index: the web interface's cost per page is not the
//! query alone. Each page view checks the account, enters the case (its record against
//! its chain, the case lock), re-times the index against the log, records its
//! consultation (an fsynced, signed append) and, for a time window, computes coverage over
//! the registered sources. A benchmark that skipped any of them would promise a speed the
//! desk does not have; so the synthetic index's sources are real registered files (tiny
//! distinct MP4 clips, ingested with the camera and start time the generator gives them,
//! so no row needs re-timing), and the footage played is ingested like any evidence.
//!
//! Everything it reads was declared to the measurement door first ([`Measurement`]): the
//! footage, and the generated clips, which are test data, not evidence of anything.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use chrono::TimeZone;
use serde::Serialize;
use vigie_index::synth::{self, GenStats, SourceIdentity, SynthConfig};

use crate::accounts::Accounts;
use crate::admin::Administration;
use crate::app::App;
use crate::entered::EnteredCase;
use crate::error::AppError;
use crate::evidence::{ingest, IngestRequest};
use crate::measure::Measurement;
use crate::operator::Operator;
use crate::progress::NoProgress;

/// The benchmark's account and case ids.
pub const BENCH_OPERATOR: &str = "bench-admin";
pub const BENCH_CASE: &str = "bench-web";

fn bad(why: String) -> AppError {
    AppError::BadInput(why)
}

/// Run the `ffmpeg` CLI (test data generation).
fn ffmpeg(args: &[&str], out: &Path) -> Result<(), AppError> {
    let run = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-y"])
        .args(args)
        .arg(out)
        .output()
        .map_err(|e| {
            bad(format!(
                "cannot run the `ffmpeg` CLI ({e}; tools/setup installs it)"
            ))
        })?;
    if !run.status.success() {
        return Err(bad(format!(
            "ffmpeg could not generate {}: {}",
            out.display(),
            String::from_utf8_lossy(&run.stderr).trim()
        )));
    }
    Ok(())
}

/// A 1080p H.264 clip (`seconds` long, 25 fps, libx264, a moving test pattern with noise so
/// frames are not trivially compressible), for the player's time to first frame.
pub fn generate_1080p_clip(out: &Path, seconds: u32) -> Result<(), AppError> {
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=size=1920x1080:rate=25:duration={seconds}"),
            "-vf",
            "noise=alls=12:allf=t",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-g",
            "50",
        ],
        out,
    )
}

/// `count` distinct tiny MP4 clips in `dir` (`src-NNNNN.mp4`): one 64x64 second encoded
/// once, each copy followed by its own `free` box (legal MP4, ignored by players), so each
/// has its own SHA-256 and registers as its own source.
pub fn generate_source_stubs(dir: &Path, count: u64) -> Result<Vec<PathBuf>, AppError> {
    std::fs::create_dir_all(dir).map_err(AppError::io(dir))?;
    let base = dir.join("stub-base.mp4");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=0x7a7a7a:size=64x64:rate=1:duration=1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
        ],
        &base,
    )?;
    let bytes = std::fs::read(&base).map_err(AppError::io(&base))?;
    std::fs::remove_file(&base).map_err(AppError::io(&base))?;
    (0..count)
        .map(|s| {
            let path = dir.join(format!("src-{s:05}.mp4"));
            let mut b = bytes.clone();
            b.extend_from_slice(&16u32.to_be_bytes());
            b.extend_from_slice(b"free");
            b.extend_from_slice(&s.to_be_bytes());
            std::fs::write(&path, &b).map_err(AppError::io(&path))?;
            Ok(path)
        })
        .collect()
}

/// What to build.
#[derive(Debug, Clone)]
pub struct WebBenchRequest {
    /// An empty folder for the scratch data root.
    pub root: PathBuf,
    /// The synthetic index's shape (its sources must be `stubs`, one each).
    pub synth: SynthConfig,
    /// One tiny clip per synthetic source ([`generate_source_stubs`]).
    pub stubs: Vec<PathBuf>,
    /// Footage to play, each ingested as its own camera (`play-1`, `play-2`...).
    pub footage: Vec<PathBuf>,
    /// Consultation entries written in the case's log before timing, as months of use
    /// leave there (each page view enters the case, which reads its log).
    pub prior_entries: u64,
}

/// The scratch installation, ready to serve.
#[derive(Serialize)]
pub struct WebBenchCase {
    #[serde(skip)]
    pub app: App,
    pub case_id: String,
    pub operator: String,
    /// The account's password (random, for this scratch installation only).
    #[serde(skip)]
    pub password: String,
    /// Each footage file's source id.
    pub footage_sources: Vec<(PathBuf, String)>,
    pub generation: GenStats,
    pub ingest_seconds: f64,
    pub index_bytes: u64,
    /// Entries in the case's log when timing starts.
    pub log_entries: u64,
    /// Plate texts the index holds (the plate queries are built from them).
    #[serde(skip)]
    pub plates: Vec<String>,
    /// Wall-clock span of the synthetic tracks (ms).
    pub span_ms: i64,
}

/// Build the scratch installation (see the module's documentation).
pub fn web_bench_case(m: &Measurement, req: &WebBenchRequest) -> Result<WebBenchCase, AppError> {
    for f in req.stubs.iter().chain(&req.footage) {
        m.check(f)?;
    }
    let sources = synth::source_count(&req.synth);
    if req.stubs.len() as u64 != sources {
        return Err(bad(format!(
            "{} source clips for {sources} synthetic sources",
            req.stubs.len()
        )));
    }
    let app = App::new(
        vigie_case::DataRoot::new(req.root.clone()),
        Arc::new(vigie_audit::SystemClock),
    );
    let mut pw = [0u8; 18];
    getrandom::fill(&mut pw).map_err(|e| bad(format!("no random source: {e}")))?;
    let password = hex::encode(pw);
    Accounts::open(&app)?.add(None, BENCH_OPERATOR, true, &password)?;
    let op = Operator::new(BENCH_OPERATOR)?;
    let today = app.clock().now().date_naive();
    Administration::new(
        &app,
        op.clone(),
        Some("web benchmark (scratch installation)"),
    )
    .open_case(vigie_case::OpenRequest {
        case_id: Some(BENCH_CASE.into()),
        procedure: "BENCH/0001".into(),
        authorization: "benchmark, no footage of anyone".into(),
        magistrate: "none (benchmark)".into(),
        authorized_on: today,
        valid_until: None,
        operator: BENCH_OPERATOR.into(),
        purpose: "time the web interface on synthetic tracks".into(),
    })?;
    let case = EnteredCase::enter(
        &app,
        Some(BENCH_CASE),
        &op,
        Some("benchmark fixture"),
        "bench web: fixture",
    )?;
    let t0 = std::time::Instant::now();
    let mut ids = Vec::with_capacity(req.stubs.len());
    for (s, stub) in req.stubs.iter().enumerate() {
        let (camera, start_ms) = synth::source_layout(&req.synth, s as u64);
        let start = chrono::Utc
            .timestamp_millis_opt(start_ms)
            .single()
            .ok_or_else(|| bad(format!("start {start_ms} out of range")))?
            .fixed_offset();
        let out = ingest(
            &case,
            &IngestRequest {
                paths: vec![stub.clone()],
                start: Some(start),
                jobs: Some(1),
                fps: None,
                reference: None,
                camera: Some(camera),
                confine_to: Vec::new(),
            },
            &NoProgress,
        )?;
        let rec = match (
            out.ingested.into_iter().next(),
            out.failed.into_iter().next(),
        ) {
            (Some(i), _) => i.record,
            (None, Some(f)) => return Err(f.error),
            (None, None) => return Err(bad(format!("{} was not ingested", stub.display()))),
        };
        ids.push((rec.source_id, rec.sha256, rec.path.display().to_string()));
    }
    let mut footage_sources = Vec::new();
    for (i, f) in req.footage.iter().enumerate() {
        let out = ingest(
            &case,
            &IngestRequest {
                paths: vec![f.clone()],
                start: None,
                jobs: None,
                fps: None,
                reference: None,
                camera: Some(format!("play-{}", i + 1)),
                confine_to: Vec::new(),
            },
            &NoProgress,
        )?;
        let rec = match (
            out.ingested.into_iter().next(),
            out.failed.into_iter().next(),
        ) {
            (Some(i), _) => i.record,
            (None, Some(f)) => return Err(f.error),
            (None, None) => return Err(bad(format!("{} was not ingested", f.display()))),
        };
        footage_sources.push((f.clone(), rec.source_id));
    }
    let ingest_seconds = t0.elapsed().as_secs_f64();
    let generation = {
        let mut index = case.index_or_new()?;
        synth::generate_as(
            &mut index,
            &req.synth,
            |s| {
                let (id, sha, path) = &ids[s as usize];
                SourceIdentity {
                    source_id: id.clone(),
                    sha256: sha.clone(),
                    path: Some(path.clone()),
                }
            },
            |_| {},
        )?
    };
    // Searches, the largest common entries (a hundred track ids each).
    for n in 0..req.prior_entries {
        let tracks: Vec<String> = (0..100)
            .map(|t| {
                format!(
                    "{}#{}",
                    ids[(n as usize + t) % ids.len()].0,
                    n * 100 + t as u64
                )
            })
            .collect();
        case.record(&vigie_audit::event::Event::Search {
            query: serde_json::json!({ "class": "person", "colour": "red", "zone": "entrance" }),
            count: tracks.len() as u64,
            parsed: serde_json::json!({ "class": "person", "limit": 100 }),
            output: Some("web".into()),
            sheet: None,
            truncated: true,
            tracks,
        })?;
    }
    // In step with the log now (nothing should need re-timing; whatever does is done
    // here, not in the first timed request).
    let index = case.index()?;
    let plates = synth::plate_texts(&index)?;
    drop(index);
    let index_bytes = std::fs::metadata(case.layout().index_path())
        .map(|m| m.len())
        .unwrap_or(0);
    let log_entries = case.context().audit_log().entries_lenient()?.0.len() as u64;
    drop(case);
    Ok(WebBenchCase {
        log_entries,
        app,
        case_id: BENCH_CASE.into(),
        operator: BENCH_OPERATOR.into(),
        password,
        footage_sources,
        generation,
        ingest_seconds,
        index_bytes,
        plates,
        span_ms: synth::span_ms(&req.synth),
    })
}
