//! The per-case registry of ingested sources.
//!
//! One JSON document, `sources.json`, in the registry directory. Every change takes an
//! exclusive lock on `sources.lock`, re-reads the document, writes a temporary file, syncs
//! it and renames it over the old one (then syncs the directory): readers see the old or
//! the new registry, never half of one, and two ingests in parallel do not lose entries.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use fs2::FileExt;
use serde::{Deserialize, Serialize};
use vigie_core::SourceMeta;

use crate::hash::HashError;
use crate::opened::OpenedEvidence;

const REGISTRY_FILE: &str = "sources.json";
const LOCK_FILE: &str = "sources.lock";
const FORMAT_VERSION: u32 = 1;

/// One ingested source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// Stable short id: `S` + the first 12 hex digits of the SHA-256. Identifies the
    /// *content*, so a renamed copy of the same file is the same source.
    pub source_id: String,
    /// Absolute path at ingest time.
    pub path: PathBuf,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
    pub size_bytes: u64,
    pub meta: SourceMeta,
    pub ingested_at: DateTime<Utc>,
    /// For an export cut before its index: the elementary stream salvaged from it (the
    /// original stays untouched and keeps its hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salvage: Option<Salvage>,
}

/// The stream salvaged from a damaged export, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Salvage {
    /// The salvaged elementary stream (derived data of the case).
    pub stream: PathBuf,
    pub stream_sha256: String,
    /// `h264` or `hevc`.
    pub codec: String,
    /// `stream` (repeated in-band) or `reference`.
    pub parameter_sets: String,
    /// The healthy file the parameter sets came from, by hash.
    pub reference_sha256: Option<String>,
    pub nal_units: u64,
    /// Bytes of the media data that could not be read as video.
    pub bytes_skipped: u64,
}

impl SourceRecord {
    /// The file to decode: the salvaged stream of a damaged export, else the source.
    pub fn media_path(&self) -> &Path {
        self.salvage
            .as_ref()
            .map(|s| s.stream.as_path())
            .unwrap_or(&self.path)
    }

    pub fn id_for_hash(sha256: &str) -> String {
        format!("S{}", &sha256[..12.min(sha256.len())])
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct RegistryDoc {
    format_version: u32,
    sources: Vec<SourceRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot use the source registry in {dir}: {source}")]
    Io {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the source registry {path} is not valid JSON (restore it from the case backup; vigie never rewrites a registry it cannot read): {source}")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("the source registry {path} has format {found}, this vigie reads format {FORMAT_VERSION} (use a matching vigie version)")]
    Version { path: PathBuf, found: u32 },
    #[error("unknown source {0:?} (run `vigie sources` to list the case's sources, or `vigie ingest` it first)")]
    UnknownSource(String),
    #[error("evidence changed since ingest: SHA-256 is now {actual}, was {expected} when ingested on {ingested_at}; vigie refuses to work on it (re-seize the original, or ingest the new file as a separate source): {path}")]
    HashMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
        ingested_at: DateTime<Utc>,
    },
    #[error("{path} was ingested with SHA-256 {expected} but now hashes to {actual}: the file changed since ingest; vigie refuses to ingest it under the same path (move it and ingest it as a new source if this is intended)")]
    PathContentChanged {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("the file or folder name is not valid UTF-8, which the source registry cannot record; rename it to a UTF-8 name (a rename leaves the bytes and their hash unchanged) and ingest it again: {}", path.display())]
    NonUtf8Path { path: PathBuf },
    /// The registered path is now a symbolic link, or a file changed while it was read
    /// ([`HashError::Symlink`], [`HashError::ChangedDuringProcessing`]): a refusal of
    /// changed evidence, like [`Self::HashMismatch`].
    #[error(transparent)]
    EvidenceChanged(HashError),
    #[error(transparent)]
    Hash(HashError),
}

impl From<HashError> for RegistryError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Symlink { .. } | HashError::ChangedDuringProcessing { .. } => {
                RegistryError::EvidenceChanged(e)
            }
            other => RegistryError::Hash(other),
        }
    }
}

