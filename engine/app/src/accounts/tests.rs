//! Accounts against a real data root: the machine log is the only source of rights.

use std::sync::Arc;

use vigie_audit::Clock;
use vigie_case::DataRoot;

use super::*;
use crate::types::OpenRequest;

const PW: &str = "correct horse battery";
const PW2: &str = "another long passphrase";

/// A clock the test moves forward.
struct StepClock(Mutex<DateTime<Utc>>);

impl Clock for StepClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

struct Env {
    _dir: tempfile::TempDir,
    app: App,
    clock: Arc<StepClock>,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(StepClock(Mutex::new(Utc::now())));
        let app = App::new(DataRoot::new(dir.path().to_owned()), clock.clone());
        Self {
            _dir: dir,
            app,
            clock,
        }
    }

    fn advance(&self, minutes: i64) {
        *self.clock.0.lock().unwrap() += Duration::minutes(minutes);
    }

    fn accounts(&self) -> Accounts {
        Accounts::open(&self.app).unwrap()
    }

    /// Open case `id` (as the tests' unregistered operator, before any account exists
    /// or through the administration door, which accounts do not gate here).
    fn open_case(&self, id: &str) {
        crate::admin::Administration::new(&self.app, op("op-test"), None)
            .open_case(OpenRequest {
                case_id: Some(id.into()),
                procedure: format!("2026/{id}"),
                authorization: "OJ-1".into(),
                magistrate: "Mme Juge".into(),
                authorized_on: Utc::now().date_naive(),
                valid_until: None,
                operator: "op-test".into(),
                purpose: "accounts test".into(),
            })
            .unwrap();
    }

    fn enter(&self, who: &str, case_id: &str) -> Result<crate::EnteredCase, AppError> {
        crate::EnteredCase::enter(&self.app, Some(case_id), &op(who), None, "test")
    }

    fn entries(&self) -> Vec<Entry> {
        self.app.machine_log().unwrap().entries().unwrap()
    }

    fn events(&self) -> Vec<Event> {
        self.entries()
            .iter()
            .filter_map(Event::from_entry)
            .collect()
    }

    /// The machine log's alerts of `kind`, as their details.
    fn alerts(&self, kind: AlertKind) -> Vec<BTreeMap<String, String>> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Alert {
                    kind: k, details, ..
                } if k == kind => Some(details),
                _ => None,
            })
            .collect()
    }

    fn credentials_path(&self) -> PathBuf {
        self.app.root().machine_log_dir().join(CREDENTIALS_FILE)
    }
}

fn op(id: &str) -> Operator {
    Operator::new(id).unwrap()
}

fn exit(r: Result<impl std::fmt::Debug, AppError>) -> u8 {
    r.expect_err("expected a refusal").class().exit_code()
}

