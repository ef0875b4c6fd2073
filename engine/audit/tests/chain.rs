//! The audit chain against every way of tampering with it, against crashes, and against
//! parallel writers (threads and processes).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use vigie_audit::{
    canonical, Action, AuditError, AuditLog, Clock, FindingKind, InstallationKey, NewEntry,
    SignedHead, SystemClock, VerifyStatus, HEAD_FILE, LOG_FILE,
};

const SECRET: [u8; 32] = [42; 32];
const LOG_ID: &str = "case:TEST-1";

/// A clock that advances one second per reading, shared by every log of the test binary
/// (entry times never go backwards within a log, so a reopened log must not restart the
/// clock).
struct StepClock;
static STEP_NOW: AtomicI64 = AtomicI64::new(1_780_000_000);
impl StepClock {
    fn new() -> Self {
        Self
    }
}
impl Clock for StepClock {
    fn now(&self) -> DateTime<Utc> {
        let s = STEP_NOW.fetch_add(1, Ordering::Relaxed);
        Utc.timestamp_opt(s, 0).unwrap()
    }
}

fn key() -> Arc<InstallationKey> {
    Arc::new(InstallationKey::from_secret_bytes(SECRET))
}

fn open(dir: &Path) -> AuditLog {
    AuditLog::open(dir, LOG_ID, key(), Arc::new(StepClock::new())).unwrap()
}

fn entry(i: usize) -> NewEntry {
    let action = Action::ALL[i % Action::ALL.len()];
    NewEntry {
        operator: format!("op{}", i % 3),
        case: Some("TEST-1".into()),
        procedure: if i & 1 == 0 {
            Some("2026/00042".into())
        } else {
            None
        },
        action,
        params: json!({"query": format!("red car {i}"), "n": i, "ratio": 0.5 + i as f64, "flags": [true, null]}),
        justification: format!("lead {i}"),
        result: json!({"count": i * 7, "sha256": "ab".repeat(32)}),
    }
}

/// A log with `n` entries; returns its directory's lines.
fn build(dir: &Path, n: usize) -> Vec<String> {
    let log = open(dir);
    for i in 0..n {
        log.append(entry(i)).unwrap();
    }
    lines(dir)
}

fn lines(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join(LOG_FILE))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(dir: &Path, lines: &[String]) {
    let mut s = lines.join("\n");
    if !lines.is_empty() {
        s.push('\n');
    }
    fs::write(dir.join(LOG_FILE), s).unwrap();
}

fn status(dir: &Path) -> VerifyStatus {
    open(dir).verify().unwrap().status
}

fn tampered_at(dir: &Path) -> (FindingKind, u64, Option<u64>) {
    match status(dir) {
        VerifyStatus::Tampered { finding } => (finding.kind, finding.line, finding.seq),
        other => panic!("expected tampering to be detected, got {other:?}"),
    }
}

/// Every way to change one JSON value.
fn mutations_of(v: &Value) -> Vec<Value> {
    match v {
        Value::Null => vec![json!("x"), json!(0)],
        Value::Bool(b) => vec![json!(!b), Value::Null],
        Value::Number(n) => {
            let mut out = vec![json!(n.as_f64().unwrap() + 1.0), json!(n.to_string())];
            if let Some(i) = n.as_u64() {
                out.push(json!(i + 1));
                if i > 0 {
                    out.push(json!(i - 1));
                }
            }
            out
        }
        Value::String(s) => {
            let mut out = vec![json!(format!("{s}x")), Value::Null];
            if !s.is_empty() {
                out.push(json!(&s[..s.len() - 1]));
            }
            if let Some(a) = Action::ALL.iter().find(|a| a.as_str() != s) {
                out.push(json!(a.as_str()));
            }
            out
        }
        Value::Array(a) => {
            let mut more = a.clone();
            more.push(json!(1));
            let mut out = vec![Value::Array(more)];
            if !a.is_empty() {
                out.push(Value::Array(a[1..].to_vec()));
            }
            out
        }
        Value::Object(m) => {
            let mut more = m.clone();
            more.insert("zz_added".into(), json!(1));
            let mut out = vec![Value::Object(more)];
            for (k, inner) in m {
                for mutated in mutations_of(inner) {
                    let mut changed = m.clone();
                    changed.insert(k.clone(), mutated);
                    out.push(Value::Object(changed));
                }
                let mut removed = m.clone();
                removed.remove(k);
                out.push(Value::Object(removed));
            }
            out
        }
    }
}

