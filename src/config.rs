//! Command line and environment configuration.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "amis-webgis",
    version,
    about = "ASEAN Minerals Information System map tile and feature server"
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `serve`'s options also work without the subcommand, since serving is the default.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve tiles, OGC API Features and the web map (the default).
    Serve(ServeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "AMIS_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Directory holding layers.toml and the layer files.
    #[arg(long, env = "AMIS_DATA", default_value = "./data")]
    pub data: PathBuf,
    /// Public base URL (e.g. https://webgis.example.org) used in TileJSON and API links;
    /// without it, links are made from the request's Host and X-Forwarded-* headers.
    #[arg(long, env = "AMIS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Tile cache size in MiB; 0 disables the cache.
    #[arg(long, env = "AMIS_CACHE_MB", default_value_t = 256)]
    pub cache_mb: u64,
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data: PathBuf::from("./data"),
            public_url: None,
            cache_mb: 256,
        }
    }
}
