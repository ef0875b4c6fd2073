//! `vigie eval colour` on a labelled fixture the test makes (a still drawn with the ffmpeg
//! CLI, labels written here): JSON for scripts, the table by default, one half with
//! `--split`, and a missing source refused before anything is logged.

use std::path::Path;
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

/// 200x120 grey street: a person (red top over faded jeans) and a white van.
fn street(dir: &Path) {
    let boxes = [
        "drawbox=x=10:y=25:w=30:h=35:color=0xBE2328:t=fill",
        "drawbox=x=10:y=60:w=30:h=50:color=0x5C6880:t=fill",
        "drawbox=x=130:y=20:w=60:h=80:color=0xCDCBC6:t=fill",
    ]
    .join(",");
    let ok = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=0x807C74:s=200x120",
        ])
        .args(["-vf", &boxes, "-frames:v", "1"])
        .arg(dir.join("street.png"))
        .status()
        .expect("the ffmpeg CLI (installed by tools/setup)")
        .success();
    assert!(ok, "ffmpeg could not draw the fixture");
}

const LABELS: &str = r#"
[[object]]
id = 1
source = "street.png"
box = [10, 10, 30, 100]
class = "person"
split = "tune"
upper = { colour = "red" }
lower = { colour = "blue" }

[[object]]
id = 2
source = "street.png"
box = [130, 20, 60, 80]
class = "truck"
split = "test"
whole = { colour = "white", alternatives = ["grey"], ambiguous = true }
"#;

#[test]
fn eval_colour_reports_each_half_and_part() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    street(work.path());
    let labels = work.path().join("labels.toml");
    std::fs::write(&labels, LABELS).unwrap();

    let out = vigie(home.path())
        .args(["--json", "eval", "colour", "--labels"])
        .arg(&labels)
        .assert()
        .success()
        .get_output()
        .clone();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = &v["evaluation"];
    assert_eq!(e["search_min_share"].as_f64().unwrap(), 0.2f32 as f64);
    let row = |split: &str, part: &str| {
        e["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["split"] == split && r["part"] == part && r["dataset"] == "all")
            .unwrap_or_else(|| panic!("no row {split} {part}: {e}"))
            .clone()
    };
    for (split, part) in [("tune", "upper"), ("tune", "lower"), ("test", "whole")] {
        let r = row(split, part);
        assert_eq!(r["parts"], 1, "{r}");
        assert_eq!(r["first_right"], 1, "{split} {part}: {e}");
        assert_eq!(r["found"], 1, "{r}");
    }
    assert_eq!(row("test", "whole")["ambiguous"], 1);
    assert_eq!(e["parts"].as_array().unwrap().len(), 3);

    // The table, one half.
    let out = vigie(home.path())
        .args(["eval", "colour", "--split", "test", "--labels"])
        .arg(&labels)
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("test  all"), "{text}");
    assert!(!text.contains("tune "), "{text}");
    assert!(text.contains(">= 20 %"), "{text}");
}

#[test]
fn a_missing_source_is_refused_before_anything_runs() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let labels = work.path().join("labels.toml");
    std::fs::write(&labels, LABELS).unwrap();
    let out = vigie(home.path())
        .args(["eval", "colour", "--labels"])
        .arg(&labels)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("labelled source is missing") && err.contains("street.png"),
        "{err}"
    );
}
