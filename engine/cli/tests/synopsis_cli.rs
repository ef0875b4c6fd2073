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
use predicates::prelude::*;
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
    // The automatic length was checked on the pixels (at least the grid's plan measured).
    assert!(f["pixel_checks"].as_u64().unwrap() >= 1, "{f}");
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
        // Adjacent box ranges (a moving part, then a stationary stretch) are one sampling
        // interval apart: no hole wider than the widest step between the track's boxes
        // (the analysis may sample every few frames).
        let tube_file: Value = serde_json::from_slice(
            &std::fs::read(
                env.derived()
                    .join("tubes")
                    .join(format!("{source_id}.json")),
            )
            .unwrap(),
        )
        .unwrap();
        let step = tube_file["tubes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["track_id"] == h["track_id"])
            .map(|t| {
                let ts: Vec<i64> = t["boxes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| b[0].as_i64().unwrap())
                    .collect();
                ts.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0)
            })
            .unwrap();
        for w in spans.windows(2) {
            assert!(
                w[1].0 - w[0].1 <= step.max(100),
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
    // Index and WebVTT name the evidence file as registered, never the descriptor it was
    // decoded through (`/proc/self/fd/N`), which means nothing to whoever receives them.
    let registered = env.json(&["sources"])["sources"][0]["path"].clone();
    assert!(
        tubes.iter().all(|t| t["source_path"] == registered),
        "{registered}: {tubes:?}"
    );
    assert!(!vtt.contains("/proc/self/fd"), "{vtt}");
    assert!(vtt.contains(registered.as_str().unwrap()), "{vtt}");

    // Audit: the combination and the disclosure with the video's hash.
    let sha = v["files"][0]["sha256"].as_str().unwrap().to_string();
    let log = env.json(&["audit", "show"]).to_string();
    assert!(log.contains("\"combination\"") && log.contains("\"disclosure\""));
    assert!(log.contains(&sha), "the synopsis hash is in the log");
    env.cmd().args(["audit", "verify"]).assert().success();

    // Never overwrites.
    env.cmd()
        .args(["synopsis", "--source", &source_id, "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
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
    env.cmd()
        .args(["synopsis", "--source", &source_id, "--length-s", "0", "-o"])
        .arg(env.path("zero.mp4"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("length"));
    // A negative number reaches vigie's own check (not the parser's "unexpected
    // argument"), and NaN is named as given.
    for (flag, value, says) in [
        ("--length-s", "-5", "invalid length -5 s"),
        ("--length-s", "nan", "invalid --length-s NaN"),
        (
            "--still-show-min-s",
            "0",
            "invalid shortest showing of a standing object 0 s",
        ),
        (
            "--still-show-min-s",
            "inf",
            "invalid --still-show-min-s inf",
        ),
        ("--together-s", "-1", "invalid shortest time together -1 s"),
        ("--together-s", "nan", "invalid --together-s NaN"),
        ("--object-speed", "0", "--object-speed"),
        ("--object-speed", "5", "--object-speed"),
    ] {
        env.cmd()
            .args(["synopsis", "--source", &source_id, flag, value, "-o"])
            .arg(env.path("bad.mp4"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
    }
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

// ---- one camera, many files --------------------------------------------------------------

/// A 6 s, 10 fps, 640x360 clip over a textured grey scene: one `colour` box (60x40) moving
/// east at 60 px/s from t = 1 s to t = 5 s, at height `y`.
fn camera_clip(env: &common::TestCase, name: &str, colour: &str, y: u32) -> std::path::PathBuf {
    let out = env.path(name);
    common::ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=0x7a7a7a:size=640x360:rate=10:duration=6",
            "-f",
            "lavfi",
            "-i",
            &format!("color=c={colour}:size=60x40:rate=10:duration=6"),
            "-filter_complex",
            &format!(
                "[0:v]noise=alls=6:allf=t[bg];[bg][1:v]overlay=x='100+60*(t-1)':y={y}:\
                 eval=frame:enable='between(t,1,5)'[o]"
            ),
            "-map",
            "[o]",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-g",
            "10",
        ],
        &out,
    );
    out
}

/// A case with camera `hall`: `cam-a.mp4` recorded at 15:00, `cam-b.mp4` at 14:00 (so the
/// file names and the clock disagree), `cam-c.mp4` without a wall clock; all analysed with
/// the motion detector. Returns the ids of a, b and c.
fn camera_case(case_id: &str) -> (common::TestCase, [String; 3]) {
    let env = common::TestCase::open(case_id);
    let a = camera_clip(&env, "cam-a.mp4", "0xd01818", 200);
    let b = camera_clip(&env, "cam-b.mp4", "0x1830c8", 120);
    let c = camera_clip(&env, "cam-c.mp4", "0xf0d020", 160);
    let ingest = |clip: &Path, start: Option<&str>| -> String {
        let mut args = vec!["ingest", "--camera", "hall"];
        if let Some(s) = start {
            args.extend(["--start", s]);
        }
        args.push(clip.to_str().unwrap());
        let v = env.json(&args);
        v["ingested"][0]["source"]["source_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let ida = ingest(&a, Some("2026-11-30T15:00:00+01:00"));
    let idb = ingest(&b, Some("2026-11-30T14:00:00+01:00"));
    let idc = ingest(&c, None);
    let v = env.analyse_motion(&[]);
    for s in v["analysed"].as_array().unwrap() {
        assert!(s["tracks"].as_u64().unwrap() >= 1, "{v}");
    }
    (env, [ida, idb, idc])
}

fn ms_of(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

/// Every entry's wall clock is its own file's start plus its own media time.
fn assert_entries_timed(v: &Value, starts: &[(&str, &str)]) {
    for t in v["tubes"].as_array().unwrap() {
        let sid = t["source_id"].as_str().unwrap();
        let (_, start) = starts
            .iter()
            .find(|(id, _)| *id == sid)
            .unwrap_or_else(|| panic!("{sid} is not on the timeline: {t}"));
        assert_eq!(
            ms_of(t["from_wall"].as_str().unwrap()) - ms_of(start),
            t["from_pts_ms"].as_i64().unwrap(),
            "{t}"
        );
    }
}

/// The shape of a JSON document, one `path: type` line per leaf (arrays merged over their
/// elements), sorted: what a reader of the index relies on, without the values.
fn shape(v: &Value, path: &str, out: &mut std::collections::BTreeSet<String>) {
    match v {
        // The search flags as given: the query's own format, not the index's.
        Value::Object(_) if path == "filters" => {
            out.insert(format!("{path}: search flags"));
        }
        Value::Object(m) => {
            if m.is_empty() {
                out.insert(format!("{path}: {{}}"));
            }
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                shape(x, &p, out);
            }
        }
        Value::Array(a) => {
            if a.is_empty() {
                out.insert(format!("{path}[]: empty"));
            }
            for x in a {
                shape(x, &format!("{path}[]"), out);
            }
        }
        Value::Null => {
            out.insert(format!("{path}: null"));
        }
        Value::Bool(_) => {
            out.insert(format!("{path}: bool"));
        }
        Value::Number(_) => {
            out.insert(format!("{path}: number"));
        }
        Value::String(_) => {
            out.insert(format!("{path}: string"));
        }
    }
}

/// The source ids of a camera synopsis's report, in its order.
fn source_ids(v: &Value) -> Vec<&str> {
    v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source_id"].as_str().unwrap())
        .collect()
}

#[test]
fn camera_synopsis_orders_files_by_corrected_clock_and_labels_real_times() {
    let (env, [ida, idb, idc]) = camera_case("SYN-CAM-1");
    let v = env.json(&["synopsis", "--camera", "hall", "-o", "hall.mp4"]);
    // b (14:00) before a (15:00), whatever their names; c has no clock: left out, named.
    let order = source_ids(&v);
    assert_eq!(order, vec![idb.as_str(), ida.as_str()], "{v}");
    assert_eq!(v["left_out"][0]["source_id"], idc.as_str(), "{v}");
    assert!(v["left_out"][0]["why"]
        .as_str()
        .unwrap()
        .contains("vigie clock set"));
    let f = &v["figures"];
    assert_eq!(f["sources"], 2, "{f}");
    assert!(
        (11_000..=12_500).contains(&f["source_duration_ms"].as_i64().unwrap()),
        "{f}"
    );
    // Objects from both files on one timeline, each with its own file's real time.
    let shown: std::collections::BTreeSet<&str> = v["tubes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["source_id"].as_str().unwrap())
        .collect();
    assert_eq!(shown.len(), 2, "{v}");
    assert_entries_timed(
        &v,
        &[
            (&idb, "2026-11-30T14:00:00+01:00"),
            (&ida, "2026-11-30T15:00:00+01:00"),
        ],
    );
    // The disclosure lists both sources with their hashes and stretches.
    let log = env.json(&["audit", "show"]).to_string();
    for s in v["sources"].as_array().unwrap() {
        assert!(log.contains(s["source_sha256"].as_str().unwrap()));
    }
    assert!(log.contains(v["files"][0]["sha256"].as_str().unwrap()));
    env.cmd().args(["audit", "verify"]).assert().success();

    // The index format (snapshot of its shape).
    let exports = env
        .home
        .path()
        .join("cases")
        .join(&env.case_id)
        .join("exports");
    let index: Value =
        serde_json::from_slice(&std::fs::read(exports.join("hall.json")).unwrap()).unwrap();
    // Each entry names its file as registered, not the descriptor it was decoded through.
    for t in index["tubes"].as_array().unwrap() {
        let path = t["source_path"].as_str().unwrap();
        assert!(
            v["sources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["source_id"] == t["source_id"] && s["source_path"] == path),
            "{t}"
        );
    }
    let mut lines = std::collections::BTreeSet::new();
    shape(&index, "", &mut lines);
    let got: String = lines.into_iter().map(|l| l + "\n").collect();
    let snap = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/synopsis_index.txt");
    if std::env::var_os("VIGIE_UPDATE_SNAPSHOTS").is_some() || !snap.exists() {
        std::fs::create_dir_all(snap.parent().unwrap()).unwrap();
        std::fs::write(&snap, &got).unwrap();
    }
    assert_eq!(
        got,
        std::fs::read_to_string(&snap).unwrap(),
        "the synopsis index format changed: check readers (web view, tools), then rerun with \
         VIGIE_UPDATE_SNAPSHOTS=1"
    );

    // A corrected clock reorders: a moved to 13:00 comes first, labelled 13:00:xx.
    env.json(&[
        "clock",
        "set",
        &ida,
        "--offset",
        "-2h",
        "--reason",
        "recorder two hours fast",
    ]);
    let w = env.json(&["synopsis", "--camera", "hall", "-o", "hall2.mp4"]);
    let order = source_ids(&w);
    assert_eq!(order, vec![ida.as_str(), idb.as_str()], "{w}");
    assert_entries_timed(
        &w,
        &[
            (&ida, "2026-11-30T13:00:00+01:00"),
            (&idb, "2026-11-30T14:00:00+01:00"),
        ],
    );
}

#[test]
fn camera_synopsis_of_a_time_range_across_two_files() {
    let (env, [ida, idb, _]) = camera_case("SYN-CAM-2");
    // 14:00:04 .. 15:00:03: the end of b, the start of a.
    let v = env.json(&[
        "synopsis",
        "--camera",
        "hall",
        "--from",
        "2026-11-30T14:00:04+01:00",
        "--to",
        "2026-11-30T15:00:03+01:00",
        "-o",
        "range.mp4",
    ]);
    let s = v["sources"].as_array().unwrap();
    assert_eq!(s.len(), 2, "{v}");
    assert_eq!(s[0]["source_id"], idb.as_str());
    assert_eq!(
        (s[0]["from_ms"].as_i64(), s[0]["to_ms"].as_i64()),
        (Some(4_000), Some(6_000))
    );
    assert_eq!(s[1]["source_id"], ida.as_str());
    assert_eq!(
        (s[1]["from_ms"].as_i64(), s[1]["to_ms"].as_i64()),
        (Some(0), Some(3_000))
    );
    assert_eq!(s[1]["timeline_start_ms"], 2_000);
    assert_eq!(v["figures"]["source_duration_ms"], 5_000, "{v}");
    // Only what lies in the range is shown, each entry in its own file's stretch.
    for t in v["tubes"].as_array().unwrap() {
        let (a, b) = if t["source_id"] == idb.as_str() {
            (4_000, 6_000)
        } else {
            (0, 3_000)
        };
        assert!(t["from_pts_ms"].as_i64().unwrap() >= a, "{t}");
        assert!(t["to_pts_ms"].as_i64().unwrap() <= b, "{t}");
    }
    assert_entries_timed(
        &v,
        &[
            (&idb, "2026-11-30T14:00:00+01:00"),
            (&ida, "2026-11-30T15:00:00+01:00"),
        ],
    );
    // One of --source / --camera, not both.
    let o = env
        .cmd()
        .args(["synopsis", "--source", &ida, "--camera", "hall", "-o"])
        .arg(env.path("both.mp4"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_file_without_wall_clock_is_refused_on_a_timeline_and_shown_on_its_own() {
    let (env, [_, _, idc]) = camera_case("SYN-CAM-3");
    env.json(&[
        "camera",
        "set",
        "lobby",
        &idc,
        "--reason",
        "separate camera",
    ]);
    let o = env
        .cmd()
        .args(["synopsis", "--camera", "lobby", "-o"])
        .arg(env.path("lobby.mp4"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&idc) && err.contains("vigie clock set"),
        "{err}"
    );
    assert!(!env.path("lobby.mp4").exists());
    // On its own, labelled with media time.
    let v = env.json(&["synopsis", "--source", &idc, "-o", "c.mp4"]);
    let t = &v["tubes"][0];
    assert_eq!(t["from_wall"], Value::Null, "{v}");
    assert_eq!(v["figures"]["sources"], 1);
    // An unknown camera names the known ones.
    env.cmd()
        .args(["synopsis", "--camera", "nowhere", "-o"])
        .arg(env.path("x.mp4"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("hall"));
}
