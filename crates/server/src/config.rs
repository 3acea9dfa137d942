//! Configuration: the command line, with every setting also read from the environment.

use clap::{Parser, Subcommand, ValueEnum};
use provider_domain::{Blocklist, ModerationSettings, PublishMode, ScreenSettings, UserId};
use provider_http::{
    Authentication, HttpSettings, JwtKey, JwtSettings, JwtVerifier, RedisRateLimits,
    RedisRateLimitsError,
};
use provider_postgres_adapter::PgConfig;
use std::num::NonZeroU32;
use std::path::PathBuf;
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
    /// PostgreSQL URL of a streaming replica: reads go to it when it is fresh enough, writes
    /// to DATABASE_URL.
    #[arg(long, env = "DATABASE_READ_URL", global = true, hide_env_values = true)]
    pub database_read_url: Option<String>,
    /// How old the data an anonymous read gets from the replica may be, in milliseconds; past
    /// it, reads go to the primary.
    #[arg(
        long,
        env = "MAX_REPLICA_LAG_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub max_replica_lag_ms: u64,
}

impl Common {
    /// The PostgreSQL settings, when a database is configured.
    pub fn pg_config(&self) -> Option<PgConfig> {
        self.database_url.as_ref().map(|url| PgConfig {
            url: url.clone(),
            pool_size: self.database_pool_size,
            acquire_timeout: Duration::from_millis(self.database_acquire_timeout_ms),
            statement_timeout: Duration::from_millis(self.database_statement_timeout_ms),
            read_url: self
                .database_read_url
                .clone()
                .filter(|read_url| !read_url.trim().is_empty()),
            max_replica_lag: Duration::from_millis(self.max_replica_lag_ms),
        })
    }
}

