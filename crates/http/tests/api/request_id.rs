//! `x-request-id` on every response, and on every log line of the request.

use crate::helpers::{self, provider, TestApp};
use actix_web::test as atest;
use serde_json::json;
use uuid::Uuid;

#[actix_web::test]
async fn responses_echo_the_requests_x_request_id() {
    let app = TestApp::new().await;

    let reply = app
        .send(
            atest::TestRequest::get()
                .uri("/v1_0/health")
                .insert_header(("x-request-id", "trace-me-42")),
        )
        .await;

    assert_eq!(reply.header("x-request-id").as_deref(), Some("trace-me-42"));
}

#[actix_web::test]
async fn responses_carry_a_new_uuid_x_request_id_when_the_request_has_none() {
    let app = TestApp::new().await;

    let first = app.get("/v1_0/health").await;
    let second = app.get("/v1_0/health").await;

    let first = first.header("x-request-id").unwrap();
    let second = second.header("x-request-id").unwrap();
    Uuid::parse_str(&first).unwrap();
    Uuid::parse_str(&second).unwrap();
    assert_ne!(first, second);
}

#[actix_web::test]
async fn an_unusable_x_request_id_is_replaced_by_a_new_uuid() {
    let app = TestApp::new().await;

    let reply = app
        .send(
            atest::TestRequest::get()
                .uri("/v1_0/health")
                .insert_header(("x-request-id", "x".repeat(201))),
        )
        .await;

    Uuid::parse_str(&reply.header("x-request-id").unwrap()).unwrap();
}

#[actix_web::test]
async fn error_responses_carry_x_request_id_too() {
    let app = TestApp::new().await;

    let not_found = app.get("/nowhere").await;
    let unauthenticated = app
        .post("/v1_0/service-provider", None, &provider("Acme", &[], 1))
        .await;
    let not_allowed = app.delete("/v1_0/health", None).await;

    for reply in [not_found, unauthenticated, not_allowed] {
        assert!(reply.header("x-request-id").is_some(), "{reply:?}");
    }
}

#[actix_web::test]
async fn every_log_line_of_a_request_carries_its_request_id() {
    let captured = helpers::captured_logs();
    let app = TestApp::new().await;

    for (id, request) in [
        (
            "create-1",
            atest::TestRequest::post()
                .uri("/v1_0/service-provider")
                .insert_header(("user-id", Uuid::new_v4().to_string()))
                .set_json(provider("Acme", &["SEO"], 100)),
        ),
        (
            "refused-2",
            atest::TestRequest::post()
                .uri("/v1_0/service-providers")
                .set_json(json!({"cost_lte": 1})),
        ),
    ] {
        app.send(request.insert_header(("x-request-id", id))).await;
    }

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    for id in ["create-1", "refused-2"] {
        let tagged = format!("request_id={id}");
        let own: Vec<&&str> = lines.iter().filter(|l| l.contains(&tagged)).collect();
        assert!(
            own.iter().any(|l| l.contains("request completed")),
            "one line per request for {id}: {text}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("request_id=refused-2") && l.contains("WARN")),
        "the refusal is logged with its id: {text}"
    );
    // Every line this test binary logged came from some request, and carries its id.
    for line in &lines {
        assert!(
            line.contains("request_id="),
            "a log line without a request id: {line}"
        );
    }
}
