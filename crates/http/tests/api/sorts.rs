//! Search's `sort` and `total`, and cursor pages of search and review lists.

use crate::helpers::{names, provider, TestApp};
use serde_json::{json, Value};

/// Four providers: a dear one without reviews, two cheap ones (one with five 4.0s, one with a
/// single 5.0), a middle one with two 2.0s; created in this order (each a clock tick apart).
async fn four(app: &TestApp) {
    let dear = app.create_id(&provider("Dear", &["SEO"], 900)).await;
    let many = app.create_id(&provider("Many fours", &["SEO"], 100)).await;
    let one = app.create_id(&provider("One five", &["SEO"], 100)).await;
    let middle = app.create_id(&provider("Middle", &["SEO"], 500)).await;
    let _ = dear;
    for _ in 0..5 {
        app.review(&many, 4.0).await;
    }
    app.review(&one, 5.0).await;
    app.review(&middle, 2.0).await;
    app.review(&middle, 2.0).await;
}

#[actix_web::test]
async fn each_sort_lists_in_its_order() {
    let app = TestApp::new().await;
    four(&app).await;
    let sorted = |sort: Value| {
        let app = &app;
        async move {
            names(
                &app.search("", &json!({"skills": ["seo"], "sort": sort}))
                    .await
                    .assert_status(200),
            )
        }
    };
    assert_eq!(
        sorted(json!("cost_desc")).await,
        ["Dear", "Middle", "One five", "Many fours"]
    );
    assert_eq!(sorted(Value::Null).await, sorted(json!("cost_desc")).await);
    // Equal costs: the higher mean first (5.0 over 4.0).
    assert_eq!(
        sorted(json!("cost_asc")).await,
        ["One five", "Many fours", "Middle", "Dear"]
    );
    // Confidence-weighted: five 4.0s (32.5/10) over one 5.0 (29.17/10) over none (2.5) over
    // two 2.0s (2.36).
    assert_eq!(
        sorted(json!("rating_desc")).await,
        ["Many fours", "One five", "Dear", "Middle"]
    );
    assert_eq!(
        sorted(json!("reviews_desc")).await,
        ["Many fours", "Middle", "One five", "Dear"]
    );
    assert_eq!(
        sorted(json!("newest")).await,
        ["Middle", "One five", "Many fours", "Dear"]
    );
}

#[actix_web::test]
async fn an_unknown_sort_or_a_total_that_is_not_a_boolean_is_422_naming_it() {
    let app = TestApp::new().await;
    for sort in [
        json!("price"),
        json!("COST_DESC"),
        json!(""),
        json!(1),
        json!(["newest"]),
    ] {
        let reply = app.search("", &json!({"sort": sort})).await;
        reply.assert_error(422);
        assert_eq!(reply.error_fields(), ["sort"], "{sort}");
    }
    let unknown = app.search("", &json!({"sort": "price"})).await;
    assert!(
        unknown.json()["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cost_desc, cost_asc, rating_desc, reviews_desc, newest"),
        "{}",
        unknown.json()
    );
    for total in [json!("yes"), json!(1), json!({})] {
        let reply = app.search("", &json!({"total": total})).await;
        reply.assert_error(422);
        assert_eq!(reply.error_fields(), ["total"], "{total}");
    }
    // With a bad filter too: every fault at once.
    let both = app
        .search("", &json!({"cost_gt": 5, "cost_lt": 1, "sort": "x"}))
        .await;
    both.assert_error(422);
    assert_eq!(both.error_fields(), ["cost_gt", "sort"]);
}

#[actix_web::test]
async fn a_total_is_given_only_when_asked_for_and_counts_every_match() {
    let app = TestApp::new().await;
    four(&app).await;
    let counted = app
        .search("?page_size=1", &json!({"cost_lt": 600, "total": true}))
        .await
        .assert_status(200);
    assert_eq!(counted["total"], json!({"value": 3, "relation": "eq"}));
    assert_eq!(counted["service_providers"].as_array().unwrap().len(), 1);
    let plain = app
        .search("", &json!({"total": false}))
        .await
        .assert_status(200);
    assert!(plain.get("total").is_none(), "{plain}");
    let none = app
        .search("", &json!({"name": "nobody", "total": true}))
        .await
        .assert_status(200);
    assert_eq!(none["total"], json!({"value": 0, "relation": "eq"}));
}

