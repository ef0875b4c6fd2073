//! Sharded analysis and merge, in process (model-free motion detector, footage made with
//! the ffmpeg CLI): N shards plus a merge give the same index as one analysis of the same
//! sources; merging twice changes nothing; tampered, moved, foreign-case, unenrolled,
//! model- or software-mismatched and duplicated shard results are refused, each with an
//! alert; the report lists the shards; closure erases them and refuses later merges.

mod common;

use std::path::{Path, PathBuf};

use vigie_app::admin::Administration;
use vigie_app::analyze::{analyze_sources, AnalyzeRequest};
use vigie_app::nodes::NodeKey;
use vigie_app::shard::{
    merge_shards, plan, run_shard, MergeOutcome, MergeRequest, ModelRef, PlannedSource,
    ShardRecord, ShardRequest, ShardSpec,
};
use vigie_app::types::WhenBusy;
use vigie_app::{App, EnteredCase, NoProgress, Operator};
use vigie_case::DataRoot;

/// A 3 s clip of one box crossing a grey frame; `colour` and `speed` make each distinct.
fn clip(dir: &Path, name: &str, colour: &str, speed: u32) -> PathBuf {
    common::moving_box(dir, name, colour, speed, 3)
}

struct Env {
    _home: tempfile::TempDir,
    work: tempfile::TempDir,
    app: App,
    op: Operator,
    key: PathBuf,
}

impl Env {
    fn new() -> Self {
        let home = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let app = App::new(
            DataRoot::new(home.path().to_owned()),
            std::sync::Arc::new(vigie_case::SystemClock),
        );
        let op = Operator::new("op-test").unwrap();
        let key = work.path().join("node.ed25519");
        let public = NodeKey::load_or_create(&key).unwrap().public_hex();
        Administration::new(&app, op.clone(), Some("node of the test cluster"))
            .enroll_node("node-a", &public)
            .unwrap();
        Self {
            _home: home,
            work,
            app,
            op,
            key,
        }
    }

    fn open(&self, case_id: &str, clips: &[PathBuf]) {
        common::open_case(&self.app, &self.op, case_id, "2026/900", "sharded analysis");
        let case = self.enter(case_id, "ingest");
        vigie_app::evidence::ingest(
            &case,
            &vigie_app::evidence::IngestRequest {
                paths: clips.to_vec(),
                camera: Some("door".into()),
                ..Default::default()
            },
            &NoProgress,
        )
        .unwrap();
    }

    fn enter(&self, case_id: &str, command: &str) -> EnteredCase {
        EnteredCase::enter(&self.app, Some(case_id), &self.op, None, command).unwrap()
    }

    fn shard(&self, case_id: &str, run: &str, spec: &str, force: bool, key: &Path) {
        let out = run_shard(
            self.enter(case_id, "analyze --shard"),
            &ShardRequest {
                shard: spec.parse().unwrap(),
                run: run.into(),
                node_key: key.to_owned(),
                analyze: AnalyzeRequest { force, ..request() },
            },
            &NoProgress,
        )
        .unwrap();
        assert!(out.complete(), "{:?}", out.record.sources);
    }

    fn merge(&self, case_id: &str, run: &str) -> MergeOutcome {
        merge_shards(
            &self.enter(case_id, "merge"),
            &MergeRequest {
                run: Some(run.into()),
            },
        )
        .unwrap()
    }

    fn shard_dir(&self, case_id: &str, run: &str, spec: &str) -> PathBuf {
        let s: ShardSpec = spec.parse().unwrap();
        self.app
            .root()
            .case_dir(case_id)
            .join("shards")
            .join(run)
            .join(s.dir_name())
    }

    /// Every track of every source, by content.
    /// The case's tracks as the index holds them.
    fn tracks_raw(&self, case_id: &str) -> Vec<vigie_index::TrackSummary> {
        let case = self.enter(case_id, "search");
        let ix = case.index().unwrap();
        let mut all = Vec::new();
        for s in ix.sources().unwrap() {
            all.extend(ix.tracks_of_source(&s.record.source_id).unwrap());
        }
        all
    }

