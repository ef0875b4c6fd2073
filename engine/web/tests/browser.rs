//! The investigator's desk in a real browser (issue 17): Debian's Chromium, headless,
//! driven through chromedriver, on real footage (`vtest.avi`, the default sample that
//! `tools/setup` fetches) analysed with NanoDet.
//!
//! One session goes through what an investigator does: an administrator signs in, opens
//! a case and grants it to an operator; the operator signs in, states a purpose, ingests
//! and analyses the footage (with its progress shown), draws a zone on the camera's view
//! and searches by it, searches with filters, watches the original at a hit (with the
//! object's box) and plays it, exports the clip and a frame for the report and downloads
//! both (the bytes received must have the SHA-256 the page shows), builds and plays a
//! synopsis and clicks an object in it, and writes the exploitation report. Then the
//! case's audit log must hold each of those actions under the operator's id with the
//! stated purpose; signing out and pressing Back must show the sign-in page; and an
//! account without a grant sees no case and is refused at the case's addresses.
//!
//! `VIGIE_SCREENSHOTS=1` also saves the main pages as `doc/images/web-*.png` (for the
//! README; never in CI, which must not rewrite tracked files).
//!
//! Skips visibly (fails under CI) when Chromium, chromedriver, the footage, NanoDet or
//! ONNX Runtime is missing.

mod common;
#[path = "browser/driver.rs"]
mod driver;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use driver::{poll, run_flow, Browser, ChromeDriver, Programs, WAIT};
use vigie_app::accounts::Accounts;
use vigie_app::{App, Operator};
use vigie_web::ServeConfig;

const ADMIN: &str = "admin-browser";
const OPERATOR: &str = "op-browser";
const OUTSIDER: &str = "op-no-grant";
const PASSWORD: &str = "correct horse battery staple";
const CASE: &str = "case-browser-1";
const PURPOSE: &str = "browser test: a pedestrian crossing the square westwards";
/// The footage's file name under the ingest root.
const FOOTAGE: &str = "vtest.avi";
/// When the recording started (vtest.avi carries no wall-clock time).
const RECORDED_AT: &str = "2026-11-30T14:00:00+01:00";
/// NanoDet at 4 frames a second: about 35 s for vtest's 80 s on two cores, and enough
/// to follow pedestrians.
const SAMPLING: &str = "4fps";
/// Pedestrians in grey walking west between 14:00:10 and 14:01:00 (7 of vtest's 33
/// tracks when this was written).
const FILTERS: Filters = Filters {
    class: "person",
    colour: "grey",
    direction: "w",
    from: "2026-11-30T14:00:10+01:00",
    to: "2026-11-30T14:01:00+01:00",
};
/// A zone drawn on the camera's view: the paved middle of the square, where people cross
/// (frame fractions, clockwise from the top-left corner).
const ZONE: &str = "square-centre";
const ZONE_POLYGON: [(f64, f64); 4] = [(0.15, 0.4), (0.7, 0.33), (0.95, 0.55), (0.4, 0.72)];
/// How long ingest and analysis may take.
const ANALYSIS_WAIT: Duration = Duration::from_secs(300);
/// How long building a synopsis may take.
const SYNOPSIS_WAIT: Duration = Duration::from_secs(120);

struct Filters {
    class: &'static str,
    colour: &'static str,
    direction: &'static str,
    from: &'static str,
    to: &'static str,
}

/// What the test needs on this machine, when all of it is there.
struct Needs {
    programs: Programs,
    footage: PathBuf,
}

fn needs() -> Option<Needs> {
    let programs = Programs::find()?;
    let footage = vigie_core::paths::default_footage();
    if !footage.is_file() {
        vigie_core::test_support::skip(&format!("{} absent (run tools/setup)", footage.display()));
        return None;
    }
    let cache = vigie_core::paths::cache_dir();
    // vtest.avi (4:3) is analysed with the landscape model, float or int8 by the CPU.
    for file in [
        "nanodet_coco_416x352.onnx",
        "nanodet_coco_416x352_int8.onnx",
    ] {
        let model = cache.join("models").join(file);
        if !model.is_file() {
            vigie_core::test_support::skip(&format!(
                "{} absent (run tools/fetch-models)",
                model.display()
            ));
            return None;
        }
    }
    // The library vigie will load (the cache's copy, or ORT_DYLIB_PATH).
    let runtime = vigie_app::admin::policy::runtime_library_path().0;
    if !runtime.is_file() {
        vigie_core::test_support::skip(&format!(
            "ONNX Runtime {} absent (run tools/fetch-onnxruntime)",
            runtime.display()
        ));
        return None;
    }
    Some(Needs { programs, footage })
}

