//! Snapshot of the exploitation report (HTML and JSON), from a scripted case.

mod common;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use common::*;
use serde_json::json;
use vigie_case::{build_report, render_html, render_json, Action, CaseContext};
use vigie_core::{AlertSink, SourceMeta, StartTime, StartTimeOrigin};
use vigie_evidence::{Registry, SourceRecord};

#[test]
fn exploitation_report_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let root = root(tmp.path());
    let meta = open(&root, "2026/00042 PJ");
    let clock = at("2026-03-05T14:30:00Z");
    let ctx = CaseContext::enter(&root, &meta.case_id, "opj-martin", clock.clone()).unwrap();

    let sha = "5d".repeat(32);
    Registry::open(ctx.evidence_dir())
        .unwrap()
        .add(SourceRecord {
            source_id: SourceRecord::id_for_hash(&sha),
            path: PathBuf::from("/seized/cam1 <hall>.mp4"),
            sha256: sha.clone(),
            size_bytes: 123_456_789,
            meta: SourceMeta {
                container: "mov,mp4,m4a,3gp,3g2,mj2".into(),
                codec: "h264".into(),
                stream_index: 0,
                video_streams: 1,
                width: 1920,
                height: 1080,
                fps: Some(25.0),
                duration_ms: Some(3_600_000),
                frame_count: Some(90_000),
                frame_count_exact: true,
                bit_rate_bps: Some(4_000_000),
                start_time: Some(StartTime {
                    at: DateTime::parse_from_rfc3339("2026-02-28T21:00:00+01:00").unwrap(),
                    origin: StartTimeOrigin::ContainerCreationTime,
                }),
                timestamps: Default::default(),
            },
            ingested_at: DateTime::parse_from_rfc3339("2026-03-05T14:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            salvage: None,
        })
        .unwrap();
    ctx.log(
        Action::Collection,
        json!({"source_id": SourceRecord::id_for_hash(&sha), "sha256": sha}),
        None,
        json!({"added": 1}),
    )
    .unwrap();
    ctx.log(
        Action::ModelLoad,
        json!({"model_id": "yolox-nano", "task": "object-detection", "sha256": "7a".repeat(32)}),
        None,
        json!({"loaded": true}),
    )
    .unwrap();
    ctx.log(
        Action::Consultation,
        json!({"query": "class=car colour=red", "from": "2026-02-28T20:00:00Z"}),
        Some("witness saw a red car"),
        json!({"count": 12}),
    )
    .unwrap();
    ctx.log(
        Action::Disclosure,
        json!({"file": "exports/extract-1.mp4", "from_ms": 1000, "to_ms": 9000}),
        None,
        json!({"sha256": "e1".repeat(32)}),
    )
    .unwrap();
    ctx.alert_sink()
        .raise(&vigie_core::Alert {
            kind: vigie_core::AlertKind::ModelRefused,
            message: "refused model \"face-embed\": not on the allowlist".into(),
            details: [("sha256".to_owned(), "ff".repeat(32))]
                .into_iter()
                .collect(),
        })
        .unwrap();

    let report = build_report(&root, &meta.case_id, clock).unwrap();
    assert!(report.audit.verification.is_trustworthy());
    assert_eq!(report.searches[0].result_count, Some(12));
    assert_eq!(
        report.exports[0].sha256.as_deref(),
        Some("e1".repeat(32).as_str())
    );
    assert_eq!(report.models[0].model_id.as_deref(), Some("yolox-nano"));
    let html = render_html(&report);
    assert!(html.contains("cam1 &lt;hall&gt;.mp4"), "paths are escaped");
    assert!(
        !html.contains("<script") && !html.contains("http"),
        "self-contained"
    );
    insta::assert_snapshot!("report_html", html);
    insta::assert_snapshot!("report_json", render_json(&report));
}
