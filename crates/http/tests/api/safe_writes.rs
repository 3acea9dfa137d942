//! Safe writes: the strong `ETag` of a provider, `If-None-Match` (304), `If-Match` (412) and
//! `Idempotency-Key` (replay, 422, 409), through the real app over the memory store (and a
//! mocked idempotency store for a request still in flight).

use crate::helpers::{provider, Reply, TestApp};
use actix_web::test as atest;
use provider_memory_adapter::MemoryStore;
use provider_ports::{Claim, MockIdempotencyRepository, ProviderService};
use serde_json::{json, Value};
use std::sync::Arc;
use uuid::Uuid;

const CREATE: &str = "/v1_0/service-provider";

fn url(id: &str) -> String {
    format!("/v1_0/service-provider/{id}")
}

/// A request as `user` with extra `headers`.
fn request(
    req: atest::TestRequest,
    user: Option<Uuid>,
    headers: &[(&str, &[u8])],
) -> atest::TestRequest {
    let mut req = match user {
        Some(user) => req.insert_header(("user-id", user.to_string())),
        None => req,
    };
    for (name, value) in headers {
        req = req.append_header((
            *name,
            actix_web::http::header::HeaderValue::from_bytes(value).unwrap(),
        ));
    }
    req
}

async fn get_with(app: &TestApp, id: &str, headers: &[(&str, &[u8])]) -> Reply {
    app.send(request(
        atest::TestRequest::get().uri(&url(id)),
        None,
        headers,
    ))
    .await
}

async fn put_with(
    app: &TestApp,
    id: &str,
    owner: Uuid,
    headers: &[(&str, &[u8])],
    body: &Value,
) -> Reply {
    app.send(
        request(
            atest::TestRequest::put().uri(&url(id)),
            Some(owner),
            headers,
        )
        .set_json(body),
    )
    .await
}

async fn delete_with(app: &TestApp, id: &str, owner: Uuid, headers: &[(&str, &[u8])]) -> Reply {
    app.send(request(
        atest::TestRequest::delete().uri(&url(id)),
        Some(owner),
        headers,
    ))
    .await
}

/// POSTs `body` (as these exact bytes) to `uri` as `user` with `Idempotency-Key: key`.
async fn post_keyed(app: &TestApp, uri: &str, user: Uuid, key: &[u8], body: &str) -> Reply {
    app.send(
        request(
            atest::TestRequest::post().uri(uri),
            Some(user),
            &[("idempotency-key", key)],
        )
        .insert_header(("content-type", "application/json"))
        .set_payload(body.to_owned()),
    )
    .await
}

/// Creates a provider; returns its id and ETag.
async fn created(app: &TestApp, owner: Uuid) -> (String, String) {
    let reply = app
        .post(CREATE, Some(owner), &provider("Tagged", &["SEO"], 1_000))
        .await;
    let body = reply.assert_status(201);
    (
        body["id"].as_str().unwrap().to_owned(),
        reply.header("etag").expect("an ETag"),
    )
}

async fn count_providers(app: &TestApp) -> usize {
    let reply = app.search("?page_size=100", &json!({})).await;
    reply.assert_status(200)["service_providers"]
        .as_array()
        .unwrap()
        .len()
}

#[actix_web::test]
async fn create_get_and_put_answer_with_a_strong_etag_that_every_put_and_review_changes() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();

    let (id, at_create) = created(&app, owner).await;
    let at_get = app.get(&url(&id)).await.header("etag");
    app.review(&id, 4.0).await;
    let after_review = app.get(&url(&id)).await.header("etag");
    let put = app
        .put(&url(&id), Some(owner), &provider("Renamed", &[], 5))
        .await;
    let after_put = app.get(&url(&id)).await.header("etag");

    assert_eq!(at_create, "\"1\"");
    assert_eq!(at_get.as_deref(), Some("\"1\""));
    assert_eq!(after_review.as_deref(), Some("\"2\""));
    put.assert_status(200);
    assert_eq!(put.header("etag").as_deref(), Some("\"3\""));
    assert_eq!(after_put.as_deref(), Some("\"3\""));
}

#[actix_web::test]
async fn lists_carry_no_etag() {
    let app = TestApp::new().await;
    let (id, _) = created(&app, Uuid::new_v4()).await;
    app.review(&id, 4.0).await;

    let search = app.search("", &json!({})).await;
    let reviews = app.get(&format!("{}/reviews", url(&id))).await;

    assert_eq!(search.header("etag"), None);
    assert_eq!(reviews.header("etag"), None);
}

#[actix_web::test]
async fn get_with_if_none_match_naming_the_current_tag_is_304_with_the_etag_and_no_body() {
    let app = TestApp::new().await;
    let (id, tag) = created(&app, Uuid::new_v4()).await;

    for matching in [
        tag.as_bytes(),
        b"*",
        b"\"7\", \"1\"",
        b"W/\"1\"", // If-None-Match compares weakly
    ] {
        let reply = get_with(&app, &id, &[("if-none-match", matching)]).await;
        assert_eq!(
            reply.status.as_u16(),
            304,
            "{}",
            String::from_utf8_lossy(matching)
        );
        assert_eq!(reply.header("etag"), Some(tag.clone()));
        assert!(reply.body.is_empty());
    }
}