/// Recompute `hash` of an edited entry, as an attacker who knows the algorithm would.
fn rehash(obj: &mut serde_json::Map<String, Value>) {
    let h = vigie_audit::hash_of_value(obj);
    obj.insert("hash".into(), json!(h));
}

#[test]
fn intact_log_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path(), 5);
    let log = open(tmp.path());
    let v = log.verify().unwrap();
    assert_eq!(v.status, VerifyStatus::Intact, "{}", v.summary());
    assert_eq!(v.entries_verified, 5);
    assert_eq!(v.signed_head.as_ref().unwrap().seq, 5);
    let entries = log.entries().unwrap();
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(entries[2].params["query"], "red car 2");
    for e in &entries {
        assert_eq!(e.hash, e.compute_hash());
    }
    // Lines are canonical JSON.
    for line in lines(tmp.path()) {
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(canonical::to_canonical_string(&v), line);
    }
}

#[test]
fn empty_log_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let v = open(tmp.path()).verify().unwrap();
    assert_eq!(v.status, VerifyStatus::Intact);
    assert_eq!(v.entries_verified, 0);
}

#[test]
fn every_field_of_every_entry_is_protected() {
    let tmp = tempfile::tempdir().unwrap();
    let original = build(tmp.path(), 6);
    let mut checked = 0;
    for (i, line) in original.iter().enumerate() {
        let Value::Object(obj) = serde_json::from_str::<Value>(line).unwrap() else {
            unreachable!()
        };
        assert_eq!(obj.len(), 12, "every entry has all twelve fields");
        for mutated in mutations_of(&Value::Object(obj.clone())) {
            // As written (hash left alone): the entry itself is flagged.
            let mut edited = original.clone();
            edited[i] = canonical::to_canonical_string(&mutated);
            write_lines(tmp.path(), &edited);
            if edited[i] == original[i] {
                // A mutation that is a no-op in canonical form (e.g. 1.0 vs 1).
                continue;
            }
            let s = status(tmp.path());
            let VerifyStatus::Tampered { finding } = s else {
                panic!("mutation of line {} went unnoticed: {}", i + 1, edited[i]);
            };
            assert_eq!(
                finding.line,
                i as u64 + 1,
                "mutation {} of line {}: {finding:?}",
                edited[i],
                i + 1
            );

            // Re-hashed by someone who knows the algorithm: caught at this entry (seq or
            // link) or at the next one's link, or by the signed head for the last entry.
            let Value::Object(mut m) = mutated.clone() else {
                unreachable!()
            };
            if m.get("hash").is_some_and(Value::is_string) {
                rehash(&mut m);
                edited[i] = canonical::to_canonical_string(&Value::Object(m));
                if edited[i] == original[i] {
                    // Re-hashing after editing only the hash restores the original.
                    continue;
                }
                write_lines(tmp.path(), &edited);
                let (kind, at, _) = tampered_at(tmp.path());
                let i1 = i as u64 + 1;
                assert!(
                    at == i1
                        || at == i1 + 1
                        || (i + 1 == original.len() && kind == FindingKind::HeadMismatch),
                    "re-hashed mutation of line {i1} reported at line {at} ({kind:?})"
                );
            }
            checked += 1;
        }
    }
    write_lines(tmp.path(), &original);
    assert_eq!(status(tmp.path()), VerifyStatus::Intact);
    assert!(checked > 6 * 30, "only {checked} mutations");
}

#[test]
fn mutated_bytes_anywhere_are_detected() {
    // Flip each byte of the file (not only JSON-level edits).
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path(), 3);
    let path = tmp.path().join(LOG_FILE);
    let original = fs::read(&path).unwrap();
    for pos in 0..original.len() {
        if original[pos] == b'\n' {
            continue;
        }
        let mut bytes = original.clone();
        bytes[pos] ^= 0x01;
        fs::write(&path, &bytes).unwrap();
        let s = status(tmp.path());
        assert!(
            matches!(s, VerifyStatus::Tampered { .. }),
            "flipping byte {pos} ({:?}) went unnoticed: {s:?}",
            original[pos] as char
        );
    }
}

