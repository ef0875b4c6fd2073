//! The int8 NanoDet files (issue 18 item 3) are pinned three times, and the three must
//! agree: the manifest's SHA-256 (what vigie loads), tools/fetch-models' pins (what it
//! builds and checks), and each calibration table's float source (what the build starts
//! from, checked by tools/nanodet_int8.py).
//!
//! Why: the int8 files are derived on the user's machine, not downloaded. A table edited,
//! a pin changed on one side only, or a float model re-pinned without rebuilding its int8
//! file would make fetch-models fail on a fresh machine (or vigie refuse the file) long
//! after the change; this catches it at test time, without the models.

use std::path::PathBuf;

use vigie_policy::ids;

fn repo_file(rel: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The value of `NAME=...` in tools/fetch-models.
fn pin(script: &str, name: &str) -> String {
    script
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} not pinned in tools/fetch-models"))
        .trim()
        .to_owned()
}

#[test]
fn int8_files_are_pinned_alike_in_the_manifest_fetch_models_and_the_tables() {
    let script = repo_file("tools/fetch-models");
    for (int8, float, file_var, table, graph) in [
        (
            ids::NANODET_COCO_416_INT8,
            ids::NANODET_COCO_416,
            "NANODET_INT8_ONNX",
            "models/calibration/nanodet_coco_416.int8.json",
            "nanodet_coco_416_int8",
        ),
        (
            ids::NANODET_COCO_512X288_INT8,
            ids::NANODET_COCO_512X288,
            "NANODET_WIDE_INT8_ONNX",
            "models/calibration/nanodet_coco_512x288.int8.json",
            "nanodet_coco_512x288_int8",
        ),
        (
            ids::NANODET_COCO_416X352_INT8,
            ids::NANODET_COCO_416X352,
            "NANODET_LAND_INT8_ONNX",
            "models/calibration/nanodet_coco_416x352.int8.json",
            "nanodet_coco_416x352_int8",
        ),
        (
            ids::NANODET_COCO_768X448_INT8,
            ids::NANODET_COCO_768X448,
            "NANODET_FINE_INT8_ONNX",
            "models/calibration/nanodet_coco_768x448.int8.json",
            "nanodet_coco_768x448_int8",
        ),
    ] {
        let spec = int8.spec();
        assert_eq!(pin(&script, file_var), spec.file, "{}", spec.id);
        assert_eq!(
            pin(&script, &format!("{file_var}_SHA256")),
            spec.sha256_hex(),
            "{}: fetch-models and the manifest pin other bytes",
            spec.id
        );
        assert!(
            script.contains(&format!(
                "\"$CALIBRATION/{}\"",
                table.rsplit('/').next().unwrap()
            )) && script.contains(graph),
            "{}: fetch-models builds it from {table} as graph {graph}",
            spec.id
        );
        let t: serde_json::Value = serde_json::from_str(&repo_file(table)).unwrap();
        assert_eq!(t["model"], spec.id, "{table}");
        assert_eq!(t["float_model"], float.spec().file, "{table}");
        assert_eq!(
            t["float_model_sha256"],
            float.spec().sha256_hex(),
            "{table}: the float model was re-pinned; rebuild the int8 file and its pin"
        );
        // The published SHA-256 of the first determinism check (doc/models.md).
        let expected = match spec.id {
            "nanodet-coco-416-int8" => {
                "793331f3f65e831d95182e58928746391c455e5026b3338c391c888826c08eef"
            }
            "nanodet-coco-416x352-int8" => {
                "d0bd6ad5179d698799f715515e26432f22718f082fdf5a08633656e1644ca448"
            }
            "nanodet-coco-768x448-int8" => {
                "03b41a0ce867d2bf298edb41770f6d77d936a2aaeb822862dc85ae67a5929ea9"
            }
            _ => "37e45f45e2b068efa18a154c0e2c3dfe7ed194d8e3c9f64b1742fedec03e249d",
        };
        assert_eq!(spec.sha256_hex(), expected, "{}", spec.id);
    }
}
