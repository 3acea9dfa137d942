//! The bulk loader of `provider-api seed`: what it writes reads back through the store exactly,
//! the database's guards still apply, and a refused batch leaves nothing behind.

use provider_domain::{Comment, Rating, Review, ReviewId, UserId};
use provider_ports::contract::{draft, provider, user};
use provider_ports::{Page, ProviderRepository, ReviewRepository};
use provider_postgres_adapter::bulk::{BulkLoader, BulkProvider};
use provider_postgres_adapter::testing::TestDb;
use time::macros::datetime;
use uuid::Uuid;

fn reviewed(owner: UserId, name: &str, ratings: &[u8]) -> BulkProvider {
    let mut p = provider(
        owner,
        draft(
            name,
            &["Tab\tbed", "Back\\slash", "Ünïcode"],
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
            comment: (i == 0).then(|| Comment::new("line one\nline two\r\n\\ end").unwrap()),
            created_at: datetime!(2026-06-01 12:00:00.123456 UTC)
                + time::Duration::seconds(i as i64),
        })
        .collect();
    for r in &reviews {
        p.reviews = p.reviews.with(r.rating);
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
        reviewed(user(), "Tabs\tand \"quotes\" Ltd", &[45, 50, 3]),
        reviewed(user(), "Unreviewed İstanbul", &[]),
    ];
    loader.load(&batch).await.unwrap();

    let store = db.store();
    for item in &batch {
        assert_eq!(store.get(item.provider.id).await.unwrap(), item.provider);
        let mut expected = item.reviews.clone();
        expected.sort_by(Review::newest_first);
        let listed = ReviewRepository::list(&store, item.provider.id, Page::default())
            .await
            .unwrap();
        assert_eq!(listed.items, expected);
    }
    assert_eq!(loader.provider_count().await.unwrap(), 2);
    let counts = loader.table_counts().await.unwrap();
    assert!(counts.contains(&("reviews", 3)), "{counts:?}");
    assert!(counts.contains(&("provider_skills", 6)), "{counts:?}");
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
