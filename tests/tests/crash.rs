//! The crash drill for `Idempotency-Key` on PostgreSQL: many keyed creates and reviews in
//! flight, the server killed with SIGKILL at an arbitrary instant, restarted on the same
//! database, and every unanswered key retried until answered. No key may have written twice
//! (a create retried must not make a second provider; a review retried must replay its
//! answer, not meet its own first write as "already reviewed"), and every answered request's
//! row must exist.
//!
//! A crash leaves each key with nothing (the retry runs), a pending claim (the retry waits
//! for `RECLAIM_PENDING_AFTER`, 60 s, then runs), or a write with its kept answer (the retry
//! replays). A kept answer written after the write's commit instead of with it adds a fourth
//! case, a write with a pending claim, which the retry writes again: this drill finds it.

use provider_e2e_tests::Server;
use provider_postgres_adapter::testing::TestDb;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 48;
/// Providers that keyed reviews are written for.
const TARGETS: usize = 8;

#[derive(Debug, Clone)]
enum Kind {
    Create { name: String },
    Review { provider: String },
}

/// One keyed request, sent until it is answered.
#[derive(Debug, Clone)]
struct Keyed {
    key: String,
    caller: String,
    kind: Kind,
    body: Value,
}

impl Keyed {
    fn path(&self) -> String {
        match &self.kind {
            Kind::Create { .. } => "/v1_0/service-provider".into(),
            Kind::Review { provider } => format!("/v1_0/service-provider/{provider}/review"),
        }
    }
}

/// What the server answered a keyed request: 201 and its body, or why it has no answer yet.
enum Sent {
    /// 201, with `Idempotency-Replayed: true` or not.
    Created(Value, bool),
    /// 409 "already reviewed": the review was written before, without the answer kept.
    AlreadyReviewed,
    /// The same key is still held by a request the crash interrupted.
    InFlight,
    /// No answer (the server died, or is not listening).
    Lost,
}

async fn send(http: &reqwest::Client, base: &str, keyed: &Keyed) -> Sent {
    let response = http
        .post(format!("{base}{}", keyed.path()))
        .header("user-id", &keyed.caller)
        .header("idempotency-key", &keyed.key)
        .json(&keyed.body)
        .send()
        .await;
    let Ok(response) = response else {
        return Sent::Lost;
    };
    let status = response.status().as_u16();
    let replayed = response.headers().contains_key("idempotency-replayed");
    let Ok(body) = response.json::<Value>().await else {
        return Sent::Lost;
    };
    match status {
        201 => Sent::Created(body, replayed),
        409 if body["error"]
            .as_str()
            .is_some_and(|e| e.contains("still being processed")) =>
        {
            Sent::InFlight
        }
        409 if body["error"]
            .as_str()
            .is_some_and(|e| e.contains("already reviewed")) =>
        {
            Sent::AlreadyReviewed
        }
        _ => panic!("{keyed:?} was answered {status}: {body}"),
    }
}

/// Everything the drill sent, and the answers it got.
#[derive(Default)]
struct Ledger {
    answered: HashMap<String, (Keyed, Value)>,
    unanswered: Vec<Keyed>,
}