/// The commands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve(Box<ServeArgs>),
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
    /// The secret search and review-list cursors are signed with (at least 32 bytes; the same
    /// in every process of a deployment). Unset: a key drawn at start, so a cursor is refused
    /// by other processes and after a restart.
    #[arg(long, env = "CURSOR_SECRET", hide_env_values = true)]
    pub cursor_secret: Option<String>,
    /// How callers prove who they are.
    #[arg(long, env = "AUTH_MODE", default_value = "header")]
    pub auth_mode: AuthMode,
    /// jwt mode: the HS256 shared secret (at least 32 bytes).
    #[arg(long, env = "JWT_HS256_SECRET", hide_env_values = true)]
    pub jwt_hs256_secret: Option<String>,
    /// jwt mode: a PEM public key file (SPKI; RSA for RS256, EC P-256 for ES256).
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    /// jwt mode: a JWKS file; each token's `kid` picks its key.
    #[arg(long, env = "JWT_JWKS_FILE")]
    pub jwt_jwks_file: Option<PathBuf>,
    /// jwt mode: the required `iss` claim (unset: not checked).
    #[arg(long, env = "JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// jwt mode: the required audience in `aud` (unset: not checked).
    #[arg(long, env = "JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Requests per minute per caller (user, else client address); 0 turns limits off.
    #[arg(long, env = "RATE_LIMIT_PER_MINUTE", default_value_t = 0)]
    pub rate_limit_per_minute: u32,
    /// Redis URL (`redis://[user:password@]host[:port][/db]`): the rate-limit buckets live there,
    /// shared by every process naming the same Redis (unset: in each process).
    #[arg(long, env = "RATE_LIMIT_REDIS_URL", hide_env_values = true)]
    pub rate_limit_redis_url: Option<String>,
    /// Milliseconds Redis gets to decide a request's rate limit; past it (or on an error) the
    /// request is served unlimited and counted.
    #[arg(long, env = "RATE_LIMIT_REDIS_TIMEOUT_MS", default_value_t = RedisRateLimits::DEFAULT_TIMEOUT.as_millis() as u64)]
    pub rate_limit_redis_timeout_ms: u64,
    /// Take the client address from the first X-Forwarded-For entry (only behind a proxy that
    /// sets it).
    #[arg(long, env = "TRUST_FORWARDED_FOR", default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_forwarded_for: bool,
    /// Requests served at once; more are answered 503 at once (load shedding).
    #[arg(long, env = "MAX_IN_FLIGHT", default_value_t = HttpSettings::DEFAULT_MAX_IN_FLIGHT)]
    pub max_in_flight: usize,
    /// Serve `GET /metrics` only on this port (same HOST; 0 picks a free one, logged) instead
    /// of on the API's port.
    #[arg(long, env = "METRICS_PORT")]
    pub metrics_port: Option<u16>,
    /// Time and count requests and store operations and serve `GET /metrics`; `false` turns
    /// both off (and METRICS_PORT is then ignored).
    #[arg(long, env = "METRICS_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub metrics_enabled: bool,
    /// The claim of a JWT holding the caller's roles (an array of strings); `moderator` among
    /// them makes the caller a moderator of reviews.
    #[arg(long, env = "JWT_ROLES_CLAIM", default_value = provider_http::DEFAULT_ROLES_CLAIM)]
    pub jwt_roles_claim: String,
    /// Users who moderate reviews, comma-separated UUIDs (in either identity mode).
    #[arg(long, env = "MODERATOR_IDS", value_delimiter = ',')]
    pub moderator_ids: Vec<uuid::Uuid>,
    /// The operator's terms that hold a review for a moderator: a UTF-8 file, one term per
    /// line, `#` starts a comment line. The server refuses to start on an unreadable file.
    #[arg(long, env = "MODERATION_BLOCKLIST_FILE")]
    pub moderation_blocklist_file: Option<PathBuf>,
    /// Hold reviews whose comment holds profanity (English, with its evasions).
    #[arg(long, env = "MODERATION_PROFANITY", default_value_t = true, action = clap::ArgAction::Set)]
    pub moderation_profanity: bool,
    /// `auto`: a comment the screen passes is published at once; `manual`: every review with a
    /// comment waits for a moderator.
    #[arg(long, env = "MODERATION_PUBLISH", default_value = "auto")]
    pub moderation_publish: PublishSetting,
    /// Open flags from this many distinct users hold a published review for a moderator.
    #[arg(long, env = "MODERATION_FLAGS_TO_HOLD", default_value_t = ModerationSettings::DEFAULT_FLAGS_TO_HOLD.get())]
    pub moderation_flags_to_hold: u32,
    /// Days the change feed (`GET /v1_0/events`) keeps its events; older ones are removed
    /// (asking after one is 410). At least 1.
    #[arg(long, env = "EVENTS_RETENTION_DAYS", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub events_retention_days: u32,
    /// A NATS server with JetStream to publish the change feed to, each event once in feed
    /// order (`nats://host:4222`); unset: the feed is only read through `GET /v1_0/events`.
    #[arg(long, env = "EVENTS_NATS_URL")]
    pub events_nats_url: Option<String>,
    /// The JetStream stream the events go to (created when missing, keeping messages
    /// `EVENTS_RETENTION_DAYS`).
    #[arg(long, env = "EVENTS_NATS_STREAM", default_value = "PROVIDER_EVENTS")]
    pub events_nats_stream: String,
    /// The subjects' prefix: an event is published on `<prefix>.<type>`, e.g.
    /// `provider_api.events.review.created`.
    #[arg(
        long,
        env = "EVENTS_NATS_SUBJECT",
        default_value = "provider_api.events"
    )]
    pub events_nats_subject: String,
    /// On PostgreSQL, where `get`, `search` and `recommend` are answered: `memory`, an
    /// in-process read model loaded at start and kept exact from the change feed, or `off`,
    /// the database's own statements. Ignored on the in-memory store.
    #[arg(long, env = "READ_MODEL", value_enum, default_value_t = ReadModelSetting::Memory)]
    pub read_model: ReadModelSetting,
    /// How stale (in milliseconds) the read model may be for an anonymous read; 0 makes every
    /// read wait until the model holds every write acknowledged before it began. Identified
    /// callers' reads always wait.
    #[arg(long, env = "MAX_READ_MODEL_LAG_MS", default_value_t = 0)]
    pub max_read_model_lag_ms: u64,
}

