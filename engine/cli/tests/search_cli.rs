//! `vigie search` end to end on an index written directly with `vigie-index` for a tiny
//! source the case collected (an index row of a source the case never collected is
//! refused: another case's): refusal without a case, outputs (JSON, CSV, table, contact sheet), clear
//! errors for malformed queries, and the consultation entry in the audit log; plate
//! search (wildcards, fuzzy ranking) and its logging.

use std::path::PathBuf;
use std::process::Command;

use assert_cmd::prelude::*;
use predicates::prelude::*;
use serde_json::Value;
use vigie_core::{plate, Colour, ColourShare, Compass, Edge, PlateRead, TrackSummary, ZoneVisit};
use vigie_index::{Index, SourceRecord, INDEX_FILE_NAME};

mod common;

const CASE: &str = "SRCH-1";
const T0: i64 = 1_717_243_200_000; // 2024-06-01T12:00:00Z

struct Env {
    home: tempfile::TempDir,
    work: tempfile::TempDir,
    /// The source the index rows are of: a one-second clip the case collected.
    src: String,
}

fn track(src: &str, id: u64, label: &str, colour: Colour, offset_s: i64) -> TrackSummary {
    TrackSummary {
        source_id: src.into(),
        camera: "cam1".into(),
        track_id: id,
        label: label.into(),
        confidence: 0.8,
        first_pts_ms: offset_s * 1000,
        last_pts_ms: offset_s * 1000 + 4_000,
        first_wall_ms: Some(T0 + offset_s * 1000),
        last_wall_ms: Some(T0 + offset_s * 1000 + 4_000),
        colours: vec![ColourShare { colour, share: 0.8 }],
        upper_colours: vec![],
        lower_colours: vec![],
        ridden: false,
        width_px: 80.0,
        height_px: 40.0,
        size_frac: 0.005,
        speed_px_s: 90.0,
        heading_deg: Some(90.0),
        direction: Some(Compass::E),
        path_norm: vec![(0.1, 0.5), (0.9, 0.5)],
        entry_edge: Edge::Left,
        exit_edge: Edge::Right,
        zones: vec![ZoneVisit {
            zone: "<b>door</b>".into(),
            entered_ms: 0,
            time_inside_ms: 2_000,
            dwell_ms: 0,
        }],
        crossings: vec![],
        thumbnail: Some(format!("thumbnails/{id}.jpg")),
        thumbnail_at: None,
        plate: None,
    }
}

impl Env {
    fn new() -> Self {
        let mut env = Self {
            home: tempfile::tempdir().unwrap(),
            work: tempfile::tempdir().unwrap(),
            src: String::new(),
        };
        let today = chrono::Utc::now().date_naive().to_string();
        env.cmd()
            .env_remove("VIGIE_CASE")
            .args([
                "case",
                "open",
                "--id",
                CASE,
                "--procedure",
                "2026/888",
                "--authorization",
                "OJ-888",
                "--magistrate",
                "M. Juge",
                "--authorized-on",
                &today,
                "--purpose",
                "search tests",
            ])
            .assert()
            .success();
        let clip = env.work.path().join("cam 1.mp4");
        common::ffmpeg(
            &[
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=64x48:rate=5:duration=1",
                "-pix_fmt",
                "yuv420p",
            ],
            &clip,
        );
        env.cmd()
            .args([
                "ingest",
                clip.to_str().unwrap(),
                "--camera",
                "cam1",
                "--start",
                "2024-06-01T12:00:00Z",
            ])
            .assert()
            .success();
        let sources = common::parse_json(&env.cmd().args(["sources", "--json"]).output().unwrap());
        env.src = sources["sources"][0]["source_id"]
            .as_str()
            .expect("the collected clip's source id")
            .to_owned();
        env
    }

    fn derived(&self) -> PathBuf {
        self.home.path().join("cases").join(CASE).join("derived")
    }

    /// The case's index, created, and the collected clip (camera `cam1`) as analysed by
    /// `detector`.
    fn new_index(&self, detector: &str) -> (Index, SourceRecord) {
        std::fs::create_dir_all(self.derived()).unwrap();
        let ix = Index::open(&self.derived().join(INDEX_FILE_NAME)).unwrap();
        let src = SourceRecord {
            source_id: self.src.clone(),
            sha256: "0f".repeat(32),
            camera: "cam1".into(),
            path: Some("/evidence/cam 1.mp4".into()),
            analysed_at_ms: T0,
            params: serde_json::json!({ "detector": detector }),
            run_id: None,
        };
        (ix, src)
    }

