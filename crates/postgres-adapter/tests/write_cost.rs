//! What a write costs the database beyond its answer: a review rewrites each of its provider's
//! skill rows once. Every version of a skill row is a new entry in each of the table's seven
//! indexes (the review figures are in their keys, so no update of them is HOT); a second
//! version in the same transaction doubles that for nothing. Counted with `pgstattuple`: the
//! dead versions a review leaves behind.

use provider_ports::contract::{draft, provider, published, rated_review, user};
use provider_ports::{ProviderRepository, ReviewRepository};
use provider_postgres_adapter::testing::TestDb;

async fn client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
}

/// Dead row versions in `provider_skills`.
async fn dead_skill_rows(client: &tokio_postgres::Client) -> i64 {
    client
        .query_one(
            "SELECT dead_tuple_count FROM pgstattuple('provider_skills')",
            &[],
        )
        .await
        .expect("pgstattuple")
        .get(0)
}

#[tokio::test]
async fn a_review_rating_skills_rewrites_each_skill_row_once() {
    let db = TestDb::new().await;
    let store = db.store();
    let sql = client(db.url()).await;
    sql.batch_execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        .await
        .expect("pgstattuple (PostgreSQL's contrib)");
    let p = provider(
        user(),
        draft("Once Ltd", &["Go", "SEO", "Rust"], 10_000, &[]),
    );
    store.create(&p).await.expect("create");
    assert_eq!(dead_skill_rows(&sql).await, 0);

    // Rates two of the three skills: the provider's figures change on all three rows, the
    // per-skill figures on two.
    let review = rated_review(
        p.id,
        user(),
        45,
        &[("SEO", 40), ("Rust", 50)],
        time::OffsetDateTime::now_utc(),
    );
    store.add(&published(&review)).await.expect("review");
    assert_eq!(
        dead_skill_rows(&sql).await,
        3,
        "one old version per skill row, none rewritten twice"
    );

    // And the figures are right on every row.
    let rows = sql
        .query(
            "SELECT skill_key, review_count, rating_sum, skill_review_count, skill_rating_sum \
             FROM provider_skills WHERE provider_id = $1::text::uuid ORDER BY position",
            &[&p.id.as_uuid().to_string()],
        )
        .await
        .expect("rows");
    let figures: Vec<(String, i64, i64, i64, i64)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert_eq!(
        figures,
        [
            ("go".to_owned(), 1, 45, 0, 0),
            ("seo".to_owned(), 1, 45, 1, 40),
            ("rust".to_owned(), 1, 45, 1, 50),
        ]
    );
}
