//! Moderation over HTTP: held reviews, visibility (404, never 403), flags, the queue,
//! decisions, the statement of reasons, appeals, the author's edit and withdrawal, the owner's
//! reply, moderators by `MODERATOR_IDS` and by the JWT roles claim, and the metrics.

use crate::helpers::{provider, Reply, TestApp};
use actix_web::test as atest;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use provider_domain::UserId;
use provider_http::{
    Authentication, Gate, HttpSettings, JwtKey, JwtSettings, JwtVerifier, Metrics, MetricsRoute,
};
use serde_json::{json, Value};
use std::collections::HashSet;
use uuid::Uuid;

/// An app whose moderators are `moderators` (`MODERATOR_IDS`), recording into `metrics`.
async fn app(moderators: &[Uuid], metrics: Metrics) -> TestApp {
    let gate = Gate::observed(
        HttpSettings {
            moderators: moderators
                .iter()
                .map(|id| UserId::from_uuid(*id))
                .collect::<HashSet<_>>(),
            ..HttpSettings::default()
        },
        metrics,
        MetricsRoute::OnApiPort,
    );
    TestApp::with_gate(gate).await
}

async fn get_as(app: &TestApp, uri: &str, user: Option<Uuid>) -> Reply {
    let mut req = atest::TestRequest::get().uri(uri);
    if let Some(user) = user {
        req = req.insert_header(("user-id", user.to_string()));
    }
    app.send(req).await
}

