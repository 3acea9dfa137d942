//! Rate limits per caller (`RateLimit-*` headers, 429 + `Retry-After`, exemptions, idle
//! buckets dropped) and load shedding beyond `MAX_IN_FLIGHT` (503 + `Retry-After: 1` at once).
//!
//! The rate-limit cases run twice: with the buckets in the process, and in a real Redis
//! (`TEST_REDIS_URL`: `make test` starts one; see [`crate::helpers::test_redis`]). Then, with
//! Redis alone: what readiness and the metrics say, and a Redis that does not answer.

use crate::helpers::{provider, test_redis, Reply, TestApp, TickingClock};
use actix_web::test as atest;
use actix_web::web;
use provider_http::{
    Authentication, Gate, HttpSettings, JwtKey, JwtSettings, JwtVerifier, RedisRateLimits,
};
use provider_memory_adapter::MemoryStore;
use provider_ports::ProviderService;
use serde_json::json;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use uuid::Uuid;

fn limited(per_minute: u32) -> HttpSettings {
    HttpSettings {
        rate_limit_per_minute: per_minute,
        ..HttpSettings::default()
    }
}

/// Where the buckets are.
#[derive(Debug, Clone)]
enum Backend {
    InProcess,
    /// A real Redis at this URL, each gate's keys under a prefix of its own.
    Redis(String),
}

impl Backend {
    /// A gate with `settings`, its buckets where `self` says.
    fn gate(&self, settings: HttpSettings) -> Gate {
        Gate::new(HttpSettings {
            rate_limit_redis: self.redis(),
            ..settings
        })
    }

    fn redis(&self) -> Option<RedisRateLimits> {
        match self {
            Self::InProcess => None,
            // A second per call: the machine may be loaded (50 ms is for production).
            Self::Redis(url) => Some(
                RedisRateLimits::new(url, Duration::from_secs(1))
                    .unwrap()
                    .with_key_prefix(format!("test:{}:", Uuid::new_v4())),
            ),
        }
    }
}

/// Each case as a test with each backend; the Redis ones need `TEST_REDIS_URL`.
macro_rules! on_both {
    ($($case:ident),* $(,)?) => {
        mod in_process {
            $(
                #[actix_web::test]
                async fn $case() {
                    super::$case(super::Backend::InProcess).await;
                }
            )*
        }
        mod in_redis {
            $(
                #[actix_web::test]
                async fn $case() {
                    if let Some(url) = crate::helpers::test_redis() {
                        super::$case(super::Backend::Redis(url)).await;
                    }
                }
            )*
        }
    };
}

on_both!(
    each_answer_says_what_is_left_and_the_spent_bucket_answers_429,
    probes_and_the_api_description_are_never_limited,
    every_caller_has_a_bucket_of_their_own,
    x_forwarded_for_is_only_believed_when_trusted,
    a_refused_credential_is_charged_to_the_client_address,
);

fn from(address: &str) -> SocketAddr {
    format!("{address}:40000").parse().unwrap()
}

async fn search_from(app: &TestApp, address: &str) -> Reply {
    app.send(
        atest::TestRequest::post()
            .uri("/v1_0/service-providers")
            .peer_addr(from(address))
            .set_json(json!({})),
    )
    .await
}

fn figures(reply: &Reply) -> (String, String, String) {
    (
        reply.header("ratelimit-limit").unwrap_or_default(),
        reply.header("ratelimit-remaining").unwrap_or_default(),
        reply.header("ratelimit-reset").unwrap_or_default(),
    )
}

