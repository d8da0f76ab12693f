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
    /// Manage agency upload tokens in the store directory.
    Token(TokenArgs),
    /// Upload a layer file to a server (for agencies).
    Upload(crate::client::UploadArgs),
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Store directory (uploaded layers, token hashes, audit log).
    #[arg(long, env = "AMIS_STORE", default_value = "./store", global = true)]
    pub store: PathBuf,
    #[command(subcommand)]
    pub action: TokenAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum TokenAction {
    /// Create a token for an agency; it is printed once and stored only as a hash.
    Create {
        /// The agency the token belongs to, e.g. "Geological Agency of Indonesia".
        #[arg(long)]
        agency: String,
        /// Layer ids the token may write, as globs, comma-separated (e.g. 'idn-*').
        #[arg(long, value_delimiter = ',', required = true)]
        layers: Vec<String>,
        /// Layers the agency may have published at once.
        #[arg(long, default_value_t = 20)]
        max_layers: u64,
        /// MiB of uploaded files kept for the agency (every kept version).
        #[arg(long, default_value_t = 5120)]
        max_stored_mb: u64,
        /// MiB of memory the agency's published layers may take once decoded.
        #[arg(long, default_value_t = 2048)]
        max_decoded_mb: u64,
    },
    /// List tokens (ids, agencies, scopes; never the tokens themselves).
    List,
    /// Revoke a token by its id.
    Revoke { id: String },
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
    /// Store directory: uploaded layers, token hashes, audit log.
    #[arg(long, env = "AMIS_STORE", default_value = "./store")]
    pub store: PathBuf,
    /// Largest upload accepted, in MiB.
    #[arg(long, env = "AMIS_MAX_UPLOAD_MB", default_value_t = 512)]
    pub max_upload_mb: u64,
    /// Most memory one uploaded layer may take once decoded, in MiB; a file is also held to
    /// 64 MiB plus 32 times its size, so a small file cannot decode to a huge layer.
    #[arg(long, env = "AMIS_MAX_LAYER_MB", default_value_t = 4096)]
    pub max_layer_mb: u64,
    /// Seconds an upload may take from its first byte to its answer: receiving the body,
    /// reading, checking and indexing the file (then 408 while receiving, 422 after).
    #[arg(long, env = "AMIS_UPLOAD_TIMEOUT_SECS", default_value_t = 300)]
    pub upload_timeout_secs: u64,
    /// Versions kept per uploaded layer.
    #[arg(long, env = "AMIS_KEEP_VERSIONS", default_value_t = 5)]
    pub keep_versions: usize,
    /// Believe X-Forwarded-Proto and X-Forwarded-Host (set this only behind a reverse proxy
    /// that sets them); documents then say `Vary` on them unless --public-url is given.
    #[arg(long, env = "AMIS_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// Requests answered at once; past this the server answers 503 with Retry-After.
    #[arg(long, env = "AMIS_MAX_IN_FLIGHT", default_value_t = 512)]
    pub max_in_flight: usize,
    /// Seconds a read may wait for its work, queueing included (then 503).
    #[arg(long, env = "AMIS_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Log every request at INFO (by default only requests slower than a second are; all
    /// are at DEBUG, and /metrics counts them).
    #[arg(long, env = "AMIS_ACCESS_LOG")]
    pub access_log: bool,
    /// Log format: `text` (one line per event) or `json` (one JSON object per line).
    #[arg(long, env = "AMIS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data: PathBuf::from("./data"),
            public_url: None,
            cache_mb: 256,
            store: PathBuf::from("./store"),
            max_upload_mb: 512,
            max_layer_mb: 4096,
            upload_timeout_secs: 300,
            keep_versions: 5,
            trust_proxy: false,
            max_in_flight: 512,
            request_timeout_secs: 30,
            access_log: false,
            log_format: LogFormat::Text,
        }
    }
}
