//! Turning a [`Query`] into one SQL statement, and its rows into [`Hit`]s.
//!
//! Every condition becomes a bound parameter (never text pasted into SQL). Colour, zone and
//! line conditions are joins on the side tables, and each joined side table gets the class
//! and time conditions too (it carries copies of `label` and `first_wall_ms`): that lets
//! SQLite start from whichever index is the most selective for *this* query — STAT4
//! statistics, refreshed by [`Index::optimize`], tell it which — instead of always starting
//! from the track table.
//!
//! Time overlap (`last >= from AND first <= to`) is not an index range, so the statement
//! also bounds `first_wall_ms >= from - D`, where `D` is the longest track in the index
//! (kept per source): equivalent, and a range an index can serve.

use std::collections::HashMap;

use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use vigie_core::{CrossingDirection, TrackSummary};

use crate::error::IndexError;
use crate::query::{MinSize, Query, COLOUR_MIN_SHARE};
use crate::store::{colour_code, Index};

/// One search result: the stored track plus what output needs about its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    #[serde(flatten)]
    pub track: TrackSummary,
    /// First and last wall-clock time, RFC 3339 UTC, when known.
    pub first_wall: Option<String>,
    pub last_wall: Option<String>,
    /// The evidence file, when the index knows it (for links to the source second).
    pub source_path: Option<String>,
}

/// What a search returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    pub query: Query,
    pub hits: Vec<Hit>,
    /// More tracks matched than `query.limit`; only the first `limit` (by time) are here.
    pub truncated: bool,
    /// When nothing matched: names in the query that the index does not know at all.
    pub hints: Vec<String>,
}

/// First window of the time-sliced search (see `Index::first_ids`).
const FIRST_WINDOW_MS: i64 = 6 * 3_600_000;

/// Which `first_wall_ms` slice one statement covers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Slice {
    /// What the query asks, in one statement (tracks without a clock included when the
    /// query has no time filter).
    All,
    /// Only tracks without a wall clock.
    NoClock,
    /// `first_wall_ms` in this inclusive range (plus the query's own conditions).
    Range(i64, i64),
}

pub(crate) struct Sql {
    pub text: String,
    pub params: Vec<Value>,
}

/// Append a bound parameter and return its placeholder.
fn bind(params: &mut Vec<Value>, v: Value) -> String {
    params.push(v);
    format!("?{}", params.len())
}

