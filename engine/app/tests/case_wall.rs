//! The case wall against someone with the account who moves a case's files behind vigie's
//! back (a review's findings):
//!
//! - a case folder restored from a copy taken before its closure reads as open, but the
//!   machine log recorded the closure: entry is refused;
//! - a case log put back to a copy older than the last head the machine log recorded of it
//!   (at a report, at every disclosure): entry is refused;
//! - `derived/` linked to another case's: entry is refused;
//! - another case's index copied in: the index is refused (its rows are not this case's).
//!
//! Each refusal is a `record_mismatch` alert.

mod common;

use std::path::Path;
use std::sync::Arc;

use vigie_app::admin::Administration;
use vigie_app::analyze::analyze_sources;
use vigie_app::types::WhenBusy;
use vigie_app::{App, AppError, EnteredCase, NoProgress, Operator};
use vigie_audit::event::Event;
use vigie_case::CaseError;

/// Put `case.json` and `audit/` of `saved` back into `case_dir`.
fn restore(saved: &Path, case_dir: &Path) {
    std::fs::copy(saved.join("case.json"), case_dir.join("case.json")).unwrap();
    std::fs::remove_dir_all(case_dir.join("audit")).unwrap();
    common::copy_dir(&saved.join("audit"), &case_dir.join("audit"));
}

/// Entering `case_id` is refused: its log is behind what the machine log recorded.
fn refused_as_behind(app: &App, op: &Operator, case_id: &str) {
    let err = EnteredCase::enter(app, Some(case_id), op, None, "after").unwrap_err();
    assert!(
        matches!(
            err,
            AppError::Case(CaseError::LogBehindMachineRecord { .. })
        ),
        "{err}"
    );
}

fn record_mismatch_alerts(app: &App) -> usize {
    app.root()
        .machine_log(Arc::new(vigie_audit::SystemClock))
        .unwrap()
        .entries()
        .unwrap()
        .iter()
        .filter(|e| {
            matches!(
                Event::from_entry(e),
                Some(Event::Alert { kind, .. }) if kind == vigie_core::AlertKind::RecordMismatch
            )
        })
        .count()
}

#[test]
fn a_closed_case_restored_from_a_copy_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let saved = tempfile::tempdir().unwrap();
    let app = common::app_at(home.path());
    let op = Operator::new("op-wall").unwrap();
    common::open_case(&app, &op, "C-restored", "2026/901", "wall");
    let case_dir = app.root().case_dir("C-restored");
    drop(EnteredCase::enter(&app, Some("C-restored"), &op, None, "before").unwrap());
    common::copy_dir(&case_dir, saved.path());
    Administration::new(&app, op.clone(), Some("end of the procedure"))
        .close_case("C-restored", WhenBusy::Refuse)
        .unwrap();
    restore(saved.path(), &case_dir);
    let before = record_mismatch_alerts(&app);
    let err = EnteredCase::enter(&app, Some("C-restored"), &op, None, "after").unwrap_err();
    assert!(
        matches!(err, AppError::Case(CaseError::Closed { .. })),
        "{err}"
    );
    assert_eq!(record_mismatch_alerts(&app), before + 1);
    // Nor can it be renewed on the restored record.
    let until = chrono::Utc::now().date_naive() + chrono::Days::new(30);
    let err = Administration::new(&app, op.clone(), Some("renewal"))
        .renew_case("C-restored", "OJ-2", until)
        .unwrap_err();
    assert!(
        matches!(err, AppError::Case(CaseError::Closed { .. })),
        "{err}"
    );
}

#[test]
fn a_case_log_put_back_before_a_recorded_head_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let saved = tempfile::tempdir().unwrap();
    let app = common::app_at(home.path());
    let op = Operator::new("op-wall").unwrap();
    common::open_case(&app, &op, "C-rolled", "2026/902", "wall");
    let case_dir = app.root().case_dir("C-rolled");
    common::copy_dir(&case_dir, saved.path());
    // Work, then a report: the machine log records the case log's head after the work.
    {
        let case = EnteredCase::enter(&app, Some("C-rolled"), &op, None, "work").unwrap();
        vigie_app::evidence::list_sources(&case).unwrap();
    }
    Administration::new(&app, op.clone(), Some("interim report"))
        .write_report("C-rolled", None)
        .unwrap();
    // Still enters as it is.
    drop(EnteredCase::enter(&app, Some("C-rolled"), &op, None, "check").unwrap());
    restore(saved.path(), &case_dir);
    refused_as_behind(&app, &op, "C-rolled");
}

