//! The exploitation report states the measured recall of the models a case loaded: the
//! report written on demand and the final one written at closure (which vigie-case builds
//! with the table the application layer installed), both from the table compiled into
//! this build; a model without figures reads "not measured".

mod common;

use std::sync::Arc;

use vigie_app::admin::{measured_catalogue, Administration};
use vigie_app::types::WhenBusy;
use vigie_app::{App, EnteredCase, Operator};
use vigie_audit::event::Event;
use vigie_case::DataRoot;

#[test]
fn reports_state_the_measured_recall_of_the_models_loaded() {
    let home = tempfile::tempdir().unwrap();
    let app = App::new(
        DataRoot::new(home.path().to_owned()),
        Arc::new(vigie_audit::SystemClock),
    );
    let op = Operator::new("op-test").unwrap();
    common::open_case(&app, &op, "C-limits", "2026/778", "limits test");
    let nanodet = vigie_app::admin::policy::AllowedModelId::lookup("nanodet-coco-416")
        .unwrap()
        .spec();
    {
        let c = EnteredCase::enter(&app, Some("C-limits"), &op, None, "analyze").unwrap();
        for (model_id, sha256) in [
            (nanodet.id.to_owned(), nanodet.sha256_hex()),
            ("legacy-detector".to_owned(), "7a".repeat(32)),
        ] {
            c.record(&Event::ModelLoaded {
                model_id,
                sha256,
                task: "object_detection".into(),
                device: "cpu".into(),
                source_id: None,
            })
            .unwrap();
        }
    }
    let admin = Administration::new(&app, op.clone(), None);
    let written = admin.write_report("C-limits", None).unwrap();
    let limits = written.report.limits.expect("a limits section");
    assert_eq!(limits.models.len(), 2);
    let measured = &limits.models[0].measured;
    assert_eq!(
        measured,
        &measured_catalogue()
            .into_iter()
            .filter(|q| q.model_id == "nanodet-coco-416")
            .collect::<Vec<_>>()
    );
    for dataset in [
        "street-cctv-vehicles/frames_voc_train",
        "mot15-tud/TUD-Campus",
    ] {
        assert!(measured.iter().any(|q| q.dataset == dataset), "{dataset}");
    }
    assert!(limits.models[1].measured.is_empty(), "legacy: not measured");
    let html = std::fs::read_to_string(&written.files.html).unwrap();
    assert!(html.contains("Limites de la recherche / Limits of the search"));
    assert!(
        html.contains("<td>motorcycle / moto</td><td>576</td>"),
        "vehicles"
    );
    assert!(
        html.contains("<td>person / personne</td><td>359</td>"),
        "persons"
    );

    // The final report at closure says the same.
    let closed = admin.close_case("C-limits", WhenBusy::Refuse).unwrap();
    let json = std::fs::read_to_string(&closed.final_report.json).unwrap();
    let report: vigie_app::types::Report = serde_json::from_str(&json).unwrap();
    assert_eq!(&report.limits.unwrap().models[0].measured, measured);
}

/// A case whose sources were analysed with both detector sizes (chosen per source by the
/// frame's shape): the report names each model with the sources it analysed and quotes
/// that model's own figures.
#[test]
fn the_report_names_each_sources_detector_model_and_its_figures() {
    let home = tempfile::tempdir().unwrap();
    let app = App::new(
        DataRoot::new(home.path().to_owned()),
        Arc::new(vigie_audit::SystemClock),
    );
    let op = Operator::new("op-test").unwrap();
    common::open_case(&app, &op, "C-sizes", "2026/779", "sizes test");
    let spec = |id| {
        vigie_app::admin::policy::AllowedModelId::lookup(id)
            .unwrap()
            .spec()
    };
    {
        let c = EnteredCase::enter(&app, Some("C-sizes"), &op, None, "analyze").unwrap();
        for (model, source) in [
            ("nanodet-coco-416", "S-tud-4x3"),
            ("nanodet-coco-512x288", "S-street-16x9"),
            // Asked for (`--detector-input 768x448`): quoted like the rule's models.
            ("nanodet-coco-768x448", "S-far-16x9"),
        ] {
            c.record(&Event::ModelLoaded {
                model_id: model.into(),
                sha256: spec(model).sha256_hex(),
                task: "object_detection".into(),
                device: "cpu".into(),
                source_id: Some(source.into()),
            })
            .unwrap();
        }
    }
    let admin = Administration::new(&app, op.clone(), None);
    let written = admin.write_report("C-sizes", None).unwrap();
    let limits = written.report.limits.expect("a limits section");
    assert_eq!(limits.models.len(), 3);
    for (m, id, source) in [
        (&limits.models[0], "nanodet-coco-416", "S-tud-4x3"),
        (&limits.models[1], "nanodet-coco-512x288", "S-street-16x9"),
        (&limits.models[2], "nanodet-coco-768x448", "S-far-16x9"),
    ] {
        assert_eq!(m.model_id.as_deref(), Some(id));
        assert_eq!(m.sources, [source]);
        assert_eq!(
            m.measured,
            measured_catalogue()
                .into_iter()
                .filter(|q| q.model_id == id)
                .collect::<Vec<_>>()
        );
        assert!(!m.measured.is_empty(), "{id} has figures");
    }
    let html = std::fs::read_to_string(&written.files.html).unwrap();
    assert!(html.contains("<code>S-street-16x9</code>"), "{html}");
    // The wide model's street figure: any vehicle recall 0.84 (1068 of 1277).
    assert!(html.contains("<td>1277</td><td>0.84</td>"), "{html}");
    // The 768x448 model's: 0.90 (1155 of 1277).
    assert!(html.contains("<code>S-far-16x9</code>"), "{html}");
    assert!(html.contains("<td>1277</td><td>0.90</td>"), "{html}");
}
