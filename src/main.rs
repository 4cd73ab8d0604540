//! The `mercato` command: `mercato serve` runs the shop back end; `seed` and
//! `users add` work offline on a data dir.

use std::net::SocketAddr;
use std::path::PathBuf;

use std::io::IsTerminal as _;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use mercato::core::Core;
use mercato::settings::{Overrides, Settings};
use mercato::{telemetry, Application};
use mercato_actors::account::Role;
use secrecy::ExposeSecret;

/// mimalloc instead of glibc malloc: allocation was ~11 % of the CPU of a
/// checkout under load (arenas contended across actor, HTTP and commit threads,
/// `malloc_consolidate`), and mimalloc returns freed pages to the system.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Fill a data dir with a demo catalog and stock (the server must be stopped).
    Seed(SeedArgs),
    /// Manage user accounts offline on a data dir (the server must be stopped).
    #[command(subcommand)]
    Users(UsersCommand),
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create a user, e.g. the first admin. The password is prompted for on a
    /// terminal, else read as the first line of stdin.
    Add(UsersAddArgs),
}

#[derive(clap::Args)]
struct UsersAddArgs {
    /// E-mail address (sign-in name).
    #[arg(long)]
    email: String,
    /// customer, operator or admin.
    #[arg(long, default_value = "customer", value_parser = parse_role)]
    role: Role,
    /// Display name.
    #[arg(long)]
    name: Option<String>,
    /// Directory of the database.
    #[arg(long, env = "MERCATO_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A TOML file layered over config/default.toml.
    #[arg(long)]
    config: Option<PathBuf>,
}

fn parse_role(name: &str) -> Result<Role, String> {
    Role::from_name(name).ok_or_else(|| format!("'{name}' is not a role: use customer, operator or admin"))
}

#[derive(clap::Args)]
struct SeedArgs {
    /// Products to create.
    #[arg(long, default_value_t = 1000)]
    products: usize,
    /// Generator seed: the same seed gives the same catalog, and reruns skip what exists.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Directory of the database.
    #[arg(long, env = "MERCATO_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A TOML file layered over config/default.toml.
    #[arg(long)]
    config: Option<PathBuf>,
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
    /// Static operator token, at least 16 characters (default: the one kept in the data dir).
    #[arg(long, env = "MERCATO_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Fill an empty data dir with the demo shop first (catalog, stock, a
    /// coupon, a promotion, a demo customer and admin).
    #[arg(long, env = "MERCATO_DEMO")]
    demo: bool,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let done = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Seed(args) => seed(args),
        Command::Users(UsersCommand::Add(args)) => add_user(args),
    };
    match done {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // One line with its causes, no backtrace: this is for people.
            eprintln!("error: {err:#}");
            if format!("{err:#}").contains("could not acquire lock") {
                eprintln!(
                    "hint: a running mercato holds this data dir; stop it first (SIGTERM), or use another --data-dir"
                );
            }
            std::process::ExitCode::FAILURE
        }
    }
}

/// The password from a prompt (terminal) or the first line of stdin.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let password = rpassword::prompt_password("password: ")?;
        let again = rpassword::prompt_password("password again: ")?;
        anyhow::ensure!(password == again, "the passwords differ");
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn add_user(args: UsersAddArgs) -> anyhow::Result<()> {
    let overrides = Overrides {
        data_dir: args.data_dir,
        ..Overrides::default()
    };
    let settings = Settings::load(args.config.as_deref(), overrides)?;
    telemetry::init(&settings.log);
    let password = read_password()?;
    actix_web::rt::System::new().block_on(async move {
        let core = Core::open(&settings).await?;
        let created = core.accounts.create(&args.email, password, args.name, args.role).await;
        core.shutdown().await?;
        let (user_id, profile) = created.context("cannot create the user")?;
        println!("created {} {} ({})", profile.role.name(), profile.email, user_id);
        Ok(())
    })
}

fn seed(args: SeedArgs) -> anyhow::Result<()> {
    let overrides = Overrides {
        data_dir: args.data_dir,
        ..Overrides::default()
    };
    let settings = Settings::load(args.config.as_deref(), overrides)?;
    telemetry::init(&settings.log);
    actix_web::rt::System::new().block_on(async move {
        let core = Core::open(&settings).await?;
        let started = std::time::Instant::now();
        let report = mercato::seed::seed(&core.catalog, &core.inventory, args.products, args.seed).await?;
        core.shutdown().await?;
        println!(
            "seeded {} categories and {} products ({} existed) in {:.1} s into {}",
            report.categories,
            report.products,
            report.skipped,
            started.elapsed().as_secs_f64(),
            settings.storage.data_dir.display()
        );
        Ok(())
    })
}

/// Fills an empty data dir with the demo shop and says how to sign in.
async fn demo(app: &Application) -> anyhow::Result<()> {
    use mercato::demo::{DEMO_ADMIN, DEMO_COUPON, DEMO_CUSTOMER};
    if !mercato::demo::fill(app.core()).await? {
        println!("demo: this data dir already holds a shop; nothing was added");
        return Ok(());
    }
    println!("demo shop ready: coupon {DEMO_COUPON}");
    println!("  customer: {} / {}", DEMO_CUSTOMER.0, DEMO_CUSTOMER.1);
    println!("  admin:    {} / {}", DEMO_ADMIN.0, DEMO_ADMIN.1);
    Ok(())
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let overrides = Overrides {
        bind: args.bind,
        data_dir: args.data_dir,
        admin_token: args.admin_token,
    };
    let settings = Settings::load(args.config.as_deref(), overrides)?;
    telemetry::init(&settings.log);
    let token_file = (settings.admin.token.expose_secret().is_empty())
        .then(|| settings.storage.data_dir.join(mercato::keys::OPERATOR_TOKEN_FILE));
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        if args.demo {
            demo(&app).await?;
        }
        if let Some(path) = token_file {
            println!("operator token (for the admin API): in {}", path.display());
        }
        println!("listening on http://{}", app.addr());
        app.run_until_stopped().await
    })
}