/// `READ_MODEL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReadModelSetting {
    /// Search, recommend and get answered from an in-process model of the providers.
    Memory,
    /// Every read answered by the database.
    Off,
}

/// `MODERATION_PUBLISH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PublishSetting {
    /// Publish what the screen passes.
    Auto,
    /// Hold every review with a comment for a moderator.
    Manual,
}

/// Why the moderation settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ModerationConfigError {
    /// The blocklist file cannot be read (or is not UTF-8).
    #[error("cannot read MODERATION_BLOCKLIST_FILE {path}: {source}")]
    Blocklist {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// No number of flags of 0 makes sense.
    #[error("MODERATION_FLAGS_TO_HOLD must be at least 1")]
    NoFlagsToHold,
}

/// How callers prove who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// The `user-id` header, as set by a gateway in front of the API.
    Header,
    /// A verified JWT in `Authorization: Bearer`.
    Jwt,
}

/// Why the identity and limit settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SecurityConfigError {
    /// jwt mode needs exactly one key setting.
    #[error("AUTH_MODE=jwt needs exactly one of JWT_HS256_SECRET, JWT_PUBLIC_KEY_FILE, JWT_JWKS_FILE ({0} set)")]
    KeyCount(usize),
    /// A key setting given outside jwt mode would be silently ignored.
    #[error("{0} is set but AUTH_MODE is header: set AUTH_MODE=jwt or unset it")]
    KeyWithoutJwt(&'static str),
    /// A key file cannot be read.
    #[error("cannot read {path}: {source}")]
    KeyFile {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The key cannot be used.
    #[error(transparent)]
    Jwt(#[from] provider_http::JwtConfigError),
    /// MAX_IN_FLIGHT must let at least one request through.
    #[error("MAX_IN_FLIGHT must be at least 1")]
    NoRequestsInFlight,
    /// Redis must be given some time.
    #[error("RATE_LIMIT_REDIS_TIMEOUT_MS must be at least 1")]
    NoRedisTime,
    /// The Redis URL cannot be used.
    #[error(transparent)]
    Redis(#[from] RedisRateLimitsError),
}

impl ServeArgs {
    /// The HTTP layer's identity, rate-limit and load-shedding settings, keys loaded.
    ///
    /// # Errors
    /// A missing, doubled, unreadable or unusable key; a zero `MAX_IN_FLIGHT`; a Redis URL
    /// that is not one, or a zero `RATE_LIMIT_REDIS_TIMEOUT_MS`.
    pub fn http_settings(&self) -> Result<HttpSettings, SecurityConfigError> {
        let keys = [
            ("JWT_HS256_SECRET", self.jwt_hs256_secret.is_some()),
            ("JWT_PUBLIC_KEY_FILE", self.jwt_public_key_file.is_some()),
            ("JWT_JWKS_FILE", self.jwt_jwks_file.is_some()),
        ];
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|source| SecurityConfigError::KeyFile {
                path: path.display().to_string(),
                source,
            })
        };
        let authentication = match self.auth_mode {
            AuthMode::Header => {
                if let Some((name, _)) = keys.iter().find(|(_, set)| *set) {
                    return Err(SecurityConfigError::KeyWithoutJwt(name));
                }
                Authentication::Header
            }
            AuthMode::Jwt => {
                let key = match (
                    &self.jwt_hs256_secret,
                    &self.jwt_public_key_file,
                    &self.jwt_jwks_file,
                ) {
                    (Some(secret), None, None) => JwtKey::Hs256Secret(secret.as_bytes().to_vec()),
                    (None, Some(pem), None) => JwtKey::PublicKeyPem(read(pem)?),
                    (None, None, Some(jwks)) => JwtKey::Jwks(read(jwks)?),
                    _ => {
                        let count = keys.iter().filter(|(_, set)| *set).count();
                        return Err(SecurityConfigError::KeyCount(count));
                    }
                };
                let verifier = JwtVerifier::new(&JwtSettings {
                    key,
                    issuer: self.jwt_issuer.clone(),
                    audience: self.jwt_audience.clone(),
                    roles_claim: self.jwt_roles_claim.clone(),
                })?;
                Authentication::Jwt(Box::new(verifier))
            }
        };
        if self.max_in_flight == 0 {
            return Err(SecurityConfigError::NoRequestsInFlight);
        }
        Ok(HttpSettings {
            authentication,
            rate_limit_per_minute: self.rate_limit_per_minute,
            trust_forwarded_for: self.trust_forwarded_for,
            max_in_flight: self.max_in_flight,
            rate_limit_redis: self.rate_limit_redis()?,
            moderators: self
                .moderator_ids
                .iter()
                .map(|id| UserId::from_uuid(*id))
                .collect(),
        })
    }

    /// The screen and the flags that hold a review, the blocklist read.
    ///
    /// # Errors
    /// An unreadable blocklist file; `MODERATION_FLAGS_TO_HOLD` of 0.
    pub fn moderation_settings(&self) -> Result<ModerationSettings, ModerationConfigError> {
        let flags_to_hold = NonZeroU32::new(self.moderation_flags_to_hold)
            .ok_or(ModerationConfigError::NoFlagsToHold)?;
        let blocklist = match &self.moderation_blocklist_file {
            None => Blocklist::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| {
                    ModerationConfigError::Blocklist {
                        path: path.display().to_string(),
                        source,
                    }
                })?;
                let list = Blocklist::parse(&text);
                tracing::info!(
                    terms = list.terms().len(),
                    file = %path.display(),
                    "reviews holding a term of the blocklist wait for a moderator"
                );
                list
            }
        };
        Ok(ModerationSettings {
            screen: ScreenSettings {
                blocklist,
                profanity: self.moderation_profanity,
                publish: match self.moderation_publish {
                    PublishSetting::Auto => PublishMode::Auto,
                    PublishSetting::Manual => PublishMode::Manual,
                },
            },
            flags_to_hold,
        })
    }

    /// The Redis of the rate limits, when `RATE_LIMIT_REDIS_URL` is set (and not empty) and
    /// limits are on. Nothing is connected yet.
    fn rate_limit_redis(&self) -> Result<Option<RedisRateLimits>, SecurityConfigError> {
        let Some(url) = self
            .rate_limit_redis_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
        else {
            return Ok(None);
        };
        if self.rate_limit_redis_timeout_ms == 0 {
            return Err(SecurityConfigError::NoRedisTime);
        }
        if self.rate_limit_per_minute == 0 {
            tracing::warn!(
                "RATE_LIMIT_REDIS_URL is ignored: RATE_LIMIT_PER_MINUTE is 0 (no limits)"
            );
            return Ok(None);
        }
        let timeout = Duration::from_millis(self.rate_limit_redis_timeout_ms);
        let redis = RedisRateLimits::new(url, timeout)?;
        tracing::info!(
            timeout_ms = self.rate_limit_redis_timeout_ms,
            "rate limits are kept in Redis (RATE_LIMIT_REDIS_URL), shared by every process using it"
        );
        Ok(Some(redis))
    }
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
    /// Search only: the page after this provider (its id) in the body's sort, as a cursor
    /// made on it leads to (instead of `--page`).
    #[arg(long)]
    pub after: Option<uuid::Uuid>,
}