impl RegistryError {
    /// Whether this refuses evidence that changed (hash, a link swapped in, a change
    /// during the work): the data controller is alerted.
    pub fn is_evidence_changed(&self) -> bool {
        matches!(
            self,
            RegistryError::HashMismatch { .. }
                | RegistryError::PathContentChanged { .. }
                | RegistryError::EvidenceChanged(_)
        )
    }
}

/// Refuse a path the registry (JSON) cannot hold: a name that is not UTF-8.
pub fn check_utf8_path(path: &Path) -> Result<(), RegistryError> {
    match path.to_str() {
        Some(_) => Ok(()),
        None => Err(RegistryError::NonUtf8Path {
            path: path.to_path_buf(),
        }),
    }
}

/// A registry directory (inside a case).
#[derive(Debug, Clone)]
pub struct Registry {
    dir: PathBuf,
}

/// What `Registry::add` did with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    Added,
    /// Same content already registered (possibly under another path).
    AlreadyPresent,
}

impl Registry {
    /// Open (creating the directory if needed) a registry.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, RegistryError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|source| RegistryError::Io {
            dir: dir.clone(),
            source,
        })?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn io_err(&self, source: io::Error) -> RegistryError {
        RegistryError::Io {
            dir: self.dir.clone(),
            source,
        }
    }

    fn lock(&self, exclusive: bool) -> Result<File, RegistryError> {
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(LOCK_FILE))
            .map_err(|e| self.io_err(e))?;
        if exclusive {
            f.lock_exclusive().map_err(|e| self.io_err(e))?;
        } else {
            f.lock_shared().map_err(|e| self.io_err(e))?;
        }
        Ok(f)
    }

    fn read_doc(&self) -> Result<RegistryDoc, RegistryError> {
        let path = self.dir.join(REGISTRY_FILE);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(RegistryDoc {
                    format_version: FORMAT_VERSION,
                    sources: Vec::new(),
                })
            }
            Err(e) => return Err(self.io_err(e)),
        };
        let doc: RegistryDoc =
            serde_json::from_slice(&bytes).map_err(|source| RegistryError::Corrupt {
                path: path.clone(),
                source,
            })?;
        if doc.format_version != FORMAT_VERSION {
            return Err(RegistryError::Version {
                path,
                found: doc.format_version,
            });
        }
        Ok(doc)
    }

    fn write_doc(&self, doc: &RegistryDoc) -> Result<(), RegistryError> {
        let tmp = self.dir.join(format!("{REGISTRY_FILE}.tmp"));
        let bytes = serde_json::to_vec_pretty(doc).expect("registry serialises");
        (|| -> io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            fs::rename(&tmp, self.dir.join(REGISTRY_FILE))?;
            File::open(&self.dir)?.sync_all()
        })()
        .map_err(|e| self.io_err(e))
    }

    /// All registered sources, in ingest order.
    pub fn sources(&self) -> Result<Vec<SourceRecord>, RegistryError> {
        let _lock = self.lock(false)?;
        Ok(self.read_doc()?.sources)
    }

    /// Add a freshly hashed and probed source.
    ///
    /// Refuses when the same path was registered earlier with different bytes.
    pub fn add(&self, record: SourceRecord) -> Result<AddOutcome, RegistryError> {
        check_utf8_path(&record.path)?;
        let _lock = self.lock(true)?;
        let mut doc = self.read_doc()?;
        if let Some(old) = doc
            .sources
            .iter()
            .find(|s| s.path == record.path && s.sha256 != record.sha256)
        {
            return Err(RegistryError::PathContentChanged {
                path: record.path.clone(),
                expected: old.sha256.clone(),
                actual: record.sha256.clone(),
            });
        }
        if doc.sources.iter().any(|s| s.sha256 == record.sha256) {
            return Ok(AddOutcome::AlreadyPresent);
        }
        doc.sources.push(record);
        self.write_doc(&doc)?;
        Ok(AddOutcome::Added)
    }

    /// Find a source by id (`S…`, or any unique prefix of its SHA-256) or by path.
    pub fn find(&self, key: &str) -> Result<SourceRecord, RegistryError> {
        let sources = self.sources()?;
        let as_path = fs::canonicalize(key).ok();
        let hit = sources.iter().find(|s| {
            s.source_id == key
                || (key.len() >= 8 && s.sha256.starts_with(&key.to_ascii_lowercase()))
                || as_path.as_deref() == Some(s.path.as_path())
        });
        hit.cloned()
            .ok_or_else(|| RegistryError::UnknownSource(key.to_string()))
    }

    /// Re-hash a registered source and refuse it if its bytes changed.
    pub fn verify(&self, record: &SourceRecord) -> Result<(), RegistryError> {
        self.open_verified(record).map(drop)
    }

    /// Open a registered source once, re-hash it through that handle and refuse it if its
    /// bytes changed; the handle stays open so that what is decoded is what was hashed
    /// ([`VerifiedSource::decode_path`]).
    pub fn open_verified(&self, record: &SourceRecord) -> Result<VerifiedSource, RegistryError> {
        let open = |path: &Path, expected: &str| -> Result<OpenedEvidence, RegistryError> {
            let opened = OpenedEvidence::open(path, |_| {})?;
            if opened.sha256() != expected {
                return Err(RegistryError::HashMismatch {
                    path: path.to_path_buf(),
                    expected: expected.to_owned(),
                    actual: opened.sha256().to_owned(),
                    ingested_at: record.ingested_at,
                });
            }
            Ok(opened)
        };
        let original = open(&record.path, &record.sha256)?;
        let salvage = record
            .salvage
            .as_ref()
            .map(|s| open(&s.stream, &s.stream_sha256))
            .transpose()?;
        Ok(VerifiedSource {
            record: record.clone(),
            original,
            salvage,
        })
    }
}

