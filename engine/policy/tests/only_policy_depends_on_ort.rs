//! "Only engine/policy may depend on ort": CI fails if any other workspace crate declares
//! a direct dependency on `ort` or `ort-sys` (normal, dev or build), read from
//! `cargo metadata`. Transitive use is impossible without a direct dependency, as
//! vigie-policy re-exports no `ort` item (see tests/ui/).

use std::process::Command;

#[test]
fn no_other_workspace_crate_depends_on_ort() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata json");
    let members: Vec<&str> = meta["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let mut offenders = Vec::new();
    let mut seen_policy = false;
    for pkg in meta["packages"].as_array().expect("packages") {
        let id = pkg["id"].as_str().unwrap_or_default();
        if !members.contains(&id) {
            continue;
        }
        let name = pkg["name"].as_str().unwrap_or_default();
        let ort_deps: Vec<&str> = pkg["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["name"].as_str())
            .filter(|n| *n == "ort" || *n == "ort-sys")
            .collect();
        if name == "vigie-policy" {
            seen_policy = true;
            assert!(
                ort_deps.contains(&"ort"),
                "vigie-policy is expected to depend on ort"
            );
        } else if !ort_deps.is_empty() {
            offenders.push(format!("{name} depends on {}", ort_deps.join(", ")));
        }
    }
    assert!(
        seen_policy,
        "vigie-policy not found among workspace members"
    );
    assert!(
        offenders.is_empty(),
        "only engine/policy may depend on ort (use vigie_policy::ModelSession instead): {}",
        offenders.join("; ")
    );
}
