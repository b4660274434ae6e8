//! `rawflow clients add|list|revoke|share|shares|unshare`.

use serde_json::{json, Value};

use super::{print_json, print_table, s, CliError, Conn};

/// Options of `rawflow clients`.
#[derive(clap::Args, Debug)]
#[command(after_help = super::EXIT_HELP)]
pub struct ClientsArgs {
    #[command(subcommand)]
    command: ClientsCommand,
    #[command(flatten)]
    conn: Conn,
}

#[derive(clap::Subcommand, Debug)]
enum ClientsCommand {
    /// Add a client: prints its id, its token (shown only this once) and its gallery link.
    Add {
        /// The client's display name (shown on the gallery page).
        name: String,
        /// How long the gallery link stays valid (e.g. 30d, 12h).
        #[arg(long, default_value = "30d")]
        expires: String,
    },
    /// List the clients.
    List,
    /// Revoke a client: its token and all its gallery links stop working.
    Revoke {
        /// The client id.
        id: String,
    },
    /// Make a new gallery link for a client (older links keep working until revoked).
    Share {
        /// The client id.
        id: String,
        /// How long the link stays valid (e.g. 30d, 12h).
        #[arg(long, default_value = "30d")]
        expires: String,
    },
    /// List a client's gallery links.
    Shares {
        /// The client id.
        id: String,
    },
    /// Revoke one gallery link (by its share id, from `clients shares`).
    Unshare {
        /// The share id.
        share_id: String,
    },
}

fn check_id(id: &str, what: &str) -> Result<(), CliError> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(CliError::Usage(format!("{id:?} is not a {what}")));
    }
    Ok(())
}

fn share_rows(shares: &[Value]) -> Vec<Vec<String>> {
    shares
        .iter()
        .map(|sh| {
            let state = if !sh["revoked_at"].is_null() {
                "revoked"
            } else if sh["expired"].as_bool() == Some(true) {
                "expired"
            } else {
                "active"
            };
            vec![
                s(sh, "share_id"),
                state.to_string(),
                s(sh, "expires_at"),
                s(sh, "gallery_url"),
            ]
        })
        .collect()
}

/// Run `rawflow clients …`.
pub fn run(args: ClientsArgs) -> Result<(), CliError> {
    let api = args.conn.api()?;
    let json_out = args.conn.json;
    match args.command {
        ClientsCommand::Add { name, expires } => {
            let client = api.post("create client", "/v1/clients", &json!({ "name": name }))?;
            let id = s(&client, "client_id");
            let share = api.post(
                "create gallery link",
                &format!("/v1/clients/{id}/shares"),
                &json!({ "expires_in": expires }),
            )?;
            let out = json!({
                "client_id": id,
                "name": client["name"],
                "token": client["token"],
                "gallery_url": share["gallery_url"],
                "gallery_expires_at": share["expires_at"],
            });
            if json_out {
                print_json(&out);
            } else {
                println!("client_id    {id}");
                println!("name         {}", s(&client, "name"));
                println!("token        {}", s(&client, "token"));
                println!("gallery_url  {}", s(&share, "gallery_url"));
                println!("expires      {}", s(&share, "expires_at"));
                eprintln!(
                    "The token is shown only this once: the client uses it with `rawflow fetch`."
                );
            }
        }
        ClientsCommand::List => {
            let v = api.get("list clients", "/v1/clients")?;
            if json_out {
                print_json(&v);
            } else {
                let rows: Vec<Vec<String>> = v["clients"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|c| {
                        vec![
                            s(c, "client_id"),
                            s(c, "name"),
                            s(c, "created_at"),
                            if c["revoked_at"].is_null() {
                                "active".into()
                            } else {
                                format!("revoked {}", s(c, "revoked_at"))
                            },
                        ]
                    })
                    .collect();
                print_table(&["CLIENT", "NAME", "CREATED", "STATE"], &rows);
            }
        }
        ClientsCommand::Revoke { id } => {
            check_id(&id, "client id")?;
            let v = api.post(
                "revoke client",
                &format!("/v1/clients/{id}/revoke"),
                &json!({}),
            )?;
            if json_out {
                print_json(&v);
            } else {
                println!("revoked client {id}: its token and gallery links no longer work");
            }
        }
        ClientsCommand::Share { id, expires } => {
            check_id(&id, "client id")?;
            let v = api.post(
                "create gallery link",
                &format!("/v1/clients/{id}/shares"),
                &json!({ "expires_in": expires }),
            )?;
            if json_out {
                print_json(&v);
            } else {
                print_table(
                    &["SHARE", "STATE", "EXPIRES", "GALLERY_URL"],
                    &share_rows(&[v]),
                );
            }
        }
        ClientsCommand::Shares { id } => {
            check_id(&id, "client id")?;
            let v = api.get("list gallery links", &format!("/v1/clients/{id}/shares"))?;
            if json_out {
                print_json(&v);
            } else {
                let shares = v["shares"].as_array().cloned().unwrap_or_default();
                print_table(
                    &["SHARE", "STATE", "EXPIRES", "GALLERY_URL"],
                    &share_rows(&shares),
                );
            }
        }
        ClientsCommand::Unshare { share_id } => {
            check_id(&share_id, "share id")?;
            let v = api.post(
                "revoke gallery link",
                &format!("/v1/shares/{share_id}/revoke"),
                &json!({}),
            )?;
            if json_out {
                print_json(&v);
            } else {
                println!("revoked gallery link {share_id}");
            }
        }
    }
    Ok(())
}