#[test]
fn the_first_account_is_an_administrator_and_the_log_is_the_only_record() {
    let env = Env::new();
    let accounts = env.accounts();
    assert!(!accounts.any().unwrap());
    // Asked as a plain operator, made an administrator: someone must administer.
    let boss = accounts.add(None, "boss", false, PW).unwrap();
    assert!(boss.admin && !boss.disabled);
    assert!(accounts.any().unwrap());

    // Replayed from the log by a fresh handle.
    let again = env.accounts();
    assert_eq!(again.list().unwrap(), vec![boss.clone()]);
    assert_eq!(again.get("boss").unwrap(), Some(boss));
    assert_eq!(again.get("nobody").unwrap(), None);

    // The entry records the hash of the stored PHC string, never the password.
    let entry = env
        .entries()
        .into_iter()
        .find(|e| e.params["event"] == "operator_added")
        .unwrap();
    assert_eq!(entry.action, vigie_audit::Action::Lifecycle);
    assert_eq!(entry.operator, "boss");
    let text = std::fs::read_to_string(env.credentials_path()).unwrap();
    assert!(!text.contains(PW) && !serde_json::to_string(&entry).unwrap().contains(PW));
    let doc: CredentialsDoc = serde_json::from_str(&text).unwrap();
    let phc = &doc.operators["boss"][0];
    assert_eq!(entry.params["credential_sha256"], credential_sha256(phc));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.credentials_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn password_hashes_use_the_strong_parameters_in_every_build() {
    let phc = hash_password(PW).unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=65536,t=3,p=4$"), "{phc}");
    assert!(verify_password(&phc, PW));
    assert!(!verify_password(&phc, PW2));
    // Another algorithm never matches, even with the right password.
    let weak = Argon2::new(
        Algorithm::Argon2i,
        Version::V0x13,
        Params::new(8, 1, 1, None).unwrap(),
    )
    .hash_password(PW.as_bytes(), &SaltString::encode_b64(&[7; 16]).unwrap())
    .unwrap()
    .to_string();
    assert!(!verify_password(&weak, PW));
}

#[test]
fn ids_and_passwords_are_checked() {
    assert!(check_account_id("op.1_x@unit-2").is_ok());
    for bad in ["", " op", "op 1", "-op", "оp1", &"x".repeat(65)] {
        assert!(check_account_id(bad).is_err(), "{bad:?}");
    }
    assert!(check_password("op1", "short").is_err());
    assert!(check_password("a-long-operator", "a-long-operator").is_err());
    assert!(check_password("op1", "twelve chars\n").is_err());
    assert!(check_password("op1", &"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    assert!(check_password("op1", "twelve chars").is_ok());
    let env = Env::new();
    let e = env.accounts().add(None, "boss", true, "short").unwrap_err();
    assert_eq!(e.class().exit_code(), 2);
    assert!(env.events().is_empty(), "a refused add records nothing");
}

#[test]
fn only_enabled_administrators_administer() {
    let env = Env::new();
    env.open_case("C1");
    let accounts = env.accounts();
    accounts.add(None, "boss", true, PW).unwrap();
    // With accounts, an acting administrator is required.
    assert_eq!(exit(accounts.add(None, "op2", false, PW)), 3);
    accounts.add(Some(&op("boss")), "op2", false, PW).unwrap();

    // A plain operator cannot add, grant, disable or set another's password...
    assert_eq!(exit(accounts.add(Some(&op("op2")), "op3", true, PW)), 3);
    assert_eq!(exit(accounts.grant(&op("op2"), "op2", "C1")), 3);
    assert_eq!(exit(accounts.disable(&op("op2"), "boss")), 3);
    assert_eq!(exit(accounts.set_password(&op("op2"), "boss", PW2)), 3);
    // ...nor can an id that is not an account.
    assert_eq!(exit(accounts.grant(&op("ghost"), "op2", "C1")), 3);
    let refused = env.alerts(AlertKind::OperatorRefused);
    assert_eq!(refused.len(), 5, "{refused:#?}");
    assert_eq!(refused[0]["operator_id"], "op2");
    assert_eq!(refused[3]["action"], "set another operator's password");
    assert!(!accounts.can_enter("op2", "C1").unwrap());

    // Ids are never reused; the last administrator stays.
    assert_eq!(exit(accounts.add(Some(&op("boss")), "op2", false, PW)), 2);
    assert_eq!(exit(accounts.disable(&op("boss"), "boss")), 2);
    accounts.disable(&op("boss"), "op2").unwrap();
    assert_eq!(exit(accounts.disable(&op("boss"), "op2")), 2);
    assert_eq!(exit(accounts.add(Some(&op("boss")), "op2", false, PW)), 2);
    // A disabled administrator administers nothing.
    accounts.add(Some(&op("boss")), "boss2", true, PW).unwrap();
    accounts.disable(&op("boss2"), "boss").unwrap();
    assert_eq!(exit(accounts.add(Some(&op("boss")), "op4", false, PW)), 3);
}

#[test]
fn grants_and_disabling_decide_who_enters_a_case() {
    let env = Env::new();
    env.open_case("C1");
    env.open_case("C2");
    // No account yet: any id works, as before accounts.
    drop(env.enter("anyone", "C1").unwrap());

    let accounts = env.accounts();
    accounts.add(None, "boss", true, PW).unwrap();
    accounts.add(Some(&op("boss")), "op2", false, PW).unwrap();
    let boss = op("boss");

    // Administrators enter every case; others only what they were granted.
    drop(env.enter("boss", "C2").unwrap());
    let e = env.enter("op2", "C1").unwrap_err();
    assert_eq!(e.class().exit_code(), 3);
    assert!(e.to_string().contains("vigie operator grant op2 C1"), "{e}");

    accounts.grant(&boss, "op2", "C1").unwrap();
    assert_eq!(exit(accounts.grant(&boss, "op2", "C1")), 2);
    assert!(accounts.grant(&boss, "op2", "NO-SUCH-CASE").is_err());
    assert!(accounts.can_enter("op2", "C1").unwrap());
    drop(env.enter("op2", "C1").unwrap());
    assert_eq!(exit(env.enter("op2", "C2")), 3);
    assert_eq!(accounts.get("op2").unwrap().unwrap().cases, vec!["C1"]);

    accounts.revoke(&boss, "op2", "C1").unwrap();
    assert_eq!(exit(accounts.revoke(&boss, "op2", "C1")), 2);
    assert_eq!(exit(env.enter("op2", "C1")), 3);
    accounts.grant(&boss, "op2", "C1").unwrap();
    drop(env.enter("op2", "C1").unwrap());

    // Disabled: refused even in a granted case.
    accounts.disable(&boss, "op2").unwrap();
    let e = env.enter("op2", "C1").unwrap_err();
    assert_eq!(e.class().exit_code(), 3);
    assert!(e.to_string().contains("disabled"), "{e}");
    assert!(!accounts.can_enter("op2", "C1").unwrap());

    // Once accounts exist, an id that is not one is refused, naming the way in.
    let e = env.enter("anyone", "C1").unwrap_err();
    assert_eq!(e.class().exit_code(), 3);
    assert!(e.to_string().contains("vigie operator add anyone"), "{e}");

    // Each refusal is an alert, in the machine log and in the case's log.
    let refused = env.alerts(AlertKind::OperatorRefused);
    assert_eq!(refused.len(), 5, "{refused:#?}");
    assert_eq!(refused[3]["why"], "the account is disabled");
    let case_log = env.app.root().case_log("C1", env.app.clock()).unwrap();
    let in_case = case_log
        .entries()
        .unwrap()
        .iter()
        .filter(|e| e.params["kind"] == "operator_refused")
        .count();
    assert_eq!(in_case, 4);
}

#[test]
fn the_cli_os_account_goes_with_account_changes_and_case_entries() {
    let env = Env::new();
    env.open_case("C1");
    let os = OsAccount {
        uid: Some(1000),
        name: "alice".into(),
        login: None,
    };
    let boss = op("boss").with_os_account(Some(os));
    let accounts = env.accounts();
    accounts.add(Some(&boss), "boss", true, PW).unwrap();
    let added = env
        .entries()
        .into_iter()
        .find(|e| e.params["event"] == "operator_added")
        .unwrap();
    assert!(
        added
            .justification
            .ends_with("[os account alice (uid 1000)]"),
        "{}",
        added.justification
    );

    let case = crate::EnteredCase::enter(&env.app, Some("C1"), &boss, None, "test").unwrap();
    case.record(&Event::SourcesListed { count: 0 }).unwrap();
    let entries = case.context().audit_log().entries().unwrap();
    let last = entries.last().unwrap();
    assert_eq!(last.operator, "boss");
    assert_eq!(
        last.justification,
        "accounts test [os account alice (uid 1000)]"
    );
}

#[test]
fn logins_check_the_password_and_refuse_alike() {
    let env = Env::new();
    let accounts = env.accounts();
    accounts.add(None, "boss", true, PW).unwrap();
    accounts.add(Some(&op("boss")), "op2", false, PW).unwrap();
    accounts.add(Some(&op("boss")), "gone", false, PW).unwrap();
    accounts.disable(&op("boss"), "gone").unwrap();

    let a = accounts.login("op2", PW, "10.0.0.1").unwrap();
    assert_eq!(a.id, "op2");
    assert!(env.events().iter().any(|e| matches!(
        e,
        Event::OperatorLoggedIn { operator_id, peer } if operator_id == "op2" && peer == "10.0.0.1"
    )));

    // Wrong password, unknown id and disabled account: one answer, three alerts.
    let wrong = accounts.login("op2", PW2, "10.0.0.2").unwrap_err();
    let unknown = accounts.login("nobody", PW, "10.0.0.2").unwrap_err();
    let disabled = accounts.login("gone", PW, "10.0.0.2").unwrap_err();
    for e in [&wrong, &unknown, &disabled] {
        assert_eq!(e.to_string(), "wrong operator id or password");
        assert_eq!(e.class().exit_code(), 3);
        assert_eq!(e.class().alert(), Some(AlertKind::LoginFailed));
    }
    let failed = env.alerts(AlertKind::LoginFailed);
    let reasons: Vec<&str> = failed.iter().map(|d| d["reason"].as_str()).collect();
    assert_eq!(
        reasons,
        ["wrong_password", "unknown_account", "disabled_account"]
    );
    assert_eq!(failed[1]["operator_id"], "nobody");
    assert_eq!(failed[1]["peer"], "10.0.0.2");
    // The alert is vigie's, not the claimed id's.
    let alert_entry = env
        .entries()
        .into_iter()
        .find(|e| e.params["kind"] == "login_failed")
        .unwrap();
    assert_eq!(alert_entry.operator, vigie_audit::AUTOMATIC_OPERATOR);

    // Passwords: the operator's own, or an administrator's.
    accounts.set_password(&op("op2"), "op2", PW2).unwrap();
    assert!(accounts.login("op2", PW, "10.0.0.1").is_err());
    accounts.login("op2", PW2, "10.0.0.1").unwrap();
    accounts.set_password(&op("boss"), "op2", PW).unwrap();
    accounts.login("op2", PW, "10.0.0.1").unwrap();
    // Only the counted hash stays in the file.
    let doc: CredentialsDoc =
        serde_json::from_slice(&std::fs::read(env.credentials_path()).unwrap()).unwrap();
    assert_eq!(doc.operators["op2"].len(), 1);
    assert!(!doc.operators.contains_key("gone"));
}

#[test]
fn repeated_failures_lock_the_account_out_and_survive_a_restart() {
    let env = Env::new();
    let accounts = env.accounts();
    accounts.add(None, "boss", true, PW).unwrap();
    accounts.add(Some(&op("boss")), "op2", false, PW).unwrap();

    for _ in 0..MAX_FAILURES_PER_ID {
        let e = accounts.login("op2", PW2, "10.0.0.9").unwrap_err();
        assert_eq!(e.to_string(), "wrong operator id or password");
    }
    let locked = env.alerts(AlertKind::LoginLockedOut);
    assert_eq!(locked.len(), 1, "{locked:#?}");
    assert_eq!(locked[0]["scope"], "operator");
    assert_eq!(locked[0]["operator_id"], "op2");
    assert_eq!(locked[0]["peer"], "10.0.0.9");

    // Locked: even the right password, from anywhere, is not checked.
    let e = accounts.login("op2", PW, "10.0.0.10").unwrap_err();
    assert!(matches!(
        e,
        AppError::Account(AccountError::LoginLocked { .. })
    ));
    assert_eq!(e.class().exit_code(), 3);
    // A restarted server (or the next CLI process) still knows.
    assert!(matches!(
        env.accounts().login("op2", PW, "10.0.0.10").unwrap_err(),
        AppError::Account(AccountError::LoginLocked { .. })
    ));
    // Other accounts are not affected.
    accounts.login("boss", PW, "10.0.0.10").unwrap();

    // After the lock-out, the right password works again...
    env.advance(BASE_LOCKOUT_MINUTES + 1);
    env.accounts().login("op2", PW, "10.0.0.10").unwrap();

    // ...and a second lock-out within a day lasts longer only without a success between.
    let accounts = env.accounts();
    for _ in 0..MAX_FAILURES_PER_ID {
        let _ = accounts.login("op2", PW2, "10.0.0.11");
    }
    env.advance(BASE_LOCKOUT_MINUTES + 1);
    for _ in 0..MAX_FAILURES_PER_ID {
        let _ = accounts.login("op2", PW2, "10.0.0.12");
    }
    let locked = env.alerts(AlertKind::LoginLockedOut);
    assert_eq!(locked.len(), 3, "{locked:#?}");
    let until = |d: &BTreeMap<String, String>| {
        DateTime::parse_from_rfc3339(&d["locked_until"])
            .unwrap()
            .with_timezone(&Utc)
    };
    let now = env.clock.now();
    assert!(until(&locked[2]) - now > Duration::minutes(2 * BASE_LOCKOUT_MINUTES - 1));
    env.advance(BASE_LOCKOUT_MINUTES + 1);
    assert!(matches!(
        env.accounts().login("op2", PW, "10.0.0.13").unwrap_err(),
        AppError::Account(AccountError::LoginLocked { .. })
    ));
}

#[test]
fn one_peer_guessing_many_ids_is_locked_out() {
    let env = Env::new();
    let accounts = env.accounts();
    accounts.add(None, "boss", true, PW).unwrap();
    for i in 0..MAX_FAILURES_PER_PEER {
        let _ = accounts.login(&format!("guess{i}"), PW, "203.0.113.5");
    }
    let locked = env.alerts(AlertKind::LoginLockedOut);
    assert_eq!(locked.len(), 1);
    assert_eq!(locked[0]["scope"], "peer");
    assert_eq!(locked[0]["peer"], "203.0.113.5");
    assert!(matches!(
        accounts.login("boss", PW, "203.0.113.5").unwrap_err(),
        AppError::Account(AccountError::LoginLocked { .. })
    ));
    accounts.login("boss", PW, "198.51.100.7").unwrap();
}

#[test]
fn an_edited_credentials_file_is_refused_with_an_alert() {
    let env = Env::new();
    let accounts = env.accounts();
    accounts.add(None, "boss", true, PW).unwrap();
    accounts.add(Some(&op("boss")), "op2", false, PW).unwrap();

    // Someone puts the hash of a password they know in the file.
    let path = env.credentials_path();
    let mut doc: CredentialsDoc = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    doc.operators.insert(
        "op2".into(),
        vec![hash_password("mallory's own pass").unwrap()],
    );
    vigie_audit::write_atomic(&path, &serde_json::to_vec(&doc).unwrap()).unwrap();
    let e = accounts
        .login("op2", "mallory's own pass", "10.0.0.1")
        .unwrap_err();
    assert_eq!(e.class().exit_code(), 4);
    assert_eq!(e.class().alert(), Some(AlertKind::CredentialsTampered));
    let alerts = env.alerts(AlertKind::CredentialsTampered);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["operator_id"], "op2");
    // Others still log in; an administrator's new password repairs it.
    accounts.login("boss", PW, "10.0.0.1").unwrap();
    accounts.set_password(&op("boss"), "op2", PW2).unwrap();
    accounts.login("op2", PW2, "10.0.0.1").unwrap();

    // A file other accounts can read is not used.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            accounts
                .login("boss", PW, "10.0.0.1")
                .unwrap_err()
                .class()
                .exit_code(),
            4
        );
    }
}

