//! Rate limits shared through Redis (`RATE_LIMIT_REDIS_URL`), with real binaries and a real
//! Redis: two processes naming one Redis enforce one limit (and without it, one each); a Redis
//! stopped mid-run lets requests through unlimited, counted and told by readiness, and the
//! limits come back with it.

use provider_e2e_tests::{get_json, test_redis, RedisServer, Server};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Searches as `user` on `server`: the status and the `RateLimit-Remaining` header.
async fn search(http: &reqwest::Client, server: &Server, user: &str) -> (u16, Option<String>) {
    let reply = http
        .post(server.url("/v1_0/service-providers"))
        .header("user-id", user)
        .json(&json!({}))
        .send()
        .await
        .expect("search");
    let remaining = reply
        .headers()
        .get("ratelimit-remaining")
        .map(|v| v.to_str().unwrap().to_owned());
    (reply.status().as_u16(), remaining)
}

/// An unlabelled sample of the server's `/metrics`.
async fn sample(server: &Server, name: &str) -> Option<f64> {
    let text = reqwest::get(server.url("/metrics"))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("the exposition");
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// How many of `rounds` searches, alternating between `a` and `b`, one caller gets through.
async fn let_through(a: &Server, b: &Server, rounds: usize) -> usize {
    let http = reqwest::Client::new();
    let user = uuid::Uuid::new_v4().to_string();
    let mut through = 0;
    for i in 0..rounds {
        let server = if i % 2 == 0 { a } else { b };
        match search(&http, server, &user).await {
            (200, _) => through += 1,
            (429, remaining) => assert_eq!(remaining.as_deref(), Some("0")),
            other => panic!("{other:?}"),
        }
    }
    through
}

#[tokio::test]
async fn two_processes_naming_one_redis_enforce_one_limit() {
    let (url, _own) = test_redis();
    let env = [
        ("RATE_LIMIT_PER_MINUTE", "3"),
        ("RATE_LIMIT_REDIS_URL", url.as_str()),
        // Generous on a loaded machine; the fail-open path is the other test's.
        ("RATE_LIMIT_REDIS_TIMEOUT_MS", "2000"),
    ];
    let (a, b) = (Server::start(&env), Server::start(&env));
    let http = reqwest::Client::new();

    // The caller's figures carry on from one process to the other.
    let user = uuid::Uuid::new_v4().to_string();
    let mut seen = Vec::new();
    for server in [&a, &b, &a, &b, &a] {
        seen.push(search(&http, server, &user).await);
    }
    let remaining = |n: &str| Some(n.to_owned());
    assert_eq!(
        seen,
        [
            (200, remaining("2")),
            (200, remaining("1")),
            (200, remaining("0")),
            (429, remaining("0")),
            (429, remaining("0")),
        ]
    );
    assert_eq!(let_through(&a, &b, 8).await, 3, "another caller");
    for server in [&a, &b] {
        assert_eq!(
            get_json(&http, &server.url("/v1_0/health/ready")).await,
            json!({"status": "ok", "rate_limit_store": "ok"})
        );
        assert_eq!(
            sample(server, "http_server_rate_limit_store_errors_total").await,
            Some(0.0)
        );
    }
    assert_eq!(
        sample(&a, "http_server_rate_limited_total").await.unwrap()
            + sample(&b, "http_server_rate_limited_total").await.unwrap(),
        2.0 + 5.0
    );

    // Without Redis each process has its own buckets: the same caller gets the limit twice,
    // and readiness and the metrics say nothing of a store.
    let alone = [("RATE_LIMIT_PER_MINUTE", "3")];
    let (c, d) = (Server::start(&alone), Server::start(&alone));
    assert_eq!(let_through(&c, &d, 8).await, 6);
    assert_eq!(
        get_json(&http, &c.url("/v1_0/health/ready")).await,
        json!({"status": "ok"})
    );
    assert_eq!(
        sample(&c, "http_server_rate_limit_store_errors_total").await,
        None
    );
}

/// Polls readiness until its `rate_limit_store` is `state` (10 s at most).
async fn until_store_is(http: &reqwest::Client, server: &Server, state: &str) -> Value {
    let started = Instant::now();
    loop {
        let ready = get_json(http, &server.url("/v1_0/health/ready")).await;
        if ready["rate_limit_store"] == state {
            return ready;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "readiness still says {ready} after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn with_redis_stopped_requests_are_served_counted_and_the_limits_come_back_with_it() {
    let mut redis = RedisServer::start();
    let server = Server::start(&[
        ("RATE_LIMIT_PER_MINUTE", "2"),
        ("RATE_LIMIT_REDIS_URL", redis.url().as_str()),
        ("RATE_LIMIT_REDIS_TIMEOUT_MS", "500"),
    ]);
    let http = reqwest::Client::new();
    let user = uuid::Uuid::new_v4().to_string();
    let some = |n: &str| Some(n.to_owned());

    assert_eq!(search(&http, &server, &user).await, (200, some("1")));
    assert_eq!(search(&http, &server, &user).await, (200, some("0")));
    assert_eq!(search(&http, &server, &user).await, (429, some("0")));

    redis.stop();
    // Served, without limits or their headers, and counted; readiness stays 200 and says so.
    for _ in 0..4 {
        let started = Instant::now();
        assert_eq!(search(&http, &server, &user).await, (200, None));
        assert!(started.elapsed() < Duration::from_secs(2));
    }
    assert_eq!(
        sample(&server, "http_server_rate_limit_store_errors_total").await,
        Some(4.0)
    );
    let ready = http
        .get(server.url("/v1_0/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<Value>().await.unwrap(),
        json!({"status": "ok", "rate_limit_store": "down"})
    );

    redis.restart();
    until_store_is(&http, &server, "ok").await;
    // The restarted Redis is empty: a full bucket, then the limit again.
    let errors = sample(&server, "http_server_rate_limit_store_errors_total").await;
    assert_eq!(search(&http, &server, &user).await, (200, some("1")));
    assert_eq!(search(&http, &server, &user).await, (200, some("0")));
    assert_eq!(search(&http, &server, &user).await, (429, some("0")));
    assert_eq!(
        sample(&server, "http_server_rate_limit_store_errors_total").await,
        errors
    );
}
