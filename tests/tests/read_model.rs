//! The read model through the real binary on PostgreSQL: writes made through one API process
//! are seen at once by another process's model (a read waits for the model to reach the
//! database's position when the read began); a model killed with its process and started
//! again answers exactly as the database does; readiness is 503 until the model has loaded.

use provider_e2e_tests::{get_json, Server};
use provider_postgres_adapter::testing::TestDb;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Waits until `server` is ready (its model loaded).
async fn until_ready(http: &reqwest::Client, server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = http
            .get(server.url("/v1_0/health/ready"))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .ok();
        if status == Some(200) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not ready within 60 s: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn body(name: &str, cost: i64) -> Value {
    json!({
        "name": name,
        "skills": ["Plumbing", format!("skill {}", cost % 7)],
        "cost_in_pence": cost,
        "availability": [{"from_date": "2027-03-01", "to_date": "2027-03-20"}]
    })
}

/// The names a search by `needle` lists, anonymous or as `user`.
async fn names(
    http: &reqwest::Client,
    server: &Server,
    needle: &str,
    user: Option<&str>,
) -> Vec<String> {
    let mut request = http
        .post(server.url("/v1_0/service-providers?page_size=100"))
        .json(&json!({"name": needle}));
    if let Some(user) = user {
        request = request.header("user-id", user);
    }
    let page: Value = request.send().await.unwrap().json().await.unwrap();
    page["service_providers"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

/// GET of the provider `id` from `server`, anonymous or as `user`.
async fn get(
    http: &reqwest::Client,
    server: &Server,
    id: &str,
    user: Option<&str>,
) -> reqwest::Response {
    let mut request = http.get(server.url(&format!("/v1_0/service-provider/{id}")));
    if let Some(user) = user {
        request = request.header("user-id", user);
    }
    request.send().await.unwrap()
}

/// Creates, replaces and deletes through `writer`, each write read back at once through
/// `reader`'s model, anonymously unless `as_user`: every read must show its write.
async fn writes_seen_at_once(writer: &Server, reader: &Server, as_user: Option<&str>) -> usize {
    let http = reqwest::Client::new();
    let owner = uuid::Uuid::new_v4().to_string();
    let mut missed = 0;
    for i in 0..40 {
        let name = format!("Seen At Once {i} {owner}");
        let created: Value = http
            .post(writer.url("/v1_0/service-provider"))
            .header("user-id", &owner)
            .json(&body(&name, 1_000 + i))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        if names(&http, reader, &name, as_user).await != vec![name.clone()] {
            missed += 1;
        }
        let renamed = format!("Renamed {i} {owner}");
        let replaced = http
            .put(writer.url(&format!("/v1_0/service-provider/{id}")))
            .header("user-id", &owner)
            .json(&body(&renamed, 2_000 + i))
            .send()
            .await
            .unwrap();
        assert_eq!(replaced.status(), 200);
        let read: Value = get(&http, reader, &id, as_user).await.json().await.unwrap();
        if read["name"] != renamed.as_str() {
            missed += 1;
        }
        let deleted = http
            .delete(writer.url(&format!("/v1_0/service-provider/{id}")))
            .header("user-id", &owner)
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), 200);
        if get(&http, reader, &id, as_user).await.status() != 404 {
            missed += 1;
        }
    }
    missed
}

#[tokio::test]
async fn a_write_through_one_process_is_seen_at_once_through_another_process_s_model() {
    let db = TestDb::new().await;
    let http = reqwest::Client::new();
    let writer = Server::start(&[("DATABASE_URL", db.url()), ("READ_MODEL", "off")]);
    let reader = Server::start(&[("DATABASE_URL", db.url()), ("READ_MODEL", "memory")]);
    until_ready(&http, &reader).await;
    assert_eq!(writes_seen_at_once(&writer, &reader, None).await, 0);
    let metrics = reqwest::get(reader.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("read_model_reads_total{served_by=\"store\"} 0"),
        "reads went to the store, not the model:\n{metrics}"
    );
}

#[tokio::test]
async fn with_a_lag_allowed_anonymous_reads_may_be_stale_but_identified_callers_see_every_write() {
    let db = TestDb::new().await;
    let http = reqwest::Client::new();
    let writer = Server::start(&[("DATABASE_URL", db.url()), ("READ_MODEL", "off")]);
    let reader = Server::start(&[
        ("DATABASE_URL", db.url()),
        ("READ_MODEL", "memory"),
        ("MAX_READ_MODEL_LAG_MS", "60000"),
    ]);
    until_ready(&http, &reader).await;
    let caller = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        writes_seen_at_once(&writer, &reader, Some(&caller)).await,
        0
    );
    // The drill can fail: anonymous reads allowed a minute's lag miss writes made a moment
    // before (the model catches up every 20 ms, not before each read).
    assert!(
        writes_seen_at_once(&writer, &reader, None).await > 0,
        "anonymous reads never missed a write: the drill would not see a stale model"
    );
}