/// The server over a temporary installation: three accounts (an administrator, an
/// operator, an account that will get no grant), no case, one ingest root holding the
/// footage.
struct Server {
    _home: tempfile::TempDir,
    _root: tempfile::TempDir,
    app: App,
    url: String,
}

impl Server {
    fn start(footage: &std::path::Path) -> Self {
        let home = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        // A link out of the root would be refused (paths must resolve inside it): the
        // footage is hard-linked, or copied across file systems.
        let inside = root.path().join(FOOTAGE);
        if std::fs::hard_link(footage, &inside).is_err() {
            std::fs::copy(footage, &inside).unwrap();
        }
        let app = App::new(
            vigie_case::DataRoot::new(home.path().to_owned()),
            Arc::new(vigie_audit::SystemClock),
        );
        let accounts = Accounts::open(&app).unwrap();
        accounts.add(None, ADMIN, true, PASSWORD).unwrap();
        let admin = Operator::new(ADMIN).unwrap();
        for id in [OPERATOR, OUTSIDER] {
            accounts.add(Some(&admin), id, false, PASSWORD).unwrap();
        }
        let cfg = ServeConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            roots: vec![root.path().to_owned()],
            ..ServeConfig::default()
        };
        let url = common::serve(app.clone(), cfg, |b| b.url());
        Self {
            _home: home,
            _root: root,
            app,
            url,
        }
    }
}

/// What the flow saw, for the checks on the audit log.
#[derive(Debug, Default)]
struct Seen {
    source_id: String,
    zone_hits: usize,
    hits: usize,
    clip_sha256: String,
    frame_sha256: String,
}

#[test]
fn an_investigation_in_a_real_browser() {
    let Some(needs) = needs() else { return };
    let server = Server::start(&needs.footage);
    let driver = ChromeDriver::start(&needs.programs);
    let downloads = tempfile::tempdir().unwrap();
    let seen = run_flow(
        &needs.programs,
        &driver,
        &server.url,
        downloads.path(),
        flow,
    );
    check_audit(&server.app, &seen);
}

async fn flow(b: Browser) -> Seen {
    let mut seen = Seen::default();
    administrator_opens_the_case(&b).await;
    operator_signs_in(&b).await;
    seen.source_id = ingest_and_analyse(&b).await;
    seen.zone_hits = draw_a_zone(&b).await;
    seen.hits = search(&b).await;
    seen.clip_sha256 = watch_and_export(&b).await;
    seen.frame_sha256 = add_frame_to_report(&b).await;
    synopsis(&b).await;
    report(&b).await;
    logout_then_back(&b).await;
    outsider_is_refused(&b).await;
    seen
}

async fn sign_in(b: &Browser, id: &str) {
    b.goto("/login").await;
    b.fill("#login-id", id).await;
    b.fill("#login-password", PASSWORD).await;
    b.click("#login-submit").await;
    b.wait_path("/cases").await;
    let who = b.text("#nav-user").await;
    assert!(who.contains(id), "signed in as {id}, the page says {who:?}");
}

async fn sign_out(b: &Browser) {
    b.click("#logout").await;
    b.wait_path("/login").await;
    b.find("#login-form").await;
}

