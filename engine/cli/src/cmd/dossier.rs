//! `vigie dossier`: the technical dossier, generated from this build (its commands, its
//! compiled model allowlist and the models' measured quality, its storage layout).

use std::path::PathBuf;

use anyhow::Context;
use clap::CommandFactory;
use vigie_case::dossier::{render_html, render_markdown, DossierInput, Feature, ModelInfo};
use vigie_case::Clock;

use crate::output::{out, Outcome};
use crate::Global;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Markdown,
    Html,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: Format,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The commands of this binary, from its own clap definition.
fn features() -> Vec<Feature> {
    let mut out = Vec::new();
    let cli = crate::Cli::command();
    for sub in cli.get_subcommands() {
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        let children: Vec<_> = sub.get_subcommands().collect();
        if children.is_empty() {
            out.push(Feature {
                command: sub.get_name().to_owned(),
                summary: about,
            });
        } else {
            for child in children {
                out.push(Feature {
                    command: format!("{} {}", sub.get_name(), child.get_name()),
                    summary: child.get_about().map(|a| a.to_string()).unwrap_or_default(),
                });
            }
        }
    }
    out
}

/// The compiled allowlist.
fn models() -> Vec<ModelInfo> {
    vigie_app::admin::policy::models()
        .iter()
        .map(|m| ModelInfo {
            id: m.id.to_owned(),
            task: m.task.as_str().to_owned(),
            sha256: m.sha256_hex(),
            licence: m.licence.to_owned(),
            source: format!(
                "{} {} {} ({})",
                m.source.registry, m.source.package, m.source.version, m.source.path
            ),
        })
        .collect()
}

pub fn run(args: Args, _global: &Global) -> anyhow::Result<Outcome> {
    let clock = vigie_case::clock_from_env()?;
    let input = DossierInput {
        software_version: vigie_case::DataRoot::software_version(),
        generated_at: clock.now(),
        features: features(),
        models: models(),
        data_root: vigie_core::paths::data_root(),
        cache_dir: vigie_core::paths::cache_dir(),
        measured: vigie_app::admin::measured_catalogue(),
    };
    let text = match args.format {
        Format::Markdown => render_markdown(&input),
        Format::Html => render_html(&input),
    };
    match args.out {
        Some(path) => {
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write the dossier to {}", path.display()))?;
            eprintln!("dossier written to {}", path.display());
        }
        None => out!("{text}"),
    }
    Ok(Outcome::Success)
}
