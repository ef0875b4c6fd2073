//! One entered case sees what it just recorded: a source ingested, then analysed, by the
//! same work (the web interface's ingest-then-analyse job) is checked against the chain
//! that now holds its collection entry, and a camera set is seen at once.

mod common;

use vigie_app::analyze::analyze_sources;
use vigie_app::{App, EnteredCase, NoProgress, Operator};
use vigie_case::DataRoot;

#[test]
fn an_entered_case_sees_the_sources_and_cameras_it_just_recorded() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let app = App::new(
        DataRoot::new(home.path().to_owned()),
        std::sync::Arc::new(vigie_case::SystemClock),
    );
    let op = Operator::new("op-test").unwrap();
    common::open_case(&app, &op, "C-same", "2026/778", "same work");
    let case = EnteredCase::enter(&app, Some("C-same"), &op, None, "ingest+analyse").unwrap();
    let out = vigie_app::evidence::ingest(
        &case,
        &vigie_app::evidence::IngestRequest {
            paths: vec![common::moving_box(work.path(), "moving", "red", 30, 3)],
            camera: Some("door".into()),
            ..Default::default()
        },
        &NoProgress,
    )
    .unwrap();
    let id = out.ingested[0].record.source_id.clone();
    // Found and checked against the chain by the same entered case.
    let rec = case.find_source(&id).unwrap();
    assert_eq!(case.timing(&rec).camera, "door");
    let done = analyze_sources(
        &case,
        &common::motion_request(vec![id.clone()]),
        &NoProgress,
    )
    .unwrap();
    assert!(done.failed.is_empty(), "{:?}", done.failed);
    assert_eq!(done.analysed.len(), 1);
    vigie_app::clock::set_camera(&case, "gate", std::slice::from_ref(&id)).unwrap();
    assert_eq!(case.timing(&rec).camera, "gate");
}
