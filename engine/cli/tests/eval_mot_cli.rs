//! `vigie eval mot`: scores on hand-made files, the motmetrics reference, bad input.

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;

/// `vigie` with a data root of its own: measurements write machine-log entries, which
/// must not land in the developer's real data root.
fn vigie() -> Command {
    static HOME: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let home = HOME.get_or_init(|| tempfile::tempdir().unwrap());
    let mut c = Command::cargo_bin("vigie").unwrap();
    c.env("VIGIE_HOME", home.path());
    c
}

#[test]
fn scores_a_tiny_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let gt = dir.path().join("gt.txt");
    let hyp = dir.path().join("hyp.txt");
    // Object 1 in 4 frames; the tracker follows it, changes id once, adds a false positive.
    std::fs::write(
        &gt,
        "1,1,0,0,10,10,1\n2,1,0,0,10,10,1\n3,1,0,0,10,10,1\n4,1,0,0,10,10,1\n",
    )
    .unwrap();
    std::fs::write(
        &hyp,
        "1,7,0,0,10,10,1\n2,7,0,0,10,10,1\n3,8,0,0,10,10,1\n4,8,0,0,10,10,1\n4,9,50,50,10,10,1\n",
    )
    .unwrap();
    let out = vigie()
        .args(["--json", "eval", "mot", "--gt"])
        .arg(&gt)
        .arg("--hyp")
        .arg(&hyp)
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &v["metrics"];
    assert_eq!(m["num_switches"], 1);
    assert_eq!(m["num_false_positives"], 1);
    assert_eq!(m["num_misses"], 0);
    // MOTA = 1 - (0 + 1 + 1) / 4; IDF1 = 2 * 2 / (4 + 5).
    assert!((m["mota"].as_f64().unwrap() - 0.5).abs() < 1e-12);
    assert!((m["idf1"].as_f64().unwrap() - 4.0 / 9.0).abs() < 1e-12);

    vigie()
        .args(["eval", "mot", "--gt"])
        .arg(&gt)
        .arg("--hyp")
        .arg(&hyp)
        .assert()
        .success()
        .stdout(predicate::str::contains("MOTA       50.00 %"))
        .stdout(predicate::str::contains("IDSW 1"));
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let gt = dir.path().join("gt.txt");
    std::fs::write(&gt, "1,1,0,0,10,10,1\n1,1,oops,0,10,10,1\n").unwrap();
    vigie()
        .args(["eval", "mot", "--gt"])
        .arg(&gt)
        .arg("--hyp")
        .arg(&gt)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--gt"))
        .stderr(predicate::str::contains("line 2"));
    vigie()
        .args(["eval", "mot", "--gt"])
        .arg(dir.path().join("missing.txt"))
        .arg("--hyp")
        .arg(&gt)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("check the path"));
    vigie()
        .args(["eval", "mot", "--iou", "1.5", "--gt"])
        .arg(&gt)
        .arg("--hyp")
        .arg(&gt)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected > 0 and <= 1"));
    // One of --hyp / --det is required.
    vigie()
        .args(["eval", "mot", "--gt"])
        .arg(&gt)
        .assert()
        .code(2);
}

#[test]
fn reproduces_motmetrics_on_tud_campus() {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/mot15-tud/TUD-Campus");
    if !d.join("gt/gt.txt").is_file() {
        vigie_core::test_support::skip(&format!(
            "{} not found (shared test datasets absent)",
            d.display()
        ));
        return;
    }
    vigie()
        .args(["eval", "mot", "--gt"])
        .arg(d.join("gt/gt.txt"))
        .arg("--hyp")
        .arg(d.join("motmetrics_sample_tracker_output.txt"))
        .assert()
        .success()
        .stdout(predicate::str::contains("MOTA       52.65 %"))
        .stdout(predicate::str::contains("IDF1       55.77 %"))
        .stdout(predicate::str::contains("IDSW 7"))
        .stdout(predicate::str::contains("HOTA       39.14 %"));

    // Tracking the ground-truth boxes themselves (as detections) scores perfect (99.72 %,
    // one switch, before lost tracks were kept 700 ms instead of 1000 ms: a lost track no
    // longer coasts into the box of the person walking beside it).
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hyp.txt");
    vigie()
        .args(["eval", "mot", "--gt"])
        .arg(d.join("gt/gt.txt"))
        .arg("--det")
        .arg(d.join("gt/gt.txt"))
        .arg("--write-hyp")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("MOTA       100.00 %"))
        .stdout(predicate::str::contains("IDF1       100.00 %"));
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        written.lines().count(),
        359,
        "every ground-truth box is reported"
    );
    // The file is never overwritten.
    vigie()
        .args(["eval", "mot", "--gt"])
        .arg(d.join("gt/gt.txt"))
        .arg("--det")
        .arg(d.join("gt/gt.txt"))
        .arg("--write-hyp")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("must not exist yet"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), written);
}