#[test]
fn deleted_entries_are_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let original = build(tmp.path(), 6);
    for i in 0..original.len() {
        let mut edited = original.clone();
        edited.remove(i);
        write_lines(tmp.path(), &edited);
        let (kind, at, seq) = tampered_at(tmp.path());
        assert_eq!(at, i as u64 + 1, "deleting entry {}", i + 1);
        if i + 1 == original.len() {
            assert_eq!(kind, FindingKind::Truncated);
            assert_eq!(seq, Some(6));
        } else {
            assert_eq!(kind, FindingKind::SequenceBreak);
            assert_eq!(seq, Some(i as u64 + 2));
        }
    }
}

#[test]
fn reordered_entries_are_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let original = build(tmp.path(), 6);
    for i in 0..original.len() - 1 {
        let mut edited = original.clone();
        edited.swap(i, i + 1);
        write_lines(tmp.path(), &edited);
        let (_, at, _) = tampered_at(tmp.path());
        assert_eq!(at, i as u64 + 1, "swapping entries {} and {}", i + 1, i + 2);
    }
}

#[test]
fn inserted_entries_are_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let original = build(tmp.path(), 5);
    for i in 0..=original.len() {
        // A duplicate of an existing entry.
        let mut edited = original.clone();
        let dup = original[i.min(original.len() - 1)].clone();
        edited.insert(i, dup);
        write_lines(tmp.path(), &edited);
        let (_, at, _) = tampered_at(tmp.path());
        assert!(
            at == i as u64 + 1 || at == i as u64 + 2,
            "duplicate inserted at {i} reported at {at}"
        );

        // A forged entry with the right seq, link and hash: the *next* entry's seq breaks,
        // or, at the end, the signed head no longer covers the log.
        let mut edited = original.clone();
        let mut forged: serde_json::Map<String, Value> =
            match serde_json::from_str(&original[0]).unwrap() {
                Value::Object(m) => m,
                _ => unreachable!(),
            };
        forged.insert("seq".into(), json!(i as u64 + 1));
        let prev = if i == 0 {
            vigie_audit::genesis_hash(LOG_ID)
        } else {
            serde_json::from_str::<Value>(&original[i - 1]).unwrap()["hash"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        forged.insert("prev_hash".into(), json!(prev));
        if i > 0 {
            // Dated like its predecessor, so that the broken link is what gives it away.
            let t = serde_json::from_str::<Value>(&original[i - 1]).unwrap()["time"].clone();
            forged.insert("time".into(), t);
        }
        forged.insert("justification".into(), json!("forged"));
        rehash(&mut forged);
        edited.insert(i, canonical::to_canonical_string(&Value::Object(forged)));
        write_lines(tmp.path(), &edited);
        let (kind, at, _) = tampered_at(tmp.path());
        if i == original.len() {
            assert_eq!((kind, at), (FindingKind::UnsignedEntries, i as u64 + 1));
        } else {
            assert_eq!(at, i as u64 + 2, "forged entry at {i}: {kind:?}");
        }
    }
}

#[test]
fn truncation_is_detected_through_the_signed_head() {
    let tmp = tempfile::tempdir().unwrap();
    let original = build(tmp.path(), 5);
    for keep in 0..original.len() {
        write_lines(tmp.path(), &original[..keep]);
        let (kind, at, seq) = tampered_at(tmp.path());
        assert_eq!(kind, FindingKind::Truncated, "keeping {keep}");
        assert_eq!(at, keep as u64 + 1);
        assert_eq!(seq, Some(keep as u64 + 1));
        // And nobody may append after a truncation (it would re-sign the shorter chain).
        let err = open(tmp.path()).append(entry(9)).unwrap_err();
        assert!(matches!(err, AuditError::Tampered { .. }), "{err}");
        assert!(err.to_string().contains("vigie audit verify"));
    }
    // Deleting the whole log file is truncation too.
    fs::remove_file(tmp.path().join(LOG_FILE)).unwrap();
    let (kind, ..) = tampered_at(tmp.path());
    assert_eq!(kind, FindingKind::Truncated);
    assert!(matches!(
        open(tmp.path()).append(entry(9)).unwrap_err(),
        AuditError::Tampered { .. }
    ));
}

#[test]
fn head_problems_are_detected() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path(), 3);
    let head_path = tmp.path().join(HEAD_FILE);
    let good = fs::read(&head_path).unwrap();

    fs::remove_file(&head_path).unwrap();
    assert_eq!(tampered_at(tmp.path()).0, FindingKind::HeadMissing);
    assert!(open(tmp.path()).append(entry(1)).is_err());

    fs::write(&head_path, b"{not json").unwrap();
    assert_eq!(tampered_at(tmp.path()).0, FindingKind::HeadUnreadable);

    let head: SignedHead = serde_json::from_slice(&good).unwrap();
    let other = InstallationKey::from_secret_bytes([1; 32]);
    let foreign = SignedHead::sign(&other, LOG_ID, head.seq, &head.hash, None);
    fs::write(&head_path, foreign.to_bytes()).unwrap();
    assert_eq!(tampered_at(tmp.path()).0, FindingKind::HeadInvalid);

    let mut forged = head.clone();
    forged.seq = 2;
    fs::write(&head_path, forged.to_bytes()).unwrap();
    assert_eq!(tampered_at(tmp.path()).0, FindingKind::HeadInvalid);

    let other_log = SignedHead::sign(&key(), "case:OTHER", head.seq, &head.hash, None);
    fs::write(&head_path, other_log.to_bytes()).unwrap();
    assert_eq!(tampered_at(tmp.path()).0, FindingKind::HeadInvalid);

    let wrong_hash = SignedHead::sign(&key(), LOG_ID, head.seq, &"0".repeat(64), None);
    fs::write(&head_path, wrong_hash.to_bytes()).unwrap();
    assert_eq!(tampered_at(tmp.path()).0, FindingKind::HeadMismatch);

    let way_behind = SignedHead::sign(
        &key(),
        LOG_ID,
        1,
        open(tmp.path()).entries().unwrap()[0].hash.as_str(),
        None,
    );
    fs::write(&head_path, way_behind.to_bytes()).unwrap();
    let (kind, at, _) = tampered_at(tmp.path());
    assert_eq!((kind, at), (FindingKind::UnsignedEntries, 2));

    fs::write(&head_path, &good).unwrap();
    assert_eq!(status(tmp.path()), VerifyStatus::Intact);
}