async fn each_answer_says_what_is_left_and_the_spent_bucket_answers_429(backend: Backend) {
    let app = TestApp::with_gate(backend.gate(limited(3))).await;

    let mut seen = Vec::new();
    for _ in 0..3 {
        let reply = search_from(&app, "10.0.0.1").await;
        reply.assert_status(200);
        seen.push(figures(&reply));
    }
    assert_eq!(
        seen,
        [
            ("3".into(), "2".into(), "20".into()),
            ("3".into(), "1".into(), "40".into()),
            ("3".into(), "0".into(), "60".into()),
        ]
    );
    let refused = search_from(&app, "10.0.0.1").await;
    refused.assert_error(429);
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    assert_eq!(refused.header("ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(refused.header("ratelimit-limit").as_deref(), Some("3"));
}

async fn probes_and_the_api_description_are_never_limited(backend: Backend) {
    let app = TestApp::with_gate(backend.gate(limited(1))).await;
    search_from(&app, "10.0.0.2").await.assert_status(200);
    search_from(&app, "10.0.0.2").await.assert_error(429);

    for path in ["/v1_0/health", "/v1_0/health/ready", "/v1_0/openapi.json"] {
        for _ in 0..3 {
            let reply = app
                .send(
                    atest::TestRequest::get()
                        .uri(path)
                        .peer_addr(from("10.0.0.2")),
                )
                .await;
            assert_eq!(reply.status, 200, "{path}");
            assert_eq!(reply.header("ratelimit-limit"), None, "{path}");
        }
    }
}

async fn every_caller_has_a_bucket_of_their_own(backend: Backend) {
    let app = TestApp::with_gate(backend.gate(limited(1))).await;
    let alice = Uuid::new_v4();

    app.post(
        "/v1_0/service-provider",
        Some(alice),
        &provider("A", &[], 1),
    )
    .await
    .assert_status(201);
    app.post(
        "/v1_0/service-provider",
        Some(alice),
        &provider("A", &[], 1),
    )
    .await
    .assert_error(429);
    app.post(
        "/v1_0/service-provider",
        Some(Uuid::new_v4()),
        &provider("B", &[], 1),
    )
    .await
    .assert_status(201);
    // Anonymous callers are told apart by address.
    search_from(&app, "10.0.0.3").await.assert_status(200);
    search_from(&app, "10.0.0.4").await.assert_status(200);
    search_from(&app, "10.0.0.3").await.assert_error(429);
}

async fn x_forwarded_for_is_only_believed_when_trusted(backend: Backend) {
    for (trusted, second) in [(true, 200), (false, 429)] {
        let app = TestApp::with_gate(backend.gate(HttpSettings {
            trust_forwarded_for: trusted,
            ..limited(1)
        }))
        .await;
        let send = |client: &'static str| {
            atest::TestRequest::post()
                .uri("/v1_0/service-providers")
                .peer_addr(from("10.0.0.9"))
                .insert_header(("x-forwarded-for", client))
                .set_json(json!({}))
        };

        app.send(send("203.0.113.7, 10.0.0.9"))
            .await
            .assert_status(200);
        let reply = app.send(send("203.0.113.8")).await;

        assert_eq!(reply.status.as_u16(), second, "trusted: {trusted}");
    }
}

async fn a_refused_credential_is_charged_to_the_client_address(backend: Backend) {
    const SECRET: &str = "a-test-secret-of-at-least-32-bytes!!";
    let verifier = JwtVerifier::new(&JwtSettings {
        key: JwtKey::Hs256Secret(SECRET.into()),
        issuer: None,
        audience: None,
        roles_claim: provider_http::DEFAULT_ROLES_CLAIM.into(),
    })
    .unwrap();
    let app = TestApp::with_gate(backend.gate(HttpSettings {
        authentication: Authentication::Jwt(Box::new(verifier)),
        ..limited(2)
    }))
    .await;
    let with_token = |token: String| {
        atest::TestRequest::post()
            .uri("/v1_0/service-providers")
            .peer_addr(from("10.0.0.5"))
            .insert_header(("authorization", format!("Bearer {token}")))
            .set_json(json!({}))
    };

    let first = app.send(with_token("forged".into())).await;
    first.assert_error(401);
    assert_eq!(first.header("ratelimit-remaining").as_deref(), Some("1"));
    app.send(with_token("forged".into()))
        .await
        .assert_error(401);
    app.send(with_token("forged".into()))
        .await
        .assert_error(429);
    // A genuine caller from the same address has a bucket of their own.
    let claims = json!({"sub": Uuid::new_v4().to_string(), "exp": 4_102_444_800_u64});
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
    )
    .unwrap();
    app.send(with_token(token)).await.assert_status(200);
}

#[actix_web::test]
async fn idle_buckets_are_dropped_so_memory_stays_bounded() {
    // In the process only: Redis drops a bucket by itself when it is full again (its TTL).
    // 120 a minute: a bucket is dropped two emission intervals (1 s) after its last request,
    // well after the 50 requests below even on a loaded machine (with a shorter interval the
    // first buckets were already gone when they were counted).
    let gate = Gate::with_eviction_interval(limited(120), Duration::ZERO);
    let app = TestApp::with_gate(gate.clone()).await;

    for i in 0..50 {
        search_from(&app, &format!("10.1.0.{i}"))
            .await
            .assert_status(200);
    }
    assert!(gate.tracked_callers() >= 40, "{}", gate.tracked_callers());
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    search_from(&app, "10.2.0.1").await.assert_status(200);

    assert!(gate.tracked_callers() <= 1, "{}", gate.tracked_callers());
}

