//! Shared set-up for the case tests (not a test itself).
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use vigie_case::{open_case, CaseMeta, Clock, DataRoot, FixedClock, OpenRequest};

pub fn at(s: &str) -> Arc<dyn Clock> {
    Arc::new(FixedClock(
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc),
    ))
}

pub fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub fn request(procedure: &str) -> OpenRequest {
    OpenRequest {
        case_id: None,
        procedure: procedure.into(),
        authorization: "AUT-2026-17".into(),
        magistrate: "Mme la juge Dupont".into(),
        authorized_on: date("2026-03-01"),
        valid_until: Some(date("2026-09-30")),
        operator: "opj-martin".into(),
        purpose: "Vol avec violence, gare de Lyon, 28/02/2026".into(),
    }
}

/// A data root with a known installation key (so reports are reproducible).
pub fn root(dir: &std::path::Path) -> DataRoot {
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let key = keys.join(vigie_audit::KEY_FILE);
    std::fs::write(&key, format!("{}\n", hex::encode([9u8; 32]))).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    DataRoot::new(dir.to_path_buf())
}

pub fn open(root: &DataRoot, procedure: &str) -> CaseMeta {
    open_case(root, request(procedure), at("2026-03-02T09:00:00Z")).unwrap()
}