#[test]
fn entry_copied_from_another_log_is_detected() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let la = build(a.path(), 2);
    let other = AuditLog::open(b.path(), "case:OTHER", key(), Arc::new(StepClock::new())).unwrap();
    other.append(entry(0)).unwrap();
    let lb = lines(b.path());
    write_lines(a.path(), &[lb[0].clone(), la[1].clone()]);
    let (kind, at, _) = tampered_at(a.path());
    assert_eq!((kind, at), (FindingKind::BrokenLink, 1));
}

#[test]
fn torn_last_line_is_reported_as_such_and_set_aside() {
    let tmp = tempfile::tempdir().unwrap();
    let original = build(tmp.path(), 4);
    // What a crash in the middle of the fifth write leaves: a prefix without newline.
    let log = open(tmp.path());
    let fifth = {
        let other = tempfile::tempdir().unwrap();
        let l = build(other.path(), 5);
        l[4].clone()
    };
    for cut in [1, fifth.len() / 2, fifth.len() - 1, fifth.len()] {
        let mut bytes = fs::read(tmp.path().join(LOG_FILE)).unwrap();
        bytes.truncate(original.iter().map(|l| l.len() + 1).sum());
        bytes.extend_from_slice(&fifth.as_bytes()[..cut]);
        fs::write(tmp.path().join(LOG_FILE), &bytes).unwrap();
        let v = log.verify().unwrap();
        assert_eq!(
            v.status,
            VerifyStatus::TornTail {
                line: 5,
                bytes: cut as u64
            },
            "{}",
            v.summary()
        );
        assert!(v.is_trustworthy());
        assert_eq!(v.entries_verified, 4);
        assert!(v.summary().contains("torn"), "{}", v.summary());
        assert_eq!(log.entries().unwrap().len(), 4);
    }
    // The next append sets the fragment aside and records that it did.
    log.append(entry(7)).unwrap();
    let v = log.verify().unwrap();
    assert_eq!(v.status, VerifyStatus::Intact, "{}", v.summary());
    let entries = log.entries().unwrap();
    assert_eq!(entries.len(), 6);
    assert_eq!(entries[4].action, Action::Alert);
    assert_eq!(entries[4].params["event"], "audit_torn_tail_set_aside");
    assert_eq!(entries[4].params["torn_bytes"], fifth.len());
    assert_eq!(entries[5].justification, "lead 7");
    let side = tmp
        .path()
        .join(entries[4].params["set_aside_as"].as_str().unwrap());
    assert_eq!(fs::read(side).unwrap(), fifth.as_bytes());
}

