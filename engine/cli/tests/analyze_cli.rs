//! End to end on synthetic footage with known ground truth (tools/gen-synthetic), with the
//! model-free motion detector so it runs without ONNX Runtime: ingest -> analyze ->
//! search (colour, direction, zone dwell, line crossing) -> clip, and the audit trail.

mod common;

use assert_cmd::prelude::*;
use common::{synthetic, synthetic_analysed, TestCase};
use predicates::prelude::*;
use serde_json::Value;

#[test]
fn analyze_then_search_then_clip() {
    let (env, _source_id) = synthetic_analysed("SYN-1");
    // Per-frame boxes are kept for synopses: one tube per track, one box per detection.
    let tubes_dir = env.derived().join("tubes");
    let tube_file = std::fs::read_dir(&tubes_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let tubes: Value = serde_json::from_slice(&std::fs::read(tube_file).unwrap()).unwrap();
    assert_eq!(tubes["tubes"].as_array().unwrap().len(), 3);
    assert!(tubes["tubes"][0]["boxes"].as_array().unwrap().len() > 20);

    // Resumable: a second run skips the analysed source.
    let v = env.json(&["analyze", "--all", "--detector", "motion"]);
    assert_eq!(v["skipped_already_analysed"].as_array().unwrap().len(), 1);

    let hits = |args: &[&str]| -> Vec<Value> {
        let mut a = vec!["search"];
        a.extend_from_slice(args);
        env.json(&a)["hits"].as_array().unwrap().clone()
    };
    let red = hits(&["--colour", "red"]);
    assert_eq!(red.len(), 1, "{red:?}");
    assert_eq!(red[0]["direction"], "e");
    assert_eq!(hits(&["--colour", "red", "--direction", "north"]).len(), 0);
    assert_eq!(hits(&["--colour", "blue", "--direction", "n"]).len(), 1);
    assert_eq!(
        hits(&["--crosses", "middle:out", "--colour", "red"]).len(),
        1
    );
    assert_eq!(
        hits(&["--crosses", "middle:in", "--colour", "red"]).len(),
        0
    );
    let dwell = hits(&["--zone", "door", "--dwell-min", "4s"]);
    assert_eq!(dwell.len(), 1, "{dwell:?}");
    assert_eq!(dwell[0]["colours"][0]["colour"], "yellow");
    // Wall clock: the red box is there from 14:00:00 to 14:00:10 (+01:00).
    assert_eq!(
        hits(&[
            "--from",
            "2026-11-30T14:00:00+01:00",
            "--to",
            "2026-11-30T14:00:05+01:00"
        ])
        .len(),
        3
    );
    assert_eq!(hits(&["--from", "2026-11-30T15:00:00+01:00"]).len(), 0);

    // A malformed query names the bad part.
    env.cmd()
        .args(["search", "--colour", "teal"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("teal"));

    // Clip export: stream copy around the red track, hashed and logged.
    let red_id = red[0]["track_id"].as_u64().unwrap().to_string();
    let out_clip = env.path("red.mp4");
    let v = env.json(&["clip", "--track", &red_id, "-o", out_clip.to_str().unwrap()]);
    assert!(out_clip.exists());
    let sha = v["sha256"].as_str().unwrap().to_string();

    // The audit trail has the collection, the analysis, each search and the disclosure.
    let log = env.json(&["audit", "show"]);
    let text = log.to_string();
    for action in ["collection", "combination", "consultation", "disclosure"] {
        assert!(text.contains(&format!("\"{action}\"")), "no {action} entry");
    }
    assert!(text.contains(&sha), "the export's hash is in the log");
    env.cmd().args(["audit", "verify"]).assert().success();
}

#[test]
fn analyze_goes_on_past_a_bad_source() {
    let env = TestCase::open("SYN-1");
    let (clip, _) = synthetic(env.work.path());
    let trunc = env.path("truncated.mp4");
    let bytes = std::fs::read(&clip).unwrap();
    std::fs::write(&trunc, &bytes[..bytes.len() / 2]).unwrap();
    env.cmd()
        .arg("ingest")
        .arg(&clip)
        .arg(&trunc)
        .output()
        .unwrap();
    // Whatever the truncated copy yields (frames or an error), the good one is analysed.
    let out = env
        .cmd()
        .args(["--json", "analyze", "--all", "--detector", "motion"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let analysed = v["analysed"].as_array().unwrap();
    assert!(!analysed.is_empty(), "{v}");
    assert!(
        analysed.iter().any(|a| a["tracks"].as_u64().unwrap() >= 2),
        "{v}"
    );
}

#[test]
fn a_time_range_not_fully_covered_by_footage_is_said_so() {
    let (env, _) = common::synthetic_analysed("C-cover");
    // The clip runs 14:00:00 to about 14:00:12 (UTC+1).
    let v = env.json(&[
        "search",
        "--from",
        "2026-11-30T13:59:00+01:00",
        "--to",
        "2026-11-30T14:01:00+01:00",
    ]);
    let c = &v["coverage"];
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-30T14:00:00+01:00")
        .unwrap()
        .timestamp_millis();
    let gaps = c["uncovered"].as_array().unwrap();
    assert_eq!(gaps.len(), 2, "{c}");
    assert_eq!(gaps[0][0], start - 60_000);
    assert_eq!(gaps[0][1], start);
    let covered = c["covered_ms"].as_i64().unwrap();
    assert!((11_000..=13_000).contains(&covered), "{c}");
    assert_eq!(gaps[1][1], start + 60_000);
    // Text mode says it on stderr.
    let out = env
        .cmd()
        .args(["search", "--from", "2026-11-30T13:59:00+01:00"])
        .args(["--to", "2026-11-30T14:01:00+01:00"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no result there means no footage"));
    // A range inside the footage is fully covered.
    let v = env.json(&[
        "search",
        "--from",
        "2026-11-30T14:00:02+01:00",
        "--to",
        "2026-11-30T14:00:05+01:00",
    ]);
    assert_eq!(
        v["coverage"]["uncovered"].as_array().unwrap().len(),
        0,
        "{v}"
    );
    assert_eq!(v["coverage"]["covered_ms"], 3000);
}

/// `--detector-input 768x448` (small and distant vehicles, doc/models.md) is honoured and
/// recorded: the source's analysis entry names the 768x448 model, its input and the size
/// asked for, where `auto` on the same 16:9 clip records the shape rule's 512x288. Needs
/// the fetched models and ONNX Runtime (`tools/setup`); skips loudly without them.
#[test]
fn an_analysis_asks_for_768x448_and_the_log_records_it() {
    let cache = vigie_core::paths::cache_dir();
    if !(cache.join("models/nanodet_coco_768x448.onnx").is_file()
        && cache.join("models/nanodet_coco_512x288.onnx").is_file()
        && vigie_app::admin::policy::runtime_library_path().0.is_file())
    {
        vigie_core::test_support::skip("run tools/fetch-onnxruntime and tools/fetch-models first");
        return;
    }
    let env = TestCase::open("SIZES-1");
    for (name, choice) in [("wide-a.mp4", "768x448"), ("wide-b.mp4", "auto")] {
        let clip = env.path(name);
        // Two different 16:9 clips (two sources), 1 s each.
        let src = if choice == "auto" {
            "testsrc2=size=1280x720:rate=10:duration=1"
        } else {
            "testsrc=size=1280x720:rate=10:duration=1"
        };
        common::ffmpeg(&["-f", "lavfi", "-i", src, "-pix_fmt", "yuv420p"], &clip);
        env.cmd().arg("ingest").arg(&clip).assert().success();
        // `--all` analyses the source just ingested (the other one is already analysed).
        let v = env.json(&[
            "analyze",
            "--all",
            "--no-plates",
            "--detector-precision",
            "float",
            "--detector-input",
            choice,
        ]);
        assert_eq!(v["analysed"].as_array().unwrap().len(), 1, "{v}");
    }
    let log = env.json(&["audit", "show"]).to_string();
    let models: Vec<&str> = ["nanodet-coco-768x448\"", "nanodet-coco-512x288\""]
        .into_iter()
        .filter(|m| log.contains(&format!("\"id\":\"{m}")))
        .collect();
    assert_eq!(models.len(), 2, "both models recorded: {log}");
    assert!(log.contains("\"input\":[768,448]"), "{log}");
    assert!(log.contains("\"detector_input\":\"768x448\""), "{log}");
    assert!(log.contains("\"detector_input\":\"auto\""), "{log}");
    // A size that does not exist is refused before anything is analysed.
    env.cmd()
        .args(["analyze", "--all", "--detector-input", "1024x576"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("768x448"));
}
