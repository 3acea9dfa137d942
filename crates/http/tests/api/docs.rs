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
        ("/v1_0/reviews/{review_id}", &["get", "put", "delete"]),
        ("/v1_0/reviews/{review_id}/flags", &["post"]),
        ("/v1_0/reviews/{review_id}/moderation", &["get"]),
        ("/v1_0/reviews/{review_id}/appeal", &["post"]),
        ("/v1_0/reviews/{review_id}/reply", &["put", "delete"]),
        ("/v1_0/flags/{flag_id}", &["get"]),
        ("/v1_0/moderation/queue", &["get"]),
        ("/v1_0/moderation/reviews/{review_id}/decision", &["post"]),
        ("/v1_0/moderation/reviews/{review_id}/history", &["get"]),
        ("/v1_0/events", &["get"]),
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
    assert_eq!(params, ["page", "page_size", "cursor"]);
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

/// The document, and a schema reached by `$ref` resolved against it.
async fn document() -> Value {
    TestApp::new()
        .await
        .get("/v1_0/openapi.json")
        .await
        .assert_status(200)
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// Every operation: (path, method, operation).
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            found.push((path.clone(), method.clone(), operation));
        }
    }
    found
}

/// Every object schema inside `schema` (itself, array items and properties, through `$ref`s).
fn objects_within<'a>(doc: &'a Value, schema: &'a Value, out: &mut Vec<&'a Value>) {
    let schema = resolve(doc, schema);
    if let Some(items) = schema.get("items") {
        objects_within(doc, items, out);
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        out.push(schema);
        for property in properties.values() {
            objects_within(doc, property, out);
        }
    }
}

#[actix_web::test]
async fn every_request_body_schema_refuses_unknown_fields() {
    let doc = document().await;

    let mut bodies = 0;
    for (path, method, operation) in operations(&doc) {
        let Some(body) = operation.get("requestBody") else {
            continue;
        };
        assert_eq!(body["required"], true, "{method} {path}");
        let mut objects = Vec::new();
        objects_within(
            &doc,
            &body["content"]["application/json"]["schema"],
            &mut objects,
        );
        assert!(!objects.is_empty(), "{method} {path}");
        for object in objects {
            assert_eq!(
                object["additionalProperties"], false,
                "{method} {path}: {object}"
            );
        }
        bodies += 1;
    }
    assert_eq!(
        bodies, 10,
        "create, replace, review, search, recommend, edit, flag, appeal, reply, decision"
    );
}

#[actix_web::test]
async fn every_list_route_bounds_page_and_page_size_and_says_the_depth_rule() {
    let doc = document().await;

    for (path, method) in [
        ("/v1_0/service-provider/{id}/reviews", "get"),
        ("/v1_0/service-providers", "post"),
        ("/v1_0/service-providers/recommend", "post"),
    ] {
        let params = doc["paths"][path][method]["parameters"].as_array().unwrap();
        let param = |name: &str| {
            params
                .iter()
                .find(|p| p["name"] == name && p["in"] == "query")
                .unwrap_or_else(|| panic!("{name} on {method} {path}"))
        };
        let page = param("page");
        assert_eq!(page["schema"]["type"], "integer");
        assert_eq!(page["schema"]["minimum"], 1, "{path}");
        assert_eq!(page["schema"]["maximum"], 10000, "{path}");
        assert!(
            page["description"]
                .as_str()
                .unwrap()
                .contains("page * page_size"),
            "{path}"
        );
        let size = param("page_size");
        assert_eq!(size["schema"]["minimum"], 1, "{path}");
        assert_eq!(size["schema"]["maximum"], 100, "{path}");
    }
}

