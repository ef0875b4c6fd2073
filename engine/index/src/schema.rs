//! The on-disk schema and its migrations.
//!
//! The version lives in `PRAGMA user_version` and the file is tagged with
//! `PRAGMA application_id` so vigie never "migrates" a database that is not its own.
//! Migrations run in order inside one transaction each; an index written by a newer vigie
//! is refused untouched rather than guessed at.
//!
//! Layout (version 1):
//! - `source`: one row per analysed source (hash, camera, when, with which parameters).
//! - `track`: one row per track, the searchable scalars as columns; `track_detail` holds
//!   the full `TrackSummary` as JSON (what is printed back), apart so `track` stays small.
//! - `track_colour`, `track_zone`, `track_line`: side tables, one row per (track, key),
//!   that *repeat* `label` and `first_wall_ms`. That denormalisation is what makes the
//!   combined query fast: SQLite can drive the search from whichever condition is most
//!   selective (a rare colour, a small zone, a narrow time window) with a covering index,
//!   and join the others by primary key.
//! - `vocab`: the distinct classes, cameras, zones and lines per source, so an empty
//!   result can say "no zone called X in this case" without scanning tracks.
//!
//! Version 2 adds `track_plate`: one row per track whose licence plate was read, with the
//! normalised text, its O->0 fold (what `--plate` matches, with an index a literal prefix
//! can use), its confusion fold forwards and reversed (indexed, for the `--plate-fuzzy`
//! prefilter), the display form, the format id and the read confidence; like the other
//! side tables it repeats `label` and `first_wall_ms`. Indexes written at version 1 get the
//! empty table on open; their tracks simply have no plate.
//!
//! Version 3 records on `source` the wall-clock start its rows were timed with and the
//! clock correction that start reflects, so a camera reassigned or a clock corrected in
//! the case's log re-times the rows in place (no re-analysis).
//!
//! Version 4 adds `track.ridden`: a bicycle or motorcycle with its rider attached (one
//! object; its `track_colour` upper/lower rows, parts 1 and 2, are the rider's). `--class
//! person` finds persons *and* ridden vehicles. Indexes written before get 0: they were
//! analysed before riders were attached, so their riders are person tracks of their own
//! and `--class person` still finds them.
//!
//! Version 5 adds `source.run_id`: the id of the analysis run whose rows these are, also
//! written in the source's tube file (`derived/tubes/<source>.json`) *before* the rows
//! are committed. Readers of the tubes compare the two, so an analysis interrupted between
//! its tube file and its commit (a crash, a full disk) is detected instead of masking one
//! run's track ids with another run's boxes. Indexes written before get NULL: their tube
//! files have no run id either, and the two still agree.

use rusqlite::{Connection, Transaction};

/// `PRAGMA application_id`: "VIGI".
pub const APPLICATION_ID: i64 = 0x5649_4749;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 5;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5];

/// Never edit a released migration: indexes in the field were built by it.
pub(crate) const V1: &str = r#"
CREATE TABLE source (
    source_id       TEXT PRIMARY KEY,
    sha256          TEXT NOT NULL,
    camera          TEXT NOT NULL,
    path            TEXT,
    analysed_at_ms  INTEGER NOT NULL,
    params_json     TEXT NOT NULL,
    track_count     INTEGER NOT NULL,
    max_duration_ms INTEGER NOT NULL
);

CREATE TABLE track (
    id            INTEGER PRIMARY KEY,
    source_id     TEXT NOT NULL REFERENCES source(source_id) ON DELETE CASCADE,
    track_id      INTEGER NOT NULL,
    camera        TEXT NOT NULL,
    label         TEXT NOT NULL,
    confidence    REAL NOT NULL,
    first_pts_ms  INTEGER NOT NULL,
    last_pts_ms   INTEGER NOT NULL,
    first_wall_ms INTEGER,
    last_wall_ms  INTEGER,
    width_px      REAL NOT NULL,
    height_px     REAL NOT NULL,
    size_frac     REAL NOT NULL,
    speed_px_s    REAL NOT NULL,
    heading_deg   REAL,
    direction     TEXT,
    UNIQUE (source_id, track_id)
);
-- The full summary, apart: keeps `track` rows small (~100 bytes) so the searched columns
-- stay dense in cache; only the rows actually returned are read from here.
CREATE TABLE track_detail (
    id           INTEGER PRIMARY KEY REFERENCES track(id) ON DELETE CASCADE,
    summary_json TEXT NOT NULL
);
CREATE INDEX track_label_time  ON track (label, first_wall_ms);
CREATE INDEX track_time        ON track (first_wall_ms);
CREATE INDEX track_camera_time ON track (camera, first_wall_ms);
CREATE INDEX track_label_dir   ON track (label, direction, first_wall_ms);

