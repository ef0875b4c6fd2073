//! `vigie node ...`: compute nodes' signing keys, and which of them this installation
//! trusts. The work is `vigie_app::nodes`; enrolling and revoking are `lifecycle` entries
//! of the machine log with the acting operator (`--operator`, an administrator once
//! operator accounts exist), the reason (`--reason`) and this command's
//! operating-system account.
//!
//! `vigie node init` runs on the node: it makes the node's key (nothing is processed and
//! nothing is recorded); the public key it prints is what an administrator enrolls on the
//! installation with `vigie node enroll`.

use std::path::PathBuf;

use serde_json::json;
use vigie_app::admin::Administration;
use vigie_app::nodes::{self, EnrolledNode, NodeKey};
use vigie_app::{App, Operator};

use crate::output::{outln, print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Subcommand)]
pub enum NodeCmd {
    /// On a compute node: make its signing key if it has none (mode 0600) and print its
    /// public key, for an administrator to enroll.
    Init(InitArgs),
    /// Trust a node's public key: shard results it signs can then be merged.
    Enroll(EnrollArgs),
    /// Withdraw a node's enrolment for good: its shard results are refused from now on.
    Revoke(NameArgs),
    /// List the enrolled nodes (revoked ones too, marked).
    List,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The secret key file (default $XDG_CONFIG_HOME/vigie/node.ed25519, else
    /// ~/.config/vigie/node.ed25519); its public key goes in <KEY>.pub.
    #[arg(long, value_name = "PATH")]
    pub key: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("public").required(true).args(["public_key", "key_file"])))]
pub struct EnrollArgs {
    /// The node's name (1 to 64 letters, digits, '.', '_', '-').
    pub name: String,
    /// The node's public key, 64 hex digits (as `vigie node init` prints it).
    #[arg(long, value_name = "HEX")]
    pub public_key: Option<String>,
    /// A file holding the node's public key: the `.pub` file `vigie node init` wrote.
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct NameArgs {
    /// The node's name.
    pub name: String,
}

fn admin(global: &Global) -> anyhow::Result<Administration> {
    let app = App::from_env()?;
    let operator = Operator::from_flag(global.operator.as_deref())?;
    Ok(Administration::with_reason(
        &app,
        operator,
        global.reason.as_deref(),
    )?)
}

fn node_json(n: &EnrolledNode) -> serde_json::Value {
    serde_json::to_value(n).unwrap_or_default()
}

fn describe(n: &EnrolledNode) -> String {
    let mut s = format!(
        "{}  enrolled {} by {}",
        n.public_key,
        n.enrolled_at.format("%Y-%m-%d %H:%M UTC"),
        n.enrolled_by
    );
    if let Some(at) = n.revoked_at {
        s.push_str(&format!("  REVOKED {}", at.format("%Y-%m-%d %H:%M UTC")));
    }
    s
}

pub fn run(c: NodeCmd, global: &Global) -> anyhow::Result<Outcome> {
    match c {
        NodeCmd::Init(a) => {
            let path = a.key.unwrap_or_else(NodeKey::default_path);
            let existed = path.exists();
            let key = NodeKey::load_or_create(&path)?;
            if global.json {
                print_json(&json!({
                    "key": key.path(),
                    "public_key": key.public_hex(),
                    "created": !existed,
                }))?;
            } else {
                outln!(
                    "node key {} ({})",
                    key.path().display(),
                    if existed { "already there" } else { "created" }
                );
                outln!("public key {}", key.public_hex());
                outln!(
                    "an administrator enrolls it on the installation with `vigie node enroll NAME --public-key {}`",
                    key.public_hex()
                );
            }
        }
        NodeCmd::Enroll(a) => {
            let public = match (&a.public_key, &a.key_file) {
                (Some(hex), _) => nodes::parse_public_key(hex)?,
                (None, Some(path)) => nodes::read_public_key_file(path)?,
                (None, None) => anyhow::bail!("give --public-key HEX or --key-file PATH"),
            };
            let node = admin(global)?.enroll_node(&a.name, &public)?;
            if global.json {
                print_json(&json!({ "enrolled": node_json(&node) }))?;
            } else {
                outln!("node {} enrolled: key {}", node.name, node.public_key);
            }
        }
        NodeCmd::Revoke(a) => {
            admin(global)?.revoke_node(&a.name)?;
            if global.json {
                print_json(&json!({ "revoked": a.name }))?;
            } else {
                outln!(
                    "node {} revoked: its shard results are refused from now on",
                    a.name
                );
            }
        }
        NodeCmd::List => {
            let all = nodes::enrolled_nodes(&App::from_env()?)?;
            if global.json {
                print_json(&json!({ "nodes": all.iter().map(node_json).collect::<Vec<_>>() }))?;
            } else if all.is_empty() {
                outln!("no node enrolled: on a node, `vigie node init`; here, `vigie node enroll NAME --public-key HEX`");
            } else {
                let width = all.iter().map(|n| n.name.len()).max().unwrap_or(0);
                for n in &all {
                    outln!("{:<width$}  {}", n.name, describe(n));
                }
            }
        }
    }
    Ok(Outcome::Success)
}