fn ms_to_rfc3339(ms: i64) -> Option<String> {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

impl Index {
    /// Longest track duration (wall clock) over all sources, for the time-range bound.
    fn max_duration_ms(&self) -> Result<i64, IndexError> {
        Ok(self.conn.query_row(
            "SELECT coalesce(max(max_duration_ms), 0) FROM source",
            [],
            |r| r.get(0),
        )?)
    }

    /// The `first_wall_ms` bounds implied by the query's time filter (inclusive).
    fn query_bounds(&self, q: &Query) -> Result<(Option<i64>, Option<i64>), IndexError> {
        Ok(match (q.from_wall_ms, q.to_wall_ms) {
            (None, None) => (None, None),
            (from, to) => {
                let d = self.max_duration_ms()?;
                (from.map(|f| f.saturating_sub(d)), to)
            }
        })
    }

    pub(crate) fn build_sql(
        &self,
        q: &Query,
        select: &str,
        slice: Slice,
        limit: usize,
    ) -> Result<Sql, IndexError> {
        let mut joins = String::new();
        let mut conds: Vec<String> = Vec::new();
        let mut params: Vec<Value> = Vec::new();
        // Time bounds on first_wall_ms, shared by the track table and the side tables.
        let (lo, hi) = match slice {
            Slice::All => self.query_bounds(q)?,
            Slice::Range(a, b) => (Some(a), Some(b)),
            Slice::NoClock => {
                conds.push("t.first_wall_ms IS NULL".into());
                (None, None)
            }
        };
        let shared = |alias: &str, params: &mut Vec<Value>, conds: &mut Vec<String>| {
            if let Some(c) = &q.class {
                conds.push(format!(
                    "{alias}.label = {}",
                    bind(params, Value::Text(c.clone()))
                ));
            }
            match (lo, hi) {
                (Some(lo), Some(hi)) => conds.push(format!(
                    "{alias}.first_wall_ms BETWEEN {} AND {}",
                    bind(params, Value::Integer(lo)),
                    bind(params, Value::Integer(hi))
                )),
                (Some(lo), None) => conds.push(format!(
                    "{alias}.first_wall_ms >= {}",
                    bind(params, Value::Integer(lo))
                )),
                (None, Some(hi)) => conds.push(format!(
                    "{alias}.first_wall_ms <= {}",
                    bind(params, Value::Integer(hi))
                )),
                (None, None) => {}
            }
        };
        shared("t", &mut params, &mut conds);
        if let Some(from) = q.from_wall_ms {
            let from = bind(&mut params, Value::Integer(from));
            conds.push(format!("t.last_wall_ms >= {from}"));
        }
        for (i, f) in q.colours.iter().enumerate() {
            let a = format!("c{i}");
            params.push(Value::Integer(f.part.code()));
            let part = params.len();
            params.push(Value::Integer(colour_code(f.colour)));
            let colour = params.len();
            params.push(Value::Real(COLOUR_MIN_SHARE as f64));
            let share = params.len();
            joins.push_str(&format!(
                " JOIN track_colour {a} ON {a}.track = t.id AND {a}.part = ?{part} \
                 AND {a}.colour = ?{colour} AND {a}.share >= ?{share}"
            ));
            shared(&a, &mut params, &mut conds);
        }
        if let Some(z) = &q.zone {
            params.push(Value::Text(z.clone()));
            joins.push_str(&format!(
                " JOIN track_zone z ON z.track = t.id AND z.zone = ?{}",
                params.len()
            ));
            if let Some(d) = q.dwell_min_ms {
                params.push(Value::Integer(d));
                joins.push_str(&format!(" AND z.max_dwell_ms >= ?{}", params.len()));
            }
            shared("z", &mut params, &mut conds);
        } else if let Some(d) = q.dwell_min_ms {
            params.push(Value::Integer(d));
            conds.push(format!(
                "EXISTS (SELECT 1 FROM track_zone zd WHERE zd.track = t.id \
                 AND zd.max_dwell_ms >= ?{})",
                params.len()
            ));
        }
        if let Some(l) = &q.crosses {
            params.push(Value::Text(l.line.clone()));
            joins.push_str(&format!(
                " JOIN track_line x ON x.track = t.id AND x.line = ?{}",
                params.len()
            ));
            match l.direction {
                Some(CrossingDirection::In) => joins.push_str(" AND x.n_in > 0"),
                Some(CrossingDirection::Out) => joins.push_str(" AND x.n_out > 0"),
                None => {}
            }
            shared("x", &mut params, &mut conds);
        }
        let mut push = |cond: &str, v: Value| {
            params.push(v);
            conds.push(format!("{cond} ?{}", params.len()));
        };
        if let Some(d) = q.direction {
            push("t.direction =", Value::Text(d.name().to_string()));
        }
        if let Some(c) = &q.camera {
            push("t.camera =", Value::Text(c.clone()));
        }
        match q.min_size {
            Some(MinSize::FrameFraction(f)) => push("t.size_frac >=", Value::Real(f as f64)),
            Some(MinSize::Px(px)) => {
                push("max(t.width_px, t.height_px) >=", Value::Real(px as f64))
            }
            None => {}
        }
        if let Some(v) = q.min_speed_px_s {
            push("t.speed_px_s >=", Value::Real(v as f64));
        }
        if let Some(v) = q.max_speed_px_s {
            push("t.speed_px_s <=", Value::Real(v as f64));
        }
        let where_ = if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        };
        params.push(Value::Integer(limit.min(i64::MAX as usize) as i64));
        let text = format!(
            "SELECT {select} FROM track t{joins}{where_} ORDER BY t.first_wall_ms, t.id LIMIT ?{}",
            params.len()
        );
        Ok(Sql { text, params })
    }

    fn ids(&self, q: &Query, slice: Slice, limit: usize) -> Result<Vec<i64>, IndexError> {
        let sql = self.build_sql(q, "t.id", slice, limit)?;
        let mut st = self.conn.prepare_cached(&sql.text)?;
        let ids = st
            .query_map(rusqlite::params_from_iter(sql.params.iter()), |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    fn wall_extreme(&self, max: bool) -> Result<Option<i64>, IndexError> {
        // Two statements: SQLite answers a lone min() or max() from the index end.
        let sql = if max {
            "SELECT max(first_wall_ms) FROM track"
        } else {
            "SELECT min(first_wall_ms) FROM track"
        };
        Ok(self.conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?)
    }

    /// Ids of the first `limit` matches in (first_wall_ms, id) order.
    ///
    /// Why windows: for a broad query ("red cars in the car park", no time) the planner
    /// starts from the most selective index, collects *every* match and sorts them, only
    /// to keep the first hundred. Searching consecutive time windows of doubling length
    /// (6 h, 12 h, 24 h, ...) and stopping once the limit is reached gives the same rows
    /// in the same order, costs a handful of cheap range queries when matches are many,
    /// and at most about twice the single query when they are few.
    fn first_ids(&self, q: &Query, limit: usize) -> Result<Vec<i64>, IndexError> {
        let (Some(min), Some(max)) = (self.wall_extreme(false)?, self.wall_extreme(true)?) else {
            return self.ids(q, Slice::All, limit);
        };
        let (lo, hi) = self.query_bounds(q)?;
        let a = lo.map_or(min, |lo| lo.max(min));
        let b = hi.map_or(max, |hi| hi.min(max));
        if b.saturating_sub(a) <= FIRST_WINDOW_MS {
            return self.ids(q, Slice::All, limit);
        }
        let mut ids = Vec::new();
        if q.from_wall_ms.is_none() && q.to_wall_ms.is_none() {
            ids = self.ids(q, Slice::NoClock, limit)?;
        }
        let (mut start, mut window) = (a, FIRST_WINDOW_MS);
        while ids.len() < limit && start <= b {
            let end = start.saturating_add(window - 1).min(b);
            ids.extend(self.ids(q, Slice::Range(start, end), limit - ids.len())?);
            if end == b {
                break;
            }
            start = end + 1;
            window = window.saturating_mul(2);
        }
        Ok(ids)
    }

    /// Run a search.
    pub fn search(&self, q: &Query) -> Result<SearchResult, IndexError> {
        // One more than the limit, to know whether the result was truncated.
        let ids = self.first_ids(q, q.limit as usize + 1)?;
        let truncated = ids.len() > q.limit as usize;
        let paths: HashMap<String, Option<String>> = self
            .sources()?
            .into_iter()
            .map(|s| (s.record.source_id, s.record.path))
            .collect();
        let mut detail = self
            .conn
            .prepare_cached("SELECT summary_json FROM track_detail WHERE id = ?1")?;
        let mut hits = Vec::with_capacity(ids.len().min(q.limit as usize));
        for id in ids.into_iter().take(q.limit as usize) {
            let json: String = detail.query_row([id], |r| r.get(0))?;
            let track: TrackSummary =
                serde_json::from_str(&json).map_err(|e| IndexError::Corrupt {
                    problem: format!("track row {id}: {e}"),
                })?;
            hits.push(Hit {
                first_wall: track.first_wall_ms.and_then(ms_to_rfc3339),
                last_wall: track.last_wall_ms.and_then(ms_to_rfc3339),
                source_path: paths.get(&track.source_id).cloned().flatten(),
                track,
            });
        }
        let hints = if hits.is_empty() {
            self.hints(q)?
        } else {
            Vec::new()
        };
        Ok(SearchResult {
            query: q.clone(),
            hits,
            truncated,
            hints,
        })
    }

    /// `EXPLAIN QUERY PLAN` of the search statement, one line per plan step.
    pub fn explain(&self, q: &Query) -> Result<Vec<String>, IndexError> {
        let sql = self.build_sql(q, "t.id", Slice::All, q.limit as usize + 1)?;
        let mut st = self
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", sql.text))?;
        let rows = st.query_map(rusqlite::params_from_iter(sql.params.iter()), |r| {
            r.get::<_, String>(3)
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Distinct values of a vocabulary kind (`class`, `camera`, `zone`, `line`).
    pub fn vocabulary(&self, kind: &str) -> Result<Vec<String>, IndexError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT DISTINCT value FROM vocab WHERE kind = ?1 ORDER BY value")?;
        let rows = st.query_map([kind], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn hints(&self, q: &Query) -> Result<Vec<String>, IndexError> {
        let mut out = Vec::new();
        let checks = [
            ("class", q.class.as_deref()),
            ("camera", q.camera.as_deref()),
            ("zone", q.zone.as_deref()),
            ("line", q.crosses.as_ref().map(|c| c.line.as_str())),
        ];
        for (kind, value) in checks {
            let Some(value) = value else { continue };
            let known = self.vocabulary(kind)?;
            if !known.iter().any(|k| k == value) {
                let list = if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                };
                out.push(format!(
                    "no {kind} called {value:?} in this index (known: {list})"
                ));
            }
        }
        if (q.from_wall_ms.is_some() || q.to_wall_ms.is_some()) && out.is_empty() {
            let no_clock: i64 = self.conn.query_row(
                "SELECT count(*) FROM (SELECT 1 FROM track WHERE first_wall_ms IS NULL LIMIT 1)",
                [],
                |r| r.get(0),
            )?;
            if no_clock > 0 {
                out.push(
                    "some sources have no wall-clock start time and never match --from/--to \
                     (give one with `vigie ingest --start`)"
                        .to_string(),
                );
            }
        }
        Ok(out)
    }
}
