//! Evidence is opened once: what is hashed is what is decoded (a file renamed over the
//! registered one between the check and the decoding is not what gets decoded), a change
//! written into it during the work is refused, and one bad path or file name costs only
//! itself in an ingest batch.

mod common;

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use vigie_app::evidence::{decode_source, ingest, DecodeRequest, IngestRequest};
use vigie_app::{App, AppError, EnteredCase, NoProgress, Operator, Progress};
use vigie_core::SamplingMode;
use vigie_decode::OutputSize;
use vigie_evidence::RegistryError;

fn case(home: &Path, id: &str) -> (App, Operator) {
    let app = common::app_at(home);
    let op = Operator::new("op-test").unwrap();
    common::open_case(&app, &op, id, "2026/901", "open once");
    (app, op)
}

/// `secs` seconds of a moving box at 10 fps: `10 * secs` frames.
fn clip(dir: &Path, name: &str, secs: u32) -> PathBuf {
    common::moving_box(dir, name, "red", 20, secs)
}

fn ingest_one(case: &EnteredCase, path: &Path) -> String {
    let out = ingest(
        case,
        &IngestRequest {
            paths: vec![path.to_owned()],
            camera: Some("door".into()),
            ..Default::default()
        },
        &NoProgress,
    )
    .unwrap();
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    out.ingested[0].record.source_id.clone()
}

fn request(source: &str) -> DecodeRequest {
    DecodeRequest {
        source: source.to_owned(),
        sampling: SamplingMode::All,
        width: OutputSize::Native,
        threads: 1,
        stream: None,
    }
}

/// Does `act` once, when the work on the source begins (after the hash check, before
/// the decoder opens anything) or at its first decoded frame.
struct Meddle<F: Fn() + Send + Sync> {
    at_frame: bool,
    done: AtomicBool,
    act: F,
}

impl<F: Fn() + Send + Sync> Meddle<F> {
    fn once(&self) {
        if !self.done.swap(true, Ordering::SeqCst) {
            (self.act)();
        }
    }
}

impl<F: Fn() + Send + Sync> Progress for Meddle<F> {
    fn begin(&self, _unit: &str, _total_ms: Option<u64>) {
        if !self.at_frame {
            self.once();
        }
    }
    fn frame(&self, _unit: &str, _pts_ms: i64) {
        if self.at_frame {
            self.once();
        }
    }
}

#[test]
fn a_file_renamed_over_the_evidence_after_the_check_is_not_what_gets_decoded() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let (app, op) = case(home.path(), "C-swap");
    let case = EnteredCase::enter(&app, Some("C-swap"), &op, None, "decode").unwrap();
    let original = clip(work.path(), "cam", 2);
    let id = ingest_one(&case, &original);
    let other_dir = tempfile::tempdir().unwrap();
    let other = clip(other_dir.path(), "other", 5);
    let swap = Meddle {
        at_frame: false,
        done: AtomicBool::new(false),
        act: || std::fs::rename(&other, &original).unwrap(),
    };
    let out = decode_source(&case, &request(&id), &swap).unwrap();
    assert!(swap.done.load(Ordering::SeqCst));
    // The registered 2 s (20 frames), not the 5 s renamed over its name.
    assert_eq!(out.report.frames_decoded, 20, "{:?}", out.report);
    // The name now holds other bytes: the next use is refused.
    let e = decode_source(&case, &request(&id), &NoProgress).unwrap_err();
    assert!(
        matches!(&e, AppError::Registry(RegistryError::HashMismatch { .. })),
        "{e:?}"
    );
}

#[test]
fn an_exported_frame_is_cut_from_the_opened_evidence() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let (app, op) = case(home.path(), "C-frame");
    let case = EnteredCase::enter(&app, Some("C-frame"), &op, None, "frame").unwrap();
    let original = clip(work.path(), "cam", 2);
    let id = ingest_one(&case, &original);
    let record = case.find_source(&id).unwrap();
    let opened = case.open_source(&record).unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    std::fs::rename(clip(other_dir.path(), "other", 5), &original).unwrap();
    // At 3.5 s: the registered 2 s clip has no frame there; the 5 s file now at its name
    // would.
    let late = vigie_app::redact::marked_frame(&case, &opened, None, 3_500).unwrap();
    assert!(
        late.is_none(),
        "a frame of the file renamed over the evidence"
    );
    let early = vigie_app::redact::marked_frame(&case, &opened, None, 500).unwrap();
    assert!(early.is_some());
}

