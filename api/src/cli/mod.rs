//! The command line. Every failure comes back as one line naming its cause.
use crate::configuration::{LogFormat, Settings};
use crate::domain::{EmailAddress, NewPassword, PersonName};
use crate::service::providers::{self, NewProvider, OrganizationChoice};
use crate::startup::{self, Application, WorkerProcess};
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;
use std::io::BufRead;

mod healthcheck;
pub mod process;

/// portal-access: invite clients to the client portal and get them signed in.
#[derive(Parser, Debug)]
#[command(name = "portal", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the GraphQL API (and run a worker in the same process unless --no-worker).
    Serve {
        /// Serve only; run workers separately with `portal worker`.
        #[arg(long)]
        no_worker: bool,
    },
    /// Run background work only; start as many as needed.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an organization's provider (the first one bootstraps the organization).
    CreateProvider(CreateProviderArgs),
    /// Print the GraphQL schema (SDL) to standard output.
    PrintSchema,
    /// Ask the local /readyz (of BIND, or WORKER_BIND with --worker): exit 0 when
    /// ready, 1 otherwise. For container health checks.
    Healthcheck {
        /// Ask this URL instead (http:// only), e.g. http://127.0.0.1:8000/readyz.
        #[arg(long)]
        url: Option<String>,
        /// Ask the worker's endpoints on WORKER_BIND.
        #[arg(long, conflicts_with = "url")]
        worker: bool,
    },
}

/// Who to create. The password is never taken from the command line.
#[derive(Args, Debug)]
pub struct CreateProviderArgs {
    /// Name of a new organization (practice) to create.
    #[arg(
        long,
        required_unless_present = "organization_id",
        conflicts_with = "organization_id"
    )]
    pub organization: Option<String>,
    /// Add the provider to this existing organization instead.
    #[arg(long)]
    pub organization_id: Option<uuid::Uuid>,
    /// The provider's sign-in email.
    #[arg(long)]
    pub email: String,
    /// The provider's display name.
    #[arg(long)]
    pub name: String,
    /// Read the password from the first line of standard input instead of a prompt.
    #[arg(long)]
    pub password_stdin: bool,
}

/// Runs one command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::PrintSchema => {
            print!("{}", crate::graphql::sdl());
            return Ok(());
        }
        // Light on purpose: no settings beyond the address, no database.
        Command::Healthcheck { url, worker } => {
            return healthcheck::check(&healthcheck::target(url, worker)?).await;
        }
        _ => {}
    }
    let settings = Settings::from_env()?;
    crate::telemetry::init(settings.log_format);
    let json = settings.log_format == LogFormat::Json;
    match cli.command {
        Command::Serve { no_worker } => serve(settings, no_worker).await,
        Command::Worker => worker(settings).await,
        Command::Migrate => {
            let db = startup::connect_database(&settings).await?;
            startup::migrate(&db).await?;
            say(json, "migrations applied");
            Ok(())
        }
        Command::CreateProvider(args) => create_provider(settings, args).await,
        Command::PrintSchema | Command::Healthcheck { .. } => unreachable!("handled above"),
    }
}

/// A line for the operator on standard output, whatever `RUST_LOG` filters: as
/// written, or with `LOG_FORMAT=json` as a log line's `message`, so that stdout
/// holds nothing but JSON.
fn say(json: bool, line: &str) {
    if json {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let event = serde_json::json!({
            "timestamp": now,
            "level": "INFO",
            "target": "portal",
            "message": line,
        });
        println!("{event}");
    } else {
        println!("{line}");
    }
}

async fn serve(settings: Settings, no_worker: bool) -> anyhow::Result<()> {
    let embedded = settings.is_sqlite() && settings.redis_url.is_none();
    let graphiql = settings.graphiql;
    if embedded && no_worker {
        eprintln!(
            "warning: embedded mode keeps its email queue in this process; with --no-worker no email is sent"
        );
    }
    let options = startup::Options {
        worker: !no_worker,
        ..Default::default()
    };
    let json = settings.log_format == LogFormat::Json;
    let app = Application::build_with(settings, options).await?;
    let url = format!("http://{}:{}", app.state().settings.bind.ip(), app.port());
    say(json, &format!("portal-access listening on {url}"));
    if graphiql {
        say(json, &format!("GraphiQL playground: {url}/graphiql"));
    }
    if embedded {
        say(
            json,
            "Embedded mode: SQLite database, in-process queue and limiter.",
        );
        say(
            json,
            &format!(
                "Create a provider to sign in with:\n  {} create-provider --organization \"My Practice\" --email you@example.com --name \"Your Name\"",
                command_prefix()
            ),
        );
    }
    app.run_until_stopped().await?;
    Ok(())
}

/// How the reader runs this binary: `cargo run -p portal-api --` when it was built in a
/// cargo target directory (a source checkout), `portal` once installed on the `PATH`.
fn command_prefix() -> &'static str {
    let in_target_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(".fingerprint").is_dir()))
        .unwrap_or(false);
    if in_target_dir {
        "cargo run -p portal-api --"
    } else {
        "portal"
    }
}

async fn worker(settings: Settings) -> anyhow::Result<()> {
    if settings.redis_url.is_none() {
        eprintln!(
            "warning: without REDIS_URL this worker cannot see jobs pushed by `portal serve`; it only sweeps the outbox"
        );
    }
    let json = settings.log_format == LogFormat::Json;
    let ip = settings.worker_bind.ip();
    let worker = WorkerProcess::build(settings).await?;
    let url = format!("http://{ip}:{}", worker.port());
    say(
        json,
        &format!("portal worker started; health and metrics on {url}"),
    );
    worker.run_until_stopped().await?;
    Ok(())
}

fn read_password(from_stdin: bool) -> anyhow::Result<SecretString> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let trimmed = line.trim_end_matches(['\r', '\n']).to_owned();
        return Ok(SecretString::from(trimmed));
    }
    let first = rpassword::prompt_password("Password: ")?;
    let again = rpassword::prompt_password("Repeat password: ")?;
    anyhow::ensure!(first == again, "the two passwords differ");
    Ok(SecretString::from(first))
}

async fn create_provider(settings: Settings, args: CreateProviderArgs) -> anyhow::Result<()> {
    let email =
        EmailAddress::parse(&args.email, "email").map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let name = PersonName::parse(&args.name, "name").map_err(|e| anyhow::anyhow!("--name: {e}"))?;
    let organization = match (args.organization, args.organization_id) {
        (_, Some(id)) => OrganizationChoice::Existing(id),
        (Some(org), None) => OrganizationChoice::New {
            name: PersonName::parse(&org, "organization")
                .map_err(|e| anyhow::anyhow!("--organization: {e}"))?
                .into_inner(),
        },
        (None, None) => anyhow::bail!("--organization or --organization-id is required"),
    };
    let secret = read_password(args.password_stdin)?;
    let password = NewPassword::parse(secret, &[email.as_str(), name.as_str()]).map_err(|e| {
        let advice = e.suggestions.join(" ");
        anyhow::anyhow!("password refused: {} {advice}", e.message)
    })?;
    let state = startup::build_state(settings, access::clock::system())
        .await?
        .state;
    let (org, provider) = providers::create_provider(
        &state.db,
        &state.passwords,
        NewProvider {
            organization,
            email,
            name,
            password,
        },
    )
    .await?;
    println!(
        "Created provider {} <{}> in organization \"{}\" ({}).",
        provider.name, provider.email, org.name, org.id
    );
    Ok(())
}
