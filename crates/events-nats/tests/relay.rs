//! The relay against a real NATS JetStream server (`TEST_NATS_URL`, else `NATS_URL`: `make
//! test` starts a throwaway one, see `scripts/test-nats.sh`) and the real change feed of a
//! PostgreSQL store. Without a NATS server these tests fail: they never skip.
//!
//! Each test has a stream of its own, with a duplicate window of 100 ms: the stream's own
//! deduplication by `Nats-Msg-Id` would otherwise hide a relay that publishes an event twice.

use async_nats::jetstream;
use provider_domain::UserId;
use provider_events_nats::{Relay, RelaySettings};
use provider_ports::contract::{draft, provider};
use provider_ports::{ChangeFeed, ProviderRepository, VersionCheck};
use provider_postgres_adapter::testing::TestDb;
use provider_postgres_adapter::PgStore;
use std::sync::Arc;
use std::time::Duration;

fn nats_url() -> String {
    ["TEST_NATS_URL", "NATS_URL"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .expect(
            "no NATS server for the relay tests: set TEST_NATS_URL (scripts/test-nats.sh starts \
             a throwaway nats-server with JetStream; `make test` runs it)",
        )
}

/// Settings for a stream and subjects no other test uses, its stream created beforehand
/// with a short duplicate window.
async fn fresh_stream() -> (RelaySettings, jetstream::stream::Stream) {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let mut settings = RelaySettings::new(nats_url());
    settings.stream = format!("TEST_{tag}");
    settings.subject = format!("test_{tag}.events");
    settings.poll_every = Duration::from_millis(5);
    settings.batch = 7; // Several rounds even for a few events.
    let client = async_nats::connect(settings.url.as_str())
        .await
        .expect("connect to NATS");
    let stream = jetstream::new(client)
        .create_stream(jetstream::stream::Config {
            name: settings.stream.clone(),
            subjects: vec![format!("{}.>", settings.subject)],
            duplicate_window: Duration::from_millis(100),
            storage: jetstream::stream::StorageType::Memory,
            ..Default::default()
        })
        .await
        .expect("create the test stream");
    (settings, stream)
}

/// Every message of the stream, in its order: (subject, Nats-Msg-Id, payload as JSON).
async fn messages(stream: &mut jetstream::stream::Stream) -> Vec<(String, u64, serde_json::Value)> {
    let state = stream.info().await.expect("stream info").state.clone();
    let mut out = Vec::new();
    for sequence in state.first_sequence..=state.last_sequence {
        if state.messages == 0 {
            break;
        }
        let m = stream.get_raw_message(sequence).await.expect("message");
        let id = m
            .headers
            .get(async_nats::header::NATS_MESSAGE_ID)
            .expect("Nats-Msg-Id")
            .as_str()
            .parse()
            .expect("a number");
        out.push((
            m.subject.to_string(),
            id,
            serde_json::from_slice(&m.payload).expect("JSON"),
        ));
    }
    out
}

/// The feed sequences the stream's messages carry, in its order.
async fn message_ids(stream: &mut jetstream::stream::Stream) -> Vec<u64> {
    messages(stream)
        .await
        .into_iter()
        .map(|(_, id, _)| id)
        .collect()
}

fn sequences_of(events: &[provider_ports::ChangeEvent]) -> Vec<u64> {
    events.iter().map(|e| e.sequence).collect()
}

/// Creates, replaces and deletes providers: `n` of each kind of provider event at most.
async fn writes(store: &PgStore, n: usize) {
    let owner = UserId::from_uuid(uuid::Uuid::new_v4());
    for i in 0..n {
        let p = provider(owner, draft(&format!("Relay {i} Ltd"), &["Go"], 1_000, &[]));
        store.create(&p).await.expect("create");
        if i % 3 == 0 {
            store
                .delete(p.id, owner, &VersionCheck::Any)
                .await
                .expect("delete");
        }
    }
}

/// The feed's events once it shows `n` (it shows an event only once no transaction that began
/// before it is still running, in any database of the server: other tests' writes delay it).
async fn feed_of(store: &PgStore, n: usize) -> Vec<provider_ports::ChangeEvent> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let events = store.events(0, 10_000).await.expect("feed").events;
        if events.len() >= n || tokio::time::Instant::now() > deadline {
            assert_eq!(events.len(), n, "the feed's events");
            return events;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Steps `relay` until it has published through `last`.
async fn relay_through(relay: &mut Relay, last: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while relay.figures().last_sequence() < last {
        assert!(tokio::time::Instant::now() < deadline, "the relay stalled");
        relay.step().await.expect("step");
    }
}

#[tokio::test]
async fn the_stream_holds_every_event_once_in_feed_order_as_the_events_api_gives_it() {
    let db = TestDb::new().await;
    let store = db.store();
    writes(&store, 10).await;
    let (settings, mut stream) = fresh_stream().await;
    let subject = settings.subject.clone();
    let mut relay = Relay::connect(Arc::new(store.clone()), settings)
        .await
        .expect("relay");
    // 10 created, 4 deleted.
    let events = feed_of(&store, 14).await;
    relay_through(&mut relay, events[13].sequence).await;
    let got = messages(&mut stream).await;
    assert_eq!(got.len(), events.len());
    for ((subject_got, id, payload), event) in got.iter().zip(&events) {
        assert_eq!(*id, event.sequence);
        assert_eq!(
            *subject_got,
            format!("{subject}.{}", event.change.kind.as_str())
        );
        assert_eq!(payload["sequence"], event.sequence);
        assert_eq!(payload["type"], event.change.kind.as_str());
        assert_eq!(
            payload["provider_id"],
            event.change.provider_id.as_uuid().to_string()
        );
        assert!(payload.get("review_id").is_none());
        let at = time::OffsetDateTime::parse(
            payload["at"].as_str().expect("at"),
            &time::format_description::well_known::Rfc3339,
        )
        .expect("RFC 3339");
        assert_eq!(at, event.at);
    }
    assert_eq!(relay.figures().published(), 14);
    assert_eq!(relay.figures().last_sequence(), events[13].sequence);
}

#[tokio::test]
async fn relays_side_by_side_and_a_restarted_one_publish_each_event_once() {
    let db = TestDb::new().await;
    let store = db.store();
    let (settings, mut stream) = fresh_stream().await;
    // Three relays follow the feed at once while it is written to.
    let mut running = Vec::new();
    let mut figures = Vec::new();
    for _ in 0..3 {
        let relay = Relay::connect(Arc::new(store.clone()), settings.clone())
            .await
            .expect("relay");
        figures.push(relay.figures());
        running.push(tokio::spawn(relay.run()));
    }
    writes(&store, 60).await;
    let last = feed_of(&store, 80).await.last().expect("events").sequence;
    let caught_up = async {
        while !figures.iter().any(|f| f.last_sequence() == last) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), caught_up)
        .await
        .expect("the relays reach the feed's last event");
    // Stopped mid-round or not: they are dropped as a crash would drop them.
    for task in &running {
        task.abort();
    }
    let published: u64 = figures.iter().map(|f| f.published()).sum();
    assert!(
        figures.iter().filter(|f| f.published() > 0).count() >= 1,
        "someone published"
    );

    // A relay started afresh goes on after the stream's last message.
    writes(&store, 5).await;
    let events = feed_of(&store, 87).await;
    let mut restarted = Relay::connect(Arc::new(store.clone()), settings.clone())
        .await
        .expect("relay");
    relay_through(&mut restarted, events[86].sequence).await;

    let (ids, sequences) = (message_ids(&mut stream).await, sequences_of(&events));
    assert_eq!(ids, sequences, "each event once, in feed order");
    assert_eq!(
        published + restarted.figures().published(),
        events.len() as u64,
        "no relay stored an event another had stored"
    );
}

#[tokio::test]
async fn a_stream_written_by_something_else_is_refused_not_guessed_at() {
    let db = TestDb::new().await;
    let store = db.store();
    writes(&store, 2).await;
    let (settings, _stream) = fresh_stream().await;
    let client = async_nats::connect(settings.url.as_str())
        .await
        .expect("connect");
    jetstream::new(client)
        .publish(format!("{}.other", settings.subject), "not ours".into())
        .await
        .expect("publish")
        .await
        .expect("stored");
    let mut relay = Relay::connect(Arc::new(store), settings)
        .await
        .expect("relay");
    let error = relay.step().await.expect_err("refused");
    assert!(error.to_string().contains("Nats-Msg-Id"), "{error}");
}

#[tokio::test]
async fn a_relay_behind_another_is_refused_then_goes_on_after_it() {
    let db = TestDb::new().await;
    let store = db.store();
    let (settings, mut stream) = fresh_stream().await;
    let mut ahead = Relay::connect(Arc::new(store.clone()), settings.clone())
        .await
        .expect("relay");
    let mut behind = Relay::connect(Arc::new(store.clone()), settings)
        .await
        .expect("relay");
    // Both know the stream empty.
    assert_eq!(ahead.step().await.expect("step"), 0);
    assert_eq!(behind.step().await.expect("step"), 0);

    writes(&store, 6).await; // 6 created, 2 deleted.
    let events = feed_of(&store, 8).await;
    assert_eq!(ahead.step().await.expect("step"), 7);
    // Past the stream's duplicate window: only the expected sequence can stop a second copy.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = behind.step().await.expect_err("the stream moved on");
    assert!(
        matches!(&refused, provider_events_nats::RelayError::Publish(e)
            if e.kind() == async_nats::jetstream::context::PublishErrorKind::WrongLastSequence),
        "{refused}"
    );
    // It reads where the stream stands and publishes the rest, once.
    assert_eq!(behind.step().await.expect("step"), 1);
    let (ids, sequences) = (message_ids(&mut stream).await, sequences_of(&events));
    assert_eq!(ids, sequences);
    assert_eq!(
        ahead.figures().published() + behind.figures().published(),
        8
    );
}
