//! `GET /metrics`: the exposition after real requests, read by a Prometheus parser.

use crate::helpers::{provider, TestApp};
use actix_web::http::Method;
use actix_web::test as atest;
use provider_http::{Gate, HttpSettings, Metrics, MetricsRoute};
use provider_memory_adapter::MemoryStore;
use provider_ports::ProviderService;
use provider_telemetry::ObservedStore;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use uuid::Uuid;

/// One sample of the exposition: its name, labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

/// The exposition, checked by Prometheus' own `promtool check metrics` (syntax and naming
/// lint) and read into samples. (The `prometheus-parse` crate cannot read a label value
/// holding `}`, as every route template with a parameter does.)
async fn scrape(app: &TestApp) -> (String, Vec<Sample>) {
    let reply = app.get("/metrics").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = String::from_utf8(reply.body.to_vec()).unwrap();
    promtool_check(&text);
    let samples = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| parse_sample(l).unwrap_or_else(|| panic!("unreadable sample `{l}`")))
        .collect();
    (text, samples)
}

/// Runs `promtool check metrics` on `text`; panics with its report unless it passes clean.
fn promtool_check(text: &str) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian package `prometheus`; `make test` installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `name{label="value",...} value` (values may hold any character, `\\` and `\"` escaped).
fn parse_sample(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_owned();
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(mut inner) = rest.strip_prefix('{') {
        loop {
            if let Some(after) = inner.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = inner.find("=\"")?;
            let key = inner[..eq].trim_start_matches(',').to_owned();
            let mut value = String::new();
            let mut chars = inner[eq + 2..].char_indices();
            let end = loop {
                match chars.next()? {
                    (_, '\\') => value.push(chars.next()?.1),
                    (i, '"') => break i,
                    (_, c) => value.push(c),
                }
            };
            labels.push((key, value));
            inner = &inner[eq + 2 + end + 1..];
        }
    }
    let value = rest.split_whitespace().next()?.parse().ok()?;
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// The value of the sample `name` whose labels include all of `labels`.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|(sk, sv)| sk == k && sv == v))
        })
        .map(|s| s.value)
}

fn requests(samples: &[Sample], method: &str, route: &str, status: &str) -> f64 {
    value(
        samples,
        "http_server_request_duration_seconds_count",
        &[("method", method), ("route", route), ("status", status)],
    )
    .unwrap_or(0.0)
}

#[actix_web::test]
async fn metrics_count_requests_by_route_template_and_never_show_ids_or_names() {
    let metrics = Metrics::new();
    let store = Arc::new(ObservedStore::new(MemoryStore::new(), metrics.clone()));
    let service = ProviderService::new(store.clone(), store.clone(), store);
    let gate = Gate::observed(HttpSettings::default(), metrics, MetricsRoute::OnApiPort);
    let app = TestApp::serve(provider_http::app_with(service, gate)).await;
    let owner = Uuid::new_v4();
    let name = "Quillon Metrics Probe";
    let created = app
        .create(owner, &provider(name, &["Plumbing"], 12_000))
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let missing = Uuid::new_v4();
    for _ in 0..2 {
        app.get(&format!("/v1_0/service-provider/{id}"))
            .await
            .assert_status(200);
    }
    app.get(&format!("/v1_0/service-provider/{missing}"))
        .await
        .assert_error(404);
    app.get(&format!("/v1_0/no-such-route-{missing}"))
        .await
        .assert_error(404);
    app.get(&format!("/elsewhere/{missing}"))
        .await
        .assert_error(404);
    app.send(
        atest::TestRequest::default()
            .method(Method::from_bytes(b"BREWCOFFEE").unwrap())
            .uri("/v1_0/health"),
    )
    .await;

    let (text, samples) = scrape(&app).await;

    let by_id = "/v1_0/service-provider/{id}";
    assert_eq!(
        requests(&samples, "POST", "/v1_0/service-provider", "201"),
        1.0,
        "{text}"
    );
    assert_eq!(requests(&samples, "GET", by_id, "200"), 2.0, "{text}");
    assert_eq!(requests(&samples, "GET", by_id, "404"), 1.0, "{text}");
    assert_eq!(requests(&samples, "GET", "unmatched", "404"), 2.0, "{text}");
    assert_eq!(
        requests(&samples, "_OTHER", "/v1_0/health", "405"),
        1.0,
        "{text}"
    );
    let buckets = value(
        &samples,
        "http_server_request_duration_seconds_bucket",
        &[("route", by_id), ("status", "200"), ("le", "0.0005")],
    );
    assert!(buckets.is_some(), "no 0.5 ms bucket:\n{text}");
    assert!(text.contains("le=\"10\""), "no 10 s bucket:\n{text}");
    assert_eq!(
        value(&samples, "http_server_active_requests", &[]),
        Some(1.0),
        "the scrape itself is active"
    );
    assert_eq!(
        value(&samples, "http_server_rate_limited_total", &[]),
        Some(0.0)
    );
    assert_eq!(value(&samples, "http_server_shed_total", &[]), Some(0.0));
    for op in ["create", "get"] {
        assert!(
            value(
                &samples,
                "store_operation_duration_seconds_count",
                &[("operation", op)]
            )
            .is_some(),
            "no store timing for {op}:\n{text}"
        );
    }
    for secret in [
        id.as_str(),
        &missing.to_string(),
        &owner.to_string(),
        name,
        "Plumbing",
        "BREWCOFFEE",
        "no-such-route",
        "elsewhere",
    ] {
        assert!(
            !text.contains(secret),
            "`{secret}` is in the exposition:\n{text}"
        );
    }
    for family in [
        "http_server_request_duration_seconds",
        "http_server_active_requests",
        "http_server_rate_limited_total",
        "http_server_shed_total",
        "store_operation_duration_seconds",
    ] {
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "{family} is not described"
        );
    }
}