    fn write_index(&self) {
        let (mut ix, src) = self.new_index("motion");
        let tracks = vec![
            track(&self.src, 1, "car", Colour::Red, 0),
            track(&self.src, 2, "car", Colour::Blue, 10),
            track(&self.src, 3, "person", Colour::Red, 20),
        ];
        ix.write_source(&src, &tracks).unwrap();
    }

    /// Four vehicles with plates and a person without: the plate search fixture.
    fn write_plate_index(&self) {
        let (mut ix, src) = self.new_index("yolo");
        let with_plate = |id: u64, label: &str, text: &str, confidence: f32, offset_s: i64| {
            let mut t = track(&self.src, id, label, Colour::White, offset_s);
            let (display, format) = plate::display_of(text);
            t.plate = Some(PlateRead {
                text: text.into(),
                display,
                format: format.into(),
                confidence,
                char_confidences: vec![0.99; text.len()],
                reads: 7,
                best_pts_ms: offset_s * 1000 + 1_000,
                crop: Some(format!("plates/{id}.jpg")),
            });
            t
        };
        let tracks = vec![
            with_plate(1, "car", "AB123CD", 0.9, 0),
            with_plate(2, "car", "AB193CD", 0.8, 10),
            track(&self.src, 3, "person", Colour::Red, 20),
            with_plate(4, "truck", "A8I23CO", 0.95, 30),
            with_plate(5, "car", "XY999ZZ", 0.99, 40),
        ];
        ix.write_source(&src, &tracks).unwrap();
    }

    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("vigie").unwrap();
        c.env("VIGIE_HOME", self.home.path())
            .env("VIGIE_OPERATOR", "op-search")
            .env("VIGIE_CASE", CASE)
            .current_dir(self.work.path())
            .arg("--quiet");
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "vigie {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fail(&self, args: &[&str]) -> (Option<i32>, String) {
        let out = self.cmd().args(args).output().unwrap();
        assert!(!out.status.success(), "vigie {args:?} succeeded");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn consultations(&self) -> Vec<Value> {
        let log: Value = serde_json::from_str(&self.ok(&["--json", "audit", "show"])).unwrap();
        let mut out = Vec::new();
        collect_consultations(&log, &mut out);
        out
    }
}

fn collect_consultations(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            if m.get("action").and_then(Value::as_str) == Some("consultation")
                && m.get("params")
                    .and_then(|p| p.get("event"))
                    .and_then(Value::as_str)
                    == Some("search")
            {
                out.push(v.clone());
            } else {
                m.values().for_each(|x| collect_consultations(x, out));
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_consultations(x, out)),
        _ => {}
    }
}

