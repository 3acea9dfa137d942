//! The real binary on the in-memory store, over real HTTP.

use provider_e2e_tests::{walk_the_whole_api, Server};
use serde_json::{json, Value};

#[tokio::test]
async fn binary_serves_create_get_search_recommend_review_delete_on_memory() {
    let mut server = Server::start(&[]);
    walk_the_whole_api(&server).await;
    let log = server.drain_log().join("\n");
    assert!(
        log.contains("nothing is persisted"),
        "no memory-store warning in:\n{log}"
    );
}

#[tokio::test]
async fn binary_echoes_request_id_and_logs_it() {
    let server = Server::start(&[]);
    let response = reqwest::Client::new()
        .get(server.url("/v1_0/health"))
        .header("x-request-id", "e2e-trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], "e2e-trace-42");
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );
    let (status, log) = server.terminate();
    assert!(status.success(), "exit status {status}");
    assert!(
        log.iter().any(|l| l.contains("e2e-trace-42")),
        "request id not logged:\n{}",
        log.join("\n")
    );
}

#[tokio::test]
async fn binary_exits_cleanly_on_sigterm() {
    let server = Server::start(&[]);
    let (status, _) = server.terminate();
    assert!(status.success(), "exit status {status}");
}
