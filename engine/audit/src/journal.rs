//! Signed heads sent to the system journal as they are written.
//!
//! Why: an operator who owns the Unix account that runs vigie can delete or rewrite the
//! whole data root, and with it every local check. A record that leaves vigie's files is
//! what catches that. Every committed head (log id, seq, hash, signature) is sent to the
//! system log socket (`/dev/log`: journald or rsyslog, which root owns), one line per
//! head, tagged `vigie-audit`. Best effort by design: a machine without a system logger
//! must still be able to work, so a failure to send is ignored here — the exploitation
//! report and `vigie audit anchor` are the anchors that never depend on it.
//!
//! No setting changes this: the socket path is fixed; tests call [`send_head_to`].

use std::os::unix::net::UnixDatagram;
use std::path::Path;

use crate::head::SignedHead;

/// The system log socket.
pub const SYSLOG_SOCKET: &str = "/dev/log";

/// Facility `auth` (4), severity `notice` (5): 4 * 8 + 5.
const PRIORITY: u8 = 37;

/// The line sent for a head (RFC 3164 with the priority; the journal adds time and host).
pub fn head_line(head: &SignedHead) -> String {
    format!(
        "<{PRIORITY}>vigie-audit: head log={} seq={} hash={} key={} sig={}",
        head.log_id, head.seq, head.hash, head.public_key, head.signature
    )
}

/// Send a committed head to the system log (errors ignored: see the module docs).
pub fn send_head(head: &SignedHead) {
    let _ = send_head_to(Path::new(SYSLOG_SOCKET), head);
}

/// Send a committed head to the datagram socket at `socket`.
pub fn send_head_to(socket: &Path, head: &SignedHead) -> std::io::Result<()> {
    if !socket.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no system log socket",
        ));
    }
    let s = UnixDatagram::unbound()?;
    s.set_nonblocking(true)?;
    s.send_to(head_line(head).as_bytes(), socket)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_reach_a_log_socket() {
        let d = tempfile::tempdir().unwrap();
        let sock = d.path().join("log");
        let server = UnixDatagram::bind(&sock).unwrap();
        let key = crate::InstallationKey::load_or_create(&d.path().join("keys")).unwrap();
        let head = SignedHead::sign(&key, "case:C1", 3, &"ab".repeat(32), None);
        send_head_to(&sock, &head).unwrap();
        let mut buf = [0u8; 1024];
        let n = server.recv(&mut buf).unwrap();
        let line = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(line.starts_with("<37>vigie-audit: head log=case:C1 seq=3 hash=abab"));
        assert!(line.contains(&head.signature));
        assert!(send_head_to(&d.path().join("none"), &head).is_err());
    }
}
