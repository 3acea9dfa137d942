//! `page` and `page_size` on every list route.

use crate::helpers::TestApp;
use serde_json::json;

#[actix_web::test]
async fn lists_default_to_page_1_of_10() {
    let app = TestApp::new().await;

    let body = app.search("", &json!({})).await.assert_status(200);

    assert_eq!(
        body,
        json!({
            "service_providers": [],
            "page": 1,
            "page_size": 10,
            "has_more": false,
            "next_cursor": null
        })
    );
}

#[actix_web::test]
async fn search_returns_422_naming_page_when_it_is_below_1() {
    let app = TestApp::new().await;

    for query in ["?page=0", "?page=-3"] {
        let reply = app.search(query, &json!({})).await;

        reply.assert_error(422);
        assert_eq!(reply.error_fields(), ["page"], "{query}");
    }
}

#[actix_web::test]
async fn search_returns_422_naming_page_size_when_it_is_outside_1_to_100() {
    let app = TestApp::new().await;
    app.search("?page_size=1", &json!({}))
        .await
        .assert_status(200);
    app.search("?page_size=100", &json!({}))
        .await
        .assert_status(200);

    for query in ["?page_size=0", "?page_size=101"] {
        let reply = app.search(query, &json!({})).await;

        reply.assert_error(422);
        assert_eq!(reply.error_fields(), ["page_size"], "{query}");
    }
}

#[actix_web::test]
async fn search_returns_422_when_page_times_page_size_is_over_10000() {
    let app = TestApp::new().await;
    app.search("?page=100&page_size=100", &json!({}))
        .await
        .assert_status(200);

    let reply = app.search("?page=101&page_size=100", &json!({})).await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["page"]);
}

#[actix_web::test]
async fn search_returns_422_naming_page_when_it_is_not_an_integer() {
    let app = TestApp::new().await;

    for query in ["?page=abc", "?page=1.5", "?page="] {
        let reply = app.search(query, &json!({})).await;

        let body = reply.assert_error(422);
        assert_eq!(reply.error_fields(), ["page"], "{query}");
        assert_eq!(body["details"][0]["message"], "must be an integer");
    }
}

#[actix_web::test]
async fn search_returns_422_for_a_huge_page_number() {
    let app = TestApp::new().await;

    let reply = app
        .search("?page=99999999999999999999999", &json!({}))
        .await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["page"]);
}

#[actix_web::test]
async fn search_returns_422_naming_an_unknown_or_repeated_query_parameter() {
    let app = TestApp::new().await;

    let unknown = app.search("?pagesize=50", &json!({})).await;
    let repeated = app.search("?page=1&page=2", &json!({})).await;

    unknown.assert_error(422);
    assert_eq!(unknown.error_fields(), ["pagesize"]);
    repeated.assert_error(422);
    assert_eq!(repeated.error_fields(), ["page"]);
}

#[actix_web::test]
async fn reviews_and_recommend_check_paging_too() {
    let app = TestApp::new().await;

    let reviews = app
        .get(&format!(
            "/v1_0/service-provider/{}/reviews?page_size=500",
            uuid::Uuid::new_v4()
        ))
        .await;
    let recommend = app.recommend("?page=0", &json!({})).await;

    reviews.assert_error(422);
    assert_eq!(reviews.error_fields(), ["page_size"]);
    recommend.assert_error(422);
    assert_eq!(recommend.error_fields(), ["page"]);
}