#[actix_web::test]
async fn refused_requests_are_counted_and_metrics_is_never_rate_limited() {
    let app = TestApp::with_gate(Gate::new(HttpSettings {
        rate_limit_per_minute: 1,
        ..HttpSettings::default()
    }))
    .await;
    let peer: SocketAddr = "10.9.9.9:40000".parse().unwrap();
    let search = || {
        atest::TestRequest::post()
            .uri("/v1_0/service-providers")
            .peer_addr(peer)
            .set_json(json!({}))
    };
    app.send(search()).await.assert_status(200);
    app.send(search()).await.assert_error(429);
    app.send(search()).await.assert_error(429);

    for _ in 0..3 {
        let (text, samples) = scrape(&app).await;
        assert_eq!(
            value(&samples, "http_server_rate_limited_total", &[]),
            Some(2.0),
            "{text}"
        );
        assert_eq!(
            requests(&samples, "POST", "/v1_0/service-providers", "429"),
            2.0,
            "{text}"
        );
    }
}

#[actix_web::test]
async fn with_metrics_elsewhere_the_api_port_answers_404_and_the_metrics_app_serves_them() {
    let metrics = Metrics::new();
    let gate = Gate::observed(
        HttpSettings::default(),
        metrics.clone(),
        MetricsRoute::Elsewhere,
    );
    let api = TestApp::with_gate(gate).await;
    api.get("/v1_0/health").await.assert_status(200);
    api.get("/metrics").await.assert_error(404);

    let apart = TestApp::serve(provider_http::metrics_app(metrics)).await;
    let (text, samples) = scrape(&apart).await;
    assert_eq!(
        requests(&samples, "GET", "/v1_0/health", "200"),
        1.0,
        "{text}"
    );
    assert_eq!(requests(&samples, "GET", "unmatched", "404"), 1.0, "{text}");
    apart.get("/v1_0/health").await.assert_error(404);
}

#[actix_web::test]
async fn with_metrics_off_nothing_is_recorded_and_metrics_answers_404() {
    let metrics = Metrics::new();
    let gate = Gate::observed(HttpSettings::default(), metrics.clone(), MetricsRoute::Off);
    let api = TestApp::with_gate(gate).await;
    api.get("/v1_0/health").await.assert_status(200);
    api.get("/metrics").await.assert_error(404);

    let text = metrics.render();
    assert!(
        !text.contains("http_server_request_duration_seconds_count"),
        "a request was recorded with metrics off:\n{text}"
    );
    assert!(text.contains("http_server_active_requests 0"), "{text}");
}