#[actix_web::test]
async fn get_with_a_stale_if_none_match_is_200_with_the_provider() {
    let app = TestApp::new().await;
    let (id, stale) = created(&app, Uuid::new_v4()).await;
    app.review(&id, 3.0).await;

    let reply = get_with(&app, &id, &[("if-none-match", stale.as_bytes())]).await;

    let body = reply.assert_status(200);
    assert_eq!(body["review_count"], 1);
    assert_eq!(reply.header("etag").as_deref(), Some("\"2\""));
}

#[actix_web::test]
async fn put_with_a_stale_if_match_is_412_json_and_changes_nothing() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();
    let (id, tag) = created(&app, owner).await;
    // Someone reviews after the owner read: the owner's tag is stale.
    app.review(&id, 5.0).await;
    let before = app.get(&url(&id)).await;

    for stale in [tag.as_bytes(), b"\"2\"x".as_slice(), b"W/\"2\"", b"\"abc\""] {
        let reply = put_with(
            &app,
            &id,
            owner,
            &[("if-match", stale)],
            &provider("Lost update", &[], 1),
        )
        .await;
        reply.assert_error(412);
    }

    let after = app.get(&url(&id)).await;
    assert_eq!(after.json(), before.json());
    assert_eq!(after.header("etag"), before.header("etag"));
}

#[actix_web::test]
async fn put_with_if_match_star_or_a_list_holding_the_current_tag_replaces() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();
    let (id, _) = created(&app, owner).await;

    let listed = put_with(
        &app,
        &id,
        owner,
        &[("if-match", b"W/\"1\", \"9\""), ("if-match", b"\"1\"")],
        &provider("Listed", &[], 2),
    )
    .await;
    let star = put_with(
        &app,
        &id,
        owner,
        &[("if-match", b"*")],
        &provider("Starred", &[], 3),
    )
    .await;

    assert_eq!(listed.assert_status(200)["name"], "Listed");
    assert_eq!(listed.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(star.assert_status(200)["name"], "Starred");
    assert_eq!(star.header("etag").as_deref(), Some("\"3\""));
}

#[actix_web::test]
async fn writes_to_a_missing_or_not_yours_provider_are_404_whatever_the_if_match() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();
    let (id, tag) = created(&app, owner).await;
    let missing = Uuid::new_v4().to_string();
    let stranger = Uuid::new_v4();

    for if_match in [tag.as_bytes(), b"*", b"\"99\""] {
        let headers = [("if-match", if_match)];
        let body = provider("Mine now", &[], 1);
        put_with(&app, &id, stranger, &headers, &body)
            .await
            .assert_error(404);
        put_with(&app, &missing, owner, &headers, &body)
            .await
            .assert_error(404);
        delete_with(&app, &id, stranger, &headers)
            .await
            .assert_error(404);
        delete_with(&app, &missing, owner, &headers)
            .await
            .assert_error(404);
    }
    app.get(&url(&id)).await.assert_status(200);
}

#[actix_web::test]
async fn delete_with_a_stale_if_match_is_412_and_with_the_current_one_deletes() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();
    let (id, first) = created(&app, owner).await;
    let current = app
        .put(&url(&id), Some(owner), &provider("Changed", &[], 9))
        .await
        .header("etag")
        .unwrap();

    delete_with(&app, &id, owner, &[("if-match", first.as_bytes())])
        .await
        .assert_error(412);
    app.get(&url(&id)).await.assert_status(200);
    delete_with(&app, &id, owner, &[("if-match", current.as_bytes())])
        .await
        .assert_status(200);
    app.get(&url(&id)).await.assert_error(404);
}

