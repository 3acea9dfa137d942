//! Test databases (feature `test-support`): [`TestDb`] gives each test its own freshly
//! migrated database, copied from a template that is migrated once.
//!
//! The template is named after a hash of the migrations, so changed migrations get a new one;
//! it is built under an advisory lock (parallel test processes wait for one another) as
//! `<name>_building`, then renamed, so a template of that name is always complete. Each
//! [`TestDb`] is `CREATE DATABASE <random> TEMPLATE <template>` (tens of milliseconds), dropped
//! with `DROP DATABASE ... WITH (FORCE)` when the `TestDb` is.
//!
//! The server is found through `DATABASE_URL` (a `postgres://` URL; its database is used for
//! administration), else `postgres://postgres@127.0.0.1:5432/postgres`. Without a reachable
//! PostgreSQL the tests panic, saying how to get one: they are never silently skipped.

use crate::{run_migrations, PgConfig, PgStore};
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use std::future::Future;
use std::sync::OnceLock;

/// The tables as `schema.rs` declares them (Diesel's `table!`s), for tests that compare them
/// with the migrated database.
pub mod schema {
    pub use crate::schema::{
        availability, availability_runs, change_events, change_events_horizon, idempotency_keys,
        provider_skills, providers, review_events, review_flags, review_replies,
        review_skill_ratings, reviews, skill_reviews,
    };
}

/// The admin URL used when `DATABASE_URL` is not set.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Advisory lock key serialising template builds across processes ("tmplate!").
const TEMPLATE_LOCK: i64 = 0x746d_706c_6174_6521;

const HOW_TO_GET_POSTGRES: &str = concat!(
    "These tests need PostgreSQL (15 or later, with the btree_gist and pg_trgm extensions, ",
    "which ship with it). Either:\n",
    "  * run them through `scripts/test-postgres.sh`, e.g. ",
    "`scripts/test-postgres.sh cargo test -p provider-postgres-adapter` (it uses DATABASE_URL, ",
    "or a server on 127.0.0.1:5432, or starts a throwaway one from the local PostgreSQL ",
    "binaries);\n",
    "  * or start one and point DATABASE_URL at it, e.g. ",
    "`docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15` then ",
    "`DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres`;\n",
    "  * or install it (Debian/Ubuntu: `apt-get install postgresql`, then ",
    "`pg_ctlcluster 15 main start`).",
);

/// The URL tests administer PostgreSQL through: `DATABASE_URL`, else [`DEFAULT_ADMIN_URL`].
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ADMIN_URL.to_owned())
}

/// The parts of a `postgres://` URL these helpers rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
struct UrlParts<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    host: &'a str,
    port: Option<u16>,
    query: Option<&'a str>,
}

fn split_url(url: &str) -> Option<UrlParts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    let (before_query, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap_or_default();
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = if let Some(bracketed) = hostport.strip_prefix('[') {
        // [::1]:5432
        let (host, after) = bracketed.split_once(']')?;
        let port = after.strip_prefix(':').map(str::parse).transpose().ok()?;
        (host, port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p.parse().ok()?)),
            None => (hostport, None),
        }
    };
    Some(UrlParts {
        scheme,
        userinfo,
        host,
        port,
        query,
    })
}

fn join_url(parts: &UrlParts<'_>, host: &str, port: Option<u16>, database: &str) -> String {
    let mut url = format!("{}://", parts.scheme);
    if let Some(userinfo) = parts.userinfo {
        url.push_str(userinfo);
        url.push('@');
    }
    if host.contains(':') {
        url.push_str(&format!("[{host}]"));
    } else {
        url.push_str(host);
    }
    if let Some(port) = port {
        url.push_str(&format!(":{port}"));
    }
    url.push('/');
    url.push_str(database);
    if let Some(query) = parts.query {
        url.push('?');
        url.push_str(query);
    }
    url
}

fn parts_or_panic(url: &str) -> UrlParts<'_> {
    split_url(url).unwrap_or_else(|| {
        panic!("DATABASE_URL must be a postgres://user@host:port/database URL, got {url:?}")
    })
}

/// `url` pointing at `database` instead (same server, user and options).
pub fn url_with_database(url: &str, database: &str) -> String {
    let parts = parts_or_panic(url);
    join_url(&parts, parts.host, parts.port, database)
}