/// `CLIENTS` clients sending new keyed creates and reviews to `base` until it stops answering.
async fn load(base: &str, targets: &[String], round: usize, ledger: &Arc<Mutex<Ledger>>) {
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (base, targets, ledger) = (base.to_owned(), targets.to_vec(), ledger.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(20))
                    .build()
                    .expect("a client");
                let owner = uuid::Uuid::new_v4().to_string();
                for n in 0.. {
                    let key = format!("crash-{round}-{client}-{n}");
                    let keyed = if n % 2 == 0 {
                        let name = format!("Crash {key} Ltd");
                        Keyed {
                            key,
                            caller: owner.clone(),
                            body: json!({"name": name, "skills": ["Recovery"], "cost_in_pence": 1000 + n}),
                            kind: Kind::Create { name },
                        }
                    } else {
                        // A reviewer of its own per key: one review per user and provider.
                        Keyed {
                            key,
                            caller: uuid::Uuid::new_v4().to_string(),
                            body: json!({"rating": 4.5, "comment": "Came back"}),
                            kind: Kind::Review {
                                provider: targets[n % targets.len()].clone(),
                            },
                        }
                    };
                    match send(&http, &base, &keyed).await {
                        Sent::Created(body, _) => {
                            let mut ledger = ledger.lock().unwrap();
                            ledger.answered.insert(keyed.key.clone(), (keyed, body));
                        }
                        Sent::InFlight | Sent::AlreadyReviewed => {
                            panic!("{keyed:?}: a fresh key or reviewer was used before")
                        }
                        Sent::Lost => {
                            ledger.lock().unwrap().unanswered.push(keyed);
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    for client in clients {
        client.await.expect("a client panicked");
    }
}

/// Every page of `path` (a POST search or a GET list) from `base`, items under `field`.
async fn all_pages(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    search: Option<&Value>,
    field: &str,
) -> Vec<Value> {
    let mut items = Vec::new();
    for page in 1.. {
        let url = format!("{base}{path}?page={page}&page_size=100");
        let request = match search {
            Some(body) => http.post(url).json(body),
            None => http.get(url),
        };
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        let page_items = answer[field]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"));
        items.extend(page_items.iter().cloned());
        if answer["has_more"] != true {
            return items;
        }
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crash_at_any_instant_never_lets_a_retried_key_write_twice() {
    let db = TestDb::new().await;
    let env = [("DATABASE_URL", db.url()), ("WORKERS", "2")];
    let http = reqwest::Client::new();
    let owner = uuid::Uuid::new_v4().to_string();

    let mut server = Server::start(&env);
    let mut targets = Vec::new();
    for t in 0..TARGETS {
        let created: Value = http
            .post(server.url("/v1_0/service-provider"))
            .header("user-id", &owner)
            .json(&json!({"name": format!("Target {t}"), "skills": ["Recovery"], "cost_in_pence": 5000}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        targets.push(created["id"].as_str().unwrap().to_owned());
    }

    // Different kill instants: the load runs this long before SIGKILL.
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    for (round, load_ms) in [700u64, 1500, 2300, 1100].into_iter().enumerate() {
        let base = server.base.clone();
        let clients = tokio::spawn({
            let (targets, ledger) = (targets.clone(), ledger.clone());
            async move { load(&base, &targets, round, &ledger).await }
        });
        tokio::time::sleep(Duration::from_millis(load_ms)).await;
        server.crash();
        clients.await.expect("the clients");
        server = Server::start(&env);
    }

    // Retry every unanswered key until it is answered; keys whose claim the crash left
    // pending answer "in flight" until the claim may be taken over.
    let unanswered = std::mem::take(&mut ledger.lock().unwrap().unanswered);
    let (mut replayed, mut twice) = (0, Vec::new());
    let deadline = Instant::now() + Duration::from_secs(120);
    for keyed in &unanswered {
        loop {
            match send(&http, &server.base, keyed).await {
                Sent::Created(body, was_replayed) => {
                    replayed += usize::from(was_replayed);
                    ledger
                        .lock()
                        .unwrap()
                        .answered
                        .insert(keyed.key.clone(), (keyed.clone(), body));
                    break;
                }
                Sent::AlreadyReviewed => {
                    twice.push(keyed.key.clone());
                    break;
                }
                Sent::InFlight => {}
                Sent::Lost => panic!("the restarted server does not answer"),
            }
            assert!(
                Instant::now() < deadline,
                "{keyed:?} is still in flight after 120 s"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    let ledger = Arc::into_inner(ledger).unwrap().into_inner().unwrap();

    // Every create wrote exactly one provider, and every answered one is the one it names.
    let providers = all_pages(
        &http,
        &server.base,
        "/v1_0/service-providers",
        Some(&json!({"name": "Crash "})),
        "service_providers",
    )
    .await;
    let mut by_name: HashMap<String, Vec<String>> = HashMap::new();
    for provider in &providers {
        by_name
            .entry(provider["name"].as_str().unwrap().to_owned())
            .or_default()
            .push(provider["id"].as_str().unwrap().to_owned());
    }
    let mut creates = 0;
    for (keyed, answer) in ledger.answered.values() {
        let Kind::Create { name } = &keyed.kind else {
            continue;
        };
        creates += 1;
        let ids = by_name.get(name).cloned().unwrap_or_default();
        if ids.len() > 1 {
            twice.push(keyed.key.clone());
        }
        assert!(
            ids.iter().any(|id| answer["id"] == id.as_str()),
            "{}: answered {} but stored {ids:?}",
            keyed.key,
            answer["id"]
        );
    }
    // Every answered review is stored, once.
    let mut stored_reviews = HashSet::new();
    for target in &targets {
        let reviews = all_pages(
            &http,
            &server.base,
            &format!("/v1_0/service-provider/{target}/reviews"),
            None,
            "reviews",
        )
        .await;
        for review in reviews {
            stored_reviews.insert(review["id"].as_str().unwrap().to_owned());
        }
    }
    for (keyed, answer) in ledger.answered.values() {
        if let Kind::Review { .. } = keyed.kind {
            assert!(
                stored_reviews.contains(answer["id"].as_str().unwrap()),
                "{}: answered review {} is not stored",
                keyed.key,
                answer["id"]
            );
        }
    }
    eprintln!(
        "{} keys answered ({creates} creates), {} unanswered at a crash and retried \
         ({replayed} of them replayed: written before the crash); written twice: {}",
        ledger.answered.len(),
        unanswered.len(),
        twice.len()
    );
    assert!(
        !unanswered.is_empty(),
        "no request was in flight at a crash"
    );
    assert!(twice.is_empty(), "keys that created twice: {twice:?}");
}
