//! `vigie camera ...`: which camera each source belongs to, and each camera's zones and
//! lines. The work is `vigie_app::clock`; every change is an alteration entry of the
//! case's log.

use std::path::PathBuf;

use serde_json::json;
use vigie_app::clock;

use crate::output::{outln, print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Subcommand)]
pub enum CameraCmd {
    /// Every camera of the case with its sources (and whether each was confirmed).
    List,
    /// Assign sources to a camera, or confirm the camera proposed at ingest (logged; the
    /// index follows without re-analysis).
    Set(SetArgs),
    /// Give a camera its zones and lines (scene file, TOML; see ARCHITECTURE.md): later
    /// analyses of its sources use them.
    Scene(SceneArgs),
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// The camera's name (e.g. "entrance-2").
    pub camera: String,
    /// Source ids or paths.
    #[arg(required = true)]
    pub sources: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct SceneArgs {
    pub camera: String,
    /// The scene file.
    pub scene: PathBuf,
}

pub fn run(c: CameraCmd, global: &Global) -> anyhow::Result<Outcome> {
    match c {
        CameraCmd::List => {
            let case = global.enter("camera list")?;
            let rows = clock::cameras(&case)?;
            if global.json {
                print_json(&json!({ "case": case.case_id(), "cameras": rows }))?;
            } else {
                for r in &rows {
                    outln!(
                        "{}  {} source(s){}{}",
                        r.camera,
                        r.sources.len(),
                        r.correction
                            .as_deref()
                            .map(|c| format!("  clock: {c}"))
                            .unwrap_or_default(),
                        if r.scene_sha256.is_some() {
                            "  zones/lines set"
                        } else {
                            ""
                        }
                    );
                    for (id, origin) in &r.sources {
                        let mark = match origin.as_str() {
                            "proposed" => " (proposed: confirm with `vigie camera set`)",
                            "file_name" => " (file name: ingested before cameras were recorded)",
                            _ => "",
                        };
                        outln!("  {id}{mark}");
                    }
                }
            }
        }
        CameraCmd::Set(a) => {
            let case = global.enter("camera set")?;
            let out = clock::set_camera(&case, &a.camera, &a.sources)?;
            if global.json {
                print_json(
                    &json!({ "case": case.case_id(), "camera": out.camera, "sources": out.sources }),
                )?;
            } else {
                for (id, before) in &out.sources {
                    outln!("{id}: camera {before} -> {}", out.camera);
                }
            }
        }
        CameraCmd::Scene(a) => {
            let case = global.enter("camera scene")?;
            let out = clock::set_camera_scene(&case, &a.camera, &a.scene)?;
            if global.json {
                print_json(&json!({
                    "case": case.case_id(), "camera": out.camera, "scene_sha256": out.scene_sha256,
                    "sources": out.sources, "tracks": out.tracks,
                    "tracks_in_zones_or_lines": out.tracks_in_zones_or_lines,
                }))?;
            } else {
                outln!(
                    "camera {}: zones and lines set (sha256 {}); applied to {} analysed track(s) of {} source(s) from their stored boxes ({} in a zone or across a line) and to every later analysis",
                    out.camera,
                    &out.scene_sha256[..16],
                    out.tracks,
                    out.sources.len(),
                    out.tracks_in_zones_or_lines
                );
            }
        }
    }
    Ok(Outcome::Success)
}
