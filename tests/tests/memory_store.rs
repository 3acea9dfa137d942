//! The real binary on the in-memory store, over real HTTP.

use provider_e2e_tests::Server;
use serde_json::{json, Value};

async fn walk_the_whole_api(server: &Server) {
    let http = reqwest::Client::new();
    let owner = uuid::Uuid::new_v4().to_string();
    let reviewer = uuid::Uuid::new_v4().to_string();

    // create
    let created = http
        .post(server.url("/v1_0/service-provider"))
        .header("user-id", &owner)
        .json(&json!({
            "name": "  SEO Incorporated ",
            "skills": ["SEO Optimisation", "Cold Calling", "seo optimisation"],
            "cost_in_pence": 25000,
            "availability": [
                {"from_date": "2027-12-01", "to_date": "2027-12-28"},
                {"from_date": "2027-11-12", "to_date": "2027-11-30"}
            ]
        }))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    assert!(created.headers().contains_key("x-request-id"));
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let provider: Value = created.json().await.unwrap();
    let id = provider["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/v1_0/service-provider/{id}"));
    assert_eq!(provider["name"], "SEO Incorporated");
    assert_eq!(
        provider["skills"],
        json!(["SEO Optimisation", "Cold Calling"])
    );
    assert_eq!(provider["availability"][0]["from_date"], "2027-11-12");
    assert_eq!(provider["review_rating"], 0.0);

    // get
    let got: Value = http
        .get(server.url(&location))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got, provider);

    // search
    let found: Value = http
        .post(server.url("/v1_0/service-providers?page=1&page_size=5"))
        .json(&json!({"skills": ["seo optimisation"], "cost_lt": 30000, "name": "inc"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["service_providers"][0]["id"], id.as_str());
    assert_eq!(found["has_more"], false);

    // recommend: 28 consecutive days across the two touching ranges
    let recommended = http
        .post(server.url("/v1_0/service-providers/recommend"))
        .json(&json!({
            "job_budget_in_pence": 25000 * 28,
            "expected_job_duration_in_days": 28,
            "skills": ["cold calling", "Plumbing"],
            "availability": [{"from_date": "2027-11-20", "to_date": "2027-12-20"}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(recommended.status(), 200);
    let recommended: Value = recommended.json().await.unwrap();
    assert_eq!(recommended["service_providers"][0]["id"], id.as_str());
    assert_eq!(
        recommended["service_providers"][0]["matched_skills"],
        json!(["Cold Calling"])
    );

    // review, then the owner may not, then not twice
    let review = http
        .post(server.url(&format!("{location}/review")))
        .header("user-id", &reviewer)
        .json(&json!({"rating": 4.5, "comment": "Prompt and thorough"}))
        .send()
        .await
        .unwrap();
    assert_eq!(review.status(), 201);
    let own = http
        .post(server.url(&format!("{location}/review")))
        .header("user-id", &owner)
        .json(&json!({"rating": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 403);
    let again = http
        .post(server.url(&format!("{location}/review")))
        .header("user_id", &reviewer)
        .json(&json!({"rating": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let reviews: Value = http
        .get(server.url(&format!("{location}/reviews")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reviews["reviews"][0]["rating"], 4.5);
    let rated: Value = http
        .get(server.url(&location))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            rated["review_rating"].as_f64(),
            rated["review_count"].as_u64()
        ),
        (Some(4.5), Some(1))
    );

    // a stranger cannot delete; the owner can
    let stranger = http
        .delete(server.url(&location))
        .header("user-id", &reviewer)
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 404);
    let deleted = http
        .delete(server.url(&location))
        .header("user-id", &owner)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert_eq!(deleted.json::<Value>().await.unwrap(), json!({}));
    let gone = http.get(server.url(&location)).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    assert!(gone.json::<Value>().await.unwrap()["error"].is_string());
}

#[tokio::test]
async fn binary_serves_create_get_search_recommend_review_delete_on_memory() {
    let mut server = Server::start(&[]);
    walk_the_whole_api(&server).await;
    let log = server.drain_log().join("\n");
    assert!(
        log.contains("nothing is persisted"),
        "no memory-store warning in:\n{log}"
    );
}

#[tokio::test]
async fn binary_echoes_request_id_and_logs_it() {
    let server = Server::start(&[]);
    let response = reqwest::Client::new()
        .get(server.url("/v1_0/health"))
        .header("x-request-id", "e2e-trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], "e2e-trace-42");
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );
    let (status, log) = server.terminate();
    assert!(status.success(), "exit status {status}");
    assert!(
        log.iter().any(|l| l.contains("e2e-trace-42")),
        "request id not logged:\n{}",
        log.join("\n")
    );
}

#[tokio::test]
async fn binary_exits_cleanly_on_sigterm() {
    let server = Server::start(&[]);
    let (status, _) = server.terminate();
    assert!(status.success(), "exit status {status}");
}
