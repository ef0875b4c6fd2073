//! Compute nodes: a node's key file (0600, refused when too open or corrupt), signatures
//! that verify only unchanged, and enrolments replayed from the verified machine log:
//! enrolled → found by key, duplicates refused, revoked → not found, for administrators
//! only once accounts exist, and nothing answered from a tampered log.

use std::sync::Arc;

use vigie_app::accounts::Accounts;
use vigie_app::admin::Administration;
use vigie_app::nodes::{self, NodeKey};
use vigie_app::{App, AppError, Operator};

const PASSWORD: &str = "correct horse battery staple";

fn app(dir: &std::path::Path) -> App {
    App::new(
        vigie_case::DataRoot::new(dir.to_owned()),
        Arc::new(vigie_audit::SystemClock),
    )
}

fn admin(app: &App, who: &str) -> Administration {
    Administration::new(app, Operator::new(who).unwrap(), Some("cluster for case X"))
}

fn machine_log_intact(app: &App) {
    let v = app.machine_log().unwrap().verify().unwrap();
    assert!(
        matches!(v.status, vigie_audit::VerifyStatus::Intact),
        "{v:?}"
    );
}

#[test]
fn node_key_file_is_private_and_stable() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("conf/vigie/node.ed25519");
    let missing = NodeKey::load(&path).unwrap_err();
    let msg = missing.to_string();
    assert!(
        msg.contains("vigie node init") && msg.contains("vigie node enroll"),
        "{msg}"
    );
    assert_eq!(missing.class().exit_code(), 2);

    let a = NodeKey::load_or_create(&path).unwrap();
    assert_eq!(a.public_hex().len(), 64);
    assert_eq!(a.path(), path);
    let b = NodeKey::load(&path).unwrap();
    assert_eq!(a.public_hex(), b.public_hex());
    assert_eq!(
        NodeKey::load_or_create(&path).unwrap().public_hex(),
        a.public_hex()
    );
    let public = std::fs::read_to_string(tmp.path().join("conf/vigie/node.ed25519.pub")).unwrap();
    assert_eq!(public.trim(), a.public_hex());
    assert!(!format!("{a:?}").contains(&std::fs::read_to_string(&path).unwrap().trim()[..32]));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        // Too open: refused, naming the fix.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = NodeKey::load(&path).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        assert!(NodeKey::load_or_create(&path).is_err());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    // Corrupt: refused (never replaced by a new key behind the operator's back).
    std::fs::write(&path, "not a key\n").unwrap();
    let err = NodeKey::load_or_create(&path).unwrap_err();
    assert!(err.to_string().contains("not 64 hex digits"), "{err}");
    assert!(err.to_string().contains("vigie node init"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key\n");
}

#[test]
fn signatures_verify_only_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let key = NodeKey::load_or_create(&tmp.path().join("a.ed25519")).unwrap();
    let other = NodeKey::load_or_create(&tmp.path().join("b.ed25519")).unwrap();
    let msg = b"{\"run\":\"r1\",\"shard\":0}";
    let sig = key.sign_hex(msg);
    assert_eq!(sig.len(), 128);
    assert!(nodes::verify_signature(&key.public_hex(), msg, &sig));
    // Tampered message, signature or key.
    assert!(!nodes::verify_signature(
        &key.public_hex(),
        b"{\"run\":\"r1\",\"shard\":1}",
        &sig
    ));
    let mut flipped = sig.clone().into_bytes();
    flipped[0] = if flipped[0] == b'a' { b'b' } else { b'a' };
    assert!(!nodes::verify_signature(
        &key.public_hex(),
        msg,
        std::str::from_utf8(&flipped).unwrap()
    ));
    assert!(!nodes::verify_signature(&other.public_hex(), msg, &sig));
    // Malformed input is false, never a panic.
    assert!(!nodes::verify_signature("", msg, &sig));
    assert!(!nodes::verify_signature(&key.public_hex(), msg, ""));
    assert!(!nodes::verify_signature("zz", msg, "zz"));
    assert!(!nodes::verify_signature(&key.public_hex()[..62], msg, &sig));
}

