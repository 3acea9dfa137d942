//! `POST /v1_0/service-providers/recommend`: the rules and the ranking.

use crate::helpers::{names, provider_available, TestApp};
use serde_json::{json, Value};

const WINDOW: (&str, &str) = ("2027-06-01", "2027-06-30");

fn job(budget: i64, days: i64, skills: &[&str]) -> Value {
    json!({
        "job_budget_in_pence": budget,
        "expected_job_duration_in_days": days,
        "skills": skills,
        "availability": [{"from_date": WINDOW.0, "to_date": WINDOW.1}],
    })
}

/// A provider available all of June 2027.
fn available(name: &str, skills: &[&str], cost: i64) -> Value {
    provider_available(name, skills, cost, &[WINDOW])
}

#[actix_web::test]
async fn recommend_returns_422_naming_every_missing_required_field() {
    let app = TestApp::new().await;

    let reply = app.recommend("", &json!({})).await;

    let body = reply.assert_error(422);
    assert_eq!(
        reply.error_fields(),
        ["job_budget_in_pence", "skills", "availability"]
    );
    assert_eq!(body["details"][0]["message"], "is required");
}

#[actix_web::test]
async fn recommend_returns_422_for_a_zero_budget_duration_or_empty_lists() {
    let app = TestApp::new().await;
    let body = json!({
        "job_budget_in_pence": 0,
        "expected_job_duration_in_days": 0,
        "skills": [],
        "availability": [],
        "minimum_review_rating": 6,
    });

    let reply = app.recommend("", &body).await;

    reply.assert_error(422);
    assert_eq!(
        reply.error_fields(),
        [
            "job_budget_in_pence",
            "expected_job_duration_in_days",
            "skills",
            "availability",
            "minimum_review_rating"
        ]
    );
}

#[actix_web::test]
async fn recommend_returns_422_when_a_window_is_shorter_than_the_job() {
    let app = TestApp::new().await;
    let body = json!({
        "job_budget_in_pence": 1000,
        "expected_job_duration_in_days": 3,
        "skills": ["SEO"],
        "availability": [
            {"from_date": "2027-06-01", "to_date": "2027-06-03"},
            {"from_date": "2027-07-01", "to_date": "2027-07-02"},
        ],
    });

    let reply = app.recommend("", &body).await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["availability[1]"]);
}

#[actix_web::test]
async fn recommend_keeps_providers_whose_cost_for_the_job_is_within_budget() {
    let app = TestApp::new().await;
    app.create_id(&available("Exactly", &["SEO"], 100)).await;
    app.create_id(&available("Over", &["SEO"], 101)).await;

    let body = app
        .recommend("", &job(300, 3, &["SEO"]))
        .await
        .assert_status(200);

    assert_eq!(names(&body), ["Exactly"]);
}

#[actix_web::test]
async fn recommend_needs_at_least_one_requested_skill_case_insensitively() {
    let app = TestApp::new().await;
    app.create_id(&available("Optimiser", &["SEO"], 100)).await;
    app.create_id(&available("Plumber", &["Plumbing"], 100))
        .await;

    let body = app
        .recommend("", &job(1000, 1, &["seo", "Carpentry"]))
        .await
        .assert_status(200);

    assert_eq!(names(&body), ["Optimiser"]);
}

#[actix_web::test]
async fn recommend_needs_enough_consecutive_days_inside_one_window_joining_touching_ranges() {
    let app = TestApp::new().await;
    app.create_id(&provider_available(
        "Touching",
        &["SEO"],
        300,
        &[("2027-06-01", "2027-06-02"), ("2027-06-03", "2027-06-04")],
    ))
    .await;
    app.create_id(&provider_available(
        "Gapped",
        &["SEO"],
        200,
        &[("2027-06-01", "2027-06-02"), ("2027-06-04", "2027-06-05")],
    ))
    .await;
    app.create_id(&provider_available(
        "Straddling",
        &["SEO"],
        100,
        &[("2027-05-25", "2027-06-02")],
    ))
    .await;

    let body = app
        .recommend("", &job(10_000, 4, &["SEO"]))
        .await
        .assert_status(200);

    assert_eq!(names(&body), ["Touching"]);
}

#[actix_web::test]
async fn recommend_excludes_providers_rated_below_the_minimum() {
    let app = TestApp::new().await;
    let good = app.create_id(&available("Good", &["SEO"], 100)).await;
    let poor = app.create_id(&available("Poor", &["SEO"], 100)).await;
    app.review(&good, 4.0).await;
    app.review(&poor, 3.9).await;

    let body = app
        .recommend(
            "",
            &json!({
                "job_budget_in_pence": 1000,
                "skills": ["SEO"],
                "availability": [{"from_date": WINDOW.0, "to_date": WINDOW.1}],
                "minimum_review_rating": 4.0,
            }),
        )
        .await
        .assert_status(200);

    assert_eq!(names(&body), ["Good"]);
}

