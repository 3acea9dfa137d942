//! Read routing through the real binary, on the test standby (a streaming replica of the test
//! PostgreSQL made by scripts/test-standby.sh, which `make test` runs the tests under): two API
//! processes sharing primary and replica give their callers read-your-writes; with replay
//! paused, anonymous reads fall back to the primary after the lag bound while identified ones
//! still see their writes; with the replica stopped, reads keep answering and return to it
//! once it is back. Never skipped: without a standby these tests fail, saying how to get one.
//! The servers run with `READ_MODEL=off`: with the read model on, GET of a provider is
//! answered from memory and never reaches the replica these tests watch (the read model over a
//! replica is `crates/read-model/tests/contract.rs`'s `routed` suite).

use provider_e2e_tests::{metric, Server};
use provider_postgres_adapter::testing::{standby, TestDb};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const LAG_BOUND_MS: u64 = 1_000;

/// A database of its own, once the test standby has it, and `count` API processes on it that
/// read from the standby (lag bound [`LAG_BOUND_MS`]), each started; the first is waited for
/// until it reports its replica ok.
async fn servers_on_the_standby(count: usize) -> (TestDb, Vec<Server>, reqwest::Client) {
    let db = TestDb::new().await;
    db.until_on_standby().await;
    let read_url = db.standby_url();
    let lag = LAG_BOUND_MS.to_string();
    let env = [
        ("DATABASE_URL", db.url()),
        ("DATABASE_READ_URL", read_url.as_str()),
        ("MAX_REPLICA_LAG_MS", lag.as_str()),
        ("READ_MODEL", "off"),
    ];
    let servers: Vec<Server> = (0..count).map(|_| Server::start(&env)).collect();
    let http = reqwest::Client::new();
    until_replica(&http, &servers[0], "ok").await;
    (db, servers, http)
}