/// The administrator opens the case under an authorisation and grants it to the
/// operator.
async fn administrator_opens_the_case(b: &Browser) {
    b.goto("/login").await;
    b.find("#login-form").await;
    b.shot("web-login").await;
    sign_in(b, ADMIN).await;
    b.click("#new-case").await;
    b.wait_path("/cases/new").await;
    let today = chrono::Utc::now().date_naive();
    b.fill("#open-case-id", CASE).await;
    b.fill("#open-procedure", "2026/00917").await;
    b.fill("#open-authorization", "OJ-2026-4411").await;
    b.fill("#open-magistrate", "Mme la juge d'instruction")
        .await;
    b.set_value("#open-authorized-on", &today.to_string()).await;
    b.set_value(
        "#open-valid-until",
        &(today + chrono::Days::new(90)).to_string(),
    )
    .await;
    b.fill("#open-purpose", "theft on the campus square").await;
    b.click("#open-submit").await;
    b.wait_path(&format!("/c/{CASE}")).await;
    b.expect("#case-meta").await;
    // Grant the case to the operator.
    b.select("#grant-account", OPERATOR).await;
    b.click("#grant-submit").await;
    poll("the operator gone from the grant list", WAIT, || async {
        let options = b
            .count(&format!("#grant-account option[value=\"{OPERATOR}\"]"))
            .await;
        (options == 0).then_some(())
    })
    .await;
    sign_out(b).await;
}

/// The operator signs in, finds the case in the list, opens it and states a purpose.
async fn operator_signs_in(b: &Browser) {
    sign_in(b, OPERATOR).await;
    b.find(&format!("[data-test=case-row][data-case=\"{CASE}\"]"))
        .await;
    assert_eq!(b.count("[data-test=case-row]").await, 1);
    b.shot("web-cases").await;
    b.click(&format!("#case-{CASE}")).await;
    b.wait_path(&format!("/c/{CASE}")).await;
    b.expect("#no-sources").await;
    b.fill("#purpose", PURPOSE).await;
    b.click("#purpose-submit").await;
    b.wait_path(&format!("/c/{CASE}")).await;
    poll("the purpose kept", WAIT, || async {
        let v = b.attr("#purpose", "value").await?;
        (v == PURPOSE).then_some(())
    })
    .await;
}

/// Pick the footage under the root, ingest and analyse it with NanoDet; the source id.
async fn ingest_and_analyse(b: &Browser) -> String {
    b.click("#tab-ingest").await;
    b.wait_path(&format!("/c/{CASE}/ingest")).await;
    b.click("#root-0").await;
    b.wait_path(&format!("/c/{CASE}/ingest?root=0")).await;
    b.click(&format!("[data-test=pick][data-name=\"{FOOTAGE}\"]"))
        .await;
    b.fill("#ingest-camera", "campus-square").await;
    b.fill("#ingest-start", RECORDED_AT).await;
    b.select("#ingest-form [data-test=detector]", "nanodet")
        .await;
    b.fill("#ingest-form [data-test=sampling]", SAMPLING).await;
    b.click("#ingest-submit").await;
    b.wait_path(&format!("/c/{CASE}/ingest")).await;
    b.expect("#job").await;
    // Progress while it analyses (the screenshot shows it), then done.
    let analysing = "#job-phase[data-phase=analyse]";
    let progress = "[data-test=job-file]";
    let phase = poll("the analysis to start", ANALYSIS_WAIT, || async {
        let phase = b.attr("#job-phase", "data-phase").await?;
        let shown = b.count(analysing).await == 1 && b.count(progress).await >= 2;
        (shown || !matches!(phase.as_str(), "ingest" | "analyse")).then_some(phase)
    })
    .await;
    if phase == "analyse" {
        b.shot("web-ingest").await;
    }
    let phase = b
        .wait_attr_for("#job-phase", "data-phase", ANALYSIS_WAIT, |p| {
            !matches!(p, "ingest" | "analyse")
        })
        .await;
    assert_eq!(
        phase,
        "done",
        "the job ended {phase}: {}",
        b.text("#job").await
    );
    assert_eq!(b.count("[data-test=job-failure]").await, 0);
    let summary = b.text("#job-summary").await;
    assert!(
        summary.contains("ingested 1") && summary.contains("analysed 1"),
        "{summary}"
    );
    // The dashboard lists the source, analysed.
    b.click("#tab-dashboard").await;
    b.wait_path(&format!("/c/{CASE}")).await;
    let source = b
        .wait_attr("[data-test=source-row]", "data-source", |s| !s.is_empty())
        .await;
    let row = b.text("[data-test=source-row]").await;
    assert!(row.contains("campus-square"), "{row}");
    assert!(row.contains("768×576"), "{row}");
    b.find("#coverage-timeline").await;
    b.shot("web-dashboard").await;
    source
}

