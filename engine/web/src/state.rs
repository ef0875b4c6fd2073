//! The server's configuration (validated once, at start) and its state in memory:
//! sessions, open players, and the background work of each case.
//!
//! Nothing here is written to disk: a restart ends every session and player (running
//! work stops at its next checkpoint when its thread's process ends). What must last is
//! in the case's audit log, written by the application layer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vigie_app::accounts::Accounts;
use vigie_app::view::{DerivedReader, Player, SynopsisView};
use vigie_app::App;

use crate::error::WebError;
use crate::jobs::Job;

/// Default address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8470";

/// Certificate chain and private key (PEM) for a non-loopback address.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// How `vigie serve` runs. Built by the front end (the CLI), checked by [`Self::validate`].
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// Folders whose files may be ingested (set by the administrator who starts the
    /// server; never from a browser).
    pub roots: Vec<PathBuf>,
    pub tls: Option<TlsFiles>,
    /// Host names the browser may use besides the listening address (`--host`), e.g. the
    /// name on the TLS certificate.
    pub hosts: Vec<String>,
    /// A session ends after this long without a request.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, active or not.
    pub session_max: Duration,
    /// A player (and the case lock it holds) ends after this long without a frame asked.
    pub player_idle: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN.parse().expect("a valid address"),
            roots: Vec::new(),
            tls: None,
            hosts: Vec::new(),
            idle_timeout: Duration::from_secs(15 * 60),
            session_max: Duration::from_secs(10 * 3600),
            player_idle: Duration::from_secs(90),
        }
    }
}

impl ServeConfig {
    /// Refuse what must not run: a non-loopback address without TLS, half a TLS pair,
    /// roots that are not directories. Roots come back resolved (links followed), so that
    /// every later check compares real paths.
    pub fn validate(mut self) -> Result<Self, WebError> {
        if !self.listen.ip().is_loopback() && self.tls.is_none() {
            return Err(WebError::NeedsTls { addr: self.listen });
        }
        if self.idle_timeout.is_zero() || self.session_max < self.idle_timeout {
            return Err(WebError::BadConfig(
                "the idle timeout must be > 0 and no longer than the session's maximum".into(),
            ));
        }
        let mut roots = Vec::with_capacity(self.roots.len());
        for r in &self.roots {
            let real = r.canonicalize().map_err(|e| WebError::BadRoot {
                why: e.to_string(),
                path: r.clone(),
            })?;
            if !real.is_dir() {
                return Err(WebError::BadRoot {
                    why: "not a directory".into(),
                    path: r.clone(),
                });
            }
            roots.push(real);
        }
        self.roots = roots;
        for h in &self.hosts {
            if h.is_empty()
                || !h
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'))
            {
                return Err(WebError::BadConfig(format!(
                    "invalid --host {h:?}: a DNS name (letters, digits, '-', '.')"
                )));
            }
        }
        Ok(self)
    }

    /// The `Host` header values a browser may send to `bound` (DNS rebinding defence: a
    /// page of another site resolved to this address names another host).
    pub fn allowed_hosts(&self, bound: SocketAddr) -> Vec<String> {
        let port = bound.port();
        let default_port = if self.tls.is_some() { 443 } else { 80 };
        let mut names: Vec<String> = Vec::new();
        if bound.ip().is_loopback() {
            names.extend([
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
                "[::1]".to_owned(),
            ]);
        }
        names.push(match bound.ip() {
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        });
        names.extend(self.hosts.iter().map(|h| h.to_ascii_lowercase()));
        let mut out = Vec::new();
        for n in names {
            if port == default_port {
                out.push(n.clone());
            }
            out.push(format!("{n}:{port}"));
        }
        out.sort();
        out.dedup();
        out
    }
}

/// One signed-in browser.
#[derive(Debug)]
pub struct Session {
    pub account: String,
    /// The SHA-256 of the account's credential at sign-in: the session ends once it
    /// changes (a new password).
    pub credential: String,
    /// The address it signed in from.
    pub peer: String,
    /// The synchroniser token every state change must carry.
    pub csrf: String,
    pub created: Instant,
    pub last_seen: Instant,
    /// The purpose stated for each case this session (the reason of its audit entries).
    pub purposes: HashMap<String, String>,
    /// Thumbnail readers handed out by page views that entered a case, with when they
    /// were given (they last [`GRANT_TTL`]).
    pub grants: HashMap<String, (DerivedReader, Instant)>,
}

/// How long a page view's thumbnail reader lasts.
pub const GRANT_TTL: Duration = Duration::from_secs(10 * 60);

/// An open player, owned by one session.
pub struct PlayerSlot {
    pub session: String,
    pub case_id: String,
    pub player: Arc<Player>,
    pub opened: Instant,
    /// For a synopsis player: its objects, to find the one clicked.
    pub synopsis: Option<Arc<SynopsisView>>,
}

