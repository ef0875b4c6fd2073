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

/// A case whose log loaded NanoDet states its measured recall per class, with the data
/// set, and how to read a search with no result; a model without figures says so.
#[test]
fn the_report_states_the_measured_recall_of_the_models_loaded() {
    use vigie_audit::event::Event;
    use vigie_case::{build_report_with, MeasuredClassRow, MeasuredQuality};

    let tmp = tempfile::tempdir().unwrap();
    let root = root(tmp.path());
    let meta = open(&root, "2026/00043 PJ");
    let clock = at("2026-03-05T14:30:00Z");
    let ctx = CaseContext::enter(&root, &meta.case_id, "opj-martin", clock.clone()).unwrap();
    let sha = "63".repeat(32);
    for (model_id, sha256) in [
        ("nanodet-coco-416", sha.clone()),
        ("nanodet-coco-416", sha.clone()),
        ("legacy-detector", "7a".repeat(32)),
    ] {
        ctx.record(
            &Event::ModelLoaded {
                model_id: model_id.into(),
                sha256,
                task: "object_detection".into(),
                device: "cpu".into(),
                source_id: None,
            },
            None,
        )
        .unwrap();
    }
    let table = vec![MeasuredQuality {
        model_id: "nanodet-coco-416".into(),
        sha256: sha.clone(),
        kind: "reproducible".into(),
        dataset: "street-cctv-vehicles/frames_voc_train".into(),
        split: "the whole folder".into(),
        images: Some(177),
        iou: 0.5,
        score_threshold: 0.35,
        vigie_version: "0.2.0".into(),
        command: "vigie eval detect DIR --json".into(),
        date: "2026-12-06".into(),
        note: None,
        classes: vec![MeasuredClassRow {
            class: "motorcycle".into(),
            objects: Some(576),
            recall: Some(357.0 / 576.0),
            precision: Some(357.0 / 520.0),
        }],
    }];
    let report = build_report_with(&root, &meta.case_id, clock.clone(), &table).unwrap();
    let limits = report.limits.as_ref().expect("a limits section");
    assert_eq!(limits.models.len(), 2);
    assert_eq!(limits.models[0].measured, table);
    assert_eq!(
        limits.models[0].entries.len(),
        2,
        "one row per model loaded"
    );
    assert!(limits.models[1].measured.is_empty());

    let html = render_html(&report);
    assert!(html.contains("Limites de la recherche / Limits of the search"));
    assert!(html.contains("street-cctv-vehicles/frames_voc_train"));
    assert!(html.contains("<td>motorcycle / moto</td><td>576</td><td>0.62</td><td>0.69</td>"));
    assert!(html.contains("misses about 1 in 3"), "{html}");
    assert!(html.contains("en manque environ 1 sur 3"));
    assert!(html.contains("<h3>legacy-detector"));
    assert!(html.contains("Not measured: this version of vigie records no measured figure"));
    // The JSON carries the same figures, and reads back.
    let back: vigie_case::Report = serde_json::from_str(&render_json(&report)).unwrap();
    assert_eq!(back.limits, report.limits);

    // Without a table (vigie-case used without the application layer): not measured.
    let bare = build_report(&root, &meta.case_id, clock).unwrap();
    assert!(bare
        .limits
        .unwrap()
        .models
        .iter()
        .all(|m| m.measured.is_empty()));
}
