//! `vigie search` and `vigie bench search`.
//!
//! A search is a consultation of personal data, so the order matters: the query is
//! validated (a typo is an error, never an empty result), the case entered (no case, no
//! search), and `vigie_app::results::search` runs it and writes the consultation (and the
//! contact sheet's disclosure) *before* a single result is printed here. If the log
//! cannot be written, nothing is shown. `vigie bench search` measures a generated index
//! outside any case.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::json;
use vigie_app::results::{self, SearchRequest};
use vigie_app::types::QueryArgs;
use vigie_index::synth::{self, SynthConfig};
use vigie_index::{Index, INDEX_FILE_NAME};

use crate::output::{outln, print_json, Outcome};
use crate::Global;

/// Search the case's track index by what objects looked like, how they moved, and their
/// licence plates.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Colours: black, white, grey, red, orange, yellow, green, blue, purple, pink, brown. A track
matches a colour when it covers at least 20% of the object (or of its upper/lower body).
Times are RFC 3339 with an offset; a track matches when its time span overlaps --from..--to.
Plates: --plate takes a pattern over the whole plate (? one character, * any run, separators
ignored, O and 0 equal); --plate-fuzzy takes the plate as read and tolerates OCR confusions
(0/O/D/Q, 1/I/L, 8/B, 5/S, 2/Z, 6/G, 7/T) and up to one other error, ranking results by
likelihood x read confidence. Given together, both must hold and the fuzzy ranking applies.

Examples:
  vigie search --class car --colour red --direction n \\
      --from 2024-06-01T14:00:00+02:00 --to 2024-06-01T15:00:00+02:00
  vigie search --class person --upper yellow --zone doorway --dwell-min 30s
  vigie search --crosses gate:in --sheet gate.html
  vigie search --plate 'AB-1?3-*'
  vigie search --plate-fuzzy AB-123-CD --class car")]
pub struct Args {
    #[command(flatten)]
    pub filters: FilterArgs,
    /// At most this many results (earliest first, or most likely first with
    /// --plate-fuzzy; default 100).
    #[arg(long)]
    pub limit: Option<String>,
    /// CSV on stdout instead of a table.
    #[arg(long, conflicts_with = "sheet")]
    pub csv: bool,
    /// Also write an HTML contact sheet (thumbnails, times, links to the source second).
    /// A bare name is written in the case's exports/ directory (erased at closure).
    #[arg(long, value_name = "OUT.html")]
    pub sheet: Option<PathBuf>,
    /// The sheet shows the analysis's own thumbnails, bystanders included (default: each
    /// thumbnail redacted, written beside the sheet); needs --justification.
    #[arg(long, requires = "sheet")]
    pub unredacted: bool,
    /// Why an unredacted sheet must be disclosed (recorded with it).
    #[arg(long)]
    pub justification: Option<String>,
}

/// The track filters, shared by every command that selects tracks (`search`, `synopsis`).
#[derive(Debug, Clone, clap::Args)]
pub struct FilterArgs {
    /// Class label: person (with riders of bicycles and motorcycles), car, bicycle,
    /// motorcycle, bus, truck, moving_object, ...; vehicle: any of car, truck, bus,
    /// motorcycle, bicycle (COCO has no van: a van is a car or a truck)
    #[arg(long)]
    pub class: Option<String>,
    /// Colour of the whole object.
    #[arg(long, visible_alias = "color")]
    pub colour: Option<String>,
    /// Upper-body colour (persons).
    #[arg(long)]
    pub upper: Option<String>,
    /// Lower-body colour (persons).
    #[arg(long)]
    pub lower: Option<String>,
    /// Overall direction in image coordinates (up is north): n, ne, e, se, s, sw, w, nw.
    #[arg(long)]
    pub direction: Option<String>,
    /// Named zone the track entered.
    #[arg(long)]
    pub zone: Option<String>,
    /// Stationary at least this long in --zone (or in any zone), e.g. 30s, 2m, 1m30s.
    #[arg(long, value_name = "DURATION")]
    pub dwell_min: Option<String>,
    /// Crossed this line, optionally in one direction.
    #[arg(long, value_name = "LINE[:in|:out]")]
    pub crosses: Option<String>,
    /// Wall-clock start, RFC 3339 with offset (2024-06-01T14:00:00+02:00).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Wall-clock end, RFC 3339 with offset.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Minimum size: a fraction of the frame area (0.05 or 5%) or a box side (40px).
    #[arg(long, value_name = "SIZE")]
    pub min_size: Option<String>,
    /// Camera name.
    #[arg(long)]
    pub camera: Option<String>,
    /// Minimum speed, working pixels per second.
    #[arg(long, allow_negative_numbers = true, value_name = "PX_S")]
    pub min_speed: Option<String>,
    /// Maximum speed, working pixels per second.
    #[arg(long, allow_negative_numbers = true, value_name = "PX_S")]
    pub max_speed: Option<String>,
    /// Licence plate pattern: ? one character, * any run, separators ignored, O and 0
    /// equal, e.g. 'AB-1?3-*' (quote it for the shell).
    #[arg(long, value_name = "PATTERN")]
    pub plate: Option<String>,
    /// Licence plate as read, tolerant to OCR confusions (0/O/D/Q, 1/I/L, 8/B, 5/S, 2/Z);
    /// results ranked by likelihood x read confidence.
    #[arg(long, value_name = "TEXT")]
    pub plate_fuzzy: Option<String>,
}

