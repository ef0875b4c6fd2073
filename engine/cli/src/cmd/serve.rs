//! `vigie serve`: the investigator's desk, a web interface (see `vigie_web`).
//!
//! Flags → a `vigie_web::ServeConfig` → `vigie_web::serve`, which refuses a non-loopback
//! address without TLS, records the start in the machine log and serves until stopped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use vigie_web::{ServeConfig, TlsFiles};

use crate::output::Outcome;
use crate::Global;

/// Serve the web interface (loopback by default; another address needs TLS).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Operators sign in with the accounts of `vigie operator` (an administrator creates them and
grants cases). Only the folders given with --root can be ingested from the browser.

Examples:
  vigie serve --root /media/seized            then open http://127.0.0.1:8470/
  vigie serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem \\
      --host desk.example --root /media/seized")]
pub struct Args {
    /// Address and port to listen on. A non-loopback address needs --tls-cert and
    /// --tls-key.
    #[arg(long, default_value = vigie_web::state::DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// A folder whose files may be ingested from the browser (repeatable).
    #[arg(long = "root", value_name = "DIR")]
    pub roots: Vec<PathBuf>,
    /// TLS certificate chain (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A host name browsers use to reach this server (e.g. the certificate's), besides its
    /// address (repeatable). Requests naming any other host are refused.
    #[arg(long = "host", value_name = "NAME")]
    pub hosts: Vec<String>,
    /// Minutes without a request after which a session ends.
    #[arg(long, default_value_t = 15)]
    pub idle_minutes: u64,
}

pub fn run(args: Args, _global: &Global) -> anyhow::Result<Outcome> {
    let app = vigie_app::App::from_env()?;
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        _ => return Err(vigie_web::WebError::HalfTls.into()),
    };
    let cfg = ServeConfig {
        listen: args.listen,
        roots: args.roots,
        tls,
        hosts: args.hosts,
        idle_timeout: Duration::from_secs(args.idle_minutes.max(1) * 60),
        ..ServeConfig::default()
    };
    vigie_web::serve(app, cfg)?;
    Ok(Outcome::Success)
}