#[actix_web::test]
async fn recommend_ranks_more_matched_skills_first_then_higher_cost() {
    let app = TestApp::new().await;
    app.create_id(&available("One skill, dear", &["SEO"], 500))
        .await;
    app.create_id(&available(
        "Two skills, cheap",
        &["SEO", "Copywriting"],
        100,
    ))
    .await;
    app.create_id(&available("One skill, cheap", &["Copywriting"], 200))
        .await;

    let body = app
        .recommend("", &job(10_000, 1, &["SEO", "copywriting"]))
        .await
        .assert_status(200);

    assert_eq!(
        names(&body),
        ["Two skills, cheap", "One skill, dear", "One skill, cheap"]
    );
}

#[actix_web::test]
async fn recommend_ranks_a_confident_rating_above_a_single_perfect_review() {
    let app = TestApp::new().await;
    let lucky = app
        .create_id(&available("One perfect review", &["SEO"], 100))
        .await;
    let steady = app
        .create_id(&available("Many good reviews", &["SEO"], 100))
        .await;
    app.review(&lucky, 5.0).await;
    for _ in 0..3 {
        app.review(&steady, 4.5).await;
    }

    let body = app
        .recommend("", &job(1000, 1, &["SEO"]))
        .await
        .assert_status(200);

    assert_eq!(names(&body), ["Many good reviews", "One perfect review"]);
}

#[actix_web::test]
async fn recommend_items_are_providers_with_their_matched_skills_in_the_providers_spelling() {
    let app = TestApp::new().await;
    let created = app
        .create(
            uuid::Uuid::new_v4(),
            &available(
                "Agency",
                &["Cold Calling", "Plumbing", "SEO Optimisation"],
                100,
            ),
        )
        .await;

    let body = app
        .recommend("", &job(1000, 1, &["seo optimisation", "COLD CALLING"]))
        .await
        .assert_status(200);

    let mut expected = created.clone();
    expected["matched_skills"] = json!(["Cold Calling", "SEO Optimisation"]);
    expected["matched_skill_rating"] = json!({"rating": 0.0, "count": 0});
    assert_eq!(
        body,
        json!({
            "service_providers": [expected],
            "page": 1,
            "page_size": 10,
            "has_more": false,
        })
    );
}

#[actix_web::test]
async fn recommend_pages_with_has_more() {
    let app = TestApp::new().await;
    for cost in [100, 200, 300] {
        app.create_id(&available(&format!("P{cost}"), &["SEO"], cost))
            .await;
    }

    let page1 = app
        .recommend("?page_size=2", &job(1000, 1, &["SEO"]))
        .await
        .assert_status(200);
    let page2 = app
        .recommend("?page=2&page_size=2", &job(1000, 1, &["SEO"]))
        .await
        .assert_status(200);

    assert_eq!(names(&page1), ["P300", "P200"]);
    assert_eq!(page1["has_more"], true);
    assert_eq!(names(&page2), ["P100"]);
    assert_eq!(page2["has_more"], false);
}

#[actix_web::test]
async fn recommend_ranks_more_reviews_first_when_the_weighted_ratings_tie() {
    let app = TestApp::new().await;
    app.create_id(&available("Unreviewed", &["SEO"], 100)).await;
    let reviewed = app
        .create_id(&available("Reviewed once", &["SEO"], 100))
        .await;
    // (25 + 125) / (1 + 5) == (0 + 125) / (0 + 5): the same weighted rating, 2.5.
    app.review(&reviewed, 2.5).await;

    let body = app
        .recommend("", &job(1000, 1, &["SEO"]))
        .await
        .assert_status(200);

    assert_eq!(names(&body), ["Reviewed once", "Unreviewed"]);
}

#[actix_web::test]
async fn recommend_ranks_by_id_ascending_when_everything_else_ties() {
    let app = TestApp::new().await;
    let a = app.create_id(&available("A", &["SEO"], 100)).await;
    let b = app.create_id(&available("B", &["SEO"], 100)).await;

    let body = app
        .recommend("", &job(1000, 1, &["SEO"]))
        .await
        .assert_status(200);

    let expected = if a < b { ["A", "B"] } else { ["B", "A"] };
    assert_eq!(names(&body), expected);
}

#[actix_web::test]
async fn recommend_defaults_to_a_one_day_job_and_no_minimum_rating() {
    let app = TestApp::new().await;
    app.create_id(&provider_available(
        "One day",
        &["SEO"],
        100,
        &[("2027-06-15", "2027-06-15")],
    ))
    .await;

    let body = app
        .recommend(
            "",
            &json!({
                "job_budget_in_pence": 100,
                "skills": ["SEO"],
                "availability": [{"from_date": "2027-06-01", "to_date": "2027-06-30"}],
            }),
        )
        .await
        .assert_status(200);

    assert_eq!(names(&body), ["One day"]);
}