#[actix_web::test]
async fn a_create_retried_with_the_same_key_and_body_replays_the_first_answer_and_creates_nothing()
{
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();
    let body = r#"{"name": "Once", "skills": ["SEO"], "cost_in_pence": 100}"#;
    // The same JSON value: other spacing, other key order.
    let same = r#"{"cost_in_pence":100,"skills":["SEO"],"name":"Once"}"#;

    let first = post_keyed(&app, CREATE, owner, b"create-1", body).await;
    let retry = post_keyed(&app, CREATE, owner, b"create-1", same).await;

    first.assert_status(201);
    assert_eq!(first.header("idempotency-replayed"), None);
    assert_eq!(retry.status.as_u16(), 201);
    assert_eq!(
        retry.header("idempotency-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(retry.header("etag"), first.header("etag"));
    assert_eq!(
        retry.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(count_providers(&app).await, 1);
}

#[actix_web::test]
async fn a_replay_is_the_first_answer_even_after_the_provider_changed() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();
    let body = r#"{"name": "Original", "cost_in_pence": 100}"#;
    let first = post_keyed(&app, CREATE, owner, b"k", body).await;
    let id = first.json()["id"].as_str().unwrap().to_owned();
    app.put(&url(&id), Some(owner), &provider("Changed", &[], 5))
        .await
        .assert_status(200);

    let retry = post_keyed(&app, CREATE, owner, b"k", body).await;

    assert_eq!(retry.json()["name"], "Original");
    assert_eq!(retry.header("etag").as_deref(), Some("\"1\""));
}

#[actix_web::test]
async fn the_same_key_with_another_body_is_422_on_idempotency_key() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();
    post_keyed(
        &app,
        CREATE,
        owner,
        b"k",
        r#"{"name": "A", "cost_in_pence": 1}"#,
    )
    .await
    .assert_status(201);

    let other = post_keyed(
        &app,
        CREATE,
        owner,
        b"k",
        r#"{"name": "B", "cost_in_pence": 1}"#,
    )
    .await;

    other.assert_error(422);
    assert_eq!(other.error_fields(), ["Idempotency-Key"]);
    assert_eq!(count_providers(&app).await, 1);
}

#[actix_web::test]
async fn keys_are_per_caller() {
    let app = TestApp::new().await;
    let body = r#"{"name": "Mine", "cost_in_pence": 1}"#;

    let a = post_keyed(&app, CREATE, Uuid::new_v4(), b"shared", body).await;
    let b = post_keyed(&app, CREATE, Uuid::new_v4(), b"shared", body).await;

    assert_ne!(a.assert_status(201)["id"], b.assert_status(201)["id"]);
    assert_eq!(b.header("idempotency-replayed"), None);
    assert_eq!(count_providers(&app).await, 2);
}

#[actix_web::test]
async fn a_review_retried_with_the_same_key_is_replayed_not_refused_as_a_second_review() {
    let app = TestApp::new().await;
    let (id, _) = created(&app, Uuid::new_v4()).await;
    let reviewer = Uuid::new_v4();
    let uri = format!("{}/review", url(&id));

    let first = post_keyed(&app, &uri, reviewer, b"r1", r#"{"rating": 4.5}"#).await;
    let retry = post_keyed(&app, &uri, reviewer, b"r1", r#"{ "rating": 4.5 }"#).await;
    let same_key_other_provider = post_keyed(
        &app,
        &format!("{}/review", url(&created(&app, Uuid::new_v4()).await.0)),
        reviewer,
        b"r1",
        r#"{"rating": 4.5}"#,
    )
    .await;

    first.assert_status(201);
    assert_eq!(retry.status.as_u16(), 201);
    assert_eq!(
        retry.header("idempotency-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(app.get(&url(&id)).await.json()["review_count"], 1);
    // The provider id is part of what the key stands for.
    same_key_other_provider.assert_error(422);
    assert_eq!(same_key_other_provider.error_fields(), ["Idempotency-Key"]);
}

#[actix_web::test]
async fn after_an_error_a_retry_with_the_same_key_runs_again() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();
    let missing = format!("{}/review", url(&Uuid::new_v4().to_string()));

    let invalid = post_keyed(
        &app,
        CREATE,
        owner,
        b"k",
        r#"{"name": "", "cost_in_pence": 1}"#,
    )
    .await;
    let fixed = post_keyed(
        &app,
        CREATE,
        owner,
        b"k",
        r#"{"name": "Ok", "cost_in_pence": 1}"#,
    )
    .await;
    let not_found = post_keyed(&app, &missing, owner, b"k2", r#"{"rating": 1.0}"#).await;
    let again = post_keyed(&app, &missing, owner, b"k2", r#"{"rating": 1.0}"#).await;

    invalid.assert_error(422);
    fixed.assert_status(201);
    assert_eq!(fixed.header("idempotency-replayed"), None);
    not_found.assert_error(404);
    again.assert_error(404);
    assert_eq!(again.header("idempotency-replayed"), None);
}

#[actix_web::test]
async fn a_malformed_idempotency_key_is_422_on_idempotency_key() {
    let app = TestApp::new().await;
    let body = r#"{"name": "Never", "cost_in_pence": 1}"#;
    let long = vec![b'k'; 256];

    for key in [
        b"".as_slice(),
        &long,
        b"has space",
        b"caf\xc3\xa9",
        b"tab\there",
    ] {
        let reply = post_keyed(&app, CREATE, Uuid::new_v4(), key, body).await;
        reply.assert_error(422);
        assert_eq!(reply.error_fields(), ["Idempotency-Key"]);
    }
    let longest = post_keyed(&app, CREATE, Uuid::new_v4(), &long[..255], body).await;
    longest.assert_status(201);
    assert_eq!(count_providers(&app).await, 1);
}

#[actix_web::test]
async fn a_retry_while_the_first_is_still_processed_is_409() {
    let store = Arc::new(MemoryStore::new());
    let mut keys = MockIdempotencyRepository::new();
    keys.expect_claim().returning(|_, _, _| Ok(Claim::InFlight));
    let service = ProviderService::new(store.clone(), store, Arc::new(keys));
    let app = TestApp::with_service(service).await;

    let reply = post_keyed(
        &app,
        CREATE,
        Uuid::new_v4(),
        b"busy",
        r#"{"name": "Busy", "cost_in_pence": 1}"#,
    )
    .await;

    reply.assert_error(409);
    assert_eq!(count_providers(&app).await, 0);
}
