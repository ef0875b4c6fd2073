//! Looking tracks up by id (for `vigie clip` and the synopsis), outside any query.

use vigie_core::TrackSummary;

use crate::{Index, IndexError};

impl Index {
    /// Tracks with this per-source `track_id`, in every source or in one.
    pub fn tracks_by_id(
        &self,
        source_id: Option<&str>,
        track_id: u64,
    ) -> Result<Vec<TrackSummary>, IndexError> {
        let mut st = self.conn.prepare_cached(
            "SELECT d.summary_json FROM track t JOIN track_detail d ON d.id = t.id
             WHERE t.track_id = ?1 AND (?2 IS NULL OR t.source_id = ?2)
             ORDER BY t.source_id",
        )?;
        let rows = st.query_map(rusqlite::params![track_id as i64, source_id], |r| {
            r.get::<_, String>(0)
        })?;
        rows.map(|json| {
            let json = json?;
            serde_json::from_str(&json).map_err(|e| IndexError::Corrupt {
                problem: format!("track {track_id}: {e}"),
            })
        })
        .collect()
    }

    /// Every track of one source, in time order.
    pub fn tracks_of_source(&self, source_id: &str) -> Result<Vec<TrackSummary>, IndexError> {
        let mut st = self.conn.prepare_cached(
            "SELECT d.summary_json FROM track t JOIN track_detail d ON d.id = t.id
             WHERE t.source_id = ?1 ORDER BY t.first_pts_ms, t.track_id",
        )?;
        let rows = st.query_map([source_id], |r| r.get::<_, String>(0))?;
        rows.map(|json| {
            let json = json?;
            serde_json::from_str(&json).map_err(|e| IndexError::Corrupt {
                problem: format!("source {source_id}: {e}"),
            })
        })
        .collect()
    }
}
