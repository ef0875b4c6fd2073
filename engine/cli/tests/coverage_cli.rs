//! `vigie coverage` end to end: two recordings of one camera with a hole between them (one
//! analysed, one not), a recording with a hole in its timestamps, and one with no known
//! start; the table, the JSON, the timeline image (a disclosure), the consultation entry,
//! the note search gives over the hole, and the report's coverage section.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::prelude::*;
use common::TestCase;
use predicates::prelude::*;
use serde_json::Value;

/// 2026-11-30T14:00:00+01:00.
const T0: i64 = 1_796_043_600_000;

/// A clip `dir/name/name.<ext>` (folder and file named alike, so that the camera is the
/// same whether it is taken from the file name or proposed from its folder).
fn clip(env: &TestCase, dir: &str, name: &str, ext: &str, args: &[&str]) -> PathBuf {
    let folder = env.path(dir).join(name);
    std::fs::create_dir_all(&folder).unwrap();
    let out = folder.join(format!("{name}.{ext}"));
    common::ffmpeg(args, &out);
    out
}

fn mp4(env: &TestCase, dir: &str, name: &str, source: &str) -> PathBuf {
    clip(
        env,
        dir,
        name,
        "mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            source,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ],
    )
}

/// Two 2-second MPEG-TS recordings, the second stamped 10 s later, joined byte-wise as a
/// recorder writes across a hole.
fn ts_with_a_gap(env: &TestCase) -> PathBuf {
    let part = |name: &str, offset: &str| {
        let p = env.path(name);
        common::ffmpeg(
            &[
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=160x120:rate=25:duration=2",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-bf",
                "0",
                "-output_ts_offset",
                offset,
                "-f",
                "mpegts",
            ],
            &p,
        );
        std::fs::read(p).unwrap()
    };
    let mut bytes = part("gap-a.ts", "0");
    bytes.extend(part("gap-b.ts", "12"));
    let folder = env.path("c").join("yard");
    std::fs::create_dir_all(&folder).unwrap();
    let out = folder.join("yard.ts");
    std::fs::write(&out, bytes).unwrap();
    out
}

fn ingest(env: &TestCase, start: Option<&str>, file: &Path) -> String {
    let mut args = vec!["ingest"];
    if let Some(s) = start {
        args.extend(["--start", s]);
    }
    args.push(file.to_str().unwrap());
    let v = env.json(&args);
    v["ingested"][0]["source"]["source_id"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("{v}"))
}

/// The camera whose coverage names `source_id`.
fn camera_of<'a>(cov: &'a Value, source_id: &str) -> &'a Value {
    cov["cameras"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["sources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["source_id"] == source_id)
        })
        .unwrap_or_else(|| panic!("no camera has {source_id}: {cov}"))
}

fn near(v: &Value, expected: i64, tolerance: i64) -> bool {
    v.as_i64()
        .is_some_and(|x| (x - expected).abs() <= tolerance)
}

