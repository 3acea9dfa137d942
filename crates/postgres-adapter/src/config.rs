//! [`PgConfig`]: how to reach PostgreSQL (the primary, and a read replica) and how patient to
//! be with it; shown in logs with its passwords hidden.

use std::fmt;
use std::time::Duration;

/// How to reach PostgreSQL and how patient to be with it.
#[derive(Clone, PartialEq, Eq)]
pub struct PgConfig {
    /// A `postgres://user:password@host:port/database` URL.
    pub url: String,
    /// Most connections the pool opens (they are opened on demand, never ahead).
    pub pool_size: usize,
    /// Longest wait for a connection (a free one, or a new one to be made); past it the store
    /// answers [`provider_ports::RepoError::Unavailable`].
    pub acquire_timeout: Duration,
    /// Longest a statement may run on the server (`statement_timeout`, set on every new
    /// connection); past it the statement is cancelled and the store answers `Unavailable`.
    /// Zero disables it.
    pub statement_timeout: Duration,
    /// A streaming replica of the database at `url`, for reads (a second pool of
    /// `pool_size`); `None` reads from `url`. Writes always go to `url`.
    pub read_url: Option<String>,
    /// How old the data an anonymous read gets from the replica may be; past it, reads go to
    /// the primary until the replica catches up.
    pub max_replica_lag: Duration,
}

impl PgConfig {
    /// Default pool size: 8 connections per core of the 2-core target machine. PostgreSQL on
    /// the same 2 cores does not get faster with more concurrent statements; a few spare cover
    /// requests waiting on I/O.
    pub const DEFAULT_POOL_SIZE: usize = 16;
    /// Default [`PgConfig::acquire_timeout`].
    pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
    /// Default [`PgConfig::statement_timeout`].
    pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
    /// Default [`PgConfig::max_replica_lag`].
    pub const DEFAULT_MAX_REPLICA_LAG: Duration = Duration::from_secs(5);

    /// The defaults for `url`: 16 connections, 5 s to acquire one, 5 s per statement, no read
    /// replica.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: Self::DEFAULT_POOL_SIZE,
            acquire_timeout: Self::DEFAULT_ACQUIRE_TIMEOUT,
            statement_timeout: Self::DEFAULT_STATEMENT_TIMEOUT,
            read_url: None,
            max_replica_lag: Self::DEFAULT_MAX_REPLICA_LAG,
        }
    }
}

impl fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConfig")
            .field("url", &redact(&self.url))
            .field("pool_size", &self.pool_size)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("read_url", &self.read_url.as_deref().map(redact))
            .field("max_replica_lag", &self.max_replica_lag)
            .finish()
    }
}

/// The URL with any password replaced by `***`, fit for logs.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_config_hides_the_password() {
        let config = PgConfig::new("postgres://app:s3cret@db:5432/app?sslmode=disable");
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres://app:***@db:5432/app?sslmode=disable"));
    }

    #[test]
    fn redact_leaves_urls_without_password_alone() {
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:5432/postgres"),
            "postgres://postgres@127.0.0.1:5432/postgres"
        );
        assert_eq!(redact("host=/tmp dbname=x"), "host=/tmp dbname=x");
    }
}