/// Runs `future` to completion on a new thread with its own runtime. For work that must finish
/// from synchronous code (a `Drop`) or outlive the calling test's runtime.
fn block_on_fresh_thread<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a Tokio runtime for test database administration")
            .block_on(future)
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

async fn admin_connection(admin_url: &str) -> AsyncPgConnection {
    match AsyncPgConnection::establish(admin_url).await {
        Ok(conn) => conn,
        Err(e) => panic!(
            "cannot reach PostgreSQL at {} ({e}).\n{HOW_TO_GET_POSTGRES}",
            crate::config::redact(admin_url)
        ),
    }
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

/// Builds the template database of the current migrations unless it exists; its name.
async fn ensure_template(admin_url: String) -> String {
    let name = format!("provider_template_{}", env!("PROVIDER_MIGRATIONS_HASH"));
    let mut conn = admin_connection(&admin_url).await;
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(TEMPLATE_LOCK)
        .execute(&mut conn)
        .await
        .expect("take the template lock");
    let found: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<Text, _>(&name)
            .get_result(&mut conn)
            .await
            .expect("look for the template database");
    if !found.exists {
        let building = format!("{name}_building");
        // Left over by a process that died while building: start again.
        conn.batch_execute(&format!(
            r#"DROP DATABASE IF EXISTS "{building}" WITH (FORCE)"#
        ))
        .await
        .expect("drop a stale template build");
        conn.batch_execute(&format!(
            r#"CREATE DATABASE "{building}" TEMPLATE template0 ENCODING 'UTF8'"#
        ))
        .await
        .expect("create the template database");
        if let Err(e) = run_migrations(&url_with_database(&admin_url, &building)).await {
            panic!("migrating the template database {building} failed: {e}");
        }
        // PostgreSQL waits (up to 5 s) for the migration's session to end before renaming.
        conn.batch_execute(&format!(
            r#"ALTER DATABASE "{building}" RENAME TO "{name}""#
        ))
        .await
        .expect("rename the template database");
    }
    diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(TEMPLATE_LOCK)
        .execute(&mut conn)
        .await
        .expect("release the template lock");
    name
}

/// The template of this process, built (or found) on first use.
fn template(admin_url: &str) -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| block_on_fresh_thread(ensure_template(admin_url.to_owned())))
}

