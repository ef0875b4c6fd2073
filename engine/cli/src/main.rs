//! `vigie`: search recorded CCTV footage without processing biometric data.
//!
//! This binary only parses the command line and wires the engine crates together (as
//! ripgrep's `core` does): every piece of behaviour lives in an `engine/` library crate
//! that can be tested without clap. Errors are handled once, here: one clear line on
//! stderr and a documented exit code.

#![forbid(unsafe_code)]
// Command output goes through `output::outln!` and friends, which survive a closed pipe.
#![deny(clippy::print_stdout)]

mod cmd;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use output::Global;

const AFTER_HELP: &str = "\
Typical session (inside one authorised case):
  vigie case open --procedure 2026/123 --authorization OJ-45 --magistrate Dupont \\
      --authorized-on 2026-11-30 --purpose theft-shop-Y    open the case (prints its id)
  export VIGIE_CASE=<id> VIGIE_OPERATOR=<you>
  vigie ingest footage/                    hash and register the footage (evidence)
  vigie analyze --all                      detect, track and describe objects
  vigie search --class car --colour red    find tracks by appearance and motion
  vigie synopsis --source S... -o s.mp4    hours of activity in minutes
  vigie clip --track 12 -o t12.mp4         export the original segment (hashed, logged)
  vigie case report                        the exploitation report
  vigie probe FILE, vigie bench decode FILE    work on any file, outside a case (benchmarks
                                           and evaluations log each file's SHA-256 first)

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
#[command(name = "vigie", version, after_help = AFTER_HELP, propagate_version = true)]
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
    /// Analyse sources: detect, track and describe objects into the case's index.
    Analyze(cmd::analyze::Args),
    /// Verify and import the shard results of `analyze --shard` (run once, after the shards).
    Merge(cmd::merge::Args),
    /// Decode a source (with sampling and scaling) and report frames, damage and speed.
    Decode(cmd::decode::Args),
    /// Export the source segment of a track (stream copy), logged as a disclosure.
    Clip(cmd::clip::Args),
    /// Export one frame of a source as PNG (to draw zones and lines on).
    Frame(cmd::frame::Args),
    /// Per camera, when footage was recorded, analysed, damaged or missing (table, JSON, SVG).
    Coverage(cmd::coverage::CoverageArgs),
    /// Search the case's track index (class, colours, direction, zones, lines, time).
    Search(Box<cmd::search::Args>),
    /// Benchmarks that print figures (ratios measured in one run).
    #[command(subcommand)]
    Bench(cmd::bench::BenchCmd),
    /// List the models this build can run (the compiled allowlist) and check their files.
    Models(cmd::models::Args),
    /// Detect objects (person, vehicles...) in a still or a video.
    Detect(cmd::detect::Args),
    /// Read licence plates on still images (photos of the case); logged as a consultation.
    Plates(cmd::plates::Args),
    /// Measure analysis quality against annotated data.
    #[command(subcommand)]
    Eval(cmd::eval::EvalCmd),
    /// Procedure-scoped cases: open, list, show, report, close, purge-expired.
    #[command(subcommand)]
    Case(cmd::case::CaseCmd),
    /// Which camera each source belongs to, and each camera's zones and lines.
    #[command(subcommand)]
    Camera(cmd::camera::CameraCmd),
    /// Correct recorder clocks (offset, true time of a frame, time zone) and show them.
    #[command(subcommand)]
    Clock(cmd::clock::ClockCmd),
    /// Verify and read the tamper-evident audit logs.
    #[command(subcommand)]
    Audit(cmd::audit::AuditCmd),
    /// Alerts for the data controller (refused models, changed evidence, tampered logs).
    Alerts(cmd::alerts::Args),
    /// Operator accounts: add, disable, list, grant and revoke cases, passwords.
    #[command(subcommand)]
    Operator(cmd::operator::OperatorCmd),
    /// Compute nodes' signing keys: init (on a node), enroll, revoke, list.
    #[command(subcommand)]
    Node(cmd::node::NodeCmd),
    /// Generate the technical dossier (functions, models, data flows, security measures).
    Dossier(cmd::dossier::Args),
    /// Condense a source's objects into a short labelled video (filters as in `search`).
    Synopsis(Box<cmd::synopsis::Args>),
    /// Serve the investigator's desk: a web interface on this machine (accounts of `operator`).
    Serve(cmd::serve::Args),
}

/// Raise the soft limit of open files to the hard one. Work on evidence keeps each file it
/// hashed open until it is done with it (what is hashed is what is decoded), and a
/// camera's synopsis over a day of one-minute recorder files holds 1,440 of them, over the
/// usual soft limit of 1,024; tools that open many files raise it the same way.
fn raise_open_file_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        let _ = setrlimit(Resource::Nofile, limit);
    }
}

fn main() -> ExitCode {
    raise_open_file_limit();
    let cli = Cli::parse();
    let global = cli.global;
    let result = match cli.command {
        Command::Ingest(a) => cmd::ingest::run(a, &global),
        Command::Probe(a) => cmd::probe::run(a, &global),
        Command::Sources(a) => cmd::sources::run(a, &global),
        Command::Verify(a) => cmd::verify::run(a, &global),
        Command::Decode(a) => cmd::decode::run(a, &global),
        Command::Analyze(a) => cmd::analyze::run(a, &global),
        Command::Merge(a) => cmd::merge::run(a, &global),
        Command::Frame(a) => cmd::frame::run(a, &global),
        Command::Clip(a) => cmd::clip::run(a, &global),
        Command::Coverage(a) => cmd::coverage::run(a, &global),
        Command::Search(a) => cmd::search::run(*a, &global),
        Command::Bench(c) => cmd::bench::run(c, &global),
        Command::Models(a) => cmd::models::run(a, &global),
        Command::Detect(a) => cmd::detect::run(a, &global),
        Command::Plates(a) => cmd::plates::run(a, &global),
        Command::Eval(c) => cmd::eval::run(c, &global),
        Command::Case(c) => cmd::case::run(c, &global),
        Command::Camera(c) => cmd::camera::run(c, &global),
        Command::Clock(c) => cmd::clock::run(c, &global),
        Command::Audit(c) => cmd::audit::run(c, &global),
        Command::Alerts(a) => cmd::alerts::run(a, &global),
        Command::Operator(c) => cmd::operator::run(c, &global),
        Command::Node(c) => cmd::node::run(c, &global),
        Command::Dossier(a) => cmd::dossier::run(a, &global),
        Command::Synopsis(a) => cmd::synopsis::run(*a, &global),
        Command::Serve(a) => cmd::serve::run(a, &global),
    };
    // The command's work is done; only now say that stdout could not take its output.
    let result = result.and_then(|outcome| {
        output::finish_stdout()
            .map_err(|e| anyhow::Error::new(e).context("could not write the output to stdout"))?;
        Ok(outcome)
    });
    match result {
        Ok(code) => code.into(),
        Err(err) => output::report_error(&err),
    }
}
