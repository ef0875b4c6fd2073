//! "Front ends call only the application layer": the CLI (and every future front end)
//! may not depend on the crates that produce detections, tracks or plate reads, nor on
//! the model policy: those are reached only through `vigie-app`'s permissions (an entered
//! case or the measurement door). Read from `cargo metadata`, so CI fails on a shortcut.

use std::process::Command;

/// Crates only the application layer may depend on.
const BEHIND_THE_LAYER: [&str; 6] = [
    "vigie-pipeline",
    "vigie-detect",
    "vigie-plate",
    "vigie-policy",
    "vigie-track",
    "vigie-motion",
];
/// The front ends.
const FRONT_ENDS: [&str; 2] = ["vigie-cli", "vigie-web"];

#[test]
fn front_ends_depend_on_the_layer_not_on_the_producers() {
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
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata json");
    let mut seen = 0;
    let mut offenders = Vec::new();
    for pkg in meta["packages"].as_array().expect("packages") {
        let name = pkg["name"].as_str().unwrap_or_default();
        if !FRONT_ENDS.contains(&name) {
            continue;
        }
        seen += 1;
        let deps: Vec<&str> = pkg["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            // Normal dependencies only: tests may build fixtures with any crate.
            .filter(|d| d["kind"].is_null())
            .filter_map(|d| d["name"].as_str())
            .collect();
        assert!(
            deps.contains(&"vigie-app"),
            "{name} must depend on vigie-app"
        );
        for d in deps {
            if BEHIND_THE_LAYER.contains(&d) {
                offenders.push(format!("{name} depends on {d}"));
            }
        }
    }
    assert_eq!(seen, FRONT_ENDS.len(), "front-end crates not found");
    assert!(
        offenders.is_empty(),
        "front ends call the application layer only (vigie_app::EnteredCase, Measurement): {}",
        offenders.join("; ")
    );
}
