//! Global flags, output helpers, and the one place where errors become exit codes.

use std::io::Write;
use std::process::ExitCode;

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
    /// Enter the case of `--case` as `--operator` to run `command` (the application
    /// layer's permission for every use of footage or results).
    pub fn enter(&self, command: &str) -> anyhow::Result<vigie_app::EnteredCase> {
        let app = vigie_app::App::from_env()?;
        let operator = vigie_app::Operator::from_flag(self.operator.as_deref())?;
        Ok(vigie_app::EnteredCase::enter(
            &app,
            self.case.as_deref(),
            &operator,
            self.reason.as_deref(),
            command,
        )?)
    }

    /// The operator, when one was given (measurement and administration record it).
    pub fn operator(&self) -> anyhow::Result<Option<vigie_app::Operator>> {
        match self.operator.as_deref().filter(|o| !o.trim().is_empty()) {
            Some(o) => Ok(Some(vigie_app::Operator::from_flag(Some(o))?)),
            None => Ok(None),
        }
    }

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

/// Exit code for an error: the application layer's one classification, applied to the
/// first typed error along the chain.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(std::io::ErrorKind::BrokenPipe) =
            cause.downcast_ref::<std::io::Error>().map(|e| e.kind())
        {
            return 0;
        }
        if cause
            .downcast_ref::<crate::cmd::audit::VerifyFailed>()
            .is_some()
        {
            return 4;
        }
    }
    let root: &(dyn std::error::Error + 'static) = err.as_ref();
    vigie_app::error::classify_dyn(root).exit_code()
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
