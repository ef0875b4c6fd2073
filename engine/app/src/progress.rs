//! Progress reporting and cancellation for long work.
//!
//! Front ends show live progress (a terminal bar, a web page) through [`Progress`];
//! closure and the operator stop work through a [`CancelToken`]. Work calls
//! [`Progress::frame`] as it goes and checks its entered case's
//! [`crate::EnteredCase::checkpoint`], which re-checks the authorisation, the closing
//! request and the token, so stopping never depends on timing: work stops at the next
//! checkpoint, before it writes anything of the unit it was on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What long work reports while it runs. Implementations must be cheap: `frame` is called
/// once per analysed frame.
pub trait Progress: Send + Sync {
    /// A unit of work (a source, an image) starts; `total_ms` is its media duration when
    /// known.
    fn begin(&self, _unit: &str, _total_ms: Option<u64>) {}
    /// A frame at `pts_ms` of the current unit was analysed.
    fn frame(&self, _unit: &str, _pts_ms: i64) {}
    /// The unit is done (or failed: `ok` false).
    fn end(&self, _unit: &str, _ok: bool) {}
}

/// Progress nobody watches.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// A request to stop, shared between the front end and the work.
#[derive(Debug, Default, Clone)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
