//! The change feed published to NATS JetStream through the real binary: writes made over HTTP
//! reach the stream, each once and in the order `GET /v1_0/events` gives them, with the same
//! JSON, while two API processes relay at once; `/metrics` counts what each stored.
//!
//! Needs a NATS server with JetStream (`TEST_NATS_URL`, else `NATS_URL`; `make test` starts a
//! throwaway one, see `scripts/test-nats.sh`): without one this test fails, never skips.

use async_nats::jetstream;
use provider_e2e_tests::{get_json, metric, Server};
use provider_postgres_adapter::testing::TestDb;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn nats_url() -> String {
    ["TEST_NATS_URL", "NATS_URL"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .expect(
            "no NATS server: set TEST_NATS_URL (scripts/test-nats.sh starts a throwaway \
             nats-server with JetStream; `make test` runs it)",
        )
}

/// The payloads of the stream's messages, in its order, once it holds `n`.
async fn stream_payloads(stream: &mut jetstream::stream::Stream, n: u64) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let state = stream.info().await.expect("stream info").state.clone();
        if state.messages >= n {
            let mut out = Vec::new();
            for sequence in state.first_sequence..=state.last_sequence {
                let m = stream.get_raw_message(sequence).await.expect("message");
                out.push(serde_json::from_slice(&m.payload).expect("JSON"));
            }
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "the stream holds {} messages, not {n}",
            state.messages
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn writes_over_http_reach_the_stream_once_each_in_feed_order() {
    let db = TestDb::new().await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (stream_name, subject) = (format!("E2E_{tag}"), format!("e2e_{tag}.events"));
    let url = nats_url();
    let env = [
        ("DATABASE_URL", db.url()),
        ("EVENTS_NATS_URL", url.as_str()),
        ("EVENTS_NATS_STREAM", stream_name.as_str()),
        ("EVENTS_NATS_SUBJECT", subject.as_str()),
    ];
    let (one, two) = (Server::start(&env), Server::start(&env));
    let http = reqwest::Client::new();
    let owner = uuid::Uuid::new_v4().to_string();
    let mut ids = Vec::new();
    for (i, server) in [&one, &two, &one, &two].into_iter().enumerate() {
        let created: Value = http
            .post(server.url("/v1_0/service-provider"))
            .header("user-id", &owner)
            .json(&json!({
                "name": format!("Relayed {i} Ltd"),
                "skills": ["Plumbing"],
                "cost_in_pence": 10_000 + i,
                "availability": [{"from_date": "2027-03-01", "to_date": "2027-03-20"}]
            }))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("JSON");
        ids.push(created["id"].as_str().expect("id").to_owned());
    }
    let review = http
        .post(two.url(&format!("/v1_0/service-provider/{}/review", ids[0])))
        .header("user-id", uuid::Uuid::new_v4().to_string())
        .json(&json!({"rating": 4.5}))
        .send()
        .await
        .expect("review");
    assert_eq!(review.status(), 201);
    let deleted = http
        .delete(one.url(&format!("/v1_0/service-provider/{}", ids[3])))
        .header("user-id", &owner)
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 200);

    let events = get_json(&http, &one.url("/v1_0/events")).await["events"].clone();
    let events = events.as_array().expect("events").clone();
    assert_eq!(
        events.len(),
        6,
        "4 created, 1 review, 1 deleted: {events:?}"
    );

    let client = async_nats::connect(url.as_str()).await.expect("connect");
    let mut stream = jetstream::new(client)
        .get_stream(&stream_name)
        .await
        .expect("the relays created the stream");
    let published = stream_payloads(&mut stream, 6).await;
    assert_eq!(
        published, events,
        "the stream holds the feed, once, in order"
    );

    // Each process counts what it stored; together, every event once. Both learn where the
    // stream ends (the one behind by being refused), within a few polls.
    let last = events[5]["sequence"].as_f64().expect("sequence");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut figures = Vec::new();
        for server in [&one, &two] {
            figures.push((
                metric(&http, server, "events_relay_published_total").await,
                metric(&http, server, "events_relay_last_sequence").await,
            ));
        }
        if figures.iter().all(|(_, seen)| *seen == last) {
            assert_eq!(figures[0].0 + figures[1].0, 6.0, "{figures:?}");
            break;
        }
        assert!(Instant::now() < deadline, "{figures:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A NATS server of this test's own on `port`, killed when dropped.
struct OwnNats {
    child: std::process::Child,
    _store: std::path::PathBuf,
}

impl OwnNats {
    fn start(port: u16) -> Self {
        let server = ["nats-server", "/usr/sbin/nats-server"]
            .into_iter()
            .find(|p| {
                std::process::Command::new(p)
                    .arg("--version")
                    .output()
                    .is_ok()
            })
            .expect("nats-server (scripts/need.sh nats)");
        let store = std::env::temp_dir().join(format!("events-nats-{}", uuid::Uuid::new_v4()));
        let child = std::process::Command::new(server)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(&store)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start nats-server");
        Self {
            child,
            _store: store,
        }
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._store);
    }
}

#[tokio::test]
async fn the_api_serves_while_nats_is_down_and_the_stream_catches_up_once_it_is_back() {
    let db = TestDb::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("address")
        .port();
    let url = format!("nats://127.0.0.1:{port}");
    let server = Server::start(&[
        ("DATABASE_URL", db.url()),
        ("EVENTS_NATS_URL", url.as_str()),
    ]);
    let http = reqwest::Client::new();
    let owner = uuid::Uuid::new_v4().to_string();
    for i in 0..3 {
        let created = http
            .post(server.url("/v1_0/service-provider"))
            .header("user-id", &owner)
            .json(&json!({
                "name": format!("Waiting {i} Ltd"),
                "skills": ["Plumbing"],
                "cost_in_pence": 10_000,
                "availability": []
            }))
            .send()
            .await
            .expect("create");
        assert_eq!(created.status(), 201, "the API serves without NATS");
    }
    let ready = http
        .get(server.url("/v1_0/health/ready"))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), 200, "readiness does not depend on NATS");

    let _nats = OwnNats::start(port);
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = loop {
        match async_nats::connect(url.as_str()).await {
            Ok(client) => break client,
            Err(e) => {
                assert!(Instant::now() < deadline, "nats-server did not start: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let context = jetstream::new(client);
    let mut stream = loop {
        match context.get_stream("PROVIDER_EVENTS").await {
            Ok(stream) => break stream,
            Err(e) => {
                assert!(Instant::now() < deadline, "the relay made no stream: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let events = get_json(&http, &server.url("/v1_0/events")).await["events"].clone();
    let published = stream_payloads(&mut stream, 3).await;
    assert_eq!(Value::Array(published), events);
}
