//! Background work of a case (ingest, then analysis), with progress kept server-side.
//!
//! Why server-side: analysis of hours of footage outlives a page; the operator reloads,
//! closes the tab, comes back. The work runs on its own thread with its own entered case
//! (the case lock held shared, closure stopping it at its next checkpoint), reports
//! through [`vigie_app::Progress`] into a [`Job`] kept per case, and the page polls that
//! state as JSON. One job per case at a time.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;
use vigie_app::analyze::{analyze_sources, AnalyzeRequest, DetectorChoice};
use vigie_app::evidence::{error_chain, ingest, IngestRequest};
use vigie_app::types::{OutputSize, SamplingMode};
use vigie_app::{App, CancelToken, EnteredCase, Operator, Progress};

/// Progress of one file (ingest: hashing; analysis: frames).
#[derive(Debug, Clone, Serialize)]
pub struct FileProgress {
    pub unit: String,
    pub phase: &'static str,
    pub total_ms: Option<u64>,
    pub pts_ms: i64,
    pub frames: u64,
    pub fps: f64,
    /// Seconds left at the current speed, when the duration is known.
    pub eta_s: Option<f64>,
    pub done: bool,
    pub ok: bool,
    #[serde(skip)]
    started: Option<Instant>,
}

/// The state of a case's background work, as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub case_id: String,
    pub started_by: String,
    /// `ingest`, `analyse`, `done`, `failed`, `stopped`.
    pub phase: &'static str,
    pub started_at_ms: i64,
    pub files: Vec<FileProgress>,
    pub ingested: Vec<String>,
    pub analysed: Vec<String>,
    /// Sources skipped because they were analysed before.
    pub already_analysed: Vec<String>,
    pub failed: Vec<(String, String)>,
    pub skipped: Vec<(String, String)>,
    pub message: Option<String>,
    #[serde(skip)]
    pub cancel: CancelToken,
}

impl Job {
    pub fn running(&self) -> bool {
        matches!(self.phase, "ingest" | "analyse")
    }