/// The value of an unlabelled sample of `/metrics`.
async fn sample(app: &TestApp, name: &str) -> Option<f64> {
    let text = String::from_utf8(app.get("/metrics").await.body.to_vec()).unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[actix_web::test]
async fn with_redis_readiness_says_it_answers_and_nothing_else_changes() {
    let Some(url) = test_redis() else { return };
    let app = TestApp::with_gate(Backend::Redis(url).gate(limited(2))).await;

    let ready = app.get("/v1_0/health/ready").await;
    assert_eq!(
        ready.assert_status(200),
        json!({"status": "ok", "rate_limit_store": "ok"})
    );
    search_from(&app, "10.0.0.6").await.assert_status(200);
    assert_eq!(
        sample(&app, "http_server_rate_limit_store_errors_total").await,
        Some(0.0)
    );
}

#[actix_web::test]
async fn without_redis_readiness_and_metrics_say_nothing_of_it() {
    let app = TestApp::with_gate(Gate::new(limited(2))).await;
    assert_eq!(
        app.get("/v1_0/health/ready").await.assert_status(200),
        json!({"status": "ok"})
    );
    assert_eq!(
        sample(&app, "http_server_rate_limit_store_errors_total").await,
        None
    );
}

#[actix_web::test]
async fn a_redis_that_does_not_answer_lets_requests_through_unlimited_and_counted() {
    // A socket that takes connections and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", silent.local_addr().unwrap());
    let gate = Gate::new(HttpSettings {
        rate_limit_redis: Some(RedisRateLimits::new(&url, Duration::from_millis(50)).unwrap()),
        ..limited(1)
    });
    let app = TestApp::with_gate(gate).await;

    for _ in 0..3 {
        let reply = search_from(&app, "10.0.0.7").await;
        reply.assert_status(200);
        // Served unlimited: there are no figures to tell.
        assert_eq!(
            figures(&reply),
            (String::new(), String::new(), String::new())
        );
    }
    assert_eq!(
        sample(&app, "http_server_rate_limit_store_errors_total").await,
        Some(3.0)
    );
    assert_eq!(
        sample(&app, "http_server_rate_limited_total").await,
        Some(0.0)
    );
    // Readiness stays 200, and says so.
    assert_eq!(
        app.get("/v1_0/health/ready").await.assert_status(200),
        json!({"status": "ok", "rate_limit_store": "down"})
    );
}

/// The app with a route (`/held`) that counts its requests in `entered` and holds each until
/// `release` gets a permit.
async fn app_with_a_held_route(
    max_in_flight: usize,
    entered: Arc<AtomicUsize>,
    release: Arc<Semaphore>,
) -> TestApp {
    let store = Arc::new(MemoryStore::new());
    let service = ProviderService::with_clock(
        store.clone(),
        store.clone(),
        store,
        Arc::new(TickingClock::default()),
    );
    let gate = Gate::new(HttpSettings {
        max_in_flight,
        ..HttpSettings::default()
    });
    let app = provider_http::app_with(service, gate).route(
        "/held",
        web::get().to(move || {
            let (entered, release) = (entered.clone(), release.clone());
            async move {
                entered.fetch_add(1, Ordering::SeqCst);
                release.acquire().await.unwrap().forget();
                actix_web::HttpResponse::Ok().json(json!({"held": true}))
            }
        }),
    );
    TestApp::serve(app).await
}

#[actix_web::test]
async fn beyond_max_in_flight_requests_are_shed_at_once_but_probes_are_not() {
    let entered = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(Semaphore::new(0));
    let app = Rc::new(app_with_a_held_route(2, entered.clone(), release.clone()).await);
    let held: Vec<_> = (0..2)
        .map(|_| {
            let app = app.clone();
            actix_web::rt::spawn(async move { app.get("/held").await })
        })
        .collect();
    while entered.load(Ordering::SeqCst) < 2 {
        actix_web::rt::task::yield_now().await;
    }

    let shed = app.search("", &json!({})).await;
    shed.assert_error(503);
    assert_eq!(shed.header("retry-after").as_deref(), Some("1"));
    app.get("/v1_0/health").await.assert_status(200);
    app.get("/v1_0/health/ready").await.assert_status(200);

    release.add_permits(2);
    for h in held {
        h.await.unwrap().assert_status(200);
    }
    app.search("", &json!({})).await.assert_status(200);
}