#[test]
fn search_needs_a_case_and_an_index() {
    let env = Env::new();
    let (_, err) = {
        let out = env
            .cmd()
            .env_remove("VIGIE_CASE")
            .args(["search", "--class", "car"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert!(err.contains("--case"), "{err}");
    let (code, err) = env.fail(&["search", "--class", "car"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("vigie analyze"), "{err}");
    assert!(!env.derived().join(INDEX_FILE_NAME).exists());
}

#[test]
fn search_outputs_and_audit() {
    let env = Env::new();
    env.write_index();

    let v: Value = serde_json::from_str(&env.ok(&["--json", "search", "--colour", "red"])).unwrap();
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 2, "{v}");
    assert_eq!(hits[0]["track_id"], 1);
    assert_eq!(hits[1]["label"], "person");
    assert_eq!(hits[0]["first_wall"], "2024-06-01T12:00:00.000Z");

    let table = env.ok(&["search", "--class", "car", "--direction", "east"]);
    assert!(
        table.lines().next().unwrap().starts_with("source"),
        "{table}"
    );
    assert!(table.contains("2 tracks"), "{table}");

    let csv = env.ok(&[
        "search",
        "--csv",
        "--from",
        "2024-06-01T14:00:03+02:00",
        "--to",
        "2024-06-01T12:00:12Z",
    ]);
    assert_eq!(csv.lines().count(), 3, "header + tracks 1 and 2: {csv}");

    let sheet = env.work.path().join("out").join("sheet.html");
    std::fs::create_dir_all(sheet.parent().unwrap()).unwrap();
    env.ok(&[
        "search",
        "--class",
        "car",
        "--sheet",
        sheet.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&sheet).unwrap();
    assert!(html.contains("&lt;b&gt;door&lt;/b&gt;"), "{html}");
    assert!(!html.contains("<b>door"), "{html}");
    assert!(html.contains("#t=10.000"), "{html}");
    // Redacted by default: these tracks' source is not registered and their thumbnails'
    // frames are unknown, so the objects around them cannot be masked: withheld.
    assert!(!html.contains("derived/thumbnails"), "{html}");
    assert!(html.contains("no thumbnail"), "{html}");
    // The analysis's own thumbnails only on a justified request.
    let sheet = env.work.path().join("out").join("sheet-raw.html");
    env.ok(&[
        "search",
        "--class",
        "car",
        "--sheet",
        sheet.to_str().unwrap(),
        "--unredacted",
        "--justification",
        "test of the unredacted sheet",
    ]);
    let html = std::fs::read_to_string(&sheet).unwrap();
    assert!(
        html.contains("cases/SRCH-1/derived/thumbnails/1.jpg"),
        "{html}"
    );
    assert!(
        html.contains("src=\"../"),
        "relative thumbnail links: {html}"
    );
    // Never overwrites.
    let (code, err) = env.fail(&["search", "--sheet", sheet.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(err.contains("already exists"), "{err}");

    // Malformed queries name the bad part.
    let (code, err) = env.fail(&["search", "--colour", "teal"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--colour") && err.contains("teal") && err.contains("brown"),
        "{err}"
    );
    let (_, err) = env.fail(&["search", "--crosses", "gate:sideways"]);
    assert!(err.contains("`:in` or `:out`"), "{err}");
    let (_, err) = env.fail(&[
        "search",
        "--from",
        "2024-06-01T15:00:00Z",
        "--to",
        "2024-06-01T14:00:00Z",
    ]);
    assert!(err.contains("after --to"), "{err}");

    // One consultation per successful search, with its parameters and count; the refused
    // ones (bad query, existing sheet) are not consultations.
    let c = env.consultations();
    assert_eq!(c.len(), 5, "{c:#?}");
    assert_eq!(c[0]["params"]["count"], 2);
    assert_eq!(c[0]["params"]["parsed"]["colours"][0]["colour"], "red");
    assert_eq!(c[0]["operator"], "op-search");
    assert_eq!(c[3]["params"]["output"], "sheet");
    assert_eq!(c[4]["params"]["output"], "sheet");
    env.cmd().args(["audit", "verify"]).assert().success();
}

fn hit_ids(v: &Value) -> Vec<u64> {
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["track_id"].as_u64().unwrap())
        .collect()
}

#[test]
fn plate_search_wildcards_fuzzy_errors_and_audit() {
    let env = Env::new();
    env.write_plate_index();

    // Wildcards: case, separators and O/0 do not matter; hits in time order.
    let v: Value =
        serde_json::from_str(&env.ok(&["--json", "search", "--plate", "ab-1?3-*"])).unwrap();
    assert_eq!(hit_ids(&v), [1, 2], "{v}");
    assert_eq!(v["hits"][0]["plate"]["display"], "AB-123-CD");
    assert_eq!(v["hits"][0]["plate"]["format"], "fr_siv");
    assert!((v["hits"][0]["plate"]["confidence"].as_f64().unwrap() - 0.9).abs() < 1e-6);
    assert!(v["hits"][0].get("plate_likelihood").is_none(), "{v}");
    let v: Value = serde_json::from_str(&env.ok(&["--json", "search", "--plate", "*c0"])).unwrap();
    assert_eq!(hit_ids(&v), [4], "O and 0 equal: {v}");
    let v: Value = serde_json::from_str(&env.ok(&[
        "--json",
        "search",
        "--plate",
        "AB*",
        "--class",
        "car",
        "--from",
        "2024-06-01T12:00:05Z",
    ]))
    .unwrap();
    assert_eq!(hit_ids(&v), [2], "combined with other filters: {v}");

    // A miss says so and suggests the fuzzy search.
    let table = env.ok(&["search", "--plate", "ZZ-1*"]);
    assert!(table.contains("0 tracks"), "{table}");
    assert!(
        table.contains("no plate matched --plate ZZ1*") && table.contains("--plate-fuzzy"),
        "{table}"
    );

    // Fuzzy: the closest plates first (exact, then three OCR confusions, then one plain
    // error); the far one is not returned.
    let v: Value =
        serde_json::from_str(&env.ok(&["--json", "search", "--plate-fuzzy", "AB-123-CD"])).unwrap();
    assert_eq!(hit_ids(&v), [1, 4, 2], "{v}");
    let l: Vec<f64> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["plate_likelihood"].as_f64().unwrap())
        .collect();
    assert!(l[0] > l[1] && l[1] > l[2], "{l:?}");
    let table = env.ok(&["search", "--plate-fuzzy", "AB 123 CD"]);
    let header = table.lines().next().unwrap();
    assert!(header.contains("plate"), "{table}");
    assert!(table.contains("AB-123-CD 90% (match 1.00)"), "{table}");
    assert!(table.contains("most likely plate first"), "{table}");
    let table = env.ok(&["search", "--plate-fuzzy", "QQ777QQ"]);
    assert!(table.contains("no plate is close enough"), "{table}");

    // Malformed: exit 2, the flag and the fix named; nothing logged.
    let (code, err) = env.fail(&["search", "--plate", "AB#1*"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--plate") && err.contains("'#'") && err.contains("? for exactly one"),
        "{err}"
    );
    let (code, err) = env.fail(&["search", "--plate", "*"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("at least one letter"), "{err}");
    let (code, err) = env.fail(&["search", "--plate-fuzzy", "AB-1?3"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--plate-fuzzy") && err.contains("--plate"),
        "{err}"
    );

    // Every plate search is a consultation, with the plate parameters.
    let c = env.consultations();
    assert_eq!(c.len(), 7, "{c:#?}");
    assert_eq!(c[0]["params"]["parsed"]["plate"], "AB1?3*");
    assert_eq!(c[0]["params"]["query"]["plate"], "AB1?3*");
    assert_eq!(c[0]["params"]["count"], 2);
    assert_eq!(c[3]["params"]["parsed"]["plate"], "ZZ1*");
    assert_eq!(c[3]["params"]["count"], 0);
    assert_eq!(c[4]["params"]["parsed"]["plate_fuzzy"], "AB123CD");
    assert_eq!(c[4]["params"]["query"]["plate_fuzzy"], "AB123CD");
    assert_eq!(
        c[4]["params"]["tracks"],
        serde_json::json!([1, 4, 2]
            .iter()
            .map(|id| format!("{}#{id}", env.src))
            .collect::<Vec<_>>())
    );
    env.cmd().args(["audit", "verify"]).assert().success();
}

#[test]
fn bench_search_runs_on_a_small_index() {
    let work = tempfile::tempdir().unwrap();
    let index = work.path().join("bench.sqlite");
    let out = Command::cargo_bin("vigie")
        .unwrap()
        .args([
            "--quiet", "--json", "bench", "search", "--tracks", "3000", "--runs", "5",
        ])
        .arg("--index")
        .arg(&index)
        .assert()
        .success()
        .get_output()
        .clone();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tracks"], 3000);
    let queries = v["queries"].as_array().unwrap();
    assert_eq!(queries.len(), vigie_index::synth::QueryKind::ALL.len());
    let names: Vec<&str> = queries
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"plate:AB1*"), "{names:?}");
    for q in queries {
        assert_eq!(q["runs"], 5);
        assert!(q["p95_ms"].as_f64().unwrap() >= q["p50_ms"].as_f64().unwrap());
    }
    // Reused as is; a mismatching --tracks is refused.
    assert!(index.exists());
    Command::cargo_bin("vigie")
        .unwrap()
        .args([
            "--quiet", "bench", "search", "--tracks", "10", "--runs", "1",
        ])
        .arg("--index")
        .arg(&index)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("holds 3000 tracks"));
}
