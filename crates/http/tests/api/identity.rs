//! Identity: the `user-id` header (or `user_id`), checked before anything else.

use crate::helpers::{provider, TestApp};
use actix_web::test as atest;
use serde_json::json;
use uuid::Uuid;

#[actix_web::test]
async fn create_returns_401_when_user_id_header_is_missing() {
    let app = TestApp::new().await;

    let reply = app
        .post("/v1_0/service-provider", None, &provider("Acme", &[], 1))
        .await;

    reply.assert_error(401);
}

#[actix_web::test]
async fn create_returns_401_when_user_id_header_is_not_a_uuid() {
    let app = TestApp::new().await;

    for value in ["", "42", "not-a-uuid", "6f1c2b0e-8d3a-4b5e-9c7d"] {
        let reply = app
            .send(
                atest::TestRequest::post()
                    .uri("/v1_0/service-provider")
                    .insert_header(("user-id", value))
                    .set_json(provider("Acme", &[], 1)),
            )
            .await;

        reply.assert_error(401);
    }
}

#[actix_web::test]
async fn create_accepts_the_user_id_alias_header_and_makes_that_user_the_owner() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();

    let reply = app
        .send(
            atest::TestRequest::post()
                .uri("/v1_0/service-provider")
                .insert_header(("user_id", owner.to_string()))
                .set_json(provider("Acme", &[], 1)),
        )
        .await;

    let id = reply.assert_status(201)["id"].as_str().unwrap().to_owned();
    app.delete(&format!("/v1_0/service-provider/{id}"), Some(owner))
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn create_returns_401_when_user_id_and_user_id_alias_disagree() {
    let app = TestApp::new().await;

    let reply = app
        .send(
            atest::TestRequest::post()
                .uri("/v1_0/service-provider")
                .insert_header(("user-id", Uuid::new_v4().to_string()))
                .insert_header(("user_id", Uuid::new_v4().to_string()))
                .set_json(provider("Acme", &[], 1)),
        )
        .await;

    reply.assert_error(401);
}

#[actix_web::test]
async fn identity_is_checked_before_the_body_is_parsed() {
    let app = TestApp::new().await;

    let malformed = app
        .send(
            atest::TestRequest::post()
                .uri("/v1_0/service-provider")
                .insert_header(("content-type", "application/json"))
                .set_payload("{not json"),
        )
        .await;
    let invalid = app
        .post("/v1_0/service-provider", None, &json!({"name": ""}))
        .await;
    let not_json = app
        .send(
            atest::TestRequest::post()
                .uri("/v1_0/service-provider")
                .insert_header(("content-type", "text/plain"))
                .set_payload("hello"),
        )
        .await;
    let too_large = app
        .send(
            atest::TestRequest::post()
                .uri("/v1_0/service-provider")
                .insert_header(("content-type", "application/json"))
                .set_payload(vec![b' '; 70_000]),
        )
        .await;

    malformed.assert_error(401);
    invalid.assert_error(401);
    not_json.assert_error(401);
    too_large.assert_error(401);
}

#[actix_web::test]
async fn identity_is_checked_before_the_path_id() {
    let app = TestApp::new().await;

    let put = app
        .put("/v1_0/service-provider/not-a-uuid", None, &json!({}))
        .await;
    let delete = app.delete("/v1_0/service-provider/not-a-uuid", None).await;
    let review = app
        .post("/v1_0/service-provider/not-a-uuid/review", None, &json!({}))
        .await;

    put.assert_error(401);
    delete.assert_error(401);
    review.assert_error(401);
}

#[actix_web::test]
async fn put_delete_and_review_return_401_without_user_id() {
    let app = TestApp::new().await;
    let id = app.create_id(&provider("Acme", &[], 1)).await;
    let url = format!("/v1_0/service-provider/{id}");

    app.put(&url, None, &provider("Other", &[], 1))
        .await
        .assert_error(401);
    app.delete(&url, None).await.assert_error(401);
    app.post(&format!("{url}/review"), None, &json!({"rating": 4.0}))
        .await
        .assert_error(401);
    app.get(&url).await.assert_status(200);
}

#[actix_web::test]
async fn reading_routes_need_no_identity_and_ignore_a_malformed_one() {
    let app = TestApp::new().await;
    let id = app.create_id(&provider("Acme", &[], 1)).await;

    let reply = app
        .send(
            atest::TestRequest::get()
                .uri(&format!("/v1_0/service-provider/{id}"))
                .insert_header(("user-id", "garbage")),
        )
        .await;

    reply.assert_status(200);
    app.search("", &json!({})).await.assert_status(200);
}
