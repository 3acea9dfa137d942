//! The provider validation rules of API.md, seen through the HTTP layer: 422 with every field at
//! fault named by its path.

use crate::helpers::{provider, provider_available, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

async fn create(body: &Value) -> crate::helpers::Reply {
    TestApp::new()
        .await
        .post("/v1_0/service-provider", Some(Uuid::new_v4()), body)
        .await
}

#[actix_web::test]
async fn create_returns_422_naming_the_name_when_it_is_blank() {
    let reply = create(&provider("   ", &[], 1)).await;

    let body = reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["name"]);
    assert_eq!(body["details"][0]["message"], "must not be empty");
}

#[actix_web::test]
async fn create_counts_name_length_in_characters_not_bytes() {
    let app = TestApp::new().await;
    let longest = "é".repeat(200);

    app.create(Uuid::new_v4(), &provider(&longest, &[], 1))
        .await;
    let reply = app
        .post(
            "/v1_0/service-provider",
            Some(Uuid::new_v4()),
            &provider(&format!("{longest}é"), &[], 1),
        )
        .await;

    let body = reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["name"]);
    assert_eq!(
        body["details"][0]["message"],
        "must be at most 200 characters (got 201)"
    );
}

#[actix_web::test]
async fn create_returns_422_naming_a_skill_longer_than_100_characters() {
    let reply = create(&provider("Acme", &["ok", &"x".repeat(101)], 1)).await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["skills[1]"]);
}

#[actix_web::test]
async fn create_returns_422_when_there_are_more_than_50_skills() {
    let skills: Vec<String> = (0..51).map(|i| format!("skill {i}")).collect();
    let skills: Vec<&str> = skills.iter().map(String::as_str).collect();

    let reply = create(&provider("Acme", &skills, 1)).await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["skills"]);
}

#[actix_web::test]
async fn create_returns_422_when_cost_is_outside_0_to_100_billion() {
    let app = TestApp::new().await;
    app.create(Uuid::new_v4(), &provider("Max", &[], 100_000_000_000))
        .await;

    for cost in [-1_i64, 100_000_000_001] {
        let reply = app
            .post(
                "/v1_0/service-provider",
                Some(Uuid::new_v4()),
                &provider("Acme", &[], cost),
            )
            .await;

        reply.assert_error(422);
        assert_eq!(reply.error_fields(), ["cost_in_pence"], "cost {cost}");
    }
}

#[actix_web::test]
async fn create_returns_422_with_the_path_of_an_inverted_availability_range() {
    let body = provider_available(
        "Acme",
        &[],
        1,
        &[("2027-01-01", "2027-01-02"), ("2027-03-02", "2027-03-01")],
    );

    let reply = create(&body).await;

    let body = reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["availability[1].to_date"]);
    assert_eq!(
        body["details"][0]["message"],
        "from_date must not be after to_date"
    );
}

#[actix_web::test]
async fn create_returns_422_for_a_date_that_does_not_exist_or_is_out_of_range() {
    let body = provider_available(
        "Acme",
        &[],
        1,
        &[("2027-02-29", "1899-12-31"), ("2027/03/01", "10000-01-01")],
    );

    let reply = create(&body).await;

    reply.assert_error(422);
    assert_eq!(
        reply.error_fields(),
        [
            "availability[0].from_date",
            "availability[0].to_date",
            "availability[1].from_date",
            "availability[1].to_date",
        ]
    );
}

#[actix_web::test]
async fn create_returns_422_when_availability_ranges_overlap() {
    let body = provider_available(
        "Acme",
        &[],
        1,
        &[("2027-01-10", "2027-01-20"), ("2027-01-20", "2027-01-25")],
    );

    let reply = create(&body).await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["availability[1]"]);
}

#[actix_web::test]
async fn create_accepts_touching_availability_ranges_and_one_day_ranges() {
    let app = TestApp::new().await;
    let body = provider_available(
        "Acme",
        &[],
        1,
        &[("2027-01-21", "2027-01-21"), ("2027-01-10", "2027-01-20")],
    );

    let created = app.create(Uuid::new_v4(), &body).await;

    assert_eq!(
        created["availability"],
        json!([
            {"from_date": "2027-01-10", "to_date": "2027-01-20"},
            {"from_date": "2027-01-21", "to_date": "2027-01-21"},
        ])
    );
}

#[actix_web::test]
async fn create_returns_422_when_there_are_more_than_100_availability_ranges() {
    let ranges: Vec<(String, String)> = (0..101)
        .map(|i| {
            let day = time::macros::date!(2027 - 01 - 01) + time::Duration::days(i);
            (day.to_string(), day.to_string())
        })
        .collect();
    let ranges: Vec<(&str, &str)> = ranges
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();

    let reply = create(&provider_available("Acme", &[], 1, &ranges)).await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["availability"]);
}

#[actix_web::test]
async fn create_returns_422_listing_every_invalid_field_at_once() {
    let body = json!({
        "name": "",
        "skills": [""],
        "cost_in_pence": -5,
        "availability": [{"from_date": "nope", "to_date": "2027-01-01"}],
    });

    let reply = create(&body).await;

    reply.assert_error(422);
    assert_eq!(
        reply.error_fields(),
        [
            "name",
            "skills[0]",
            "cost_in_pence",
            "availability[0].from_date"
        ]
    );
}

#[actix_web::test]
async fn create_returns_422_naming_a_missing_required_field() {
    let reply = create(&json!({"skills": [], "cost_in_pence": 1})).await;

    let body = reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["name"]);
    assert_eq!(body["details"][0]["message"], "is required");
}

#[actix_web::test]
async fn an_integer_may_be_written_with_a_zero_fraction_as_json_schema_reads_it() {
    let app = TestApp::new().await;

    let created = app
        .create(
            Uuid::new_v4(),
            &json!({"name": "Whole", "cost_in_pence": 25000.0}),
        )
        .await;
    let search = app
        .search("", &json!({"cost_gt": 24999.0, "cost_lt": 25001}))
        .await
        .assert_status(200);
    let recommend = app
        .recommend(
            "",
            &json!({
                "job_budget_in_pence": 50000.0,
                "expected_job_duration_in_days": 2.0,
                "skills": ["x"],
                "availability": [{"from_date": "2027-01-01", "to_date": "2027-01-02"}],
            }),
        )
        .await;

    assert_eq!(created["cost_in_pence"], 25000);
    assert_eq!(search["service_providers"][0]["id"], created["id"]);
    recommend.assert_status(200);
}

#[actix_web::test]
async fn an_integer_with_a_fraction_or_written_as_a_float_beyond_2_pow_53_is_422() {
    let app = TestApp::new().await;

    for cost in [json!(25000.5), json!(9007199254740992.0), json!(1e300)] {
        let reply = app
            .post(
                "/v1_0/service-provider",
                Some(Uuid::new_v4()),
                &json!({"name": "Whole", "cost_in_pence": cost}),
            )
            .await;
        reply.assert_error(422);
        assert_eq!(reply.error_fields(), ["cost_in_pence"], "{cost}");
    }
    let reply = app.search("", &json!({"cost_lt": 0.5})).await;
    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["cost_lt"]);
}
