//! Error reports (Sentry): a store failure (503) and a panic each make one event with the
//! request id, method and route template, and nothing else from the request. Captured with the
//! sentry crate's test transport.

use crate::helpers::{provider, TestApp};
use actix_web::web;
use provider_memory_adapter::MemoryStore;
use provider_ports::{
    MockIdempotencyRepository, MockProviderRepository, MockReviewRepository, ProviderService,
    RepoError,
};
use serde_json::json;
use std::sync::Arc;
use uuid::Uuid;

/// Runs `test` on an actix system inside a hub whose events are captured, and returns them.
fn captured(test: impl std::future::Future<Output = ()>) -> Vec<sentry::protocol::Event<'static>> {
    sentry::test::with_captured_events(|| actix_web::rt::System::new().block_on(test))
}

/// Everything an event would send, as text.
fn sent(event: &sentry::protocol::Event<'static>) -> String {
    serde_json::to_string(event).unwrap()
}

#[test]
fn a_store_failure_is_reported_once_with_the_request_id_method_and_route_only() {
    let id = Uuid::new_v4();
    let caller = Uuid::new_v4();
    let events = captured(async move {
        let mut providers = MockProviderRepository::new();
        providers.expect_replace().returning(|_, _, _, _| {
            Err(RepoError::Unavailable(
                "pool timed out: secret-cause".into(),
            ))
        });
        let service = ProviderService::new(
            Arc::new(providers),
            Arc::new(MockReviewRepository::new()),
            Arc::new(MockIdempotencyRepository::new()),
        );
        let app = TestApp::with_service(service).await;
        let reply = app
            .put(
                &format!("/v1_0/service-provider/{id}?token=query-secret"),
                Some(caller),
                &provider("Body Secret Ltd", &["Secret Skill"], 100),
            )
            .await;
        reply.assert_error(503);
        assert_eq!(
            reply.header("x-request-id").as_deref().map(str::len),
            Some(36)
        );
        app.get("/v1_0/health").await.assert_status(200);
    });

    assert_eq!(events.len(), 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(event.level, sentry::Level::Error);
    assert_eq!(event.tags["method"], "PUT");
    assert_eq!(event.tags["route"], "/v1_0/service-provider/{id}");
    assert_eq!(event.tags["status"], "503");
    assert_eq!(event.tags["panic"], "false");
    assert_eq!(event.tags["request_id"].len(), 36);
    let text = sent(event);
    for secret in [
        id.to_string(),
        caller.to_string(),
        "Body Secret".into(),
        "Secret Skill".into(),
        "query-secret".into(),
        "secret-cause".into(),
        "user-id".into(),
    ] {
        assert!(
            !text.contains(&secret),
            "`{secret}` is in the report: {text}"
        );
    }
    assert!(event.request.is_none(), "request data sent: {text}");
}

#[test]
fn a_panic_is_reported_once_and_its_message_is_not() {
    let events = captured(async {
        let store = Arc::new(MemoryStore::new());
        let service = ProviderService::new(store.clone(), store.clone(), store);
        let app = TestApp::serve(provider_http::app(service).route(
            "/test/panic/{name}",
            web::get().to(|| async {
                panic!("a bug, with a secret in its message");
                #[allow(unreachable_code)]
                actix_web::HttpResponse::Ok().finish()
            }),
        ))
        .await;
        let reply = app
            .send(
                actix_web::test::TestRequest::get()
                    .uri("/test/panic/Alice?q=hidden")
                    .insert_header(("authorization", "Bearer token-secret"))
                    .insert_header(("x-request-id", "report-42")),
            )
            .await;
        reply.assert_error(500);
    });

    assert_eq!(events.len(), 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(event.tags["panic"], "true");
    assert_eq!(event.tags["status"], "500");
    assert_eq!(event.tags["route"], "/test/panic/{name}");
    assert_eq!(event.tags["request_id"], "report-42");
    let text = sent(event);
    for secret in [
        "secret in its message",
        "Alice",
        "hidden",
        "token-secret",
        "Bearer",
    ] {
        assert!(
            !text.contains(secret),
            "`{secret}` is in the report: {text}"
        );
    }
}

#[test]
fn client_errors_and_successes_are_not_reported() {
    let events = captured(async {
        let app = TestApp::new().await;
        app.get("/v1_0/health").await.assert_status(200);
        app.get(&format!("/v1_0/service-provider/{}", Uuid::new_v4()))
            .await
            .assert_error(404);
        app.post("/v1_0/service-provider", None, &json!({}))
            .await
            .assert_error(401);
    });
    assert!(events.is_empty(), "{events:#?}");
}
