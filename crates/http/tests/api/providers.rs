use crate::helpers::{provider, TestApp};
use serde_json::json;
use uuid::Uuid;

#[actix_web::test]
async fn create_returns_201_with_the_provider_and_its_location() {
    let app = TestApp::new().await;
    let body = provider(
        "SEO Incorporated",
        &["SEO Optimisation", "Cold Calling"],
        25_000,
    );

    let reply = app
        .post("/v1_0/service-provider", Some(Uuid::new_v4()), &body)
        .await;

    let created = reply.assert_status(201);
    let id = created["id"].as_str().unwrap();
    Uuid::parse_str(id).unwrap();
    assert_eq!(
        reply.header("location").as_deref(),
        Some(format!("/v1_0/service-provider/{id}").as_str())
    );
    assert_eq!(
        created,
        json!({
            "id": id,
            "name": "SEO Incorporated",
            "skills": ["SEO Optimisation", "Cold Calling"],
            "cost_in_pence": 25000,
            "availability": [{"from_date": "2027-11-12", "to_date": "2027-12-28"}],
            "review_rating": 0.0,
            "review_count": 0,
            "skill_ratings": [],
        })
    );
}

#[actix_web::test]
async fn create_trims_the_name_drops_duplicate_skills_and_sorts_availability() {
    let app = TestApp::new().await;
    let body = json!({
        "name": "  SEO Incorporated \u{a0}",
        "skills": [" SEO ", "seo", "Cold Calling", "COLD CALLING"],
        "cost_in_pence": 0,
        "availability": [
            {"from_date": "2027-12-01", "to_date": "2027-12-31"},
            {"from_date": "2027-01-01", "to_date": "2027-01-31"},
        ],
    });

    let created = app.create(Uuid::new_v4(), &body).await;

    assert_eq!(created["name"], "SEO Incorporated");
    assert_eq!(created["skills"], json!(["SEO", "Cold Calling"]));
    assert_eq!(
        created["availability"],
        json!([
            {"from_date": "2027-01-01", "to_date": "2027-01-31"},
            {"from_date": "2027-12-01", "to_date": "2027-12-31"},
        ])
    );
}

#[actix_web::test]
async fn create_accepts_a_body_without_skills_or_availability() {
    let app = TestApp::new().await;

    let created = app
        .create(Uuid::new_v4(), &json!({"name": "Bare", "cost_in_pence": 1}))
        .await;

    assert_eq!(created["skills"], json!([]));
    assert_eq!(created["availability"], json!([]));
}

#[actix_web::test]
async fn get_returns_200_with_what_was_created() {
    let app = TestApp::new().await;
    let created = app
        .create(Uuid::new_v4(), &provider("Acme", &["Plumbing"], 12_345))
        .await;
    let id = created["id"].as_str().unwrap();

    let reply = app.get(&format!("/v1_0/service-provider/{id}")).await;

    assert_eq!(reply.assert_status(200), created);
}

#[actix_web::test]
async fn get_returns_404_json_when_the_provider_does_not_exist() {
    let app = TestApp::new().await;

    let reply = app
        .get(&format!("/v1_0/service-provider/{}", Uuid::new_v4()))
        .await;

    let body = reply.assert_error(404);
    assert!(body.get("details").is_none());
}

#[actix_web::test]
async fn get_returns_422_naming_id_when_the_id_is_not_a_uuid() {
    let app = TestApp::new().await;

    let reply = app.get("/v1_0/service-provider/not-a-uuid").await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["id"]);
}

#[actix_web::test]
async fn put_replaces_every_field_and_returns_200() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();
    let id = app.create(owner, &provider("Old", &["A", "B"], 100)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let replacement = json!({
        "name": "New",
        "skills": ["C"],
        "cost_in_pence": 200,
        "availability": [{"from_date": "2028-02-29", "to_date": "2028-02-29"}],
    });

    let reply = app
        .put(
            &format!("/v1_0/service-provider/{id}"),
            Some(owner),
            &replacement,
        )
        .await;

    let replaced = reply.assert_status(200);
    let expected = json!({
        "id": id,
        "name": "New",
        "skills": ["C"],
        "cost_in_pence": 200,
        "availability": [{"from_date": "2028-02-29", "to_date": "2028-02-29"}],
        "review_rating": 0.0,
        "review_count": 0,
        "skill_ratings": [],
    });
    assert_eq!(replaced, expected);
    let read = app.get(&format!("/v1_0/service-provider/{id}")).await;
    assert_eq!(read.assert_status(200), expected);
}

