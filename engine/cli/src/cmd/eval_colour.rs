//! `vigie eval colour [--labels eval/colour/labels.toml] [--split tune|test|all]`: how often
//! vigie's first colour (and first two) is the one a person gave, and how often a search for
//! that colour finds the object, per part (whole, upper, lower body), per half of the labels.
//!
//! The labels name footage outside any case (the shared test data, the fetched vtest.avi),
//! so it goes through the measurement door: the label file and every source are hashed and
//! logged before the describer runs (`vigie_app::eval_colour`).

use std::path::PathBuf;

use serde_json::json;
use vigie_app::eval_colour::{self, ColourEval, EvalColourRequest, Roots, Split};
use vigie_app::measure::Computed;
use vigie_app::Measurement;

use crate::output::{out, print_json, Outcome};
use crate::Global;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SplitArg {
    Tune,
    Test,
    All,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The colour labels (TOML, `[[object]]` tables; see doc/colour.md).
    #[arg(long, default_value = "eval/colour/labels.toml")]
    pub labels: PathBuf,
    /// Which half of the labels to score (`all`: both, each reported separately).
    #[arg(long, value_enum, default_value = "all")]
    pub split: SplitArg,
    /// The shared data root that `shared/...` sources are relative to.
    #[arg(long, default_value = "../shared")]
    pub shared: PathBuf,
    /// Frame width the describer sees, as `vigie analyze --width` (0 = native).
    #[arg(long, default_value_t = 640)]
    pub width: u32,
    /// Also list every labelled part with vigie's colours (table output).
    #[arg(long)]
    pub verbose: bool,
    /// Also score whole tracks: analyse each source of this label file as `vigie analyze`
    /// does (NanoDet, tracker, description) and score the person tracks that its labelled
    /// persons match (default file: eval/colour/tracks.toml).
    #[arg(long, num_args = 0..=1, default_missing_value = "eval/colour/tracks.toml")]
    pub tracks: Option<PathBuf>,
    /// How a track's views are pooled, for the whole-track figures: `sized` (the default,
    /// as `vigie analyze`) or `equal` (every view alike, the rule before; to compare).
    #[arg(long, value_enum, default_value = "sized")]
    pub pooling: PoolingArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PoolingArg {
    Sized,
    Equal,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    if !args.labels.is_file() {
        anyhow::bail!(
            "cannot read --labels (no such file; run from the project root or name the file): {}",
            args.labels.display()
        );
    }
    let roots = Roots {
        shared: args.shared.clone(),
        cache: vigie_core::paths::cache_dir(),
    };
    let objects = eval_colour::load_labels(&args.labels)?;
    let sources = eval_colour::label_sources(&args.labels, &objects, &roots);
    if let Some(missing) = sources.iter().find(|p| !p.is_file()) {
        anyhow::bail!(
            "a labelled source is missing (fetch vtest.avi with tools/fetch-footage, or name the shared data root with --shared): {}",
            missing.display()
        );
    }
    let mut files: Vec<PathBuf> = std::iter::once(args.labels.clone())
        .chain(sources)
        .collect();
    let mut computed = vec![Computed::ColourNames];
    if let Some(t) = &args.tracks {
        if !t.is_file() {
            anyhow::bail!("cannot read --tracks (no such file): {}", t.display());
        }
        let people = eval_colour::load_track_labels(t)?;
        let sources = eval_colour::track_label_sources(t, &people, &roots);
        if let Some(missing) = sources.iter().find(|p| !p.is_file()) {
            anyhow::bail!(
                "a labelled source is missing (fetch vtest.avi with tools/fetch-footage, or name the shared data root with --shared): {}",
                missing.display()
            );
        }
        files.push(t.clone());
        files.extend(
            sources
                .into_iter()
                .filter(|p| !files.contains(p))
                .collect::<Vec<_>>(),
        );
        computed.extend([Computed::Detections, Computed::Tracks]);
    }
    let app = vigie_app::App::from_env()?;
    let meas = Measurement::open(
        &app,
        global.operator()?.as_ref(),
        "eval colour",
        &computed,
        &files,
        global.reason.as_deref(),
    )?;
    let split = match args.split {
        SplitArg::Tune => Some(Split::Tune),
        SplitArg::Test => Some(Split::Test),
        SplitArg::All => None,
    };
    let e = eval_colour::eval_colour(
        &meas,
        &EvalColourRequest {
            labels: args.labels.clone(),
            roots,
            split,
            width_px: args.width,
        },
    )?;
    let tracks = match &args.tracks {
        Some(t) => Some(eval_colour::eval_track_colour(
            &meas,
            &eval_colour::EvalTrackColourRequest {
                labels: t.clone(),
                roots: Roots {
                    shared: args.shared.clone(),
                    cache: vigie_core::paths::cache_dir(),
                },
                split,
                pooling: (args.pooling == PoolingArg::Equal)
                    .then_some(vigie_describe::ColourPooling::EQUAL),
                detector: eval_colour::TrackDetector::Nanodet,
            },
        )?),
        None => None,
    };
    if global.json {
        print_json(&json!({
            "labels": args.labels,
            "evaluation": e,
            "tracks": tracks.as_ref().map(|t| json!({ "labels": args.tracks, "evaluation": t })),
        }))?;
    } else {
        out!("{}", describe(&e, args.verbose));
        if let Some(t) = &tracks {
            out!("{}", describe_tracks(t, args.verbose));
        }
    }
    Ok(Outcome::Success)
}

/// The figures as a table: one line per split, data set and part.
pub fn describe(e: &ColourEval, verbose: bool) -> String {
    let pct = |v: f64| format!("{:5.1} %", 100.0 * v);
    let mut s = format!(
        "{:<5} {:<40} {:<6} {:>5} {:>5} {:>8} {:>9} {:>8}\n",
        "split", "data set", "part", "parts", "ambig", "first", "first two", "search"
    );
    for r in &e.rows {
        s += &format!(
            "{:<5} {:<40} {:<6} {:>5} {:>5} {:>8} {:>9} {:>8}\n",
            r.split.name(),
            r.dataset,
            r.part.name(),
            r.score.parts,
            r.score.ambiguous,
            pct(r.first_rate),
            pct(r.first_two_rate),
            pct(r.found_rate)
        );
    }
    s += &format!(
        "first: vigie's first colour is the labelled one (or an accepted alternative of an ambiguous label); \
         search: `--colour/--upper/--lower X` returns the object (X covers >= {:.0} % of the part)\n",
        100.0 * e.search_min_share
    );
    if verbose {
        for p in &e.parts {
            let named: Vec<String> = p
                .named
                .iter()
                .map(|c| format!("{} {:.0}%", c.colour, 100.0 * c.share))
                .collect();
            let mut label = p.label.colour.to_string();
            for a in &p.label.alternatives {
                label += &format!("|{a}");
            }
            s += &format!(
                "{:>4} {:<5} {:<6} {:<24} {:<30} {}{}{}\n",
                p.id,
                p.split.name(),
                p.part.name(),
                label,
                if named.is_empty() {
                    "(no colour)".to_owned()
                } else {
                    named.join(", ")
                },
                if p.first_right { "1" } else { "-" },
                if p.first_two_right { "2" } else { "-" },
                if p.found { "s" } else { "-" }
            );
        }
    }
    s
}

/// The whole-track figures as a table.
pub fn describe_tracks(e: &eval_colour::TrackColourEval, verbose: bool) -> String {
    let pct = |v: f64| format!("{:5.1} %", 100.0 * v);
    let mut s = format!(
        "\nwhole tracks ({} person tracks analysed; a labelled person matches the track covering its box, IoU >= {})\n\
         {:<5} {:<40} {:<6} {:>7} {:>9} {:>5} {:>8} {:>9} {:>8}\n",
        e.person_tracks,
        e.match_min_iou,
        "split", "data set", "part", "persons", "unmatched", "ambig", "first", "first two", "search"
    );
    for r in &e.rows {
        s += &format!(
            "{:<5} {:<40} {:<6} {:>7} {:>9} {:>5} {:>8} {:>9} {:>8}\n",
            r.split.name(),
            r.dataset,
            r.part.name(),
            r.persons,
            r.unmatched,
            r.score.ambiguous,
            pct(r.first_rate),
            pct(r.first_two_rate),
            pct(r.found_rate)
        );
    }
    s += "rates over the matched tracks, each track once per half\n";
    if verbose {
        for p in &e.persons {
            let Some(track) = p.track_id else {
                s += &format!("{:>4} {:<5} (no track)\n", p.id, p.split.name());
                continue;
            };
            for r in [&p.upper, &p.lower] {
                let named: Vec<String> = r
                    .named
                    .iter()
                    .map(|c| format!("{} {:.0}%", c.colour, 100.0 * c.share))
                    .collect();
                let mut label = r.label.colour.to_string();
                for a in &r.label.alternatives {
                    label += &format!("|{a}");
                }
                s += &format!(
                    "{:>4} {:<5} track {:<4} {:>3} views max {:>3.0} px {:<6} {:<20} {:<30} {}{}{}{}\n",
                    p.id,
                    p.split.name(),
                    track,
                    p.track_views,
                    p.track_max_height_px,
                    r.part.name(),
                    label,
                    if named.is_empty() {
                        "(no colour)".to_owned()
                    } else {
                        named.join(", ")
                    },
                    if r.first_right { "1" } else { "-" },
                    if r.first_two_right { "2" } else { "-" },
                    if r.found { "s" } else { "-" },
                    p.duplicate_of.map(|d| format!(" (same track as {d})")).unwrap_or_default()
                );
            }
        }
    }
    s
}
