//! Every failure the HTTP layer produces itself is the JSON error shape with the right status.

use crate::helpers::{provider, TestApp};
use actix_web::test as atest;
use actix_web::web;
use serde_json::json;
use uuid::Uuid;

fn raw_post(
    uri: &str,
    content_type: Option<&str>,
    body: impl Into<web::Bytes>,
) -> atest::TestRequest {
    let req = atest::TestRequest::post()
        .uri(uri)
        .insert_header(("user-id", Uuid::new_v4().to_string()));
    let req = match content_type {
        Some(ct) => req.insert_header(("content-type", ct)),
        None => req,
    };
    req.set_payload(body.into())
}

#[actix_web::test]
async fn create_returns_400_when_the_body_is_not_valid_json() {
    let app = TestApp::new().await;

    let reply = app
        .send(raw_post(
            "/v1_0/service-provider",
            Some("application/json"),
            r#"{"name": "Acme", "cost_in_pence": 1"#,
        ))
        .await;

    let body = reply.assert_error(400);
    assert!(body.get("details").is_none());
}

#[actix_web::test]
async fn search_returns_400_for_broken_json_even_when_it_starts_with_an_unknown_field() {
    let app = TestApp::new().await;

    let reply = app
        .send(raw_post(
            "/v1_0/service-providers",
            Some("application/json"),
            r#"{"cost_lte": 1"#,
        ))
        .await;

    reply.assert_error(400);
}

#[actix_web::test]
async fn search_returns_400_when_the_body_is_empty() {
    let app = TestApp::new().await;

    let reply = app
        .send(raw_post(
            "/v1_0/service-providers",
            Some("application/json"),
            "",
        ))
        .await;

    reply.assert_error(400);
}

#[actix_web::test]
async fn search_returns_400_when_valid_json_is_followed_by_garbage() {
    let app = TestApp::new().await;

    let reply = app
        .send(raw_post(
            "/v1_0/service-providers",
            Some("application/json"),
            "{} x",
        ))
        .await;

    reply.assert_error(400);
}

#[actix_web::test]
async fn create_returns_422_naming_the_field_when_a_value_has_the_wrong_type() {
    let app = TestApp::new().await;
    let mut body = provider("Acme", &[], 1);
    body["cost_in_pence"] = json!("a lot");

    let reply = app
        .post("/v1_0/service-provider", Some(Uuid::new_v4()), &body)
        .await;

    let body = reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["cost_in_pence"]);
    assert!(
        body["details"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("must be an integer"),
        "{body}"
    );
}

#[actix_web::test]
async fn create_returns_422_with_the_full_path_of_a_nested_value_of_the_wrong_type() {
    let app = TestApp::new().await;
    let body = json!({
        "name": "Acme",
        "cost_in_pence": 1,
        "availability": [
            {"from_date": "2027-01-01", "to_date": "2027-01-02"},
            {"from_date": 20270101, "to_date": "2027-01-02"},
        ],
    });

    let reply = app
        .post("/v1_0/service-provider", Some(Uuid::new_v4()), &body)
        .await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["availability[1].from_date"]);
}

#[actix_web::test]
async fn create_returns_422_when_a_fractional_cost_is_given() {
    let app = TestApp::new().await;
    let mut body = provider("Acme", &[], 1);
    body["cost_in_pence"] = json!(1.5);

    let reply = app
        .post("/v1_0/service-provider", Some(Uuid::new_v4()), &body)
        .await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["cost_in_pence"]);
}

#[actix_web::test]
async fn search_returns_422_naming_an_unknown_field() {
    let app = TestApp::new().await;

    let reply = app.search("", &json!({"cost_lte": 100})).await;

    let body = reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["cost_lte"]);
    assert!(body["error"].as_str().unwrap().contains("cost_lte"));
}

#[actix_web::test]
async fn create_returns_422_naming_an_unknown_nested_field_by_its_path() {
    let app = TestApp::new().await;
    let body = json!({
        "name": "Acme",
        "cost_in_pence": 1,
        "availability": [{"from_date": "2027-01-01", "to_date": "2027-01-02", "note": "x"}],
    });

    let reply = app
        .post("/v1_0/service-provider", Some(Uuid::new_v4()), &body)
        .await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["availability[0].note"]);
}

#[actix_web::test]
async fn create_returns_422_for_read_only_fields_it_does_not_accept() {
    let app = TestApp::new().await;
    let mut body = provider("Acme", &[], 1);
    body["review_rating"] = json!(5.0);

    let reply = app
        .post("/v1_0/service-provider", Some(Uuid::new_v4()), &body)
        .await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["review_rating"]);
}

#[actix_web::test]
async fn search_returns_422_without_details_when_the_body_is_not_an_object() {
    let app = TestApp::new().await;

    let reply = app.search("", &json!([1, 2])).await;

    let body = reply.assert_error(422);
    assert!(body.get("details").is_none());
}

