//! Who acts: an operator id, validated once, and on the command line the
//! operating-system account that typed it.
//!
//! The audit log records this id with every action, so it is checked here once: not
//! empty, no control characters, at most 64 characters. Once the installation has
//! operator accounts ([`crate::accounts`]), the id must also be an enabled account with
//! access to the case (checked when a case is entered).
//!
//! ## The operating-system account (CLI)
//!
//! On the command line nothing proves that the person typing `--operator op1` is op1: the
//! CLI asks for no password (whoever can run vigie on this machine can read its data
//! root anyway). What the kernel does prove is the operating-system account running the
//! command. [`Operator::from_flag`] (the CLI's constructor) therefore attaches it
//! ([`OsAccount::current`]), and every entry the CLI causes inside a case carries it at
//! the end of the entry's justification: `<reason> [os account alice (uid 1000)]`.
//!
//! Why the justification and not the `operator` field: the operator field is the account
//! id (rights, reports and searches group by it, and the hashed entry format is fixed);
//! the justification is free text that is hashed into the chain, shown in every report
//! beside the entry, and already the place a reader looks for "why and on whose behalf".
//! vigie appends the suffix itself, last, so a reason that imitates one cannot hide it:
//! the last `[os account ...]` of a justification is vigie's.
//!
//! The account is the real uid read from `/proc/self/status`, named from `/etc/passwd`
//! (no `unsafe`, no libc call). When the login session's uid (`/proc/self/loginuid`,
//! set at login and kept across `su` and `sudo`) is another account, it is recorded too:
//! `[os account vigie (uid 998), login alice (uid 1000)]`. Only where `/proc` is missing
//! does vigie fall back to `$USER`/`$LOGNAME`, marked as such (anyone can set those).
//!
//! Web sessions have no operating-system account of their user: [`Operator::new`]
//! attaches none, and the server records its own account once when it starts
//! (`Accounts::service_started`).

use std::fmt;

use crate::error::AppError;

/// Longest reason (the justification recorded with every entry of a command or a page),
/// in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Check a reason before anything is recorded with it: at most [`MAX_REASON_CHARS`]
/// printable characters, no line breaks or control characters (it is shown in every
/// report beside its entry, and each entry of a page carries it: a long one would bloat
/// the case's log at every request).
pub fn check_reason(reason: &str) -> Result<(), AppError> {
    let r = reason.trim();
    if r.chars().count() > MAX_REASON_CHARS || r.chars().any(char::is_control) {
        return Err(AppError::BadInput(format!(
            "the reason must be at most {MAX_REASON_CHARS} printable characters on one line \
             (it is recorded with every entry); give a shorter one"
        )));
    }
    Ok(())
}

/// A validated operator id, with the operating-system account behind it on the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Operator {
    id: String,
    os: Option<OsAccount>,
}

impl Operator {
    /// An operator id, without an operating-system account (web sessions, tests).
    pub fn new(id: &str) -> Result<Self, AppError> {
        let id = id.trim();
        if id.is_empty() {
            return Err(AppError::Case(vigie_case::CaseError::NoOperator));
        }
        if id.chars().count() > 64 || id.chars().any(char::is_control) {
            return Err(AppError::BadOperator(id.to_owned()));
        }
        Ok(Self {
            id: id.to_owned(),
            os: None,
        })
    }

    /// The CLI's operator: from an optional flag (`None` or empty is the "no operator
    /// given" refusal), with the operating-system account running this process.
    pub fn from_flag(id: Option<&str>) -> Result<Self, AppError> {
        Ok(Self::new(id.unwrap_or_default())?.with_os_account(OsAccount::current()))
    }

    /// The same operator, acting from `os` (or from no known account).
    pub fn with_os_account(mut self, os: Option<OsAccount>) -> Self {
        self.os = os;
        self
    }

    /// The operator id, as recorded in the `operator` field of audit entries.
    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// The operating-system account behind this operator (CLI only).
    pub fn os_account(&self) -> Option<&OsAccount> {
        self.os.as_ref()
    }