/// Every search order's first page of everything, and a recommendation, as `server` answers.
async fn answers(http: &reqwest::Client, server: &Server) -> Vec<Value> {
    let mut all = Vec::new();
    for sort in [
        "cost_desc",
        "cost_asc",
        "rating_desc",
        "reviews_desc",
        "newest",
    ] {
        let page: Value = http
            .post(server.url("/v1_0/service-providers?page_size=100"))
            .json(&json!({"sort": sort, "total": true}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        all.push(page);
    }
    let recommended: Value = http
        .post(server.url("/v1_0/service-providers/recommend?page_size=100"))
        .json(&json!({
            "job_budget_in_pence": 1_000_000, "expected_job_duration_in_days": 2,
            "skills": ["plumbing", "skill 3"],
            "availability": [{"from_date": "2027-03-01", "to_date": "2027-03-31"}]
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    all.push(recommended);
    all
}

#[tokio::test]
async fn a_model_killed_with_its_process_and_started_again_answers_as_the_database_does() {
    let db = TestDb::new().await;
    let http = reqwest::Client::new();
    let writer = Server::start(&[("DATABASE_URL", db.url()), ("READ_MODEL", "off")]);
    let owner = uuid::Uuid::new_v4().to_string();
    let write = |i: i64| {
        let http = http.clone();
        let url = writer.url("/v1_0/service-provider");
        let owner = owner.clone();
        async move {
            let created: Value = http
                .post(url.clone())
                .header("user-id", &owner)
                .json(&body(&format!("Restarted {i}"), 500 * (i % 9) + 100))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let id = created["id"].as_str().unwrap().to_owned();
            let review = http
                .post(format!("{url}/{id}/review"))
                .header("user-id", uuid::Uuid::new_v4().to_string())
                .json(&json!({"rating": (i % 50) as f64 / 10.0}))
                .send()
                .await
                .unwrap();
            assert_eq!(review.status(), 201);
        }
    };
    let reader = Server::start(&[("DATABASE_URL", db.url()), ("READ_MODEL", "memory")]);
    until_ready(&http, &reader).await;
    for i in 0..30 {
        write(i).await;
    }
    assert_eq!(answers(&http, &reader).await, answers(&http, &writer).await);
    reader.crash();
    // Written while no model runs: the new one must load them from its snapshot.
    for i in 30..60 {
        write(i).await;
    }
    let reader = Server::start(&[("DATABASE_URL", db.url()), ("READ_MODEL", "memory")]);
    until_ready(&http, &reader).await;
    assert_eq!(answers(&http, &reader).await, answers(&http, &writer).await);
    for i in 60..80 {
        write(i).await;
    }
    let expected = answers(&http, &writer).await;
    assert_eq!(answers(&http, &reader).await, expected);
    assert_eq!(expected[0]["total"]["value"], 80, "{}", expected[0]);
}

#[tokio::test]
async fn readiness_is_503_until_the_model_has_loaded() {
    let db = TestDb::new().await;
    let http = reqwest::Client::new();
    let writer = Server::start(&[("DATABASE_URL", db.url()), ("READ_MODEL", "off")]);
    let created = http
        .post(writer.url("/v1_0/service-provider"))
        .header("user-id", uuid::Uuid::new_v4().to_string())
        .json(&body("Loaded Later", 1_234))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    // The snapshot cannot read the providers while this transaction holds them locked.
    let (client, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
        .batch_execute("BEGIN; LOCK TABLE providers IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    let reader = Server::start_loading(&[
        ("DATABASE_URL", db.url()),
        ("READ_MODEL", "memory"),
        ("MIGRATE_ON_START", "false"),
    ]);
    for _ in 0..5 {
        let ready = http
            .get(reader.url("/v1_0/health/ready"))
            .send()
            .await
            .unwrap();
        assert_eq!(ready.status(), 503);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Served by the database meanwhile (which waits for the lock too): never an answer from
    // an empty model.
    let search = tokio::spawn({
        let (http, url) = (http.clone(), reader.url("/v1_0/service-providers"));
        async move {
            http.post(url)
                .json(&json!({"name": "loaded later"}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    client.batch_execute("COMMIT").await.expect("unlock");
    until_ready(&http, &reader).await;
    let ready = get_json(&http, &reader.url("/v1_0/health/ready")).await;
    assert_eq!(ready["read_model"], "ready", "{ready}");
    let page = search.await.unwrap();
    assert_eq!(
        page["service_providers"][0]["name"], "Loaded Later",
        "{page}"
    );
}
