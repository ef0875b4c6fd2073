//! Opening the index and writing one source at a time.
//!
//! Why one transaction per source: a source is the unit of work of `vigie analyze` (and of
//! resuming a batch). Writing its tracks in one transaction — old tracks deleted, new ones
//! inserted, source row stamped, all or nothing — means a crash, a kill or a full disk at
//! any point leaves either the previous state of that source or the new one, never half.
//! `is_analysed` can then trust the `source` row: it exists only if all tracks committed.
//!
//! Why WAL with `synchronous=NORMAL`: WAL lets `vigie search` read while an analysis
//! batch writes, and NORMAL skips the fsync on each commit (it syncs at checkpoints). In
//! WAL mode NORMAL is still crash-safe: the database is never corrupted and a transaction
//! is never half-applied; a *power loss* may drop the last few commits. The index is
//! derived data, re-creatable from the evidence, and a dropped commit only means that
//! source reads as "not analysed" and is analysed again on resume — so FULL's per-commit
//! fsync buys nothing an investigator relies on.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::{Deserialize, Serialize};
use vigie_core::{plate, Colour, ColourShare, CrossingDirection, TrackSummary};

use crate::error::IndexError;
use crate::schema;

/// What the index records about one analysed source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRecord {
    pub source_id: String,
    /// SHA-256 of the evidence file, hex.
    pub sha256: String,
    pub camera: String,
    /// Path of the evidence file, used for links to the source second in contact sheets.
    pub path: Option<String>,
    /// When the analysis finished, ms since the Unix epoch (UTC).
    pub analysed_at_ms: i64,
    /// The analysis parameters (detector, thresholds, zones file hash, ...), as given.
    pub params: serde_json::Value,
    /// The id of the analysis run these rows come from, also written in the source's tube
    /// file: readers of the tubes refuse when the two differ (an interrupted analysis).
    /// `None` for sources analysed before runs were named (schema 4 and older).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

/// The camera and clock a source's rows were timed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceClock {
    pub camera: String,
    /// Wall-clock start (ms since the Unix epoch, UTC); `None` when unknown.
    pub start_wall_ms: Option<i64>,
    /// The clock correction it reflects, said for people (`None`: the recorder's clock).
    pub clock: Option<String>,
}

/// A source row as read back, with its track count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    #[serde(flatten)]
    pub record: SourceRecord,
    pub track_count: u64,
}

/// The per-case track index (one SQLite file).
pub struct Index {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    /// Fault injection for the crash tests: fail (or abort the process) after this many
    /// tracks of the next `write_source`. Only crate-internal tests set it.
    pub(crate) fault: Option<(usize, Fault)>,
}

#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum Fault {
    Error,
    Abort,
}

pub(crate) fn colour_code(c: Colour) -> i64 {
    Colour::ALL.iter().position(|x| *x == c).unwrap_or(0) as i64
}

fn sql_err(path: &Path) -> impl Fn(rusqlite::Error) -> IndexError + '_ {
    move |source| IndexError::Sqlite {
        source,
        path: Some(path.to_path_buf()),
    }
}

impl Index {
    /// Open the index at `path`, creating it (and migrating it to the current schema) as
    /// needed. The parent directory must exist.
    pub fn open(path: &Path) -> Result<Index, IndexError> {
        Self::open_with(path, true)
    }

    /// Open an existing index; [`IndexError::Missing`] if there is none (searching must not
    /// create an empty index that would then look like "no results").
    pub fn open_existing(path: &Path) -> Result<Index, IndexError> {
        if !path.is_file() {
            return Err(IndexError::Missing {
                path: path.to_path_buf(),
            });
        }
        Self::open_with(path, false)
    }