impl FilterArgs {
    /// The raw flag strings for `Query::parse`, with `limit`.
    pub fn query_args(&self, limit: Option<String>) -> QueryArgs {
        QueryArgs {
            class: self.class.clone(),
            colour: self.colour.clone(),
            upper: self.upper.clone(),
            lower: self.lower.clone(),
            direction: self.direction.clone(),
            zone: self.zone.clone(),
            dwell_min: self.dwell_min.clone(),
            crosses: self.crosses.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            min_size: self.min_size.clone(),
            camera: self.camera.clone(),
            min_speed: self.min_speed.clone(),
            max_speed: self.max_speed.clone(),
            plate: self.plate.clone(),
            plate_fuzzy: self.plate_fuzzy.clone(),
            limit,
        }
    }

    /// Whether any filter is given.
    pub fn any(&self) -> bool {
        let q = self.query_args(None);
        [
            &q.class,
            &q.colour,
            &q.upper,
            &q.lower,
            &q.direction,
            &q.zone,
            &q.dwell_min,
            &q.crosses,
            &q.from,
            &q.to,
            &q.min_size,
            &q.camera,
            &q.min_speed,
            &q.max_speed,
            &q.plate,
            &q.plate_fuzzy,
        ]
        .iter()
        .any(|f| f.is_some())
    }
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    // Validated before entering the case: a typo is reported as such.
    let query = results::parse_query(&args.filters.query_args(args.limit.clone()))?;
    let case = global.enter("search")?;
    let output = if global.json {
        "json"
    } else if args.csv {
        "csv"
    } else {
        "table"
    };
    let out = results::search(
        &case,
        &SearchRequest {
            query,
            sheet: args.sheet,
            output: output.into(),
            sheet_unredacted: vigie_app::redact::Unredacted::from_flags(
                args.unredacted,
                args.justification.as_deref(),
            )?,
        },
    )?;
    if global.json {
        let mut v = serde_json::to_value(&out.result)?;
        if let (Some(obj), Some(c)) = (v.as_object_mut(), &out.coverage) {
            obj.insert("coverage".into(), serde_json::to_value(c)?);
        }
        if let Some(obj) = v.as_object_mut() {
            obj.insert("clocks".into(), serde_json::to_value(&out.clocks)?);
        }
        print_json(&v)?;
    } else if args.csv {
        crate::output::stdout().write_all(results::results_csv(&out.result).as_bytes())?;
    } else {
        crate::output::stdout().write_all(results::results_table(&out.result).as_bytes())?;
        if let Some((t, _)) = &out.sheet {
            outln!("contact sheet: {}", t.path.display());
        }
    }
    for c in &out.clocks {
        let what = c
            .correction
            .clone()
            .unwrap_or_else(|| "the recorder's clock".into());
        let zone = c
            .time_zone
            .as_deref()
            .map(|z| format!(", shown in {z}"))
            .unwrap_or_default();
        eprintln!(
            "vigie: note: times of {} (camera {}) are on {what}{zone}",
            c.source_id, c.camera
        );
        for n in &c.notes {
            eprintln!("vigie: note: {}: {n}", c.source_id);
        }
    }
    if let Some(c) = out.coverage.as_ref().filter(|c| !c.is_complete()) {
        let t = |ms: i64| {
            chrono::DateTime::from_timestamp_millis(ms)
                .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                .unwrap_or_default()
        };
        for (a, b) in &c.uncovered {
            eprintln!(
                "vigie: note: no analysed footage from {} to {}: no result there means no footage, not that nothing happened",
                t(*a),
                t(*b)
            );
        }
        if !c.sources_without_start.is_empty() {
            eprintln!(
                "vigie: note: source(s) {} have no known start time and cannot be placed in the range (give one with `vigie ingest --start`)",
                c.sources_without_start.join(", ")
            );
        }
    }
    Ok(Outcome::Success)
}

