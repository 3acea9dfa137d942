//! JWT mode: the caller is the `sub` of a bearer token this server verifies; every forged or
//! broken token is refused with 401 and `WWW-Authenticate: Bearer error="invalid_token"`.

use crate::helpers::{provider, Reply, TestApp};
use actix_web::test as atest;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use provider_http::{
    Authentication, Gate, HttpSettings, JwtConfigError, JwtKey, JwtSettings, JwtVerifier,
};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

const SECRET: &str = "a-test-secret-of-at-least-32-bytes!!";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn verifier(key: JwtKey, issuer: Option<&str>, audience: Option<&str>) -> JwtVerifier {
    JwtVerifier::new(&JwtSettings {
        key,
        issuer: issuer.map(str::to_owned),
        audience: audience.map(str::to_owned),
        roles_claim: provider_http::DEFAULT_ROLES_CLAIM.into(),
    })
    .unwrap()
}

async fn app_with(verifier: JwtVerifier) -> TestApp {
    TestApp::with_gate(Gate::new(HttpSettings {
        authentication: Authentication::Jwt(Box::new(verifier)),
        ..HttpSettings::default()
    }))
    .await
}

async fn hs256_app() -> TestApp {
    app_with(verifier(JwtKey::Hs256Secret(SECRET.into()), None, None)).await
}

/// Claims for `sub`, valid for an hour.
fn claims(sub: Uuid) -> Value {
    json!({"sub": sub.to_string(), "exp": now() + 3600})
}

fn hs256(claims: &Value) -> String {
    sign(
        Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
    )
}

fn sign(header: Header, claims: &Value, key: &EncodingKey) -> String {
    encode(&header, claims, key).unwrap()
}

fn rs256(claims: &Value, private: &str, kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    sign(
        header,
        claims,
        &EncodingKey::from_rsa_pem(&fixture(private)).unwrap(),
    )
}

fn es256(claims: &Value, kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = kid.map(str::to_owned);
    sign(
        header,
        claims,
        &EncodingKey::from_ec_pem(&fixture("ec_private.pem")).unwrap(),
    )
}

/// Creates a provider with `Authorization: <authorization>` (and any extra headers).
async fn create(app: &TestApp, authorization: Option<&str>, extra: &[(&str, &str)]) -> Reply {
    let mut req = atest::TestRequest::post()
        .uri("/v1_0/service-provider")
        .set_json(provider("Tokened", &["Plumbing"], 1000));
    if let Some(value) = authorization {
        req = req.insert_header(("authorization", value));
    }
    for header in extra {
        req = req.insert_header(*header);
    }
    app.send(req).await
}

#[track_caller]
fn assert_invalid_token(reply: &Reply) {
    reply.assert_error(401);
    assert_eq!(
        reply.header("www-authenticate").as_deref(),
        Some(r#"Bearer error="invalid_token""#)
    );
}

#[actix_web::test]
async fn a_valid_token_makes_its_sub_the_owner() {
    let app = hs256_app().await;
    let owner = Uuid::new_v4();
    let token = format!("Bearer {}", hs256(&claims(owner)));

    let created = create(&app, Some(&token), &[]).await.assert_status(201);
    let id = created["id"].as_str().unwrap();
    let path = format!("/v1_0/service-provider/{id}");

    let mine = app
        .send(
            atest::TestRequest::put()
                .uri(&path)
                .insert_header(("authorization", token.as_str()))
                .set_json(provider("Renamed", &[], 2000)),
        )
        .await;
    mine.assert_status(200);
    let someone_else = format!("Bearer {}", hs256(&claims(Uuid::new_v4())));
    let theirs = app
        .send(
            atest::TestRequest::delete()
                .uri(&path)
                .insert_header(("authorization", someone_else.as_str())),
        )
        .await;
    theirs.assert_error(404);
}

#[actix_web::test]
async fn the_user_id_header_is_ignored_in_jwt_mode() {
    let app = hs256_app().await;
    let user = Uuid::new_v4().to_string();

    let reply = create(&app, None, &[("user-id", &user)]).await;

    reply.assert_error(401);
    assert_eq!(reply.header("www-authenticate").as_deref(), Some("Bearer"));
}

#[actix_web::test]
async fn a_missing_token_or_another_scheme_is_401_asking_for_a_bearer_token() {
    let app = hs256_app().await;

    for authorization in [None, Some("Basic dXNlcjpwYXNz"), Some("Token abc")] {
        let reply = create(&app, authorization, &[]).await;

        reply.assert_error(401);
        assert_eq!(reply.header("www-authenticate").as_deref(), Some("Bearer"));
    }
}

#[actix_web::test]
async fn an_empty_or_garbled_bearer_token_is_invalid() {
    let app = hs256_app().await;

    for authorization in ["Bearer", "Bearer ", "Bearer not.a.jwt", "Bearer abc"] {
        assert_invalid_token(&create(&app, Some(authorization), &[]).await);
    }
}

#[actix_web::test]
async fn an_unsigned_token_with_alg_none_is_refused() {
    use base64::Engine;
    let app = hs256_app().await;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = b64.encode(claims(Uuid::new_v4()).to_string());

    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        assert_invalid_token(&create(&app, Some(&format!("Bearer {token}")), &[]).await);
    }
}