#[test]
fn torn_tail_after_cutting_entries_is_still_tampering() {
    // Someone cuts the last entry in half to pass it off as a crash: the signed head
    // still names it.
    let tmp = tempfile::tempdir().unwrap();
    let original = build(tmp.path(), 4);
    let mut s: String = original[..3].iter().map(|l| format!("{l}\n")).collect();
    s.push_str(&original[3][..20]);
    fs::write(tmp.path().join(LOG_FILE), s).unwrap();
    assert_eq!(tampered_at(tmp.path()).0, FindingKind::Truncated);
}

#[test]
fn crash_between_write_and_commit_is_not_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let original = build(tmp.path(), 3);
    let hash_of = |i: usize| -> String {
        serde_json::from_str::<Value>(&original[i]).unwrap()["hash"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let third = vigie_audit::ChainPoint {
        seq: 3,
        hash: hash_of(2),
    };
    // Entry 3 announced, written, not yet committed.
    let behind = SignedHead::sign(&key(), LOG_ID, 2, &hash_of(1), Some(third.clone()));
    fs::write(tmp.path().join(HEAD_FILE), behind.to_bytes()).unwrap();
    let v = open(tmp.path()).verify().unwrap();
    assert_eq!(
        v.status,
        VerifyStatus::HeadBehind {
            head_seq: 2,
            last_seq: 3
        }
    );
    assert!(v.is_trustworthy());
    // The next append commits it.
    open(tmp.path()).append(entry(3)).unwrap();
    assert_eq!(status(tmp.path()), VerifyStatus::Intact);

    // Without the announcement, the same state is an entry added without the key.
    let unannounced = SignedHead::sign(&key(), LOG_ID, 2, &hash_of(1), None);
    write_lines(tmp.path(), &original);
    fs::write(tmp.path().join(HEAD_FILE), unannounced.to_bytes()).unwrap();
    assert_eq!(
        tampered_at(tmp.path()),
        (FindingKind::UnsignedEntries, 3, Some(3))
    );
    assert!(open(tmp.path()).append(entry(3)).is_err());

    // Announced but never written (stopped before the write).
    let fourth = vigie_audit::ChainPoint {
        seq: 4,
        hash: "0".repeat(64),
    };
    let announced = SignedHead::sign(&key(), LOG_ID, 3, &hash_of(2), Some(fourth));
    fs::write(tmp.path().join(HEAD_FILE), announced.to_bytes()).unwrap();
    assert_eq!(
        status(tmp.path()),
        VerifyStatus::Interrupted { pending_seq: 4 }
    );
    open(tmp.path()).append(entry(4)).unwrap();
    assert_eq!(status(tmp.path()), VerifyStatus::Intact);
}

#[test]
fn incomplete_entries_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let log = open(tmp.path());
    let mut e = entry(0);
    e.operator = "  ".into();
    assert!(matches!(
        log.append(e).unwrap_err(),
        AuditError::Incomplete(_)
    ));
    let mut e = entry(0);
    e.justification = String::new();
    assert!(matches!(
        log.append(e).unwrap_err(),
        AuditError::Incomplete(_)
    ));
    assert_eq!(log.entries().unwrap().len(), 0);
}