-- part: 0 whole object, 1 upper body, 2 lower body. colour: index in vigie_core::Colour::ALL.
CREATE TABLE track_colour (
    track         INTEGER NOT NULL REFERENCES track(id) ON DELETE CASCADE,
    part          INTEGER NOT NULL,
    colour        INTEGER NOT NULL,
    share         REAL NOT NULL,
    label         TEXT NOT NULL,
    first_wall_ms INTEGER,
    PRIMARY KEY (track, part, colour)
) WITHOUT ROWID;
CREATE INDEX track_colour_search ON track_colour (colour, part, label, first_wall_ms, share);

-- One row per (track, zone): visits aggregated.
CREATE TABLE track_zone (
    track          INTEGER NOT NULL REFERENCES track(id) ON DELETE CASCADE,
    zone           TEXT NOT NULL,
    time_inside_ms INTEGER NOT NULL,
    max_dwell_ms   INTEGER NOT NULL,
    label          TEXT NOT NULL,
    first_wall_ms  INTEGER,
    PRIMARY KEY (track, zone)
) WITHOUT ROWID;
CREATE INDEX track_zone_search ON track_zone (zone, label, first_wall_ms, max_dwell_ms);
CREATE INDEX track_zone_time   ON track_zone (zone, first_wall_ms, max_dwell_ms);

-- One row per (track, line): crossings counted per direction.
CREATE TABLE track_line (
    track         INTEGER NOT NULL REFERENCES track(id) ON DELETE CASCADE,
    line          TEXT NOT NULL,
    n_in          INTEGER NOT NULL,
    n_out         INTEGER NOT NULL,
    label         TEXT NOT NULL,
    first_wall_ms INTEGER,
    PRIMARY KEY (track, line)
) WITHOUT ROWID;
CREATE INDEX track_line_search ON track_line (line, label, first_wall_ms);

-- kind: class, camera, zone, line.
CREATE TABLE vocab (
    kind      TEXT NOT NULL,
    value     TEXT NOT NULL,
    source_id TEXT NOT NULL REFERENCES source(source_id) ON DELETE CASCADE,
    PRIMARY KEY (kind, value, source_id)
) WITHOUT ROWID;
CREATE INDEX vocab_source ON vocab (source_id);
"#;

const V2: &str = r#"
-- One row per track whose plate was read. text: normalised A-Z0-9; text_fold: text with
-- the letter O as the digit 0 (what --plate GLOBs over); text_conf: each character as the
-- first of its OCR confusion group (plate::confusion_fold), text_conf_rev the same
-- reversed (the --plate-fuzzy prefilter looks up prefixes and suffixes); format:
-- plate::FORMATS id.
CREATE TABLE track_plate (
    track         INTEGER PRIMARY KEY REFERENCES track(id) ON DELETE CASCADE,
    text          TEXT NOT NULL,
    text_fold     TEXT NOT NULL,
    text_conf     TEXT NOT NULL,
    text_conf_rev TEXT NOT NULL,
    display       TEXT NOT NULL,
    format        TEXT NOT NULL,
    confidence    REAL NOT NULL,
    label         TEXT NOT NULL,
    first_wall_ms INTEGER
);
CREATE INDEX track_plate_search ON track_plate (text_fold, label, first_wall_ms, confidence);
CREATE INDEX track_plate_conf ON track_plate (text_conf);
CREATE INDEX track_plate_conf_rev ON track_plate (text_conf_rev);
"#;

/// Version 3: cameras are set at ingest and recorder clocks can be corrected, both in the
/// case's log; the index follows them (`Index::retime_source`). `start_wall_ms` is the
/// corrected start the rows were timed with (NULL: unknown), `clock` the correction it
/// reflects, said for people. Indexes written before get the start their tracks imply.
const V3: &str = r#"
ALTER TABLE source ADD COLUMN start_wall_ms INTEGER;
ALTER TABLE source ADD COLUMN clock TEXT;
UPDATE source SET start_wall_ms =
    (SELECT min(t.first_wall_ms - t.first_pts_ms) FROM track t WHERE t.source_id = source.source_id);
"#;

/// Version 4: riders attached to their bicycle or motorcycle (`vigie_track::riders`).
const V4: &str = r#"
ALTER TABLE track ADD COLUMN ridden INTEGER NOT NULL DEFAULT 0;
"#;

/// Version 5: the analysis run each source's rows come from (NULL before runs were named).
const V5: &str = r#"
ALTER TABLE source ADD COLUMN run_id TEXT;
"#;

pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

pub(crate) fn application_id(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA application_id", [], |r| r.get(0))
}

/// Apply migrations from `from` up to [`SCHEMA_VERSION`], each in its own transaction.
pub(crate) fn migrate(conn: &mut Connection, from: i64) -> rusqlite::Result<()> {
    for v in from..SCHEMA_VERSION {
        let tx: Transaction<'_> = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[v as usize])?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", v + 1)?;
        tx.commit()?;
    }
    Ok(())
}