/// Draw a zone on the camera's view (a frame of its footage), save it, and search by it
/// from the link the saved notice offers. The number of hits back.
async fn draw_a_zone(b: &Browser) -> usize {
    b.click("[data-test=camera-view]").await;
    b.wait_path(&format!("/c/{CASE}/camera/")).await;
    b.expect("#zone-canvas").await;
    wait_canvas(b).await;
    b.fill("#zone-name", ZONE).await;
    for (x, y) in ZONE_POLYGON {
        b.click_at("#zone-canvas", x, y).await;
    }
    b.wait_attr("#zone-canvas", "data-pending", |n| n == "4")
        .await;
    b.click("#zone-close").await;
    b.wait_attr("#zone-canvas", "data-zones", |n| n == "1")
        .await;
    let item = format!("[data-test=scene-item][data-kind=zone][data-name=\"{ZONE}\"]");
    b.find(&item).await;
    b.click("#zone-save").await;
    b.expect("#zone-saved").await;
    wait_canvas(b).await;
    b.wait_attr("#zone-canvas", "data-zones", |n| n == "1")
        .await;
    b.find(&item).await;
    let inside: u64 = b
        .attr("#zone-saved", "data-in-zones")
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        inside >= 1,
        "no track in the zone: {}",
        b.text("#zone-saved").await
    );
    b.shot("web-camera").await;
    // The zone is a filter now.
    b.click(&format!("[data-test=search-shape][data-zone=\"{ZONE}\"]"))
        .await;
    b.wait_path(&format!("/c/{CASE}/search?run=1")).await;
    b.expect("#result-count").await;
    assert_eq!(b.attr("#f-zone", "value").await.as_deref(), Some(ZONE));
    let n: usize = b
        .attr("#result-count", "data-count")
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= 1, "no hit in zone {ZONE}: {}", b.text("main").await);
    assert_eq!(b.count("[data-test=hit]").await, n);
    n
}

/// The camera view's frame shown and the drawing canvas laid over it.
async fn wait_canvas(b: &Browser) {
    poll("the camera's frame under the canvas", WAIT, || async {
        let ready = b.image_loaded("#camera-frame").await
            && b.js(
                "return document.getElementById('zone-canvas').width;",
                vec![],
            )
            .await
            .as_u64()
            .is_some_and(|w| w > 0);
        ready.then_some(())
    })
    .await;
}

/// Fill the search form with [`FILTERS`] and run it, as a person does.
async fn run_search(b: &Browser) -> usize {
    b.click("#tab-search").await;
    b.wait_path(&format!("/c/{CASE}/search")).await;
    b.fill("#f-class", FILTERS.class).await;
    b.select("#f-colour", FILTERS.colour).await;
    // The compass's radio buttons are drawn by their labels.
    let radio = format!("#f-direction-{}", FILTERS.direction);
    b.click(&format!("{radio} + span")).await;
    assert_eq!(
        b.js(
            "return document.querySelector(arguments[0]).checked;",
            vec![serde_json::json!(radio)]
        )
        .await,
        serde_json::json!(true),
        "{radio} checked by its label"
    );
    b.fill("#f-from", FILTERS.from).await;
    b.fill("#f-to", FILTERS.to).await;
    b.click("#search-submit").await;
    b.wait_path(&format!("/c/{CASE}/search?run=1")).await;
    b.expect("#result-count").await;
    let count: usize = b
        .wait_attr("#result-count", "data-count", |_| true)
        .await
        .parse()
        .unwrap();
    assert_eq!(b.count("[data-test=hit]").await, count);
    count
}

/// The search: hits in a grid of thumbnails, every one a grey pedestrian.
async fn search(b: &Browser) -> usize {
    let n = run_search(b).await;
    assert!(n >= 1, "no hit for the filters: {}", b.text("main").await);
    let path = b.path().await;
    for (k, v) in [
        ("class", FILTERS.class),
        ("colour", FILTERS.colour),
        ("direction", FILTERS.direction),
    ] {
        assert!(path.contains(&format!("{k}={v}")), "{path}");
    }
    let labels: Vec<String> = b
        .js(
            "return Array.from(document.querySelectorAll('[data-test=hit]')).map(h => h.innerText);",
            vec![],
        )
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect();
    for l in &labels {
        assert!(l.starts_with("person #"), "{l}");
        assert!(l.contains("grey"), "{l}");
        assert!(l.contains("campus-square"), "{l}");
    }
    // The thumbnails show (served to the session that ran the search).
    b.scroll_to("#result-count").await;
    poll("the first thumbnail", WAIT, || async {
        b.image_loaded("[data-test=hit] img").await.then_some(())
    })
    .await;
    b.shot("web-search").await;
    n
}