/// A migrated database of its own, for one test; dropped (forcibly, connections and all) when
/// this value is.
#[derive(Debug)]
pub struct TestDb {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDb {
    /// Copies the migrated template into a new database with a random name.
    ///
    /// # Panics
    /// When PostgreSQL cannot be reached (the message says how to get it), or the copy fails.
    pub async fn new() -> Self {
        let admin_url = admin_url();
        let template = template(&admin_url);
        let name = format!("provider_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = admin_connection(&admin_url).await;
        conn.batch_execute(&format!(
            r#"CREATE DATABASE "{name}" TEMPLATE "{template}""#
        ))
        .await
        .unwrap_or_else(|e| panic!("create test database {name} from {template}: {e}"));
        let url = url_with_database(&admin_url, &name);
        Self {
            admin_url,
            name,
            url,
        }
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database's URL with the server reached at `host:port` instead (e.g. through a
    /// proxy).
    pub fn url_via(&self, host: &str, port: u16) -> String {
        join_url(&parts_or_panic(&self.url), host, Some(port), &self.name)
    }

    /// The server's `(host, port)` as the URL names it (port 5432 when it names none).
    pub fn server_address(&self) -> (String, u16) {
        let parts = parts_or_panic(&self.url);
        (parts.host.to_owned(), parts.port.unwrap_or(5432))
    }

    /// A store over this database: a pool of 8, the default timeouts.
    ///
    /// # Panics
    /// If the store cannot be built (it makes no connection, so only on a malformed URL).
    pub fn store(&self) -> PgStore {
        PgStore::connect(&PgConfig {
            pool_size: 8,
            ..PgConfig::new(self.url.clone())
        })
        .expect("a store over the test database")
    }

    /// The database's URL on the test standby ([`standby::url`]).
    ///
    /// # Panics
    /// Without a test standby (the message says how to get one).
    pub fn standby_url(&self) -> String {
        url_with_database(&standby::url(), &self.name)
    }

    /// A store over this database reading from its copy on the test standby (anonymous reads
    /// within `max_replica_lag`): a pool of 8 on each, the default timeouts.
    ///
    /// # Panics
    /// Without a test standby, or outside a Tokio runtime.
    pub fn routed_store(&self, max_replica_lag: std::time::Duration) -> PgStore {
        PgStore::connect(&PgConfig {
            pool_size: 8,
            read_url: Some(self.standby_url()),
            max_replica_lag,
            ..PgConfig::new(self.url.clone())
        })
        .expect("a store over the test database and its standby copy")
    }

    /// Waits until the test standby has replayed this database's creation (it streams it
    /// from the primary), so that reads can be served there.
    ///
    /// # Panics
    /// If it has not within 30 seconds.
    pub async fn until_on_standby(&self) {
        let url = self.standby_url();
        for _ in 0..300 {
            if AsyncPgConnection::establish(&url).await.is_ok() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the test standby has no database {} after 30 s", self.name);
    }

    /// Empties every table, keeping the schema (for a test that reuses one database).
    ///
    /// # Panics
    /// If the database cannot be reached.
    pub async fn truncate(&self) {
        let mut conn = admin_connection(&self.url).await;
        conn.batch_execute(
            "TRUNCATE review_skill_ratings, review_flags, review_replies, review_events, \
             skill_reviews, reviews, availability_runs, availability, provider_skills, \
             providers, idempotency_keys",
        )
        .await
        .expect("truncate the test database");
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop is synchronous and may run on (or after) the test's runtime: use a fresh one.
        let dropped = block_on_fresh_thread(async move {
            let mut conn = AsyncPgConnection::establish(&admin_url).await?;
            conn.batch_execute(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
                .await
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)
        });
        if let Err(e) = dropped {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

/// The test standby: a streaming replica of the test server, made by
/// `scripts/test-standby.sh` (which `make test` runs the tests under), for the read-routing
/// tests. They never skip: without one they panic, saying how to get one.
pub mod standby {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    use std::fs::File;
    use std::path::PathBuf;

    /// The script that makes, stops and starts the standby.
    pub fn script() -> PathBuf {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/test-standby.sh"
        ))
    }

    /// The standby's URL (its `postgres` database): `TEST_STANDBY_URL`.
    ///
    /// # Panics
    /// When it is not set.
    pub fn url() -> String {
        std::env::var("TEST_STANDBY_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| {
                panic!(
                    "TEST_STANDBY_URL is not set: these tests need a streaming standby of the \
                     test PostgreSQL. Run them as `make test` does: \
                     `scripts/test-postgres.sh scripts/test-standby.sh cargo test ...` (it \
                     makes one with pg_basebackup on port 5499, or reuses it)."
                )
            })
    }

    /// Holds the standby for a test that needs it in a known state: shared by tests that only
    /// need it streaming, exclusive for one that pauses or stops it. Across test processes
    /// too (a lock on a file); released when dropped.
    ///
    /// # Panics
    /// If the lock file cannot be opened or locked.
    pub fn hold(exclusive: bool) -> File {
        let path = std::env::temp_dir().join("provider-test-standby.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        let locked = if exclusive {
            file.lock()
        } else {
            file.lock_shared()
        };
        locked.unwrap_or_else(|e| panic!("lock {}: {e}", path.display()));
        file
    }

    /// Runs `sql` on the standby.
    ///
    /// # Panics
    /// If it fails.
    pub async fn execute(sql: &str) {
        let mut conn = AsyncPgConnection::establish(&url())
            .await
            .unwrap_or_else(|e| panic!("connect to the test standby: {e}"));
        conn.batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql} on the test standby: {e}"));
    }

    /// Runs `scripts/test-standby.sh <action>` (`stop` or `start`).
    ///
    /// # Panics
    /// If it fails.
    pub fn control(action: &str) {
        let status = std::process::Command::new(script())
            .arg(action)
            .status()
            .unwrap_or_else(|e| panic!("run {}: {e}", script().display()));
        assert!(status.success(), "test-standby.sh {action}: {status}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_with_database_keeps_user_host_port_and_options() {
        assert_eq!(
            url_with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            url_with_database("postgresql://u:p@db/x?sslmode=disable", "t2"),
            "postgresql://u:p@db/t2?sslmode=disable"
        );
        assert_eq!(
            url_with_database("postgres://[::1]:6543", "t3"),
            "postgres://[::1]:6543/t3"
        );
    }

    #[test]
    fn split_url_finds_host_and_port() {
        let parts = split_url("postgres://a:b@localhost:15432/db?x=1").unwrap();
        assert_eq!((parts.host, parts.port), ("localhost", Some(15432)));
        assert_eq!(parts.userinfo, Some("a:b"));
        assert_eq!(parts.query, Some("x=1"));
        assert!(split_url("host=/tmp dbname=x").is_none());
    }
}

/// A TCP proxy for outage tests: put it between a store (or the server) and PostgreSQL.
pub mod proxy {
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::watch;
    use tokio::task::AbortHandle;

    /// What a [`Proxy`] does with traffic.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Mode {
        /// Forward both ways.
        Open,
        /// Close every connection at once; accept new ones and close them straight away.
        Severed,
        /// A hung network: connections stay open but nothing gets through; new ones are accepted
        /// and never answered.
        Hung,
    }

    /// Copies `from` to `to`, holding the bytes while the proxy is hung.
    async fn pump(
        mut from: OwnedReadHalf,
        mut to: OwnedWriteHalf,
        mut mode: watch::Receiver<Mode>,
    ) {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            loop {
                let now = *mode.borrow_and_update();
                match now {
                    Mode::Open => break,
                    Mode::Severed => return,
                    Mode::Hung => {
                        if mode.changed().await.is_err() {
                            return;
                        }
                    }
                }
            }
            if to.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }

    /// A TCP proxy on 127.0.0.1 that a test can cut or hang, to stage database outages.
    #[derive(Debug)]
    pub struct Proxy {
        /// Where clients connect.
        pub addr: SocketAddr,
        mode: watch::Sender<Mode>,
        /// The tasks of live links, aborted (sockets closed) when the proxy is severed.
        links: Arc<Mutex<Vec<AbortHandle>>>,
        accept: AbortHandle,
    }

    impl Proxy {
        /// Listens on a free port of 127.0.0.1 and forwards to `target` (open).
        ///
        /// # Panics
        /// If it cannot listen.
        pub async fn start(target: (String, u16)) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
            let addr = listener.local_addr().expect("proxy address");
            let (mode, _) = watch::channel(Mode::Open);
            let links: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
            let accept = {
                let (links, mode) = (links.clone(), mode.clone());
                tokio::spawn(async move {
                    loop {
                        let Ok((inbound, _)) = listener.accept().await else {
                            continue;
                        };
                        // Decide and register under the lock, so `set` never misses a link.
                        let mut live = links.lock().expect("lock");
                        let now = *mode.borrow();
                        let task = match now {
                            Mode::Severed => {
                                drop(inbound);
                                continue;
                            }
                            Mode::Hung => tokio::spawn(async move {
                                let _held = inbound;
                                std::future::pending::<()>().await;
                            }),
                            Mode::Open => {
                                let (target, rx) = (target.clone(), mode.subscribe());
                                tokio::spawn(async move {
                                    let Ok(outbound) = TcpStream::connect(target).await else {
                                        return;
                                    };
                                    let (in_read, in_write) = inbound.into_split();
                                    let (out_read, out_write) = outbound.into_split();
                                    // When either side ends, both sockets close.
                                    tokio::select! {
                                        () = pump(in_read, out_write, rx.clone()) => {}
                                        () = pump(out_read, in_write, rx) => {}
                                    }
                                })
                            }
                        };
                        live.push(task.abort_handle());
                    }
                })
                .abort_handle()
            };
            Self {
                addr,
                mode,
                links,
                accept,
            }
        }

        /// Switches what the proxy does; severing closes every live link at once.
        pub fn set(&self, mode: Mode) {
            let mut live = self.links.lock().expect("lock");
            self.mode.send_replace(mode);
            if mode == Mode::Severed {
                for task in live.drain(..) {
                    task.abort();
                }
            }
        }
    }

    impl Drop for Proxy {
        fn drop(&mut self) {
            self.set(Mode::Severed);
            self.accept.abort();
        }
    }
}