#[actix_web::test]
async fn an_hs256_token_signed_with_the_rsa_public_key_as_secret_is_refused() {
    let app = app_with(verifier(
        JwtKey::PublicKeyPem(fixture("rsa_public.pem")),
        None,
        None,
    ))
    .await;
    let forged = sign(
        Header::new(Algorithm::HS256),
        &claims(Uuid::new_v4()),
        &EncodingKey::from_secret(&fixture("rsa_public.pem")).unwrap(),
    );

    assert_invalid_token(&create(&app, Some(&format!("Bearer {forged}")), &[]).await);
    let genuine = rs256(&claims(Uuid::new_v4()), "rsa_private.pem", None);
    create(&app, Some(&format!("Bearer {genuine}")), &[])
        .await
        .assert_status(201);
}

#[actix_web::test]
async fn a_token_signed_by_another_key_is_refused() {
    let app = app_with(verifier(
        JwtKey::PublicKeyPem(fixture("rsa_public.pem")),
        None,
        None,
    ))
    .await;
    let other = rs256(&claims(Uuid::new_v4()), "rsa2_private.pem", None);

    assert_invalid_token(&create(&app, Some(&format!("Bearer {other}")), &[]).await);
}

#[actix_web::test]
async fn a_tampered_payload_breaks_the_signature() {
    use base64::Engine;
    let app = hs256_app().await;
    let token = hs256(&claims(Uuid::new_v4()));
    let parts: Vec<&str> = token.split('.').collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let other = b64.encode(claims(Uuid::new_v4()).to_string());
    let tampered = format!("{}.{other}.{}", parts[0], parts[2]);

    assert_invalid_token(&create(&app, Some(&format!("Bearer {tampered}")), &[]).await);
}

#[actix_web::test]
async fn expiry_is_required_and_honoured_with_60_seconds_of_leeway() {
    let app = hs256_app().await;
    let sub = Uuid::new_v4().to_string();

    let beyond = hs256(&json!({"sub": sub, "exp": now() - 120}));
    assert_invalid_token(&create(&app, Some(&format!("Bearer {beyond}")), &[]).await);
    let no_exp = hs256(&json!({"sub": sub}));
    assert_invalid_token(&create(&app, Some(&format!("Bearer {no_exp}")), &[]).await);
    let within = hs256(&json!({"sub": sub, "exp": now() - 20}));
    create(&app, Some(&format!("Bearer {within}")), &[])
        .await
        .assert_status(201);
}

#[actix_web::test]
async fn a_token_not_valid_yet_is_refused_beyond_the_leeway() {
    let app = hs256_app().await;
    let sub = Uuid::new_v4().to_string();

    let ahead = hs256(&json!({"sub": sub, "exp": now() + 3600, "nbf": now() + 120}));
    assert_invalid_token(&create(&app, Some(&format!("Bearer {ahead}")), &[]).await);
    let within = hs256(&json!({"sub": sub, "exp": now() + 3600, "nbf": now() + 20}));
    create(&app, Some(&format!("Bearer {within}")), &[])
        .await
        .assert_status(201);
}

#[actix_web::test]
async fn issuer_and_audience_are_required_when_configured() {
    let app = app_with(verifier(
        JwtKey::Hs256Secret(SECRET.into()),
        Some("https://issuer.example"),
        Some("provider-api"),
    ))
    .await;
    let sub = Uuid::new_v4().to_string();
    let exp = now() + 3600;
    let token = |claims: Value| format!("Bearer {}", hs256(&claims));

    for refused in [
        json!({"sub": sub, "exp": exp, "iss": "https://other.example", "aud": "provider-api"}),
        json!({"sub": sub, "exp": exp, "iss": "https://issuer.example", "aud": "another-api"}),
        json!({"sub": sub, "exp": exp, "aud": "provider-api"}),
        json!({"sub": sub, "exp": exp, "iss": "https://issuer.example"}),
    ] {
        assert_invalid_token(&create(&app, Some(&token(refused)), &[]).await);
    }
    for accepted in [
        json!({"sub": sub, "exp": exp, "iss": "https://issuer.example", "aud": "provider-api"}),
        json!({"sub": sub, "exp": exp, "iss": "https://issuer.example", "aud": ["x", "provider-api"]}),
    ] {
        create(&app, Some(&token(accepted)), &[])
            .await
            .assert_status(201);
    }
}