#[actix_web::test]
async fn request_schemas_pin_the_servers_bounds() {
    let doc = document().await;
    let schemas = &doc["components"]["schemas"];
    let provider = &schemas["ServiceProviderInput"]["properties"];
    let search = &schemas["SearchRequest"]["properties"];
    let job = &schemas["RecommendRequest"]["properties"];
    let review = &schemas["ReviewInput"]["properties"];

    // Lengths after trimming are patterns (JSON Schema's lengths count the raw string).
    let pattern = |schema: &Value| schema["pattern"].as_str().unwrap().to_owned();
    assert!(pattern(&provider["name"]).contains("{0,198}"));
    assert!(provider["name"].get("minLength").is_none());
    assert!(pattern(&provider["skills"]["items"]).contains("{0,98}"));
    assert!(pattern(&search["name"]).contains("{0,198}"));
    assert!(pattern(&search["skills"]["items"]).contains("{0,98}"));
    assert!(pattern(&job["skills"]["items"]).contains("{0,98}"));
    assert!(pattern(&review["comment"]).contains("{0,1998}"));
    // A name needs a character that is not white space; a search name and a comment do not.
    assert!(!pattern(&provider["name"]).contains(")?)?"));
    assert!(pattern(&search["name"]).contains(")?)?"));

    assert_eq!(provider["skills"]["maxItems"], 50);
    assert_eq!(provider["availability"]["maxItems"], 100);
    assert_eq!(provider["cost_in_pence"]["minimum"], 0);
    assert_eq!(provider["cost_in_pence"]["maximum"], 100_000_000_000_i64);
    assert_eq!(search["skills"]["maxItems"], 50);
    assert_eq!(search["availability"]["maxItems"], 20);
    assert_eq!(job["skills"]["minItems"], 1);
    assert_eq!(job["skills"]["maxItems"], 50);
    assert_eq!(job["availability"]["minItems"], 1);
    assert_eq!(job["availability"]["maxItems"], 20);
    assert_eq!(job["job_budget_in_pence"]["minimum"], 1);
    assert_eq!(job["expected_job_duration_in_days"]["minimum"], 1);
    assert_eq!(job["expected_job_duration_in_days"]["maximum"], 2_958_464);
    // Required fields of recommend refuse null (the server says "is required").
    for field in ["job_budget_in_pence", "skills", "availability"] {
        assert!(!job[field]["type"].to_string().contains("null"), "{field}");
    }
    let required = &schemas["RecommendRequest"]["required"];
    assert_eq!(
        *required,
        serde_json::json!(["job_budget_in_pence", "skills", "availability"])
    );
    assert_eq!(review["rating"]["multipleOf"], 0.1);
    let date = &schemas["DateRange"]["properties"]["from_date"];
    assert_eq!(date["format"], "date");
    assert!(date["pattern"]
        .as_str()
        .unwrap()
        .starts_with("^(?:19|[2-9]"));
    // The cross-field rules are said in words.
    let words = |schema: &Value| schema["description"].as_str().unwrap().to_owned();
    assert!(words(&search["cost_lt"]).contains("cost_gt` must be less than `cost_lt"));
    assert!(words(&search["reviews_lt"]).contains("must not be greater than"));
    assert!(words(&job["availability"]).contains("at least as long as the job"));
    assert!(words(&provider["availability"]).contains("must not overlap"));
}

#[actix_web::test]
async fn every_operation_has_an_id_and_lists_its_errors_with_the_error_body() {
    let doc = document().await;

    let mut ids = Vec::new();
    for (path, method, operation) in operations(&doc) {
        ids.push(operation["operationId"].as_str().unwrap().to_owned());
        let responses = operation["responses"].as_object().unwrap();
        assert!(responses.contains_key("500"), "{method} {path}");
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
        let has = |status: &str| responses.contains_key(status);
        if operation.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(has(status), "{method} {path} {status}");
            }
        }
        if operation.get("security").is_some() {
            assert!(has("401"), "{method} {path}");
        }
        if path.contains("{id}") {
            assert!(has("404") && has("422"), "{method} {path}");
        }
        if path.starts_with("/v1_0/service-provider") {
            // The store may be down or the server shedding; every such route is rate limited.
            assert!(has("503") && has("429"), "{method} {path}");
        }
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
}

#[actix_web::test]
async fn create_links_to_get_replace_delete_review_and_reviews_of_the_new_provider() {
    let doc = document().await;
    let ids: Vec<String> = operations(&doc)
        .iter()
        .map(|(_, _, op)| op["operationId"].as_str().unwrap().to_owned())
        .collect();

    let links = doc["paths"]["/v1_0/service-provider"]["post"]["responses"]["201"]["links"]
        .as_object()
        .unwrap();
    let mut targets: Vec<&str> = links
        .values()
        .map(|link| link["operationId"].as_str().unwrap())
        .collect();
    targets.sort_unstable();
    assert_eq!(
        targets,
        [
            "addReview",
            "deleteProvider",
            "getProvider",
            "listReviews",
            "replaceProvider"
        ]
    );
    for link in links.values() {
        assert!(ids.iter().any(|id| link["operationId"] == id.as_str()));
        assert_eq!(link["parameters"]["id"], "$response.body#/id");
    }
    let review_links = doc["paths"]["/v1_0/service-provider/{id}/review"]["post"]["responses"]
        ["201"]["links"]
        .as_object()
        .unwrap();
    for link in review_links.values() {
        assert!(ids.iter().any(|id| link["operationId"] == id.as_str()));
        // The provider's routes take its id; the review's own routes, the review's.
        let parameters = link["parameters"].as_object().unwrap();
        match parameters.get("id") {
            Some(id) => assert_eq!(id, "$response.body#/service_provider_id"),
            None => assert_eq!(parameters["review_id"], "$response.body#/id"),
        }
    }
    let mut review_targets: Vec<&str> = review_links
        .values()
        .map(|link| link["operationId"].as_str().unwrap())
        .collect();
    review_targets.sort_unstable();
    assert_eq!(
        review_targets,
        [
            "flagReview",
            "getProvider",
            "getReview",
            "getReviewModeration",
            "listReviews"
        ]
    );
}