    /// The case's tracks, by content: each analysis run names its images apart
    /// (`<source>_<track>_<run>.jpg`), so the run is left out of the names compared.
    fn tracks(&self, case_id: &str) -> Vec<serde_json::Value> {
        let without_run = |path: &str| -> String {
            let (stem, _) = path.rsplit_once('.').expect("an extension");
            let parts: Vec<&str> = stem.rsplitn(2, '_').collect();
            assert_eq!(parts.len(), 2, "{path}: named by its run");
            format!("{}.jpg", parts[1])
        };
        let mut all: Vec<serde_json::Value> = self
            .tracks_raw(case_id)
            .into_iter()
            .map(|mut t| {
                t.thumbnail = t.thumbnail.as_deref().map(without_run);
                if let Some(p) = t.plate.as_mut() {
                    p.crop = p.crop.as_deref().map(without_run);
                }
                serde_json::to_value(t).unwrap()
            })
            .collect();
        all.sort_by_key(|v| v.to_string());
        all
    }

    fn log_len(&self, case_id: &str) -> usize {
        self.app
            .root()
            .case_log(case_id, self.app.clock())
            .unwrap()
            .entries()
            .unwrap()
            .len()
    }

    fn shard_alerts(&self, case_id: &str) -> usize {
        self.app
            .root()
            .case_log(case_id, self.app.clock())
            .unwrap()
            .entries()
            .unwrap()
            .iter()
            .filter(|e| e.params["kind"] == "shard_refused")
            .count()
    }
}

fn request() -> AnalyzeRequest {
    common::motion_request(Vec::new())
}

/// Why the merge's first refused shard was refused.
fn refusal(m: &MergeOutcome) -> &str {
    m.refused[0]["reason"].as_str().unwrap()
}

/// Change a record and sign it again with the (enrolled) node's key: what a node that
/// ran other software or models would have written.
fn resign(dir: &Path, key: &Path, change: impl FnOnce(&mut ShardRecord)) {
    let path = dir.join("shard.json");
    let mut r: ShardRecord = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    change(&mut r);
    r.signature = String::new();
    r.signature = NodeKey::load(key)
        .unwrap()
        .sign_hex(&r.signed_bytes().unwrap());
    std::fs::write(&path, serde_json::to_vec_pretty(&r).unwrap()).unwrap();
}

#[test]
fn the_plan_covers_every_source_once_and_is_deterministic() {
    let sources: Vec<PlannedSource> = (0..11)
        .map(|i| PlannedSource {
            source_id: format!("S{i:02}"),
            sha256: format!("{i:064x}"),
            duration_ms: if i % 4 == 0 {
                None
            } else {
                Some(1000 * (i % 5 + 1))
            },
        })
        .collect();
    for n in 1..=5u32 {
        let shares = plan(&sources, n);
        assert_eq!(shares.len(), n as usize);
        let mut ids: Vec<String> = shares
            .iter()
            .flatten()
            .map(|s| s.source_id.clone())
            .collect();
        ids.sort();
        let want: Vec<String> = sources.iter().map(|s| s.source_id.clone()).collect();
        assert_eq!(ids, want, "every source exactly once with {n} shards");
        // The registry's order does not matter.
        let mut reversed = sources.clone();
        reversed.reverse();
        assert_eq!(plan(&reversed, n), shares);
    }
    assert!("3/3".parse::<ShardSpec>().is_err());
    assert!("0/0".parse::<ShardSpec>().is_err());
    assert!("x/2".parse::<ShardSpec>().is_err());
    assert_eq!(
        "2/3".parse::<ShardSpec>().unwrap(),
        ShardSpec { index: 2, count: 3 }
    );
}