    /// The justification to record for `reason`: the reason itself, followed on the CLI
    /// by the operating-system account (`reason [os account alice (uid 1000)]`).
    pub fn justification(&self, reason: &str) -> String {
        match &self.os {
            Some(os) => format!("{} [os account {os}]", reason.trim()),
            None => reason.trim().to_owned(),
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

/// The operating-system account a command runs under.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OsAccount {
    /// The real uid (`None` when it could not be read and the name came from `$USER`).
    pub uid: Option<u32>,
    /// The account's name (`uid N` when `/etc/passwd` does not name it).
    pub name: String,
    /// The login session's account when it is another one (after `su`, `sudo`).
    pub login: Option<(u32, String)>,
}

/// `/proc/self/loginuid` when no login session set it.
const UNSET_LOGINUID: u32 = u32::MAX;

impl OsAccount {
    /// The account running this process: from `/proc` and `/etc/passwd`, else from
    /// `$USER`/`$LOGNAME` (marked unverified), else `None`.
    pub fn current() -> Option<Self> {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        if let Some(uid) = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| real_uid(&s))
        {
            let login = std::fs::read_to_string("/proc/self/loginuid")
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok())
                .filter(|l| *l != UNSET_LOGINUID && *l != uid)
                .map(|l| (l, user_name(&passwd, l)));
            return Some(Self {
                uid: Some(uid),
                name: user_name(&passwd, uid),
                login,
            });
        }
        ["USER", "LOGNAME"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .map(|n| clean(&n))
            .find(|n| !n.is_empty())
            .map(|name| Self {
                uid: None,
                name,
                login: None,
            })
    }
}

impl fmt::Display for OsAccount {
    /// `alice (uid 1000)`, `vigie (uid 998), login alice (uid 1000)`,
    /// `alice ($USER, unverified)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.uid {
            Some(uid) => write!(f, "{} (uid {uid})", self.name)?,
            None => write!(f, "{} ($USER, unverified)", self.name)?,
        }
        if let Some((uid, name)) = &self.login {
            write!(f, ", login {name} (uid {uid})")?;
        }
        Ok(())
    }
}

/// The real uid of a `/proc/<pid>/status` text (`Uid:\treal\teffective\tsaved\tfs`).
fn real_uid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|u| u.parse().ok())
}

/// The name `/etc/passwd` gives `uid`, else `uid N`.
fn user_name(passwd: &str, uid: u32) -> String {
    passwd
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let _password = f.next()?;
            (f.next()?.parse::<u32>().ok()? == uid).then(|| clean(name))
        })
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("uid {uid}"))
}

/// At most 64 printable characters, no brackets (they delimit the justification suffix).
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() && !matches!(c, '[' | ']'))
        .take(64)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_are_checked() {
        assert_eq!(Operator::new(" op1 ").unwrap().as_str(), "op1");
        assert!(Operator::new("").is_err());
        assert!(Operator::from_flag(None).is_err());
        assert!(Operator::new("a\nb").is_err());
        assert!(Operator::new(&"x".repeat(65)).is_err());
    }

    #[test]
    fn reasons_are_one_line_of_at_most_500_characters() {
        check_reason("  search for the red car seen at 14:00  ").unwrap();
        check_reason(&"é".repeat(MAX_REASON_CHARS)).unwrap();
        for bad in [
            "x".repeat(MAX_REASON_CHARS + 1),
            "line one\nline two".to_owned(),
            "colour \u{1b}[31mred".to_owned(),
        ] {
            let e = check_reason(&bad).unwrap_err().to_string();
            assert!(e.contains("at most 500 printable characters"), "{e}");
        }
    }

    #[test]
    fn the_cli_operator_carries_its_os_account_into_the_justification() {
        let web = Operator::new("op1").unwrap();
        assert_eq!(web.os_account(), None);
        assert_eq!(web.justification(" theft "), "theft");

        let os = OsAccount {
            uid: Some(998),
            name: "vigie".into(),
            login: Some((1000, "alice".into())),
        };
        let cli = Operator::new("op1").unwrap().with_os_account(Some(os));
        assert_eq!(cli.as_str(), "op1");
        assert_eq!(
            cli.justification("theft"),
            "theft [os account vigie (uid 998), login alice (uid 1000)]"
        );
        // On Linux the account comes from /proc, not from the environment.
        if std::path::Path::new("/proc/self/status").exists() {
            let me = Operator::from_flag(Some("op1")).unwrap();
            let os = me.os_account().expect("the CLI operator has an OS account");
            assert!(os.uid.is_some(), "{os}");
        }
    }

    #[test]
    fn proc_and_passwd_are_parsed() {
        let status = "Name:\tvigie\nUmask:\t0022\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\n";
        assert_eq!(real_uid(status), Some(1000));
        assert_eq!(real_uid("Name:\tx\n"), None);
        let passwd =
            "# comment\nroot:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";
        assert_eq!(user_name(passwd, 1000), "alice");
        assert_eq!(user_name(passwd, 0), "root");
        assert_eq!(user_name(passwd, 42), "uid 42");
        assert_eq!(clean("ev[il]\u{7}name"), "evilname");
    }
}
