//! Use cases over mocked stores: what the memory store cannot show (outages, bugs) and what must
//! not happen (a store call that should be skipped).

use crate::helpers::{provider, TestApp};
use provider_domain::{Provider, ProviderDraft, ProviderId, ProviderInput, UserId};
use provider_ports::{
    MockIdempotencyRepository, MockProviderRepository, MockReviewRepository, Page, PageOf, Paging,
    ProviderService, RepoError, Version, Versioned,
};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use uuid::Uuid;

async fn app_over(providers: MockProviderRepository, reviews: MockReviewRepository) -> TestApp {
    TestApp::with_service(ProviderService::new(
        Arc::new(providers),
        Arc::new(reviews),
        Arc::new(MockIdempotencyRepository::new()),
    ))
    .await
}

fn outage() -> RepoError {
    RepoError::Unavailable("connection refused (pool timed out)".into())
}

fn stored(id: Uuid, owner: Uuid) -> Versioned<Provider> {
    let draft = ProviderDraft::parse(&ProviderInput {
        name: "Acme".into(),
        skills: vec!["SEO".into()],
        cost_in_pence: 100,
        availability: vec![],
    })
    .unwrap();
    Versioned {
        value: Provider::new(
            ProviderId::from_uuid(id),
            UserId::from_uuid(owner),
            draft,
            time::OffsetDateTime::UNIX_EPOCH,
        ),
        version: Version::FIRST,
    }
}

#[actix_web::test]
async fn get_returns_503_json_when_the_store_is_unavailable() {
    let mut providers = MockProviderRepository::new();
    providers.expect_get().returning(|_| Err(outage()));
    let app = app_over(providers, MockReviewRepository::new()).await;

    let reply = app
        .get(&format!("/v1_0/service-provider/{}", Uuid::new_v4()))
        .await;

    let body = reply.assert_error(503);
    assert!(!body.to_string().contains("connection refused"));
}

#[actix_web::test]
async fn create_and_search_return_503_json_when_the_store_is_unavailable() {
    let mut providers = MockProviderRepository::new();
    providers.expect_create().returning(|_| Err(outage()));
    providers
        .expect_search()
        .returning(|_, _, _, _| Err(outage()));
    let app = app_over(providers, MockReviewRepository::new()).await;

    let create = app
        .post(
            "/v1_0/service-provider",
            Some(Uuid::new_v4()),
            &provider("Acme", &[], 1),
        )
        .await;
    let search = app.search("", &json!({})).await;

    create.assert_error(503);
    search.assert_error(503);
}

#[actix_web::test]
async fn the_app_answers_again_once_the_store_is_back() {
    let id = Uuid::new_v4();
    let calls = AtomicUsize::new(0);
    let mut providers = MockProviderRepository::new();
    providers.expect_get().returning(move |_| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            Err(outage())
        } else {
            Ok(stored(id, Uuid::new_v4()))
        }
    });
    let app = app_over(providers, MockReviewRepository::new()).await;
    let url = format!("/v1_0/service-provider/{id}");

    let during = app.get(&url).await;
    let after = app.get(&url).await;

    during.assert_error(503);
    assert_eq!(after.assert_status(200)["id"], id.to_string());
}

#[actix_web::test]
async fn an_unexpected_store_error_returns_500_json_without_its_cause() {
    let mut providers = MockProviderRepository::new();
    providers
        .expect_search()
        .returning(|_, _, _, _| Err(RepoError::Unexpected("column \"secret\" is corrupt".into())));
    let app = app_over(providers, MockReviewRepository::new()).await;

    let reply = app.search("", &json!({})).await;

    let body = reply.assert_error(500);
    assert!(!body.to_string().contains("secret"));
}

#[actix_web::test]
async fn self_review_returns_403_without_touching_the_review_store() {
    let (id, owner) = (Uuid::new_v4(), Uuid::new_v4());
    let mut providers = MockProviderRepository::new();
    providers
        .expect_get()
        .returning(move |_| Ok(stored(id, owner)));
    let mut reviews = MockReviewRepository::new();
    reviews.expect_add().times(0);
    let app = app_over(providers, reviews).await;

    let reply = app
        .post(
            &format!("/v1_0/service-provider/{id}/review"),
            Some(owner),
            &json!({"rating": 5.0}),
        )
        .await;

    reply.assert_error(403);
}

#[actix_web::test]
async fn an_invalid_review_never_reaches_the_stores() {
    let mut providers = MockProviderRepository::new();
    providers.expect_get().times(0);
    let mut reviews = MockReviewRepository::new();
    reviews.expect_add().times(0);
    let app = app_over(providers, reviews).await;

    let reply = app
        .post(
            &format!("/v1_0/service-provider/{}/review", Uuid::new_v4()),
            Some(Uuid::new_v4()),
            &json!({"rating": 4.55}),
        )
        .await;

    reply.assert_error(422);
}

#[actix_web::test]
async fn the_review_list_is_passed_the_requested_page() {
    let id = Uuid::new_v4();
    let mut reviews = MockReviewRepository::new();
    reviews
        .expect_list()
        .withf(move |provider, page| {
            provider.as_uuid() == id
                && *page == Paging::Offset(Page::new(Some(3), Some(7)).unwrap())
        })
        .returning(|_, _| {
            Ok(PageOf {
                items: vec![],
                has_more: false,
            })
        });
    let app = app_over(MockProviderRepository::new(), reviews).await;

    let reply = app
        .get(&format!(
            "/v1_0/service-provider/{id}/reviews?page=3&page_size=7"
        ))
        .await;

    assert_eq!(
        reply.assert_status(200),
        json!({"reviews": [], "page": 3, "page_size": 7, "has_more": false, "next_cursor": null})
    );
}

#[actix_web::test]
async fn ready_returns_503_json_when_the_store_ping_fails() {
    let mut providers = MockProviderRepository::new();
    providers.expect_ping().returning(|| Err(outage()));
    let app = app_over(providers, MockReviewRepository::new()).await;

    let reply = app.get("/v1_0/health/ready").await;

    reply.assert_error(503);
}

#[actix_web::test]
async fn ready_returns_503_even_when_the_ping_fails_unexpectedly() {
    let mut providers = MockProviderRepository::new();
    providers
        .expect_ping()
        .returning(|| Err(RepoError::Unexpected("weird".into())));
    let app = app_over(providers, MockReviewRepository::new()).await;

    let reply = app.get("/v1_0/health/ready").await;

    reply.assert_error(503);
}

#[actix_web::test]
async fn liveness_does_not_ask_the_store() {
    let mut providers = MockProviderRepository::new();
    providers.expect_ping().times(0);
    let app = app_over(providers, MockReviewRepository::new()).await;

    let reply = app.get("/v1_0/health").await;

    reply.assert_status(200);
}