#[test]
fn enroll_find_refuse_revoke() {
    let home = tempfile::tempdir().unwrap();
    let app = app(home.path());
    let keys = tempfile::tempdir().unwrap();
    let n1 = NodeKey::load_or_create(&keys.path().join("n1.ed25519")).unwrap();
    let n2 = NodeKey::load_or_create(&keys.path().join("n2.ed25519")).unwrap();
    let adm = admin(&app, "op-test");

    assert!(nodes::enrolled_nodes(&app).unwrap().is_empty());
    assert!(nodes::node_by_key(&app, &n1.public_hex())
        .unwrap()
        .is_none());

    let e = adm.enroll_node("gpu-01", &n1.public_hex()).unwrap();
    assert_eq!(e.name, "gpu-01");
    assert_eq!(e.public_key, n1.public_hex());
    assert_eq!(e.enrolled_by, "op-test");
    assert!(e.revoked_at.is_none());
    let found = nodes::node_by_key(&app, &n1.public_hex()).unwrap().unwrap();
    assert_eq!(found.name, "gpu-01");
    // Upper-case hex names the same key.
    assert!(nodes::node_by_key(&app, &n1.public_hex().to_uppercase())
        .unwrap()
        .is_some());
    assert!(nodes::node_by_key(&app, &n2.public_hex())
        .unwrap()
        .is_none());

    // Refusals, each a usage error (exit 2) that writes nothing.
    let before = app.machine_log().unwrap().entries().unwrap().len();
    fn refused<T: std::fmt::Debug>(r: Result<T, AppError>, needle: &str) {
        let err = r.unwrap_err();
        assert_eq!(err.class().exit_code(), 2, "{err}");
        assert!(err.to_string().contains(needle), "{needle:?} not in {err}");
    }
    refused(
        adm.enroll_node("gpu-01", &n2.public_hex()),
        "already enrolled",
    );
    refused(
        adm.enroll_node("gpu-02", &n1.public_hex()),
        "already enrolled as node gpu-01",
    );
    refused(
        adm.enroll_node("bad name", &n2.public_hex()),
        "invalid node name",
    );
    refused(adm.enroll_node("", &n2.public_hex()), "invalid node name");
    refused(
        adm.enroll_node(&"x".repeat(65), &n2.public_hex()),
        "invalid node name",
    );
    refused(
        adm.enroll_node("gpu-02", "abcd"),
        "not an Ed25519 public key",
    );
    refused(
        adm.enroll_node("gpu-02", &"g".repeat(64)),
        "not an Ed25519 public key",
    );
    let own = app.machine_log().unwrap().key().public_hex();
    refused(
        adm.enroll_node("gpu-02", &own),
        "installation's own public key",
    );
    refused(adm.revoke_node("gpu-09"), "no enrolled node gpu-09");
    assert_eq!(app.machine_log().unwrap().entries().unwrap().len(), before);

    // The entry: a lifecycle event with the reason and the operator.
    let entries = app.machine_log().unwrap().entries().unwrap();
    let enrolled = entries
        .iter()
        .find(|e| {
            matches!(
                vigie_audit::Event::from_entry(e),
                Some(vigie_audit::Event::NodeEnrolled { .. })
            )
        })
        .unwrap();
    assert_eq!(enrolled.action, vigie_audit::Action::Lifecycle);
    assert!(enrolled.justification.contains("cluster for case X"));

    // Revoke: no longer found, for good.
    adm.revoke_node("gpu-01").unwrap();
    assert!(nodes::node_by_key(&app, &n1.public_hex())
        .unwrap()
        .is_none());
    refused(adm.revoke_node("gpu-01"), "already revoked");
    refused(adm.enroll_node("gpu-03", &n1.public_hex()), "was revoked");
    // The name can carry a new key.
    adm.enroll_node("gpu-01", &n2.public_hex()).unwrap();
    let all = nodes::enrolled_nodes(&app).unwrap();
    assert_eq!(all.len(), 2);
    assert!(all[0].revoked_at.is_some() && all[1].revoked_at.is_none());
    assert_eq!(
        nodes::node_by_key(&app, &n2.public_hex())
            .unwrap()
            .unwrap()
            .name,
        "gpu-01"
    );
    machine_log_intact(&app);

    // A tampered machine log is an error (exit 4), never a partial list.
    let log = home.path().join("machine/audit.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let forged = text.replacen("gpu-01", "gpu-0X", 1);
    assert_ne!(forged, text);
    std::fs::write(&log, forged).unwrap();
    let err = nodes::enrolled_nodes(&app).unwrap_err();
    assert_eq!(err.class().exit_code(), 4, "{err}");
    assert!(nodes::node_by_key(&app, &n2.public_hex()).is_err());
}

#[test]
fn only_administrators_once_accounts_exist() {
    let home = tempfile::tempdir().unwrap();
    let app = app(home.path());
    let keys = tempfile::tempdir().unwrap();
    let n1 = NodeKey::load_or_create(&keys.path().join("n1.ed25519")).unwrap();
    let n2 = NodeKey::load_or_create(&keys.path().join("n2.ed25519")).unwrap();

    let accounts = Accounts::open(&app).unwrap();
    accounts.add(None, "boss", true, PASSWORD).unwrap();
    let boss = Operator::new("boss").unwrap();
    accounts.add(Some(&boss), "inv1", false, PASSWORD).unwrap();

    for who in ["inv1", "stranger"] {
        let err = admin(&app, who)
            .enroll_node("gpu-01", &n1.public_hex())
            .unwrap_err();
        assert_eq!(err.class().exit_code(), 3, "{err}");
    }
    assert!(nodes::enrolled_nodes(&app).unwrap().is_empty());

    admin(&app, "boss")
        .enroll_node("gpu-01", &n1.public_hex())
        .unwrap();
    let err = admin(&app, "inv1").revoke_node("gpu-01").unwrap_err();
    assert_eq!(err.class().exit_code(), 3, "{err}");
    assert!(nodes::node_by_key(&app, &n1.public_hex())
        .unwrap()
        .is_some());

    // An entry vigie would not have written (by a non-administrator, appended through
    // the log itself) enrolls nothing at replay.
    app.record_machine(
        Some(&Operator::new("inv1").unwrap()),
        None,
        "forged",
        &vigie_audit::Event::NodeEnrolled {
            node: "rogue".into(),
            public_key: n2.public_hex(),
        },
    )
    .unwrap();
    machine_log_intact(&app);
    assert!(nodes::node_by_key(&app, &n2.public_hex())
        .unwrap()
        .is_none());
    assert_eq!(nodes::enrolled_nodes(&app).unwrap().len(), 1);
}

#[test]
fn public_key_files() {
    let tmp = tempfile::tempdir().unwrap();
    let secret = tmp.path().join("node.ed25519");
    let key = NodeKey::load_or_create(&secret).unwrap();
    let pub_file = tmp.path().join("node.ed25519.pub");
    assert_eq!(
        nodes::read_public_key_file(&pub_file).unwrap(),
        key.public_hex()
    );
    let plain = tmp.path().join("gpu-01.txt");
    std::fs::write(&plain, format!("  {}\n", key.public_hex().to_uppercase())).unwrap();
    assert_eq!(
        nodes::read_public_key_file(&plain).unwrap(),
        key.public_hex()
    );
    // The secret itself is refused, with or without its .pub beside it.
    let err = nodes::read_public_key_file(&secret).unwrap_err();
    assert!(err.to_string().contains("secret key"), "{err}");
    let copied = tmp.path().join("copied.ed25519");
    std::fs::copy(&secret, &copied).unwrap();
    assert!(nodes::read_public_key_file(&copied).is_err());
}