/// Polls `server`'s readiness until it reports the replica `state` (within 30 s).
async fn until_replica(http: &reqwest::Client, server: &Server, state: &str) {
    let started = Instant::now();
    loop {
        let ready: Value = http
            .get(server.url("/v1_0/health/ready"))
            .send()
            .await
            .expect("readiness")
            .json()
            .await
            .expect("JSON");
        if ready["replica"] == state {
            assert_eq!(ready["status"], "ok", "{ready}");
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "readiness still says {ready} after 30 s, not replica {state}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const REPLICA_READS: &str = "db_reads_total{target=\"replica\"}";

/// Creates a provider through `server` as `owner`; its body.
async fn create(http: &reqwest::Client, server: &Server, owner: &str, name: &str) -> Value {
    let response = http
        .post(server.url("/v1_0/service-provider"))
        .header("user-id", owner)
        .json(&json!({
            "name": name,
            "skills": ["Replicated Skill"],
            "cost_in_pence": 12_345,
            "availability": [{"from_date": "2029-01-01", "to_date": "2029-01-10"}]
        }))
        .send()
        .await
        .expect("create");
    assert_eq!(response.status(), 201);
    response.json().await.expect("JSON")
}

/// GETs `path` from `server`, as `caller` when given; status and body.
async fn get(
    http: &reqwest::Client,
    server: &Server,
    path: &str,
    caller: Option<&str>,
) -> (u16, Value) {
    let mut request = http.get(server.url(path));
    if let Some(caller) = caller {
        request = request.header("user-id", caller);
    }
    let response = request.send().await.expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

/// Resumes replay on the standby when dropped (even when the test fails).
struct ResumeReplay;

impl Drop for ResumeReplay {
    fn drop(&mut self) {
        std::thread::spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(standby::execute("SELECT pg_wal_replay_resume()"));
        })
        .join()
        .expect("resume replay");
    }
}

/// Starts the standby again when dropped (even when the test fails).
struct StartStandby;

impl Drop for StartStandby {
    fn drop(&mut self) {
        standby::control("start");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_reads_their_writes_through_another_api_process() {
    let _standby = standby::hold(false);
    let (_db, mut servers, http) = servers_on_the_standby(2).await;
    let (reader, writer) = (servers.remove(0), servers.remove(0));
    let owner = uuid::Uuid::new_v4().to_string();
    let reviewer = uuid::Uuid::new_v4().to_string();

    for round in 0..25 {
        let created = create(&http, &writer, &owner, &format!("Round {round} Ltd")).await;
        let path = format!("/v1_0/service-provider/{}", created["id"].as_str().unwrap());
        let (status, read) = get(&http, &reader, &path, Some(&owner)).await;
        assert_eq!((status, &read), (200, &created), "round {round}: created");

        let replaced = http
            .put(writer.url(&path))
            .header("user-id", &owner)
            .json(&json!({"name": format!("Round {round} Renamed"), "skills": ["Replicated Skill"], "cost_in_pence": 999}))
            .send()
            .await
            .expect("PUT");
        assert_eq!(replaced.status(), 200);
        let (_, read) = get(&http, &reader, &path, Some(&owner)).await;
        assert_eq!(
            read["name"],
            format!("Round {round} Renamed"),
            "round {round}: replaced"
        );

        let reviewed = http
            .post(writer.url(&format!("{path}/review")))
            .header("user-id", &reviewer)
            .json(&json!({"rating": 4.5, "comment": format!("round {round}")}))
            .send()
            .await
            .expect("review");
        assert_eq!(reviewed.status(), 201);
        let (_, reviews) = get(&http, &reader, &format!("{path}/reviews"), Some(&reviewer)).await;
        assert_eq!(reviews["reviews"][0]["comment"], format!("round {round}"));

        let found: Value = http
            .post(reader.url("/v1_0/service-providers?page_size=100"))
            .header("user-id", &owner)
            .json(&json!({"skills": ["replicated skill"]}))
            .send()
            .await
            .expect("search")
            .json()
            .await
            .expect("JSON");
        let ids: Vec<&Value> = found["service_providers"]
            .as_array()
            .expect("a page")
            .iter()
            .map(|p| &p["id"])
            .collect();
        assert!(ids.contains(&&created["id"]), "round {round}: searched");
    }
    let served = metric(&http, &reader, REPLICA_READS).await;
    assert!(served > 0.0, "the replica served no read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_replay_paused_anonymous_reads_go_to_the_primary_after_the_lag_bound() {
    let _standby = standby::hold(true);
    let (_db, mut servers, http) = servers_on_the_standby(2).await;
    let (reader, writer) = (servers.remove(0), servers.remove(0));
    let owner = uuid::Uuid::new_v4().to_string();

    standby::execute("SELECT pg_wal_replay_pause()").await;
    let _resume = ResumeReplay;
    let created = create(&http, &writer, &owner, "Paused Ltd").await;
    let written_at = Instant::now();
    let path = format!("/v1_0/service-provider/{}", created["id"].as_str().unwrap());

    // The owner sees it at once, every time, through the other process.
    for _ in 0..10 {
        assert_eq!(
            get(&http, &reader, &path, Some(&owner)).await,
            (200, created.clone())
        );
    }
    // An anonymous caller may get the replica's older answer, but only within the bound.
    loop {
        let (status, _) = get(&http, &reader, &path, None).await;
        if status == 200 {
            break;
        }
        assert_eq!(status, 404);
        assert!(
            written_at.elapsed() < Duration::from_millis(LAG_BOUND_MS) + Duration::from_secs(5),
            "anonymous reads still miss the write {:?} after it",
            written_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    until_replica(&http, &reader, "lagging").await;
    assert_eq!(
        metric(&http, &reader, "db_replica_state{state=\"lagging\"}").await,
        1.0
    );
    // Replay is still paused: the answer came from the primary.
    assert_eq!(
        get(&http, &reader, &path, None).await,
        (200, created.clone())
    );

    drop(_resume);
    until_replica(&http, &reader, "ok").await;
    let before = metric(&http, &reader, REPLICA_READS).await;
    assert_eq!(get(&http, &reader, &path, None).await, (200, created));
    assert_eq!(metric(&http, &reader, REPLICA_READS).await, before + 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_keep_answering_while_the_replica_is_stopped_and_return_to_it() {
    let _standby = standby::hold(true);
    let (_db, mut servers, http) = servers_on_the_standby(1).await;
    let server = servers.remove(0);
    let owner = uuid::Uuid::new_v4().to_string();
    let created = create(&http, &server, &owner, "Steady Ltd").await;
    let path = format!("/v1_0/service-provider/{}", created["id"].as_str().unwrap());

    standby::control("stop");
    let _start = StartStandby;
    let stopped_at = Instant::now();
    while stopped_at.elapsed() < Duration::from_secs(3) {
        for caller in [None, Some(owner.as_str())] {
            assert_eq!(
                get(&http, &server, &path, caller).await,
                (200, created.clone()),
                "{:?} after the stop",
                stopped_at.elapsed()
            );
        }
    }
    until_replica(&http, &server, "down").await;

    drop(_start);
    until_replica(&http, &server, "ok").await;
    let before = metric(&http, &server, REPLICA_READS).await;
    assert_eq!(get(&http, &server, &path, None).await, (200, created));
    assert_eq!(metric(&http, &server, REPLICA_READS).await, before + 1.0);
}
