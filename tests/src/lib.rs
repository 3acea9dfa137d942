//! Helpers for the end-to-end tests: start the real `provider-api` binary on a free port and
//! stop it. The tests themselves are in `tests/`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Where the built binary is: `PROVIDER_API_BIN`, else `<target>/debug/provider-api`.
/// `make test` builds it first (a test cannot run cargo: cargo holds the build lock).
pub fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("PROVIDER_API_BIN") {
        return PathBuf::from(bin);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target.join("debug").join("provider-api");
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build -p provider-server`, as `make test` does) \
         or point PROVIDER_API_BIN at it",
        bin.display()
    );
    bin
}

/// A running `provider-api serve`, killed when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    lines: mpsc::Receiver<String>,
    startup: Vec<String>,
}

impl Server {
    /// Starts the binary on a free port with `env` added to its environment and waits until it
    /// listens.
    ///
    /// # Panics
    /// If it does not start within 30 seconds, or exits first.
    pub fn start(env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(binary());
        command
            .arg("serve")
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env("WORKERS", "2")
            .env_remove("DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("start provider-api");
        let (tx, lines) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let mut seen = Vec::new();
        loop {
            match lines.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        let addr: String = rest
                            .chars()
                            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                            .collect();
                        seen.push(line);
                        return Self {
                            child,
                            base: format!("http://{addr}"),
                            lines,
                            startup: seen,
                        };
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("provider-api did not start; it said:\n{}", seen.join("\n"));
                }
            }
        }
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Log lines printed so far (stdout and stderr) not returned before, without waiting;
    /// the first call includes the lines printed while starting.
    pub fn drain_log(&mut self) -> Vec<String> {
        let mut lines = std::mem::take(&mut self.startup);
        lines.extend(self.lines.try_iter());
        lines
    }

    /// Sends SIGTERM and waits for the process to exit; its exit status and what it printed.
    ///
    /// # Panics
    /// If it has not exited 30 seconds after the signal.
    pub fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                std::thread::sleep(Duration::from_millis(100));
                return (status, self.drain_log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("provider-api did not exit within 30 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