#[test]
fn shards_and_merge_give_the_index_of_one_analysis_and_refuse_what_they_must() {
    let env = Env::new();
    let w = env.work.path();
    let clips = vec![
        clip(w, "a", "red", 30),
        clip(w, "b", "blue", 45),
        clip(w, "c", "yellow", 20),
    ];
    env.open("C-single", &clips);
    env.open("C-shard", &clips);

    // One machine.
    let done = analyze_sources(&env.enter("C-single", "analyze"), &request(), &NoProgress).unwrap();
    assert_eq!(done.analysed.len(), 3, "{:?}", done.failed);

    // Three shards, then the merge.
    for i in 0..3 {
        env.shard("C-shard", "r1", &format!("{i}/3"), false, &env.key);
    }
    let before = env.log_len("C-shard");
    let m = env.merge("C-shard", "r1");
    assert!(m.complete(), "{m:?}");
    assert_eq!(m.merged.len(), 3);
    assert_eq!(
        m.merged.iter().map(|s| s.sources.len()).sum::<usize>(),
        3,
        "each source merged once"
    );
    assert!(m.merged.iter().all(|s| s.node == "node-a"));
    let single = env.tracks("C-single");
    assert!(!single.is_empty());
    assert_eq!(env.tracks("C-shard"), single, "same tracks by content");
    let after = env.log_len("C-shard");
    assert!(
        after > before + 3,
        "shard_merged entries and the nodes' entries"
    );

    // Merging again changes nothing.
    let again = env.merge("C-shard", "r1");
    assert!(again.merged.is_empty() && again.complete());
    assert_eq!(again.already_merged.len(), 3);
    assert_eq!(env.log_len("C-shard"), after);
    assert_eq!(env.tracks("C-shard"), single);

    // Tampered: a byte of a result file changed after the node signed it.
    env.shard("C-shard", "r2", "0/1", true, &env.key);
    let dir = env.shard_dir("C-shard", "r2", "0/1");
    let mut tubes: Vec<PathBuf> = std::fs::read_dir(dir.join("derived/tubes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    tubes.sort();
    let mut bytes = std::fs::read(&tubes[0]).unwrap();
    bytes.push(b' ');
    std::fs::write(&tubes[0], bytes).unwrap();
    let m = env.merge("C-shard", "r2");
    assert_eq!(m.refused.len(), 1, "{m:?}");
    assert!(m.refused[0]["reason"].as_str().unwrap().contains("changed"));
    assert_eq!(env.shard_alerts("C-shard"), 1);

    // The record itself edited (without the node's key).
    env.shard("C-shard", "r3", "0/1", true, &env.key);
    let rec = env.shard_dir("C-shard", "r3", "0/1").join("shard.json");
    let text = std::fs::read_to_string(&rec).unwrap().replace(
        "\"operator\": \"op-test\"",
        "\"operator\": \"someone-else\"",
    );
    std::fs::write(&rec, text).unwrap();
    let m = env.merge("C-shard", "r3");
    assert!(m.refused[0]["reason"]
        .as_str()
        .unwrap()
        .contains("signature"));

    // A model this installation does not allow, and other software, even signed.
    env.shard("C-shard", "r4", "0/1", true, &env.key);
    resign(&env.shard_dir("C-shard", "r4", "0/1"), &env.key, |r| {
        r.models.push(ModelRef {
            model_id: "nanodet_coco_416".into(),
            sha256: "0".repeat(64),
        })
    });
    let m = env.merge("C-shard", "r4");
    assert!(m.refused[0]["reason"].as_str().unwrap().contains("model"));
    env.shard("C-shard", "r5", "0/1", true, &env.key);
    resign(&env.shard_dir("C-shard", "r5", "0/1"), &env.key, |r| {
        r.binary_sha256 = "f".repeat(64)
    });
    let m = env.merge("C-shard", "r5");
    assert!(m.refused[0]["reason"]
        .as_str()
        .unwrap()
        .contains("executable"));

    // An enrolled node that lies: an entry a shard never writes, and a thumbnail path
    // out of the derived data, both in files it signed again.
    env.shard("C-shard", "r10", "0/1", true, &env.key);
    let dir10 = env.shard_dir("C-shard", "r10", "0/1");
    let journal = dir10.join("journal.jsonl");
    let mut text = std::fs::read_to_string(&journal).unwrap();
    text.push_str(
        &serde_json::to_string(&serde_json::json!({
            "seq": 99, "at": "2026-12-06T10:00:00Z", "justification": null,
            "event": { "event": "derived_data_changed", "what": "index", "detail": {} }
        }))
        .unwrap(),
    );
    text.push('\n');
    std::fs::write(&journal, text).unwrap();
    refresh_and_resign(&dir10, &env.key);
    let m = env.merge("C-shard", "r10");
    assert!(m.refused[0]["reason"]
        .as_str()
        .unwrap()
        .contains("never writes"));
    // The last source of the shard is the one broken: the sources before it, fine on
    // their own, must not be imported either (rows and images of one run, or none).
    env.shard("C-shard", "r11", "0/1", true, &env.key);
    let dir11 = env.shard_dir("C-shard", "r11", "0/1");
    let raw_before = env.tracks_raw("C-shard");
    let log_before = env.log_len("C-shard");
    {
        let mut ix = vigie_index::Index::open(&dir11.join("derived/index.sqlite")).unwrap();
        let info = ix.sources().unwrap().pop().unwrap();
        let mut tracks = ix.tracks_of_source(&info.record.source_id).unwrap();
        tracks[0].thumbnail = Some("thumbnails/../../audit/audit.jsonl".into());
        ix.write_source(&info.record, &tracks).unwrap();
    }
    refresh_and_resign(&dir11, &env.key);
    let m = env.merge("C-shard", "r11");
    assert!(m.refused[0]["reason"]
        .as_str()
        .unwrap()
        .contains("names the file"));
    assert_eq!(
        env.tracks_raw("C-shard"),
        raw_before,
        "no source of a refused shard reaches the index"
    );
    assert_eq!(
        env.log_len("C-shard"),
        log_before + 1,
        "the refusal's alert, nothing else"
    );
    assert_eq!(env.shard_alerts("C-shard"), 6);

    // A node that is not enrolled.
    let stranger = w.join("stranger.ed25519");
    NodeKey::load_or_create(&stranger).unwrap();
    env.shard("C-shard", "r6", "0/1", true, &stranger);
    let m = env.merge("C-shard", "r6");
    assert!(m.refused[0]["reason"]
        .as_str()
        .unwrap()
        .contains("enrolled"));

    // Another case's shard copied in, and a shard moved to another run.
    env.open("C-other", &[clip(w, "d", "green", 25)]);
    env.shard("C-other", "r7", "0/1", false, &env.key);
    common::copy_dir(
        &env.shard_dir("C-other", "r7", "0/1"),
        &env.shard_dir("C-shard", "r7", "0/1"),
    );
    let m = env.merge("C-shard", "r7");
    assert!(m.refused[0]["reason"].as_str().unwrap().contains("C-other"));
    common::copy_dir(
        &env.shard_dir("C-shard", "r1", "0/3"),
        &env.shard_dir("C-shard", "r8", "0/3"),
    );
    let m = env.merge("C-shard", "r8");
    assert!(m.refused[0]["reason"].as_str().unwrap().contains("moved"));
    assert_eq!(env.shard_alerts("C-shard"), 9);

    // An enrolled node whose journal or record says what did not happen: a model its
    // record does not list, an analysis that disagrees with its record, a shard number no
    // run has, a plan this case's registry does not give.
    let lie = |run: &str, change: &dyn Fn(&mut Vec<serde_json::Value>)| {
        env.shard("C-shard", run, "0/1", true, &env.key);
        let dir = env.shard_dir("C-shard", run, "0/1");
        let path = dir.join("journal.jsonl");
        let mut entries: Vec<serde_json::Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        change(&mut entries);
        let text: String = entries.iter().map(|e| format!("{e}\n")).collect();
        std::fs::write(&path, text).unwrap();
        refresh_and_resign(&dir, &env.key);
        let m = env.merge("C-shard", run);
        assert_eq!(m.refused.len(), 1, "{run}: {m:?}");
        m.refused[0]["reason"].as_str().unwrap().to_owned()
    };
    let why = lie("r12", &|e| {
        e.push(serde_json::json!({
            "seq": 99, "at": "2026-12-06T10:00:00Z", "justification": null,
            "event": { "event": "model_loaded", "model_id": "nanodet-coco-416",
                       "sha256": "0".repeat(64), "task": "object_detection",
                       "device": "cpu", "source_id": null }
        }))
    });
    assert!(why.contains("not a model of its record"), "{why}");
    let why = lie("r13", &|e| {
        let a = e
            .iter_mut()
            .find(|x| x["event"]["event"] == "source_analysed")
            .unwrap();
        a["event"]["tracks"] = serde_json::json!(999);
    });
    assert!(why.contains("disagrees with its record"), "{why}");
    let why = lie("r14", &|e| {
        e.retain(|x| x["event"]["event"] != "source_analysed");
    });
    assert!(why.contains("no record of analysing"), "{why}");
    env.shard("C-shard", "r15", "0/1", true, &env.key);
    resign(&env.shard_dir("C-shard", "r15", "0/1"), &env.key, |r| {
        r.plan_sha256 = "b".repeat(64)
    });
    let m = env.merge("C-shard", "r15");
    assert!(refusal(&m).contains("plan hash"), "{m:?}");
    env.shard("C-shard", "r16", "0/1", true, &env.key);
    let huge = env
        .shard_dir("C-shard", "r16", "0/1")
        .with_file_name("shard-0-of-2000000");
    std::fs::rename(env.shard_dir("C-shard", "r16", "0/1"), &huge).unwrap();
    resign(&huge, &env.key, |r| {
        r.shard = ShardSpec {
            index: 0,
            count: 2_000_000,
        }
    });
    let m = env.merge("C-shard", "r16");
    assert!(refusal(&m).contains("no run has"), "{m:?}");
    assert!(m.missing.is_empty(), "no count from a refused record");
    assert_eq!(env.shard_alerts("C-shard"), 14);
    assert_eq!(
        env.tracks("C-shard"),
        single,
        "nothing refused was imported"
    );

    // A camera named between the shard's run and its merge: the rows take the camera the
    // case gives the source now (as an analysis run after the naming would).
    env.open("C-renamed", &[clip(w, "e", "green", 35)]);
    env.shard("C-renamed", "r1", "0/1", false, &env.key);
    {
        let case = env.enter("C-renamed", "camera set");
        let id = case.sources().unwrap()[0].source_id.clone();
        vigie_app::clock::set_camera(&case, "gate-2", &[id]).unwrap();
    }
    let m = env.merge("C-renamed", "r1");
    assert_eq!(m.merged.len(), 1, "{m:?}");
    let raw = env.tracks_raw("C-renamed");
    assert!(
        !raw.is_empty() && raw.iter().all(|t| t.camera == "gate-2"),
        "{raw:?}"
    );

    // A merge interrupted after its rows were written and before the log recorded it
    // (simulated: the shard's rows put in the case's index by hand): merging again is
    // not refused as a duplicate; it imports the same rows and records the merge.
    env.open("C-resume", &[clip(w, "f", "red", 40)]);
    env.shard("C-resume", "r1", "0/1", false, &env.key);
    {
        let scratch = w.join("resume-copy.sqlite");
        std::fs::copy(
            env.shard_dir("C-resume", "r1", "0/1")
                .join("derived/index.sqlite"),
            &scratch,
        )
        .unwrap();
        let shard_ix = vigie_index::Index::open(&scratch).unwrap();
        let info = shard_ix.sources().unwrap().remove(0);
        let tracks = shard_ix.tracks_of_source(&info.record.source_id).unwrap();
        let case_ix_path = env
            .app
            .root()
            .case_dir("C-resume")
            .join("derived/index.sqlite");
        let mut case_ix = vigie_index::Index::open(&case_ix_path).unwrap();
        case_ix.write_source(&info.record, &tracks).unwrap();
    }
    let m = env.merge("C-resume", "r1");
    assert!(m.refused.is_empty(), "{m:?}");
    assert_eq!(m.merged.len(), 1, "{m:?}");
    assert!(!env.tracks_raw("C-resume").is_empty());

    // Duplicates: two runs over the same source before either was merged.
    env.shard("C-other", "ra", "0/1", false, &env.key);
    let m = env.merge("C-other", "r7");
    assert_eq!(m.merged.len(), 1, "{m:?}");
    let m = env.merge("C-other", "ra");
    assert!(m.refused[0]["reason"]
        .as_str()
        .unwrap()
        .contains("duplicate"));

    // A run with a shard missing is listed with the command that re-runs it.
    env.shard("C-shard", "r9", "1/2", true, &env.key);
    let m = env.merge("C-shard", "r9");
    assert_eq!(m.missing.len(), 1);
    assert!(m.missing[0]["rerun"]
        .as_str()
        .unwrap()
        .contains("--shard 0/2"));
    assert!(!m.complete());

    // The report lists the shards and nodes.
    let report = vigie_case::build_report(env.app.root(), "C-shard", env.app.clock()).unwrap();
    assert_eq!(report.shards.len(), 4, "r1 (3 shards) and r9");
    assert!(report.shards.iter().all(|s| s.node == "node-a"));

    // Closure erases shard results; nothing can be merged or sharded afterwards.
    Administration::new(&env.app, env.op.clone(), None)
        .close_case("C-shard", WhenBusy::Refuse)
        .unwrap();
    assert!(!env.app.root().case_dir("C-shard").join("shards").exists());
    assert!(EnteredCase::enter(&env.app, Some("C-shard"), &env.op, None, "merge").is_err());
}

/// List and hash the shard's files again and sign the record with `key`: what an
/// enrolled node that changed its own result would do.
fn refresh_and_resign(dir: &Path, key: &Path) {
    fn walk(base: &Path, d: &Path, out: &mut Vec<vigie_app::shard::ShardFile>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                if rel == "shard.json" {
                    continue;
                }
                let (sha256, bytes) = vigie_evidence::hash_file(&p, |_| {}).unwrap();
                out.push(vigie_app::shard::ShardFile {
                    path: rel,
                    sha256,
                    bytes,
                });
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    resign(dir, key, |r| r.files = files);
}

/// A forced re-analysis renumbers nothing it does not own: its images have names of
/// their own, and once its rows are committed the previous run's images are gone, so
/// the derived folders hold exactly the images the index names.
#[test]
fn a_forced_re_analysis_leaves_exactly_the_images_its_rows_name() {
    let env = Env::new();
    let w = env.work.path();
    let clips = vec![clip(w, "a", "red", 30)];
    env.open("C-again", &clips);
    let named = |env: &Env| -> Vec<String> {
        let mut v: Vec<String> = env
            .tracks_raw("C-again")
            .iter()
            .filter_map(|t| t.thumbnail.clone())
            .collect();
        v.sort();
        v
    };
    let on_disk = |env: &Env| -> Vec<String> {
        let dir = env
            .app
            .root()
            .case_dir("C-again")
            .join("derived/thumbnails");
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| format!("thumbnails/{}", e.unwrap().file_name().to_string_lossy()))
            .collect();
        v.sort();
        v
    };
    let first = analyze_sources(&env.enter("C-again", "analyze"), &request(), &NoProgress).unwrap();
    assert_eq!(first.analysed.len(), 1, "{:?}", first.failed);
    let before = named(&env);
    assert!(!before.is_empty());
    assert_eq!(on_disk(&env), before);
    // The run tag is the run's start in milliseconds: let the clock move on.
    std::thread::sleep(std::time::Duration::from_millis(5));
    let again = analyze_sources(
        &env.enter("C-again", "analyze"),
        &AnalyzeRequest {
            force: true,
            ..request()
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(again.analysed.len(), 1, "{:?}", again.failed);
    let after = named(&env);
    assert_eq!(after.len(), before.len(), "same tracks");
    assert!(
        after.iter().all(|a| !before.contains(a)),
        "new names: {before:?} -> {after:?}"
    );
    assert_eq!(on_disk(&env), after, "the previous run's images removed");
}
