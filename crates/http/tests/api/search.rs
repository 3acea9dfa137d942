//! `POST /v1_0/service-providers`: the filters and the order.

use crate::helpers::{names, provider, provider_available, TestApp};
use serde_json::json;

#[actix_web::test]
async fn an_empty_search_lists_every_provider_by_cost_descending() {
    let app = TestApp::new().await;
    app.create_id(&provider("Cheap", &[], 100)).await;
    app.create_id(&provider("Dear", &[], 300)).await;
    app.create_id(&provider("Middle", &[], 200)).await;

    let body = app.search("", &json!({})).await.assert_status(200);

    assert_eq!(names(&body), ["Dear", "Middle", "Cheap"]);
    assert_eq!(body["has_more"], false);
    let first = &body["service_providers"][0];
    for field in [
        "id",
        "name",
        "skills",
        "cost_in_pence",
        "availability",
        "review_rating",
        "review_count",
    ] {
        assert!(first.get(field).is_some(), "{field} in {first}");
    }
}

#[actix_web::test]
async fn search_orders_equal_costs_by_rating_descending_then_id_ascending() {
    let app = TestApp::new().await;
    let low = app.create_id(&provider("Low", &[], 100)).await;
    let high = app.create_id(&provider("High", &[], 100)).await;
    let a = app.create_id(&provider("Unrated A", &[], 100)).await;
    let b = app.create_id(&provider("Unrated B", &[], 100)).await;
    app.review(&low, 2.0).await;
    app.review(&high, 4.0).await;

    let body = app.search("", &json!({})).await.assert_status(200);

    let (first_unrated, second_unrated) = if a < b {
        ("Unrated A", "Unrated B")
    } else {
        ("Unrated B", "Unrated A")
    };
    assert_eq!(names(&body), ["High", "Low", first_unrated, second_unrated]);
}

#[actix_web::test]
async fn search_filters_by_a_case_insensitive_substring_of_the_name() {
    let app = TestApp::new().await;
    app.create_id(&provider("SEO Incorporated", &[], 100)).await;
    app.create_id(&provider("Plumbers Ltd", &[], 100)).await;

    let body = app
        .search("", &json!({"name": "incorp"}))
        .await
        .assert_status(200);

    assert_eq!(names(&body), ["SEO Incorporated"]);
}

#[actix_web::test]
async fn search_filters_by_any_of_the_skills_case_insensitively() {
    let app = TestApp::new().await;
    app.create_id(&provider("Caller", &["Cold Calling"], 300))
        .await;
    app.create_id(&provider("Optimiser", &["SEO"], 200)).await;
    app.create_id(&provider("Plumber", &["Plumbing"], 100))
        .await;

    let body = app
        .search("", &json!({"skills": ["cold calling", "seo"]}))
        .await
        .assert_status(200);
    let partial = app
        .search("", &json!({"skills": ["Cold"]}))
        .await
        .assert_status(200);
    let none = app
        .search("", &json!({"skills": []}))
        .await
        .assert_status(200);

    assert_eq!(names(&body), ["Caller", "Optimiser"]);
    assert_eq!(names(&partial), Vec::<String>::new());
    assert_eq!(names(&none).len(), 3);
}

#[actix_web::test]
async fn search_cost_bounds_are_strict() {
    let app = TestApp::new().await;
    for cost in [100, 200, 300] {
        app.create_id(&provider(&format!("P{cost}"), &[], cost))
            .await;
    }

    let body = app
        .search("", &json!({"cost_gt": 100, "cost_lt": 300}))
        .await
        .assert_status(200);

    assert_eq!(names(&body), ["P200"]);
}

#[actix_web::test]
async fn search_returns_422_when_cost_gt_is_not_below_cost_lt() {
    let app = TestApp::new().await;

    let reply = app
        .search("", &json!({"cost_gt": 200, "cost_lt": 200}))
        .await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["cost_gt"]);
}

#[actix_web::test]
async fn search_review_bounds_are_inclusive() {
    let app = TestApp::new().await;
    for (name, rating) in [("Three", 3.0), ("Four", 4.0), ("Five", 5.0)] {
        let id = app.create_id(&provider(name, &[], 100)).await;
        app.review(&id, rating).await;
    }
    app.create_id(&provider("Unrated", &[], 100)).await;

    let body = app
        .search("", &json!({"reviews_gt": 3.0, "reviews_lt": 4.0}))
        .await
        .assert_status(200);
    let from_zero = app
        .search("", &json!({"reviews_lt": 0}))
        .await
        .assert_status(200);

    assert_eq!(names(&body), ["Four", "Three"]);
    assert_eq!(names(&from_zero), ["Unrated"]);
}

#[actix_web::test]
async fn search_returns_422_for_review_bounds_out_of_range_or_inverted() {
    let app = TestApp::new().await;

    let out_of_range = app.search("", &json!({"reviews_gt": 5.5})).await;
    let inverted = app
        .search("", &json!({"reviews_gt": 4, "reviews_lt": 3}))
        .await;

    out_of_range.assert_error(422);
    assert_eq!(out_of_range.error_fields(), ["reviews_gt"]);
    inverted.assert_error(422);
    assert_eq!(inverted.error_fields(), ["reviews_gt"]);
}

#[actix_web::test]
async fn search_availability_needs_a_day_inside_every_window() {
    let app = TestApp::new().await;
    app.create_id(&provider_available(
        "Both",
        &[],
        300,
        &[("2027-01-01", "2027-01-05"), ("2027-03-01", "2027-03-01")],
    ))
    .await;
    app.create_id(&provider_available(
        "January",
        &[],
        200,
        &[("2027-01-05", "2027-01-31")],
    ))
    .await;
    app.create_id(&provider_available("Never", &[], 100, &[]))
        .await;

    let body = app
        .search(
            "",
            &json!({"availability": [
                {"from_date": "2026-12-25", "to_date": "2027-01-01"},
                {"from_date": "2027-03-01", "to_date": "2027-03-31"},
            ]}),
        )
        .await
        .assert_status(200);
    let january = app
        .search(
            "",
            &json!({"availability": [{"from_date": "2027-01-05", "to_date": "2027-01-05"}]}),
        )
        .await
        .assert_status(200);

    assert_eq!(names(&body), ["Both"]);
    assert_eq!(names(&january), ["Both", "January"]);
}

#[actix_web::test]
async fn search_returns_422_with_the_path_of_an_invalid_window() {
    let app = TestApp::new().await;

    let reply = app
        .search(
            "",
            &json!({"availability": [{"from_date": "2027-02-30", "to_date": "2027-03-01"}]}),
        )
        .await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["availability[0].from_date"]);
}

#[actix_web::test]
async fn search_pages_neither_repeat_nor_skip_a_provider() {
    let app = TestApp::new().await;
    for i in 0..5 {
        app.create_id(&provider(&format!("P{i}"), &[], 100)).await;
    }

    let mut seen = Vec::new();
    for page in 1..=3 {
        let body = app
            .search(&format!("?page={page}&page_size=2"), &json!({}))
            .await
            .assert_status(200);
        assert_eq!(body["has_more"], page < 3, "page {page}");
        seen.extend(names(&body));
    }

    let all = names(&app.search("", &json!({})).await.assert_status(200));
    assert_eq!(seen, all);
    assert_eq!(seen.len(), 5);
}
