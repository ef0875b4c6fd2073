//! The camera view and the player's evidence check, over real HTTP: zones and lines drawn
//! on a camera's frame are saved through the page (CSRF enforced, bad drawings refused
//! with the reason), recorded in the case's log and applied at once to the tracks already
//! analysed, so a search by the new zone finds them; a player shows its first frames while
//! the source is re-hashed, and stops with an alert when the source changed on disk.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// A camera name with a slash, as proposed cameras have (`folder/ch02`): it travels
/// percent-encoded in the view's address.
const CAMERA: &str = "hall/entrance";
const CAMERA_URL: &str = "hall%2Fentrance";

/// Ingest and analyse the synthetic clip through the web (motion detector), under camera
/// [`CAMERA`]; the source id.
fn ingest_and_analyse(c: &mut Client) -> String {
    ingest_through_the_page(c, "cam-synthetic.mp4", CAMERA, "2026-11-30T14:00:00+01:00")
}

/// The value of attribute `attr` on the element with `id="id"`.
fn attr(page: &str, id: &str, attr: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {page}"));
    let tag_start = page[..at].rfind('<').unwrap();
    let tag = &page[tag_start..tag_start + page[tag_start..].find('>').unwrap()];
    let key = format!("{attr}=\"");
    let v = tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {attr} in {tag}"))
        + key.len();
    tag[v..v + tag[v..].find('"').unwrap()].replace("&amp;", "&")
}

fn hits(c: &mut Client, query: &str) -> usize {
    let r = c.get(&format!("/c/{CASE}/search?run=1&{query}"));
    assert_eq!(r.status, 200, "{}", r.text());
    attr(&r.text(), "result-count", "data-count")
        .parse()
        .unwrap()
}

const DOOR: &str = r#"{"zones":[{"name":"door","polygon":[[0.25,0.10],[0.40,0.10],[0.40,0.40],[0.25,0.40]]}],"lines":[{"name":"middle","from":[0.5,0.0],"to":[0.5,1.0]}]}"#;

