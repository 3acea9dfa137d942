//! The app under test, requests and replies, and sample data.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::test as atest;
use actix_web::web::Bytes;
use actix_web::App;
use futures_util::future::LocalBoxFuture;
use provider_memory_adapter::MemoryStore;
use provider_ports::{Clock, ProviderService};
use serde_json::{json, Value};
use std::io::Write;
use std::rc::Rc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// The test Redis's URL (`TEST_REDIS_URL`, else `REDIS_URL`), when there is one. Without one
/// the Redis tests fail under CI (`CI=true`), and are skipped, saying so, elsewhere.
pub fn test_redis() -> Option<String> {
    let url = ["TEST_REDIS_URL", "REDIS_URL"].iter().find_map(|name| {
        std::env::var(name)
            .ok()
            .filter(|url| !url.trim().is_empty())
    });
    if url.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "no Redis for the rate-limit tests: set TEST_REDIS_URL (scripts/test-redis.sh, which \
             `make test` runs, starts one)"
        );
        eprintln!(
            "SKIPPED: no TEST_REDIS_URL; run through scripts/test-redis.sh to test the Redis limiter"
        );
    }
    url
}

/// What the app answered.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON (panics when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// The `field`s of the error's `details`, in order.
    pub fn error_fields(&self) -> Vec<String> {
        self.json()["details"]
            .as_array()
            .map(|details| {
                details
                    .iter()
                    .map(|d| d["field"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts the status and that the body is the JSON error shape; returns the body.
    #[track_caller]
    pub fn assert_error(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/json")
        );
        let body = self.json();
        let error = body["error"].as_str().expect("an `error` sentence");
        assert!(!error.is_empty());
        if let Some(details) = body.get("details") {
            let details = details.as_array().expect("`details` is an array");
            assert!(!details.is_empty(), "`details` is omitted when empty");
            for d in details {
                assert!(d["field"].is_string() && d["message"].is_string(), "{d}");
            }
        }
        body
    }

    /// Asserts the status; returns the JSON body.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self.json()
    }
}

type Send = Rc<dyn Fn(atest::TestRequest) -> LocalBoxFuture<'static, Reply>>;

/// Collects what the fmt subscriber writes.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once) a global subscriber writing every log line of this test binary into a
/// buffer. Global, not scoped: a thread-local default races with the callsite interest cache
/// while other tests run in parallel. [`TestApp::serve`] installs it before any app exists:
/// installed later, a span callsite another test had already reached with no subscriber could
/// keep its cached "never" interest, and its events would be logged outside their span.
pub fn captured_logs() -> Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            let captured = Captured::default();
            let writer = captured.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other test installs a subscriber");
            captured
        })
        .clone()
}

/// The real actix app, in process.
pub struct TestApp {
    send: Send,
}

impl TestApp {
    /// The app over a fresh memory store, with a clock that ticks one second per review.
    pub async fn new() -> Self {
        let store = Arc::new(MemoryStore::new());
        let service = ProviderService::with_clock(
            store.clone(),
            store.clone(),
            store.clone(),
            Arc::new(TickingClock::default()),
        )
        .with_feed(store);
        Self::serve(provider_http::app(service)).await
    }

    /// The app over a fresh memory store, with identity and limits as `gate` says.
    pub async fn with_gate(gate: provider_http::Gate) -> Self {
        let store = Arc::new(MemoryStore::new());
        let service = ProviderService::with_clock(
            store.clone(),
            store.clone(),
            store.clone(),
            Arc::new(TickingClock::default()),
        )
        .with_feed(store);
        Self::serve(provider_http::app_with(service, gate)).await
    }

    /// The app over `service`.
    pub async fn with_service(service: ProviderService) -> Self {
        Self::serve(provider_http::app(service)).await
    }

    /// Any app (e.g. [`provider_http::app`] with a test-only route added).
    pub async fn serve<T, B>(app: App<T>) -> Self
    where
        T: ServiceFactory<
                ServiceRequest,
                Config = (),
                Response = ServiceResponse<B>,
                Error = actix_web::Error,
                InitError = (),
            > + 'static,
        B: MessageBody + 'static,
    {
        captured_logs();
        let service = Rc::new(atest::init_service(app).await);
        let send: Send = Rc::new(move |req: atest::TestRequest| {
            let service = service.clone();
            Box::pin(async move {
                match service.call(req.to_request()).await {
                    Ok(response) => {
                        let status = response.status();
                        let headers = response.headers().clone();
                        let body = atest::read_body(response).await;
                        Reply {
                            status,
                            headers,
                            body,
                        }
                    }
                    // What actix-web's dispatcher does with an error that reaches it.
                    Err(error) => {
                        let response = error.error_response();
                        let status = response.status();
                        let headers = response.headers().clone();
                        let body = actix_web::body::to_bytes(response.into_body())
                            .await
                            .unwrap_or_default();
                        Reply {
                            status,
                            headers,
                            body,
                        }
                    }
                }
            })
        });
        Self { send }
    }

