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
//!
//! Plates: `--plate` is a join on `track_plate` with `text_fold GLOB ?` (the pattern over
//! O->0-folded text); a pattern that starts with literal characters is a range on the
//! `track_plate_search` index. `--plate-fuzzy` cannot be an index condition (OCR
//! confusions change any character) — but an index can serve an exact prefilter. The
//! threshold ([`FUZZY_MIN_LIKELIHOOD`], a cost under 2) allows at most one *whole* error
//! (a substitution outside the confusion groups, an insertion or a deletion); every other
//! difference is a confusion, which [`plate::confusion_fold`] erases. So in the
//! confusion-folded texts the plates differ by at most one edit, and if the query has `n`
//! characters, that edit spares either its first `n/2` (rounded down) or its last `n - n/2`
//! characters: a candidate must share one of these, which are two range lookups on
//! `track_plate_conf` and `track_plate_conf_rev`. The weighted edit distance is then
//! computed here for those few rows, and hits are ranked by likelihood x read confidence,
//! not by time.

use std::collections::HashMap;

use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use vigie_core::plate::{self, FUZZY_MIN_LIKELIHOOD};
use vigie_core::{CrossingDirection, TrackSummary};

use crate::error::IndexError;
use crate::query::{ClassRule, MinSize, Query, COLOUR_MIN_SHARE};
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
    /// With `--plate-fuzzy`: how likely the track's plate is the one searched for (0..1,
    /// [`plate::fuzzy_likelihood`]); hits are ranked by this times the read confidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate_likelihood: Option<f32>,
    /// When the source's clock was corrected: the first time as the recorder showed it
    /// (the application layer fills it, and writes `first_wall`/`last_wall` in the place's
    /// time zone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_first_wall: Option<String>,
}

/// What a search returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    pub query: Query,
    pub hits: Vec<Hit>,
    /// More tracks matched than `query.limit`; only the first `limit` are here: the
    /// earliest, or with `--plate-fuzzy` the most likely (by likelihood x read confidence).
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

/// `{alias}.label = ?` for one label, `{alias}.label IN (?, ...)` for several.
fn label_cond(alias: &str, labels: &[String], params: &mut Vec<Value>) -> String {
    match labels {
        [one] => format!("{alias}.label = {}", bind(params, Value::Text(one.clone()))),
        many => {
            let list: Vec<String> = many
                .iter()
                .map(|l| bind(params, Value::Text(l.clone())))
                .collect();
            format!("{alias}.label IN ({})", list.join(", "))
        }
    }
}

