//! One entered case sees what it just recorded: a source ingested, then analysed, by the
//! same work (the web interface's ingest-then-analyse job) is checked against the chain
//! that now holds its collection entry, and a camera set is seen at once.

use std::path::Path;
use std::process::Command;

use vigie_app::admin::Administration;
use vigie_app::analyze::{analyze_sources, AnalyzeRequest, DetectorChoice};
use vigie_app::types::OpenRequest;
use vigie_app::{App, EnteredCase, NoProgress, Operator};
use vigie_case::DataRoot;

fn clip(dir: &Path) -> std::path::PathBuf {
    let out = dir.join("moving.mp4");
    assert!(Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("color=c=gray:s=160x120:d=3:r=10[bg];color=c=red:s=24x24:d=3:r=10[fg];[bg][fg]overlay=x='t*30':y=40")
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .arg(&out)
        .status()
        .expect("the ffmpeg CLI (installed by tools/setup)")
        .success());
    out
}

#[test]
fn an_entered_case_sees_the_sources_and_cameras_it_just_recorded() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let app = App::new(
        DataRoot::new(home.path().to_owned()),
        std::sync::Arc::new(vigie_case::SystemClock),
    );
    let op = Operator::new("op-test").unwrap();
    Administration::new(&app, op.clone(), None)
        .open_case(OpenRequest {
            case_id: Some("C-same".into()),
            procedure: "2026/778".into(),
            authorization: "OJ-1".into(),
            magistrate: "Mme Juge".into(),
            authorized_on: chrono::Utc::now().date_naive(),
            valid_until: None,
            operator: op.to_string(),
            purpose: "same work".into(),
        })
        .unwrap();
    let case = EnteredCase::enter(&app, Some("C-same"), &op, None, "ingest+analyse").unwrap();
    let out = vigie_app::evidence::ingest(
        &case,
        &vigie_app::evidence::IngestRequest {
            paths: vec![clip(work.path())],
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
        &AnalyzeRequest {
            sources: vec![id.clone()],
            all: false,
            detector: DetectorChoice::Motion,
            scene: None,
            force: false,
            jobs: 1,
            device: "cpu".into(),
            motion_gate: true,
            sampling: "all".parse().unwrap(),
            width: vigie_app::types::OutputSize::Native,
            decoder_threads: 1,
            plates: None,
            plate_min_width_px: 0.0,
        },
        &NoProgress,
    )
    .unwrap();
    assert!(done.failed.is_empty(), "{:?}", done.failed);
    assert_eq!(done.analysed.len(), 1);
    vigie_app::clock::set_camera(&case, "gate", std::slice::from_ref(&id)).unwrap();
    assert_eq!(case.timing(&rec).camera, "gate");
}