#[test]
fn zones_drawn_on_the_camera_view_apply_to_the_analysed_tracks() {
    let s = Server::start();
    if synthetic(s.root.path()).is_none() {
        return;
    }
    let mut c = s.signed_in(OPERATOR);
    let source = ingest_and_analyse(&mut c);

    // The dashboard links each source to its camera's view.
    let dash = c.get(&format!("/c/{CASE}")).text();
    assert_eq!(attr(&dash, "camera-view-0", "data-camera"), CAMERA);
    let href = attr(&dash, "camera-view-0", "href");
    assert_eq!(href, format!("/c/{CASE}/camera/{CAMERA_URL}?src={source}"));

    // Nothing is in a zone yet.
    assert_eq!(hits(&mut c, &format!("zone=door&camera={CAMERA_URL}")), 0);
    assert_eq!(hits(&mut c, "crosses=middle:out"), 0);

    // The view: a frame of the source (one consultation: the player it opens), the canvas.
    let consultations = s.consultations(CASE);
    let view = c.get(&href);
    assert_eq!(view.status, 200, "{}", view.text());
    assert_eq!(s.consultations(CASE), consultations + 1);
    let page = view.text();
    for id in [
        "zone-canvas",
        "zone-name",
        "zone-close",
        "line-name",
        "mode-zone",
        "mode-line",
        "zone-save",
        "scene-json",
        "verification-status",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "#{id} missing");
    }
    assert!(page.contains("id=\"scene-none\">"), "no scene yet");
    let frame = c.get_json(&format!(
        "{}?at_ms=2000",
        attr(&page, "camera-view", "data-frame-url")
    ));
    assert_eq!(frame.status, 200, "{}", frame.text());
    assert_eq!(frame.header("content-type"), Some("image/jpeg"));
    assert!(matches!(
        frame.header("x-vigie-verification"),
        Some("in_progress" | "verified")
    ));
    let token = view.csrf();
    let pid = page
        .split("name=\"pid\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let save_to = format!("/c/{CASE}/camera/{CAMERA_URL}");
    let scenes = || s.count_events(CASE, "camera_scene_set");

    // Without the session's token: refused, nothing recorded.
    let r = c.post(&save_to, &[("scene", DOOR), ("src", &source)]);
    assert_eq!(r.status, 403, "{}", r.text());
    let r = c.post(
        &save_to,
        &[("csrf", "0".repeat(64).as_str()), ("scene", DOOR)],
    );
    assert_eq!(r.status, 403);
    assert_eq!(scenes(), 0);

    // Bad drawings: refused with the reason, the drawing kept to be mended.
    for (scene, why) in [
        (
            r#"{"zones":[{"name":"door","polygon":[[0.1,0.1],[0.4,0.1]]}]}"#,
            "has 2 points",
        ),
        (
            r#"{"zones":[{"name":"bow","polygon":[[0.1,0.1],[0.4,0.4],[0.4,0.1],[0.1,0.4]]}]}"#,
            "crosses itself",
        ),
        (
            r#"{"zones":[{"name":"off","polygon":[[0.1,0.1],[1.5,0.1],[0.3,0.5]]}]}"#,
            "outside the frame",
        ),
        (
            r#"{"zones":[{"name":"","polygon":[[0.1,0.1],[0.4,0.1],[0.3,0.5]]}]}"#,
            "give it a name",
        ),
        (r#"{"zones":[{"name":"x"}]}"#, "malformed"),
    ] {
        let r = c.post(
            &save_to,
            &[
                ("csrf", &token),
                ("scene", scene),
                ("src", &source),
                ("pid", &pid),
            ],
        );
        assert_eq!(r.status, 400, "{scene}: {}", r.text());
        let t = r.text();
        assert!(t.contains("id=\"zone-error\""), "{t}");
        assert!(t.contains(why), "{why} not in {t}");
        assert!(t.contains("id=\"zone-canvas\""), "the view comes back");
    }
    assert_eq!(scenes(), 0);

    // A good one: recorded, applied to the analysed tracks at once.
    let consultations = s.consultations(CASE);
    let r = c.post(
        &save_to,
        &[
            ("csrf", &token),
            ("scene", DOOR),
            ("src", &source),
            ("pid", &pid),
            ("reason", "zones of the entrance camera"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let t = r.text();
    let tracks: u64 = attr(&t, "zone-saved", "data-tracks").parse().unwrap();
    let inside: u64 = attr(&t, "zone-saved", "data-in-zones").parse().unwrap();
    assert!(tracks >= 3, "{t}");
    assert!(
        inside >= 2,
        "the yellow box stands in the door, the red one crosses: {t}"
    );
    assert_eq!(attr(&t, "zone-saved", "data-sources"), "1");
    assert!(t.contains("data-test=\"scene-item\" data-kind=\"zone\" data-name=\"door\""));
    assert!(t.contains("data-test=\"search-shape\" data-zone=\"door\""));
    // The page's player was reused: no second opening.
    assert_eq!(s.consultations(CASE), consultations);
    assert_eq!(scenes(), 1);
    assert!(s
        .case_events(CASE)
        .iter()
        .any(|(k, op, a)| k == "camera_scene_set" && op == OPERATOR && a == "alteration"));
    assert_eq!(s.count_events(CASE, "derived_data_changed"), 1);

    // Searchable straight away, without re-analysis.
    assert!(hits(&mut c, &format!("zone=door&camera={CAMERA_URL}")) >= 1);
    assert!(hits(&mut c, "crosses=middle:out") >= 1);

    // The view shows what is in force; deleting the zone and saving removes it.
    let again = c.get(&href).text();
    assert!(again.contains("data-kind=\"line\" data-name=\"middle\""));
    let only_line = r#"{"zones":[],"lines":[{"name":"middle","from":[0.5,0.0],"to":[0.5,1.0]}]}"#;
    let r = c.post(
        &save_to,
        &[("csrf", &token), ("scene", only_line), ("src", &source)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(hits(&mut c, &format!("zone=door&camera={CAMERA_URL}")), 0);
    assert!(hits(&mut c, "crosses=middle:out") >= 1);
    assert_eq!(scenes(), 2);

    // A camera without sources has no view.
    assert_eq!(c.get(&format!("/c/{CASE}/camera/nowhere")).status, 404);
    // Another case's operator cannot draw here.
    let mut outsider = s.signed_in(OUTSIDER);
    let token = outsider.csrf();
    let r = outsider.post(&save_to, &[("csrf", &token), ("scene", DOOR)]);
    assert_eq!(r.status, 403);
    assert_eq!(scenes(), 2);
}

/// Poll a player's verification until it leaves `in_progress`.
fn settled(c: &mut Client, status_url: &str) -> serde_json::Value {
    let t0 = Instant::now();
    loop {
        let r = c.request(
            "GET",
            status_url,
            &[("Accept", "application/json"), ("X-Vigie-Poll", "1")],
            b"",
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        if v["verification"]["state"] != "in_progress" {
            return v;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "{v}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_source_changed_on_disk_stops_the_player_with_an_alert() {
    let s = Server::start();
    let Some(clip) = synthetic(s.root.path()) else {
        return;
    };
    let mut c = s.signed_in(OPERATOR);
    let source = ingest_and_analyse(&mut c);
    let play = format!("/c/{CASE}/play?src={source}");

    // Unchanged: the first frame comes at once, then the check passes.
    let p = c.get(&play);
    assert_eq!(p.status, 200, "{}", p.text());
    let t = p.text();
    assert!(t.contains("id=\"player-alert\""));
    let status_url = attr(&t, "verification-status", "data-status-url");
    let frame_url = attr(&t, "player", "data-frame-url");
    assert_eq!(c.get_json(&format!("{frame_url}?at_ms=0")).status, 200);
    let v = settled(&mut c, &status_url);
    assert_eq!(v["verification"]["state"], "verified", "{v}");
    let f = c.get_json(&format!("{frame_url}?at_ms=500"));
    assert_eq!(f.header("x-vigie-verification"), Some("verified"));

    // Changed in place (same size): the player opens, its check fails, it stops.
    let mut bytes = std::fs::read(&clip).unwrap();
    let i = bytes.len() / 3;
    bytes[i] ^= 0xFF;
    std::fs::write(&clip, &bytes).unwrap();
    let alerts_before = vigie_app::view::alerts(&s.app, Some(CASE)).unwrap().len();
    // (The byte is in the middle of the video data: the file still opens.)
    let p = c.get(&play);
    assert_eq!(p.status, 200, "{}", p.text());
    let t = p.text();
    let status_url = attr(&t, "verification-status", "data-status-url");
    let frame_url = attr(&t, "player", "data-frame-url");
    let v = settled(&mut c, &status_url);
    assert_eq!(v["verification"]["state"], "changed", "{v}");
    assert!(v["verification"]["message"]
        .as_str()
        .unwrap()
        .contains("evidence changed since ingest"));
    let f = c.get_json(&format!("{frame_url}?at_ms=0"));
    assert_eq!(f.status, 409, "{}", f.text());
    assert!(f.text().contains("the player stopped"), "{}", f.text());
    // It ended by itself, releasing the case.
    let t0 = Instant::now();
    while settled(&mut c, &status_url)["alive"] != false {
        assert!(t0.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(100));
    }
    let alerts = vigie_app::view::alerts(&s.app, Some(CASE)).unwrap();
    assert_eq!(alerts.len(), alerts_before + 1);
    assert_eq!(alerts.last().unwrap().params["kind"], "evidence_changed");
    assert!(s.case_events(CASE).iter().any(|(k, _, _)| k == "alert"));

    // A different size is refused before any frame.
    bytes.push(0);
    std::fs::write(&clip, &bytes).unwrap();
    let p = c.get(&play);
    assert_ne!(p.status, 200);
    assert!(p.text().contains("evidence changed"), "{}", p.text());
    assert_eq!(
        vigie_app::view::alerts(&s.app, Some(CASE)).unwrap().len(),
        alerts_before + 2
    );
}

#[test]
fn the_cached_account_book_sees_a_disabling_at_the_next_request() {
    let s = Server::start();
    let mut c = s.signed_in(OPERATOR);
    // Warm: these requests reuse the book replayed from the verified machine log.
    for _ in 0..5 {
        assert_eq!(c.get("/cases").status, 200);
    }
    // Disabled by another process's view of the installation (a fresh `Accounts`).
    s.accounts()
        .disable(&vigie_app::Operator::new(ADMIN).unwrap(), OPERATOR)
        .unwrap();
    let r = c.get("/cases");
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login?expired=1"));
    // A grant is seen at once too.
    let mut admin = s.signed_in(ADMIN);
    assert_eq!(admin.get("/cases").status, 200);
    let mut outsider = s.signed_in(OUTSIDER);
    assert_eq!(outsider.get(&format!("/c/{CASE}")).status, 403);
    s.accounts()
        .grant(&vigie_app::Operator::new(ADMIN).unwrap(), OUTSIDER, CASE)
        .unwrap();
    assert_eq!(outsider.get(&format!("/c/{CASE}")).status, 200);
}