#[test]
fn a_player_plays_and_hashes_the_pinned_evidence() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let (app, op) = case(home.path(), "C-pin");
    let case = EnteredCase::enter(&app, Some("C-pin"), &op, None, "play").unwrap();
    let original = clip(work.path(), "cam", 2);
    let id = ingest_one(&case, &original);
    let record = case.find_source(&id).unwrap();
    let pinned = case.pin_source(&record).unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    std::fs::rename(clip(other_dir.path(), "other", 5), &original).unwrap();
    // The background hash reads the pinned inode: the registered bytes, verified.
    let stop = AtomicBool::new(false);
    assert!(case
        .verify_source_until(&record, &pinned, &stop, |_| {})
        .unwrap());
    // And the decoder opens the same inode: 2 s, not the 5 s now at the name.
    let mut dec = vigie_decode::Decoder::open(&pinned.decode_path(), &Default::default()).unwrap();
    dec.run_to_end().unwrap();
    assert_eq!(dec.finish().frames_decoded, 20);
}

#[test]
fn a_change_written_into_the_evidence_during_decoding_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let (app, op) = case(home.path(), "C-write");
    let case = EnteredCase::enter(&app, Some("C-write"), &op, None, "decode").unwrap();
    let original = clip(work.path(), "cam", 2);
    let id = ingest_one(&case, &original);
    let write = Meddle {
        at_frame: true,
        done: AtomicBool::new(false),
        act: || {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&original)
                .unwrap();
            f.write_all(b"appended during the decoding").unwrap();
        },
    };
    let e = decode_source(&case, &request(&id), &write).unwrap_err();
    assert!(write.done.load(Ordering::SeqCst));
    assert!(
        matches!(&e, AppError::Registry(RegistryError::EvidenceChanged(_))),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("evidence changed during processing"),
        "{e}"
    );
    // Refused with the evidence-changed alert, like a hash mismatch.
    assert_eq!(
        e.class(),
        vigie_app::ErrorClass::Refused {
            alert: Some(vigie_core::AlertKind::EvidenceChanged)
        }
    );
}

#[test]
fn one_bad_path_or_name_costs_only_itself_in_an_ingest_batch() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let (app, op) = case(home.path(), "C-batch");
    let case = EnteredCase::enter(&app, Some("C-batch"), &op, None, "ingest").unwrap();
    let folder = work.path().join("export");
    std::fs::create_dir(&folder).unwrap();
    let good = clip(&folder, "good", 1);
    let bad_name = folder.join(OsStr::from_bytes(b"bad\xffname.mp4"));
    std::fs::copy(clip(work.path(), "copy", 2), &bad_name).unwrap();
    std::os::unix::fs::symlink(folder.join("gone.mp4"), folder.join("broken.mp4")).unwrap();
    let missing = work.path().join("missing.avi");
    let out = ingest(
        &case,
        &IngestRequest {
            paths: vec![folder.clone(), missing.clone()],
            camera: Some("door".into()),
            ..Default::default()
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(out.ingested.len(), 1, "{:?}", out.failed);
    assert_eq!(
        out.ingested[0].record.path,
        std::fs::canonicalize(&good).unwrap()
    );
    let why = |p: &Path| {
        out.failed
            .iter()
            .find(|f| f.path == p)
            .map(|f| f.error.to_string())
            .unwrap_or_else(|| panic!("{} not among the failures: {:?}", p.display(), out.failed))
    };
    assert!(why(&bad_name).contains("not valid UTF-8"));
    assert!(why(&folder.join("broken.mp4")).contains("broken symbolic link"));
    assert!(why(&missing).contains("no such file"));
    assert_eq!(out.failed.len(), 3, "{:?}", out.failed);
}