/// Open the player at the first hit: the original's frame at the hit's time, with the
/// object's box; play a little; export the clip. The clip's SHA-256 back.
async fn watch_and_export(b: &Browser) -> String {
    let hit = "[data-test=hit]";
    let href = b.attr(hit, "href").await.unwrap();
    let at_ms: i64 = query_value(&href, "at_ms").parse().unwrap();
    let track = b.attr(hit, "data-track").await.unwrap();
    b.click(hit).await;
    b.wait_path(&format!("/c/{CASE}/play?")).await;
    let pts = frame_shown(b).await;
    assert!(
        (pts - at_ms).abs() <= 150,
        "asked {at_ms} ms, shown {pts} ms"
    );
    assert_eq!(
        b.attr("#player-frame", "data-boxed").await.as_deref(),
        Some("1"),
        "the hit's box is drawn on its first frame"
    );
    let meta = b.text("#player-meta").await;
    assert!(meta.contains(&format!("#{track}")), "{meta}");
    b.find("#rendering-note").await;
    b.shot("web-player").await;
    // Play: the position moves on; pause.
    b.click("#player-play").await;
    b.wait_attr("#player-frame", "data-pts-ms", |p| {
        p.parse::<i64>().is_ok_and(|p| p >= pts + 600)
    })
    .await;
    b.click("#player-play").await;
    b.wait_attr("#player", "data-playing", |p| p == "0").await;
    // Export the clip.
    b.click("#export-clip").await;
    b.wait_path(&format!("/c/{CASE}/clip")).await;
    b.expect("#export-done").await;
    assert!(b.text("#export-name").await.starts_with("clip-"));
    downloaded(b).await
}

/// Back at the player: add the frame shown to the report. The frame's SHA-256 back.
async fn add_frame_to_report(b: &Browser) -> String {
    b.client.back().await.unwrap();
    b.wait_path(&format!("/c/{CASE}/play?")).await;
    frame_shown(b).await;
    b.click("#add-to-report").await;
    b.wait_path(&format!("/c/{CASE}/report-frame")).await;
    b.expect("#export-done").await;
    assert!(b.text("#export-name").await.starts_with("frame-"));
    downloaded(b).await
}

/// A synopsis of the search's results; a click on one of its objects opens the original
/// at that object's time.
async fn synopsis(b: &Browser) {
    run_search(b).await;
    b.click("#synopsis-submit").await;
    b.wait_path(&format!("/c/{CASE}/synopsis")).await;
    b.expect_for("#synopsis-objects", SYNOPSIS_WAIT).await;
    assert!(b
        .path()
        .await
        .starts_with(&format!("/c/{CASE}/synopsis/synopsis-")));
    let objects = b.count("[data-test=synopsis-object]").await;
    assert!(objects >= 1, "{}", b.text("main").await);
    let start = frame_shown(b).await;
    b.shot("web-synopsis").await;
    // It plays.
    b.click("#player-play").await;
    b.wait_attr("#player-frame", "data-pts-ms", |p| {
        p.parse::<i64>().is_ok_and(|p| p >= start + 600)
    })
    .await;
    b.click("#player-play").await;
    b.wait_attr("#player", "data-playing", |p| p == "0").await;
    let object = "[data-test=synopsis-object]";
    let href = b.attr(object, "href").await.unwrap();
    let at_ms: i64 = query_value(&href, "at_ms").parse().unwrap();
    let track = b.attr(object, "data-track").await.unwrap();
    b.click(object).await;
    b.wait_path(&format!("/c/{CASE}/play?")).await;
    assert_eq!(query_value(&b.path().await, "track"), track);
    let pts = frame_shown(b).await;
    assert!(
        (pts - at_ms).abs() <= 150,
        "asked {at_ms} ms, shown {pts} ms"
    );
    assert_eq!(
        b.attr("#player-frame", "data-boxed").await.as_deref(),
        Some("1")
    );
}