/// On the track table, the part of a class rule the side tables cannot say: which of
/// its labels match only when ridden (`--class person`: a person, or a ridden vehicle).
fn ridden_cond(rule: &ClassRule, params: &mut Vec<Value>) -> Option<String> {
    if rule.ridden_only.is_empty() {
        return None;
    }
    let list: Vec<String> = rule
        .ridden_only
        .iter()
        .map(|l| bind(params, Value::Text(l.clone())))
        .collect();
    Some(format!(
        "(t.ridden = 1 OR t.label NOT IN ({}))",
        list.join(", ")
    ))
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
        limit: Option<usize>,
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
        let rule = q.class.as_deref().map(ClassRule::of);
        let shared = |alias: &str, params: &mut Vec<Value>, conds: &mut Vec<String>| {
            if let Some(rule) = &rule {
                conds.push(label_cond(alias, &rule.labels, params));
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
        if let Some(c) = rule.as_ref().and_then(|r| ridden_cond(r, &mut params)) {
            conds.push(c);
        }
        if let Some(from) = q.from_wall_ms {
            let from = bind(&mut params, Value::Integer(from));
            conds.push(format!("t.last_wall_ms >= {from}"));
        }
        // The colour rule of `query::colour_matches`, in SQL.
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
        if q.plate.is_some() || q.plate_fuzzy.is_some() {
            joins.push_str(" JOIN track_plate p ON p.track = t.id");
            if let Some(pat) = &q.plate {
                let g = bind(&mut params, Value::Text(pat.to_glob()));
                joins.push_str(&format!(" AND p.text_fold GLOB {g}"));
            }
            if let Some(text) = &q.plate_fuzzy {
                for c in Self::fuzzy_conds(text, &mut params) {
                    joins.push_str(&format!(" AND {c}"));
                }
            }
            shared("p", &mut params, &mut conds);
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
        let text = match limit {
            Some(limit) => {
                params.push(Value::Integer(limit.min(i64::MAX as usize) as i64));
                format!(
                    "SELECT {select} FROM track t{joins}{where_} ORDER BY t.first_wall_ms, t.id \
                     LIMIT ?{}",
                    params.len()
                )
            }
            None => format!("SELECT {select} FROM track t{joins}{where_}"),
        };
        Ok(Sql { text, params })
    }

    fn ids(&self, q: &Query, slice: Slice, limit: usize) -> Result<Vec<i64>, IndexError> {
        let sql = self.build_sql(q, "t.id", slice, Some(limit))?;
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

    /// The fuzzy prefilter on the plate table `p`: length within reach, and (when the
    /// threshold allows at most one whole error) a shared confusion-folded prefix or
    /// suffix. See the module documentation for why this loses no match.
    fn fuzzy_conds(text: &str, params: &mut Vec<Value>) -> Vec<String> {
        let n = text.chars().count();
        let d = plate::fuzzy_max_len_diff();
        let mut conds = vec![format!(
            "length(p.text_fold) BETWEEN {} AND {}",
            bind(params, Value::Integer(n.saturating_sub(d).max(1) as i64)),
            bind(params, Value::Integer((n + d) as i64))
        )];
        let k = n / 2;
        if FUZZY_MIN_LIKELIHOOD > (-2.0f32).exp() && k > 0 {
            let conf: Vec<char> = plate::confusion_fold(text).chars().collect();
            let prefix: String = conf[..k].iter().collect();
            let suffix_rev: String = conf[k..].iter().rev().collect();
            // `x >= 'AB' AND x < 'AB\x7f'`: starts with AB (plate characters sort below
            // DEL), a range any index serves.
            let range = |col: &str, s: String, params: &mut Vec<Value>| {
                let hi = format!("{s}\u{7f}");
                format!(
                    "(p.{col} >= {} AND p.{col} < {})",
                    bind(params, Value::Text(s)),
                    bind(params, Value::Text(hi))
                )
            };
            let a = range("text_conf", prefix, params);
            let b = range("text_conf_rev", suffix_rev, params);
            conds.push(format!("({a} OR {b})"));
        }
        conds
    }

    /// The statement behind `--plate-fuzzy`: every candidate plate (no order, no limit).
    ///
    /// When the other filters only concern the class, `--to` or the plate pattern, it
    /// reads `track_plate` alone (no join with `track`): the common "find this plate
    /// anywhere" search. `text_fold` is scored: O and 0 cost nothing anyway.
    fn fuzzy_sql(&self, q: &Query) -> Result<Sql, IndexError> {
        const SELECT: &str = "p.track, p.text_fold, p.confidence, p.first_wall_ms";
        let plate_table_only = q.colours.is_empty()
            && q.direction.is_none()
            && q.zone.is_none()
            && q.dwell_min_ms.is_none()
            && q.crosses.is_none()
            && q.from_wall_ms.is_none()
            && q.min_size.is_none()
            && q.camera.is_none()
            && q.min_speed_px_s.is_none()
            && q.max_speed_px_s.is_none()
            && q.class
                .as_deref()
                .is_none_or(|c| ClassRule::of(c).ridden_only.is_empty());
        if !plate_table_only {
            return self.build_sql(q, SELECT, Slice::All, None);
        }
        let mut params = Vec::new();
        let mut conds = Vec::new();
        if let Some(c) = &q.class {
            conds.push(label_cond("p", &ClassRule::of(c).labels, &mut params));
        }
        if let Some(to) = q.to_wall_ms {
            conds.push(format!(
                "p.first_wall_ms <= {}",
                bind(&mut params, Value::Integer(to))
            ));
        }
        if let Some(pat) = &q.plate {
            conds.push(format!(
                "p.text_fold GLOB {}",
                bind(&mut params, Value::Text(pat.to_glob()))
            ));
        }
        if let Some(text) = &q.plate_fuzzy {
            conds.extend(Self::fuzzy_conds(text, &mut params));
        }
        let where_ = if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        };
        Ok(Sql {
            text: format!("SELECT {SELECT} FROM track_plate p{where_}"),
            params,
        })
    }

    /// The `limit` most likely matches of a `--plate-fuzzy` query, with their
    /// likelihood: ranked by likelihood x read confidence (descending), then by time.
    fn fuzzy_ids(
        &self,
        q: &Query,
        text: &str,
        limit: usize,
    ) -> Result<Vec<(i64, f32)>, IndexError> {
        let sql = self.fuzzy_sql(q)?;
        let mut st = self.conn.prepare_cached(&sql.text)?;
        let mut rows = st.query(rusqlite::params_from_iter(sql.params.iter()))?;
        // (score, first_wall_ms, id, likelihood)
        let mut found: Vec<(f32, Option<i64>, i64, f32)> = Vec::new();
        while let Some(r) = rows.next()? {
            let candidate = r.get_ref(1)?.as_str().map_err(|e| IndexError::Corrupt {
                problem: format!("plate text is not text: {e}"),
            })?;
            let likelihood = plate::fuzzy_likelihood(text, candidate);
            if likelihood < FUZZY_MIN_LIKELIHOOD {
                continue;
            }
            let confidence: f64 = r.get(2)?;
            found.push((
                likelihood * confidence as f32,
                r.get(3)?,
                r.get(0)?,
                likelihood,
            ));
        }
        found.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| a.1.cmp(&b.1))
                .then_with(|| a.2.cmp(&b.2))
        });
        found.truncate(limit);
        Ok(found.into_iter().map(|(_, _, id, l)| (id, l)).collect())
    }

    /// Run a search.
    pub fn search(&self, q: &Query) -> Result<SearchResult, IndexError> {
        // One more than the limit, to know whether the result was truncated.
        let ids: Vec<(i64, Option<f32>)> = match &q.plate_fuzzy {
            Some(text) => self
                .fuzzy_ids(q, text, q.limit as usize + 1)?
                .into_iter()
                .map(|(id, l)| (id, Some(l)))
                .collect(),
            None => self
                .first_ids(q, q.limit as usize + 1)?
                .into_iter()
                .map(|id| (id, None))
                .collect(),
        };
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
        for (id, plate_likelihood) in ids.into_iter().take(q.limit as usize) {
            let json: String = detail.query_row([id], |r| r.get(0))?;
            let track: TrackSummary =
                serde_json::from_str(&json).map_err(|e| IndexError::Corrupt {
                    problem: format!("track row {id}: {e}"),
                })?;
            hits.push(Hit {
                first_wall: track.first_wall_ms.and_then(ms_to_rfc3339),
                last_wall: track.last_wall_ms.and_then(ms_to_rfc3339),
                source_path: paths.get(&track.source_id).cloned().flatten(),
                plate_likelihood,
                recorded_first_wall: None,
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
        let sql = if q.plate_fuzzy.is_some() {
            self.fuzzy_sql(q)?
        } else {
            self.build_sql(q, "t.id", Slice::All, Some(q.limit as usize + 1))?
        };
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
            let found = if kind == "class" {
                let rule = ClassRule::of(value);
                known.iter().any(|k| rule.labels.contains(k))
            } else {
                known.iter().any(|k| k == value)
            };
            if !found {
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
        if q.plate.is_some() || q.plate_fuzzy.is_some() {
            out.extend(self.plate_hints(q)?);
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

    /// Why a plate search found nothing, and what to try instead.
    fn plate_hints(&self, q: &Query) -> Result<Vec<String>, IndexError> {
        let any: bool =
            self.conn
                .query_row("SELECT EXISTS (SELECT 1 FROM track_plate)", [], |r| {
                    r.get(0)
                })?;
        if !any {
            return Ok(vec![
                "no licence plate has been read in this index (plates are read by `vigie \
                 analyze` on vehicles large enough to read)"
                    .to_string(),
            ]);
        }
        let mut out = Vec::new();
        let others = Query {
            plate: None,
            plate_fuzzy: None,
            limit: q.limit,
            ..q.clone()
        } != Query {
            limit: q.limit,
            ..Query::default()
        };
        if let Some(p) = &q.plate {
            let alone: bool = self.conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM track_plate WHERE text_fold GLOB ?1)",
                [p.to_glob()],
                |r| r.get(0),
            )?;
            if alone && (others || q.plate_fuzzy.is_some()) {
                out.push(format!(
                    "plates match --plate {p}, but none of those tracks matches the other \
                     filters too; relax them"
                ));
            } else {
                let try_fuzzy = if p.is_exact() {
                    format!("--plate-fuzzy {p}")
                } else {
                    "--plate-fuzzy with the whole plate as you read it".to_string()
                };
                out.push(format!(
                    "no plate matched --plate {p} (O and 0 count as equal); if a character \
                     may be misread, try {try_fuzzy}: it tolerates OCR confusions (0/O/D/Q, \
                     1/I/L, 8/B, 5/S, 2/Z) and ranks plates by likelihood"
                ));
            }
        }
        if let Some(text) = &q.plate_fuzzy {
            let alone = Query {
                plate_fuzzy: Some(text.clone()),
                limit: 1,
                ..Query::default()
            };
            if (others || q.plate.is_some()) && !self.fuzzy_ids(&alone, text, 1)?.is_empty() {
                out.push(format!(
                    "plates close to --plate-fuzzy {text} exist, but none of those tracks \
                     matches the other filters too; relax them"
                ));
            } else {
                out.push(format!(
                    "no plate is close enough to --plate-fuzzy {text} (at most one character \
                     wrong beyond OCR confusions); try --plate with ? for each unsure \
                     character and * for a part you could not read"
                ));
            }
        }
        Ok(out)
    }
}
