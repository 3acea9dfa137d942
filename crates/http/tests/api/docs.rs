//! The OpenAPI document and the docs UI.

use crate::helpers::TestApp;
use serde_json::Value;

#[actix_web::test]
async fn openapi_json_lists_every_path_with_its_methods() {
    let app = TestApp::new().await;

    let doc = app.get("/v1_0/openapi.json").await.assert_status(200);

    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("/v1_0/health", &["get"][..]),
        ("/v1_0/health/ready", &["get"]),
        ("/v1_0/service-provider", &["post"]),
        ("/v1_0/service-provider/{id}", &["get", "put", "delete"]),
        ("/v1_0/service-provider/{id}/review", &["post"]),
        ("/v1_0/service-provider/{id}/reviews", &["get"]),
        ("/v1_0/service-providers", &["post"]),
        ("/v1_0/service-providers/recommend", &["post"]),
        ("/v1_0/openapi.json", &["get"]),
    ];
    assert_eq!(paths.len(), expected.len(), "{:?}", paths.keys());
    for (path, methods) in expected {
        let item = &paths[path];
        for method in methods {
            assert!(item.get(*method).is_some(), "{method} {path}");
        }
    }
}

#[actix_web::test]
async fn openapi_json_documents_errors_paging_and_the_user_id_header() {
    let app = TestApp::new().await;

    let doc = app.get("/v1_0/openapi.json").await.assert_status(200);

    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for schema in [
        "ErrorBody",
        "ServiceProvider",
        "ServiceProviderInput",
        "RecommendedServiceProvider",
        "Review",
        "SearchRequest",
        "RecommendRequest",
    ] {
        assert!(
            schemas.contains_key(schema),
            "{schema} in {:?}",
            schemas.keys()
        );
    }
    let scheme = &doc["components"]["securitySchemes"]["user_id"];
    assert_eq!(scheme["in"], "header");
    assert_eq!(scheme["name"], "user-id");
    let create = &doc["paths"]["/v1_0/service-provider"]["post"];
    for status in ["201", "400", "401", "413", "415", "422", "503"] {
        assert!(create["responses"].get(status).is_some(), "create {status}");
    }
    let review = &doc["paths"]["/v1_0/service-provider/{id}/review"]["post"];
    for status in ["403", "404", "409"] {
        assert!(review["responses"].get(status).is_some(), "review {status}");
    }
    let search = &doc["paths"]["/v1_0/service-providers"]["post"];
    let params: Vec<&str> = search["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p: &Value| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["page", "page_size"]);
}

#[actix_web::test]
async fn docs_serves_the_swagger_ui_pointing_at_the_openapi_document() {
    let app = TestApp::new().await;

    let redirect = app.get("/docs").await;
    let page = app.get("/docs/").await;
    let initializer = app.get("/docs/swagger-initializer.js").await;

    assert!(redirect.status.is_redirection());
    assert_eq!(redirect.header("location").as_deref(), Some("/docs/"));
    assert_eq!(page.status.as_u16(), 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(String::from_utf8_lossy(&page.body).contains("swagger"));
    assert!(String::from_utf8_lossy(&initializer.body).contains("/v1_0/openapi.json"));
}

#[actix_web::test]
async fn a_missing_docs_asset_is_a_json_404() {
    let app = TestApp::new().await;

    let reply = app.get("/docs/no-such-file.js").await;

    reply.assert_error(404);
}
