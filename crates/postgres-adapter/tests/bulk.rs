//! The bulk loader of `provider-api seed`: what it writes reads back through the store exactly,
//! the database's guards still apply, and a refused batch leaves nothing behind.

use provider_domain::{Comment, Rating, Review, ReviewId, SkillRating, UserId};
use provider_ports::contract::{draft, provider, user};
use provider_ports::{Page, Paging, ProviderRepository, ReviewRepository};
use provider_postgres_adapter::bulk::{BulkLoader, BulkProvider};
use provider_postgres_adapter::testing::TestDb;
use time::macros::datetime;
use uuid::Uuid;

/// A provider with characters COPY's text format must escape. Names and skills hold no control
/// characters (the Text rule), so tab and line breaks are exercised through the first comment.
fn reviewed(owner: UserId, name: &str, ratings: &[u8]) -> BulkProvider {
    let mut p = provider(
        owner,
        draft(
            name,
            &["\"Quoted\"", "Back\\slash", "Ünïcode"],
            12_345,
            &[
                ("2028-02-28", "2028-02-29"),
                ("2028-03-01", "2028-03-03"),
                ("9999-12-30", "9999-12-31"),
            ],
        ),
    );
    let reviews: Vec<Review> = ratings
        .iter()
        .enumerate()
        .map(|(i, tenths)| Review {
            id: ReviewId::from_uuid(Uuid::new_v4()),
            provider_id: p.id,
            user_id: user(),
            rating: Rating::from_tenths(*tenths).unwrap(),
            comment: (i == 0).then(|| Comment::new("tab\there\nline two\r\n\\ end").unwrap()),
            // The first two reviews rate skills (with characters COPY escapes), in skill order.
            skill_ratings: p.skills.as_slice()[i.min(2)..]
                .iter()
                .take(2 - i.min(2))
                .map(|skill| SkillRating {
                    skill: skill.clone(),
                    rating: Rating::from_tenths(*tenths).unwrap(),
                })
                .collect(),
            created_at: datetime!(2026-06-01 12:00:00.123456 UTC)
                + time::Duration::seconds(i as i64),
        })
        .collect();
    for r in &reviews {
        p.reviews = p.reviews.with(r.rating);
        p.skill_reviews = p.skill_reviews.clone().with(&r.skill_ratings);
    }
    BulkProvider {
        provider: p,
        reviews,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_loaded_providers_and_reviews_read_back_exactly_through_the_store() {
    let db = TestDb::new().await;
    let mut loader = BulkLoader::connect(db.url()).await.unwrap();
    let batch = vec![
        reviewed(user(), "Back\\slash and \"quotes\" Ltd", &[45, 50, 3]),
        reviewed(user(), "Unreviewed İstanbul", &[]),
    ];
    loader.load(&batch).await.unwrap();

    let store = db.store();
    for item in &batch {
        assert_eq!(
            store.get(item.provider.id).await.unwrap().value,
            item.provider
        );
        let mut expected = item.reviews.clone();
        expected.sort_by(Review::newest_first);
        let listed =
            ReviewRepository::list(&store, item.provider.id, Paging::Offset(Page::default()))
                .await
                .unwrap();
        assert_eq!(provider_ports::contract::reviews_of(listed), expected);
    }
    assert_eq!(loader.provider_count().await.unwrap(), 2);
    let counts = loader.table_counts().await.unwrap();
    assert!(counts.contains(&("reviews", 3)), "{counts:?}");
    assert!(counts.contains(&("provider_skills", 6)), "{counts:?}");
    assert!(counts.contains(&("review_skill_ratings", 3)), "{counts:?}");
    assert!(counts.contains(&("skill_reviews", 2)), "{counts:?}");
    assert!(!batch[0].provider.skill_reviews.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_breaking_a_constraint_is_refused_whole() {
    let db = TestDb::new().await;
    let mut loader = BulkLoader::connect(db.url()).await.unwrap();
    let good = reviewed(user(), "Good", &[40]);
    let mut twice = reviewed(user(), "Reviewed twice by one user", &[10, 20]);
    let same_user = twice.reviews[0].user_id;
    twice.reviews[1].user_id = same_user;

    let refused = loader.load(&[good.clone(), twice]).await;

    let message = refused
        .expect_err("one review per user is the database's rule too")
        .to_string();
    assert!(message.contains("reviews_one_per_user"), "{message}");
    assert_eq!(
        loader.provider_count().await.unwrap(),
        0,
        "nothing of the batch stays"
    );
    loader.load(&[good]).await.unwrap();
    assert_eq!(loader.provider_count().await.unwrap(), 1);
}

/// Every index, constraint and (non-internal) trigger of the store's tables, sorted.
async fn schema(url: &str) -> Vec<String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT c.conname || ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c \
             WHERE c.conrelid::regclass::text IN \
               ('providers', 'provider_skills', 'availability', 'availability_runs', 'reviews') \
             UNION ALL SELECT indexdef FROM pg_indexes WHERE tablename IN \
               ('providers', 'provider_skills', 'availability', 'availability_runs', 'reviews') \
             UNION ALL SELECT 'trigger ' || tgname || ' ' || tgenabled::text FROM pg_trigger \
               WHERE NOT tgisinternal \
             ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_load_reads_back_exactly_and_rebuilds_the_migrated_schema() {
    let db = TestDb::new().await;
    let before = schema(db.url()).await;
    assert!(before.len() > 15, "{before:?}");
    let mut loader = BulkLoader::connect(db.url()).await.unwrap();
    let first = vec![reviewed(user(), "Deferred \"one\"", &[45, 50, 3])];
    let second = vec![reviewed(user(), "Deferred İki", &[])];
    let mut load = loader.begin_deferred().await.unwrap();
    load.load(&first).await.unwrap();
    load.load(&second).await.unwrap();
    load.finish().await.unwrap();

    assert_eq!(schema(db.url()).await, before);
    let store = db.store();
    for item in first.iter().chain(&second) {
        assert_eq!(
            store.get(item.provider.id).await.unwrap().value,
            item.provider
        );
    }
    assert_eq!(loader.provider_count().await.unwrap(), 2);
}

/// Into empty tables the rows are copied frozen (truncated in the load's transaction, then
/// `COPY FREEZE`): all-visible at once, for the index-only scans, with no VACUUM pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_load_into_empty_tables_writes_frozen_rows() {
    let db = TestDb::new().await;
    let mut loader = BulkLoader::connect(db.url()).await.unwrap();
    let mut load = loader.begin_deferred().await.unwrap();
    load.load(&[reviewed(user(), "Frozen", &[45, 50])])
        .await
        .unwrap();
    load.finish().await.unwrap();

    assert_eq!(all_visible(db.url()).await, vec![true; 4]);
}

/// Whether every page of providers, provider_skills, availability and reviews is marked
/// all-visible, as `ANALYZE` counts them (no `VACUUM`, which would mark them itself).
async fn all_visible(url: &str) -> Vec<bool> {
    let client = client(url).await;
    let tables = ["providers", "provider_skills", "availability", "reviews"];
    client
        .batch_execute(&format!("ANALYZE {}", tables.join(", ")))
        .await
        .unwrap();
    let mut visible = Vec::new();
    for table in tables {
        let row = client
            .query_one(
                "SELECT relpages, relallvisible FROM pg_class WHERE oid = $1::text::regclass",
                &[&table],
            )
            .await
            .unwrap();
        let (pages, all_visible): (i32, i32) = (row.get(0), row.get(1));
        assert!(pages > 0, "{table} has rows");
        visible.push(all_visible == pages);
    }
    visible
}

/// A table that is not empty (here the append-only history, which keeps no foreign key) is
/// neither truncated nor copied `FREEZE`: its rows stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_load_keeps_the_rows_of_a_table_that_is_not_empty() {
    let db = TestDb::new().await;
    let before = schema(db.url()).await;
    let client = client(db.url()).await;
    client
        .batch_execute(
            "INSERT INTO review_events (review_id, provider_id, at, event, detail) \
             VALUES (gen_random_uuid(), gen_random_uuid(), now(), 'submitted', '{}')",
        )
        .await
        .unwrap();
    let mut loader = BulkLoader::connect(db.url()).await.unwrap();
    let item = reviewed(user(), "Beside a history", &[30]);
    let mut load = loader.begin_deferred().await.unwrap();
    load.load(std::slice::from_ref(&item)).await.unwrap();
    load.finish().await.unwrap();

    assert_eq!(schema(db.url()).await, before);
    assert_eq!(
        db.store().get(item.provider.id).await.unwrap().value,
        item.provider
    );
    let kept = client
        .query_one("SELECT count(*) FROM review_events", &[])
        .await
        .unwrap();
    assert_eq!(kept.get::<_, i64>(0), 1, "the history's row stays");
    assert_eq!(
        all_visible(db.url()).await,
        vec![false; 4],
        "copied unfrozen"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_load_breaking_a_constraint_leaves_the_database_as_it_was() {
    let db = TestDb::new().await;
    let before = schema(db.url()).await;
    let mut loader = BulkLoader::connect(db.url()).await.unwrap();
    let mut twice = reviewed(user(), "Reviewed twice by one user", &[10, 20]);
    let same_user = twice.reviews[0].user_id;
    twice.reviews[1].user_id = same_user;

    let mut load = loader.begin_deferred().await.unwrap();
    load.load(&[reviewed(user(), "Good", &[40]), twice])
        .await
        .unwrap();
    let refused = load.finish().await;

    let message = refused
        .expect_err("the unique constraint is checked when it is rebuilt")
        .to_string();
    assert!(message.contains("reviews_one_per_user"), "{message}");
    assert_eq!(loader.provider_count().await.unwrap(), 0);
    assert_eq!(
        schema(db.url()).await,
        before,
        "every index and constraint is back"
    );
}

async fn client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// The SQLSTATE and constraint of a refused statement.
fn refusal(e: &tokio_postgres::Error) -> (String, String) {
    let db = e.as_db_error().expect("a database error");
    (
        db.code().code().to_owned(),
        db.constraint().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_refuses_overlapping_ranges_of_one_provider_but_not_touching_ones() {
    let db = TestDb::new().await;
    let mut loader = BulkLoader::connect(db.url()).await.unwrap();
    let item = reviewed(user(), "Guarded", &[]);
    loader.load(std::slice::from_ref(&item)).await.unwrap();
    let id = item.provider.id.as_uuid().to_string();
    let sql = client(db.url()).await;
    let insert =
        "INSERT INTO availability (provider_id, period) VALUES ($1::text::uuid, $2::text::daterange)";

    // Stored: 2028-02-28..29, 2028-03-01..03, 9999-12-30..31.
    let overlap = sql
        .execute(insert, &[&id, &"[2028-03-03,2028-03-10]"])
        .await
        .expect_err("shares 2028-03-03");
    let expected = ("23P01".to_owned(), "availability_no_overlap".to_owned());
    assert_eq!(refusal(&overlap), expected);
    sql.execute(insert, &[&id, &"[2028-03-04,2028-03-10]"])
        .await
        .expect("touching is allowed");
    // Two new ranges overlapping each other in one statement.
    let both = sql
        .execute(
            "INSERT INTO availability (provider_id, period) VALUES \
             ($1::text::uuid, '[2030-01-01,2030-01-05]'), ($1::text::uuid, '[2030-01-05,2030-01-06]')",
            &[&id],
        )
        .await
        .expect_err("the two share 2030-01-05");
    assert_eq!(refusal(&both), expected);
    let moved = sql
        .execute(
            "UPDATE availability SET period = '[2028-02-01,2028-02-28]' \
             WHERE provider_id = $1::text::uuid AND period = '[2028-03-04,2028-03-10]'",
            &[&id],
        )
        .await
        .expect_err("moved onto 2028-02-28");
    assert_eq!(refusal(&moved), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_load_with_overlapping_ranges_is_refused_whole() {
    let db = TestDb::new().await;
    let before = schema(db.url()).await;
    let mut loader = BulkLoader::connect(db.url()).await.unwrap();
    let item = reviewed(user(), "Overlapping", &[]);
    let mut load = loader.begin_deferred().await.unwrap();
    load.load(std::slice::from_ref(&item)).await.unwrap();
    // The domain cannot build overlapping availability: forge a range by hand, overlapping
    // the stored 2028-02-28..29 (the trigger is off while copying).
    load.execute_for_tests(&format!(
        "INSERT INTO availability (provider_id, period) VALUES ('{}', '[2028-02-27,2028-02-28]')",
        item.provider.id.as_uuid()
    ))
    .await
    .unwrap();
    let refused = load.finish().await.expect_err("overlapping ranges");
    assert!(
        refused.to_string().contains("availability_no_overlap"),
        "{refused}"
    );
    assert_eq!(loader.provider_count().await.unwrap(), 0);
    assert_eq!(schema(db.url()).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_loaded_moderated_reviews_read_back_exactly_with_their_flags_and_history() {
    use provider_domain::{
        Caller, FlagExplanation, FlagId, FlagInput, FlagReason, FlagRequest, FlagStatus,
        Moderation, ModerationSettings,
    };
    use provider_ports::moderation::queued_since;
    use provider_ports::{Revision, StoredFlag, StoredReview, Submission};
    use provider_postgres_adapter::bulk::BulkModerated;
    use std::num::NonZeroU32;

    let db = TestDb::new().await;
    let mut loader = BulkLoader::connect(db.url()).await.unwrap();
    let owner = user();
    let unreviewed = reviewed(owner, "Moderated", &[]);
    let p = unreviewed.provider.clone();
    loader.load(&[unreviewed]).await.unwrap();
    let settings = ModerationSettings {
        flags_to_hold: NonZeroU32::new(1).unwrap(),
        ..ModerationSettings::default()
    };
    let at = datetime!(2026-06-01 12:00:00.123456 UTC);
    let review = |comment: &str, minutes: i64| Review {
        id: ReviewId::from_uuid(Uuid::new_v4()),
        provider_id: p.id,
        user_id: user(),
        rating: Rating::from_tenths(42).unwrap(),
        comment: Some(Comment::new(comment).unwrap()),
        skill_ratings: vec![SkillRating {
            skill: p.skills.as_slice()[1].clone(),
            rating: Rating::from_tenths(30).unwrap(),
        }],
        created_at: at + time::Duration::minutes(minutes),
    };
    // Held by the screen (a link, and a tab COPY must escape).
    let held = review("see\twww.example.com", 0);
    let submitted = Moderation::submit(
        held.user_id,
        held.comment.as_ref(),
        &settings,
        held.created_at,
    );
    let screened = Submission {
        queued_at: queued_since(None, &submitted.state, held.created_at),
        review: held,
        moderation: submitted.state,
        events: submitted.events,
    };
    // Published, then held by a flag (explained with a backslash and quotes).
    let clean = review("Good work", 1);
    let mut flagged = Moderation::submit(clean.user_id, None, &settings, clean.created_at);
    let flagger = Caller {
        id: user(),
        moderator: false,
    };
    let request = FlagRequest::parse(&FlagInput {
        reason: FlagReason::Other,
        explanation: Some("a \\ \"quoted\" reason".into()),
    })
    .unwrap();
    let flagged_at = at + time::Duration::minutes(5);
    let flag_step = flagged
        .state
        .flag(&flagger, &request, &settings, flagged_at)
        .unwrap();
    flagged.events.extend(flag_step.events);
    let flag = StoredFlag {
        id: FlagId::from_uuid(Uuid::new_v4()),
        review_id: clean.id,
        flagger: flagger.id,
        reason: FlagReason::Other,
        explanation: Some(FlagExplanation::new("a \\ \"quoted\" reason").unwrap()),
        status: FlagStatus::Open,
        created_at: flagged_at,
    };
    let by_flag = Submission {
        queued_at: queued_since(None, &flag_step.state, flagged_at),
        review: clean,
        moderation: flag_step.state,
        events: flagged.events,
    };
    loader
        .load_moderated(&[
            BulkModerated {
                submission: screened.clone(),
                flags: vec![],
            },
            BulkModerated {
                submission: by_flag.clone(),
                flags: vec![flag.clone()],
            },
        ])
        .await
        .unwrap();

    let store = db.store();
    for s in [&screened, &by_flag] {
        let want = StoredReview {
            review: s.review.clone(),
            owner,
            moderation: s.moderation.clone(),
            reply: None,
            appeal: None,
            queued_at: s.queued_at,
            revision: Revision::FIRST,
        };
        assert_eq!(store.find(s.review.id).await.unwrap(), want);
        assert_eq!(store.history(s.review.id).await.unwrap(), s.events);
    }
    assert_eq!(store.flag(flag.id).await.unwrap(), flag);
    let queue = store.queue(Page::default()).await.unwrap();
    let ids: Vec<ReviewId> = queue.items.iter().map(|r| r.review.id).collect();
    assert_eq!(ids, vec![screened.review.id, by_flag.review.id]);
    assert_eq!(store.queue_size().await.unwrap(), 2);
    // Neither counts: nothing published.
    assert!(
        ReviewRepository::list(&store, p.id, Paging::Offset(Page::default()))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(store.get(p.id).await.unwrap().value.reviews.count, 0);
}