    fn open_with(path: &Path, create: bool) -> Result<Index, IndexError> {
        let e = sql_err(path);
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let mut conn = Connection::open_with_flags(path, flags).map_err(&e)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(&e)?;
        // Check the file is ours before changing anything in it.
        let app = schema::application_id(&conn).map_err(|s| match s {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
                IndexError::NotAnIndex {
                    found: -1,
                    path: path.to_path_buf(),
                }
            }
            other => e(other),
        })?;
        let version = schema::user_version(&conn).map_err(&e)?;
        let has_tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(&e)?;
        if app != schema::APPLICATION_ID && (app != 0 || has_tables > 0) {
            return Err(IndexError::NotAnIndex {
                found: app,
                path: path.to_path_buf(),
            });
        }
        if version > schema::SCHEMA_VERSION {
            return Err(IndexError::SchemaTooNew {
                found: version,
                supported: schema::SCHEMA_VERSION,
                path: path.to_path_buf(),
            });
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(&e)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(&e)?;
        conn.pragma_update(None, "foreign_keys", true).map_err(&e)?;
        conn.pragma_update(None, "cache_size", -65_536)
            .map_err(&e)?; // 64 MiB
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(&e)?;
        // Read through a memory map: a search is thousands of B-tree lookups, and mapped
        // pages cost no system call each (address space only; 64-bit targets).
        conn.pragma_update(None, "mmap_size", 4_i64 << 30)
            .map_err(&e)?;
        if version < schema::SCHEMA_VERSION {
            schema::migrate(&mut conn, version).map_err(&e)?;
        }
        Ok(Index {
            conn,
            path: path.to_path_buf(),
            fault: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether `source_id` has been analysed (its tracks are committed).
    pub fn is_analysed(&self, source_id: &str) -> Result<bool, IndexError> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM source WHERE source_id = ?1")?
            .query_row([source_id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// The id of the analysis run `source_id`'s rows come from ([`SourceRecord::run_id`]);
    /// `None` when the source is not in the index or was analysed before runs were named.
    pub fn run_id(&self, source_id: &str) -> Result<Option<String>, IndexError> {
        Ok(self
            .conn
            .prepare_cached("SELECT run_id FROM source WHERE source_id = ?1")?
            .query_row([source_id], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    /// The recorded source, if analysed.
    pub fn source(&self, source_id: &str) -> Result<Option<SourceInfo>, IndexError> {
        Ok(self
            .sources()?
            .into_iter()
            .find(|s| s.record.source_id == source_id))
    }

    /// All analysed sources, by id.
    pub fn sources(&self) -> Result<Vec<SourceInfo>, IndexError> {
        let mut st = self.conn.prepare_cached(
            "SELECT source_id, sha256, camera, path, analysed_at_ms, params_json, track_count,
                    run_id
             FROM source ORDER BY source_id",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (source_id, sha256, camera, path, analysed_at_ms, params, n, run_id) = row?;
            let params = serde_json::from_str(&params).map_err(|e| IndexError::Corrupt {
                problem: format!("parameters of source {source_id}: {e}"),
            })?;
            out.push(SourceInfo {
                record: SourceRecord {
                    source_id,
                    sha256,
                    camera,
                    path,
                    analysed_at_ms,
                    params,
                    run_id,
                },
                track_count: n.max(0) as u64,
            });
        }
        Ok(out)
    }

    /// Number of tracks in the index.
    pub fn track_count(&self) -> Result<u64, IndexError> {
        let n: i64 = self.conn.query_row(
            "SELECT coalesce(sum(track_count), 0) FROM source",
            [],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }

    /// Replace everything stored for `source` with `tracks`, atomically.
    ///
    /// Inputs are validated first (nothing is written if any track is invalid); then the
    /// source's old tracks are deleted and the new ones inserted in one transaction.
    pub fn write_source(
        &mut self,
        source: &SourceRecord,
        tracks: &[TrackSummary],
    ) -> Result<(), IndexError> {
        self.write_sources(&[(source, tracks)])
    }

    /// Several sources at once, in one transaction: every one of them is written, or
    /// none (a merge of shard results never leaves some of its sources in the index).
    /// All inputs are validated before anything is written.
    pub fn write_sources(
        &mut self,
        items: &[(&SourceRecord, &[TrackSummary])],
    ) -> Result<(), IndexError> {
        for (source, tracks) in items {
            validate(source, tracks)?;
        }
        let fault = self.fault;
        let tx = self.conn.transaction()?;
        for (source, tracks) in items {
            insert_source(&tx, source, tracks, fault)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Remove a source and its tracks (one transaction). Returns whether it existed.
    /// The camera, wall-clock start and clock correction a source's rows were written or
    /// last re-timed with (`None` when the source is not in the index).
    pub fn source_clock(&self, source_id: &str) -> Result<Option<SourceClock>, IndexError> {
        let mut st = self.conn.prepare_cached(
            "SELECT camera, start_wall_ms, clock FROM source WHERE source_id = ?1",
        )?;
        let mut rows = st.query([source_id])?;
        Ok(match rows.next()? {
            Some(r) => Some(SourceClock {
                camera: r.get(0)?,
                start_wall_ms: r.get(1)?,
                clock: r.get(2)?,
            }),
            None => None,
        })
    }

    /// Move a source's rows to `clock`: its camera everywhere (tracks, vocabulary, stored
    /// summaries) and every wall-clock time re-computed from the track's media time and
    /// the new start (NULL when the start is unknown). One transaction: searches see the
    /// old times or the new, never a mix.
    pub fn retime_source(
        &mut self,
        source_id: &str,
        clock: &SourceClock,
    ) -> Result<bool, IndexError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE source SET camera = ?2, start_wall_ms = ?3, clock = ?4 WHERE source_id = ?1",
            params![source_id, clock.camera, clock.start_wall_ms, clock.clock],
        )?;
        if n == 0 {
            return Ok(false);
        }
        tx.execute(
            "UPDATE track SET camera = ?2,
                first_wall_ms = ?3 + first_pts_ms, last_wall_ms = ?3 + last_pts_ms
             WHERE source_id = ?1",
            params![source_id, clock.camera, clock.start_wall_ms],
        )?;
        for table in ["track_colour", "track_zone", "track_line", "track_plate"] {
            tx.execute(
                &format!(
                    "UPDATE {table} SET first_wall_ms =
                        (SELECT t.first_wall_ms FROM track t WHERE t.id = {table}.track)
                     WHERE track IN (SELECT id FROM track WHERE source_id = ?1)"
                ),
                [source_id],
            )?;
        }
        tx.execute(
            "UPDATE track_detail SET summary_json = json_set(summary_json,
                '$.camera', t.camera, '$.first_wall_ms', t.first_wall_ms,
                '$.last_wall_ms', t.last_wall_ms)
             FROM track t WHERE t.id = track_detail.id AND t.source_id = ?1",
            [source_id],
        )?;
        tx.execute(
            "DELETE FROM vocab WHERE kind = 'camera' AND source_id = ?1",
            [source_id],
        )?;
        tx.execute(
            "INSERT OR IGNORE INTO vocab (kind, value, source_id) VALUES ('camera', ?2, ?1)",
            params![source_id, clock.camera],
        )?;
        tx.commit()?;
        Ok(true)
    }

    pub fn remove_source(&mut self, source_id: &str) -> Result<bool, IndexError> {
        let n = self
            .conn
            .execute("DELETE FROM source WHERE source_id = ?1", [source_id])?;
        Ok(n > 0)
    }

    /// Refresh the planner's statistics (`ANALYZE`). Worth running after a batch: the
    /// planner then knows which condition of a combined query is the most selective.
    pub fn optimize(&self) -> Result<(), IndexError> {
        self.conn.execute_batch("ANALYZE")?;
        Ok(())
    }

    /// Cheaper than [`Index::optimize`]: `PRAGMA optimize` with a bounded analysis.
    pub fn optimize_light(&self) -> Result<(), IndexError> {
        self.conn
            .execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize;")?;
        Ok(())
    }

    /// Run `PRAGMA integrity_check` and foreign key checks; `Ok(())` when clean.
    pub fn check(&self) -> Result<(), IndexError> {
        let r: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if r != "ok" {
            return Err(IndexError::Corrupt { problem: r });
        }
        let fk: Option<String> = self
            .conn
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()?;
        if let Some(table) = fk {
            return Err(IndexError::Corrupt {
                problem: format!("dangling rows in {table}"),
            });
        }
        Ok(())
    }
}

/// Check a source's rows as [`Index::write_source`] does, without writing: a caller that
/// places files before the rows (a merge of shard results) checks first.
pub fn validate_source(source: &SourceRecord, tracks: &[TrackSummary]) -> Result<(), IndexError> {
    validate(source, tracks)
}

fn validate(source: &SourceRecord, tracks: &[TrackSummary]) -> Result<(), IndexError> {
    if source.source_id.trim().is_empty() {
        return Err(IndexError::InvalidSource {
            problem: "empty source id".into(),
        });
    }
    if source.sha256.len() != 64 || !source.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(IndexError::InvalidSource {
            problem: format!("sha256 of source {} is not 64 hex digits", source.source_id),
        });
    }
    let mut ids = HashSet::new();
    for t in tracks {
        let bad = |problem: String| IndexError::InvalidTrack {
            source_id: t.source_id.clone(),
            track_id: t.track_id,
            problem,
        };
        if t.source_id != source.source_id {
            return Err(bad(format!(
                "belongs to source {:?}, not {:?}",
                t.source_id, source.source_id
            )));
        }
        if !ids.insert(t.track_id) {
            return Err(bad("duplicate track id in this source".into()));
        }
        if t.track_id > i64::MAX as u64 {
            return Err(bad("track id above 2^63-1".into()));
        }
        if t.label.trim().is_empty() {
            return Err(bad("empty class label".into()));
        }
        if t.ridden && !crate::query::RIDDEN_CLASSES.contains(&t.label.as_str()) {
            return Err(bad(format!(
                "a {:?} cannot be ridden (only {})",
                t.label,
                crate::query::RIDDEN_CLASSES.join(" or ")
            )));
        }
        for (name, v) in [
            ("confidence", t.confidence),
            ("width_px", t.width_px),
            ("height_px", t.height_px),
            ("size_frac", t.size_frac),
            ("speed_px_s", t.speed_px_s),
            ("heading_deg", t.heading_deg.unwrap_or(0.0)),
        ] {
            if !v.is_finite() {
                return Err(bad(format!("{name} is not a finite number")));
            }
        }
        if t.first_pts_ms > t.last_pts_ms {
            return Err(bad("first_pts_ms is after last_pts_ms".into()));
        }
        match (t.first_wall_ms, t.last_wall_ms) {
            (Some(a), Some(b)) if a > b => {
                return Err(bad("first_wall_ms is after last_wall_ms".into()))
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(bad("only one of first_wall_ms/last_wall_ms is set".into()))
            }
            _ => {}
        }
        for s in t
            .colours
            .iter()
            .chain(&t.upper_colours)
            .chain(&t.lower_colours)
        {
            if !(s.share.is_finite() && (0.0..=1.0).contains(&s.share)) {
                return Err(bad(format!("share of {} is not in 0..1", s.colour)));
            }
        }
        if t.zones.iter().any(|z| z.zone.is_empty())
            || t.crossings.iter().any(|c| c.line.is_empty())
        {
            return Err(bad("empty zone or line name".into()));
        }
        if let Some(p) = &t.plate {
            // Plate text last in the messages (it identifies a vehicle).
            if p.text.is_empty()
                || p.text.len() > plate::MAX_PLATE_QUERY_LEN
                || plate::normalise(&p.text) != p.text
            {
                return Err(bad(format!(
                    "plate text is not normalised (1 to {} characters A-Z 0-9, no \
                     separators; use vigie_core::plate::normalise): {:?}",
                    plate::MAX_PLATE_QUERY_LEN,
                    p.text
                )));
            }
            if !(p.confidence.is_finite() && (0.0..=1.0).contains(&p.confidence)) {
                return Err(bad("plate confidence is not in 0..1".into()));
            }
            if p.format.is_empty() {
                return Err(bad(format!(
                    "empty plate format id (use {:?} when no format fits)",
                    plate::UNKNOWN_FORMAT
                )));
            }
        }
    }
    Ok(())
}

/// The rows of one source, inside the caller's transaction: its old rows deleted, the new
/// ones inserted (see [`Index::write_sources`]).
fn insert_source(
    tx: &rusqlite::Transaction<'_>,
    source: &SourceRecord,
    tracks: &[TrackSummary],
    fault: Option<(usize, Fault)>,
) -> Result<(), IndexError> {
    let max_duration_ms = tracks
        .iter()
        .filter_map(|t| Some(t.last_wall_ms? - t.first_wall_ms?))
        .max()
        .unwrap_or(0);
    tx.execute(
        "DELETE FROM source WHERE source_id = ?1",
        [&source.source_id],
    )?;
    tx.execute(
        "INSERT INTO source (source_id, sha256, camera, path, analysed_at_ms, params_json,
                             track_count, max_duration_ms, start_wall_ms, run_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            source.source_id,
            source.sha256,
            source.camera,
            source.path,
            source.analysed_at_ms,
            source.params.to_string(),
            tracks.len() as i64,
            max_duration_ms,
            tracks
                .iter()
                .find_map(|t| Some(t.first_wall_ms? - t.first_pts_ms)),
            source.run_id,
        ],
    )?;
    {
        let mut ins_track = tx.prepare_cached(
            "INSERT INTO track (source_id, track_id, camera, label, confidence,
                first_pts_ms, last_pts_ms, first_wall_ms, last_wall_ms, width_px, height_px,
                size_frac, speed_px_s, heading_deg, direction, ridden)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )?;
        let mut ins_detail =
            tx.prepare_cached("INSERT INTO track_detail (id, summary_json) VALUES (?1, ?2)")?;
        let mut ins_colour = tx.prepare_cached(
            "INSERT INTO track_colour (track, part, colour, share, label, first_wall_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (track, part, colour) DO UPDATE SET share = max(share, excluded.share)",
        )?;
        let mut ins_zone = tx.prepare_cached(
            "INSERT INTO track_zone (track, zone, time_inside_ms, max_dwell_ms, label,
                                     first_wall_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (track, zone) DO UPDATE SET
                time_inside_ms = time_inside_ms + excluded.time_inside_ms,
                max_dwell_ms = max(max_dwell_ms, excluded.max_dwell_ms)",
        )?;
        let mut ins_line = tx.prepare_cached(
            "INSERT INTO track_line (track, line, n_in, n_out, label, first_wall_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (track, line) DO UPDATE SET
                n_in = n_in + excluded.n_in, n_out = n_out + excluded.n_out",
        )?;
        let mut ins_plate = tx.prepare_cached(
            "INSERT INTO track_plate (track, text, text_fold, text_conf, text_conf_rev,
                                      display, format, confidence, label, first_wall_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        let mut ins_vocab = tx.prepare_cached(
            "INSERT OR IGNORE INTO vocab (kind, value, source_id) VALUES (?1, ?2, ?3)",
        )?;
        ins_vocab.execute(params!["camera", source.camera, source.source_id])?;
        let mut seen: HashSet<(&'static str, &str)> = HashSet::new();
        for (i, t) in tracks.iter().enumerate() {
            if let Some((after, mode)) = fault {
                if i == after {
                    match mode {
                        Fault::Error => return Err(IndexError::Injected { after }),
                        Fault::Abort => std::process::abort(),
                    }
                }
            }
            let json = serde_json::to_string(t).map_err(|e| IndexError::InvalidTrack {
                source_id: t.source_id.clone(),
                track_id: t.track_id,
                problem: format!("cannot serialise: {e}"),
            })?;
            ins_track.execute(params![
                t.source_id,
                t.track_id as i64,
                t.camera,
                t.label,
                t.confidence as f64,
                t.first_pts_ms,
                t.last_pts_ms,
                t.first_wall_ms,
                t.last_wall_ms,
                t.width_px as f64,
                t.height_px as f64,
                t.size_frac as f64,
                t.speed_px_s as f64,
                t.heading_deg.map(f64::from),
                t.direction.map(|d| d.name()),
                t.ridden,
            ])?;
            let id = tx.last_insert_rowid();
            ins_detail.execute(params![id, json])?;
            for (part, list) in [
                (0i64, &t.colours),
                (1, &t.upper_colours),
                (2, &t.lower_colours),
            ] {
                for ColourShare { colour, share } in list {
                    ins_colour.execute(params![
                        id,
                        part,
                        colour_code(*colour),
                        *share as f64,
                        t.label,
                        t.first_wall_ms
                    ])?;
                }
            }
            for z in &t.zones {
                ins_zone.execute(params![
                    id,
                    z.zone,
                    z.time_inside_ms,
                    z.dwell_ms,
                    t.label,
                    t.first_wall_ms
                ])?;
                if seen.insert(("zone", &z.zone)) {
                    ins_vocab.execute(params!["zone", z.zone, source.source_id])?;
                }
            }
            if let Some(p) = &t.plate {
                let conf = plate::confusion_fold(&p.text);
                ins_plate.execute(params![
                    id,
                    p.text,
                    plate::fold(&p.text),
                    conf,
                    conf.chars().rev().collect::<String>(),
                    p.display,
                    p.format,
                    p.confidence as f64,
                    t.label,
                    t.first_wall_ms
                ])?;
            }
            for c in &t.crossings {
                let (n_in, n_out) = match c.direction {
                    CrossingDirection::In => (1, 0),
                    CrossingDirection::Out => (0, 1),
                };
                ins_line.execute(params![id, c.line, n_in, n_out, t.label, t.first_wall_ms])?;
                if seen.insert(("line", &c.line)) {
                    ins_vocab.execute(params!["line", c.line, source.source_id])?;
                }
            }
            if seen.insert(("class", &t.label)) {
                ins_vocab.execute(params!["class", t.label, source.source_id])?;
            }
        }
    }
    Ok(())
}
