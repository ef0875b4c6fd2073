//! One audit entry, its action category, and how its hash is computed.
//!
//! The categories are those of directive 2016/680 art. 25 (collection, alteration,
//! consultation, disclosure, combination, erasure) plus the two vigie adds for the data
//! controller: a model being loaded (which model, which hash) and an alert (something
//! refused that must never happen). Every entry carries the previous entry's hash and its
//! own, computed over the canonical JSON of every other field: changing any byte of any
//! field of any entry changes its hash and breaks the chain from there on.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::canonical::to_canonical_vec;

/// What kind of processing an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Data entering the case: footage ingested, a case opened with its authorisation.
    Collection,
    /// Data looked at: a search, a listing of results, a playback.
    Consultation,
    /// Data leaving vigie: an export, a report handed over.
    Disclosure,
    /// Data from several sources brought together (cross-camera matching).
    Combination,
    /// Data changed: an annotation, a correction, derived data rebuilt.
    Alteration,
    /// Data erased: closure, purge of an expired case.
    Erasure,
    /// A model loaded for analysis (its id and hash).
    ModelLoad,
    /// Something vigie refused or detected for the data controller.
    Alert,
    /// A case's life: opened under an authorisation, renewed (closure is an erasure).
    Lifecycle,
}

impl Action {
    pub const ALL: [Action; 9] = [
        Action::Collection,
        Action::Consultation,
        Action::Disclosure,
        Action::Combination,
        Action::Alteration,
        Action::Erasure,
        Action::ModelLoad,
        Action::Alert,
        Action::Lifecycle,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Collection => "collection",
            Action::Consultation => "consultation",
            Action::Disclosure => "disclosure",
            Action::Combination => "combination",
            Action::Alteration => "alteration",
            Action::Erasure => "erasure",
            Action::ModelLoad => "model_load",
            Action::Alert => "alert",
            Action::Lifecycle => "lifecycle",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit action {0:?} (expected one of: collection, consultation, disclosure, combination, alteration, erasure, model_load, alert, lifecycle)")]
pub struct ActionParseError(pub String);

impl FromStr for Action {
    type Err = ActionParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == norm)
            .ok_or_else(|| ActionParseError(s.to_owned()))
    }
}

/// One line of an audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// 1 for the first entry of a log, then +1 per entry, no gaps.
    pub seq: u64,
    /// When the entry was written, UTC, millisecond precision.
    #[serde(with = "time_ms")]
    pub time: DateTime<Utc>,
    /// Who acted (the operator id given with `--operator`, or `vigie` for automatic
    /// entries).
    pub operator: String,
    /// The case the entry belongs to (always set in a case's log; in the machine log, set
    /// when the event concerns a case).
    pub case: Option<String>,
    /// The judicial procedure number of that case.
    pub procedure: Option<String>,
    pub action: Action,
    /// What was asked: search filters, file hashes, model ids...
    pub params: Value,
    /// Why (the operator's `--reason`, or the case's purpose).
    pub justification: String,
    /// What came of it: counts, output hashes.
    pub result: Value,
    /// The vigie version that wrote the entry.
    pub software_version: String,
    /// Hash of the previous entry (the log's genesis hash for seq 1).
    pub prev_hash: String,
    /// SHA-256 (lower-case hex) of the canonical JSON of every other field.
    pub hash: String,
}

/// What a caller asks to record; the log fills in seq, time, version and hashes.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    pub operator: String,
    pub case: Option<String>,
    pub procedure: Option<String>,
    pub action: Action,
    pub params: Value,
    pub justification: String,
    pub result: Value,
}

/// Where an entry landed: enough to cite it (in a report, in an export's metadata).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRef {
    pub seq: u64,
    pub hash: String,
}

/// The `prev_hash` of a log's first entry: binds the chain to the log's identity, so an
/// entry copied from one case's log into another's breaks the chain.
pub fn genesis_hash(log_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"vigie-audit/v1 genesis\n");
    h.update(log_id.as_bytes());
    hex::encode(h.finalize())
}

/// The hash of an entry given as a JSON object: SHA-256 of the canonical JSON of the object
/// without its `hash` member.
pub fn hash_of_value(entry: &serde_json::Map<String, Value>) -> String {
    let mut without = entry.clone();
    without.remove("hash");
    hex::encode(Sha256::digest(to_canonical_vec(&Value::Object(without))))
}

impl Entry {
    /// The hash this entry should have.
    pub fn compute_hash(&self) -> String {
        match serde_json::to_value(self).expect("an entry serialises") {
            Value::Object(map) => hash_of_value(&map),
            _ => unreachable!("an entry serialises to an object"),
        }
    }

    /// The canonical JSON line of this entry (without the trailing newline).
    pub fn to_line(&self) -> String {
        crate::canonical::to_canonical_string(
            &serde_json::to_value(self).expect("an entry serialises"),
        )
    }
}

/// UTC timestamps as `2026-01-31T12:34:56.789Z`: one fixed width, sorts as text.
mod time_ms {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_round_trip() {
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>().unwrap(), a);
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(json, format!("\"{}\"", a.as_str()));
        }
        assert_eq!("model-load".parse::<Action>().unwrap(), Action::ModelLoad);
        assert!("biometrics".parse::<Action>().is_err());
    }

    #[test]
    fn genesis_depends_on_log_id() {
        assert_ne!(genesis_hash("case:A"), genesis_hash("case:B"));
        assert_eq!(genesis_hash("machine").len(), 64);
    }
}