#[test]
fn a_new_hash_counts_only_once_the_log_records_it() {
    let env = Env::new();
    let accounts = env.accounts();
    accounts.add(None, "boss", true, PW).unwrap();
    // A password change interrupted after the file was written, before the entry.
    let sha = env
        .accounts()
        .book()
        .unwrap()
        .credential("boss")
        .unwrap()
        .to_owned();
    Credentials::new(&env.app)
        .update("boss", &[&sha], Some(&hash_password(PW2).unwrap()))
        .unwrap();
    accounts.login("boss", PW, "10.0.0.1").unwrap();
    assert!(accounts.login("boss", PW2, "10.0.0.1").is_err());
}

#[test]
fn a_tampered_machine_log_grants_nothing() {
    let env = Env::new();
    env.open_case("C1");
    let accounts = env.accounts();
    accounts.add(None, "boss", true, PW).unwrap();
    accounts.add(Some(&op("boss")), "op2", false, PW).unwrap();

    // A grant appended without the installation key (chain-correct, head unsigned).
    let log = env.app.machine_log().unwrap();
    let last = env.entries().pop().unwrap();
    let recorder = vigie_audit::Recorder {
        operator: "boss".into(),
        case: None,
        procedure: None,
        justification: "forged".into(),
    };
    let new = recorder.entry(&Event::CaseAccessGranted {
        operator_id: "op2".into(),
        case_id: "C1".into(),
    });
    let mut forged = Entry {
        seq: last.seq + 1,
        time: last.time,
        operator: new.operator,
        case: None,
        procedure: None,
        action: new.action,
        params: new.params,
        justification: new.justification,
        result: new.result,
        software_version: last.software_version.clone(),
        prev_hash: last.hash.clone(),
        hash: String::new(),
    };
    forged.hash = forged.compute_hash();
    let line = format!("{}\n", forged.to_line());
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(log.log_path())
        .unwrap()
        .write_all(line.as_bytes())
        .unwrap();
    assert!(!log.verify().unwrap().is_trustworthy());

    // Nothing is read from it: no entry into cases, no login, no account change.
    assert_eq!(exit(env.enter("op2", "C1")), 4);
    assert_eq!(exit(env.enter("boss", "C1")), 4);
    assert_eq!(exit(Accounts::open(&env.app)), 4);
    assert_eq!(exit(accounts.login("boss", PW, "10.0.0.1")), 4);
    assert_eq!(exit(accounts.list()), 4);
}

