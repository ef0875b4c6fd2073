//! Global flags, output helpers, and the one place where errors become exit codes.

use std::io::Write;
use std::process::ExitCode;

use vigie_evidence::RegistryError;

/// Flags every command accepts.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Case to work in (see `vigie case open`).
    #[arg(long, global = true, env = "VIGIE_CASE")]
    pub case: Option<String>,
    /// Your operator id, recorded in the case's audit log with every action.
    #[arg(long, global = true, env = "VIGIE_OPERATOR")]
    pub operator: Option<String>,
    /// Why you are doing this (recorded in the audit log; defaults to the case's purpose).
    #[arg(long, global = true)]
    pub reason: Option<String>,
    /// No progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

impl Global {
    /// Whether progress bars should be drawn (not in JSON mode, not when quiet, only on a
    /// terminal: indicatif hides itself when stderr is not a TTY).
    pub fn progress(&self) -> bool {
        !self.quiet && !self.json
    }
}

/// How a command ended, when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Some items of a batch failed; they were reported, the rest went on.
    Partial,
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::Partial => ExitCode::from(1),
        }
    }
}

/// Print a JSON value on stdout (one document, pretty).
pub fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Exit code for an error, from the typed errors found along its chain.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(code) = crate::cmd::case::exit_code_for_cause(cause) {
            return code;
        }
        if let Some(e) = cause.downcast_ref::<RegistryError>() {
            return match e {
                RegistryError::HashMismatch { .. } | RegistryError::PathContentChanged { .. } => 3,
                RegistryError::Corrupt { .. } | RegistryError::Version { .. } => 4,
                _ => 2,
            };
        }
        // vigie-detect wraps policy errors transparently (they are not in the chain).
        let policy = cause
            .downcast_ref::<vigie_policy::PolicyError>()
            .or_else(|| match cause.downcast_ref::<vigie_detect::DetectError>() {
                Some(vigie_detect::DetectError::Policy(e)) => Some(e),
                _ => None,
            });
        if let Some(e) = policy {
            return match e {
                _ if e.is_refusal() => 3,
                vigie_policy::PolicyError::RuntimeModified { .. } => 4,
                _ => 2,
            };
        }
        if let Some(e) = cause.downcast_ref::<vigie_index::IndexError>() {
            return match e {
                vigie_index::IndexError::Corrupt { .. } => 4,
                _ => 2,
            };
        }
        if let Some(std::io::ErrorKind::BrokenPipe) =
            cause.downcast_ref::<std::io::Error>().map(|e| e.kind())
        {
            return 0;
        }
    }
    2
}

/// Report an error once, on stderr, and return its exit code.
pub fn report_error(err: &anyhow::Error) -> ExitCode {
    let code = exit_code_for(err);
    if code == 0 {
        return ExitCode::SUCCESS; // broken pipe: the reader went away, not an error.
    }
    let mut msg = format!("vigie: error: {err}");
    for cause in err.chain().skip(1) {
        msg.push_str(&format!("\n  caused by: {cause}"));
    }
    eprintln!("{msg}");
    ExitCode::from(code)
}
