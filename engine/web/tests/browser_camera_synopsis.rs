//! A camera's synopsis made in a real browser (Debian's Chromium through chromedriver):
//! two files of one camera recorded an hour apart, analysed with the model-free motion
//! detector; the operator opens the camera synopsis page from the search page, chooses
//! the camera and a range on the corrected clock that takes the end of the first file and
//! the start of the second, builds it, sees the figures (the footage condensed: 4 s of
//! each file), the two files in clock order, and watches the synopsis. The case's log
//! then holds one combination per file, by the operator.
//!
//! Skips visibly (fails under CI) when Chromium, chromedriver or the ffmpeg CLI is
//! missing.

mod common;
#[path = "browser/driver.rs"]
#[allow(dead_code)]
mod driver;

use std::time::Duration;

use common::*;
use driver::{run_flow, Browser, ChromeDriver, Programs};

/// How long building the synopsis may take.
const SYNOPSIS_WAIT: Duration = Duration::from_secs(120);

#[test]
fn a_camera_synopsis_of_two_files_in_a_real_browser() {
    let Some(programs) = Programs::find() else {
        return;
    };
    let s = Server::start();
    if camera_clip(s.root.path(), "hall-a.mp4", "0xd01818", 200).is_none()
        || camera_clip(s.root.path(), "hall-b.mp4", "0x1830c8", 120).is_none()
    {
        return;
    }
    // The footage collected and analysed through the ingest page (what the main browser
    // test does click by click).
    let mut c = s.signed_in(OPERATOR);
    let a = ingest_through_the_page(&mut c, "hall-a.mp4", "hall", "2026-11-30T14:00:00+01:00");
    let b = ingest_through_the_page(&mut c, "hall-b.mp4", "hall", "2026-11-30T15:00:00+01:00");
    let built = s.count_events(CASE, "synopsis_built");

    let driver = ChromeDriver::start(&programs);
    let downloads = tempfile::tempdir().unwrap();
    let base = format!("http://127.0.0.1:{}", s.addr.port());
    run_flow(&programs, &driver, &base, downloads.path(), |br| {
        flow(br, a, b)
    });
    let events = s.case_events(CASE);
    let synopses: Vec<_> = events
        .iter()
        .filter(|(k, _, _)| k == "synopsis_built")
        .collect();
    assert_eq!(synopses.len(), built + 2, "one combination per file");
    assert!(
        synopses.iter().all(|(_, op, _)| op == OPERATOR),
        "{events:?}"
    );
}

async fn flow(b: Browser, first: String, second: String) {
    b.goto("/login").await;
    b.fill("#login-id", OPERATOR).await;
    b.fill("#login-password", PASSWORD).await;
    b.click("#login-submit").await;
    b.wait_path("/cases").await;

    b.goto(&format!("/c/{CASE}/search")).await;
    b.click("#camera-synopsis-link").await;
    b.wait_path(&format!("/c/{CASE}/camera-synopsis")).await;
    b.select("#cs-camera", "hall").await;
    // 14:00:02 .. 15:00:04 on the corrected clock: 2-6 s of the first, 0-4 s of the second.
    b.fill("#cs-from", "2026-11-30T14:00:02+01:00").await;
    b.fill("#cs-to", "2026-11-30T15:00:04+01:00").await;
    b.click("#cs-submit").await;
    b.expect_for("#synopsis-figures", SYNOPSIS_WAIT).await;

    assert_eq!(
        b.attr("#camera-synopsis-result", "data-sources")
            .await
            .as_deref(),
        Some("2")
    );
    assert_eq!(b.count("[data-test=synopsis-source]").await, 2);
    let order = b
        .js(
            "return [...document.querySelectorAll('[data-test=synopsis-source]')]\
             .map(e => e.dataset.source);",
            vec![],
        )
        .await;
    assert_eq!(order, serde_json::json!([first, second]), "clock order");
    let figure = |name: &'static str| {
        let b = b.clone();
        async move {
            b.attr(&format!("[data-figure={name}]"), "data-value")
                .await
                .unwrap_or_else(|| panic!("no figure {name}"))
        }
    };
    assert_eq!(figure("footage").await, "8000", "4 s of each file");
    let condensation: f64 = figure("condensation").await.parse().unwrap();
    assert!(condensation > 1.0, "{condensation}");
    let objects = figure("objects").await;
    let (shown, selected) = objects.split_once('/').unwrap();
    assert!(
        shown.parse::<u32>().unwrap() >= 2,
        "one object of each file: {objects}"
    );
    assert_eq!(shown, selected);
    figure("collisions").await;
    figure("footage-overlap").await;
    figure("segments").await;
    assert_eq!(figure("redacted").await, "0");
    let text = b.text("#synopsis-figures").await;
    assert!(text.contains("Condensation"), "{text}");

    // Watch it: the synopsis page with its objects, from both files.
    b.click("#view-synopsis").await;
    b.wait_path(&format!("/c/{CASE}/synopsis/synopsis-camera-hall-"))
        .await;
    b.expect_for("#synopsis-objects", SYNOPSIS_WAIT).await;
    let sources = b
        .js(
            "return [...new Set([...document.querySelectorAll('[data-test=synopsis-object]')]\
             .map(e => new URL(e.href).searchParams.get('src')))].sort();",
            vec![],
        )
        .await;
    let mut both = vec![first, second];
    both.sort();
    assert_eq!(sources, serde_json::json!(both));
}