/// The queries `explain` can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainKind {
    /// `POST /v1_0/service-providers`.
    Search,
    /// `POST /v1_0/service-providers/recommend`.
    Recommend,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(args: &[&str]) -> ServeArgs {
        let cli = Cli::try_parse_from([&["provider-api", "serve"], args].concat()).unwrap();
        match cli.command {
            Some(Command::Serve(args)) => *args,
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn without_a_redis_url_the_buckets_stay_in_the_process() {
        let settings = serve(&["--rate-limit-per-minute", "60"])
            .http_settings()
            .unwrap();
        assert!(settings.rate_limit_redis.is_none());
        let blank = serve(&[
            "--rate-limit-per-minute",
            "60",
            "--rate-limit-redis-url",
            " ",
        ]);
        assert!(blank.http_settings().unwrap().rate_limit_redis.is_none());
    }

    #[test]
    fn a_redis_url_puts_the_buckets_in_redis_with_a_50_ms_timeout_by_default() {
        let args = serve(&[
            "--rate-limit-per-minute",
            "60",
            "--rate-limit-redis-url",
            "redis://127.0.0.1:1",
        ]);
        assert_eq!(args.rate_limit_redis_timeout_ms, 50);
        assert!(args.http_settings().unwrap().rate_limit_redis.is_some());
    }

    #[test]
    fn without_limits_the_redis_url_is_ignored() {
        let args = serve(&["--rate-limit-redis-url", "redis://127.0.0.1:1"]);
        assert!(args.http_settings().unwrap().rate_limit_redis.is_none());
    }

    #[test]
    fn an_unusable_redis_url_or_no_time_for_redis_is_refused() {
        let bad = serve(&[
            "--rate-limit-per-minute",
            "60",
            "--rate-limit-redis-url",
            "postgres://127.0.0.1/db",
        ]);
        let error = bad.http_settings().unwrap_err();
        assert!(
            error.to_string().contains("RATE_LIMIT_REDIS_URL"),
            "{error}"
        );
        let no_time = serve(&[
            "--rate-limit-per-minute",
            "60",
            "--rate-limit-redis-url",
            "redis://127.0.0.1:1",
            "--rate-limit-redis-timeout-ms",
            "0",
        ]);
        assert!(matches!(
            no_time.http_settings(),
            Err(SecurityConfigError::NoRedisTime)
        ));
    }

    #[test]
    fn moderation_settings_read_the_blocklist_and_refuse_what_cannot_work() {
        let dir = std::env::temp_dir().join(format!("blocklist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("terms.txt");
        std::fs::write(&file, "# our terms\nacme\n\n  ＦＯＯ  \n").unwrap();
        let path = file.to_str().unwrap();
        let settings = serve(&[
            "--moderation-blocklist-file",
            path,
            "--moderation-publish",
            "manual",
            "--moderation-flags-to-hold",
            "5",
            "--moderation-profanity",
            "false",
        ])
        .moderation_settings()
        .unwrap();
        assert_eq!(settings.screen.blocklist.terms(), ["acme", "foo"]);
        assert_eq!(settings.screen.publish, PublishMode::Manual);
        assert!(!settings.screen.profanity);
        assert_eq!(settings.flags_to_hold.get(), 5);
        let defaults = serve(&[]).moderation_settings().unwrap();
        assert_eq!(defaults, ModerationSettings::default());

        let missing = dir.join("missing.txt");
        let error = serve(&["--moderation-blocklist-file", missing.to_str().unwrap()])
            .moderation_settings()
            .unwrap_err();
        assert!(error.to_string().contains("missing.txt"), "{error}");
        let zero = serve(&["--moderation-flags-to-hold", "0"]).moderation_settings();
        assert!(matches!(zero, Err(ModerationConfigError::NoFlagsToHold)));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn moderator_ids_and_the_roles_claim_reach_the_http_settings() {
        let a = uuid::Uuid::new_v4();
        let b = uuid::Uuid::new_v4();
        let settings = serve(&["--moderator-ids", &format!("{a},{b}")])
            .http_settings()
            .unwrap();
        let expected: std::collections::HashSet<UserId> =
            [a, b].into_iter().map(UserId::from_uuid).collect();
        assert_eq!(settings.moderators, expected);
        assert!(Cli::try_parse_from(["provider-api", "serve", "--moderator-ids", "nope"]).is_err());
        assert_eq!(serve(&[]).jwt_roles_claim, "roles");
    }
}