/// The audit page, the exploitation report, and the report's link on the audit page.
async fn report(b: &Browser) {
    b.click("#tab-audit").await;
    b.wait_path(&format!("/c/{CASE}/audit")).await;
    b.find("#audit-status.ok").await;
    assert!(
        b.count(&format!(
            "[data-test=audit-entry][data-operator=\"{OPERATOR}\"]"
        ))
        .await
            >= 8
    );
    b.shot("web-audit").await;
    b.click("#write-report").await;
    b.wait_path(&format!("/c/{CASE}/report")).await;
    assert_eq!(
        b.count("#error-message").await,
        0,
        "{}",
        b.text("main").await
    );
    let report = b.wait_path(&format!("/c/{CASE}/reports/report-")).await;
    assert!(report.ends_with(".html"), "{report}");
    let text = b.text("body").await;
    assert!(text.contains(CASE), "the report names its case");
    b.goto(&format!("/c/{CASE}/audit")).await;
    // The report is listed (HTML and JSON); the HTML one opens.
    assert_eq!(b.count("[data-test=report-link]").await, 2);
    let link = b.find("[data-test=report-link][href$=\".html\"]").await;
    assert!(report.ends_with(&link.text().await.unwrap()), "{report}");
    link.click().await.unwrap();
    b.wait_path(&format!("/c/{CASE}/reports/report-")).await;
}

/// Signing out, then Back: the sign-in page, never the case's page again.
async fn logout_then_back(b: &Browser) {
    b.goto(&format!("/c/{CASE}/audit")).await;
    b.find("#audit-entries").await;
    sign_out(b).await;
    b.client.back().await.unwrap();
    b.wait_path("/login").await;
    b.find("#login-form").await;
    assert_eq!(b.count("#audit-entries").await, 0);
    assert_eq!(b.count("#nav-user").await, 0);
}

/// An account without a grant sees no case, and the case's address refuses it.
async fn outsider_is_refused(b: &Browser) {
    sign_in(b, OUTSIDER).await;
    b.find("#no-cases").await;
    assert_eq!(b.count("[data-test=case-row]").await, 0);
    assert!(!b.text("main").await.contains(CASE));
    for path in [
        format!("/c/{CASE}"),
        format!("/c/{CASE}/search?run=1&class=person"),
        format!("/c/{CASE}/audit"),
    ] {
        b.goto(&path).await;
        let msg = b.text("#error-message").await;
        assert!(msg.contains("no right"), "{path}: {msg:?}");
        assert!(!b.text("body").await.contains(PURPOSE));
    }
    // The error page has no header: back to the list to sign out.
    b.click("#error-back").await;
    b.wait_path("/cases").await;
    sign_out(b).await;
}

/// On an export's page: download the file it names, as its link offers, and check that
/// the bytes received are the ones whose SHA-256 the page (and the audit log) gives; that
/// SHA-256 back.
async fn downloaded(b: &Browser) -> String {
    use sha2::{Digest, Sha256};
    let sha = b.text("#export-sha256").await;
    assert!(is_sha256(&sha), "{sha:?}");
    let name = b.text("#export-name").await;
    let bytes = b.download("#download-export", &name).await;
    let got: String = Sha256::digest(&bytes)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect();
    assert_eq!(got, sha, "the file downloaded is the one exported");
    sha
}

/// The frame the player shows, once it shows one: its media time.
async fn frame_shown(b: &Browser) -> i64 {
    b.expect("#player-frame").await;
    let pts = b
        .wait_attr("#player-frame", "data-pts-ms", |p| p.parse::<i64>().is_ok())
        .await;
    poll("the player's picture", WAIT, || async {
        b.image_loaded("#player-frame").await.then_some(())
    })
    .await;
    pts.parse().unwrap()
}