#[cfg(unix)]
#[test]
fn files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("audit");
    build(&dir, 1);
    assert_eq!(
        fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for f in fs::read_dir(&dir).unwrap() {
        let f = f.unwrap();
        let mode = f.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{:?}", f.file_name());
    }
}

#[test]
fn parallel_threads_never_interleave() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    std::thread::scope(|s| {
        for t in 0..6 {
            let dir = dir.clone();
            s.spawn(move || {
                // Each thread has its own log handle, hence its own lock file descriptor.
                let log = AuditLog::open(&dir, LOG_ID, key(), Arc::new(SystemClock)).unwrap();
                for i in 0..20 {
                    let mut e = entry(i);
                    e.params = json!({"thread": t, "i": i, "pad": "x".repeat(3000)});
                    log.append(e).unwrap();
                }
            });
        }
    });
    let log = open(&dir);
    let v = log.verify().unwrap();
    assert_eq!(v.status, VerifyStatus::Intact, "{}", v.summary());
    let mut seen: Vec<(u64, u64)> = log
        .entries()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e.params["thread"].as_u64().unwrap(),
                e.params["i"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(seen.len(), 120);
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 120);
}

const CHILD_DIR_ENV: &str = "VIGIE_AUDIT_TEST_CHILD_DIR";
const CHILD_COUNT_ENV: &str = "VIGIE_AUDIT_TEST_CHILD_COUNT";

/// Run by child processes of the tests below (ignored in normal runs).
#[test]
#[ignore = "helper run as a child process by the multi-process tests"]
fn helper_child_writer() {
    let dir = PathBuf::from(std::env::var(CHILD_DIR_ENV).expect("run by the parent test"));
    let count: u64 = std::env::var(CHILD_COUNT_ENV).unwrap().parse().unwrap();
    let log = AuditLog::open(&dir, LOG_ID, key(), Arc::new(SystemClock)).unwrap();
    let pid = std::process::id();
    let mut i = 0;
    while i < count {
        let mut e = entry(i as usize);
        e.params = json!({"pid": pid, "i": i, "pad": "y".repeat(2000)});
        log.append(e).unwrap();
        i += 1;
    }
}

fn child(dir: &Path, count: u64) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "--ignored",
        "--exact",
        "helper_child_writer",
        "--test-threads=1",
        "-q",
    ])
    .env(CHILD_DIR_ENV, dir)
    .env(CHILD_COUNT_ENV, count.to_string())
    .stdout(std::process::Stdio::null());
    c
}

#[test]
fn parallel_processes_never_interleave() {
    let tmp = tempfile::tempdir().unwrap();
    let mut children: Vec<_> = (0..4)
        .map(|_| child(tmp.path(), 15).spawn().unwrap())
        .collect();
    // And this process writes at the same time.
    let log = AuditLog::open(tmp.path(), LOG_ID, key(), Arc::new(SystemClock)).unwrap();
    for i in 0..15 {
        let mut e = entry(i);
        e.params = json!({"pid": 0, "i": i});
        log.append(e).unwrap();
    }
    for c in &mut children {
        assert!(c.wait().unwrap().success());
    }
    let v = log.verify().unwrap();
    assert_eq!(v.status, VerifyStatus::Intact, "{}", v.summary());
    let entries = log.entries().unwrap();
    assert_eq!(entries.len(), 75);
    let pids: std::collections::BTreeSet<u64> = entries
        .iter()
        .map(|e| e.params["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(pids.len(), 5, "entries from every process");
}

#[cfg(unix)]
#[test]
fn kill_9_during_writes_leaves_a_log_that_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    for round in 0..3 {
        let mut c = child(tmp.path(), u64::MAX).spawn().unwrap();
        // Let it write for a while, then kill it without warning.
        std::thread::sleep(std::time::Duration::from_millis(250 + 150 * round));
        let _ = Command::new("kill")
            .args(["-9", &c.id().to_string()])
            .status()
            .unwrap();
        let _ = c.wait();
        // The children write with the system clock: so does this log (entry times never
        // go backwards).
        let log = AuditLog::open(tmp.path(), LOG_ID, key(), Arc::new(SystemClock)).unwrap();
        let v = log.verify().unwrap();
        assert!(v.is_trustworthy(), "after kill -9: {}", v.summary());
        assert!(
            v.entries_verified > 0,
            "the child wrote nothing before being killed"
        );
        // And the log accepts new entries, ending intact.
        log.append(entry(0)).unwrap();
        let v = log.verify().unwrap();
        assert_eq!(v.status, VerifyStatus::Intact, "{}", v.summary());
    }
}

/// A clock the test sets.
struct SetClock(AtomicI64);
impl Clock for SetClock {
    fn now(&self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.0.load(Ordering::SeqCst), 0).unwrap()
    }
}