/// A registered source whose files are open and whose hashes matched the registry: the
/// only way to get a path to decode a source from, so no caller can hash one file and
/// decode another.
#[derive(Debug)]
pub struct VerifiedSource {
    record: SourceRecord,
    original: OpenedEvidence,
    salvage: Option<OpenedEvidence>,
}

impl VerifiedSource {
    pub fn record(&self) -> &SourceRecord {
        &self.record
    }
    /// The original file, open.
    pub fn original(&self) -> &OpenedEvidence {
        &self.original
    }
    /// The file to decode (the salvaged stream of a damaged export, else the original),
    /// open.
    pub fn media(&self) -> &OpenedEvidence {
        self.salvage.as_ref().unwrap_or(&self.original)
    }
    /// What a decoder opens: the hashed inode of [`Self::media`] (`/proc/self/fd/N`),
    /// valid while `self` lives. Use it in place of [`SourceRecord::media_path`].
    pub fn decode_path(&self) -> PathBuf {
        self.media().decode_path()
    }
    /// The original file, by the hashed inode (for a stream copy of the original).
    pub fn original_path(&self) -> PathBuf {
        self.original.decode_path()
    }
    /// Call when the work on the source is done: refuses when a file changed while it
    /// was read (the results must not be used).
    pub fn check_unchanged(&self) -> Result<(), RegistryError> {
        self.original.check_unchanged()?;
        if let Some(s) = &self.salvage {
            s.check_unchanged()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::hash_file;

    fn meta() -> SourceMeta {
        SourceMeta {
            container: "avi".into(),
            codec: "mpeg4".into(),
            stream_index: 0,
            video_streams: 1,
            width: 768,
            height: 576,
            fps: Some(10.0),
            duration_ms: Some(79_500),
            frame_count: Some(795),
            frame_count_exact: true,
            bit_rate_bps: None,
            start_time: None,
            timestamps: Default::default(),
        }
    }

    fn record_for(path: &Path) -> SourceRecord {
        let (sha, size) = hash_file(path, |_| {}).unwrap();
        SourceRecord {
            source_id: SourceRecord::id_for_hash(&sha),
            path: fs::canonicalize(path).unwrap(),
            sha256: sha,
            size_bytes: size,
            meta: meta(),
            ingested_at: Utc::now(),
            salvage: None,
        }
    }

    #[test]
    fn add_find_and_dedupe() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.avi");
        fs::write(&f, b"footage").unwrap();
        let reg = Registry::open(dir.path().join("reg")).unwrap();
        let rec = record_for(&f);
        assert_eq!(reg.add(rec.clone()).unwrap(), AddOutcome::Added);
        assert_eq!(reg.add(rec.clone()).unwrap(), AddOutcome::AlreadyPresent);
        assert_eq!(reg.sources().unwrap().len(), 1);
        assert_eq!(reg.find(&rec.source_id).unwrap(), rec);
        assert_eq!(reg.find(f.to_str().unwrap()).unwrap(), rec);
        assert_eq!(reg.find(&rec.sha256[..10]).unwrap(), rec);
        assert!(matches!(
            reg.find("S000000000000"),
            Err(RegistryError::UnknownSource(_))
        ));
    }

    #[test]
    fn modified_evidence_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.avi");
        fs::write(&f, b"footage").unwrap();
        let reg = Registry::open(dir.path().join("reg")).unwrap();
        let rec = record_for(&f);
        reg.add(rec.clone()).unwrap();
        reg.verify(&rec).unwrap();
        fs::write(&f, b"f00tage").unwrap();
        let e = reg.verify(&rec).unwrap_err();
        assert!(matches!(e, RegistryError::HashMismatch { .. }));
        assert!(e.to_string().contains("evidence changed since ingest"));
        // Re-ingesting the changed file under the same path is refused too.
        let e = reg.add(record_for(&f)).unwrap_err();
        assert!(matches!(e, RegistryError::PathContentChanged { .. }));
        assert_eq!(reg.sources().unwrap(), vec![rec]);
    }

