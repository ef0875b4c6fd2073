//! `vigie operator ...`: operator accounts and their rights per case. The work is
//! `vigie_app::accounts`; every change is a `lifecycle` entry of the machine log, with the
//! acting administrator (`--operator`) and this command's operating-system account.
//!
//! Passwords are never taken from the command line (argv is visible to every local user
//! and kept in shell histories): they are asked on the terminal without echo, or read as
//! one line from standard input with `--password-stdin`.

use std::io::{BufRead, IsTerminal};

use anyhow::{bail, Context};
use serde_json::json;
use vigie_app::accounts::{Account, Accounts};
use vigie_app::operator::OsAccount;
use vigie_app::{App, Operator};

use crate::output::{outln, print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Subcommand)]
pub enum OperatorCmd {
    /// Create an account. The installation's first account is an administrator and needs
    /// no --operator; after it, --operator must be an administrator. Once an account
    /// exists, every case command needs an --operator that is an account with access to
    /// the case.
    Add(AddArgs),
    /// Disable an account for good (its id is never reused).
    Disable(IdArgs),
    /// List the accounts, their role and the cases granted to them.
    List,
    /// Let an operator enter a case (administrators enter every case).
    Grant(CaseArgs),
    /// Withdraw an operator's access to a case.
    Revoke(CaseArgs),
    /// Set a password: your own (--operator ID), or anyone's as an administrator.
    Passwd(PasswdArgs),
    /// Check a password the way the web login does (rate-limited; each failure and
    /// lock-out is an alert for the data controller).
    Login(PasswdArgs),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The new account's id (letters, digits, '.', '_', '@', '-').
    pub id: String,
    /// Make it an administrator (manages accounts, enters every case).
    #[arg(long)]
    pub admin: bool,
    /// Read the password as one line from standard input instead of asking on the terminal.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, clap::Args)]
pub struct IdArgs {
    pub id: String,
}

#[derive(Debug, clap::Args)]
pub struct CaseArgs {
    pub id: String,
    /// The case's id.
    #[arg(value_name = "CASE")]
    pub case_id: String,
}

#[derive(Debug, clap::Args)]
pub struct PasswdArgs {
    pub id: String,
    /// Read the password as one line from standard input instead of asking on the terminal.
    #[arg(long)]
    pub password_stdin: bool,
}

/// The password, from standard input (one line) or asked on the terminal without echo
/// (twice when `confirm`).
fn read_password(from_stdin: bool, confirm: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        let pw = line.strip_suffix('\n').unwrap_or(&line);
        return Ok(pw.strip_suffix('\r').unwrap_or(pw).to_owned());
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "no terminal to ask the password on: give it on standard input with --password-stdin"
        );
    }
    let pw = rpassword::prompt_password("Password: ")?;
    if confirm && rpassword::prompt_password("Same password again: ")? != pw {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(pw)
}

/// The acting operator (`--operator`), with this process's operating-system account.
fn acting(global: &Global) -> anyhow::Result<Operator> {
    Ok(Operator::from_flag(global.operator.as_deref())?)
}

fn account_json(a: &Account) -> serde_json::Value {
    json!({ "id": a.id, "admin": a.admin, "disabled": a.disabled, "cases": a.cases })
}

fn describe(a: &Account) -> String {
    let mut s = if a.admin {
        "administrator (every case)".to_owned()
    } else if a.cases.is_empty() {
        "no case".to_owned()
    } else {
        format!("cases: {}", a.cases.join(", "))
    };
    if a.disabled {
        s = format!("DISABLED ({s})");
    }
    s
}

pub fn run(c: OperatorCmd, global: &Global) -> anyhow::Result<Outcome> {
    let app = App::from_env()?;
    let accounts = Accounts::open(&app)?;
    match c {
        OperatorCmd::Add(a) => {
            let first = !accounts.any()?;
            let by = match global.operator.as_deref().filter(|o| !o.trim().is_empty()) {
                Some(_) => Some(acting(global)?),
                // The first account creates itself (recorded with the OS account).
                None if first => Some(Operator::from_flag(Some(&a.id))?),
                None => None,
            };
            let password = read_password(a.password_stdin, true)?;
            let account = accounts.add(by.as_ref(), &a.id, a.admin, &password)?;
            if global.json {
                print_json(&json!({ "account": account_json(&account), "first": first }))?;
            } else {
                outln!("operator {}: {}", account.id, describe(&account));
                if first {
                    outln!(
                        "first account: from now on every case command needs an --operator that is an account with access to the case (`vigie operator add ID`, `vigie operator grant ID CASE`)"
                    );
                }
            }
        }
        OperatorCmd::Disable(a) => {
            accounts.disable(&acting(global)?, &a.id)?;
            if global.json {
                print_json(&json!({ "disabled": a.id }))?;
            } else {
                outln!("operator {} disabled", a.id);
            }
        }
        OperatorCmd::List => {
            let all = accounts.list()?;
            if global.json {
                print_json(
                    &json!({ "accounts": all.iter().map(account_json).collect::<Vec<_>>() }),
                )?;
            } else if all.is_empty() {
                outln!("no operator account: any --operator id is accepted until the first `vigie operator add ID`");
            } else {
                let width = all.iter().map(|a| a.id.len()).max().unwrap_or(0);
                for a in &all {
                    outln!("{:<width$}  {}", a.id, describe(a));
                }
            }
        }
        OperatorCmd::Grant(a) => {
            accounts.grant(&acting(global)?, &a.id, &a.case_id)?;
            if global.json {
                print_json(&json!({ "granted": { "operator": a.id, "case": a.case_id } }))?;
            } else {
                outln!("operator {} may enter case {}", a.id, a.case_id);
            }
        }
        OperatorCmd::Revoke(a) => {
            accounts.revoke(&acting(global)?, &a.id, &a.case_id)?;
            if global.json {
                print_json(&json!({ "revoked": { "operator": a.id, "case": a.case_id } }))?;
            } else {
                outln!("operator {} may no longer enter case {}", a.id, a.case_id);
            }
        }
        OperatorCmd::Passwd(a) => {
            let by = acting(global)?;
            let password = read_password(a.password_stdin, true)?;
            accounts.set_password(&by, &a.id, &password)?;
            if global.json {
                print_json(&json!({ "password_set": a.id }))?;
            } else {
                outln!("password of operator {} set", a.id);
            }
        }
        OperatorCmd::Login(a) => {
            let password = read_password(a.password_stdin, false)?;
            let peer = match OsAccount::current() {
                Some(os) => format!("cli, os account {os}"),
                None => "cli".to_owned(),
            };
            let account = accounts.login(&a.id, &password, &peer)?;
            if global.json {
                print_json(&json!({ "account": account_json(&account) }))?;
            } else {
                outln!(
                    "password accepted: operator {}, {}",
                    account.id,
                    describe(&account)
                );
            }
        }
    }
    Ok(Outcome::Success)
}
