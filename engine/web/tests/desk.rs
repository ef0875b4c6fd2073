//! The investigator's desk end to end, over real HTTP: ingest and analyse footage under a
//! root, search it, watch the original at a hit, export a clip, add a frame to the
//! report, build and play a synopsis, write the report; then the case's log holds each
//! action under the signed-in operator, one consultation per page view.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// Ingest and analyse the synthetic clip through the web (motion detector); returns the
/// source id.
fn ingest_and_analyse(s: &Server, c: &mut Client) -> String {
    let page = c.get(&format!("/c/{CASE}/ingest?root=0"));
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(
        page.text().contains("value=\"0:cam-synthetic.mp4\""),
        "{}",
        page.text()
    );
    let token = page.csrf();
    let r = c.post(
        &format!("/c/{CASE}/ingest"),
        &[
            ("csrf", &token),
            ("path", "0:cam-synthetic.mp4"),
            ("start", "2026-11-30T14:00:00+01:00"),
            ("camera", "entrance"),
            ("detector", "motion"),
            ("sampling", "all"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let job = wait_for_job(c);
    assert_eq!(job["phase"], "done", "{job}");
    assert_eq!(job["analysed"].as_array().unwrap().len(), 1, "{job}");
    let file = job["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["phase"] == "analyse")
        .expect("analysis progress");
    assert!(file["frames"].as_u64().unwrap() > 100, "{file}");
    assert_eq!(file["done"], true);
    let id = job["analysed"][0].as_str().unwrap().to_owned();
    // Recorded as the operator who asked, in the case's log.
    assert!(s
        .case_events(CASE)
        .iter()
        .any(|(k, op, _)| k == "evidence_ingested" && op == OPERATOR));
    id
}

#[test]
fn search_watch_export_synopsis_report() {
    let s = Server::start();
    if synthetic(s.root.path()).is_none() {
        return;
    }
    let mut c = s.signed_in(OPERATOR);
    let source = ingest_and_analyse(&s, &mut c);

    // The dashboard: one consultation, the source with its hash.
    let before = s.consultations(CASE);
    let dash = c.get(&format!("/c/{CASE}"));
    assert_eq!(dash.status, 200, "{}", dash.text());
    assert!(dash.text().contains(&source));
    assert!(dash.text().contains("id=\"audit-status\""));
    assert_eq!(s.consultations(CASE), before + 1);

    // A search: the three objects, one consultation entry for the page view.
    let searches = s.count_events(CASE, "search");
    let consultations = s.consultations(CASE);
    let page = c.get(&format!(
        "/c/{CASE}/search?run=1&class=moving_object&sort=time"
    ));
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(page.count("data-test=\"hit\""), 3, "{}", page.text());
    assert!(page.text().contains("data-count=\"3\""));
    assert_eq!(s.count_events(CASE, "search"), searches + 1);
    assert_eq!(s.consultations(CASE), consultations + 1);
    // Its thumbnails: served from derived data, no entry each.
    let thumbs: Vec<String> = page
        .text()
        .split(&format!("/c/{CASE}/thumb/"))
        .skip(1)
        .map(|t| t[..t.find('"').unwrap()].to_owned())
        .collect();
    assert_eq!(thumbs.len(), 3);
    for t in &thumbs {
        let r = c.get(&format!("/c/{CASE}/thumb/{t}"));
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("image/jpeg"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(&r.body[..2], &[0xFF, 0xD8]);
    }
    assert_eq!(s.consultations(CASE), consultations + 1);
    // Filters are the CLI's: a colour narrows to one; a typo is named.
    let red = c.get(&format!("/c/{CASE}/search?run=1&colour=red"));
    assert_eq!(red.count("data-test=\"hit\""), 1, "{}", red.text());
    let bad = c.get(&format!("/c/{CASE}/search?run=1&colour=rouge"));
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("--colour"), "{}", bad.text());
    assert_eq!(s.count_events(CASE, "search"), searches + 2);

    // The player at the red object's hit: one consultation at opening, frames after.
    let hit = red.text();
    let href_start = hit.find(&format!("/c/{CASE}/play?")).unwrap();
    let href =
        hit[href_start..hit[href_start..].find('"').unwrap() + href_start].replace("&amp;", "&");
    let consultations = s.consultations(CASE);
    let player = c.get(&href);
    assert_eq!(player.status, 200, "{}", player.text());
    assert!(player.text().contains("id=\"rendering-note\""));
    assert_eq!(s.consultations(CASE), consultations + 1);
    let t = player.text();
    let fu = t.find("data-frame-url=\"").unwrap() + "data-frame-url=\"".len();
    let frame_url = t[fu..fu + t[fu..].find('"').unwrap()].to_owned();
    let mut boxed = 0;
    for at in [1000, 1200, 1400, 5000] {
        let f = c.get_json(&format!("{frame_url}?at_ms={at}"));
        assert_eq!(f.status, 200, "{}", f.text());
        assert_eq!(f.header("content-type"), Some("image/jpeg"));
        let pts: i64 = f.header("x-vigie-pts-ms").unwrap().parse().unwrap();
        assert!((pts - at).abs() <= 100, "asked {at}, got {pts}");
        assert!(f.header("x-vigie-wall-ms").is_some());
        boxed += (f.header("x-vigie-boxed") == Some("1")) as usize;
    }
    assert!(boxed >= 3, "the red box is on screen from 0 to 10 s");
    assert_eq!(
        s.consultations(CASE),
        consultations + 1,
        "frames are not consultations"
    );
    // Another session cannot use this player.
    let mut other = s.signed_in(ADMIN);
    assert_eq!(other.get_json(&format!("{frame_url}?at_ms=0")).status, 410);

    // Export the clip, then download it: two disclosures.
    let token = player.csrf();
    let track = hit[hit.find("data-track=\"").unwrap() + 12..]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let disclosures = s.count_events(CASE, "exported");
    let clip = c.post(
        &format!("/c/{CASE}/clip"),
        &[
            ("csrf", &token),
            ("src", &source),
            ("track", &track),
            ("margin", "1"),
        ],
    );
    assert_eq!(clip.status, 200, "{}", clip.text());
    assert!(clip.text().contains("id=\"export-sha256\""));
    assert_eq!(s.count_events(CASE, "exported"), disclosures + 1);
    let link = clip.text();
    let dl = link.find(&format!("/c/{CASE}/exports/clip-")).unwrap();
    let dl = link[dl..dl + link[dl..].find('"').unwrap()].to_owned();
    let file = c.get(&dl);
    assert_eq!(file.status, 200);
    assert_eq!(file.header("content-type"), Some("video/mp4"));
    assert!(file
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment"));
    assert!(file.body.len() > 1000);
    assert_eq!(s.count_events(CASE, "exported"), disclosures + 2);
    // Raw evidence is never served as a file.
    let name = "cam-synthetic.mp4";
    assert_eq!(c.get(&format!("/c/{CASE}/exports/{name}")).status, 404);
    // Only what a recorded export wrote, unchanged, and never an unredacted export: a
    // clip the command line made with --unredacted and its justification, a file put in
    // the exports by hand, and a recorded clip changed afterwards are all refused, and
    // none of them is recorded as given.
    {
        let case = vigie_app::EnteredCase::enter(
            &s.app,
            Some(CASE),
            &vigie_app::Operator::new(OPERATOR).unwrap(),
            None,
            "test: unredacted clip",
        )
        .unwrap();
        vigie_app::results::clip(
            &case,
            &vigie_app::results::ClipRequest {
                track_id: track.parse().unwrap(),
                source: Some(source.clone()),
                margin_s: 0.0,
                output: "clip-unredacted.mkv".into(),
                keep: Vec::new(),
                unredacted: vigie_app::redact::Unredacted::from_flags(
                    true,
                    Some("the court asked for the original pixels"),
                )
                .unwrap(),
            },
        )
        .unwrap();
        // A clip recorded before redaction existed: a stream copy, kind `clip` with no
        // redaction in its detail (what the log holds for such exports).
        let old = case
            .export_target(std::path::Path::new("clip-before-redaction.mp4"))
            .unwrap();
        std::fs::write(&old.path, b"a stream copy of the original pixels").unwrap();
        case.record_export(
            vigie_app::types::ExportKind::Clip,
            None,
            serde_json::json!({ "track": 1 }),
            &[&old],
        )
        .unwrap();
    }
    let exports = s.app.root().case_dir(CASE).join("exports");
    std::fs::write(exports.join("clip-by-hand.mp4"), b"not from vigie").unwrap();
    let downloaded = exports.join(dl.rsplit('/').next().unwrap());
    assert_eq!(
        std::fs::read(&downloaded).unwrap(),
        file.body,
        "the download is the export, byte for byte (sent in chunks)"
    );
    let before = s.count_events(CASE, "exported");
    let mut bytes = std::fs::read(&downloaded).unwrap();
    bytes.push(0);
    std::fs::write(exports.join("clip-changed.mp4"), &bytes).unwrap();
    for (file, says) in [
        ("clip-unredacted.mkv", "unredacted export"),
        ("clip-before-redaction.mp4", "unredacted export"),
        (
            "clip-by-hand.mp4",
            "not a file written by a recorded export",
        ),
        (
            "clip-changed.mp4",
            "not a file written by a recorded export",
        ),
    ] {
        let r = c.get(&format!("/c/{CASE}/exports/{file}"));
        assert_eq!(r.status, 400, "{file}: {}", r.text());
        assert!(r.text().contains(says), "{file}: {}", r.text());
    }
    assert_eq!(s.count_events(CASE, "exported"), before, "nothing given");

    // Add a frame to the report.
    let r = c.post(
        &format!("/c/{CASE}/report-frame"),
        &[("csrf", &token), ("src", &source), ("at_ms", "2000")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        s.count_events(CASE, "exported"),
        disclosures + 5,
        "the three clips, the download and the frame"
    );

    // A synopsis of the search's filters, played and clicked; a bad setting is refused
    // before anything is built.
    let r = c.post(
        &format!("/c/{CASE}/synopsis"),
        &[
            ("csrf", &token),
            ("source", &source),
            ("max_objects", "many"),
        ],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("invalid max_objects"), "{}", r.text());
    assert_eq!(s.count_events(CASE, "synopsis_built"), 0);
    let r = c.post(
        &format!("/c/{CASE}/synopsis"),
        &[
            ("csrf", &token),
            ("source", &source),
            ("class", "moving_object"),
            ("max_objects", "2"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let syn_url = r.header("location").unwrap().to_owned();
    assert!(s.count_events(CASE, "synopsis_built") == 1);
    let syn = c.get(&syn_url);
    assert_eq!(syn.status, 200, "{}", syn.text());
    assert_eq!(
        syn.count("data-test=\"synopsis-object\""),
        3,
        "{}",
        syn.text()
    );
    // The figures the CLI prints, read back from the synopsis's index.
    assert!(
        syn.text()
            .contains("data-figure=\"objects\" data-value=\"3/3\""),
        "{}",
        syn.text()
    );
    assert!(syn.text().contains("data-figure=\"condensation\""));
    let at_once = syn.text();
    let key = "data-figure=\"at_once\" data-value=\"";
    let at = at_once.find(key).unwrap() + key.len();
    let n: u32 = at_once[at..at + at_once[at..].find('"').unwrap()]
        .parse()
        .unwrap();
    assert!(n <= 2, "the density asked for: {n}");
    let t = syn.text();
    let pu = t.find("data-pick-url=\"").unwrap() + "data-pick-url=\"".len();
    let pick_url = t[pu..pu + t[pu..].find('"').unwrap()].replace("&amp;", "&");
    let fu = t.find("data-frame-url=\"").unwrap() + "data-frame-url=\"".len();
    let syn_frame = t[fu..fu + t[fu..].find('"').unwrap()].to_owned();
    assert_eq!(c.get_json(&format!("{syn_frame}?at_ms=500")).status, 200);
    let pick = c.get_json(&format!("{pick_url}&t=1000&x=0.5&y=0.5"));
    assert_eq!(pick.status, 200, "{}", pick.text());
    let v: serde_json::Value = serde_json::from_slice(&pick.body).unwrap();
    assert!(
        v["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("/c/{CASE}/play?src={source}")),
        "{v}"
    );

    // The exploitation report.
    let r = c.post(&format!("/c/{CASE}/report"), &[("csrf", &token)]);
    assert_eq!(r.status, 303, "{}", r.text());
    let report = c.get(r.header("location").unwrap());
    assert_eq!(report.status, 200);
    assert!(report
        .header("content-security-policy")
        .unwrap()
        .contains("sandbox"));
    let audit = c.get(&format!("/c/{CASE}/audit?action=consultation"));
    assert_eq!(audit.status, 200);
    assert!(audit.text().contains("data-event=\"search\""));
    assert!(!audit.text().contains("data-event=\"evidence_ingested\""));

    // Every entry the session caused is the operator's.
    let events = s.case_events(CASE);
    for kind in [
        "evidence_ingested",
        "source_analysed",
        "search",
        "exported",
        "synopsis_built",
        "source_decoded",
    ] {
        assert!(
            events.iter().any(|(k, op, _)| k == kind && op == OPERATOR),
            "{kind} by {OPERATOR} missing: {events:?}"
        );
    }
}

#[test]
fn a_closing_case_stops_its_player() {
    let s = Server::start();
    if synthetic(s.root.path()).is_none() {
        return;
    }
    let mut c = s.signed_in(OPERATOR);
    let source = ingest_and_analyse(&s, &mut c);
    let player = c.get(&format!("/c/{CASE}/play?src={source}"));
    assert_eq!(player.status, 200);
    let t = player.text();
    let fu = t.find("data-frame-url=\"").unwrap() + "data-frame-url=\"".len();
    let frame_url = t[fu..fu + t[fu..].find('"').unwrap()].to_owned();
    assert_eq!(c.get_json(&format!("{frame_url}?at_ms=0")).status, 200);
    // Closure waits for running work: the player's next frame sees the request and ends.
    let app = s.app.clone();
    let closer = std::thread::spawn(move || {
        vigie_app::admin::Administration::new(
            &app,
            vigie_app::Operator::new(ADMIN).unwrap(),
            Some("end of the investigation"),
        )
        .close_case(CASE, vigie_app::types::WhenBusy::StopAndWait)
    });
    let t0 = Instant::now();
    loop {
        let f = c.get_json(&format!("{frame_url}?at_ms=100"));
        if f.status != 200 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the player kept the case open"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    closer.join().unwrap().unwrap();
    // The closed case is no longer entered; its audit page stays readable.
    assert_ne!(c.get(&format!("/c/{CASE}")).status, 200);
    assert_eq!(c.get(&format!("/c/{CASE}/audit")).status, 200);
}

/// The form's "small and distant vehicles too" reaches the analysis: the source is
/// analysed with the 768x448 detector, and the case's log says so (`model_loaded`).
/// Needs the fetched models and ONNX Runtime (`tools/setup`); skips loudly without them.
#[test]
fn the_form_asks_for_small_and_distant_vehicles() {
    let cache = vigie_core::paths::cache_dir();
    if !(cache.join("models/nanodet_coco_768x448.onnx").is_file()
        && vigie_app::admin::policy::runtime_library_path().0.is_file())
    {
        vigie_core::test_support::skip("run tools/fetch-onnxruntime and tools/fetch-models first");
        return;
    }
    let s = Server::start();
    if synthetic(s.root.path()).is_none() {
        return;
    }
    let mut c = s.signed_in(OPERATOR);
    let token = c.get(&format!("/c/{CASE}/ingest?root=0")).csrf();
    let r = c.post(
        &format!("/c/{CASE}/ingest"),
        &[
            ("csrf", &token),
            ("path", "0:cam-synthetic.mp4"),
            ("detector", "nanodet"),
            ("detector_input", "768x448"),
            ("sampling", "2fps"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let job = wait_for_job(&mut c);
    assert_eq!(job["phase"], "done", "{job}");
    let (entries, _) = vigie_app::view::audit_entries(&s.app, Some(CASE)).unwrap();
    let loaded: Vec<String> = entries
        .iter()
        .filter(|e| e.params["event"] == "model_loaded")
        .filter_map(|e| e.params["model_id"].as_str().map(str::to_owned))
        .filter(|m| m.starts_with("nanodet"))
        .collect();
    assert!(!loaded.is_empty(), "a detector was loaded");
    assert!(
        loaded.iter().all(|m| m.starts_with("nanodet-coco-768x448")),
        "{loaded:?}"
    );
}
