//! The command line: `serve`, `migrate`, `check-config`, `keygen`,
//! `admin reset-password`, `users disable`, `healthcheck`, `version`.

// The command line talks to its operator on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::BootMode;
use crate::config::{Config, LogFormat};

#[derive(Parser)]
#[command(
    name = "asgard",
    version,
    about = "Asgard: a governed control plane for AI agents"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on (default: ASGARD_BIND or 0.0.0.0:8080).
        #[arg(long)]
        bind: Option<String>,
        /// Config file (default: ASGARD_CONFIG, or ./asgard.yaml if present).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Run database migrations and exit.
    Migrate {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Validate the configuration and print it with secrets redacted.
    CheckConfig {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print a fresh 64-hex master key.
    Keygen,
    /// Administrative actions that work directly on the database.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// User administration that works directly on the database.
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Exit 0 if URL/readyz answers `ready` (for container health checks).
    Healthcheck {
        #[arg(default_value = "http://127.0.0.1:8080")]
        url: String,
    },
    /// Re-seal every secret, Terraform state and run log under
    /// ASGARD_NEW_SECRET_KEY (the current key stays in ASGARD_SECRET_KEY or
    /// the SQLite key file). Stop the servers first.
    RotateKey {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print the version.
    Version,
}

#[derive(Subcommand)]
pub enum AdminAction {
    /// Set a new generated password for USER (default: the bootstrap admin) and print it.
    ResetPassword {
        user: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum UsersAction {
    /// Disable USER (username or email): end their sessions, revoke their
    /// personal access tokens, and list the project keys they minted (those
    /// keep working; revoke them through the API if needed).
    Disable {
        user: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

fn env_map() -> HashMap<String, String> {
    std::env::vars().collect()
}

fn load(bind: Option<String>, config: Option<PathBuf>) -> anyhow::Result<Config> {
    Config::load(&env_map(), bind, config).map_err(|e| anyhow::anyhow!("configuration error: {e}"))
}

fn init_tracing(filter: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => b.json().init(),
        LogFormat::Text => b.init(),
    }
}

pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("asgard: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("asgard: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    use std::process::ExitCode;
    match cli.command {
        Command::Serve { bind, config } => {
            let cfg = load(bind, config)?;
            init_tracing(&cfg.log_filter, cfg.log_format);
            serve(cfg).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { config } => {
            let cfg = load(None, config)?;
            init_tracing(&cfg.log_filter, cfg.log_format);
            let (app, _) = crate::app::App::build(cfg, BootMode::Maintenance).await?;
            app.store.close().await;
            println!("migrations applied ({})", app.store.engine().as_str());
            // Say where the admin comes from, so nobody hunts for a password here.
            eprintln!(
                "note: `asgard serve` creates the bootstrap admin on its first boot and prints its one-time password there"
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig { config } => {
            let cfg = load(None, config)?;
            println!("{}", serde_json::to_string_pretty(&cfg.redacted_summary())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Keygen => {
            println!(
                "{}",
                crate::secrets::MasterKey::generate().to_hex().as_str()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin {
            action: AdminAction::ResetPassword { user, config },
        } => {
            let cfg = load(None, config)?;
            let username = user.unwrap_or_else(|| cfg.admin_user.clone());
            let (app, _) = crate::app::App::build(cfg, BootMode::Maintenance).await?;
            let row = crate::auth::users::by_login(&app.store, &username)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?
                .with_context(|| {
                    format!("no user `{username}` (the bootstrap admin is created by the first `asgard serve`)")
                })?;
            let pw = crate::auth::password::generate();
            crate::auth::users::set_password(&app.store, &row.id, pw.clone(), None, None, false)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            app.store.close().await;
            eprintln!("password reset; username: {} password: {pw}", row.username);
            Ok(ExitCode::SUCCESS)
        }
        Command::Users {
            action: UsersAction::Disable { user, config },
        } => {
            let cfg = load(None, config)?;
            users_disable(cfg, &user).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Healthcheck { url } => Ok(healthcheck(&url).await),
        Command::RotateKey { config } => {
            let cfg = load(None, config)?;
            init_tracing(&cfg.log_filter, cfg.log_format);
            rotate_key(cfg).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Version => {
            println!("asgard {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(cfg: Config) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let bind = cfg.bind.clone();
    let (app, notes) = crate::app::App::build(cfg, BootMode::Serve).await?;
    // After the build: the database URL may have come from Secrets Manager.
    let mode = format!(
        "store={} provisioning={} oidc={}",
        if app.config.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        },
        if app.config.terraform.is_some() {
            "armed"
        } else {
            "unarmed"
        },
        if app.config.oidc.is_some() {
            "on"
        } else {
            "off"
        }
    );
    if let Some(pw) = notes.generated_admin_password {
        // Printed once, straight to stderr and never through the log stream.
        eprintln!(
            "asgard: bootstrap admin created; record these credentials now, they are not shown again: username: {} password: {pw}",
            app.config.admin_user
        );
    }
    if let Some(p) = notes.generated_key_file {
        tracing::warn!(key_file = %p.display(), "generated a new master key file; back it up together with the database");
    }
    if app.config.terraform.is_none() {
        warn_unarmed(&app).await;
    }
    // Before anyone can know we listen: a stop from then on must drain.
    let stop = crate::server::shutdown_signal();
    let server = crate::server::Server::bind(app, &bind).await?;
    let addr = server.local_addr()?;
    tracing::info!(
        boot_ms = started.elapsed().as_millis() as u64,
        "listening on {addr} ({mode})"
    );
    server.run_until_stopped(stop).await?;
    tracing::info!("stopped");
    Ok(())
}

/// An unarmed replica beside provisioned resources refuses to change them
/// and leaves their destroys to an armed one; say so at boot, so an operator
/// who forgot `ASGARD_TF_MODULES_DIR` finds out before an agent does.
async fn warn_unarmed(app: &crate::app::App) {
    match crate::provisioning::query::provisioned_count(app.provisioner()).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            provisioned_resources = n,
            "provisioning is NOT armed on this replica, but the database holds {n} provisioned resource(s): changes to them are refused here and their destroys wait for an armed replica; set ASGARD_TF_MODULES_DIR to arm it"
        ),
        Err(e) => tracing::warn!(error = %e, "counting provisioned resources failed"),
    }
}

/// `asgard rotate-key`: re-seal under ASGARD_NEW_SECRET_KEY. With a SQLite
/// key file the new key is staged (mode 0600) before the database changes and
/// moved into place after the commit, so at no point is the only copy of the
/// key in use missing or world-readable.
async fn rotate_key(cfg: Config) -> anyhow::Result<()> {
    let new = cfg.new_secret_key.clone().context(
        "set ASGARD_NEW_SECRET_KEY to the new 64-hex key (generate one with `asgard keygen`)",
    )?;
    let new = crate::secrets::MasterKey::from_hex(new.expose())
        .map_err(|m| anyhow::anyhow!("ASGARD_NEW_SECRET_KEY: {m}"))?;
    let (app, _) = crate::app::App::build(cfg, BootMode::Maintenance).await?;
    if new.fingerprint() == app.master_key.fingerprint() {
        app.store.close().await;
        anyhow::bail!("ASGARD_NEW_SECRET_KEY is the key already in use; nothing to rotate");
    }
    let staged = match &app.key_file {
        Some(path) => Some(
            new.stage_file(path)
                .with_context(|| format!("writing the new key beside {}", path.display()))?,
        ),
        None => None,
    };
    let done = crate::secrets::rotate::rotate(&app.store, &app.master_key, &new)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"));
    app.store.close().await;
    let done = done?;
    match (staged, &app.key_file) {
        (Some(staged), Some(path)) => {
            staged.commit().with_context(|| {
                format!(
                    "the database now uses the new key, but moving it into {} failed; write ASGARD_NEW_SECRET_KEY into that file (mode 0600) before the next start",
                    path.display()
                )
            })?;
            eprintln!(
                "rotated; the key file {} now holds the new key",
                path.display()
            );
        }
        _ => eprintln!("rotated; restart every replica with ASGARD_SECRET_KEY set to the new key"),
    }
    println!(
        "re-sealed {} secrets, {} terraform states, {} run logs",
        done.secrets, done.states, done.run_logs
    );
    Ok(())
}

/// `asgard users disable USER`: the same change as `PATCH /api/users/{id}
/// {"active": false}` (last-admin protection included), audited as
/// `system:cli`. Prints what it revoked and the project keys left working.
async fn users_disable(cfg: Config, login: &str) -> anyhow::Result<()> {
    use crate::auth::users;
    let (app, _) = crate::app::App::build(cfg, BootMode::Maintenance).await?;
    let done = async {
        let row = users::by_login(&app.store, login)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message()))?
            .with_context(|| format!("no user `{login}`"))?;
        let patch = users::UserPatch {
            active: Some(false),
            ..Default::default()
        };
        users::apply(&app.store, users::Actor::Cli, &row.id, patch)
            .await
            .map_err(|e| anyhow::anyhow!("{} ({})", e.message(), e.hint()))
    }
    .await;
    app.store.close().await;
    let done = done?;
    let d = done.disabled.context("the user was not disabled")?;
    println!(
        "disabled {}: {} sessions ended, {} personal access tokens revoked",
        done.user.username, d.sessions_ended, d.tokens_revoked
    );
    if d.project_keys.is_empty() {
        println!("no project keys minted by this user are still active");
    } else {
        println!(
            "{} project keys minted by this user keep working:",
            d.project_keys.len()
        );
        for k in &d.project_keys {
            println!(
                "  project {} key {} ({}, {:?}) minted {}",
                k.project_id,
                k.id,
                k.prefix,
                k.name,
                k.created_at.to_rfc3339()
            );
        }
        println!("{}", crate::auth::offboard::KEYS_HINT);
    }
    Ok(())
}

/// Minimal HTTP/1.1 GET of `/readyz` over a plain TCP socket, so container
/// images need no curl.
async fn healthcheck(url: &str) -> std::process::ExitCode {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url
        .strip_prefix("http://")
        .unwrap_or(url)
        .trim_end_matches('/');
    let host = rest.split('/').next().unwrap_or(rest).to_string();
    let attempt = async {
        let mut s = tokio::net::TcpStream::connect(&host).await.ok()?;
        let req = format!("GET /readyz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.ok()?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.ok()?;
        Some(String::from_utf8_lossy(&buf).into_owned())
    };
    match tokio::time::timeout(std::time::Duration::from_secs(5), attempt).await {
        Ok(Some(resp)) if resp.starts_with("HTTP/1.1 200") && resp.ends_with("ready") => {
            std::process::ExitCode::SUCCESS
        }
        _ => {
            eprintln!("asgard healthcheck: {url}/readyz is not ready");
            std::process::ExitCode::FAILURE
        }
    }
}
