//! The command line. Every failure comes back as one line naming its cause.
use crate::configuration::Settings;
use crate::domain::{EmailAddress, NewPassword, PersonName};
use crate::service::providers::{self, NewProvider, OrganizationChoice};
use crate::startup::{self, Application};
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;
use std::io::BufRead;

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
    if let Command::PrintSchema = cli.command {
        print!("{}", crate::graphql::sdl());
        return Ok(());
    }
    let settings = Settings::from_env()?;
    crate::telemetry::init(settings.log_format);
    match cli.command {
        Command::Serve { no_worker } => serve(settings, no_worker).await,
        Command::Worker => worker(settings).await,
        Command::Migrate => {
            let db = startup::connect_database(&settings).await?;
            startup::migrate(&db).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::CreateProvider(args) => create_provider(settings, args).await,
        Command::PrintSchema => unreachable!("handled above"),
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
    let app = Application::build_with(settings, options).await?;
    let url = format!("http://{}:{}", app.state().settings.bind.ip(), app.port());
    println!("portal-access listening on {url}");
    if graphiql {
        println!("GraphiQL playground: {url}/graphiql");
    }
    if embedded {
        println!("Embedded mode: SQLite database, in-process queue and limiter.");
        println!(
            "Create a provider to sign in with:\n  {} create-provider --organization \"My Practice\" --email you@example.com --name \"Your Name\"",
            command_prefix()
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
    let built = startup::build_state(settings, access::clock::system()).await?;
    let worker = startup::email_worker(&built.state, built.backend)?;
    tracing::info!("worker started");
    worker.run(startup::shutdown_signal()).await;
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
