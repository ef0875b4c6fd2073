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

use crate::output::{print_json, Outcome};
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
    let files: Vec<PathBuf> = std::iter::once(args.labels.clone())
        .chain(sources)
        .collect();
    let app = vigie_app::App::from_env()?;
    let meas = Measurement::open(
        &app,
        global.operator()?.as_ref(),
        "eval colour",
        &[Computed::ColourNames],
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
    if global.json {
        print_json(&json!({ "labels": args.labels, "evaluation": e }))?;
    } else {
        print!("{}", describe(&e, args.verbose));
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
