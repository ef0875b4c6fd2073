//! Global flags, output helpers, and the one place where errors become exit codes.
//!
//! Everything a command prints on stdout goes through [`outln!`], [`out!`] or [`stdout`],
//! never `println!`: `println!` panics when stdout fails, and `vigie ingest ... | head -1`
//! closes the pipe while vigie still has lines to print. A failing stdout must not stop
//! the work either: an ingest or an analysis goes on to register its evidence and write
//! its audit-log entries, and only the printing stops. (Restoring the default SIGPIPE
//! action instead would kill the process at its next write, possibly between two
//! steps of work that belong together.) A broken pipe is the reader's choice and is
//! silent; any other failure (a full disk behind a redirection) is reported once the
//! command is done, by [`finish_stdout`].

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

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

/// Set once stdout failed: nothing more is written to it.
static STDOUT_FAILED: AtomicBool = AtomicBool::new(false);
/// The first failure of stdout other than a broken pipe, reported by [`finish_stdout`].
static STDOUT_ERROR: Mutex<Option<io::Error>> = Mutex::new(None);

/// Whether stdout failed (its reader went away, or writing failed): commands that only
/// print, such as `alerts --follow`, stop then.
pub fn stdout_failed() -> bool {
    STDOUT_FAILED.load(Ordering::Relaxed)
}

/// Stop printing after `err`, keeping it for [`finish_stdout`] unless it is a broken pipe.
fn record_stdout_error(err: io::Error) {
    STDOUT_FAILED.store(true, Ordering::Relaxed);
    if err.kind() != io::ErrorKind::BrokenPipe {
        let mut first = STDOUT_ERROR.lock().unwrap_or_else(|p| p.into_inner());
        first.get_or_insert(err);
    }
}

/// Stdout, locked, for commands that write to it with `write!`: its writes never fail,
/// and are dropped once stdout has failed (see the module documentation).
pub struct Stdout(io::StdoutLock<'static>);

/// Stdout for `write!` and `writeln!` (see [`Stdout`]).
pub fn stdout() -> Stdout {
    Stdout(io::stdout().lock())
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !stdout_failed() {
            if let Err(e) = self.0.write_all(buf) {
                record_stdout_error(e);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !stdout_failed() {
            if let Err(e) = self.0.flush() {
                record_stdout_error(e);
            }
        }
        Ok(())
    }
}

/// What [`outln!`] and [`out!`] expand to.
#[doc(hidden)]
pub fn print_args(args: fmt::Arguments<'_>) {
    // Cannot fail: see `Stdout`.
    let _ = stdout().write_fmt(args);
}

/// `println!` for command output: never panics, and stops printing once stdout failed
/// (see the module documentation).
macro_rules! outln {
    () => {
        $crate::output::print_args(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::print_args(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for command output (see [`outln!`]).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::print_args(format_args!($($arg)*))
    };
}

pub(crate) use {out, outln};

/// Flush stdout once the command is done; the first failure to write to it other than a
/// broken pipe, if any.
pub fn finish_stdout() -> io::Result<()> {
    let _ = stdout().flush();
    let first = STDOUT_ERROR
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    first.map_or(Ok(()), Err)
}

/// Print a JSON value on stdout (one document, pretty).
pub fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut out = stdout();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Exit code for an error: the application layer's one classification, applied to the
/// first typed error along the chain. (A broken pipe is an error like any other here:
/// stdout's never reaches this point, so one in the chain came from elsewhere.)
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
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
    let mut msg = format!("vigie: error: {err}");
    for cause in err.chain().skip(1) {
        msg.push_str(&format!("\n  caused by: {cause}"));
    }
    eprintln!("{msg}");
    ExitCode::from(code)
}