#[actix_web::test]
async fn create_returns_413_when_the_body_is_larger_than_65536_bytes() {
    let app = TestApp::new().await;
    let body = format!(
        r#"{{"name": "{}", "cost_in_pence": 1}}"#,
        "x".repeat(65_536)
    );

    let reply = app
        .send(raw_post(
            "/v1_0/service-provider",
            Some("application/json"),
            body,
        ))
        .await;

    reply.assert_error(413);
}

#[actix_web::test]
async fn create_reads_a_body_of_exactly_65536_bytes() {
    let app = TestApp::new().await;
    let frame = r#"{"name": "", "cost_in_pence": 1}"#;
    let body = format!(
        r#"{{"name": "{}", "cost_in_pence": 1}}"#,
        "x".repeat(65_536 - frame.len())
    );
    assert_eq!(body.len(), 65_536);

    let reply = app
        .send(raw_post(
            "/v1_0/service-provider",
            Some("application/json"),
            body,
        ))
        .await;

    // Read and validated (the name is too long), not refused for its size.
    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["name"]);
}

#[actix_web::test]
async fn create_returns_415_when_the_content_type_is_not_json() {
    let app = TestApp::new().await;

    let reply = app
        .send(raw_post(
            "/v1_0/service-provider",
            Some("text/plain"),
            r#"{"name": "Acme"}"#,
        ))
        .await;

    reply.assert_error(415);
}

#[actix_web::test]
async fn search_returns_415_when_there_is_no_content_type() {
    let app = TestApp::new().await;

    let reply = app
        .send(raw_post("/v1_0/service-providers", None, "{}"))
        .await;

    reply.assert_error(415);
}

#[actix_web::test]
async fn search_accepts_json_with_a_charset_and_json_suffix_types() {
    let app = TestApp::new().await;

    for content_type in [
        "application/json; charset=utf-8",
        "application/problem+json",
    ] {
        let reply = app
            .send(raw_post(
                "/v1_0/service-providers",
                Some(content_type),
                "{}",
            ))
            .await;

        reply.assert_status(200);
    }
}

#[actix_web::test]
async fn an_unknown_route_returns_404_json() {
    let app = TestApp::new().await;

    for uri in ["/nowhere", "/v1_0/nowhere", "/v1_0/service-provider/x/y/z"] {
        let reply = app.get(uri).await;

        reply.assert_error(404);
    }
}

#[actix_web::test]
async fn a_known_route_asked_with_the_wrong_method_returns_405_json_with_allow() {
    let app = TestApp::new().await;

    let reply = app
        .send(
            atest::TestRequest::patch().uri(&format!("/v1_0/service-provider/{}", Uuid::new_v4())),
        )
        .await;

    reply.assert_error(405);
    assert_eq!(reply.header("allow").as_deref(), Some("GET, PUT, DELETE"));
    let reply = app.get("/v1_0/service-providers").await;
    reply.assert_error(405);
    assert_eq!(reply.header("allow").as_deref(), Some("POST"));
}

#[actix_web::test]
async fn a_panicking_handler_returns_500_json_and_the_app_keeps_serving() {
    let store = std::sync::Arc::new(provider_memory_adapter::MemoryStore::new());
    let service = provider_ports::ProviderService::new(store.clone(), store.clone(), store);
    let app = TestApp::serve(provider_http::app(service).route(
        "/test/panic",
        web::get().to(|| async {
            panic!("a bug, with a secret in its message");
            #[allow(unreachable_code)]
            actix_web::HttpResponse::Ok().finish()
        }),
    ))
    .await;

    let reply = app.get("/test/panic").await;

    let body = reply.assert_error(500);
    assert!(!body.to_string().contains("secret"));
    assert!(reply.header("x-request-id").is_some());
    app.get("/v1_0/health").await.assert_status(200);
}

#[actix_web::test]
async fn create_returns_422_when_a_date_range_is_an_array_instead_of_an_object() {
    let app = TestApp::new().await;
    let body = json!({
        "name": "Acme",
        "cost_in_pence": 1,
        "availability": [["2027-01-01", "2027-01-02"]],
    });

    let reply = app
        .post("/v1_0/service-provider", Some(Uuid::new_v4()), &body)
        .await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["availability[0]"]);
}

#[actix_web::test]
async fn create_returns_422_naming_a_missing_date_of_a_range() {
    let app = TestApp::new().await;
    let body = json!({
        "name": "Acme",
        "cost_in_pence": 1,
        "availability": [{"from_date": "2027-01-01"}],
    });

    let reply = app
        .post("/v1_0/service-provider", Some(Uuid::new_v4()), &body)
        .await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["availability[0].to_date"]);
}

#[actix_web::test]
async fn create_returns_422_naming_a_field_given_twice() {
    let app = TestApp::new().await;

    let reply = app
        .send(raw_post(
            "/v1_0/service-provider",
            Some("application/json"),
            r#"{"name": "A", "name": "B", "cost_in_pence": 1}"#,
        ))
        .await;

    reply.assert_error(422);
    assert_eq!(reply.error_fields(), ["name"]);
}