fn query_value(href: &str, name: &str) -> String {
    let query = href.split_once('?').map(|(_, q)| q).unwrap_or("");
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .unwrap_or_else(|| panic!("no {name} in {href}"))
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The case's log holds every action of the session, under the operator's id and with
/// the purpose stated; nothing under the account without a grant.
fn check_audit(app: &App, seen: &Seen) {
    let (entries, bad) = vigie_app::view::audit_entries(app, Some(CASE)).unwrap();
    assert!(
        bad.is_empty(),
        "unreadable lines in the case's log: {bad:?}"
    );
    let by_operator = |event: &str, kind: Option<&str>| {
        entries
            .iter()
            .filter(|e| {
                e.operator == OPERATOR
                    && e.params["event"] == event
                    && kind.is_none_or(|k| e.params["kind"] == k)
            })
            .collect::<Vec<_>>()
    };
    let summary: Vec<String> = entries
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e.seq,
                e.operator,
                e.action.as_str(),
                e.params["event"].as_str().unwrap_or("?")
            )
        })
        .collect();
    // Entries after the operator's first one carry the purpose the operator stated.
    let purpose_from = entries
        .iter()
        .find(|e| e.operator == OPERATOR)
        .expect("entries by the operator")
        .seq;
    let opened = entries
        .iter()
        .find(|e| e.params["event"] == "case_opened")
        .expect("the case's opening");
    assert_eq!(opened.operator, ADMIN);
    for (what, event, kind, action, at_least) in [
        ("ingest", "evidence_ingested", None, "collection", 1),
        ("analysis", "source_analysed", None, "combination", 1),
        ("dashboard", "sources_listed", None, "consultation", 1),
        ("searches", "search", None, "consultation", 3),
        // The hit's player, its reopening, the synopsis and the object clicked in it.
        ("players", "source_decoded", None, "consultation", 4),
        // Each export, and its download.
        ("clip", "exported", Some("clip"), "disclosure", 2),
        (
            "frame for the report",
            "exported",
            Some("frame"),
            "disclosure",
            2,
        ),
        ("zone", "camera_scene_set", None, "alteration", 1),
        ("synopsis", "synopsis_built", None, "combination", 1),
        (
            "synopsis file",
            "exported",
            Some("synopsis"),
            "disclosure",
            1,
        ),
        ("report", "exported", Some("report"), "disclosure", 1),
    ] {
        let found = by_operator(event, kind);
        assert!(
            found.len() >= at_least,
            "{what}: {at_least} {event} {kind:?} entries by {OPERATOR} expected, {} found:\n{}",
            found.len(),
            summary.join("\n")
        );
        for e in &found {
            assert_eq!(e.action.as_str(), action, "{what}: {e:?}");
            // The first dashboard view came before the purpose was stated: the case's
            // own purpose is its justification.
            if e.seq > purpose_from {
                assert_eq!(e.justification, PURPOSE, "{what}: seq {}", e.seq);
            }
        }
    }
    let ingested = &by_operator("evidence_ingested", None)[0];
    assert!(
        ingested.params.to_string().contains(&seen.source_id[1..]),
        "the ingest entry names the source's hash"
    );
    let searches = by_operator("search", None);
    assert!(searches
        .iter()
        .any(|e| e.params["count"] == seen.hits as u64));
    assert!(searches.iter().any(|e| {
        e.params["count"] == seen.zone_hits as u64 && e.params["query"]["zone"] == ZONE
    }));
    let exports = by_operator("exported", None);
    for sha in [&seen.clip_sha256, &seen.frame_sha256] {
        assert!(
            exports
                .iter()
                .any(|e| e.params.to_string().contains(sha.as_str())),
            "an export entry holds {sha}"
        );
    }
    assert!(
        entries.iter().all(|e| e.operator != OUTSIDER),
        "the account without a grant left entries"
    );
    // Sign-ins and sign-outs are in the machine log, each under its account.
    let (machine, _) = vigie_app::view::audit_entries(app, None).unwrap();
    for (event, who) in [
        ("operator_logged_in", OPERATOR),
        ("operator_logged_out", OPERATOR),
        ("operator_logged_in", OUTSIDER),
        ("case_access_granted", ADMIN),
    ] {
        assert!(
            machine
                .iter()
                .any(|e| e.params["event"] == event && e.operator == who),
            "machine log: {event} by {who} missing"
        );
    }
}
