//! An analysis interrupted between its tube file and its index commit is detected, never
//! used: the tube file (per-frame boxes, which redaction masks unselected objects by) and
//! the index rows each carry the run's id, and clip, frame and synopsis refuse when they
//! differ, naming `vigie analyze --force`. `vigie analyze` does not call such a source
//! "already analysed". Model-free motion detector, footage made with the ffmpeg CLI.

mod common;

use std::path::PathBuf;

use vigie_app::analyze::analyze_sources;
use vigie_app::layout::{InterruptedAnalysis, TubeFile};
use vigie_app::results::{clip, frame, ClipRequest, FrameRequest};
use vigie_app::synopsis::{synopsis, SynopsisRequest};
use vigie_app::{App, AppError, EnteredCase, NoProgress, Operator};

const CASE: &str = "C-interrupted";

struct Env {
    _home: tempfile::TempDir,
    work: tempfile::TempDir,
    app: App,
    op: Operator,
    source_id: String,
}

impl Env {
    /// A case with one analysed source: a red box crossing the frame.
    fn analysed() -> Self {
        let home = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let app = common::app_at(home.path());
        let op = Operator::new("op-test").unwrap();
        common::open_case(&app, &op, CASE, "2026/901", "interrupted analysis");
        let video = common::moving_box(work.path(), "door", "red", 30, 3);
        let case = EnteredCase::enter(&app, Some(CASE), &op, None, "ingest").unwrap();
        let ingested = vigie_app::evidence::ingest(
            &case,
            &vigie_app::evidence::IngestRequest {
                paths: vec![video],
                camera: Some("door".into()),
                ..Default::default()
            },
            &NoProgress,
        )
        .unwrap();
        assert_eq!(ingested.ingested.len(), 1);
        drop(case);
        let mut env = Self {
            _home: home,
            work,
            app,
            op,
            source_id: String::new(),
        };
        let out = env.analyze(false);
        assert_eq!(out.analysed.len(), 1, "{:?}", out.failed);
        env.source_id = out.analysed[0].source_id.clone();
        env
    }

    fn enter(&self, command: &str) -> EnteredCase {
        EnteredCase::enter(&self.app, Some(CASE), &self.op, None, command).unwrap()
    }

    fn analyze(&self, force: bool) -> vigie_app::analyze::AnalyzeOutcome {
        let case = self.enter("analyze");
        let req = vigie_app::analyze::AnalyzeRequest {
            force,
            ..common::motion_request(Vec::new())
        };
        analyze_sources(&case, &req, &NoProgress).unwrap()
    }

    /// The first track of the source, as the index holds it.
    fn track(&self) -> u64 {
        let case = self.enter("search");
        let ix = case.index().unwrap();
        let tracks = ix.tracks_of_source(&self.source_id).unwrap();
        assert!(!tracks.is_empty(), "the moving box is tracked");
        tracks[0].track_id
    }

    fn out(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    fn clip(&self, name: &str) -> Result<(), AppError> {
        let track_id = self.track();
        clip(
            &self.enter("clip"),
            &ClipRequest {
                track_id,
                source: Some(self.source_id.clone()),
                margin_s: 0.0,
                output: self.out(name),
                keep: Vec::new(),
                unredacted: None,
            },
        )
        .map(|_| ())
    }

    fn frame(&self, name: &str) -> Result<(), AppError> {
        frame(
            &self.enter("frame"),
            &FrameRequest {
                source: self.source_id.clone(),
                at: "1".into(),
                output: self.out(name),
                keep: Vec::new(),
                unredacted: None,
            },
        )
        .map(|_| ())
    }

    fn synopsis(&self, name: &str) -> Result<(), AppError> {
        synopsis(
            &self.enter("synopsis"),
            &SynopsisRequest {
                source: self.source_id.clone(),
                output: self.out(name),
                length_s: None,
                max_collisions: 0.1,
                keep_order: false,
                filters: None,
            },
        )
        .map(|_| ())
    }

    fn tubes(&self) -> TubeFile {
        self.enter("synopsis")
            .layout()
            .read_tubes(&self.source_id)
            .unwrap()
    }

    /// Replace the tube file as a run other than the index's would have left it.
    fn write_tubes(&self, file: &TubeFile) {
        self.enter("analyze").layout().write_tubes(file).unwrap();
    }

    /// Re-write the source's index rows unchanged but for the run id.
    fn set_index_run(&self, run_id: Option<&str>) {
        let case = self.enter("analyze");
        let mut ix = case.index().unwrap();
        let mut info = ix.source(&self.source_id).unwrap().unwrap();
        let tracks = ix.tracks_of_source(&self.source_id).unwrap();
        info.record.run_id = run_id.map(str::to_owned);
        ix.write_source(&info.record, &tracks).unwrap();
    }
}

/// The refusal every reader of the tubes gives, with its message naming the fix.
fn assert_interrupted(r: Result<(), AppError>, source_id: &str, what: &str) {
    match r {
        Err(AppError::InterruptedAnalysis(InterruptedAnalysis {
            source_id: ref s, ..
        })) if s == source_id => {
            let e = r.unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains("interrupted"), "{what}: {msg}");
            assert!(
                msg.contains(&format!("vigie analyze --force {source_id}")),
                "{what}: {msg}"
            );
            assert_eq!(e.class().exit_code(), 4, "{what}");
        }
        other => panic!("{what}: expected the interrupted-analysis refusal, got {other:?}"),
    }
}

