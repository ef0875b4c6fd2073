//! `vigie node`: a node makes its key (`init`), an administrator enrolls it from its
//! `.pub` file, `list` shows it, `revoke` withdraws it; the secret key file is refused
//! as a public key, and every change is a lifecycle entry of the machine log.

mod common;

use assert_cmd::prelude::*;
use common::{parse_json, TestCase};
use predicates::prelude::*;
use serde_json::Value;

fn machine_entries(env: &TestCase) -> Vec<Value> {
    std::fs::read_to_string(env.home.path().join("machine/audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn init_enroll_list_revoke() {
    let env = TestCase::open("NODES");
    let key = env.path("node/node.ed25519");
    let key_s = key.to_str().unwrap();

    // On the node: the key is made once, then reused.
    let out = env
        .cmd_no_case()
        .args(["--json", "node", "init", "--key", key_s])
        .assert()
        .success()
        .get_output()
        .clone();
    let init = parse_json(&out);
    assert_eq!(init["key"], key_s);
    let public = init["public_key"].as_str().unwrap().to_owned();
    assert_eq!(public.len(), 64);
    assert_eq!(init["created"], true);
    let again = env.json(&["node", "init", "--key", key_s]);
    assert_eq!(again["public_key"], public.as_str());
    assert_eq!(again["created"], false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // The secret key file is not a public key (exit 2, nothing recorded).
    env.cmd_no_case()
        .args(["node", "enroll", "gpu-01", "--key-file", key_s])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("secret key"));

    // On the installation: enroll from the .pub file, with a reason.
    let pub_file = format!("{key_s}.pub");
    let enrolled = env.json(&[
        "node",
        "enroll",
        "gpu-01",
        "--key-file",
        &pub_file,
        "--reason",
        "cluster for case NODES",
    ]);
    assert_eq!(enrolled["enrolled"]["name"], "gpu-01");
    assert_eq!(enrolled["enrolled"]["public_key"], public.as_str());

    let list = env.json(&["node", "list"]);
    let nodes = list["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["name"], "gpu-01");
    assert_eq!(nodes[0]["public_key"], public.as_str());
    assert_eq!(nodes[0]["enrolled_by"], common::OPERATOR);
    assert!(nodes[0]["revoked_at"].is_null());

    // The same name again: refused (exit 2); a malformed key too.
    let out = env
        .cmd_no_case()
        .args(["node", "enroll", "gpu-01", "--public-key", &public])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = env
        .cmd_no_case()
        .args(["node", "enroll", "gpu-02", "--public-key", "abc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    // The text list names it.
    let out = env.cmd_no_case().args(["node", "list"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("gpu-01") && text.contains(&public), "{text}");

    // Revoke: listed as revoked.
    env.json(&["node", "revoke", "gpu-01"]);
    let list = env.json(&["node", "list"]);
    assert!(!list["nodes"][0]["revoked_at"].is_null());

    // Both changes are lifecycle entries of the machine log, with the operator and the
    // reason, and the log verifies.
    let entries = machine_entries(&env);
    let enrolled: Vec<&Value> = entries
        .iter()
        .filter(|e| e["params"]["event"] == "node_enrolled")
        .collect();
    assert_eq!(enrolled.len(), 1);
    assert_eq!(enrolled[0]["action"], "lifecycle");
    assert_eq!(enrolled[0]["operator"], common::OPERATOR);
    assert!(enrolled[0]["justification"]
        .as_str()
        .unwrap()
        .contains("cluster for case NODES"));
    assert!(entries
        .iter()
        .any(|e| e["params"]["event"] == "node_revoked"));
    env.cmd_no_case()
        .args(["audit", "verify", "--machine"])
        .output()
        .map(|o| assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr)))
        .unwrap();
}