#[test]
fn replay_ignores_entries_their_author_could_not_have_made() {
    let entry = |seq: u64, operator: &str, ev: Event| {
        let n = vigie_audit::Recorder {
            operator: operator.into(),
            case: None,
            procedure: None,
            justification: "t".into(),
        }
        .entry(&ev);
        Entry {
            seq,
            time: Utc::now(),
            operator: n.operator,
            case: None,
            procedure: None,
            action: n.action,
            params: n.params,
            justification: n.justification,
            result: n.result,
            software_version: "t".into(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    };
    let added = |id: &str, admin| Event::OperatorAdded {
        operator_id: id.into(),
        admin,
        credential_sha256: "00".into(),
    };
    let grant = Event::CaseAccessGranted {
        operator_id: "op2".into(),
        case_id: "C1".into(),
    };
    let book = AccountBook::replay(&[
        entry(1, "boss", added("boss", false)),
        entry(2, "boss", added("op2", false)),
        // op2 adds an administrator, grants itself, re-adds boss, sets boss's password.
        entry(3, "op2", added("op3", true)),
        entry(4, "op2", grant.clone()),
        entry(5, "op2", added("boss", false)),
        entry(
            6,
            "op2",
            Event::OperatorPasswordSet {
                operator_id: "boss".into(),
                credential_sha256: "ff".into(),
            },
        ),
    ]);
    assert!(
        book.account("boss").unwrap().admin,
        "the first account is an administrator"
    );
    assert!(book.account("op3").is_none());
    assert!(!book.can_enter("op2", "C1"));
    assert_eq!(book.credential("boss"), Some("00"));
    let book = AccountBook::replay(&[
        entry(1, "boss", added("boss", true)),
        entry(2, "boss", added("op2", false)),
        entry(3, "boss", grant),
        entry(
            4,
            "boss",
            Event::OperatorDisabled {
                operator_id: "op2".into(),
            },
        ),
    ]);
    assert!(!book.can_enter("op2", "C1"));
    assert!(book.account("op2").unwrap().disabled);
}

#[test]
fn accounts_can_be_shared_by_a_server() {
    fn shared<T: Send + Sync>() {}
    shared::<Accounts>();
}
