//! The binary's identity and limit settings over real HTTP: jwt mode refuses to start without
//! a usable key, identifies callers by verified tokens (on PostgreSQL, where the owner is
//! stored), and a rate limit answers 429 with its headers.

use provider_e2e_tests::{binary, Server};
use provider_postgres_adapter::testing::TestDb;
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECRET: &str = "an-end-to-end-secret-of-32-bytes-or-more";

fn token(sub: &str) -> String {
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": sub, "exp": exp}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// Runs `provider-api serve` with `env`, expecting it to refuse to start; returns its stderr.
fn refused_start(env: &[(&str, &str)]) -> String {
    let mut command = Command::new(binary());
    command
        .arg("serve")
        .env("PORT", "0")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success(), "it started and exited 0 with {env:?}");
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            return stderr;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("provider-api kept running with {env:?}");
}

#[test]
fn a_cursor_secret_shorter_than_32_bytes_stops_the_start() {
    let short = refused_start(&[("CURSOR_SECRET", "0123456789abcdef0123456789abcde")]);
    assert!(
        short.contains("CURSOR_SECRET must be at least 32 bytes (got 31)"),
        "{short}"
    );
    assert!(
        !short.contains("0123456789abcdef"),
        "the secret is never printed: {short}"
    );
}

#[test]
fn jwt_mode_refuses_to_start_without_a_usable_key() {
    let none = refused_start(&[("AUTH_MODE", "jwt")]);
    assert!(none.contains("JWT_HS256_SECRET"), "{none}");
    let short = refused_start(&[("AUTH_MODE", "jwt"), ("JWT_HS256_SECRET", "short")]);
    assert!(short.contains("at least 32"), "{short}");
    let missing_file = refused_start(&[
        ("AUTH_MODE", "jwt"),
        ("JWT_PUBLIC_KEY_FILE", "/nonexistent/key.pem"),
    ]);
    assert!(
        missing_file.contains("/nonexistent/key.pem"),
        "{missing_file}"
    );
    let two = refused_start(&[
        ("AUTH_MODE", "jwt"),
        ("JWT_HS256_SECRET", SECRET),
        ("JWT_JWKS_FILE", "/nonexistent/jwks.json"),
    ]);
    assert!(two.contains("exactly one"), "{two}");
}

#[tokio::test]
async fn jwt_mode_identifies_callers_by_verified_tokens_on_postgres() {
    let db = TestDb::new().await;
    let server = Server::start(&[
        ("DATABASE_URL", db.url()),
        ("AUTH_MODE", "jwt"),
        ("JWT_HS256_SECRET", SECRET),
    ]);
    let http = reqwest::Client::new();
    let owner = uuid::Uuid::new_v4().to_string();
    let body = json!({"name": "Tokened Ltd", "skills": ["Plumbing"], "cost_in_pence": 1000});

    let believed_header = http
        .post(server.url("/v1_0/service-provider"))
        .header("user-id", &owner)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(believed_header.status(), 401);
    assert_eq!(believed_header.headers()["www-authenticate"], "Bearer");

    let created = http
        .post(server.url("/v1_0/service-provider"))
        .bearer_auth(token(&owner))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = server.url(&format!("/v1_0/service-provider/{id}"));

    let by_someone_else = http
        .delete(&path)
        .bearer_auth(token(&uuid::Uuid::new_v4().to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(by_someone_else.status(), 404);
    let by_owner = http
        .delete(&path)
        .bearer_auth(token(&owner))
        .send()
        .await
        .unwrap();
    assert_eq!(by_owner.status(), 200);
}

#[tokio::test]
async fn a_rate_limited_binary_answers_429_with_its_headers() {
    let server = Server::start(&[("RATE_LIMIT_PER_MINUTE", "2")]);
    let http = reqwest::Client::new();
    let search = || {
        http.post(server.url("/v1_0/service-providers"))
            .json(&json!({}))
            .send()
    };

    let first = search().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["ratelimit-limit"], "2");
    assert_eq!(first.headers()["ratelimit-remaining"], "1");
    assert_eq!(search().await.unwrap().status(), 200);
    let refused = search().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    assert!(refused.json::<Value>().await.unwrap()["error"].is_string());
    let health = http.get(server.url("/v1_0/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}
