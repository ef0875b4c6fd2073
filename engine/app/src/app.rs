//! The installation a front end works on: its data root and its clock.

use std::sync::Arc;

use vigie_audit::event::{Event, Recorder};
use vigie_audit::{AuditAlertSink, AuditLog, Clock};
use vigie_case::DataRoot;

use crate::error::AppError;
use crate::operator::Operator;

/// The data root and clock every use case runs against.
#[derive(Clone)]
pub struct App {
    root: DataRoot,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("root", &self.root.path())
            .finish()
    }
}

impl App {
    pub fn new(root: DataRoot, clock: Arc<dyn Clock>) -> Self {
        Self { root, clock }
    }

    /// The data root of `VIGIE_HOME` (default `~/.local/share/vigie`) and the system clock
    /// (see `vigie_case::clock_from_env` for the test clock).
    pub fn from_env() -> Result<Self, AppError> {
        Ok(Self::new(
            DataRoot::from_env(),
            vigie_case::clock_from_env()?,
        ))
    }

    pub fn root(&self) -> &DataRoot {
        &self.root
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The machine-wide log.
    pub fn machine_log(&self) -> Result<AuditLog, AppError> {
        Ok(self.root.machine_log(self.clock.clone())?)
    }

    /// Record an event in the machine log (work outside any case: measurement, reports on
    /// closed cases).
    pub fn record_machine(
        &self,
        operator: Option<&Operator>,
        case: Option<(&str, &str)>,
        justification: &str,
        event: &Event,
    ) -> Result<vigie_audit::EntryRef, AppError> {
        let recorder = Recorder {
            operator: operator
                .map(|o| o.as_str().to_owned())
                .unwrap_or_else(|| vigie_audit::AUTOMATIC_OPERATOR.to_owned()),
            case: case.map(|c| c.0.to_owned()),
            procedure: case.map(|c| c.1.to_owned()),
            justification: justification.to_owned(),
        };
        Ok(self.machine_log()?.record(&recorder, event)?)
    }

    /// Where alerts raised outside any case go: the machine log.
    pub fn machine_alert_sink(
        &self,
        operator: Option<&Operator>,
    ) -> Result<AuditAlertSink, AppError> {
        Ok(AuditAlertSink::new(
            self.machine_log()?,
            operator.map(Operator::as_str),
        ))
    }
}
