//! `vigie operator`: the first administrator, accounts and grants, a disabled id refused
//! by case commands, every change in the machine log with the operating-system account,
//! and a lock-out after repeated failed logins shown by `vigie alerts`.

mod common;

use std::process::{Command, Output};

use assert_cmd::prelude::*;
use common::TestCase;
use serde_json::Value;

const PW: &str = "correct horse battery";

/// Run `cmd` with `input` on standard input.
fn with_stdin(cmd: Command, input: &str) -> Output {
    assert_cmd::Command::from_std(cmd)
        .write_stdin(input)
        .output()
        .unwrap()
}

fn as_op(mut cmd: Command, id: &str) -> Command {
    cmd.env("VIGIE_OPERATOR", id);
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn machine_entries(env: &TestCase) -> Vec<Value> {
    std::fs::read_to_string(env.home.path().join("machine/audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn accounts_grants_and_refusals() {
    let env = TestCase::open("OPS");
    env.cmd_no_case()
        .args(["case", "open", "--id", "OTHER", "--procedure", "2026/00043"])
        .args(["--authorization", "OJ-2026-118", "--magistrate", "Mme Juge"])
        .args([
            "--authorized-on",
            &chrono::Utc::now().date_naive().to_string(),
        ])
        .args(["--purpose", "other case"])
        .assert()
        .success();
    // No account yet: the tests' free operator id works, as before accounts.
    env.cmd().args(["sources"]).assert().success();
    let out = env
        .cmd_no_case()
        .args(["operator", "list"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("no operator account"));

    // The first account is created on the command line, without --operator, and is an
    // administrator; a short password is refused first (exit 2).
    let mut first = env.cmd_no_case();
    first.env_remove("VIGIE_OPERATOR").args([
        "--json",
        "operator",
        "add",
        "boss",
        "--password-stdin",
    ]);
    let out = with_stdin(first, "short\n");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let mut first = env.cmd_no_case();
    first.env_remove("VIGIE_OPERATOR").args([
        "--json",
        "operator",
        "add",
        "boss",
        "--password-stdin",
    ]);
    let out = with_stdin(first, &format!("{PW}\n"));
    assert!(out.status.success(), "{}", stderr(&out));
    let v = common::parse_json(&out);
    assert_eq!(v["account"]["admin"], true);
    assert_eq!(v["first"], true);

    // Without a password on the terminal or --password-stdin, nothing happens.
    let out = as_op(env.cmd_no_case(), "boss")
        .args(["operator", "add", "op2"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--password-stdin"),
        "{}",
        stderr(&out)
    );

    // After it, only an administrator adds: not the tests' unregistered id.
    let mut add = env.cmd_no_case();
    add.args(["operator", "add", "op2", "--password-stdin"]);
    let out = with_stdin(add, &format!("{PW}\n"));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let mut add = as_op(env.cmd_no_case(), "boss");
    add.args(["operator", "add", "op2", "--password-stdin"]);
    assert!(with_stdin(add, &format!("{PW}\n")).status.success());

    // Ids that are not accounts are refused now, naming the way in.
    let out = env.cmd().args(["sources"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("vigie operator add op-test"),
        "{}",
        stderr(&out)
    );

    // op2 enters only what it was granted; it cannot grant itself.
    let out = as_op(env.cmd(), "op2").args(["sources"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let out = as_op(env.cmd_no_case(), "op2")
        .args(["operator", "grant", "op2", "OTHER"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    as_op(env.cmd_no_case(), "boss")
        .args(["operator", "grant", "op2", "OPS"])
        .assert()
        .success();
    as_op(env.cmd(), "op2").args(["sources"]).assert().success();
    as_op(env.cmd(), "boss")
        .env("VIGIE_CASE", "OTHER")
        .args(["sources"])
        .assert()
        .success();
    let out = as_op(env.cmd(), "op2")
        .env("VIGIE_CASE", "OTHER")
        .args(["sources"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));

    let out = env
        .cmd_no_case()
        .args(["--json", "operator", "list"])
        .output()
        .unwrap();
    let list = common::parse_json(&out);
    let accounts = list["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[1]["id"], "op2");
    assert_eq!(accounts[1]["cases"][0], "OPS");

    // The case's entries carry the operating-system account after the reason.
    let case_log =
        std::fs::read_to_string(env.home.path().join("cases/OPS/audit/audit.jsonl")).unwrap();
    let last: Value = serde_json::from_str(case_log.lines().last().unwrap()).unwrap();
    assert_eq!(last["operator"], "op2");
    assert!(
        last["justification"]
            .as_str()
            .unwrap()
            .contains("[os account "),
        "{last}"
    );

    // Disabled: refused by case commands (exit 3), even where it was granted.
    as_op(env.cmd_no_case(), "boss")
        .args(["operator", "disable", "op2"])
        .assert()
        .success();
    let out = as_op(env.cmd(), "op2")
        .args(["search", "--class", "car"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("disabled"), "{}", stderr(&out));

    // Every change is a lifecycle entry of the machine log, by the acting administrator,
    // with the operating-system account.
    let entries = machine_entries(&env);
    let kinds: Vec<&str> = entries
        .iter()
        .filter(|e| e["action"] == "lifecycle")
        .filter_map(|e| e["params"]["event"].as_str())
        .filter(|k| k.starts_with("operator_") || k.starts_with("case_access"))
        .collect();
    assert_eq!(
        kinds,
        [
            "operator_added",
            "operator_added",
            "case_access_granted",
            "operator_disabled"
        ]
    );
    let disabled = entries
        .iter()
        .find(|e| e["params"]["event"] == "operator_disabled")
        .unwrap();
    assert_eq!(disabled["operator"], "boss");
    assert!(disabled["justification"]
        .as_str()
        .unwrap()
        .contains("[os account "));
    assert!(
        !std::fs::read_to_string(env.home.path().join("machine/audit.jsonl"))
            .unwrap()
            .contains(PW)
    );
    let refused = entries
        .iter()
        .filter(|e| e["params"]["kind"] == "operator_refused")
        .count();
    assert_eq!(refused, 6, "{entries:#?}");
    env.cmd_no_case()
        .args(["audit", "verify", "--machine"])
        .assert()
        .success();
}

#[test]
fn repeated_failed_logins_lock_the_account_out_with_alerts() {
    let env = TestCase::open("LOCK");
    let mut first = env.cmd_no_case();
    first.args(["operator", "add", "boss", "--password-stdin"]);
    assert!(with_stdin(first, &format!("{PW}\n")).status.success());

    let login = |pw: &str| {
        let mut c = env.cmd_no_case();
        c.args(["operator", "login", "boss", "--password-stdin"]);
        with_stdin(c, &format!("{pw}\n"))
    };
    assert!(login(PW).status.success());
    for _ in 0..5 {
        let out = login("not the password");
        assert_eq!(out.status.code(), Some(3));
        assert!(stderr(&out).contains("wrong operator id or password"));
    }
    // Locked, across processes: even the right password is not checked.
    let out = login(PW);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("try again after"), "{}", stderr(&out));

    let out = env
        .cmd_no_case()
        .args(["--json", "alerts"])
        .output()
        .unwrap();
    let alerts = common::parse_json(&out);
    let kinds: Vec<&str> = alerts
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["kind"].as_str())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "login_failed").count(), 5);
    let lock = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "login_locked_out")
        .expect("a lock-out alert");
    assert_eq!(lock["details"]["operator_id"], "boss");
    assert!(lock["details"]["peer"].as_str().unwrap().starts_with("cli"));
    let text = env.cmd_no_case().args(["alerts"]).output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("login_locked_out"));
}

#[test]
fn once_accounts_exist_administration_needs_an_account_with_rights() {
    let env = TestCase::open("ADM");
    let mut first = env.cmd_no_case();
    first
        .env_remove("VIGIE_OPERATOR")
        .args(["operator", "add", "boss", "--password-stdin"]);
    assert!(with_stdin(first, &format!("{PW}\n")).status.success());
    let add = as_op(env.cmd_no_case(), "boss");
    let mut add = add;
    add.args(["operator", "add", "inv1", "--password-stdin"]);
    assert!(with_stdin(add, &format!("{PW} 2\n")).status.success());
    let open = |who: &str, id: &str| {
        as_op(env.cmd_no_case(), who)
            .args([
                "case",
                "open",
                "--id",
                id,
                "--procedure",
                &format!("2026/{id}"),
            ])
            .args(["--authorization", "OJ-1", "--magistrate", "Mme Juge"])
            .args([
                "--authorized-on",
                &chrono::Utc::now().date_naive().to_string(),
            ])
            .args(["--purpose", "p"])
            .output()
            .unwrap()
    };
    // An id that is not an account opens nothing, reports on nothing, closes nothing.
    let out = open("stranger", "S1");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    for args in [["case", "report"], ["case", "close"]] {
        let out = as_op(env.cmd(), "stranger").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
    }
    // A non-admin account opens a case and may then work in it (and only in it).
    assert!(open("inv1", "MINE").status.success());
    as_op(env.cmd_no_case(), "inv1")
        .env("VIGIE_CASE", "MINE")
        .args(["sources"])
        .assert()
        .success();
    let out = as_op(env.cmd(), "inv1")
        .args(["case", "report"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // Purging is for administrators.
    let out = as_op(env.cmd_no_case(), "inv1")
        .args(["case", "purge-expired"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    as_op(env.cmd_no_case(), "boss")
        .args(["case", "purge-expired"])
        .assert()
        .success();
}
