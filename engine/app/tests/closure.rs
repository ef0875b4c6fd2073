//! Closure against running work, held at a deterministic barrier (never a sleep): the
//! analysis reports its first frame through the progress hook and then waits until the
//! test releases it.
//!
//! - `case close` while `analyze` runs refuses at once and names the running command;
//! - `case close --wait` asks the analysis to stop, waits for it, and leaves no derived
//!   data after its erasure entry; the analysis ends as "stopped", having written nothing.

mod common;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use vigie_app::admin::Administration;
use vigie_app::analyze::analyze_sources;
use vigie_app::types::WhenBusy;
use vigie_app::{App, AppError, EnteredCase, Operator, Progress};
use vigie_audit::event::Event;
use vigie_case::DataRoot;

fn register(case: &EnteredCase, path: &Path) {
    let out = vigie_app::evidence::ingest(
        case,
        &vigie_app::evidence::IngestRequest {
            paths: vec![path.to_owned()],
            start: None,
            jobs: Some(1),
            fps: None,
            reference: None,
            camera: None,
            confine_to: Vec::new(),
        },
        &vigie_app::NoProgress,
    )
    .unwrap();
    assert_eq!(out.ingested.len(), 1);
}

/// Progress that stops at the first frame until released.
struct Barrier {
    reached: Mutex<Option<mpsc::Sender<()>>>,
    release: Mutex<mpsc::Receiver<()>>,
}

impl Progress for Barrier {
    fn frame(&self, _unit: &str, _pts_ms: i64) {
        if let Some(tx) = self.reached.lock().unwrap().take() {
            tx.send(()).unwrap();
            self.release.lock().unwrap().recv().unwrap();
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    walk(dir)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn closure_refuses_while_analysis_runs_and_wait_stops_it() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let app = App::new(
        DataRoot::new(home.path().to_owned()),
        Arc::new(vigie_audit::SystemClock),
    );
    let op = Operator::new("op-test").unwrap();
    common::open_case(&app, &op, "C-closure", "2026/777", "closure test");
    let video = common::moving_box(work.path(), "moving", "red", 30, 4);
    {
        let c = EnteredCase::enter(&app, Some("C-closure"), &op, None, "ingest").unwrap();
        register(&c, &video);
    }

    let (reached_tx, reached_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let barrier = Barrier {
        reached: Mutex::new(Some(reached_tx)),
        release: Mutex::new(release_rx),
    };
    let app2 = app.clone();
    let op2 = op.clone();
    let analysis = std::thread::spawn(move || {
        let case = EnteredCase::enter(&app2, Some("C-closure"), &op2, None, "analyze").unwrap();
        let req = common::motion_request(Vec::new());
        analyze_sources(&case, &req, &barrier).unwrap()
    });
    reached_rx.recv().unwrap(); // the analysis is running, inside its first frame

    let admin = Administration::new(&app, op.clone(), Some("end of the procedure"));
    let err = admin.close_case("C-closure", WhenBusy::Refuse).unwrap_err();
    assert!(
        err.to_string().contains("vigie analyze"),
        "the refusal names the running command: {err}"
    );
    assert_eq!(err.class().exit_code(), 3);

    let case_dir = home.path().join("cases/C-closure");
    let admin2 = admin.clone();
    let closer = std::thread::spawn(move || admin2.close_case("C-closure", WhenBusy::StopAndWait));
    // Release the analysis only once the closure request is there (a file the closure
    // writes before it waits): the analysis's next checkpoint sees it.
    while !case_dir.join(vigie_case::lock::CLOSING_FILE).exists() {
        std::thread::yield_now();
    }
    release_tx.send(()).unwrap();
    let outcome = analysis.join().unwrap();
    assert!(
        outcome.analysed.is_empty(),
        "nothing was analysed to the end"
    );
    assert_eq!(outcome.failed.len(), 1);
    assert!(matches!(outcome.failed[0].1, AppError::Stopped(_)));
    let summary = closer.join().unwrap().unwrap();
    assert_eq!(summary.stopped_work.len(), 1);
    assert_eq!(summary.stopped_work[0].command, "analyze");

    // No derived data after the erasure entry, and the erasure entry is the last work entry.
    assert!(
        files_under(&case_dir.join("derived")).is_empty(),
        "derived data left after closure: {:?}",
        files_under(&case_dir.join("derived"))
    );
    let log = app.root().case_log("C-closure", app.clock()).unwrap();
    let entries = log.entries().unwrap();
    let erasure = entries
        .iter()
        .position(|e| matches!(Event::from_entry(e), Some(Event::CaseClosed { .. })))
        .expect("an erasure entry");
    assert!(
        entries[erasure + 1..]
            .iter()
            .all(|e| !matches!(Event::from_entry(e), Some(Event::SourceAnalysed { .. }))),
        "no analysis recorded after the erasure"
    );
    // The stop itself is in the record, before the erasure.
    assert!(entries[..erasure]
        .iter()
        .any(|e| matches!(Event::from_entry(e), Some(Event::WorkStopped { .. }))));
    // And no new work can enter.
    assert!(EnteredCase::enter(&app, Some("C-closure"), &op, None, "analyze").is_err());
}
