//! `vigie synopsis` end to end on synthetic footage with known ground truth
//! (tools/gen-synthetic, motion detector): every selected track is in the JSON index with
//! its original timestamps (one entry per segment: long tracks are cut, the yellow box's
//! stop is a stationary stretch), a filtered synopsis holds only the matching track and
//! hides the others (the standing yellow box filled opaque in the background), the video
//! decodes with the expected frame count, and the audit trail has the combination and the
//! disclosure with the file's SHA-256.

mod common;

use std::path::Path;

use assert_cmd::prelude::*;
use common::synthetic_analysed;
use serde_json::Value;

fn decoded_frames(path: &Path) -> u64 {
    vigie_decode::init();
    let cfg = vigie_decode::DecodeConfig {
        convert_rgb: false,
        ..Default::default()
    };
    let mut d = vigie_decode::Decoder::open(path, &cfg).unwrap();
    d.run_to_end().unwrap();
    d.finish().frames_emitted
}

#[test]
fn synopsis_shows_every_track_with_its_original_times() {
    let (env, source_id) = synthetic_analysed("SYN-7");
    let out = env.path("all.mp4");
    let v = env.json(&[
        "synopsis",
        "--source",
        &source_id,
        "-o",
        out.to_str().unwrap(),
    ]);
    let f = &v["figures"];
    assert_eq!(f["objects_selected"], 3, "{f}");
    assert_eq!(f["objects_shown"], 3, "{f}");
    assert!(f["collision_rate"].as_f64().unwrap() <= 0.05, "{f}");
    // Long tracks are cut into segments of at least 3 s shown at the same time: the
    // synopsis is far shorter than the longest track (about 9 s) and the 12 s clip.
    let syn_ms = f["synopsis_duration_ms"].as_i64().unwrap();
    assert!((3_000..8_000).contains(&syn_ms), "{f}");
    assert!(f["segments_cut"].as_u64().unwrap() >= 2, "{f}");
    // The yellow box stands about 5 s: one stationary stretch, shown in the background.
    assert_eq!(f["stationary_stretches"], 1, "{f}");

    // The JSON index next to the video: every track of the search, same original times,
    // its segments and stationary stretch covering the whole track.
    let index: Value =
        serde_json::from_slice(&std::fs::read(env.path("all.json")).unwrap()).unwrap();
    let tubes = index["tubes"].as_array().unwrap();
    let hits = env.json(&["search"])["hits"].as_array().unwrap().clone();
    for t in tubes {
        assert!(
            hits.iter().any(|h| h["track_id"] == t["track_id"]),
            "{t} is not a track of the search"
        );
        // Shown for as long as its segment lasted in the source (within a frame).
        let shown =
            t["synopsis_end_ms"].as_i64().unwrap() - t["synopsis_start_ms"].as_i64().unwrap();
        let orig = t["to_pts_ms"].as_i64().unwrap() - t["from_pts_ms"].as_i64().unwrap();
        assert!((shown - orig).abs() <= 200, "{shown} vs {orig}");
        assert!(t["synopsis_end_ms"].as_i64().unwrap() <= syn_ms + 100);
        // Wall clock of the segment: 14:00:00+01:00 plus its own pts.
        let from = chrono::DateTime::parse_from_rfc3339(t["from_wall"].as_str().unwrap())
            .unwrap()
            .timestamp_millis();
        let origin = chrono::DateTime::parse_from_rfc3339("2026-11-30T14:00:00+01:00")
            .unwrap()
            .timestamp_millis();
        assert_eq!(from - origin, t["from_pts_ms"].as_i64().unwrap());
    }
    for h in &hits {
        let segs: Vec<&Value> = tubes
            .iter()
            .filter(|t| t["track_id"] == h["track_id"])
            .collect();
        let mut spans: Vec<(i64, i64)> = segs
            .iter()
            .map(|t| {
                (
                    t["from_pts_ms"].as_i64().unwrap(),
                    t["to_pts_ms"].as_i64().unwrap(),
                )
            })
            .chain(
                segs[0]["stationary"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| (s["from_ms"].as_i64().unwrap(), s["to_ms"].as_i64().unwrap())),
            )
            .collect();
        spans.sort();
        assert_eq!(spans[0].0, h["first_pts_ms"].as_i64().unwrap(), "{segs:?}");
        assert_eq!(spans.last().unwrap().1, h["last_pts_ms"].as_i64().unwrap());
        for w in spans.windows(2) {
            assert!(
                w[1].0 - w[0].1 <= 100,
                "a hole in track {}: {spans:?}",
                h["track_id"]
            );
        }
        for (k, t) in segs.iter().enumerate() {
            assert_eq!(t["segment"].as_u64().unwrap(), k as u64 + 1);
            assert_eq!(t["segments"].as_u64().unwrap(), segs.len() as u64);
        }
    }
    for h in &hits {
        let t = tubes
            .iter()
            .find(|t| t["track_id"] == h["track_id"])
            .unwrap_or_else(|| panic!("track {} missing from the index", h["track_id"]));
        assert_eq!(t["first_pts_ms"], h["first_pts_ms"]);
        assert_eq!(t["last_pts_ms"], h["last_pts_ms"]);
        assert_eq!(t["source_id"], h["source_id"]);
        // Wall clock: 14:00:00+01:00 plus the pts.
        let wall = chrono::DateTime::parse_from_rfc3339(t["first_wall"].as_str().unwrap())
            .unwrap()
            .timestamp_millis();
        let origin = chrono::DateTime::parse_from_rfc3339("2026-11-30T14:00:00+01:00")
            .unwrap()
            .timestamp_millis();
        assert_eq!(wall - origin, h["first_pts_ms"].as_i64().unwrap());
    }
    // The video decodes, with as many frames as reported.
    assert_eq!(decoded_frames(&out), f["frames"].as_u64().unwrap());
    // WebVTT: one cue per segment.
    let vtt = std::fs::read_to_string(env.path("all.vtt")).unwrap();
    assert!(vtt.starts_with("WEBVTT"));
    assert_eq!(vtt.matches(" --> ").count(), tubes.len());

    // Audit: the combination and the disclosure with the video's hash.
    let sha = v["files"][0]["sha256"].as_str().unwrap().to_string();
    let log = env.json(&["audit", "show"]).to_string();
    assert!(log.contains("\"combination\"") && log.contains("\"disclosure\""));
    assert!(log.contains(&sha), "the synopsis hash is in the log");
    env.cmd().args(["audit", "verify"]).assert().success();

    // Never overwrites.
    let o = env
        .cmd()
        .args(["synopsis", "--source", &source_id, "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
}

#[test]
fn filtered_synopsis_shows_only_matching_tracks() {
    let (env, source_id) = synthetic_analysed("SYN-7");
    let red = env.json(&["search", "--colour", "red"])["hits"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(red.len(), 1);
    let out = env.path("red.mp4");
    let v = env.json(&[
        "synopsis",
        "--source",
        &source_id,
        "--colour",
        "red",
        "--keep-order",
        "-o",
        out.to_str().unwrap(),
    ]);
    let tubes = v["tubes"].as_array().unwrap();
    assert!(!tubes.is_empty(), "{v}");
    assert!(
        tubes.iter().all(|t| t["track_id"] == red[0]["track_id"]),
        "{v}"
    );
    assert_eq!(v["figures"]["objects_shown"], 1);
    assert_eq!(v["figures"]["collision_rate"], 0.0);
    assert_eq!(
        decoded_frames(&out),
        v["figures"]["frames"].as_u64().unwrap()
    );
    // The yellow box, not selected, stands still about 5 s of the 12: it may be in the
    // background's median, so it is filled opaque there (never blurred), in every frame.
    assert!(
        v["figures"]["objects_redacted"].as_u64().unwrap() >= 1,
        "{v}"
    );
    vigie_decode::init();
    let cfg = vigie_decode::DecodeConfig {
        output_size: vigie_decode::OutputSize::Native,
        ..Default::default()
    };
    let mut d = vigie_decode::Decoder::open(&out, &cfg).unwrap();
    let mut frames = 0;
    while let Some(fr) = d.next_frame().unwrap() {
        // Where it stood (x 200..240, y 60..120): the opaque fill, not the grey scene.
        let i = ((90 * fr.width + 220) * 3) as usize;
        let p = &fr.data[i..i + 3];
        assert!(
            p.iter().all(|&c| (86..=106).contains(&c)),
            "frame {frames}: {p:?}"
        );
        let yellow = fr
            .data
            .chunks_exact(3)
            .filter(|p| p[0] > 180 && p[1] > 150 && p[2] < 90)
            .count();
        assert_eq!(yellow, 0, "frame {frames}: yellow pixels");
        frames += 1;
    }
    assert!(frames > 0);

    // A filter nothing matches is an error, not an empty video.
    let o = env
        .cmd()
        .args([
            "synopsis",
            "--source",
            &source_id,
            "--colour",
            "red",
            "--direction",
            "n",
            "-o",
        ])
        .arg(env.path("none.mp4"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!env.path("none.mp4").exists());
    // Bad settings name the problem.
    let o = env
        .cmd()
        .args(["synopsis", "--source", &source_id, "--length-s", "0", "-o"])
        .arg(env.path("zero.mp4"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("length"));
}

#[test]
fn a_bare_name_lands_in_the_case_and_closure_erases_it() {
    let (env, source_id) = synthetic_analysed("SYN-8");
    let v = env.json(&["synopsis", "--source", &source_id, "-o", "syn.mp4"]);
    let exports = env
        .home
        .path()
        .join("cases")
        .join(&env.case_id)
        .join("exports");
    let video = exports.join("syn.mp4");
    for name in ["syn.mp4", "syn.json", "syn.vtt"] {
        assert!(exports.join(name).is_file(), "{name} in exports/: {v}");
    }
    assert!(!env.path("syn.mp4").exists());
    assert_eq!(v["inside_case"], true, "{v}");
    let hashes: Vec<String> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["sha256"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(hashes.len(), 3, "{v}");

    // The report lists one export naming all three files by hash.
    let r = env.json(&["case", "report"]);
    let report: Value =
        serde_json::from_slice(&std::fs::read(r["json"].as_str().unwrap()).unwrap()).unwrap();
    let row = report["exports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["files"].as_array().is_some_and(|f| f.len() == 3))
        .unwrap_or_else(|| panic!("no export with three files: {report}"));
    let listed: Vec<&str> = row["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["sha256"].as_str().unwrap())
        .collect();
    assert_eq!(listed, hashes, "{row}");

    // Closure erases the export inside the case.
    env.cmd()
        .args(["--reason", "procedure closed", "case", "close"])
        .assert()
        .success();
    assert!(!video.exists());
}
