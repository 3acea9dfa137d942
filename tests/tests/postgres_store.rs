//! The real binary on PostgreSQL (`DATABASE_URL`), over real HTTP: the same walk as on memory,
//! and data that survives a restart. Needs PostgreSQL (never skipped; see
//! scripts/test-postgres.sh).

use provider_e2e_tests::{get_json, walk_the_whole_api, Server};
use provider_postgres_adapter::testing::TestDb;
use serde_json::{json, Value};

#[tokio::test]
async fn binary_serves_create_get_search_recommend_review_delete_on_postgres() {
    let db = TestDb::new().await;
    let mut server = Server::start(&[("DATABASE_URL", db.url())]);
    walk_the_whole_api(&server).await;
    let log = server.drain_log().join("\n");
    assert!(
        !log.contains("nothing is persisted"),
        "memory store used:\n{log}"
    );
}

#[tokio::test]
async fn data_survives_a_restart_of_the_server() {
    let db = TestDb::new().await;
    let http = reqwest::Client::new();
    let owner = uuid::Uuid::new_v4().to_string();
    let reviewer = uuid::Uuid::new_v4().to_string();

    let first = Server::start(&[("DATABASE_URL", db.url())]);
    let created: Value = http
        .post(first.url("/v1_0/service-provider"))
        .header("user-id", &owner)
        .json(&json!({
            "name": "Durable Ltd",
            "skills": ["Masonry", "Roofing"],
            "cost_in_pence": 42000,
            "availability": [{"from_date": "2028-02-28", "to_date": "2028-03-01"}]
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let location = format!("/v1_0/service-provider/{}", created["id"].as_str().unwrap());
    let review = http
        .post(first.url(&format!("{location}/review")))
        .header("user-id", &reviewer)
        .json(&json!({"rating": 3.7, "comment": "Solid"}))
        .send()
        .await
        .unwrap();
    assert_eq!(review.status(), 201);
    let before: Value = get_json(&http, &first.url(&location)).await;
    let (status, _) = first.terminate();
    assert!(status.success(), "exit status {status}");

    let second = Server::start(&[("DATABASE_URL", db.url())]);
    let after: Value = get_json(&http, &second.url(&location)).await;
    assert_eq!(after, before);
    assert_eq!(after["review_rating"], 3.7);
    let reviews: Value = get_json(&http, &second.url(&format!("{location}/reviews"))).await;
    assert_eq!(reviews["reviews"][0]["comment"], "Solid");
    let again = http
        .post(second.url(&format!("{location}/review")))
        .header("user-id", &reviewer)
        .json(&json!({"rating": 1.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        409,
        "one review per user survives the restart"
    );
}

#[tokio::test]
async fn readiness_follows_the_database() {
    let db = TestDb::new().await;
    let server = Server::start(&[("DATABASE_URL", db.url())]);
    let ready = reqwest::get(server.url("/v1_0/health/ready"))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    // A database that is not there: the server still starts (no migration), liveness is 200,
    // readiness and data routes 503 JSON.
    let gone = db
        .url()
        .replace(db.name(), "provider_test_no_such_database");
    let server = Server::start(&[
        ("DATABASE_URL", gone.as_str()),
        ("MIGRATE_ON_START", "false"),
        ("DATABASE_ACQUIRE_TIMEOUT_MS", "1000"),
    ]);
    assert_eq!(
        reqwest::get(server.url("/v1_0/health"))
            .await
            .unwrap()
            .status(),
        200
    );
    let ready = reqwest::get(server.url("/v1_0/health/ready"))
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");
    let search = reqwest::Client::new()
        .post(server.url("/v1_0/service-providers"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(search.status(), 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_answers_503_while_the_database_is_cut_off_and_recovers_without_a_restart() {
    use provider_postgres_adapter::testing::proxy::{Mode, Proxy};
    let db = TestDb::new().await;
    let proxy = Proxy::start(db.server_address()).await;
    let via_proxy = db.url_via("127.0.0.1", proxy.addr.port());
    let server = Server::start(&[
        ("DATABASE_URL", via_proxy.as_str()),
        ("DATABASE_ACQUIRE_TIMEOUT_MS", "1000"),
        ("DATABASE_STATEMENT_TIMEOUT_MS", "1000"),
    ]);
    let http = reqwest::Client::new();
    let search = || {
        http.post(server.url("/v1_0/service-providers"))
            .json(&json!({}))
            .send()
    };
    assert_eq!(search().await.unwrap().status(), 200);

    proxy.set(Mode::Severed);
    let cut = search().await.unwrap();
    assert_eq!(cut.status(), 503);
    assert!(cut.json::<Value>().await.unwrap()["error"].is_string());
    let create = http
        .post(server.url("/v1_0/service-provider"))
        .header("user-id", uuid::Uuid::new_v4().to_string())
        .json(&json!({"name": "Offline Ltd", "cost_in_pence": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(create.status(), 503);
    let health = reqwest::get(server.url("/v1_0/health")).await.unwrap();
    assert_eq!(
        health.status(),
        200,
        "liveness does not depend on the database"
    );
    let ready = reqwest::get(server.url("/v1_0/health/ready"))
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);

    proxy.set(Mode::Open);
    let mut recovered = false;
    for _ in 0..50 {
        let ready = reqwest::get(server.url("/v1_0/health/ready"))
            .await
            .unwrap();
        if ready.status() == 200 && search().await.unwrap().status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "the same server answers again once the database is back"
    );
}

#[tokio::test]
async fn a_nul_in_any_text_answers_422_naming_the_field_not_500_and_stores_nothing() {
    // Before the Text rule a NUL reached PostgreSQL, which refuses it in text: a 500.
    let db = TestDb::new().await;
    let server = Server::start(&[("DATABASE_URL", db.url())]);
    let http = reqwest::Client::new();
    let owner = uuid::Uuid::new_v4().to_string();
    let created: Value = http
        .post(server.url("/v1_0/service-provider"))
        .header("user-id", &owner)
        .json(&json!({"name": "Clean Ltd", "skills": ["SEO"], "cost_in_pence": 100}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let location = format!("/v1_0/service-provider/{}", created["id"].as_str().unwrap());
    let window = json!([{"from_date": "2027-11-12", "to_date": "2027-12-28"}]);
    let cases = [
        (
            "POST",
            "/v1_0/service-provider".to_owned(),
            json!({"name": "Nul\u{0}Ltd", "cost_in_pence": 1}),
            "name",
        ),
        (
            "POST",
            "/v1_0/service-provider".to_owned(),
            json!({"name": "Ltd", "skills": ["SEO", "S\u{0}"], "cost_in_pence": 1}),
            "skills[1]",
        ),
        (
            "PUT",
            location.clone(),
            json!({"name": "Clean\u{0}", "skills": ["SEO"], "cost_in_pence": 100}),
            "name",
        ),
        (
            "POST",
            format!("{location}/review"),
            json!({"rating": 4.0, "comment": "Goo\u{0}d"}),
            "comment",
        ),
        (
            "POST",
            "/v1_0/service-providers".to_owned(),
            json!({"name": "Clean\u{0}"}),
            "name",
        ),
        (
            "POST",
            "/v1_0/service-providers".to_owned(),
            json!({"skills": ["\u{0}"]}),
            "skills[0]",
        ),
        (
            "POST",
            "/v1_0/service-providers/recommend".to_owned(),
            json!({"job_budget_in_pence": 1000, "skills": ["SEO\u{0}"], "availability": window}),
            "skills[0]",
        ),
    ];

    for (method, path, body, field) in cases {
        // The review is by someone else; the rest may as well be by the owner.
        let user = if field == "comment" {
            uuid::Uuid::new_v4().to_string()
        } else {
            owner.clone()
        };
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let reply = http
            .request(method, server.url(&path))
            .header("user-id", user)
            .json(&body)
            .send()
            .await
            .unwrap();

        assert_eq!(reply.status(), 422, "{path} {body}");
        let error: Value = reply.json().await.unwrap();
        assert_eq!(
            error["details"][0]["field"], field,
            "{path} {body}: {error}"
        );
        assert_eq!(error["details"].as_array().unwrap().len(), 1, "{error}");
    }
    let stored: Value = get_json(&http, &server.url(&location)).await;
    assert_eq!(
        stored, created,
        "the PUT changed nothing, no review was added"
    );
    let all: Value = http
        .post(server.url("/v1_0/service-providers"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        all["service_providers"].as_array().unwrap().len(),
        1,
        "{all}"
    );
}