/// An analysis's entries (a model loaded, a source analysed) are noted in the machine log
/// as they are written: a copy of the case's log taken before them, put back to hide the
/// work, is refused like one taken before a disclosure. A consultation alone is not noted
/// (a page view is one; the anchors cover it): entering after one still works.
#[test]
fn a_case_log_put_back_before_an_analysis_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let saved = tempfile::tempdir().unwrap();
    let app = common::app_at(home.path());
    let op = Operator::new("op-wall").unwrap();
    common::open_case(&app, &op, "C-looked", "2026/908", "wall");
    let case_dir = app.root().case_dir("C-looked");
    {
        let case = EnteredCase::enter(&app, Some("C-looked"), &op, None, "list").unwrap();
        vigie_app::evidence::list_sources(&case).unwrap();
    }
    let machine_entries = || {
        app.root()
            .machine_log(Arc::new(vigie_audit::SystemClock))
            .unwrap()
            .entries()
            .unwrap()
            .len()
    };
    let before = machine_entries();
    common::copy_dir(&case_dir, saved.path());
    {
        let case = EnteredCase::enter(&app, Some("C-looked"), &op, None, "list").unwrap();
        vigie_app::evidence::list_sources(&case).unwrap();
    }
    assert_eq!(machine_entries(), before, "a consultation is not noted");
    {
        let case = EnteredCase::enter(&app, Some("C-looked"), &op, None, "analyze").unwrap();
        let spec = vigie_app::admin::policy::AllowedModelId::lookup("nanodet-coco-416")
            .unwrap()
            .spec();
        case.record(&Event::ModelLoaded {
            model_id: spec.id.into(),
            sha256: spec.sha256_hex(),
            task: "object_detection".into(),
            device: "cpu".into(),
            source_id: None,
        })
        .unwrap();
    }
    assert_eq!(machine_entries(), before + 1, "the model load is noted");
    restore(saved.path(), &case_dir);
    refused_as_behind(&app, &op, "C-looked");
}

#[test]
fn a_case_log_put_back_before_a_disclosure_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let saved = tempfile::tempdir().unwrap();
    let app = common::app_at(home.path());
    let op = Operator::new("op-wall").unwrap();
    common::open_case(&app, &op, "C-export", "2026/907", "wall");
    let case_dir = app.root().case_dir("C-export");
    common::copy_dir(&case_dir, saved.path());
    {
        let case = EnteredCase::enter(&app, Some("C-export"), &op, None, "export").unwrap();
        let target = case.export_target(Path::new("frame.png")).unwrap();
        std::fs::write(&target.path, b"an exported frame").unwrap();
        case.record_export(
            vigie_audit::event::ExportKind::Frame,
            None,
            serde_json::json!({}),
            &[&target],
        )
        .unwrap();
    }
    restore(saved.path(), &case_dir);
    refused_as_behind(&app, &op, "C-export");
}

#[test]
fn a_derived_folder_linked_to_another_case_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let app = common::app_at(home.path());
    let op = Operator::new("op-wall").unwrap();
    common::open_case(&app, &op, "C-one", "2026/903", "wall");
    common::open_case(&app, &op, "C-two", "2026/904", "wall");
    let two = app.root().case_dir("C-two");
    std::fs::remove_dir_all(two.join("derived")).unwrap();
    std::os::unix::fs::symlink("../C-one/derived", two.join("derived")).unwrap();
    let err = EnteredCase::enter(&app, Some("C-two"), &op, None, "search").unwrap_err();
    assert!(
        matches!(err, AppError::ForeignCaseFolder { ref why, .. } if why.contains("link")),
        "{err}"
    );
    // The other case is untouched and enters.
    drop(EnteredCase::enter(&app, Some("C-one"), &op, None, "search").unwrap());
}

#[test]
fn an_index_copied_from_another_case_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let app = common::app_at(home.path());
    let op = Operator::new("op-wall").unwrap();
    common::open_case(&app, &op, "C-src", "2026/905", "wall");
    common::open_case(&app, &op, "C-dst", "2026/906", "wall");
    {
        let case = EnteredCase::enter(&app, Some("C-src"), &op, None, "ingest").unwrap();
        let out = vigie_app::evidence::ingest(
            &case,
            &vigie_app::evidence::IngestRequest {
                paths: vec![common::moving_box(work.path(), "moving", "red", 30, 2)],
                ..Default::default()
            },
            &NoProgress,
        )
        .unwrap();
        let id = out.ingested[0].record.source_id.clone();
        let done = analyze_sources(&case, &common::motion_request(vec![id]), &NoProgress).unwrap();
        assert_eq!(done.analysed.len(), 1, "{:?}", done.failed);
        assert!(case.index().is_ok());
    }
    let index = vigie_index::INDEX_FILE_NAME;
    let dst_derived = app.root().case_dir("C-dst").join("derived");
    std::fs::create_dir_all(&dst_derived).unwrap();
    std::fs::copy(
        app.root().case_dir("C-src").join("derived").join(index),
        dst_derived.join(index),
    )
    .unwrap();
    let case = EnteredCase::enter(&app, Some("C-dst"), &op, None, "search").unwrap();
    match case.index() {
        Err(AppError::ForeignIndex { source_id, .. }) => assert!(source_id.starts_with('S')),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("another case's index was used"),
    }
}
