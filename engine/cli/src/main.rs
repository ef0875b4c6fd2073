//! `vigie`: search recorded CCTV footage without processing biometric data.
//!
//! This binary only parses the command line and wires the engine crates together (as
//! ripgrep's `core` does): every piece of behaviour lives in an `engine/` library crate
//! that can be tested without clap. Errors are handled once, here: one clear line on
//! stderr and a documented exit code.

#![forbid(unsafe_code)]

mod cmd;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use output::Global;

const AFTER_HELP: &str = "\
Typical session:
  vigie ingest footage/                    hash and register the footage (evidence)
  vigie probe footage/cam1.mp4             show what a file contains
  vigie decode footage/cam1.mp4            decode it and report damage, if any
  vigie bench decode footage/cam1.mp4      our decoder against `ffmpeg -f null`

Environment:
  VIGIE_CACHE   fetched models, ONNX Runtime and sample footage (default ~/.cache/vigie)
  VIGIE_HOME    cases, audit logs and keys (default ~/.local/share/vigie)

Exit codes:
  0  success
  1  partly done: some files of a batch failed (each is named on stderr), the rest went on
  2  error: bad input or usage (the message names the problem and the fix)
  3  refused: evidence changed since ingest, missing authorisation, or a forbidden model
  4  integrity failure: an audit log or registry failed verification";

/// vigie: search recorded CCTV footage by what objects look like and how they move, never
/// by who people are.
#[derive(Debug, Parser)]
#[command(name = "vigie", version, about, after_help = AFTER_HELP, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Hash and register footage as evidence (files and directories, recursively).
    Ingest(cmd::ingest::Args),
    /// Show a video file's container, codec, duration, resolution, frame rate and start time.
    Probe(cmd::probe::Args),
    /// List the registered sources.
    Sources(cmd::sources::Args),
    /// Re-hash registered sources and report any whose bytes changed.
    Verify(cmd::verify::Args),
    /// Decode a source (with sampling and scaling) and report frames, damage and speed.
    Decode(cmd::decode::Args),
    /// Benchmarks that print figures (ratios measured in one run).
    #[command(subcommand)]
    Bench(cmd::bench::BenchCmd),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let global = cli.global;
    let result = match cli.command {
        Command::Ingest(a) => cmd::ingest::run(a, &global),
        Command::Probe(a) => cmd::probe::run(a, &global),
        Command::Sources(a) => cmd::sources::run(a, &global),
        Command::Verify(a) => cmd::verify::run(a, &global),
        Command::Decode(a) => cmd::decode::run(a, &global),
        Command::Bench(c) => cmd::bench::run(c, &global),
    };
    match result {
        Ok(code) => code.into(),
        Err(err) => output::report_error(&err),
    }
}
