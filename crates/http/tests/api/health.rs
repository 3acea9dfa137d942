use crate::helpers::TestApp;
use serde_json::json;

#[actix_web::test]
async fn health_returns_200_with_status_ok() {
    let app = TestApp::new().await;

    let reply = app.get("/v1_0/health").await;

    assert_eq!(reply.assert_status(200), json!({"status": "ok"}));
}

#[actix_web::test]
async fn ready_returns_200_with_status_ok_when_the_store_answers() {
    let app = TestApp::new().await;

    let reply = app.get("/v1_0/health/ready").await;

    assert_eq!(reply.assert_status(200), json!({"status": "ok"}));
}
