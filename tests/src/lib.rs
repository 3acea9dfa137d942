//! Helpers for the end-to-end tests: start the real `provider-api` binary on a free port and
//! stop it. The tests themselves are in `tests/`.

pub mod examples;
mod redis;
mod sink;

pub use redis::{test_redis, RedisServer};
pub use sink::{HttpSink, Received};

use serde_json::{json, Value};
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
    ///
    /// With a read model loading (PostgreSQL, `READ_MODEL` not `off`), also waits until it has
    /// loaded (or failed to: the database is not there), as a load balancer waits for
    /// readiness: tests begin on a process that serves.
    pub fn start(env: &[(&str, &str)]) -> Self {
        let mut server = Self::launch(Command::new(binary()), env);
        server.until_model_loaded();
        server
    }

    /// As [`Server::start`], without waiting for a read model to load (to watch it load).
    pub fn start_loading(env: &[(&str, &str)]) -> Self {
        Self::launch(Command::new(binary()), env)
    }

    /// Waits (at most 30 s) for the read model's first load to end, when one is loading; the
    /// lines read are kept for [`Server::drain_log`].
    fn until_model_loaded(&mut self) {
        let done =
            |line: &str| line.contains("read model loaded") || line.contains("loading failed");
        if !self
            .startup
            .iter()
            .any(|l| l.contains("in-process read model (loading)"))
            || self.startup.iter().any(|l| done(l))
        {
            return;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            let Ok(line) = self.lines.recv_timeout(left) else {
                return;
            };
            let finished = done(&line);
            self.startup.push(line);
            if finished {
                return;
            }
        }
    }

    /// As [`Server::start`], with every thread of the process on one CPU (`taskset`, from
    /// util-linux): its workers then take turns, which widens the windows between reading a
    /// request and answering it that races (such as a shutdown under load) need.
    ///
    /// # Panics
    /// As [`Server::start`], and if `taskset` cannot be run.
    pub fn start_on_one_cpu(env: &[(&str, &str)]) -> Self {
        let mut command = Command::new("taskset");
        command.args(["--cpu-list", "0"]).arg(binary());
        Self::launch(command, env)
    }

    fn launch(mut command: Command, env: &[(&str, &str)]) -> Self {
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
        // A system call, not the `kill` program: a bare machine may not have procps.
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).expect("a child's pid");
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("send SIGTERM");
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

impl Server {
    /// Kills the process with SIGKILL (no shutdown of any kind: a crash) and waits for it.
    pub fn crash(mut self) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).expect("a child's pid");
        rustix::process::kill_process(pid, rustix::process::Signal::KILL).expect("send SIGKILL");
        self.child.wait().expect("wait");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GETs `url` and returns its JSON body, whatever the status.
///
/// # Panics
/// If the request fails or the body is not JSON.
pub async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    http.get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("a JSON body")
}

/// The value of the series `line_start` (name and labels) in `server`'s `/metrics`.
///
/// # Panics
/// When the exposition has no such series.
pub async fn metric(http: &reqwest::Client, server: &Server, line_start: &str) -> f64 {
    let text = http
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|line| line.strip_prefix(line_start)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {line_start} in:\n{text}"))
}

/// Walks create → get → search → recommend → review → reviews → delete over real HTTP,
/// checking every answer.
///
/// # Panics
/// At the first answer that is not what API.md promises.
pub async fn walk_the_whole_api(server: &Server) {
    let http = reqwest::Client::new();
    let owner = uuid::Uuid::new_v4().to_string();
    let reviewer = uuid::Uuid::new_v4().to_string();

    // create
    let created = http
        .post(server.url("/v1_0/service-provider"))
        .header("user-id", &owner)
        .json(&json!({
            "name": "  SEO Incorporated ",
            "skills": ["SEO Optimisation", "Cold Calling", "seo optimisation"],
            "cost_in_pence": 25000,
            "availability": [
                {"from_date": "2027-12-01", "to_date": "2027-12-28"},
                {"from_date": "2027-11-12", "to_date": "2027-11-30"}
            ]
        }))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    assert!(created.headers().contains_key("x-request-id"));
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let provider: Value = created.json().await.unwrap();
    let id = provider["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/v1_0/service-provider/{id}"));
    assert_eq!(provider["name"], "SEO Incorporated");
    assert_eq!(
        provider["skills"],
        json!(["SEO Optimisation", "Cold Calling"])
    );
    assert_eq!(provider["availability"][0]["from_date"], "2027-11-12");
    assert_eq!(provider["review_rating"], 0.0);

    // get
    let got: Value = get_json(&http, &server.url(&location)).await;
    assert_eq!(got, provider);

    // search
    let found: Value = http
        .post(server.url("/v1_0/service-providers?page=1&page_size=5"))
        .json(&json!({"skills": ["seo optimisation"], "cost_lt": 30000, "name": "inc"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["service_providers"][0]["id"], id.as_str());
    assert_eq!(found["has_more"], false);

    // recommend: 28 consecutive days across the two touching ranges
    let recommended = http
        .post(server.url("/v1_0/service-providers/recommend"))
        .json(&json!({
            "job_budget_in_pence": 25000 * 28,
            "expected_job_duration_in_days": 28,
            "skills": ["cold calling", "Plumbing"],
            "availability": [{"from_date": "2027-11-20", "to_date": "2027-12-20"}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(recommended.status(), 200);
    let recommended: Value = recommended.json().await.unwrap();
    assert_eq!(recommended["service_providers"][0]["id"], id.as_str());
    assert_eq!(
        recommended["service_providers"][0]["matched_skills"],
        json!(["Cold Calling"])
    );

    // review, then the owner may not, then not twice
    let review = http
        .post(server.url(&format!("{location}/review")))
        .header("user-id", &reviewer)
        .json(&json!({"rating": 4.5, "comment": "Prompt and thorough"}))
        .send()
        .await
        .unwrap();
    assert_eq!(review.status(), 201);
    let own = http
        .post(server.url(&format!("{location}/review")))
        .header("user-id", &owner)
        .json(&json!({"rating": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 403);
    let again = http
        .post(server.url(&format!("{location}/review")))
        .header("user_id", &reviewer)
        .json(&json!({"rating": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let reviews: Value = get_json(&http, &server.url(&format!("{location}/reviews"))).await;
    assert_eq!(reviews["reviews"][0]["rating"], 4.5);
    let rated: Value = get_json(&http, &server.url(&location)).await;
    assert_eq!(
        (
            rated["review_rating"].as_f64(),
            rated["review_count"].as_u64()
        ),
        (Some(4.5), Some(1))
    );

    // a stranger cannot delete; the owner can
    let stranger = http
        .delete(server.url(&location))
        .header("user-id", &reviewer)
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 404);
    let deleted = http
        .delete(server.url(&location))
        .header("user-id", &owner)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert_eq!(deleted.json::<Value>().await.unwrap(), json!({}));
    let gone = http.get(server.url(&location)).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    assert!(gone.json::<Value>().await.unwrap()["error"].is_string());
}
