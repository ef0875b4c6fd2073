//! A case's metadata (`case.json`): the procedure and the magistrate's authorisation that
//! make working on footage lawful, and the retention limit that follows from them.

use std::io;
use std::path::Path;

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{io_err, CaseError};

pub const META_FILE: &str = "case.json";
const META_FORMAT: u32 = 1;
/// Maximum retention after the authorisation (CPP art. 230-22), in months.
pub const MAX_RETENTION_MONTHS: u32 = 36;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Closed,
}

/// Why a case was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosureReason {
    /// `vigie case close`.
    Closed,
    /// `vigie case purge-expired`: the authorisation or the 3-year limit ran out.
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseMeta {
    pub format_version: u32,
    pub case_id: String,
    /// Judicial procedure number.
    pub procedure: String,
    /// Reference of the magistrate's authorisation.
    pub authorization: String,
    pub magistrate: String,
    pub authorized_on: NaiveDate,
    /// Last day the authorisation covers, if it states one.
    pub valid_until: Option<NaiveDate>,
    pub opened_by: String,
    pub purpose: String,
    pub status: CaseStatus,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
    pub closure_reason: Option<ClosureReason>,
}

impl CaseMeta {
    /// The last day work is allowed: the authorisation's end, and 3 years after it was
    /// given at most.
    pub fn retention_end(&self) -> NaiveDate {
        retention_end(self.authorized_on, self.valid_until)
    }

    /// Whether `today` (UTC) is past the retention end.
    pub fn is_expired(&self, today: NaiveDate) -> bool {
        today > self.retention_end()
    }
}

/// Three years after `authorized_on` (the day before the anniversary).
pub fn max_retention_end(authorized_on: NaiveDate) -> NaiveDate {
    authorized_on
        .checked_add_months(Months::new(MAX_RETENTION_MONTHS))
        .and_then(|d| d.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

pub fn retention_end(authorized_on: NaiveDate, valid_until: Option<NaiveDate>) -> NaiveDate {
    let max = max_retention_end(authorized_on);
    valid_until.map_or(max, |v| v.min(max))
}

/// Case ids become directory names: letters, digits, `.`, `_`, `-`; 1..=64; starting with
/// a letter or digit (so never `.` or `..`).
pub fn validate_case_id(id: &str) -> Result<(), CaseError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(CaseError::InvalidCaseId(id.to_owned()))
    }
}

/// A case id derived from a procedure number: `2026/00042 PJ` -> `2026-00042-PJ`.
pub fn case_id_from_procedure(procedure: &str) -> Result<String, CaseError> {
    let mut id = String::new();
    for c in procedure.trim().chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_') {
            id.push(c);
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    let id: String = id
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .chars()
        .take(64)
        .collect();
    let id = id.trim_end_matches(['-', '.', '_']).to_owned();
    validate_case_id(&id).map(|()| id)
}

/// Parse a `YYYY-MM-DD` flag.
pub fn parse_date(field: &'static str, value: &str) -> Result<NaiveDate, CaseError> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| CaseError::BadDate {
        field,
        value: value.to_owned(),
    })
}

pub(crate) fn new_meta_format() -> u32 {
    META_FORMAT
}

pub(crate) fn read_meta(case_dir: &Path, case_id: &str) -> Result<CaseMeta, CaseError> {
    let path = case_dir.join(META_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // A case directory with a log but no case.json: the file was deleted.
            if case_dir.join("audit").join(vigie_audit::LOG_FILE).exists() {
                return Err(CaseError::CorruptMeta {
                    path,
                    why: "case.json is missing".into(),
                });
            }
            return Err(CaseError::UnknownCase(case_id.to_owned()));
        }
        Err(e) => return Err(io_err(&path)(e)),
    };
    let meta: CaseMeta = serde_json::from_slice(&bytes).map_err(|e| CaseError::CorruptMeta {
        path: path.clone(),
        why: e.to_string(),
    })?;
    if meta.format_version != META_FORMAT || meta.case_id != case_id {
        return Err(CaseError::CorruptMeta {
            path,
            why: format!(
                "format {} for case {:?}, expected format {META_FORMAT} for case {case_id:?}",
                meta.format_version, meta.case_id
            ),
        });
    }
    Ok(meta)
}

pub(crate) fn write_meta(case_dir: &Path, meta: &CaseMeta) -> Result<(), CaseError> {
    let path = case_dir.join(META_FILE);
    let mut bytes = serde_json::to_vec_pretty(meta).expect("case metadata serialises");
    bytes.push(b'\n');
    vigie_audit::write_atomic(&path, &bytes).map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date("test", s).unwrap()
    }

    #[test]
    fn retention_is_capped_at_three_years() {
        assert_eq!(max_retention_end(d("2024-03-01")), d("2027-02-28"));
        assert_eq!(max_retention_end(d("2024-02-29")), d("2027-02-27"));
        assert_eq!(
            retention_end(d("2024-03-01"), Some(d("2024-06-30"))),
            d("2024-06-30")
        );
        assert_eq!(
            retention_end(d("2024-03-01"), Some(d("2030-01-01"))),
            d("2027-02-28")
        );
    }

    #[test]
    fn case_ids() {
        assert_eq!(
            case_id_from_procedure("2026/00042 PJ").unwrap(),
            "2026-00042-PJ"
        );
        assert_eq!(case_id_from_procedure(" /PV.12/ ").unwrap(), "PV.12");
        assert!(case_id_from_procedure("///").is_err());
        for bad in ["", "..", ".x", "a/b", "a b", "é", &"x".repeat(65), "-a"] {
            assert!(validate_case_id(bad).is_err(), "{bad:?}");
        }
        for good in ["A", "2026-00042", "pv_1.2"] {
            validate_case_id(good).unwrap();
        }
    }

    #[test]
    fn dates() {
        assert!(parse_date("x", "2026-13-01").is_err());
        assert!(parse_date("x", "01/02/2026").is_err());
        assert_eq!(parse_date("x", " 2026-01-31 ").unwrap(), d("2026-01-31"));
    }
}
