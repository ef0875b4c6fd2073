//! Cameras and recorder clocks: a correction moves every result in time, is logged with
//! its reason and reported; daylight saving inside a recording is said, never guessed;
//! results of several cameras are ordered on the corrected clocks.

mod common;

use std::path::PathBuf;

use assert_cmd::prelude::*;
use common::{ffmpeg, TestCase};
use serde_json::Value;

/// A moving red square on grey, `secs` long (the motion detector finds one track).
fn clip(env: &TestCase, name: &str, secs: u32) -> PathBuf {
    let p = env.path(name);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    let graph = format!(
        "color=c=gray:s=160x120:d={secs}:r=25[bg];color=c=red:s=24x24:d={secs}:r=25[fg];[bg][fg]overlay=x='t*20':y=40"
    );
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &graph,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ],
        &p,
    );
    p
}

fn ingest(env: &TestCase, path: &std::path::Path, start: &str, camera: Option<&str>) -> String {
    let mut args = vec!["ingest", "--start", start];
    if let Some(c) = camera {
        args.extend(["--camera", c]);
    }
    let p = path.to_str().unwrap();
    args.push(p);
    let v = env.json(&args);
    v["ingested"][0]["source"]["source_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_owned()
}

fn analyse(env: &TestCase) {
    let v = env.json(&["analyze", "--all", "--detector", "motion"]);
    assert!(v["failed"].as_array().unwrap().is_empty(), "{v}");
}

fn hits(env: &TestCase, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["search"];
    args.extend(extra);
    env.json(&args)["hits"].as_array().unwrap().clone()
}

fn log(env: &TestCase) -> String {
    let out = env
        .cmd()
        .args(["--json", "audit", "show"])
        .assert()
        .success()
        .get_output()
        .clone();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_clock_correction_moves_search_times_is_logged_and_reported() {
    let env = TestCase::open("C-clock");
    let cam = clip(&env, "gate.mp4", 4);
    let id = ingest(&env, &cam, "2024-06-01T14:00:00+02:00", Some("gate"));
    analyse(&env);
    let before = hits(&env, &[]);
    assert!(!before.is_empty());
    let first_before = before[0]["first_wall_ms"].as_i64().unwrap();
    assert_eq!(before[0]["camera"], "gate");
    assert!(before[0].get("recorded_first_wall").is_none());

    // No reason, no correction.
    let out = env
        .cmd()
        .args(["clock", "set", &id, "--offset", "+1m30s"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--reason"));

    let v = env.json(&[
        "clock",
        "set",
        &id,
        "--offset",
        "+1m30s",
        "--tz",
        "Europe/Paris",
        "--reason",
        "recorder clock checked against the speaking clock on 2024-06-03",
    ]);
    assert_eq!(
        v["clock"]["sources"][0]["corrected_start_wall_ms"].as_i64(),
        v["clock"]["sources"][0]["recorded_start_wall_ms"]
            .as_i64()
            .map(|r| r + 90_000),
        "{v}"
    );
    // Every result moves, in the index, at once; both times are shown.
    let after = env.json(&["search"]);
    let h = &after["hits"][0];
    assert_eq!(h["first_wall_ms"].as_i64(), Some(first_before + 90_000));
    assert!(h["first_wall"].as_str().unwrap().ends_with("+02:00"), "{h}");
    assert!(h["recorded_first_wall"].as_str().is_some(), "{h}");
    let clocks = after["clocks"].to_string();
    assert!(clocks.contains("offset +1m30s"), "{clocks}");
    // A time range finds the track on the corrected clock only.
    assert_eq!(
        hits(
            &env,
            &[
                "--from",
                "2024-06-01T14:01:30+02:00",
                "--to",
                "2024-06-01T14:01:40+02:00"
            ]
        )
        .len(),
        before.len()
    );
    assert!(hits(
        &env,
        &[
            "--from",
            "2024-06-01T14:00:00+02:00",
            "--to",
            "2024-06-01T14:00:10+02:00"
        ]
    )
    .is_empty());
    // Table output names the correction.
    let out = env.cmd().args(["search"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("offset +1m30s"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("(recorder "));

    // Logged as an alteration with the reason; the history is kept.
    env.json(&[
        "clock",
        "set",
        &id,
        "--at",
        "1.0",
        "--true",
        "14:05:00",
        "--tz",
        "Europe/Paris",
        "--reason",
        "burned-in clock read",
    ]);
    let show = env.json(&["clock", "show", &id]);
    let s = &show["sources"][0];
    assert_eq!(s["history"].as_array().unwrap().len(), 2, "{show}");
    assert!(s["in_force"]
        .as_str()
        .unwrap()
        .contains("frame at 1.000 s was 14:05:00"));
    assert_eq!(s["start"], "2024-06-01 14:04:59+02:00", "{show}");
    let audit = log(&env);
    assert!(audit.contains("clock_corrected"), "{audit}");
    assert!(audit.contains("speaking clock"), "{audit}");
    assert_eq!(
        hits(&env, &[])[0]["first_wall_ms"].as_i64(),
        Some(first_before + 299_000)
    );

    // The report says which clock the times are on.
    let r = env.json(&["case", "report"]);
    let report = std::fs::read_to_string(r["json"].as_str().unwrap()).unwrap();
    assert!(report.contains("frame at 1.000 s was 14:05:00"), "{report}");
    let html = std::fs::read_to_string(r["html"].as_str().unwrap()).unwrap();
    assert!(
        html.contains("burned-in clock read"),
        "clock section missing"
    );

    // Withdrawn: back to the recorder's clock.
    env.json(&["clock", "set", &id, "--revert", "--reason", "wrong anchor"]);
    assert_eq!(
        hits(&env, &[])[0]["first_wall_ms"].as_i64(),
        Some(first_before)
    );
}

#[test]
fn daylight_saving_inside_a_recording_is_reported_and_ambiguous_times_refused() {
    let env = TestCase::open("C-dst");
    let cam = clip(&env, "night.mp4", 6);
    // 27 Oct 2024, Paris: 03:00 CEST became 02:00 CET three seconds into the recording.
    let id = ingest(&env, &cam, "2024-10-27T02:59:57+02:00", Some("car-park"));
    analyse(&env);
    let v = env.json(&[
        "clock",
        "set",
        &id,
        "--offset",
        "+0s",
        "--tz",
        "Europe/Paris",
        "--reason",
        "place's zone",
    ]);
    let text = v.to_string();
    assert!(text.contains("clocks went back 1h"), "{text}");
    let show = env.json(&["clock", "show", &id]);
    assert!(show.to_string().contains("appear twice"), "{show}");
    assert_eq!(show["sources"][0]["start"], "2024-10-27 02:59:57+02:00");
    // Hits after the change are shown with the winter offset.
    for h in hits(&env, &[]) {
        let utc = h["first_wall_ms"].as_i64().unwrap();
        let shown = h["first_wall"].as_str().unwrap();
        let change = chrono::DateTime::parse_from_rfc3339("2024-10-27T01:00:00Z")
            .unwrap()
            .timestamp_millis();
        let want = if utc < change { "+02:00" } else { "+01:00" };
        assert!(shown.ends_with(want), "{shown} at {utc}");
    }
    // 02:00:02 local happened twice that night: refused with the way out.
    let out = env
        .cmd()
        .args([
            "clock",
            "set",
            &id,
            "--at",
            "5",
            "--true",
            "2024-10-27 02:00:02",
            "--tz",
            "Europe/Paris",
            "--reason",
            "r",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("happened twice") && err.contains("2024-10-27T02:00:02+01:00"),
        "{err}"
    );
    env.json(&[
        "clock",
        "set",
        &id,
        "--at",
        "5",
        "--true",
        "2024-10-27T02:00:02+01:00",
        "--tz",
        "Europe/Paris",
        "--reason",
        "r",
    ]);
    let show = env.json(&["clock", "show", &id]);
    assert_eq!(show["sources"][0]["start"], "2024-10-27 02:59:57+02:00");
}

#[test]
fn two_cameras_are_ordered_on_their_corrected_clocks() {
    let env = TestCase::open("C-cams");
    let a = clip(&env, "a.mp4", 3);
    let b = clip(&env, "b/b.mp4", 4);
    let ida = ingest(&env, &a, "2024-06-01T14:03:00+02:00", Some("camera 2"));
    let idb = ingest(&env, &b, "2024-06-01T14:03:00+02:00", Some("camera 5"));
    analyse(&env);
    // Camera 5's recorder is known to run 2 minutes late, camera 2's 1 minute early.
    env.json(&[
        "clock",
        "set",
        "--camera",
        "camera 5",
        "--offset",
        "+2m",
        "--reason",
        "checked on site",
    ]);
    env.json(&[
        "clock",
        "set",
        "--camera",
        "camera 2",
        "--offset",
        "-1m",
        "--reason",
        "checked on site",
    ]);
    let order: Vec<(String, i64)> = hits(&env, &[])
        .iter()
        .map(|h| {
            (
                h["camera"].as_str().unwrap().to_owned(),
                h["first_wall_ms"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0].1 <= w[1].1), "{order:?}");
    assert_eq!(order.first().unwrap().0, "camera 2");
    assert_eq!(order.last().unwrap().0, "camera 5");
    assert!(hits(&env, &["--camera", "camera 5"])
        .iter()
        .all(|h| h["source_id"] == idb.as_str()));
    // A source's own correction wins over its camera's default.
    env.json(&[
        "clock",
        "set",
        &idb,
        "--offset",
        "-10m",
        "--reason",
        "this file was re-exported",
    ]);
    let first = &hits(&env, &[])[0];
    assert_eq!(first["source_id"], idb.as_str());
    // Moving a source to another camera moves its results.
    env.json(&["camera", "set", "entrance", &ida]);
    let moved = hits(&env, &["--camera", "entrance"]);
    assert!(!moved.is_empty() && moved.iter().all(|h| h["source_id"] == ida.as_str()));
    // Its clock is now the recorder's: the camera 2 default no longer applies.
    let show = env.json(&["clock", "show", &ida]);
    assert_eq!(show["sources"][0]["in_force"], Value::Null, "{show}");
    assert!(log(&env).contains("camera_assigned"));
}

#[test]
fn a_camera_is_proposed_from_the_export_folder_and_channel_then_confirmed() {
    let env = TestCase::open("C-propose");
    let dir = env.path("store-A");
    clip(&env, "store-A/ch02_20240601140000.mp4", 2);
    clip(&env, "store-A/overview.mp4", 2);
    let v = env.json(&["ingest", dir.to_str().unwrap()]);
    let mut cams: Vec<(String, bool)> = v["ingested"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["camera"].as_str().unwrap().to_owned(),
                i["camera_confirmed"].as_bool().unwrap(),
            )
        })
        .collect();
    cams.sort();
    assert_eq!(
        cams,
        [
            ("store-A".to_owned(), false),
            ("store-A/ch02".to_owned(), false)
        ]
    );
    let list = env.json(&["camera", "list"]);
    assert!(list.to_string().contains("proposed"), "{list}");
    let id = v["ingested"][0]["source"]["source_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cam = v["ingested"][0]["camera"].as_str().unwrap().to_owned();
    env.json(&["camera", "set", &cam, &id]);
    let list = env.json(&["camera", "list"]);
    let row = list["cameras"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["camera"] == cam.as_str())
        .unwrap()
        .clone();
    assert!(row.to_string().contains("operator"), "{row}");
    // The analysis flag is gone, with the way to do it now.
    let out = env
        .cmd()
        .args(["analyze", "--all", "--camera", "x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("vigie camera set"));
}

#[test]
fn zones_set_on_a_camera_after_analysis_apply_to_its_tracks_without_reanalysis() {
    let env = TestCase::open("C-zones-later");
    let (clip, scene) = common::synthetic(env.work.path());
    let v = env.json(&[
        "ingest",
        "--start",
        "2026-11-30T14:00:00+01:00",
        "--camera",
        "hall",
        clip.to_str().unwrap(),
    ]);
    assert_eq!(v["ingested"][0]["camera"], "hall");
    // Analysed without zones: nothing is in the door yet.
    let a = env.analyse_motion(&[]);
    assert_eq!(a["analysed"][0]["tracks"], 3, "{a}");
    let out = env
        .cmd()
        .args(["--json", "search", "--zone", "door"])
        .output()
        .unwrap();
    let none: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert!(
        none["hits"].as_array().is_none_or(|h| h.is_empty()),
        "{none}"
    );
    // The camera gets its zones and lines: the stored boxes give the same answers as an
    // analysis with the scene file (see analyze_cli.rs).
    let s = env.json(&["camera", "scene", "hall", scene.to_str().unwrap()]);
    assert_eq!(s["tracks"], 3, "{s}");
    assert!(s["tracks_in_zones_or_lines"].as_u64().unwrap() >= 2, "{s}");
    let dwell = hits(&env, &["--zone", "door", "--dwell-min", "4s"]);
    assert_eq!(dwell.len(), 1, "{dwell:?}");
    assert_eq!(dwell[0]["colours"][0]["colour"], "yellow");
    assert_eq!(
        hits(&env, &["--crosses", "middle:out", "--colour", "red"]).len(),
        1
    );
    let audit = log(&env);
    assert!(audit.contains("camera_scene_set") && audit.contains("zones and lines re-applied"));
    // Later analyses of the camera use its scene without --scene.
    let a = env.analyse_motion(&["--force"]);
    assert_eq!(a["analysed"][0]["tracks"], 3, "{a}");
    assert_eq!(
        hits(&env, &["--zone", "door", "--dwell-min", "4s"]).len(),
        1
    );
}
