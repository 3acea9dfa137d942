//! Traces of the real binary: a W3C `traceparent` sent by the test becomes the trace id of the
//! spans the server exports over OTLP/HTTP (to a receiver in this test, decoding the protobuf)
//! and of its log lines.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use provider_e2e_tests::Server;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One span received: its trace id (hex) and name.
type Received = Arc<Mutex<Vec<(String, String, String)>>>;

/// An OTLP/HTTP receiver on a free loopback port: answers 200 to every POST and keeps the
/// trace id, span name and path of every span of every `/v1/traces` export.
async fn otlp_receiver() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let received = Received::default();
    let spans = received.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let spans = spans.clone();
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                loop {
                    let mut request_line = String::new();
                    if stream.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let path = request_line.split(' ').nth(1).unwrap_or("").to_owned();
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        stream.read_line(&mut header).await.unwrap();
                        let header = header.trim_end();
                        if header.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':') {
                            if name.eq_ignore_ascii_case("content-length") {
                                length = value.trim().parse().unwrap();
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    stream.read_exact(&mut body).await.unwrap();
                    let export = ExportTraceServiceRequest::decode(body.as_slice())
                        .expect("an OTLP protobuf export");
                    for span in export
                        .resource_spans
                        .iter()
                        .flat_map(|r| &r.scope_spans)
                        .flat_map(|s| &s.spans)
                    {
                        let trace_id: String =
                            span.trace_id.iter().map(|b| format!("{b:02x}")).collect();
                        spans
                            .lock()
                            .unwrap()
                            .push((trace_id, span.name.clone(), path.clone()));
                    }
                    stream
                        .get_mut()
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .await
                        .unwrap();
                }
            });
        }
    });
    (base, received)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_traceparent_becomes_the_trace_id_of_exported_spans_and_log_lines() {
    let (endpoint, received) = otlp_receiver().await;
    let server = Server::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
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

    let spans = received.lock().unwrap().clone();
    let ours: Vec<_> = spans.iter().filter(|(id, _, _)| id == trace_id).collect();
    let names: Vec<&str> = ours.iter().map(|(_, name, _)| name.as_str()).collect();
    assert!(
        names.contains(&"GET /v1_0/service-provider/{id}"),
        "no request span in the trace: {spans:?}"
    );
    assert!(
        names.contains(&"store get"),
        "no store span in the trace: {spans:?}"
    );
    assert!(
        ours.iter().all(|(_, _, path)| path == "/v1/traces"),
        "{spans:?}"
    );
    assert!(
        !spans
            .iter()
            .any(|(_, name, _)| name.contains(&missing.to_string())),
        "an id in a span name: {spans:?}"
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
