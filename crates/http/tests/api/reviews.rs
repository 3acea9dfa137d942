use crate::helpers::{provider, TestApp};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

async fn provider_id(app: &TestApp, owner: Uuid) -> String {
    app.create(owner, &provider("Acme", &["Plumbing"], 100))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn review_returns_201_with_the_review_and_the_review_list_as_location() {
    let app = TestApp::new().await;
    let id = provider_id(&app, Uuid::new_v4()).await;
    let reviewer = Uuid::new_v4();

    let reply = app
        .post(
            &format!("/v1_0/service-provider/{id}/review"),
            Some(reviewer),
            &json!({"rating": 4.5, "comment": "  Quick and thorough.  "}),
        )
        .await;

    let review = reply.assert_status(201);
    assert_eq!(
        reply.header("location").as_deref(),
        Some(format!("/v1_0/service-provider/{id}/reviews").as_str())
    );
    Uuid::parse_str(review["id"].as_str().unwrap()).unwrap();
    assert_eq!(review["service_provider_id"], id);
    assert_eq!(review["user_id"], reviewer.to_string());
    assert_eq!(review["rating"], 4.5);
    assert_eq!(review["comment"], "Quick and thorough.");
    OffsetDateTime::parse(review["created_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert_eq!(review["skill_ratings"], json!([]));
    assert_eq!(review["status"], "published");
    assert_eq!(review["reply"], Value::Null);
    assert_eq!(review.as_object().unwrap().len(), 9);
}

#[actix_web::test]
async fn review_without_a_comment_has_a_null_comment() {
    let app = TestApp::new().await;
    let id = provider_id(&app, Uuid::new_v4()).await;

    let review = app.review(&id, 0.0).await;

    assert_eq!(review["comment"], json!(null));
    assert_eq!(review["rating"], 0.0);
}

#[actix_web::test]
async fn reviews_set_the_providers_mean_rating_and_count() {
    let app = TestApp::new().await;
    let id = provider_id(&app, Uuid::new_v4()).await;

    app.review(&id, 3.0).await;
    app.review(&id, 4.0).await;

    let read = app
        .get(&format!("/v1_0/service-provider/{id}"))
        .await
        .assert_status(200);
    assert_eq!(read["review_rating"], 3.5);
    assert_eq!(read["review_count"], 2);
}

#[actix_web::test]
async fn review_returns_403_when_the_owner_reviews_their_own_provider() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();
    let id = provider_id(&app, owner).await;

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
async fn review_returns_409_when_the_user_already_reviewed_the_provider() {
    let app = TestApp::new().await;
    let id = provider_id(&app, Uuid::new_v4()).await;
    let reviewer = Uuid::new_v4();
    let url = format!("/v1_0/service-provider/{id}/review");
    app.post(&url, Some(reviewer), &json!({"rating": 2.0}))
        .await
        .assert_status(201);

    let reply = app
        .post(&url, Some(reviewer), &json!({"rating": 5.0}))
        .await;

    reply.assert_error(409);
    let read = app
        .get(&format!("/v1_0/service-provider/{id}"))
        .await
        .assert_status(200);
    assert_eq!(read["review_rating"], 2.0);
    assert_eq!(read["review_count"], 1);
}

#[actix_web::test]
async fn review_returns_404_when_the_provider_does_not_exist() {
    let app = TestApp::new().await;

    let reply = app
        .post(
            &format!("/v1_0/service-provider/{}/review", Uuid::new_v4()),
            Some(Uuid::new_v4()),
            &json!({"rating": 5.0}),
        )
        .await;

    reply.assert_error(404);
}

#[actix_web::test]
async fn review_returns_422_for_a_rating_that_is_not_in_tenths_or_out_of_range() {
    let app = TestApp::new().await;
    let id = provider_id(&app, Uuid::new_v4()).await;

    for rating in [json!(4.55), json!(5.1), json!(-0.1), json!("4.5")] {
        let reply = app
            .post(
                &format!("/v1_0/service-provider/{id}/review"),
                Some(Uuid::new_v4()),
                &json!({ "rating": rating }),
            )
            .await;

        reply.assert_error(422);
        assert_eq!(reply.error_fields(), ["rating"], "rating {rating}");
    }
}

#[actix_web::test]
async fn review_returns_422_naming_a_missing_rating() {
    let app = TestApp::new().await;
    let id = provider_id(&app, Uuid::new_v4()).await;

    let reply = app
        .post(
            &format!("/v1_0/service-provider/{id}/review"),
            Some(Uuid::new_v4()),
            &json!({"comment": "no rating"}),
        )
        .await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["rating"]);
}

#[actix_web::test]
async fn review_accepts_a_2000_character_comment_and_refuses_2001() {
    let app = TestApp::new().await;
    let id = provider_id(&app, Uuid::new_v4()).await;
    let url = format!("/v1_0/service-provider/{id}/review");

    let longest = app
        .post(
            &url,
            Some(Uuid::new_v4()),
            &json!({"rating": 1.0, "comment": "ü".repeat(2000)}),
        )
        .await;
    let too_long = app
        .post(
            &url,
            Some(Uuid::new_v4()),
            &json!({"rating": 1.0, "comment": "ü".repeat(2001)}),
        )
        .await;

    longest.assert_status(201);
    too_long.assert_error(422);
    assert_eq!(too_long.error_fields(), ["comment"]);
}

#[actix_web::test]
async fn reviews_are_listed_newest_first_in_the_list_shape() {
    let app = TestApp::new().await;
    let id = provider_id(&app, Uuid::new_v4()).await;
    let first = app.review(&id, 1.0).await;
    let second = app.review(&id, 2.0).await;
    let third = app.review(&id, 3.0).await;

    let reply = app
        .get(&format!("/v1_0/service-provider/{id}/reviews"))
        .await;

    assert_eq!(
        reply.assert_status(200),
        json!({
            "reviews": [third, second, first],
            "page": 1,
            "page_size": 10,
            "next_cursor": null,
            "has_more": false,
        })
    );
}

#[actix_web::test]
async fn reviews_are_paged_with_has_more() {
    let app = TestApp::new().await;
    let id = provider_id(&app, Uuid::new_v4()).await;
    for rating in [1.0, 2.0, 3.0] {
        app.review(&id, rating).await;
    }
    let url = format!("/v1_0/service-provider/{id}/reviews");

    let page1 = app
        .get(&format!("{url}?page=1&page_size=2"))
        .await
        .assert_status(200);
    let page2 = app
        .get(&format!("{url}?page=2&page_size=2"))
        .await
        .assert_status(200);
    let page3 = app
        .get(&format!("{url}?page=3&page_size=2"))
        .await
        .assert_status(200);

    let ratings = |page: &serde_json::Value| -> Vec<f64> {
        page["reviews"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["rating"].as_f64().unwrap())
            .collect()
    };
    assert_eq!(ratings(&page1), [3.0, 2.0]);
    assert_eq!(page1["has_more"], true);
    assert_eq!(ratings(&page2), [1.0]);
    assert_eq!(page2["has_more"], false);
    assert_eq!(
        (page2["page"].clone(), page2["page_size"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(ratings(&page3), Vec::<f64>::new());
    assert_eq!(page3["has_more"], false);
}

#[actix_web::test]
async fn reviews_of_a_missing_provider_return_404() {
    let app = TestApp::new().await;

    let reply = app
        .get(&format!(
            "/v1_0/service-provider/{}/reviews",
            Uuid::new_v4()
        ))
        .await;

    reply.assert_error(404);
}

#[actix_web::test]
async fn reviews_of_a_malformed_id_return_422_naming_id() {
    let app = TestApp::new().await;

    let reply = app.get("/v1_0/service-provider/123/reviews").await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["id"]);
}
