//! When and where each source was recorded, as the case's record says now: its camera and
//! its wall-clock start after the clock correction in force.
//!
//! Why: recorder clocks are wrong (minutes off, local time, daylight saving) and a source
//! belongs to a camera. Every result, search, synopsis label, coverage table and report
//! goes through [`SourceTiming`] (computed from the case log's `TimeBook` by
//! [`crate::EnteredCase::timing`], or by the report from the same log) so that all of them
//! use the same correction and say which.

pub use vigie_case::timebook::SourceTiming;
