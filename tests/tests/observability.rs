//! Observability of the real binary: a real Prometheus (Debian's `prometheus`, which `make test`
//! installs) scraping it, `METRICS_PORT`, the pool figures on PostgreSQL, and the Grafana
//! dashboard querying only series the server exports. Never skipped: a missing `prometheus`
//! binary fails the test.

use provider_e2e_tests::Server;
use provider_postgres_adapter::testing::TestDb;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A Prometheus server on a free loopback port, scraping one target every second, with its
/// storage in a temporary folder; killed and removed when dropped.
struct Prometheus {
    child: Child,
    base: String,
    dir: PathBuf,
}

impl Prometheus {
    async fn start(target: &str) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir =
            std::env::temp_dir().join(format!("provider-api-prometheus-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: provider-api\n    \
                 static_configs:\n      - targets: [\"{target}\"]\n"
            ),
        )
        .unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus (Debian package `prometheus`; `make test` installs it)");
        let prometheus = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = reqwest::get(format!("{}/-/ready", prometheus.base)).await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return prometheus;
            }
            assert!(
                Instant::now() < deadline,
                "prometheus not ready within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The result vector of an instant query through the HTTP API.
    async fn query(&self, promql: &str) -> Vec<Value> {
        let answer: Value = reqwest::Client::new()
            .get(format!("{}/api/v1/query", self.base))
            .query(&[("query", promql)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["status"], "success", "{answer}");
        answer["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Creates a provider and returns its id.
async fn create_provider(server: &Server, name: &str) -> String {
    let created: Value = reqwest::Client::new()
        .post(server.url("/v1_0/service-provider"))
        .header("user-id", uuid::Uuid::new_v4().to_string())
        .json(&json!({
            "name": name,
            "skills": ["Glazing"],
            "cost_in_pence": 30000,
            "availability": [{"from_date": "2028-05-01", "to_date": "2028-05-09"}]
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["id"].as_str().expect("an id").to_owned()
}

async fn get_status(url: &str) -> u16 {
    reqwest::get(url).await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_real_prometheus_scrapes_the_server_and_answers_its_request_counter() {
    let server = Server::start(&[]);
    let id = create_provider(&server, "Scraped Glass Ltd").await;
    for _ in 0..3 {
        assert_eq!(
            get_status(&server.url(&format!("/v1_0/service-provider/{id}"))).await,
            200
        );
    }
    let prometheus = Prometheus::start(server.base.trim_start_matches("http://")).await;

    let query = r#"sum(http_server_request_duration_seconds_count{job="provider-api",method="GET",route="/v1_0/service-provider/{id}",status="200"})"#;
    let deadline = Instant::now() + Duration::from_secs(30);
    let value = loop {
        let result = prometheus.query(query).await;
        if let Some(sample) = result.first() {
            break sample["value"][1].as_str().unwrap().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no sample of {query} within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(value, "3");
    let up = prometheus.query(r#"up{job="provider-api"}"#).await;
    assert_eq!(up[0]["value"][1], "1", "{up:?}");
}

/// The address of `/metrics` that the server logged (with `METRICS_PORT`).
fn metrics_url(server: &mut Server) -> String {
    let log = server.drain_log();
    let line = log
        .iter()
        .find_map(|l| l.split("metrics on http://").nth(1))
        .unwrap_or_else(|| panic!("no metrics address logged:\n{}", log.join("\n")));
    let addr: String = line
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
        .collect();
    format!("http://{addr}/metrics")
}

#[tokio::test]
async fn metrics_port_serves_metrics_apart_with_the_pool_figures_of_postgres() {
    let db = TestDb::new().await;
    let mut server = Server::start(&[("DATABASE_URL", db.url()), ("METRICS_PORT", "0")]);
    let metrics = metrics_url(&mut server);
    assert_eq!(get_status(&server.url("/v1_0/health/ready")).await, 200);

    assert_eq!(
        get_status(&server.url("/metrics")).await,
        404,
        "not on the API port"
    );
    let text = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
    for expected in [
        "db_pool_connections{state=\"idle\"} ",
        "db_pool_connections{state=\"in_use\"} ",
        "db_pool_waiting ",
        "store_operation_duration_seconds_count{operation=\"ping\"} 1",
        "http_server_request_duration_seconds_count{method=\"GET\",route=\"/v1_0/health/ready\",status=\"200\"} 1",
        "provider_api_build_info{version=\"0.1.0\",commit=\"",
    ] {
        assert!(text.contains(expected), "no `{expected}` in:\n{text}");
    }
}

#[tokio::test]
async fn metrics_enabled_false_serves_no_metrics_and_the_api_as_usual() {
    let server = Server::start(&[("METRICS_ENABLED", "false")]);
    assert_eq!(get_status(&server.url("/v1_0/health")).await, 200);
    let id = create_provider(&server, "Ada").await;
    assert_eq!(
        get_status(&server.url(&format!("/v1_0/service-provider/{id}"))).await,
        200
    );
    assert_eq!(get_status(&server.url("/metrics")).await, 404);
}

/// The metric names a PromQL expression selects: identifiers outside label matchers, `by (...)`
/// lists and strings that are not functions, aggregations, keywords or numbers.
fn metric_names(expr: &str) -> BTreeSet<String> {
    const KEYWORDS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "sum",
        "min",
        "max",
        "avg",
        "count",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
    ];
    let mut names = BTreeSet::new();
    let chars: Vec<char> = expr.chars().collect();
    let (mut i, mut braces, mut after_grouping) = (0, 0, false);
    while i < chars.len() {
        let c = chars[i];
        match c {
            '{' => braces += 1,
            '}' => braces -= 1,
            '"' => {
                i += 1;
                while chars[i] != '"' {
                    i += 1 + usize::from(chars[i] == '\\');
                }
            }
            '[' => {
                while chars[i] != ']' {
                    i += 1;
                }
            }
            '(' if after_grouping => {
                while chars[i] != ')' {
                    i += 1;
                }
                after_grouping = false;
            }
            c if braces == 0 && (c.is_ascii_alphabetic() || c == '_') => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let rest = chars[i..].iter().find(|c| !c.is_whitespace());
                if word == "by" || word == "without" {
                    after_grouping = true;
                } else if rest != Some(&'(') && !KEYWORDS.contains(&word.as_str()) {
                    names.insert(word);
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    names
}

#[tokio::test]
async fn every_dashboard_panel_queries_series_the_server_exports() {
    let db = TestDb::new().await;
    let server = Server::start(&[("DATABASE_URL", db.url()), ("RATE_LIMIT_PER_MINUTE", "100")]);
    let id = create_provider(&server, "Dashboard Ltd").await;
    assert_eq!(
        get_status(&server.url(&format!("/v1_0/service-provider/{id}"))).await,
        200
    );
    let text = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut exported = BTreeSet::new();
    for line in text.lines().filter_map(|l| l.strip_prefix("# TYPE ")) {
        let mut words = line.split(' ');
        let (name, kind) = (words.next().unwrap(), words.next().unwrap());
        exported.insert(name.to_owned());
        if kind == "histogram" {
            for suffix in ["_bucket", "_sum", "_count"] {
                exported.insert(format!("{name}{suffix}"));
            }
        }
    }

    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../docker/grafana/dashboards/provider-api.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 7, "{} panels", panels.len());
    let mut queried = BTreeSet::new();
    for panel in panels {
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "panel {} has no query", panel["title"]);
        for target in targets {
            let expr = target["expr"].as_str().expect("expr");
            let names = metric_names(expr);
            assert!(!names.is_empty(), "no series in `{expr}`");
            for name in names {
                assert!(
                    exported.contains(&name),
                    "panel {}: `{name}` is not exported (`{expr}`); exported: {exported:?}",
                    panel["title"]
                );
                queried.insert(name);
            }
        }
    }
    for family in [
        "http_server_request_duration_seconds_count",
        "http_server_request_duration_seconds_bucket",
        "db_pool_connections",
        "db_pool_waiting",
        "http_server_rate_limited_total",
        "http_server_shed_total",
        "store_operation_duration_seconds_bucket",
        "moderation_queue_size",
        "moderation_decisions_total",
        "review_flags_total",
    ] {
        assert!(queried.contains(family), "no panel shows {family}");
    }
}

#[test]
fn metric_names_skips_functions_labels_keywords_and_strings() {
    let names = metric_names(
        r#"histogram_quantile(0.99, sum by (route, le) (rate(a_seconds_bucket{status=~"5..",x="}"}[5m]))) / sum(b_total) or c"#,
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["a_seconds_bucket", "b_total", "c"]
    );
}