    /// Sends a request.
    pub async fn send(&self, req: atest::TestRequest) -> Reply {
        (self.send)(req).await
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.send(atest::TestRequest::get().uri(uri)).await
    }

    /// POSTs JSON, with `user-id` when `user` is given.
    pub async fn post(&self, uri: &str, user: Option<Uuid>, body: &Value) -> Reply {
        self.send(with_user(atest::TestRequest::post().uri(uri), user).set_json(body))
            .await
    }

    /// PUTs JSON, with `user-id` when `user` is given.
    pub async fn put(&self, uri: &str, user: Option<Uuid>, body: &Value) -> Reply {
        self.send(with_user(atest::TestRequest::put().uri(uri), user).set_json(body))
            .await
    }

    /// DELETEs, with `user-id` when `user` is given.
    pub async fn delete(&self, uri: &str, user: Option<Uuid>) -> Reply {
        self.send(with_user(atest::TestRequest::delete().uri(uri), user))
            .await
    }

    /// Creates a provider owned by `owner`; returns it as answered.
    pub async fn create(&self, owner: Uuid, body: &Value) -> Value {
        let reply = self.post("/v1_0/service-provider", Some(owner), body).await;
        reply.assert_status(201)
    }

    /// Creates a provider owned by a new user; returns its id.
    pub async fn create_id(&self, body: &Value) -> String {
        self.create(Uuid::new_v4(), body).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Reviews provider `id` as a new user with `rating`.
    pub async fn review(&self, id: &str, rating: f64) -> Value {
        self.post(
            &format!("/v1_0/service-provider/{id}/review"),
            Some(Uuid::new_v4()),
            &json!({ "rating": rating }),
        )
        .await
        .assert_status(201)
    }

    /// POSTs a search and returns the answer.
    pub async fn search(&self, query: &str, body: &Value) -> Reply {
        self.post(&format!("/v1_0/service-providers{query}"), None, body)
            .await
    }

    /// POSTs a recommendation request and returns the answer.
    pub async fn recommend(&self, query: &str, body: &Value) -> Reply {
        self.post(
            &format!("/v1_0/service-providers/recommend{query}"),
            None,
            body,
        )
        .await
    }
}

fn with_user(req: atest::TestRequest, user: Option<Uuid>) -> atest::TestRequest {
    match user {
        Some(user) => req.insert_header(("user-id", user.to_string())),
        None => req,
    }
}

/// A provider body with one availability range.
pub fn provider(name: &str, skills: &[&str], cost: i64) -> Value {
    json!({
        "name": name,
        "skills": skills,
        "cost_in_pence": cost,
        "availability": [{"from_date": "2027-11-12", "to_date": "2027-12-28"}],
    })
}

/// A provider body with the given availability ranges.
pub fn provider_available(
    name: &str,
    skills: &[&str],
    cost: i64,
    ranges: &[(&str, &str)],
) -> Value {
    json!({
        "name": name,
        "skills": skills,
        "cost_in_pence": cost,
        "availability": ranges
            .iter()
            .map(|(from, to)| json!({"from_date": from, "to_date": to}))
            .collect::<Vec<_>>(),
    })
}

/// The `name`s of a list answer's `service_providers`, in order.
pub fn names(body: &Value) -> Vec<String> {
    body["service_providers"]
        .as_array()
        .expect("a service_providers list")
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

/// A clock that starts at 2027-01-01T00:00:00Z and moves one second each time it is read, so
/// reviews written one after the other have distinct, increasing times.
#[derive(Debug, Default)]
pub struct TickingClock {
    ticks: AtomicI64,
}

impl Clock for TickingClock {
    fn now(&self) -> OffsetDateTime {
        let tick = self.ticks.fetch_add(1, Ordering::SeqCst);
        datetime!(2027-01-01 00:00:00 UTC) + Duration::seconds(tick)
    }
}
