//! Configuration: the command line, with every setting also read from the environment.

use clap::{Parser, Subcommand, ValueEnum};
use provider_postgres_adapter::PgConfig;
use std::time::Duration;

/// The Service Provider API server.
#[derive(Debug, Parser)]
#[command(name = "provider-api", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings shared by every command.
    #[command(flatten)]
    pub common: Common,
}

/// Settings every command uses.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// PostgreSQL URL; when unset the API serves from memory and nothing is persisted.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", default_value = "pretty", global = true)]
    pub log_format: LogFormat,
    /// Most connections in the PostgreSQL pool.
    #[arg(long, env = "DATABASE_POOL_SIZE", default_value_t = PgConfig::DEFAULT_POOL_SIZE, global = true)]
    pub database_pool_size: usize,
    /// Milliseconds a request waits for a pooled connection before answering 503.
    #[arg(
        long,
        env = "DATABASE_ACQUIRE_TIMEOUT_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub database_acquire_timeout_ms: u64,
    /// PostgreSQL `statement_timeout` of each connection, in milliseconds (0: none).
    #[arg(
        long,
        env = "DATABASE_STATEMENT_TIMEOUT_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub database_statement_timeout_ms: u64,
}

impl Common {
    /// The PostgreSQL settings, when a database is configured.
    pub fn pg_config(&self) -> Option<PgConfig> {
        self.database_url.as_ref().map(|url| PgConfig {
            url: url.clone(),
            pool_size: self.database_pool_size,
            acquire_timeout: Duration::from_millis(self.database_acquire_timeout_ms),
            statement_timeout: Duration::from_millis(self.database_statement_timeout_ms),
        })
    }
}

/// The commands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations to DATABASE_URL, then exit.
    Migrate,
    /// Add deterministic synthetic data to DATABASE_URL (migrating it first).
    Seed(crate::seed::SeedArgs),
    /// Print EXPLAIN (ANALYZE, BUFFERS) of the SQL a search or recommend body makes.
    Explain(ExplainArgs),
}

/// Settings of `serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one; the log says which).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "WORKERS")]
    pub workers: Option<usize>,
    /// Apply pending migrations before serving (with DATABASE_URL).
    #[arg(long, env = "MIGRATE_ON_START", default_value_t = true, action = clap::ArgAction::Set)]
    pub migrate_on_start: bool,
    /// Seconds in-flight requests get to finish after SIGINT/SIGTERM.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,
}

impl Default for ServeArgs {
    fn default() -> Self {
        // Parse from the environment alone, as `provider-api` with no subcommand does.
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            serve: ServeArgs,
        }
        Only::parse_from(["provider-api"]).serve
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line (for log shippers).
    Json,
    /// Human-readable lines.
    Pretty,
}

/// Settings of `explain`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExplainArgs {
    /// Which route's query.
    pub kind: ExplainKind,
    /// The request body, as JSON (e.g. '{"skills": ["skill-3"], "cost_lt": 50000}').
    pub body: String,
    /// Page number.
    #[arg(long, default_value_t = 1)]
    pub page: i64,
    /// Page size.
    #[arg(long, default_value_t = 10)]
    pub page_size: i64,
}

/// The queries `explain` can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainKind {
    /// `POST /v1_0/service-providers`.
    Search,
    /// `POST /v1_0/service-providers/recommend`.
    Recommend,
}
