use clap::Parser;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

use amis_webgis::auth::{Quota, TokenStore};
use amis_webgis::config::{Cli, Command, LogFormat, TokenAction, TokenArgs};

/// mimalloc rather than glibc's allocator: tile encoding and GeoJSON pages allocate many
/// small strings per feature, and glibc spent a third of an `items` request in malloc/free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let format = match &cli.command {
        Some(Command::Serve(args)) => args.log_format,
        None => cli.serve.log_format,
        _ => LogFormat::Text,
    };
    // `RUST_LOG` as level directives (`info`, `amis_webgis=debug,tower_http=warn`).
    let (filter, bad_filter) = match std::env::var("RUST_LOG") {
        Ok(spec) => match spec.parse::<Targets>() {
            Ok(targets) => (targets, None),
            Err(e) => (
                Targets::new().with_default(tracing::Level::INFO),
                Some(format!("RUST_LOG={spec:?} ignored: {e}")),
            ),
        },
        Err(_) => (Targets::new().with_default(tracing::Level::INFO), None),
    };
    let logs = tracing_subscriber::fmt::layer().with_target(false);
    match format {
        // One JSON object per line, for log collectors.
        LogFormat::Json => tracing_subscriber::registry()
            .with(logs.json().flatten_event(true))
            .with(filter)
            .init(),
        // Colour codes only on a terminal; log files get plain text.
        LogFormat::Text => tracing_subscriber::registry()
            .with(logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout())))
            .with(filter)
            .init(),
    }
    if let Some(warning) = bad_filter {
        tracing::warn!("{warning}");
    }
    let result = match cli.command {
        Some(Command::Serve(args)) => amis_webgis::server::serve(args).await,
        Some(Command::Token(args)) => token(args),
        Some(Command::Upload(args)) => amis_webgis::client::upload(args).map_err(Into::into),
        None => amis_webgis::server::serve(cli.serve).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `amis-webgis token ...`: prints results on stdout, for people and scripts.
fn token(args: TokenArgs) -> Result<(), Box<dyn std::error::Error>> {
    let mut store = TokenStore::open(&args.store)?;
    match args.action {
        TokenAction::Create {
            agency,
            layers,
            max_layers,
            max_stored_mb,
            max_decoded_mb,
        } => {
            let quota = Quota {
                layers: max_layers,
                stored_bytes: max_stored_mb.saturating_mul(1 << 20),
                decoded_bytes: max_decoded_mb.saturating_mul(1 << 20),
            };
            let (record, token) = store.create_with(&agency, &layers, quota)?;
            println!("token id: {}", record.id);
            println!("agency:   {}", record.agency);
            println!("layers:   {}", record.scopes.join(", "));
            println!(
                "quota:    {max_layers} layers, {max_stored_mb} MiB stored, {max_decoded_mb} MiB decoded"
            );
            println!("token:    {token}");
            println!(
                "Keep the token secret and give it to the agency now: it is stored only as a hash and cannot be shown again."
            );
        }
        TokenAction::List => {
            for t in store.tokens() {
                let status = t
                    .revoked
                    .as_deref()
                    .map_or("active".to_string(), |r| format!("revoked {r}"));
                println!(
                    "{}  {}  [{}]  created {}  {}",
                    t.id,
                    t.agency,
                    t.scopes.join(", "),
                    t.created,
                    status
                );
            }
        }
        TokenAction::Revoke { id } => {
            let record = store.revoke(&id)?;
            println!("revoked token {} of {}", record.id, record.agency);
        }
    }
    Ok(())
}