/// `vigie bench search`: latency of combined queries over a generated index.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Synthetic tracks to generate.
    #[arg(long, default_value_t = 1_000_000)]
    pub tracks: u64,
    /// Random queries per query family.
    #[arg(long, default_value_t = 200)]
    pub runs: usize,
    /// Seed of the generator and of the queries.
    #[arg(long, default_value_t = 0x5649_4749)]
    pub seed: u64,
    /// Keep the generated index at this path (reused if it exists) instead of a temp dir.
    #[arg(long, value_name = "PATH")]
    pub index: Option<PathBuf>,
}

pub fn bench(a: BenchArgs, global: &Global) -> anyhow::Result<Outcome> {
    if a.runs == 0 || a.tracks == 0 {
        bail!("invalid --runs/--tracks 0 (expected >= 1)");
    }
    let tmp = std::env::temp_dir().join(format!("vigie-bench-search-{}", std::process::id()));
    let (path, cleanup) = match &a.index {
        Some(p) => (p.clone(), None),
        None => {
            std::fs::create_dir_all(&tmp)
                .with_context(|| format!("cannot create {}", tmp.display()))?;
            (tmp.join(INDEX_FILE_NAME), Some(tmp.clone()))
        }
    };
    let result = bench_in(&a, &path, global);
    if let Some(dir) = cleanup {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

fn bench_in(a: &BenchArgs, path: &Path, global: &Global) -> anyhow::Result<Outcome> {
    let cfg = SynthConfig {
        tracks: a.tracks,
        seed: a.seed,
        ..SynthConfig::default()
    };
    let reuse = path.exists();
    let mut index = Index::open(path)?;
    let gen = if reuse {
        if index.track_count()? != a.tracks {
            bail!(
                "the index given with --index holds {} tracks, not --tracks {} (delete it or \
                 pass the matching --tracks): {}",
                index.track_count()?,
                a.tracks,
                path.display()
            );
        }
        None
    } else {
        let bar = if global.progress() {
            indicatif::ProgressBar::new(a.tracks)
        } else {
            indicatif::ProgressBar::hidden()
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "generating {bar:40} {pos}/{len} tracks {per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let g = synth::generate(&mut index, &cfg, |n| bar.set_position(n))?;
        bar.finish_and_clear();
        Some(g)
    };
    let size_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let figures = synth::bench_queries(&index, a.runs, a.seed ^ 0xBE7C, synth::span_ms(&cfg))?;
    let target = figures
        .iter()
        .find(|f| f.kind == synth::QueryKind::ClassColourHourZone)
        .map(|f| f.p95_ms);
    if global.json {
        print_json(&json!({
            "tracks": a.tracks,
            "runs": a.runs,
            "seed": a.seed,
            "index_bytes": size_bytes,
            "generation": gen,
            "queries": figures,
            "target_p95_ms": 50.0,
            "target_met": target.map(|t| t <= 50.0),
        }))?;
        return Ok(Outcome::Success);
    }
    outln!(
        "index: {} tracks, {:.0} MiB{}",
        a.tracks,
        size_bytes as f64 / 1_048_576.0,
        gen.map(|g| format!(
            ", generated in {:.1} s + ANALYZE {:.1} s",
            g.seconds, g.analyse_seconds
        ))
        .unwrap_or_else(|| " (reused)".into())
    );
    outln!(
        "{:<24} {:>5} {:>9} {:>9} {:>9} {:>9} {:>10} {:>9}",
        "query",
        "runs",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "max_ms",
        "mean_hits",
        "truncated"
    );
    for f in &figures {
        outln!(
            "{:<24} {:>5} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>10.1} {:>9}",
            f.name,
            f.runs,
            f.p50_ms,
            f.p95_ms,
            f.p99_ms,
            f.max_ms,
            f.mean_hits,
            f.truncated_runs
        );
    }
    if let Some(t) = target {
        outln!(
            "target: p95 <= 50 ms for class+colour+1h+zone: {} ({t:.2} ms)",
            if t <= 50.0 { "met" } else { "NOT met" }
        );
    }
    Ok(Outcome::Success)
}
