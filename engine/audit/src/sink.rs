//! Alerts into audit logs.
//!
//! [`AuditAlertSink`] records each [`Alert`] as an `alert` entry of one log (the
//! machine-wide one, or a case's); [`TeeAlertSink`] records it in two (the machine log
//! *and* the open case's log), so the data controller sees every alert in one place and
//! the case's exploitation report lists those raised while working on it.

use serde_json::Value;
use vigie_core::{Alert, AlertSink, AlertSinkError};

use crate::entry::{Action, NewEntry};
use crate::event::Event;
use crate::log::{AuditLog, AUTOMATIC_OPERATOR};

/// Records alerts as entries of one log.
#[derive(Debug, Clone)]
pub struct AuditAlertSink {
    log: AuditLog,
    /// Operator on whose command the alert was raised (or `vigie`).
    operator: String,
    case: Option<String>,
    procedure: Option<String>,
}

impl AuditAlertSink {
    pub fn new(log: AuditLog, operator: Option<&str>) -> Self {
        Self {
            log,
            operator: operator
                .filter(|o| !o.trim().is_empty())
                .unwrap_or(AUTOMATIC_OPERATOR)
                .to_owned(),
            case: None,
            procedure: None,
        }
    }

    /// Tag the alert entries with the case they were raised in.
    pub fn for_case(mut self, case_id: &str, procedure: &str) -> Self {
        self.case = Some(case_id.to_owned());
        self.procedure = Some(procedure.to_owned());
        self
    }
}

/// The `params` of an alert entry.
pub fn alert_params(alert: &Alert) -> Value {
    alert_event(alert).to_params()
}

/// The typed event of an alert.
pub fn alert_event(alert: &Alert) -> Event {
    Event::Alert {
        kind: alert.kind,
        message: alert.message.clone(),
        details: alert.details.clone(),
    }
}

impl AlertSink for AuditAlertSink {
    fn raise(&self, alert: &Alert) -> Result<(), AlertSinkError> {
        self.log
            .append(NewEntry {
                operator: self.operator.clone(),
                case: self.case.clone(),
                procedure: self.procedure.clone(),
                action: Action::Alert,
                params: alert_params(alert),
                justification: "automatic: vigie refused or detected something the data controller must know about".into(),
                result: Event::result_marker(),
            })
            .map(|_| ())
            .map_err(|e| AlertSinkError(e.to_string()))
    }
}

/// Records each alert in two sinks. Both are attempted even if the first fails; the
/// alert counts as recorded only if both succeeded.
#[derive(Debug, Clone)]
pub struct TeeAlertSink<A, B> {
    pub first: A,
    pub second: B,
}

impl<A: AlertSink, B: AlertSink> AlertSink for TeeAlertSink<A, B> {
    fn raise(&self, alert: &Alert) -> Result<(), AlertSinkError> {
        let a = self.first.raise(alert);
        let b = self.second.raise(alert);
        match (a, b) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(e), Ok(())) | (Ok(()), Err(e)) => Err(e),
            (Err(e1), Err(e2)) => Err(AlertSinkError(format!("{}; {}", e1.0, e2.0))),
        }
    }
}
