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
async fn an_idempotent_create_is_replayed_after_a_restart_and_creates_nothing_more() {
    let db = TestDb::new().await;
    let http = reqwest::Client::new();
    let owner = uuid::Uuid::new_v4().to_string();
    let body = json!({"name": "Once Only", "skills": ["Roofing"], "cost_in_pence": 1000});
    let create = async |server: &Server| {
        http.post(server.url("/v1_0/service-provider"))
            .header("user-id", &owner)
            .header("idempotency-key", "order-2027-0001")
            .json(&body)
            .send()
            .await
            .unwrap()
    };

    let first_server = Server::start(&[("DATABASE_URL", db.url())]);
    let first = create(&first_server).await;
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (first_status, first_location, first_etag) = (
        first.status(),
        header(&first, "location"),
        header(&first, "etag"),
    );
    assert_eq!(header(&first, "idempotency-replayed"), None);
    let first_body = first.bytes().await.unwrap();
    let (status, _) = first_server.terminate();
    assert!(status.success(), "exit status {status}");

    let second_server = Server::start(&[("DATABASE_URL", db.url())]);
    let retry = create(&second_server).await;

    assert_eq!(first_status, 201);
    assert_eq!(retry.status(), 201);
    assert_eq!(
        header(&retry, "idempotency-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(header(&retry, "location"), first_location);
    assert_eq!(header(&retry, "etag"), first_etag);
    assert_eq!(retry.bytes().await.unwrap(), first_body);
    let everything: Value = http
        .post(second_server.url("/v1_0/service-providers"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(everything["service_providers"].as_array().unwrap().len(), 1);
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

/// A cursor signed under `CURSOR_SECRET` is taken by any process with the same secret (here,
/// the server after a restart); without the secret each process draws its own key, and a
/// cursor of another process is 422 on `cursor`.
#[tokio::test]
async fn a_cursor_outlives_a_restart_with_the_same_cursor_secret_and_only_then() {
    let db = TestDb::new().await;
    let http = reqwest::Client::new();
    let owner = uuid::Uuid::new_v4().to_string();
    let secret = "a-cursor-secret-of-at-least-32-bytes!";
    let with_secret = [("DATABASE_URL", db.url()), ("CURSOR_SECRET", secret)];
    let first = Server::start(&with_secret);
    for (name, cost) in [("A", 300), ("B", 200), ("C", 100)] {
        let created = http
            .post(first.url("/v1_0/service-provider"))
            .header("user-id", &owner)
            .json(&json!({"name": name, "skills": [], "cost_in_pence": cost, "availability": []}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    let search = |server: &Server, query: &str| {
        let request = http
            .post(server.url(&format!("/v1_0/service-providers{query}")))
            .json(&json!({"sort": "cost_asc", "total": true}));
        async move {
            let reply = request.send().await.unwrap();
            (
                reply.status().as_u16(),
                reply.json::<Value>().await.unwrap(),
            )
        }
    };
    let (status, page) = search(&first, "?page_size=1").await;
    assert_eq!(status, 200);
    assert_eq!(page["service_providers"][0]["name"], "C");
    assert_eq!(page["total"], json!({"value": 3, "relation": "eq"}));
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let (status, _) = first.terminate();
    assert!(status.success());

    let second = Server::start(&with_secret);
    let (status, next) = search(&second, &format!("?cursor={cursor}&page_size=5")).await;
    assert_eq!(status, 200, "{next}");
    let names: Vec<&str> = next["service_providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["B", "A"]);
    assert_eq!(
        (next["page"].clone(), next["next_cursor"].clone()),
        (Value::Null, Value::Null)
    );
    let (status, _) = second.terminate();
    assert!(status.success());

    let without = Server::start(&[("DATABASE_URL", db.url())]);
    let (status, refused) = search(&without, &format!("?cursor={cursor}")).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["details"][0]["field"], "cursor");
}