#[actix_web::test]
async fn put_keeps_the_providers_reviews() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();
    let id = app.create(owner, &provider("Old", &["A"], 100)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.review(&id, 4.0).await;

    let reply = app
        .put(
            &format!("/v1_0/service-provider/{id}"),
            Some(owner),
            &provider("New", &[], 1),
        )
        .await;

    let replaced = reply.assert_status(200);
    assert_eq!(replaced["review_rating"], 4.0);
    assert_eq!(replaced["review_count"], 1);
}

#[actix_web::test]
async fn put_returns_404_when_the_provider_belongs_to_someone_else() {
    let app = TestApp::new().await;
    let id = app.create_id(&provider("Mine", &[], 100)).await;

    let reply = app
        .put(
            &format!("/v1_0/service-provider/{id}"),
            Some(Uuid::new_v4()),
            &provider("Stolen", &[], 1),
        )
        .await;

    reply.assert_error(404);
    let read = app.get(&format!("/v1_0/service-provider/{id}")).await;
    assert_eq!(read.assert_status(200)["name"], "Mine");
}

#[actix_web::test]
async fn put_returns_404_when_the_provider_does_not_exist() {
    let app = TestApp::new().await;

    let reply = app
        .put(
            &format!("/v1_0/service-provider/{}", Uuid::new_v4()),
            Some(Uuid::new_v4()),
            &provider("Ghost", &[], 1),
        )
        .await;

    reply.assert_error(404);
}

#[actix_web::test]
async fn put_returns_422_and_changes_nothing_when_the_replacement_is_invalid() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();
    let id = app.create(owner, &provider("Kept", &[], 100)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let reply = app
        .put(
            &format!("/v1_0/service-provider/{id}"),
            Some(owner),
            &provider(" ", &[], 1),
        )
        .await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["name"]);
    let read = app.get(&format!("/v1_0/service-provider/{id}")).await;
    assert_eq!(read.assert_status(200)["name"], "Kept");
}

#[actix_web::test]
async fn delete_returns_200_with_an_empty_object_and_the_provider_is_gone() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();
    let id = app.create(owner, &provider("Doomed", &[], 100)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let reply = app
        .delete(&format!("/v1_0/service-provider/{id}"), Some(owner))
        .await;

    assert_eq!(reply.assert_status(200), json!({}));
    app.get(&format!("/v1_0/service-provider/{id}"))
        .await
        .assert_error(404);
}

#[actix_web::test]
async fn delete_removes_the_providers_reviews() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();
    let id = app.create(owner, &provider("Doomed", &[], 100)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.review(&id, 5.0).await;

    app.delete(&format!("/v1_0/service-provider/{id}"), Some(owner))
        .await
        .assert_status(200);

    app.get(&format!("/v1_0/service-provider/{id}/reviews"))
        .await
        .assert_error(404);
    let everything = app.search("", &json!({})).await.assert_status(200);
    assert_eq!(everything["service_providers"], json!([]));
}

#[actix_web::test]
async fn delete_returns_404_when_the_provider_belongs_to_someone_else() {
    let app = TestApp::new().await;
    let id = app.create_id(&provider("Mine", &[], 100)).await;

    let reply = app
        .delete(
            &format!("/v1_0/service-provider/{id}"),
            Some(Uuid::new_v4()),
        )
        .await;

    reply.assert_error(404);
    app.get(&format!("/v1_0/service-provider/{id}"))
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn delete_returns_404_when_the_provider_does_not_exist() {
    let app = TestApp::new().await;

    let reply = app
        .delete(
            &format!("/v1_0/service-provider/{}", Uuid::new_v4()),
            Some(Uuid::new_v4()),
        )
        .await;

    reply.assert_error(404);
}