    /// A copy with fps and ETA computed now.
    pub fn snapshot(&self) -> Job {
        let mut j = self.clone();
        for f in &mut j.files {
            if let (Some(t0), false) = (f.started, f.done) {
                let secs = t0.elapsed().as_secs_f64().max(1e-3);
                f.fps = f.frames as f64 / secs;
                let media_rate = f.pts_ms.max(0) as f64 / 1000.0 / secs;
                f.eta_s = f.total_ms.filter(|_| media_rate > 0.0).map(|t| {
                    ((t as f64 / 1000.0 - f.pts_ms as f64 / 1000.0) / media_rate).max(0.0)
                });
            }
        }
        j
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct JobRequest {
    /// Files or folders to ingest (already checked to lie under a root).
    pub paths: Vec<PathBuf>,
    /// The ingest roots: every file found under `paths` must really lie in one of them
    /// (links resolved), or it is refused.
    pub roots: Vec<PathBuf>,
    pub camera: Option<String>,
    pub start: Option<String>,
    pub detector: DetectorChoice,
    /// NanoDet's input: `Auto` (by the source's shape) or 768x448 (small and distant
    /// vehicles), recorded per source by the analysis.
    pub detector_input: vigie_app::bench::InputChoice,
    pub sampling: SamplingMode,
    /// Analyse every source of the case not yet analysed (not only those ingested now).
    pub analyse_all: bool,
}

struct WebProgress {
    job: Arc<Mutex<Job>>,
    phase: &'static str,
}

impl WebProgress {
    fn with<F: FnOnce(&mut FileProgress)>(&self, unit: &str, f: F) {
        let mut job = self.job.lock().expect("job lock");
        if let Some(p) = job
            .files
            .iter_mut()
            .rev()
            .find(|p| p.unit == unit && p.phase == self.phase)
        {
            f(p);
        }
    }
}

impl Progress for WebProgress {
    fn begin(&self, unit: &str, total_ms: Option<u64>) {
        self.job.lock().expect("job lock").files.push(FileProgress {
            unit: unit.to_owned(),
            phase: self.phase,
            total_ms,
            pts_ms: 0,
            frames: 0,
            fps: 0.0,
            eta_s: None,
            done: false,
            ok: false,
            started: Some(Instant::now()),
        });
    }
    fn frame(&self, unit: &str, pts_ms: i64) {
        self.with(unit, |p| {
            p.frames += 1;
            p.pts_ms = pts_ms;
        });
    }
    fn end(&self, unit: &str, ok: bool) {
        self.with(unit, |p| {
            if let Some(t0) = p.started {
                p.fps = p.frames as f64 / t0.elapsed().as_secs_f64().max(1e-3);
            }
            p.done = true;
            p.ok = ok;
            p.eta_s = Some(0.0);
        });
    }
}

/// Start the work on its own thread; the returned job is updated as it runs.
pub fn start(app: App, case: EnteredCase, operator: &Operator, req: JobRequest) -> Arc<Mutex<Job>> {
    let cancel = CancelToken::new();
    let job = Arc::new(Mutex::new(Job {
        case_id: case.case_id().to_owned(),
        started_by: operator.as_str().to_owned(),
        phase: if req.paths.is_empty() {
            "analyse"
        } else {
            "ingest"
        },
        started_at_ms: app.clock().now().timestamp_millis(),
        files: Vec::new(),
        ingested: Vec::new(),
        analysed: Vec::new(),
        already_analysed: Vec::new(),
        failed: Vec::new(),
        skipped: Vec::new(),
        message: None,
        cancel: cancel.clone(),
    }));
    let case = case.with_cancel(cancel.clone());
    let shared = job.clone();
    let operator = operator.clone();
    std::thread::Builder::new()
        .name("vigie-web-job".into())
        .spawn(move || run(app, case, &operator, cancel, req, &shared))
        .expect("a thread for the case's work");
    job
}

fn run(
    app: App,
    case: EnteredCase,
    operator: &Operator,
    cancel: CancelToken,
    req: JobRequest,
    job: &Arc<Mutex<Job>>,
) {
    let set = |f: &dyn Fn(&mut Job)| f(&mut job.lock().expect("job lock"));
    let mut entered_again: Option<EnteredCase> = None;
    let result = (|| -> Result<(), vigie_app::AppError> {
        let mut analyse: Vec<String> = Vec::new();
        if !req.paths.is_empty() {
            let start = req
                .start
                .as_deref()
                .map(|s| {
                    chrono::DateTime::parse_from_rfc3339(s.trim()).map_err(|_| {
                        vigie_app::AppError::BadInput(format!(
                            "invalid start time {s:?} (expected RFC 3339 with an offset, e.g. \
                             2026-11-30T14:00:00+01:00)"
                        ))
                    })
                })
                .transpose()?;
            let out = ingest(
                &case,
                &IngestRequest {
                    paths: req.paths.clone(),
                    start,
                    camera: req.camera.clone(),
                    jobs: Some(1),
                    confine_to: req.roots.clone(),
                    ..Default::default()
                },
                &WebProgress {
                    job: job.clone(),
                    phase: "ingest",
                },
            )?;
            analyse = out
                .ingested
                .iter()
                .map(|i| i.record.source_id.clone())
                .collect();
            set(&|j| {
                j.ingested = analyse.clone();
                j.failed.extend(
                    out.failed
                        .iter()
                        .map(|f| (f.path.display().to_string(), error_chain(&f.error))),
                );
                j.skipped = out
                    .skipped
                    .iter()
                    .map(|(p, why)| (p.display().to_string(), why.clone()))
                    .collect();
                j.phase = "analyse";
            });
        }
        if analyse.is_empty() && !req.analyse_all {
            return Ok(());
        }
        // The sources just collected are in the chain now: enter again so that the
        // analysis checks them against their collection entry.
        let case = if req.paths.is_empty() {
            &case
        } else {
            entered_again = Some(
                EnteredCase::enter(
                    &app,
                    Some(case.case_id()),
                    operator,
                    case.reason(),
                    "web: analyse",
                )?
                .with_cancel(cancel.clone()),
            );
            entered_again.as_ref().expect("just set")
        };
        let out = analyze_sources(
            case,
            &AnalyzeRequest {
                sources: if req.analyse_all { Vec::new() } else { analyse },
                all: req.analyse_all,
                detector: req.detector,
                detector_precision: vigie_app::bench::PrecisionChoice::Auto,
                detector_input: req.detector_input,
                scene: None,
                force: false,
                jobs: 1,
                device: "cpu".into(),
                motion_gate: true,
                sampling: req.sampling,
                width: OutputSize::MaxWidth(640),
                decoder_threads: 0,
                plates: (req.detector == DetectorChoice::Nanodet)
                    .then(vigie_app::plates::PlateOptions::default),
                plate_min_width_px: 160.0,
            },
            &WebProgress {
                job: job.clone(),
                phase: "analyse",
            },
        )?;
        set(&|j| {
            j.analysed = out.analysed.iter().map(|d| d.source_id.clone()).collect();
            j.already_analysed = out.skipped_already_analysed.clone();
            j.failed
                .extend(out.failed.iter().map(|(s, e)| (s.clone(), error_chain(e))));
        });
        Ok(())
    })();
    let stopped = cancel.is_cancelled() || case.checkpoint().is_err();
    // Release the case lock before the page says "done".
    drop(entered_again);
    drop(case);
    set(&|j| match &result {
        Ok(()) if stopped => j.phase = "stopped",
        Ok(()) => j.phase = "done",
        Err(e) => {
            j.phase = if matches!(e, vigie_app::AppError::Stopped(_)) {
                "stopped"
            } else {
                "failed"
            };
            j.message = Some(error_chain(e));
        }
    });
}