#[test]
fn a_normal_analysis_names_its_run_in_both_and_clip_frame_synopsis_work() {
    let env = Env::analysed();
    let tubes = env.tubes();
    let index_run = env
        .enter("search")
        .index()
        .unwrap()
        .run_id(&env.source_id)
        .unwrap();
    assert!(tubes.run_id.is_some(), "the tube file names its run");
    assert_eq!(tubes.run_id, index_run, "and the index the same run");
    env.clip("ok.mp4").unwrap();
    env.frame("ok.jpg").unwrap();
    env.synopsis("ok-synopsis.mp4").unwrap();
    // Already analysed, completely: skipped.
    let again = env.analyze(false);
    assert!(again.analysed.is_empty());
    assert_eq!(again.skipped_already_analysed, vec![env.source_id.clone()]);
}

#[test]
fn tubes_of_another_run_than_the_index_are_refused_then_analysis_redoes_the_source() {
    let env = Env::analysed();
    let committed = env.tubes();
    // Stopped after the tube file of a new run was written, before its rows committed:
    // the tube file is of run B, the rows of run A.
    let mut other = committed.clone();
    other.run_id = Some("0123456789abcdef0123456789abcdef".into());
    for t in &mut other.tubes {
        t.track_id += 100; // a re-analysis renumbers tracks
    }
    env.write_tubes(&other);
    assert_interrupted(env.clip("b.mp4"), &env.source_id, "clip");
    assert_interrupted(env.frame("b.jpg"), &env.source_id, "frame");
    assert_interrupted(env.synopsis("b-synopsis.mp4"), &env.source_id, "synopsis");
    assert!(!env.out("b.mp4").exists() && !env.out("b.jpg").exists());

    // Not "already analysed": a plain `analyze` does the source again, and then it works.
    let again = env.analyze(false);
    assert!(again.skipped_already_analysed.is_empty(), "{again:?}");
    assert_eq!(again.analysed.len(), 1, "{:?}", again.failed);
    let redone = env.tubes();
    assert_ne!(redone.run_id, committed.run_id, "a new run");
    env.clip("redone.mp4").unwrap();
    env.synopsis("redone-synopsis.mp4").unwrap();
}

#[test]
fn rows_committed_without_their_tube_file_are_refused() {
    let env = Env::analysed();
    // The defect's order: run B's rows committed, the tube file still run A's.
    env.set_index_run(Some("fedcba9876543210fedcba9876543210"));
    assert_interrupted(env.clip("c.mp4"), &env.source_id, "clip");
    assert_interrupted(env.synopsis("c-synopsis.mp4"), &env.source_id, "synopsis");
    let again = env.analyze(false);
    assert_eq!(again.analysed.len(), 1, "analysed again: {again:?}");
    env.clip("c-redone.mp4").unwrap();
}

#[test]
fn tube_files_from_before_run_ids() {
    let env = Env::analysed();
    let mut old = env.tubes();
    old.format_version = 1;
    old.run_id = None;
    // A format-1 file next to rows of a named run: the rows were re-written since.
    env.write_tubes(&old);
    let bytes = std::fs::read(env.enter("search").layout().tube_file(&env.source_id)).unwrap();
    assert!(
        !String::from_utf8_lossy(&bytes).contains("run_id"),
        "written as an old version would"
    );
    assert_interrupted(env.clip("d.mp4"), &env.source_id, "clip");
    // Both from before run ids (index rows without one): accepted as before.
    env.set_index_run(None);
    env.clip("d-old.mp4").unwrap();
    env.synopsis("d-old-synopsis.mp4").unwrap();
    let again = env.analyze(false);
    assert_eq!(again.skipped_already_analysed.len(), 1, "{again:?}");
}

#[test]
fn a_tube_file_that_cannot_be_written_leaves_the_rows_in_force_untouched() {
    let env = Env::analysed();
    let (run_a, tracks_a) = {
        let case = env.enter("search");
        let ix = case.index().unwrap();
        (
            ix.run_id(&env.source_id).unwrap(),
            ix.tracks_of_source(&env.source_id).unwrap(),
        )
    };
    // The tube file's place taken by a directory: writing it fails (as a full disk would).
    let path = env.enter("search").layout().tube_file(&env.source_id);
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("in-the-way"), b"x").unwrap();
    let out = env.analyze(true);
    assert_eq!(out.failed.len(), 1, "{out:?}");
    assert!(matches!(out.failed[0].1, AppError::Io { .. }), "{out:?}");
    // The tubes are written before the rows: the rows of run A are still in force.
    let case = env.enter("search");
    let ix = case.index().unwrap();
    assert_eq!(ix.run_id(&env.source_id).unwrap(), run_a);
    assert_eq!(ix.tracks_of_source(&env.source_id).unwrap(), tracks_a);
}
