//! `vigie analyze --shard` and `vigie merge` end to end (motion detector, synthetic
//! footage): a node's key made and enrolled, two shards, the merge, a second merge that
//! changes nothing, and a run with a shard missing (exit 1, the command that re-runs it).

mod common;

use assert_cmd::prelude::*;
use common::{parse_json, TestCase};
use predicates::prelude::*;

#[test]
fn shards_then_merge_from_the_command_line() {
    let env = TestCase::open("SHARD-1");
    let (clip, _scene) = common::synthetic(env.work.path());
    let flipped = env.path("flipped.mp4");
    common::ffmpeg(
        &[
            "-i",
            clip.to_str().unwrap(),
            "-vf",
            "hflip",
            "-c:v",
            "libx264",
        ],
        &flipped,
    );
    env.cmd()
        .args(["ingest", "--start", "2026-11-30T14:00:00+01:00"])
        .arg(&clip)
        .arg(&flipped)
        .assert()
        .success();
    let key = env.path("node.ed25519");
    let init = env.json(&["node", "init", "--key", key.to_str().unwrap()]);
    assert_eq!(init["public_key"].as_str().unwrap().len(), 64, "{init}");
    env.cmd()
        .args(["node", "enroll", "node-a", "--key-file"])
        .arg(format!("{}.pub", key.display()))
        .args(["--reason", "test cluster"])
        .assert()
        .success();

    let k = key.to_str().unwrap();
    // Shard `spec` of run `run`, signed with the node's key, then `extra`.
    let shard = |spec: &str, run: &str, extra: &[&str]| {
        let mut args = vec!["--shard", spec, "--run", run, "--node-key", k];
        args.extend(extra);
        env.analyse_motion(&args)
    };
    // `merge --run RUN` with a shard left out (exit 1): its report and its stderr.
    let incomplete = |run: &str| {
        let out = env
            .cmd()
            .args(["--json", "merge", "--run", run])
            .assert()
            .code(1)
            .get_output()
            .clone();
        (
            parse_json(&out),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let a = shard("0/2", "r1", &[]);
    let b = shard("1/2", "r1", &[]);
    assert_eq!(
        a["assigned"].as_array().unwrap().len() + b["assigned"].as_array().unwrap().len(),
        2
    );
    // Nothing reached the case's index before the merge.
    assert!(!env.derived().join("index.sqlite").exists());
    let m = env.json(&["merge", "--run", "r1"]);
    assert_eq!(m["merged"].as_array().unwrap().len(), 2, "{m}");
    let hits = env.json(&["search"]);
    assert_eq!(
        hits["hits"].as_array().unwrap().len(),
        6,
        "3 objects per clip"
    );
    let again = env.json(&["merge"]);
    assert_eq!(again["merged"].as_array().unwrap().len(), 0);
    assert_eq!(again["already_merged"].as_array().unwrap().len(), 2);

    // One shard of two: merged, the other listed with how to re-run it, exit 1.
    let _ = shard("1/2", "r2", &["--force"]);
    let (v, stderr) = incomplete("r2");
    assert_eq!(v["missing"][0]["shard"], "0/2", "{v}");
    assert!(stderr.contains("--shard 0/2 --run r2"), "{stderr}");

    // A shard whose sources were all analysed already merges as an empty result.
    let skipped = shard("0/1", "r3", &[]);
    assert_eq!(skipped["sources"][0]["status"], "skipped", "{skipped}");
    let m = env.json(&["merge", "--run", "r3"]);
    assert_eq!(m["merged"].as_array().unwrap().len(), 1, "{m}");
    assert!(m["refused"].as_array().unwrap().is_empty(), "{m}");

    // One run is one analysis: a shard with other settings is refused.
    let _ = shard("0/2", "r4", &["--force", "--sampling", "5fps"]);
    let _ = shard("1/2", "r4", &["--force"]);
    let (v, _) = incomplete("r4");
    assert_eq!(v["refused"][0]["run"], "r4", "{v}");
    assert!(v["refused"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("analysis settings"));
    assert!(
        v["missing"][0]["rerun"]
            .as_str()
            .unwrap()
            .contains("--sampling 5fps"),
        "the re-run command keeps the run's settings: {v}"
    );

    // Bad shard specifications are usage errors naming the form.
    env.cmd()
        .args(["analyze", "--all", "--shard", "2/2", "--run", "r3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("I/N"));
}