#[test]
fn a_clock_set_back_cannot_write_an_earlier_entry() {
    let d = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock(AtomicI64::new(1_780_000_100)));
    let log = AuditLog::open(d.path(), LOG_ID, key(), clock.clone()).unwrap();
    log.append(entry(0)).unwrap();
    clock.0.store(1_780_000_000, Ordering::SeqCst); // set back 100 s
    let err = log.append(entry(1)).unwrap_err();
    assert!(matches!(err, AuditError::ClockWentBack { .. }), "{err}");
    assert!(err.to_string().contains("correct the system clock"));
    clock.0.store(1_780_000_200, Ordering::SeqCst);
    log.append(entry(1)).unwrap();
    assert_eq!(log.verify().unwrap().status, VerifyStatus::Intact);
}

/// Entries (hash-chained, head signed) whose times are given, written by `version`.
fn forged_log(times: &[i64], version: &str) -> (Vec<u8>, vigie_audit::HeadFile) {
    let k = key();
    let mut prev = vigie_audit::genesis_hash(LOG_ID);
    let mut bytes = Vec::new();
    let mut last = (0, prev.clone());
    for (i, t) in times.iter().enumerate() {
        let n = entry(i);
        let mut e = vigie_audit::Entry {
            seq: i as u64 + 1,
            time: Utc.timestamp_opt(*t, 0).unwrap(),
            operator: n.operator,
            case: n.case,
            procedure: n.procedure,
            action: n.action,
            params: n.params,
            justification: n.justification,
            result: n.result,
            software_version: version.into(),
            prev_hash: prev.clone(),
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        prev = e.hash.clone();
        last = (e.seq, e.hash.clone());
        bytes.extend_from_slice(e.to_line().as_bytes());
        bytes.push(b'\n');
    }
    let head = SignedHead::sign(&k, LOG_ID, last.0, &last.1, None);
    (bytes, vigie_audit::HeadFile::Present(head))
}

#[test]
fn an_entry_dated_before_its_predecessor_is_flagged() {
    let k = key();
    let times = [1_780_000_000, 1_780_000_100, 1_780_000_050];
    // Written by a vigie that refused such entries: a failure naming the entry.
    let (bytes, head) = forged_log(&times, "vigie 0.2.0");
    let v = vigie_audit::verify_bytes(&bytes, &head, LOG_ID, &k.verifying_key());
    match &v.status {
        VerifyStatus::Tampered { finding } => {
            assert_eq!(finding.kind, FindingKind::TimeWentBack);
            assert_eq!(finding.seq, Some(3));
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    // Written before the rule: a warning, the log stays trustworthy.
    let (bytes, head) = forged_log(&times, "vigie 0.1.0");
    let v = vigie_audit::verify_bytes(&bytes, &head, LOG_ID, &k.verifying_key());
    assert_eq!(v.status, VerifyStatus::Intact);
    assert_eq!(v.warnings.len(), 1);
    assert_eq!(v.warnings[0].kind, FindingKind::TimeWentBack);
    assert!(v.summary().contains("warning at line 3"));
    assert!(vigie_audit::time_order_enforced("vigie 0.2.0"));
    assert!(vigie_audit::time_order_enforced(
        "vigie 1.0.0 (test clock VIGIE_FAKE_NOW)"
    ));
    assert!(!vigie_audit::time_order_enforced("vigie 0.1.0"));
}
