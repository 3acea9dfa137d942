//! The Text rule of docs/API.md through the HTTP layer: a control character (U+0000..=U+001F,
//! U+007F) in any text a client sends is 422 naming the field, and nothing is stored; a review
//! comment may hold tab, line feed and carriage return.

use crate::helpers::{names, provider, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

const MESSAGE_NUL_AT_4: &str = "must not contain control characters (found U+0000 at character 4)";

/// Asserts a 422 whose only detail is `field`, with `message`.
#[track_caller]
fn assert_refused_at(reply: &crate::helpers::Reply, field: &str, message: &str) {
    let body = reply.assert_error(422);
    assert_eq!(reply.error_fields(), [field]);
    assert_eq!(body["details"][0]["message"], message);
}

async fn stored_names(app: &TestApp) -> Vec<String> {
    names(&app.search("", &json!({})).await.assert_status(200))
}

#[actix_web::test]
async fn create_returns_422_naming_the_name_when_it_holds_a_nul_and_stores_nothing() {
    let app = TestApp::new().await;

    let reply = app
        .post(
            "/v1_0/service-provider",
            Some(Uuid::new_v4()),
            &provider("Acm\u{0}e", &["SEO"], 1),
        )
        .await;

    assert_refused_at(&reply, "name", MESSAGE_NUL_AT_4);
    assert!(stored_names(&app).await.is_empty());
}

#[actix_web::test]
async fn create_returns_422_naming_each_skill_that_holds_a_control_character() {
    let app = TestApp::new().await;

    let reply = app
        .post(
            "/v1_0/service-provider",
            Some(Uuid::new_v4()),
            &provider("Acme", &["SEO", "Co\u{7f}ld", "Design", "\tPlumbing"], 1),
        )
        .await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["skills[1]", "skills[3]"]);
    assert!(stored_names(&app).await.is_empty());
}

#[actix_web::test]
async fn create_refuses_a_leading_tab_in_the_name_rather_than_trimming_it() {
    let app = TestApp::new().await;

    let reply = app
        .post(
            "/v1_0/service-provider",
            Some(Uuid::new_v4()),
            &provider("\tBob", &[], 1),
        )
        .await;

    assert_refused_at(
        &reply,
        "name",
        "must not contain control characters (found U+0009 at character 1)",
    );
    assert!(stored_names(&app).await.is_empty());
}

#[actix_web::test]
async fn put_returns_422_naming_the_field_and_changes_nothing() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();
    let created = app.create(owner, &provider("Acme", &["SEO"], 1)).await;
    let id = created["id"].as_str().unwrap();

    let reply = app
        .put(
            &format!("/v1_0/service-provider/{id}"),
            Some(owner),
            &provider("Acme", &["SEO", "Cold\u{0}"], 2),
        )
        .await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["skills[1]"]);
    let now = app
        .get(&format!("/v1_0/service-provider/{id}"))
        .await
        .assert_status(200);
    assert_eq!(now, created);
}

#[actix_web::test]
async fn review_returns_422_naming_the_comment_when_it_holds_a_nul_and_stores_nothing() {
    let app = TestApp::new().await;
    let id = app.create_id(&provider("Acme", &["SEO"], 1)).await;

    let reply = app
        .post(
            &format!("/v1_0/service-provider/{id}/review"),
            Some(Uuid::new_v4()),
            &json!({"rating": 4.5, "comment": "Goo\u{0}d"}),
        )
        .await;

    assert_refused_at(&reply, "comment", MESSAGE_NUL_AT_4);
    let reviews = app
        .get(&format!("/v1_0/service-provider/{id}/reviews"))
        .await
        .assert_status(200);
    assert_eq!(reviews["reviews"], json!([]));
    let stored = app
        .get(&format!("/v1_0/service-provider/{id}"))
        .await
        .assert_status(200);
    assert_eq!(stored["review_count"], 0);
}

#[actix_web::test]
async fn review_reports_a_bad_rating_and_a_bad_comment_together() {
    let app = TestApp::new().await;
    let id = app.create_id(&provider("Acme", &["SEO"], 1)).await;

    let reply = app
        .post(
            &format!("/v1_0/service-provider/{id}/review"),
            Some(Uuid::new_v4()),
            &json!({"rating": 4.55, "comment": "\u{1b}[31mred"}),
        )
        .await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["rating", "comment"]);
}

#[actix_web::test]
async fn review_keeps_tabs_and_line_breaks_inside_a_comment() {
    let app = TestApp::new().await;
    let id = app.create_id(&provider("Acme", &["SEO"], 1)).await;

    let reply = app
        .post(
            &format!("/v1_0/service-provider/{id}/review"),
            Some(Uuid::new_v4()),
            &json!({"rating": 4.0, "comment": "Quick:\tdone.\r\nWould hire again.\n"}),
        )
        .await;

    let review = reply.assert_status(201);
    assert_eq!(review["comment"], "Quick:\tdone.\r\nWould hire again.");
}

#[actix_web::test]
async fn search_returns_422_naming_the_name_or_a_skill_that_holds_a_control_character() {
    let app = TestApp::new().await;
    app.create_id(&provider("Acme", &["SEO"], 1)).await;
    let cases: [(Value, &[&str]); 3] = [
        (json!({"name": "Acm\u{0}"}), &["name"]),
        (json!({"skills": ["SEO", "\u{7f}"]}), &["skills[1]"]),
        (
            json!({"name": "\nAcme", "skills": ["S\u{0}EO"]}),
            &["name", "skills[0]"],
        ),
    ];

    for (body, fields) in cases {
        let reply = app.search("", &body).await;

        reply.assert_error(422);
        assert_eq!(reply.error_fields(), fields, "{body}");
    }
}

#[actix_web::test]
async fn recommend_returns_422_naming_a_skill_that_holds_a_control_character() {
    let app = TestApp::new().await;
    app.create_id(&provider("Acme", &["SEO"], 1)).await;

    let reply = app
        .recommend(
            "",
            &json!({
                "job_budget_in_pence": 1_000,
                "skills": ["SEO", "Des\u{0}ign"],
                "availability": [{"from_date": "2027-11-12", "to_date": "2027-12-28"}],
            }),
        )
        .await;

    assert_refused_at(&reply, "skills[1]", MESSAGE_NUL_AT_4);
}