#[actix_web::test]
async fn audience_and_issuer_are_not_checked_when_not_configured() {
    let app = hs256_app().await;
    let sub = Uuid::new_v4().to_string();
    let token = hs256(&json!({"sub": sub, "exp": now() + 60, "iss": "anyone", "aud": "anything"}));

    create(&app, Some(&format!("Bearer {token}")), &[])
        .await
        .assert_status(201);
}

#[actix_web::test]
async fn a_sub_that_is_not_a_uuid_or_is_missing_is_refused() {
    let app = hs256_app().await;

    for claims in [
        json!({"sub": "alice", "exp": now() + 60}),
        json!({"sub": 42, "exp": now() + 60}),
        json!({"exp": now() + 60}),
    ] {
        let token = hs256(&claims);
        assert_invalid_token(&create(&app, Some(&format!("Bearer {token}")), &[]).await);
    }
}

#[actix_web::test]
async fn a_jwks_key_is_chosen_by_kid_and_unknown_or_missing_kids_are_refused() {
    let app = app_with(verifier(JwtKey::Jwks(fixture("jwks.json")), None, None)).await;
    let claims = claims(Uuid::new_v4());

    let rsa = rs256(&claims, "rsa_private.pem", Some("rsa-1"));
    create(&app, Some(&format!("Bearer {rsa}")), &[])
        .await
        .assert_status(201);
    let ec = es256(&claims, Some("ec-1"));
    create(&app, Some(&format!("Bearer {ec}")), &[])
        .await
        .assert_status(201);

    for refused in [
        rs256(&claims, "rsa_private.pem", Some("rsa-9")),
        rs256(&claims, "rsa_private.pem", None),
        // The right key material under the other key's id: that key's algorithm is ES256.
        rs256(&claims, "rsa_private.pem", Some("ec-1")),
        rs256(&claims, "rsa2_private.pem", Some("rsa-1")),
    ] {
        assert_invalid_token(&create(&app, Some(&format!("Bearer {refused}")), &[]).await);
    }
}

#[actix_web::test]
async fn an_es256_pem_key_verifies_es256_tokens_only() {
    let app = app_with(verifier(
        JwtKey::PublicKeyPem(fixture("ec_public.pem")),
        None,
        None,
    ))
    .await;
    let claims = claims(Uuid::new_v4());

    let ec = es256(&claims, None);
    create(&app, Some(&format!("Bearer {ec}")), &[])
        .await
        .assert_status(201);
    let rsa = rs256(&claims, "rsa_private.pem", None);
    assert_invalid_token(&create(&app, Some(&format!("Bearer {rsa}")), &[]).await);
}

#[actix_web::test]
async fn reads_need_no_token_but_a_bad_one_is_still_refused() {
    let app = hs256_app().await;
    let search = |authorization: Option<&'static str>| {
        let mut req = atest::TestRequest::post()
            .uri("/v1_0/service-providers")
            .set_json(json!({}));
        if let Some(value) = authorization {
            req = req.insert_header(("authorization", value));
        }
        req
    };

    app.send(search(None)).await.assert_status(200);
    assert_invalid_token(&app.send(search(Some("Bearer forged.token.here"))).await);
    let valid = format!("Bearer {}", hs256(&claims(Uuid::new_v4())));
    app.send(
        atest::TestRequest::post()
            .uri("/v1_0/service-providers")
            .insert_header(("authorization", valid.as_str()))
            .set_json(json!({})),
    )
    .await
    .assert_status(200);
    // Probes never look at credentials.
    let health = app
        .send(
            atest::TestRequest::get()
                .uri("/v1_0/health")
                .insert_header(("authorization", "Bearer forged")),
        )
        .await;
    health.assert_status(200);
}

#[test]
fn unusable_keys_refuse_to_start() {
    let settings = |key| JwtSettings {
        key,
        issuer: None,
        audience: None,
        roles_claim: provider_http::DEFAULT_ROLES_CLAIM.into(),
    };
    assert!(matches!(
        JwtVerifier::new(&settings(JwtKey::Hs256Secret(b"too short".to_vec()))),
        Err(JwtConfigError::SecretTooShort(9))
    ));
    for key in [
        JwtKey::PublicKeyPem(fixture("ec384_public.pem")),
        JwtKey::PublicKeyPem(b"not a pem".to_vec()),
    ] {
        assert!(matches!(
            JwtVerifier::new(&settings(key)),
            Err(JwtConfigError::Pem(_))
        ));
    }
    let mut no_kid: Value = serde_json::from_slice(&fixture("jwks.json")).unwrap();
    no_kid["keys"][1].as_object_mut().unwrap().remove("kid");
    for jwks in [
        json!({"keys": []}),
        no_kid,
        json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}),
    ] {
        assert!(matches!(
            JwtVerifier::new(&settings(JwtKey::Jwks(jwks.to_string().into_bytes()))),
            Err(JwtConfigError::Jwks(_))
        ));
    }
}
