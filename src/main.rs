//! The `mercato` command: `mercato serve` runs the shop back end.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use mercato::settings::{Overrides, Settings};
use mercato::{telemetry, Application};
use secrecy::ExposeSecret;

/// Mercato: an actor-based commerce runtime.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API.
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "MERCATO_BIND")]
    bind: Option<SocketAddr>,
    /// Directory of the database.
    #[arg(long, env = "MERCATO_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A TOML file layered over config/default.toml.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Static operator token (generated and printed if unset).
    #[arg(long, env = "MERCATO_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let token_was_given = args.admin_token.as_deref().is_some_and(|t| !t.is_empty());
    let overrides = Overrides {
        bind: args.bind,
        data_dir: args.data_dir,
        admin_token: args.admin_token,
    };
    let settings = Settings::load(args.config.as_deref(), overrides)?;
    telemetry::init(&settings.log);
    let token_in_config = !settings.admin.token.expose_secret().is_empty();
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        if !token_was_given && !token_in_config {
            println!("operator token (shown once): {}", app.admin_token().expose_secret());
        }
        println!("listening on http://{}", app.addr());
        app.run_until_stopped().await
    })
}
