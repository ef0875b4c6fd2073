//! The synopsis library alone on an analysed source's tubes (`derived/tubes/<S>.json`),
//! with one setting changed: before/after comparisons of the synopsis on the same tubes,
//! outside the case's audit (nothing is disclosed: the output goes to a scratch path).
//!
//! ```text
//! cargo run --release -p vigie-synopsis --example synopsis_tubes -- \
//!     --source FOOTAGE --tubes CASE/derived/tubes/S.json --out /tmp/x.mp4 [--gap-ms 0] [--length-ms 60000]
//! ```
//! `--gap-ms 0` cuts objects at their detections only (before interpolation).

use std::path::PathBuf;
use std::process::Command;

use vigie_core::BBox;
use vigie_synopsis::{SourceInput, SynopsisConfig, TubeInput};

fn probe(path: &PathBuf, entry: &str) -> Result<String, String> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            entry,
        ])
        .args(["-of", "csv=p=0"])
        .arg(path)
        .output()
        .map_err(|e| format!("ffprobe: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() -> Result<(), String> {
    let (mut source, mut tubes_path, mut out) = (None, None, None);
    let mut cfg = SynopsisConfig::default();
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().ok_or(format!("{k} needs a value"))?;
        match k.as_str() {
            "--source" => source = Some(PathBuf::from(v)),
            "--tubes" => tubes_path = Some(PathBuf::from(v)),
            "--out" => out = Some(PathBuf::from(v)),
            "--length-ms" => cfg.length_ms = Some(v.parse().map_err(|e| format!("{v}: {e}"))?),
            "--gap-ms" => cfg.interpolate_gap_ms = v.parse().map_err(|e| format!("{v}: {e}"))?,
            _ => return Err(format!("unknown argument {k}")),
        }
    }
    let source = source.ok_or("--source FOOTAGE")?;
    let out = out.ok_or("--out OUT.mp4")?;
    let text =
        std::fs::read_to_string(tubes_path.ok_or("--tubes JSON")?).map_err(|e| e.to_string())?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let size = &doc["frame_size"];
    let frame_size = (
        size[0].as_u64().ok_or("frame_size")? as u32,
        size[1].as_u64().ok_or("frame_size")? as u32,
    );
    let mut tubes = Vec::new();
    for t in doc["tubes"].as_array().ok_or("tubes")? {
        let boxes: Vec<(i64, BBox)> = t["boxes"]
            .as_array()
            .ok_or("boxes")?
            .iter()
            .filter_map(|b| Some((b[0].as_i64()?, serde_json::from_value(b[1].clone()).ok()?)))
            .collect();
        if boxes.is_empty() {
            continue;
        }
        tubes.push(TubeInput {
            track_id: t["track_id"].as_u64().ok_or("track_id")?,
            label: "object".into(),
            first_pts_ms: boxes[0].0,
            last_pts_ms: boxes[boxes.len() - 1].0,
            first_wall_ms: None,
            last_wall_ms: None,
            boxes,
        });
    }
    let duration_ms = (probe(&source, "format=duration")?
        .parse::<f64>()
        .map_err(|e| format!("duration: {e}"))?
        * 1000.0) as i64;
    let rate = probe(&source, "stream=r_frame_rate")?;
    let fps = match rate.split_once('/') {
        Some((a, b)) => a.parse::<f64>().unwrap_or(10.0) / b.parse::<f64>().unwrap_or(1.0),
        None => rate.parse().unwrap_or(10.0),
    };
    let src = SourceInput {
        source_id: "bench".into(),
        path: source,
        stream_index: None,
        frame_size,
        duration_ms,
        fps,
        start: None,
        time_zone: None,
    };
    let scratch = out
        .parent()
        .unwrap_or(std::path::Path::new("/tmp"))
        .to_path_buf();
    let syn = vigie_synopsis::run(&src, &tubes, &cfg, &out, &scratch).map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::to_string_pretty(&syn.figures).map_err(|e| e.to_string())?
    );
    Ok(())
}
