//! Ratings per skill over HTTP: a review's `skill_ratings`, the provider's per-skill figures,
//! and recommend's ranking key 3 with `matched_skill_rating`.

use crate::helpers::{names, provider_available, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

const WINDOW: (&str, &str) = ("2027-06-01", "2027-06-30");

async fn agency(app: &TestApp, name: &str) -> String {
    app.create(
        Uuid::new_v4(),
        &provider_available(
            name,
            &["SEO Optimisation", "Cold Calling"],
            25_000,
            &[WINDOW],
        ),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn review(app: &TestApp, id: &str, body: &Value) -> crate::helpers::Reply {
    app.post(
        &format!("/v1_0/service-provider/{id}/review"),
        Some(Uuid::new_v4()),
        body,
    )
    .await
}

#[actix_web::test]
async fn a_review_rates_skills_in_the_providers_spelling_and_order() {
    let app = TestApp::new().await;
    let id = agency(&app, "Acme").await;

    let reply = review(
        &app,
        &id,
        &json!({"rating": 4.0, "skill_ratings": [
            {"skill": " cold calling ", "rating": 4.5},
            {"skill": "SEO OPTIMISATION", "rating": 3.0}
        ]}),
    )
    .await;

    let created = reply.assert_status(201);
    assert_eq!(
        created["skill_ratings"],
        json!([
            {"skill": "SEO Optimisation", "rating": 3.0},
            {"skill": "Cold Calling", "rating": 4.5}
        ])
    );
    let listed = app
        .get(&format!("/v1_0/service-provider/{id}/reviews"))
        .await
        .assert_status(200);
    assert_eq!(listed["reviews"][0], created);
}

#[actix_web::test]
async fn a_provider_shows_the_mean_and_count_of_each_rated_skill_unrounded() {
    let app = TestApp::new().await;
    let id = agency(&app, "Acme").await;
    for rating in [4.5, 3.0] {
        review(
            &app,
            &id,
            &json!({"rating": 4.0, "skill_ratings": [{"skill": "Cold Calling", "rating": rating}]}),
        )
        .await
        .assert_status(201);
    }

    let read = app
        .get(&format!("/v1_0/service-provider/{id}"))
        .await
        .assert_status(200);

    assert_eq!(
        read["skill_ratings"],
        json!([{"skill": "Cold Calling", "rating": 3.75, "count": 2}])
    );
}

#[actix_web::test]
async fn removing_a_skill_hides_its_ratings_and_adding_it_back_shows_them() {
    let app = TestApp::new().await;
    let owner = Uuid::new_v4();
    let id = app
        .create(
            owner,
            &provider_available("Acme", &["SEO Optimisation", "Cold Calling"], 1, &[WINDOW]),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    review(
        &app,
        &id,
        &json!({"rating": 4.0, "skill_ratings": [{"skill": "Cold Calling", "rating": 5.0}]}),
    )
    .await
    .assert_status(201);
    let uri = format!("/v1_0/service-provider/{id}");

    let without = app
        .put(
            &uri,
            Some(owner),
            &provider_available("Acme", &["SEO Optimisation"], 1, &[WINDOW]),
        )
        .await
        .assert_status(200);
    let back = app
        .put(
            &uri,
            Some(owner),
            &provider_available("Acme", &["COLD CALLING"], 1, &[WINDOW]),
        )
        .await
        .assert_status(200);

    assert_eq!(without["skill_ratings"], json!([]));
    assert_eq!(
        back["skill_ratings"],
        json!([{"skill": "COLD CALLING", "rating": 5.0, "count": 1}])
    );
}

#[actix_web::test]
async fn bad_skill_ratings_are_422_naming_each_entry_and_change_nothing() {
    let app = TestApp::new().await;
    let id = agency(&app, "Acme").await;
    let cases = [
        (
            json!([{"skill": "Plumbing", "rating": 4.0}]),
            vec!["skill_ratings[0].skill"],
        ),
        (
            json!([{"skill": "cold calling", "rating": 4.0}, {"skill": "Cold Calling", "rating": 1.0}]),
            vec!["skill_ratings[1].skill"],
        ),
        (
            json!([{"skill": "Cold Calling", "rating": 4.55}, {"skill": "SEO Optimisation", "rating": 6}]),
            vec!["skill_ratings[0].rating", "skill_ratings[1].rating"],
        ),
        (
            json!([{"skill": "Cold\u{0}Calling", "rating": 4.0}]),
            vec!["skill_ratings[0].skill"],
        ),
    ];
    for (entries, fields) in cases {
        let reply = review(&app, &id, &json!({"rating": 4.0, "skill_ratings": entries})).await;
        reply.assert_error(422);
        assert_eq!(reply.error_fields(), fields, "{entries}");
    }
    let unknown = review(
        &app,
        &id,
        &json!({"rating": 4.0, "skill_ratings": [{"skill": "SEO Optimisation", "rating": 4.0, "weight": 2}]}),
    )
    .await;
    unknown.assert_error(422);

    let read = app
        .get(&format!("/v1_0/service-provider/{id}"))
        .await
        .assert_status(200);
    assert_eq!(read["review_count"], 0);
    assert_eq!(read["skill_ratings"], json!([]));
}

/// The worked example of docs/API.md: same day rate; B is rated lower overall but better at
/// the job's skill, so it ranks first.
#[actix_web::test]
async fn recommend_ranks_the_provider_better_rated_for_the_jobs_skill_first() {
    let app = TestApp::new().await;
    let a = agency(&app, "A").await;
    let b = agency(&app, "B").await;
    review(
        &app,
        &a,
        &json!({"rating": 5.0, "skill_ratings": [{"skill": "SEO Optimisation", "rating": 2.0}]}),
    )
    .await
    .assert_status(201);
    review(
        &app,
        &b,
        &json!({"rating": 4.0, "skill_ratings": [{"skill": "SEO Optimisation", "rating": 5.0}]}),
    )
    .await
    .assert_status(201);
    let job = |skills: &[&str]| {
        json!({
            "job_budget_in_pence": 100_000,
            "skills": skills,
            "availability": [{"from_date": WINDOW.0, "to_date": WINDOW.1}],
        })
    };

    let seo = app
        .recommend("", &job(&["seo optimisation"]))
        .await
        .assert_status(200);
    let calling = app
        .recommend("", &job(&["Cold Calling"]))
        .await
        .assert_status(200);

    assert_eq!(names(&seo), ["B", "A"]);
    assert_eq!(
        seo["service_providers"][0]["matched_skill_rating"],
        json!({"rating": 5.0, "count": 1})
    );
    // No per-skill rating of Cold Calling: key 3 ties and the overall rating decides.
    assert_eq!(names(&calling), ["A", "B"]);
    assert_eq!(
        calling["service_providers"][1]["matched_skill_rating"],
        json!({"rating": 0.0, "count": 0})
    );
}
