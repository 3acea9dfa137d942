//! `GET /v1_0/events`: the change feed over HTTP (its rules on every store are the contract
//! suite's; here, the shape, the parameters and the statuses).

use crate::helpers::{provider, TestApp};
use provider_http::{Authentication, Gate, HttpSettings, JwtKey, JwtSettings, JwtVerifier};
use provider_memory_adapter::MemoryStore;
use provider_ports::{ChangeFeed, ProviderService};
use serde_json::{json, Value};
use std::sync::Arc;
use uuid::Uuid;

fn sequences(page: &Value) -> Vec<u64> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_u64().unwrap())
        .collect()
}

#[actix_web::test]
async fn an_empty_feed_answers_no_events_and_the_sequence_asked_after() {
    let app = TestApp::new().await;
    let page = app.get("/v1_0/events").await.assert_status(200);
    assert_eq!(page, json!({"events": [], "next_after": 0}));
    let page = app.get("/v1_0/events?after=42").await.assert_status(200);
    assert_eq!(page, json!({"events": [], "next_after": 42}));
}

#[actix_web::test]
async fn each_change_is_an_event_with_its_ids_and_pages_follow_next_after() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();
    let created = app.create(owner, &provider("Ada", &["SEO"], 100)).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let review = app.review(&id, 4.5).await;
    app.delete(&format!("/v1_0/service-provider/{id}"), Some(owner))
        .await
        .assert_status(200);

    let all = app.get("/v1_0/events").await.assert_status(200);
    let events = all["events"].as_array().unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["provider.created", "review.created", "provider.deleted"]
    );
    assert!(events.iter().all(|e| e["provider_id"] == json!(id)));
    assert_eq!(events[1]["review_id"], review["id"]);
    assert!(events[0].get("review_id").is_none(), "{}", events[0]);
    assert!(events
        .iter()
        .all(|e| e["at"].as_str().unwrap().ends_with('Z')));
    let all_sequences = sequences(&all);
    assert!(all_sequences.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(all["next_after"], json!(all_sequences[2]));

    // One at a time, each page after the one before: the same events.
    let mut after = 0;
    let mut walked = Vec::new();
    loop {
        let page = app
            .get(&format!("/v1_0/events?after={after}&limit=1"))
            .await
            .assert_status(200);
        let got = sequences(&page);
        if got.is_empty() {
            assert_eq!(page["next_after"], json!(after));
            break;
        }
        assert_eq!(got.len(), 1);
        after = page["next_after"].as_u64().unwrap();
        walked.extend(got);
    }
    assert_eq!(walked, all_sequences);
}

#[actix_web::test]
async fn bad_parameters_are_422_naming_them() {
    let app = TestApp::new().await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("after=-1", "after"),
        ("after=9007199254740992", "after"),
        ("after=9223372036854775808", "after"),
        ("after=1.5", "after"),
        ("after=1&after=2", "after"),
        ("page=1", "page"),
    ] {
        let reply = app.get(&format!("/v1_0/events?{query}")).await;
        reply.assert_error(422);
        assert_eq!(reply.error_fields(), [field], "{query}");
    }
    app.get("/v1_0/events?limit=1000").await.assert_status(200);
    app.get("/v1_0/events?after=9007199254740991")
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn a_reader_behind_the_retention_window_is_410() {
    let store = Arc::new(MemoryStore::new());
    let service =
        ProviderService::new(store.clone(), store.clone(), store.clone()).with_feed(store.clone());
    let app = TestApp::with_service(service).await;
    for name in ["One", "Two"] {
        app.create_id(&provider(name, &[], 100)).await;
    }
    let first = sequences(&app.get("/v1_0/events").await.assert_status(200));
    store
        .purge(time::OffsetDateTime::now_utc() + time::Duration::minutes(1))
        .await
        .unwrap();
    let body = app
        .get(&format!("/v1_0/events?after={}", first[0]))
        .await
        .assert_error(410);
    assert!(
        body["error"].as_str().unwrap().contains("no longer kept"),
        "{body}"
    );
    // Caught up to the purge, or starting over: no gap, so no 410.
    app.get(&format!("/v1_0/events?after={}", first[1]))
        .await
        .assert_status(200);
    app.get("/v1_0/events?after=0").await.assert_status(200);
}

#[actix_web::test]
async fn in_jwt_mode_the_feed_needs_an_identified_caller() {
    let verifier = JwtVerifier::new(&JwtSettings {
        key: JwtKey::Hs256Secret("a-test-secret-of-at-least-32-bytes!!".into()),
        issuer: None,
        audience: None,
        roles_claim: provider_http::DEFAULT_ROLES_CLAIM.into(),
    })
    .unwrap();
    let app = TestApp::with_gate(Gate::new(HttpSettings {
        authentication: Authentication::Jwt(Box::new(verifier)),
        ..HttpSettings::default()
    }))
    .await;
    let reply = app.get("/v1_0/events").await;
    reply.assert_error(401);
    assert_eq!(reply.header("www-authenticate").as_deref(), Some("Bearer"));
}

#[actix_web::test]
async fn a_service_without_a_feed_says_so() {
    let store = Arc::new(MemoryStore::new());
    let app =
        TestApp::with_service(ProviderService::new(store.clone(), store.clone(), store)).await;
    app.get("/v1_0/events").await.assert_error(404);
}