#[actix_web::test]
async fn next_cursors_lead_through_every_page_with_the_same_body() {
    let app = TestApp::new().await;
    four(&app).await;
    for sort in [
        "cost_desc",
        "cost_asc",
        "rating_desc",
        "reviews_desc",
        "newest",
    ] {
        let body = json!({"skills": ["SEO"], "sort": sort});
        let all = names(&app.search("?page_size=100", &body).await.assert_status(200));
        let mut page = app.search("?page_size=1", &body).await.assert_status(200);
        assert_eq!(page["page"], 1);
        let mut walked = names(&page);
        while let Some(cursor) = page["next_cursor"].as_str().map(str::to_owned) {
            assert_eq!(page["has_more"], true);
            // The page size may change between pages.
            let size = if walked.len().is_multiple_of(2) { 1 } else { 2 };
            page = app
                .search(&format!("?cursor={cursor}&page_size={size}"), &body)
                .await
                .assert_status(200);
            assert_eq!(page["page"], Value::Null);
            assert_eq!(page["page_size"], size);
            walked.extend(names(&page));
        }
        assert_eq!(page["has_more"], false);
        assert_eq!(walked, all, "{sort}");
    }
}

#[actix_web::test]
async fn a_cursor_is_422_on_cursor_with_page_with_another_body_or_sort_or_changed() {
    let app = TestApp::new().await;
    four(&app).await;
    let body = json!({"skills": ["SEO"]});
    let first = app.search("?page_size=1", &body).await.assert_status(200);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    assert!(
        cursor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "URL-safe: {cursor}"
    );
    let refused = |query: String, body: Value| {
        let app = &app;
        async move {
            let reply = app.search(&query, &body).await;
            reply.assert_error(422);
            assert_eq!(reply.error_fields(), ["cursor"], "{query} {body}");
        }
    };
    refused(format!("?cursor={cursor}&page=2"), body.clone()).await;
    refused(format!("?cursor={cursor}"), json!({"skills": ["seo", "x"]})).await;
    refused(
        format!("?cursor={cursor}"),
        json!({"skills": ["SEO"], "sort": "newest"}),
    )
    .await;
    let mut changed = cursor.clone().into_bytes();
    let last = changed.len() - 1;
    changed[last] = if changed[last] == b'A' { b'B' } else { b'A' };
    refused(
        format!("?cursor={}", String::from_utf8(changed).unwrap()),
        body.clone(),
    )
    .await;
    refused("?cursor=".to_owned(), body.clone()).await;
    refused("?cursor=%F0%9F%A6%80".to_owned(), body.clone()).await;
    // The same filter spelled otherwise, and total added: the same search.
    app.search(
        &format!("?cursor={cursor}"),
        &json!({"skills": ["seo"], "sort": "cost_desc", "total": true}),
    )
    .await
    .assert_status(200);
    // A cursor twice is refused like any repeated parameter; recommend takes none.
    let twice = app
        .search(&format!("?cursor={cursor}&cursor={cursor}"), &body)
        .await;
    twice.assert_error(422);
    assert_eq!(twice.error_fields(), ["cursor"]);
    let recommend = app
        .recommend(
            &format!("?cursor={cursor}"),
            &json!({
                "job_budget_in_pence": 1000,
                "skills": ["SEO"],
                "availability": [{"from_date": "2027-12-01", "to_date": "2027-12-02"}]
            }),
        )
        .await;
    recommend.assert_error(422);
    assert_eq!(recommend.error_fields(), ["cursor"]);
}

#[actix_web::test]
async fn review_lists_page_after_a_cursor_of_the_same_provider_only() {
    let app = TestApp::new().await;
    let id = app.create_id(&provider("Rated", &[], 100)).await;
    let other = app.create_id(&provider("Other", &[], 100)).await;
    let mut written = Vec::new();
    for rating in [1.0, 2.0, 3.0, 4.0, 5.0] {
        written.push(app.review(&id, rating).await);
    }
    app.review(&other, 1.0).await;
    written.reverse();

    let url = format!("/v1_0/service-provider/{id}/reviews");
    let mut page = app
        .get(&format!("{url}?page_size=2"))
        .await
        .assert_status(200);
    let mut walked: Vec<Value> = page["reviews"].as_array().unwrap().clone();
    while let Some(cursor) = page["next_cursor"].as_str().map(str::to_owned) {
        page = app
            .get(&format!("{url}?page_size=2&cursor={cursor}"))
            .await
            .assert_status(200);
        assert_eq!(page["page"], Value::Null);
        walked.extend(page["reviews"].as_array().unwrap().clone());
    }
    assert_eq!(walked, written);

    let first = app
        .get(&format!("{url}?page_size=1"))
        .await
        .assert_status(200);
    let cursor = first["next_cursor"].as_str().unwrap();
    let elsewhere = app
        .get(&format!(
            "/v1_0/service-provider/{other}/reviews?cursor={cursor}"
        ))
        .await;
    elsewhere.assert_error(422);
    assert_eq!(elsewhere.error_fields(), ["cursor"]);
    let search_cursor = app
        .search("?page_size=1", &json!({}))
        .await
        .assert_status(200)["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong_list = app.get(&format!("{url}?cursor={search_cursor}")).await;
    wrong_list.assert_error(422);
    assert_eq!(wrong_list.error_fields(), ["cursor"]);
}