/// A provider owned by `owner` with the skill SEO; its id.
async fn seo_provider(app: &TestApp, owner: Uuid) -> String {
    app.create(owner, &provider("Moderated", &["SEO"], 100))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `author` reviews `provider` with `comment`; the 201 answer.
async fn review(app: &TestApp, provider: &str, author: Uuid, comment: &str) -> Value {
    app.post(
        &format!("/v1_0/service-provider/{provider}/review"),
        Some(author),
        &json!({"rating": 4.0, "comment": comment, "skill_ratings": [{"skill": "SEO", "rating": 5.0}]}),
    )
    .await
    .assert_status(201)
}

fn decision(action: &str) -> Value {
    json!({"action": action, "rule": "3.2 contact details", "statement": "It gives a phone number."})
}

#[actix_web::test]
async fn a_held_review_waits_unseen_until_a_moderator_publishes_it() {
    let moderator = Uuid::new_v4();
    let metrics = Metrics::new();
    let app = app(&[moderator], metrics.clone()).await;
    let owner = Uuid::new_v4();
    let id = seo_provider(&app, owner).await;
    let author = Uuid::new_v4();

    let held = review(&app, &id, author, "Call me on +44 20 7946 0958").await;
    assert_eq!(held["status"], "pending");
    let review_id = held["id"].as_str().unwrap().to_owned();
    let url = format!("/v1_0/reviews/{review_id}");

    // Counted nowhere, listed nowhere, seen by its author and moderators only.
    let provider = app
        .get(&format!("/v1_0/service-provider/{id}"))
        .await
        .assert_status(200);
    assert_eq!(provider["review_count"], 0);
    let list = app
        .get(&format!("/v1_0/service-provider/{id}/reviews"))
        .await
        .assert_status(200);
    assert_eq!(list["reviews"], json!([]));
    get_as(&app, &url, None).await.assert_error(404);
    get_as(&app, &url, Some(Uuid::new_v4()))
        .await
        .assert_error(404);
    get_as(&app, &url, Some(owner)).await.assert_error(404);
    assert_eq!(
        get_as(&app, &url, Some(author)).await.assert_status(200),
        held
    );
    get_as(&app, &url, Some(moderator)).await.assert_status(200);

    // The statement of reasons: an automated hold naming its rule, never the matched text.
    let statement = get_as(&app, &format!("{url}/moderation"), Some(author))
        .await
        .assert_status(200);
    assert_eq!(statement["status"], "pending");
    assert_eq!(statement["decision"]["action"], "hold");
    assert_eq!(statement["decision"]["rule"], "contact_details");
    assert_eq!(statement["decision"]["automated"], true);
    assert_eq!(statement["appeal"], Value::Null);
    assert_eq!(statement["can_appeal"], false);
    get_as(&app, &format!("{url}/moderation"), None)
        .await
        .assert_error(401);
    get_as(&app, &format!("{url}/moderation"), Some(owner))
        .await
        .assert_error(404);

    // The queue: 401 without identity, 403 to a non-moderator, the item to a moderator.
    get_as(&app, "/v1_0/moderation/queue", None)
        .await
        .assert_error(401);
    get_as(&app, "/v1_0/moderation/queue", Some(author))
        .await
        .assert_error(403);
    let queue = get_as(&app, "/v1_0/moderation/queue", Some(moderator))
        .await
        .assert_status(200);
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    let item = &queue["items"][0];
    assert_eq!(item["review"]["id"], review_id);
    assert_eq!(item["reasons"], json!(["contact_details"]));
    assert_eq!(item["flags"], json!({"open": 0, "by_reason": {}}));
    assert!(item["queued_at"].is_string());

    // A non-moderator's decision is 403 whatever its body; a moderator's publishes it.
    let decide = format!("/v1_0/moderation/reviews/{review_id}/decision");
    app.post(&decide, Some(author), &json!({}))
        .await
        .assert_error(403);
    let published = app
        .post(&decide, Some(moderator), &decision("publish"))
        .await
        .assert_status(200);
    assert_eq!(published["status"], "published");
    let provider = app
        .get(&format!("/v1_0/service-provider/{id}"))
        .await
        .assert_status(200);
    assert_eq!(provider["review_count"], 1);
    assert_eq!(provider["skill_ratings"][0]["count"], 1);
    let list = app
        .get(&format!("/v1_0/service-provider/{id}/reviews"))
        .await
        .assert_status(200);
    assert_eq!(list["reviews"][0]["id"], review_id);
    get_as(&app, &url, None).await.assert_status(200);

    let history = get_as(
        &app,
        &format!("/v1_0/moderation/reviews/{review_id}/history"),
        Some(moderator),
    )
    .await
    .assert_status(200);
    let events: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["submitted", "held", "decided"]);
    assert_eq!(history["events"][1]["by"], Value::Null);
    assert_eq!(history["events"][2]["by"], moderator.to_string());
    assert_eq!(history["events"][2]["detail"]["action"], "publish");
    assert!(
        !history.to_string().contains("7946"),
        "no text in the history"
    );

    let text = metrics.render();
    assert!(
        text.contains(r#"moderation_decisions_total{action="hold",automated="true"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"moderation_decisions_total{action="publish",automated="false"} 1"#),
        "{text}"
    );
}

#[actix_web::test]
async fn a_held_review_retried_with_its_key_replays_the_same_bytes_and_counts_once() {
    let metrics = Metrics::new();
    let app = app(&[], metrics.clone()).await;
    let id = seo_provider(&app, Uuid::new_v4()).await;
    let author = Uuid::new_v4();
    let keyed = || {
        atest::TestRequest::post()
            .uri(&format!("/v1_0/service-provider/{id}/review"))
            .insert_header(("user-id", author.to_string()))
            .insert_header(("idempotency-key", "held-once"))
            .insert_header(("content-type", "application/json"))
            .set_payload(r#"{"rating": 2.0, "comment": "Call me on +44 20 7946 0958"}"#)
    };

    let first = app.send(keyed()).await;
    let retry = app.send(keyed()).await;

    assert_eq!(first.assert_status(201)["status"], "pending");
    assert_eq!(retry.status.as_u16(), 201);
    assert_eq!(
        retry
            .headers
            .get("idempotency-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.headers.get("location"), first.headers.get("location"));
    let text = metrics.render();
    assert!(
        text.contains(r#"moderation_decisions_total{action="hold",automated="true"} 1"#),
        "{text}"
    );
}

#[actix_web::test]
async fn flags_hold_a_review_and_the_decision_resolves_them() {
    let moderator = Uuid::new_v4();
    let metrics = Metrics::new();
    let app = app(&[moderator], metrics.clone()).await;
    let id = seo_provider(&app, Uuid::new_v4()).await;
    let author = Uuid::new_v4();
    let review_id = review(&app, &id, author, "Fine work").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let flags = format!("/v1_0/reviews/{review_id}/flags");

    app.post(&flags, None, &json!({"reason": "spam"}))
        .await
        .assert_error(401);
    app.post(&flags, Some(author), &json!({"reason": "spam"}))
        .await
        .assert_error(403);
    let bad = app
        .post(&flags, Some(Uuid::new_v4()), &json!({"reason": "other"}))
        .await
        .assert_error(422);
    assert_eq!(bad["details"][0]["field"], "explanation");
    let unknown = app
        .post(&flags, Some(Uuid::new_v4()), &json!({"reason": "rude"}))
        .await
        .assert_error(422);
    assert_eq!(unknown["details"][0]["field"], "reason");

    let mut raised = Vec::new();
    for reason in ["spam", "fake", "offensive"] {
        let flagger = Uuid::new_v4();
        let reply = app
            .post(&flags, Some(flagger), &json!({"reason": reason}))
            .await;
        let flag = reply.assert_status(201);
        assert_eq!(
            reply.header("location"),
            Some(format!("/v1_0/flags/{}", flag["id"].as_str().unwrap()))
        );
        assert_eq!(flag["status"], "open");
        assert_eq!(flag["explanation"], Value::Null);
        if raised.is_empty() {
            // One open flag per user.
            app.post(&flags, Some(flagger), &json!({"reason": "spam"}))
                .await
                .assert_error(409);
        }
        raised.push((flagger, flag));
    }
    let (first, flag) = &raised[0];
    // Held now: a flagger who is not its author sees no review to flag.
    app.post(&flags, Some(*first), &json!({"reason": "spam"}))
        .await
        .assert_error(404);
    let flag_url = format!("/v1_0/flags/{}", flag["id"].as_str().unwrap());
    get_as(&app, &flag_url, None).await.assert_error(401);
    get_as(&app, &flag_url, Some(Uuid::new_v4()))
        .await
        .assert_error(404);
    assert_eq!(
        get_as(&app, &flag_url, Some(*first))
            .await
            .assert_status(200),
        *flag
    );

    // Three flags (the default) held it: pending, gone from the provider's figures.
    get_as(&app, &format!("/v1_0/reviews/{review_id}"), None)
        .await
        .assert_error(404);
    let provider = app
        .get(&format!("/v1_0/service-provider/{id}"))
        .await
        .assert_status(200);
    assert_eq!(provider["review_count"], 0);
    let queue = get_as(&app, "/v1_0/moderation/queue", Some(moderator))
        .await
        .assert_status(200);
    assert_eq!(queue["items"][0]["reasons"], json!(["flagged"]));
    assert_eq!(
        queue["items"][0]["flags"],
        json!({"open": 3, "by_reason": {"spam": 1, "fake": 1, "offensive": 1}})
    );

    app.post(
        &format!("/v1_0/moderation/reviews/{review_id}/decision"),
        Some(moderator),
        &decision("hide"),
    )
    .await
    .assert_status(200);
    let resolved = get_as(&app, &flag_url, Some(*first))
        .await
        .assert_status(200);
    assert_eq!(resolved["status"], "upheld");
    let text = metrics.render();
    assert!(
        text.contains(r#"review_flags_total{reason="spam"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"moderation_decisions_total{action="hold",automated="true"} 1"#),
        "{text}"
    );
}

#[actix_web::test]
async fn the_author_appeals_and_another_moderator_decides() {
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let app = app(&[first, second], Metrics::new()).await;
    let id = seo_provider(&app, Uuid::new_v4()).await;
    let author = Uuid::new_v4();
    let review_id = review(&app, &id, author, "Fine").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let appeal = format!("/v1_0/reviews/{review_id}/appeal");
    let why = json!({"explanation": "It is a fair review."});
    app.post(&appeal, Some(author), &why)
        .await
        .assert_error(409);
    let decide = format!("/v1_0/moderation/reviews/{review_id}/decision");
    app.post(&decide, Some(first), &decision("hide"))
        .await
        .assert_status(200);

    let statement = get_as(
        &app,
        &format!("/v1_0/reviews/{review_id}/moderation"),
        Some(author),
    )
    .await
    .assert_status(200);
    assert_eq!(statement["decision"]["action"], "hide");
    assert_eq!(
        statement["decision"]["statement"],
        "It gives a phone number."
    );
    assert_eq!(statement["can_appeal"], true);
    assert!(
        !statement.to_string().contains(&first.to_string()),
        "the moderator is never named to the author"
    );

    app.post(&appeal, Some(Uuid::new_v4()), &why)
        .await
        .assert_error(404);
    app.post(&appeal, Some(author), &json!({"explanation": ""}))
        .await
        .assert_error(422);
    let reply = app.post(&appeal, Some(author), &why).await;
    let appealed = reply.assert_status(201);
    assert_eq!(appealed["appeal"]["status"], "open");
    assert_eq!(appealed["appeal"]["explanation"], "It is a fair review.");
    assert_eq!(appealed["can_appeal"], false);
    app.post(&appeal, Some(author), &why)
        .await
        .assert_error(409);
    app.post(&decide, Some(first), &decision("publish"))
        .await
        .assert_error(403);
    let published = app
        .post(&decide, Some(second), &decision("publish"))
        .await
        .assert_status(200);
    assert_eq!(published["status"], "published");
}

#[actix_web::test]
async fn the_author_edits_and_withdraws_and_the_owner_replies() {
    let moderator = Uuid::new_v4();
    let app = app(&[moderator], Metrics::new()).await;
    let owner = Uuid::new_v4();
    let id = seo_provider(&app, owner).await;
    let author = Uuid::new_v4();
    let review_id = review(&app, &id, author, "Fine").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("/v1_0/reviews/{review_id}");

    let body = json!({"rating": 2.5, "comment": "Slower than promised"});
    app.put(&url, Some(Uuid::new_v4()), &body)
        .await
        .assert_error(404);
    let bad = app
        .put(&url, Some(author), &json!({"rating": 9, "comment": "x"}))
        .await
        .assert_error(422);
    assert_eq!(bad["details"][0]["field"], "rating");
    let edited = app.put(&url, Some(author), &body).await.assert_status(200);
    assert_eq!(edited["rating"], 2.5);
    assert_eq!(edited["status"], "published");
    let provider = app
        .get(&format!("/v1_0/service-provider/{id}"))
        .await
        .assert_status(200);
    assert_eq!(provider["review_rating"], 2.5);

    // The owner's reply: screened; a held one is null to everyone but the owner and
    // moderators.
    let reply_url = format!("{url}/reply");
    app.put(&reply_url, Some(author), &json!({"text": "Thanks"}))
        .await
        .assert_error(404);
    let replied = app
        .put(
            &reply_url,
            Some(owner),
            &json!({"text": "Book direct: www.example.com"}),
        )
        .await
        .assert_status(200);
    assert_eq!(replied["reply"]["status"], "pending");
    assert_eq!(
        get_as(&app, &url, None).await.assert_status(200)["reply"],
        Value::Null
    );
    let seen = get_as(&app, &url, Some(moderator)).await.assert_status(200);
    assert_eq!(seen["reply"]["text"], "Book direct: www.example.com");
    app.post(
        &format!("/v1_0/moderation/reviews/{review_id}/decision"),
        Some(moderator),
        &json!({"action": "publish", "rule": "r", "statement": "ok", "target": "reply"}),
    )
    .await
    .assert_status(200);
    let public = get_as(&app, &url, None).await.assert_status(200);
    assert_eq!(public["reply"]["status"], "published");
    let removed = app.delete(&reply_url, Some(owner)).await.assert_status(200);
    assert_eq!(removed["reply"], Value::Null);
    app.delete(&reply_url, Some(owner)).await.assert_error(404);

    app.delete(&url, Some(Uuid::new_v4()))
        .await
        .assert_error(404);
    assert_eq!(
        app.delete(&url, Some(author)).await.assert_status(200),
        json!({})
    );
    get_as(&app, &url, Some(author)).await.assert_error(404);
    let provider = app
        .get(&format!("/v1_0/service-provider/{id}"))
        .await
        .assert_status(200);
    assert_eq!(provider["review_count"], 0);
    review(&app, &id, author, "Second thoughts").await;
    let history = get_as(
        &app,
        &format!("/v1_0/moderation/reviews/{review_id}/history"),
        Some(moderator),
    )
    .await
    .assert_status(200);
    let last = history["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["event"], "withdrawn");
    assert!(!history.to_string().contains("Slower"), "no text survives");
}

#[actix_web::test]
async fn in_jwt_mode_the_roles_claim_makes_a_moderator() {
    const SECRET: &str = "a-test-secret-of-at-least-32-bytes!!";
    let verifier = JwtVerifier::new(&JwtSettings {
        key: JwtKey::Hs256Secret(SECRET.into()),
        issuer: None,
        audience: None,
        roles_claim: "https://example.com/roles".into(),
    })
    .unwrap();
    let app = TestApp::with_gate(Gate::new(HttpSettings {
        authentication: Authentication::Jwt(Box::new(verifier)),
        ..HttpSettings::default()
    }))
    .await;
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    let token = |claims: Value| {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let queue = |token: String| {
        atest::TestRequest::get()
            .uri("/v1_0/moderation/queue")
            .insert_header(("authorization", format!("Bearer {token}")))
    };
    let sub = Uuid::new_v4().to_string();
    let moderator =
        token(json!({"sub": sub, "exp": exp, "https://example.com/roles": ["moderator"]}));
    app.send(queue(moderator)).await.assert_status(200);
    let other_claim = token(json!({"sub": sub, "exp": exp, "roles": ["moderator"]}));
    app.send(queue(other_claim)).await.assert_error(403);
    let not_an_array =
        token(json!({"sub": sub, "exp": exp, "https://example.com/roles": "moderator"}));
    app.send(queue(not_an_array)).await.assert_error(403);
    app.send(atest::TestRequest::get().uri("/v1_0/moderation/queue"))
        .await
        .assert_error(401);
}
