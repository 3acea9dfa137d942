//! Redis for the shared rate-limit tests: the one `make test` provides (`TEST_REDIS_URL`), or a
//! `redis-server` of the test's own, which it can stop and start again.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` of the test's own on a free port of 127.0.0.1, persisting nothing; killed
/// when dropped.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts one on a free port and waits until it takes connections.
    ///
    /// # Panics
    /// When `redis-server` is not on PATH (`scripts/need.sh redis` installs it), or does not
    /// start within 10 seconds.
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(format!("e2e-redis-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("a folder for redis-server");
        let mut server = Self {
            child: None,
            port,
            dir,
        };
        server.restart();
        server
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it (SIGKILL: as a crash) and waits until it has exited.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (empty: nothing is persisted), and waits until it takes
    /// connections.
    ///
    /// # Panics
    /// As [`RedisServer::start`].
    pub fn restart(&mut self) {
        self.stop();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run redis-server ({e}): install it with `scripts/need.sh redis` \
                     (Debian: apt-get install redis-server)"
                )
            });
        self.child = Some(child);
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not take connections on {address} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis for a test: `TEST_REDIS_URL` (or `REDIS_URL`) when set, as `make test` sets it, else
/// one of the test's own (kept alive by the returned server).
pub fn test_redis() -> (String, Option<RedisServer>) {
    let given = ["TEST_REDIS_URL", "REDIS_URL"].iter().find_map(|name| {
        std::env::var(name)
            .ok()
            .filter(|url| !url.trim().is_empty())
    });
    match given {
        Some(url) => (url, None),
        None => {
            let server = RedisServer::start();
            (server.url(), Some(server))
        }
    }
}