    #[test]
    fn corrupt_registry_is_reported_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(dir.path()).unwrap();
        fs::write(dir.path().join(REGISTRY_FILE), b"{ not json").unwrap();
        let e = reg.sources().unwrap_err();
        assert!(matches!(e, RegistryError::Corrupt { .. }));
        let f = dir.path().join("a.avi");
        fs::write(&f, b"x").unwrap();
        assert!(reg.add(record_for(&f)).is_err());
        assert_eq!(
            fs::read(dir.path().join(REGISTRY_FILE)).unwrap(),
            b"{ not json"
        );
    }

    #[test]
    fn parallel_adds_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(dir.path().join("reg")).unwrap();
        let files: Vec<PathBuf> = (0..16)
            .map(|i| {
                let f = dir.path().join(format!("{i}.avi"));
                fs::write(&f, format!("clip {i}")).unwrap();
                f
            })
            .collect();
        std::thread::scope(|s| {
            for f in &files {
                let reg = reg.clone();
                s.spawn(move || reg.add(record_for(f)).unwrap());
            }
        });
        assert_eq!(reg.sources().unwrap().len(), 16);
    }
}

#[cfg(test)]
mod open_verified_tests {
    use super::*;
    use crate::hash::hash_file;

    #[test]
    fn the_verified_source_decodes_the_registered_bytes_and_refuses_a_link_swap() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.avi");
        fs::write(&f, b"footage").unwrap();
        let (sha256, size_bytes) = hash_file(&f, |_| {}).unwrap();
        let rec = SourceRecord {
            source_id: SourceRecord::id_for_hash(&sha256),
            path: fs::canonicalize(&f).unwrap(),
            sha256,
            size_bytes,
            meta: SourceMeta {
                container: "avi".into(),
                codec: "mpeg4".into(),
                stream_index: 0,
                video_streams: 1,
                width: 8,
                height: 8,
                fps: None,
                duration_ms: None,
                frame_count: None,
                frame_count_exact: false,
                bit_rate_bps: None,
                start_time: None,
                timestamps: Default::default(),
            },
            ingested_at: Utc::now(),
            salvage: None,
        };
        let reg = Registry::open(dir.path().join("reg")).unwrap();
        let opened = reg.open_verified(&rec).unwrap();
        let other = dir.path().join("b.avi");
        fs::write(&other, b"f00tage").unwrap();
        fs::rename(&other, &f).unwrap();
        assert_eq!(fs::read(opened.decode_path()).unwrap(), b"footage");
        opened.check_unchanged().unwrap();
        // A link put in its place later is refused as changed evidence.
        fs::remove_file(&f).unwrap();
        fs::write(&other, b"footage").unwrap();
        std::os::unix::fs::symlink(&other, &f).unwrap();
        let e = reg.open_verified(&rec).unwrap_err();
        assert!(e.is_evidence_changed(), "{e:?}");
    }
}