/// Sessions, players and work, shared by every request.
pub struct WebState {
    pub app: App,
    pub accounts: Arc<Accounts>,
    pub cfg: ServeConfig,
    pub allowed_hosts: Vec<String>,
    pub sessions: Mutex<HashMap<String, Session>>,
    pub players: Mutex<HashMap<String, PlayerSlot>>,
    pub jobs: Mutex<HashMap<String, Arc<Mutex<Job>>>>,
}

impl std::fmt::Debug for WebState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebState")
            .field("cfg", &self.cfg)
            .field("allowed_hosts", &self.allowed_hosts)
            .finish_non_exhaustive()
    }
}

/// Players one session may keep open at once (each holds a decoder and the case lock).
pub const PLAYERS_PER_SESSION: usize = 4;

impl WebState {
    /// The state of a server bound to `bound` (the port decides the allowed hosts).
    pub fn new(app: App, accounts: Accounts, cfg: ServeConfig, bound: SocketAddr) -> Arc<Self> {
        Arc::new(Self {
            accounts: Arc::new(accounts),
            allowed_hosts: cfg.allowed_hosts(bound),
            app,
            cfg,
            sessions: Mutex::new(HashMap::new()),
            players: Mutex::new(HashMap::new()),
            jobs: Mutex::new(HashMap::new()),
        })
    }

    pub fn tls(&self) -> bool {
        self.cfg.tls.is_some()
    }

    /// Drop expired sessions, ended players and the players of ended sessions (run
    /// periodically; requests check expiry themselves too). The ended sessions' ends are
    /// recorded in the machine log.
    pub fn sweep(&self) {
        let now = Instant::now();
        let mut ended = Vec::new();
        let live: Vec<String> = {
            let mut sessions = self.sessions.lock().expect("sessions lock");
            sessions.retain(|_, s| {
                let keep = !self.expired(s, now);
                if !keep {
                    ended.push((s.account.clone(), s.peer.clone()));
                }
                keep
            });
            for s in sessions.values_mut() {
                s.grants
                    .retain(|_, (_, at)| now.duration_since(*at) < GRANT_TTL);
            }
            sessions.keys().cloned().collect()
        };
        self.players
            .lock()
            .expect("players lock")
            .retain(|_, p| p.player.is_alive() && live.contains(&p.session));
        for (account, peer) in ended {
            self.record_end(&account, &peer, "idle or expired");
        }
    }

    /// Record a session's end (best effort: the session ends whatever happens to the
    /// entry, and a failure is said on the server's stderr).
    pub fn record_end(&self, account: &str, peer: &str, why: &str) {
        if let Err(e) = self.accounts.logout(account, peer, why) {
            eprintln!("vigie serve: the end of {account}'s session could not be recorded: {e}");
        }
    }

    pub fn expired(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.last_seen) > self.cfg.idle_timeout
            || now.duration_since(s.created) > self.cfg.session_max
    }

    /// End a session and everything it holds.
    pub fn end_session(&self, sid: &str) {
        self.sessions.lock().expect("sessions lock").remove(sid);
        self.players
            .lock()
            .expect("players lock")
            .retain(|_, p| p.session != sid);
    }

    /// Keep a new player for `session`, closing its oldest beyond the per-session limit.
    pub fn add_player(&self, id: String, slot: PlayerSlot) {
        let mut players = self.players.lock().expect("players lock");
        let mut mine: Vec<(Instant, String)> = players
            .iter()
            .filter(|(_, p)| p.session == slot.session)
            .map(|(k, p)| (p.opened, k.clone()))
            .collect();
        while mine.len() >= PLAYERS_PER_SESSION {
            mine.sort();
            let (_, oldest) = mine.remove(0);
            players.remove(&oldest);
        }
        players.insert(id, slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_address_needs_tls() {
        let cfg = ServeConfig {
            listen: "0.0.0.0:8470".parse().unwrap(),
            ..Default::default()
        };
        assert!(matches!(cfg.validate(), Err(WebError::NeedsTls { .. })));
        let cfg = ServeConfig::default();
        assert!(cfg.validate().is_ok());
    }

    #[test]
    fn allowed_hosts_follow_the_bound_port() {
        let cfg = ServeConfig::default();
        let hosts = cfg.allowed_hosts("127.0.0.1:5123".parse().unwrap());
        assert!(hosts.contains(&"127.0.0.1:5123".to_owned()));
        assert!(hosts.contains(&"localhost:5123".to_owned()));
        assert!(!hosts
            .iter()
            .any(|h| h == "localhost" || h.ends_with(":8470")));
    }

    #[test]
    fn roots_must_be_directories() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        let cfg = ServeConfig {
            roots: vec![file],
            ..Default::default()
        };
        assert!(matches!(cfg.validate(), Err(WebError::BadRoot { .. })));
    }
}