#[test]
fn coverage_says_what_was_recorded_analysed_damaged_or_missing() {
    let env = TestCase::open("C-coverage");
    let first = mp4(&env, "a", "door", "testsrc=d=4:s=160x120:r=10");
    let second = mp4(&env, "b", "door", "testsrc2=d=4:s=160x120:r=10");
    let gap = ts_with_a_gap(&env);
    let lost = mp4(&env, "d", "lost", "color=c=blue:s=96x64:d=2:r=10");
    let id1 = ingest(&env, Some("2026-11-30T14:00:00+01:00"), &first);
    let id2 = ingest(&env, Some("2026-11-30T14:00:10+01:00"), &second);
    let id3 = ingest(&env, Some("2026-11-30T15:00:00+01:00"), &gap);
    let id4 = ingest(&env, None, &lost);
    env.json(&["analyze", &id1, "--detector", "motion"]);
    env.json(&["analyze", &id3, "--detector", "motion", "--sampling", "all"]);

    let cov = env.json(&["coverage"]);
    // One camera holds both recordings of the door, the hole between them missing.
    let door = camera_of(&cov, &id1);
    assert_eq!(door, camera_of(&cov, &id2), "{cov}");
    let iv = door["intervals"].as_array().unwrap();
    assert_eq!(iv.len(), 3, "{door}");
    assert_eq!(iv[0]["state"], "analysed");
    assert_eq!(iv[0]["from_wall_ms"], T0);
    assert!(near(&iv[0]["to_wall_ms"], T0 + 4_000, 200), "{door}");
    assert_eq!(iv[0]["sampling"], "10fps");
    assert_eq!(iv[0]["sources"][0], id1.as_str());
    assert_eq!(iv[1]["state"], "missing");
    assert_eq!(iv[1]["to_wall_ms"], T0 + 10_000);
    assert_eq!(iv[1]["sources"].as_array().unwrap().len(), 0);
    assert_eq!(iv[2]["state"], "recorded");
    assert_eq!(iv[2]["from_wall_ms"], T0 + 10_000);
    assert!(near(&iv[2]["to_wall_ms"], T0 + 14_000, 200), "{door}");
    assert_eq!(iv[2]["sampling"], Value::Null);
    assert_eq!(iv[2]["sources"][0], id2.as_str());
    assert!(near(&door["totals"]["missing_ms"], 6_000, 200), "{door}");
    assert!(near(&door["totals"]["recorded_ms"], 8_000, 400), "{door}");

    // The hole in the yard's timestamps is damaged, between two analysed stretches.
    let yard = camera_of(&cov, &id3);
    let states: Vec<&str> = yard["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["analysed", "damaged", "analysed"], "{yard}");
    let hole = &yard["intervals"][1];
    assert_eq!(hole["damage"], "gap");
    let hole_ms = hole["to_wall_ms"].as_i64().unwrap() - hole["from_wall_ms"].as_i64().unwrap();
    assert!((9_700..=10_300).contains(&hole_ms), "{yard}");
    assert_eq!(yard["intervals"][0]["sampling"], "all");
    assert_eq!(yard["sources"][0]["gaps"], 1);

    // The source with no known start is listed apart, with how to place it.
    let unplaced = cov["unplaced"].as_array().unwrap();
    assert_eq!(unplaced.len(), 1, "{cov}");
    assert_eq!(unplaced[0]["source_id"], id4.as_str());
    assert_eq!(unplaced[0]["reason"], "no_start");
    assert!(unplaced[0]["fix"].as_str().unwrap().contains("--start"));

    // The table says the same for people.
    let out = env
        .cmd()
        .arg("coverage")
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "analysed", "missing", "recorded", "damaged", "totals:", "10fps",
    ] {
        assert!(text.contains(word), "{word} not in:\n{text}");
    }
    assert!(text.contains("2026-11-30 13:00:00Z"), "UTC times:\n{text}");
    assert!(
        text.contains(&id4) && text.contains("not placed in time"),
        "{text}"
    );

    // A range: time before and after the recordings in it is missing.
    let camera = door["camera"].as_str().unwrap();
    let ranged = env.json(&[
        "coverage",
        "--camera",
        camera,
        "--from",
        "2026-11-30T13:59:50+01:00",
        "--to",
        "2026-11-30T14:00:20+01:00",
    ]);
    let cams = ranged["cameras"].as_array().unwrap();
    assert_eq!(cams.len(), 1, "{ranged}");
    let iv = cams[0]["intervals"].as_array().unwrap();
    assert_eq!(iv[0]["state"], "missing");
    assert_eq!(iv[0]["from_wall_ms"], T0 - 10_000);
    assert_eq!(iv[0]["to_wall_ms"], T0);
    assert_eq!(iv.last().unwrap()["state"], "missing");
    assert_eq!(iv.last().unwrap()["to_wall_ms"], T0 + 20_000);
    assert_eq!(ranged["unplaced"].as_array().unwrap().len(), 0);

    // A camera that is not in the case is an error naming the flag, never an empty answer.
    let out = env
        .cmd()
        .args(["coverage", "--camera", "no-such-camera"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--camera") && err.contains(camera), "{err}");

    // Search over the door's hole and unanalysed recording says it is not covered.
    let found = env.json(&[
        "search",
        "--from",
        "2026-11-30T14:00:00+01:00",
        "--to",
        "2026-11-30T14:00:14+01:00",
    ]);
    let uncovered = found["coverage"]["uncovered"].as_array().unwrap();
    assert_eq!(uncovered.len(), 1, "{found}");
    assert!(near(&uncovered[0][0], T0 + 4_000, 200), "{found}");
    assert_eq!(uncovered[0][1], T0 + 14_000);

    // The timeline image: in the case's exports, self-contained, logged with its hash.
    let img = env.json(&["coverage", "--image", "coverage.svg"]);
    let path = PathBuf::from(img["image"]["path"].as_str().unwrap());
    assert_eq!(
        path,
        env.home
            .path()
            .join("cases/C-coverage/exports/coverage.svg")
            .canonicalize()
            .unwrap_or(path.clone())
    );
    assert_eq!(img["image"]["inside_case"], true);
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(!svg.contains("<script") && !svg.contains("href"));
    assert!(svg.contains("<rect class=\"missing\"") && svg.contains("<rect class=\"damaged\""));
    assert!(svg.contains(camera));
    let sha = img["image"]["sha256"].as_str().unwrap();
    let disclosures = env
        .json(&["audit", "show", "--action", "disclosure"])
        .to_string();
    assert!(disclosures.contains("coverage_timeline"), "{disclosures}");
    assert!(disclosures.contains(sha), "{disclosures}");
    // The image is never overwritten.
    env.cmd()
        .args(["coverage", "--image", "coverage.svg"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));

    // Each reading is a consultation.
    let consultations = env.json(&["audit", "show", "--action", "consultation"]);
    let reads: Vec<&Value> = consultations
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["params"]["event"] == "coverage_read")
        .collect();
    assert_eq!(reads.len(), 4, "{consultations}");
    assert!(reads
        .iter()
        .any(|e| e["params"]["from_wall_ms"] == T0 - 10_000 && e["params"]["cameras"] == 1));

    // The exploitation report has the coverage section, table and timeline.
    let rep = env.json(&["case", "report"]);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(rep["json"].as_str().unwrap()).unwrap())
            .unwrap();
    let section = &report["coverage"];
    let rows = section["cameras"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{section}");
    let door_row = rows.iter().find(|c| c["camera"] == camera).unwrap();
    let states: Vec<&str> = door_row["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["analysed", "missing", "recorded"]);
    assert_eq!(section["unplaced"][0]["source_id"], id4.as_str());
    assert!(section["timeline_svg"]
        .as_str()
        .unwrap()
        .starts_with("<svg"));
    let html = std::fs::read_to_string(rep["html"].as_str().unwrap()).unwrap();
    assert!(html.contains("Coverage of the footage"));
    assert!(html.contains("<svg xmlns="));
    assert!(!html.contains("<script"));
    env.cmd().args(["audit", "verify"]).assert().success();
}
