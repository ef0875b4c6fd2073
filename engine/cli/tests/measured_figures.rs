//! The measured figures vigie carries (`models/measured.toml`, printed by `vigie models`,
//! stated in every exploitation report and in the dossier) are the ones `vigie eval
//! detect --json` gives today on the shared data.
//!
//! Why: those figures tell whoever reads a procedure file how much a search with no result
//! is worth. If the detector changes (model, preprocessing, thresholds, decoding) and the
//! figures are not measured again, the report would state a recall vigie no longer has.
//! This test runs each reproducible entry's own command with the built binary and compares
//! the counts exactly: the evaluation is deterministic (same counts with 1 or 2 ONNX
//! Runtime threads, debug or release build, run after run). It skips visibly when the
//! models or the shared data are absent (and fails under CI, where they are present).

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::prelude::*;
use serde_json::Value;

fn vigie(home: &Path) -> Command {
    let mut c = Command::cargo_bin("vigie").unwrap();
    c.env("VIGIE_HOME", home)
        .env_remove("VIGIE_CASE")
        .arg("--quiet");
    c
}

fn json_of(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// The repository root: the commands' `../shared/...` paths are relative to it.
fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_recorded_figures_are_what_eval_detect_gives_today() {
    let cache = vigie_core::paths::cache_dir();
    // Every detector size: each has its own entries (tools/fetch-models makes them all).
    if !(cache.join("models/nanodet_coco_416.onnx").is_file()
        && cache.join("models/nanodet_coco_512x288.onnx").is_file()
        && cache.join("models/nanodet_coco_416x352.onnx").is_file()
        && vigie_app::admin::policy::runtime_library_path().0.is_file())
    {
        vigie_core::test_support::skip("run tools/fetch-onnxruntime and tools/fetch-models first");
        return;
    }
    // The int8 files (issue 18 item 3) are built by a later tools/fetch-models: a cache
    // made before has the float files only; their entries are then skipped, visibly.
    let mut skipped = false;
    let mut absent_models = std::collections::BTreeSet::new();
    for (id, file) in [
        ("nanodet-coco-416-int8", "nanodet_coco_416_int8.onnx"),
        (
            "nanodet-coco-512x288-int8",
            "nanodet_coco_512x288_int8.onnx",
        ),
        (
            "nanodet-coco-416x352-int8",
            "nanodet_coco_416x352_int8.onnx",
        ),
        ("nanodet-coco-768x448", "nanodet_coco_768x448.onnx"),
        (
            "nanodet-coco-768x448-int8",
            "nanodet_coco_768x448_int8.onnx",
        ),
    ] {
        if !cache.join("models").join(file).is_file() {
            vigie_core::test_support::skip(&format!(
                "{file} absent: {id}'s figures not re-run (run tools/fetch-models)"
            ));
            absent_models.insert(id);
            skipped = true;
        }
    }
    let home = tempfile::tempdir().unwrap();
    let listed = json_of(
        &vigie(home.path())
            .args(["models", "--json", "--no-check"])
            .output()
            .unwrap(),
    );
    let mut checked = 0;
    let mut checked_models = std::collections::BTreeSet::new();
    for model in listed["models"].as_array().unwrap() {
        if absent_models.contains(model["id"].as_str().unwrap()) {
            continue;
        }
        for m in model["measured"].as_array().unwrap() {
            if m["kind"] != "reproducible" {
                continue;
            }
            let command = m["command"].as_str().unwrap();
            let args: Vec<&str> = command
                .strip_prefix("vigie ")
                .unwrap_or_else(|| panic!("not a vigie command line: {command}"))
                .split_whitespace()
                .collect();
            let missing: Vec<&&str> = args
                .iter()
                .filter(|a| a.starts_with("../shared/") && !repo_root().join(a).exists())
                .collect();
            if !missing.is_empty() {
                vigie_core::test_support::skip(&format!(
                    "shared data absent for `{command}`: {missing:?}"
                ));
                skipped = true;
                continue;
            }
            let v = json_of(
                &vigie(home.path())
                    .current_dir(repo_root())
                    .args(&args)
                    .output()
                    .unwrap(),
            );
            let what = format!(
                "{} on {}: models/measured.toml no longer matches `{command}`; measure again and update it (and the README's figures)",
                model["id"], m["dataset"]
            );
            assert_eq!(v["model"]["id"], model["id"], "{what}");
            assert_eq!(v["model"]["sha256"], m["sha256"], "{what}");
            assert_eq!(v["images"], m["images"], "{what}");
            for (key, got) in [
                ("iou", &v["iou"]),
                ("score_threshold", &v["score_threshold"]),
            ] {
                let (a, b) = (got.as_f64().unwrap(), m[key].as_f64().unwrap());
                assert!((a - b).abs() < 1e-6, "{key} {a} vs {b}: {what}");
            }
            let scored: Vec<&String> = v["per_class"].as_object().unwrap().keys().collect();
            let recorded: Vec<&str> = m["classes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["class"].as_str().unwrap())
                .collect();
            let mut sorted = recorded.clone();
            sorted.sort();
            assert_eq!(scored, sorted, "classes scored: {what}");
            for c in m["classes"].as_array().unwrap() {
                let got = &v["per_class"][c["class"].as_str().unwrap()];
                for count in ["true_positives", "false_positives", "false_negatives"] {
                    assert_eq!(
                        got["counts"][count], c[count],
                        "{} {count}: {what}",
                        c["class"]
                    );
                }
                assert_eq!(got["objects"], c["objects"], "{what}");
                for figure in ["recall", "precision"] {
                    // Undefined on both sides (no box of the class at all) is agreement.
                    let (a, b) = (got[figure].as_f64(), c[figure].as_f64());
                    assert!(
                        matches!((a, b), (Some(a), Some(b)) if (a - b).abs() < 1e-12)
                            || (a.is_none() && b.is_none()),
                        "{} {figure} {a:?} vs {b:?}: {what}",
                        c["class"]
                    );
                }
            }
            checked += 1;
            checked_models.insert(model["id"].as_str().unwrap().to_owned());
        }
    }
    // Every detector size, float and int8, has reproducible entries (street frames, the
    // two TUD clips): when the models and data are all present, all eight were re-run.
    if !skipped {
        assert_eq!(
            checked_models.into_iter().collect::<Vec<_>>(),
            [
                "nanodet-coco-416",
                "nanodet-coco-416-int8",
                "nanodet-coco-416x352",
                "nanodet-coco-416x352-int8",
                "nanodet-coco-512x288",
                "nanodet-coco-512x288-int8",
                "nanodet-coco-768x448",
                "nanodet-coco-768x448-int8"
            ]
        );
    }
    assert!(
        checked > 0 || std::env::var_os("CI").is_none(),
        "no reproducible figure was checked"
    );
    eprintln!("{checked} recorded measurement(s) reproduced");
}

/// Issue 18 item 3's tolerance: the int8 model of each size finds any vehicle and persons
/// with precision and recall within 1 point of the float model of the same size, on the
/// labelled sets whose frames the shape rule gives that size (their command says
/// `--detector-input auto`): the street frames for 512x288, the TUD clips for 416x352. The
/// square size and 768x448, which the rule gives none of the labelled sets, on all of them. Figures of
/// a size forced onto frames it never gets are recorded and printed, not held to it. The
/// figures compared are the recorded ones, which the test above re-runs through vigie (so
/// they are what the binary gives), and which are compiled in: this test needs neither
/// the models nor the data, and cannot be skipped.
#[test]
fn int8_figures_are_within_one_point_of_float() {
    const TOLERANCE: f64 = 0.01;
    let home = tempfile::tempdir().unwrap();
    let listed = json_of(
        &vigie(home.path())
            .args(["models", "--json", "--no-check"])
            .output()
            .unwrap(),
    );
    let models = listed["models"].as_array().unwrap();
    let reproducible = |id: &str| -> Vec<Value> {
        models
            .iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("{id} not listed by `vigie models`"))["measured"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "reproducible")
            .cloned()
            .collect()
    };
    let mut compared = 0;
    for (float, int8) in [
        ("nanodet-coco-416", "nanodet-coco-416-int8"),
        ("nanodet-coco-512x288", "nanodet-coco-512x288-int8"),
        ("nanodet-coco-416x352", "nanodet-coco-416x352-int8"),
        ("nanodet-coco-768x448", "nanodet-coco-768x448-int8"),
    ] {
        let (f, q) = (reproducible(float), reproducible(int8));
        assert_eq!(
            f.len(),
            q.len(),
            "{int8} is measured on the sets {float} is"
        );
        let by_shape = |m: &Value| {
            m["command"]
                .as_str()
                .unwrap()
                .contains("--detector-input auto")
        };
        // A size the shape rule gives none of the labelled sets is held on all of them.
        let none_by_shape = !f.iter().any(by_shape);
        let held = |m: &&Value| none_by_shape || by_shape(m);
        for fm in f.iter().filter(held) {
            let qm = q
                .iter()
                .find(|m| m["dataset"] == fm["dataset"])
                .unwrap_or_else(|| panic!("{int8} not measured on {}", fm["dataset"]));
            for class in ["any vehicle", "person"] {
                let pick = |m: &Value| {
                    m["classes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|c| c["class"] == class)
                        .cloned()
                };
                let (Some(fc), Some(qc)) = (pick(fm), pick(qm)) else {
                    assert!(
                        pick(fm).is_none() && pick(qm).is_none(),
                        "{class} scored alike"
                    );
                    continue;
                };
                for figure in ["precision", "recall"] {
                    let (a, b) = (fc[figure].as_f64().unwrap(), qc[figure].as_f64().unwrap());
                    assert!(
                        (a - b).abs() <= TOLERANCE,
                        "{int8} vs {float} on {}: {class} {figure} {b:.4} vs {a:.4}",
                        fm["dataset"]
                    );
                    compared += 1;
                }
            }
        }
    }
    // P and R: 416 on the street frames (any vehicle) and two TUD clips (person), 512x288
    // on the street frames, 416x352 on the TUD clips, 768x448 (asked for, never given by
    // shape) on all three.
    assert_eq!(compared, 18);
}

/// `vigie models` states the detector's figures, persons and vehicles, with the data set.
#[test]
fn models_prints_the_measured_figures() {
    let home = tempfile::tempdir().unwrap();
    let out = vigie(home.path())
        .args(["models", "--no-check"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "measured street-cctv-vehicles/frames_voc_train (reproducible, 177 frames",
        "measured mot15-tud/TUD-Campus",
        "motorcycle   objects   576  recall 0.68  precision 0.68",
        "any vehicle  objects  1277  recall 0.80",
        // nanodet-coco-512x288 on the same street frames (16:9: chosen by their shape).
        "any vehicle  objects  1277  recall 0.84",
        "--detector-input 512x288",
        "(held-out, IoU >= 0.5",
        "measured none recorded in this build",
        "per frame",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
}

/// The technical dossier states the same figures, per allowlisted model.
#[test]
fn the_dossier_states_the_measured_figures() {
    let home = tempfile::tempdir().unwrap();
    let out = vigie(home.path()).args(["dossier"]).output().unwrap();
    assert!(out.status.success());
    let md = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "## 4. Limits of the search / Limites de la recherche",
        "| nanodet-coco-416 | street-cctv-vehicles/frames_voc_train (public test data",
        "| motorcycle | 576 | 0.68 | 0.68 | On a frame where a motorcycle is in view, the detector misses about 1 in 3",
        "| person | 1156 | 0.78 | 0.75 |",
        "| nanodet-coco-512x288 | street-cctv-vehicles/frames_voc_train (public test data",
        "| person | 1156 | 0.81 | 0.88 |",
        "| clp-det | not measured / non mesuré |",
    ] {
        assert!(md.contains(expected), "{expected:?} in:\n{md}");
    }
}
