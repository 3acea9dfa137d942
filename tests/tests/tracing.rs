//! Traces and error reports of the real binary: a W3C `traceparent` sent by the test becomes
//! the trace id of the spans the server exports over OTLP/HTTP (to a receiver in this test,
//! decoding the protobuf), of its log lines, and of its Sentry reports (to a stand-in Sentry
//! endpoint in this test).

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use provider_e2e_tests::{HttpSink, Server};
use provider_postgres_adapter::testing::TestDb;

#[tokio::test(flavor = "multi_thread")]
async fn a_traceparent_becomes_the_trace_id_of_exported_spans_and_log_lines() {
    let sink = HttpSink::start().await;
    let server = Server::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", sink.base.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ]);
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let missing = uuid::Uuid::new_v4();
    let response = reqwest::Client::new()
        .get(server.url(&format!("/v1_0/service-provider/{missing}")))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    // Stopping the server flushes the spans still batched.
    let (status, log) = server.terminate();
    assert!(status.success(), "exit status {status}");

    let spans = spans(&sink);
    let ours: Vec<_> = spans.iter().filter(|s| s.trace_id == trace_id).collect();
    let names: Vec<&str> = ours.iter().map(|s| s.name.as_str()).collect();
    assert!(
        names.contains(&"GET /v1_0/service-provider/{id}"),
        "no request span in the trace: {spans:?}"
    );
    assert!(
        names.contains(&"store get"),
        "no store span in the trace: {spans:?}"
    );
    assert!(ours.iter().all(|s| s.path == "/v1/traces"), "{spans:?}");
    assert!(
        !spans.iter().any(|s| s.name.contains(&missing.to_string())),
        "an id in a span name: {spans:?}"
    );
    // Exported, the request span carries its answer's status.
    let request = ours
        .iter()
        .find(|s| s.name == "GET /v1_0/service-provider/{id}")
        .expect("request span");
    assert!(
        request
            .attributes
            .iter()
            .any(|(k, v)| k == "http.status_code" && v.contains("IntValue(404)")),
        "no status on the request span: {request:?}"
    );

    let completed: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("request completed") && l.contains("/v1_0/service-provider/{id}"))
        .collect();
    assert_eq!(completed.len(), 1, "{}", log.join("\n"));
    assert!(
        completed[0].contains(&format!("\"trace_id\":\"{trace_id}\"")),
        "no trace id on the log line: {}",
        completed[0]
    );
    // The request's fields once, under `span`: no list of the enclosing spans repeats them.
    assert!(
        !completed[0].contains("\"spans\""),
        "a span list on the log line: {}",
        completed[0]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_traceparent_the_log_lines_carry_the_trace_id_the_exported_spans_have() {
    let sink = HttpSink::start().await;
    let server = Server::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", sink.base.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ]);
    let response = reqwest::get(server.url("/v1_0/health")).await.unwrap();
    assert_eq!(response.status(), 200);
    let (status, log) = server.terminate();
    assert!(status.success(), "exit status {status}");

    let completed: Vec<serde_json::Value> = log
        .iter()
        .filter(|l| l.contains("request completed") && l.contains("/v1_0/health"))
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(completed.len(), 1, "{}", log.join("\n"));
    let trace_id = completed[0]["span"]["trace_id"]
        .as_str()
        .expect("a trace id on the log line");
    let spans = spans(&sink);
    assert!(
        spans
            .iter()
            .any(|s| s.trace_id == trace_id && s.name == "GET /v1_0/health"),
        "the log line's trace id {trace_id} is no exported request span's: {spans:?}"
    );
}

/// An exported span.
#[derive(Debug)]
struct ExportedSpan {
    /// Hex.
    trace_id: String,
    name: String,
    /// The path it was exported to.
    path: String,
    /// Keys and values (as text).
    attributes: Vec<(String, String)>,
}

/// Every span the sink received.
fn spans(sink: &HttpSink) -> Vec<ExportedSpan> {
    let mut spans = Vec::new();
    for request in sink.received() {
        let export = ExportTraceServiceRequest::decode(request.body.as_slice())
            .expect("an OTLP protobuf export");
        for span in export
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
        {
            let trace_id: String = span.trace_id.iter().map(|b| format!("{b:02x}")).collect();
            let attributes = span
                .attributes
                .iter()
                .map(|kv| (kv.key.clone(), format!("{:?}", kv.value)))
                .collect();
            spans.push(ExportedSpan {
                trace_id,
                name: span.name.clone(),
                path: request.path.clone(),
                attributes,
            });
        }
    }
    spans
}

#[tokio::test(flavor = "multi_thread")]
async fn on_postgres_each_sql_statement_is_a_span_of_the_trace_with_its_text_and_no_values() {
    let db = TestDb::new().await;
    let sink = HttpSink::start().await;
    let server = Server::start(&[
        ("DATABASE_URL", db.url()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", sink.base.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ]);
    let http = reqwest::Client::new();
    let name = "Tracey Unique-Name";
    let created: serde_json::Value = http
        .post(server.url("/v1_0/service-provider"))
        .header("user-id", uuid::Uuid::new_v4().to_string())
        .json(&serde_json::json!({
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
    let id = created["id"].as_str().expect("an id").to_owned();
    let trace_id = "6e0c63257de34c926f9efcd03899d2b5";
    // The reviews list: read by SQL whatever READ_MODEL says (a GET of the provider is
    // answered from the read model, whose catch-ups run outside any request's trace).
    let response = http
        .get(server.url(&format!("/v1_0/service-provider/{id}/reviews")))
        .header("traceparent", format!("00-{trace_id}-a3ce929d0e0e4736-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, _) = server.terminate();
    assert!(status.success(), "exit status {status}");

    let spans = spans(&sink);
    let statements: Vec<_> = spans
        .iter()
        .filter(|s| s.trace_id == trace_id && s.attributes.iter().any(|(k, _)| k == "db.statement"))
        .collect();
    assert!(
        !statements.is_empty(),
        "no SQL span in the trace: {spans:?}"
    );
    assert!(
        statements.iter().all(|s| s.name == "SELECT"
            && s.attributes
                .iter()
                .any(|(k, v)| k == "db.statement" && v.contains("FROM"))),
        "{statements:?}"
    );
    // Bound values stay out: neither the id the client asked for nor the name it sent is in
    // any SQL or store span (the request's own span has its path, `http.target`, by design).
    for span in spans.iter().filter(|s| {
        s.name.starts_with("store ") || s.attributes.iter().any(|(k, _)| k == "db.statement")
    }) {
        for text in [span.name.as_str()]
            .into_iter()
            .chain(span.attributes.iter().map(|(_, v)| v.as_str()))
        {
            assert!(
                !text.contains(&id) && !text.contains(name),
                "a client's value in a span: {span:?}"
            );
        }
    }
}

#[tokio::test]
async fn without_a_traceparent_each_request_gets_a_trace_id_of_its_own_on_its_log_lines() {
    let server = Server::start(&[]);
    for _ in 0..2 {
        reqwest::get(server.url("/v1_0/health")).await.unwrap();
    }
    let (_, log) = server.terminate();
    let ids: Vec<String> = log
        .iter()
        .filter(|l| l.contains("request completed"))
        .map(|l| {
            let line: serde_json::Value = serde_json::from_str(l).unwrap();
            line["span"]["trace_id"]
                .as_str()
                .expect("a trace id")
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 2, "{}", log.join("\n"));
    assert_ne!(ids[0], ids[1]);
    assert!(ids.iter().all(|id| id.len() == 32 && id != &"0".repeat(32)));
}

#[tokio::test]
async fn without_export_a_traceparent_is_still_the_trace_id_of_the_log_lines() {
    let server = Server::start(&[]);
    let trace_id = "5a8f2c4e9b1d3f7a6c0e2b4d8f1a3c5e";
    let response = reqwest::Client::new()
        .get(server.url("/v1_0/health"))
        .header("traceparent", format!("00-{trace_id}-1f2e3d4c5b6a7988-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (_, log) = server.terminate();
    let completed: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("request completed"))
        .collect();
    assert_eq!(completed.len(), 1, "{}", log.join("\n"));
    assert!(
        completed[0].contains(&format!("\"trace_id\":\"{trace_id}\"")),
        "{}",
        completed[0]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_503_is_reported_to_sentry_with_the_trace_id_and_release_and_nothing_else() {
    let sentry = HttpSink::start().await;
    let dsn = format!(
        "{}/42",
        sentry.base.replace("http://", "http://public-key@")
    );
    // A database nobody listens on: every store operation fails, 503. The request's span is
    // below the log level here: the trace id must not depend on it.
    let server = Server::start(&[
        ("RUST_LOG", "warn,provider_api=info"),
        ("SENTRY_DSN", dsn.as_str()),
        ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"),
        ("MIGRATE_ON_START", "false"),
        ("DATABASE_ACQUIRE_TIMEOUT_MS", "300"),
    ]);
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let missing = uuid::Uuid::new_v4();
    let response = reqwest::Client::new()
        .get(server.url(&format!(
            "/v1_0/service-provider/{missing}?secret=query-secret"
        )))
        .header("traceparent", format!("00-{trace_id}-b7ad6b7169203331-01"))
        .header("authorization", "Bearer token-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let (status, _) = server.terminate();
    assert!(status.success(), "exit status {status}");

    let envelopes: Vec<String> = sentry
        .received()
        .into_iter()
        .filter(|r| r.path == "/api/42/envelope/")
        .map(|r| String::from_utf8(r.body).unwrap())
        .collect();
    let events: Vec<serde_json::Value> = envelopes
        .iter()
        .flat_map(|e| e.lines())
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("tags").is_some())
        .collect();
    assert_eq!(events.len(), 1, "{envelopes:#?}");
    let tags = &events[0]["tags"];
    assert_eq!(tags["trace_id"], trace_id);
    assert_eq!(tags["request_id"], request_id.as_str());
    assert_eq!(tags["route"], "/v1_0/service-provider/{id}");
    assert_eq!(tags["method"], "GET");
    assert_eq!(tags["status"], "503");
    let release = events[0]["release"].as_str().unwrap();
    assert!(release.starts_with("provider-api@0.1.0+"), "{release}");
    let sent = envelopes.join("\n");
    for secret in [
        missing.to_string().as_str(),
        "query-secret",
        "token-secret",
        "nobody",
    ] {
        assert!(
            !sent.contains(secret),
            "`{secret}` was sent to Sentry: {sent}"
        );
    }
}
