//! A camera's synopsis from the desk, over real HTTP: the page calls the same layer
//! function as `vigie synopsis --camera` (so the case wall, the CSRF guard and the audit
//! entries apply), shows the figures the CLI prints, and offers the file; each refusal
//! (no camera chosen, an unknown camera, an empty or uncovered range, a file never
//! analysed) is a clear message on the form, which keeps what was typed, and records no
//! synopsis.

mod common;

use common::*;
use vigie_app::evidence::{ingest, IngestRequest};
use vigie_app::{EnteredCase, NoProgress, Operator};

/// Two analysed files of camera `hall` (14:00 and 15:00, 6 s each) and a file of camera
/// `lobby` collected but never analysed (collected through the layer: the ingest page
/// always analyses). `None` without the ffmpeg CLI.
fn hall_and_lobby(s: &Server, c: &mut Client) -> Option<(String, String)> {
    camera_clip(s.root.path(), "hall-a.mp4", "0xd01818", 200)?;
    camera_clip(s.root.path(), "hall-b.mp4", "0x1830c8", 120)?;
    let lobby = camera_clip(s.root.path(), "lobby.mp4", "0xf0d020", 160)?;
    let a = ingest_through_the_page(c, "hall-a.mp4", "hall", "2026-11-30T14:00:00+01:00");
    let b = ingest_through_the_page(c, "hall-b.mp4", "hall", "2026-11-30T15:00:00+01:00");
    let case = EnteredCase::enter(
        &s.app,
        Some(CASE),
        &Operator::new(OPERATOR).unwrap(),
        None,
        "test: collect without analysis",
    )
    .unwrap();
    let out = ingest(
        &case,
        &IngestRequest {
            paths: vec![lobby],
            start: Some(chrono::DateTime::parse_from_rfc3339("2026-11-30T16:00:00+01:00").unwrap()),
            camera: Some("lobby".into()),
            jobs: Some(1),
            ..Default::default()
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(out.ingested.len(), 1);
    Some((a, b))
}

/// The text of the element with `id="id"` (up to its closing tag), tags left in.
fn element(page: &str, id: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {page}"));
    let end = page[at..].find("</").unwrap();
    page[at..at + end].to_owned()
}

fn figure(page: &str, name: &str) -> String {
    let key = format!("data-figure=\"{name}\" data-value=\"");
    let at = page
        .find(&key)
        .unwrap_or_else(|| panic!("no figure {name} in {page}"))
        + key.len();
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}

#[test]
fn a_camera_synopsis_is_made_through_the_layer_or_refused_with_the_reason() {
    let s = Server::start();
    let mut c = s.signed_in(OPERATOR);
    let Some((a, b)) = hall_and_lobby(&s, &mut c) else {
        return;
    };
    let path = format!("/c/{CASE}/camera-synopsis");

    // The form lists the case's cameras with their number of files; the search page
    // links to it.
    let search = c.get(&format!("/c/{CASE}/search"));
    assert!(search.text().contains("id=\"camera-synopsis-link\""));
    let form = c.get(&path);
    assert_eq!(form.status, 200, "{}", form.text());
    let page = form.text();
    assert!(
        page.contains("<option value=\"hall\" data-sources=\"2\""),
        "{page}"
    );
    assert!(
        page.contains("<option value=\"lobby\" data-sources=\"1\""),
        "{page}"
    );
    let token = form.csrf();
    let built = s.count_events(CASE, "synopsis_built");
    let disclosed = s.count_events(CASE, "exported");

    // Refusals, on the form, nothing recorded.
    let refused = |c: &mut Client, form: &[(&str, &str)], says: &[&str]| {
        let r = c.post(&path, form);
        assert_eq!(r.status, 400, "{form:?}: {}", r.text());
        let page = r.text();
        let msg = element(&page, "camera-synopsis-error");
        for s in says {
            assert!(msg.contains(s), "{form:?}: {msg:?} should say {s:?}");
        }
        assert!(
            page.contains("id=\"camera-synopsis-form\""),
            "the form again"
        );
        page
    };
    refused(
        &mut c,
        &[("csrf", &token), ("camera", "")],
        &["choose a camera"],
    );
    refused(
        &mut c,
        &[("csrf", &token), ("camera", "garage")],
        &["no source belongs to camera", "garage", "hall, lobby"],
    );
    let page = refused(
        &mut c,
        &[
            ("csrf", &token),
            ("camera", "hall"),
            ("from", "2026-11-30T15:00:00+01:00"),
            ("to", "2026-11-30T14:00:00+01:00"),
        ],
        &["--from is after --to", "swap them"],
    );
    assert!(
        page.contains("value=\"2026-11-30T15:00:00+01:00\""),
        "what was typed is kept"
    );
    assert!(page.contains("<option value=\"hall\" data-sources=\"2\" selected>"));
    refused(
        &mut c,
        &[
            ("csrf", &token),
            ("camera", "hall"),
            ("from", "2026-11-30T10:00:00+01:00"),
            ("to", "2026-11-30T11:00:00+01:00"),
        ],
        &["no recording of camera", "covers"],
    );
    refused(
        &mut c,
        &[("csrf", &token), ("camera", "hall"), ("from", "yesterday")],
        &["yesterday"],
    );
    refused(
        &mut c,
        &[("csrf", &token), ("camera", "lobby")],
        &["never analysed", "vigie analyze"],
    );
    assert_eq!(s.count_events(CASE, "synopsis_built"), built);
    assert_eq!(s.count_events(CASE, "exported"), disclosed);

    // The guards: no token, or an account without the case, is refused before the layer.
    let r = c.post(&path, &[("camera", "hall")]);
    assert_eq!(r.status, 403, "{}", r.text());
    let mut outsider = s.signed_in(OUTSIDER);
    let r = outsider.get(&path);
    assert_eq!(r.status, 403, "{}", r.text());

    // Both files of the hall, in clock order, with the figures and the file offered.
    let r = c.post(&path, &[("csrf", &token), ("camera", "hall")]);
    assert_eq!(r.status, 200, "{}", r.text());
    let page = r.text();
    let ia = page.find(&format!("data-source=\"{a}\"")).expect("file a");
    let ib = page.find(&format!("data-source=\"{b}\"")).expect("file b");
    assert!(ia < ib, "14:00 before 15:00");
    assert_eq!(figure(&page, "footage"), "12000", "two files of 6 s");
    assert!(figure(&page, "condensation").parse::<f64>().unwrap() > 1.0);
    assert!(figure(&page, "collisions").parse::<f64>().unwrap() >= 0.0);
    // Overlaps as in the footage (objects shown together) are a figure of their own.
    assert!(figure(&page, "footage-overlap").parse::<f64>().unwrap() >= 0.0);
    let objects = figure(&page, "objects");
    let (shown, selected) = objects.split_once('/').unwrap();
    assert!(shown.parse::<u32>().unwrap() >= 2, "{objects}");
    assert_eq!(shown, selected, "nothing filtered: every object shown");
    assert_eq!(
        figure(&page, "redacted"),
        "0",
        "nothing filtered: nothing hidden"
    );
    figure(&page, "segments");
    assert_eq!(s.count_events(CASE, "synopsis_built"), built + 2);
    assert_eq!(s.count_events(CASE, "exported"), disclosed + 1);
    let href = |id: &str| {
        // The attribute of the tag that carries the id.
        let at = page.find(&format!("id=\"{id}\"")).unwrap();
        let tag = &page[page[..at].rfind('<').unwrap()..];
        let tag = &tag[..tag.find('>').unwrap()];
        let h = tag.find("href=\"").unwrap() + 6;
        tag[h..h + tag[h..].find('"').unwrap()].replace("&amp;", "&")
    };
    let view = c.get(&href("view-synopsis"));
    assert_eq!(view.status, 200, "{}", view.text());
    assert!(view.count("data-test=\"synopsis-object\"") >= 2);
    let file = c.get(&href("download-synopsis"));
    assert_eq!(file.status, 200);
    assert_eq!(file.header("content-type"), Some("video/mp4"));
    assert_eq!(
        s.count_events(CASE, "exported"),
        disclosed + 2,
        "the download too"
    );
    let events = s.case_events(CASE);
    assert!(events
        .iter()
        .filter(|(k, _, _)| k == "synopsis_built")
        .all(|(_, op, _)| op == OPERATOR));

    // The operator's settings (density, longest length, collision budget): a bad value
    // is refused on the form, naming the setting, with what was typed kept; nothing is
    // recorded. Good ones reach the layer, and the figures say what they gave.
    let built = s.count_events(CASE, "synopsis_built");
    for (field, value, says) in [
        ("max_objects", "0", "0 objects at once"),
        ("max_collisions_pct", "150", "a percentage from 0 to 100"),
        ("max_length_s", "soon", "invalid max_length_s"),
        ("max_length_s", "0", "invalid maximum length 0 s"),
        ("together_s", "-2", "invalid shortest time together -2 s"),
        ("object_speed", "9", "invalid object speed 9"),
        ("object_speed", "fast", "invalid object_speed"),
        ("object_speed", "1.5", "give a whole number of times"),
    ] {
        let page = refused(
            &mut c,
            &[("csrf", &token), ("camera", "hall"), (field, value)],
            &[says],
        );
        assert!(
            page.contains(&format!("name=\"{field}\" value=\"{value}\"")),
            "{field}: what was typed is kept"
        );
    }
    assert_eq!(s.count_events(CASE, "synopsis_built"), built);
    let r = c.post(
        &path,
        &[
            ("csrf", &token),
            ("camera", "hall"),
            ("max_objects", "1"),
            ("max_collisions_pct", "10"),
            ("together_s", "0"),
            ("object_speed", "2"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let page = r.text();
    let at_once: u32 = figure(&page, "at_once").parse().unwrap();
    assert_eq!(at_once, 1, "one object at a time");
    assert!(
        page.contains("(limit 1)") || page.contains("(limite 1)"),
        "{page}"
    );
    assert!(page.contains("10.0 %"), "the budget asked for: {page}");
    assert_eq!(
        figure(&page, "footage-overlap"),
        "0",
        "grouping off: {page}"
    );
    assert_eq!(figure(&page, "object-speed"), "2", "{page}");
}
