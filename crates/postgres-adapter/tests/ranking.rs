//! Recommend splits candidates by how many requested skills they match (all, some, one) and
//! walks each group in day-rate order; every group boundary and tie must still give exactly
//! the in-memory store's pages.

use provider_domain::{JobInput, JobRequest, Provider, RangeInput};
use provider_memory_adapter::MemoryStore;
use provider_ports::contract::{draft, provider, review, user};
use provider_ports::{Page, ProviderRepository, ReviewRepository};
use provider_postgres_adapter::testing::TestDb;
use time::OffsetDateTime;

const SKILLS: [&str; 4] = ["Rust", "SEO", "Go", "Plumbing"];

/// Providers with every number of the four skills (and none), on a few shared day rates, some
/// reviewed, some available too briefly or outside the window.
fn fixture() -> Vec<Provider> {
    let mut all = Vec::new();
    for mask in 0u32..16 {
        let skills: Vec<&str> = (0..4)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| SKILLS[i])
            .collect();
        for (j, cost) in [10_000, 20_000, 20_000, 30_000].into_iter().enumerate() {
            let ranges: &[(&str, &str)] = match (mask as usize + j) % 4 {
                0 => &[("2027-01-01", "2027-01-10")],
                1 => &[("2027-01-01", "2027-01-01"), ("2027-01-02", "2027-01-03")],
                2 => &[("2027-01-05", "2027-01-05")],
                _ => &[("2028-01-01", "2028-01-31")],
            };
            all.push(provider(user(), draft("P", &skills, cost, ranges)));
        }
    }
    all
}

fn job(skills: &[&str], budget: i64, days: i64, minimum: Option<f64>) -> JobRequest {
    JobRequest::parse(&JobInput {
        job_budget_in_pence: Some(budget),
        expected_job_duration_in_days: Some(days),
        skills: Some(skills.iter().map(|s| (*s).to_owned()).collect()),
        availability: Some(vec![RangeInput {
            from_date: "2027-01-01".into(),
            to_date: "2027-01-31".into(),
        }]),
        minimum_review_rating: minimum,
    })
    .expect("job")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recommend_pages_match_the_reference_across_matched_groups_and_ties() {
    let db = TestDb::new().await;
    let pg = db.store();
    let memory = MemoryStore::new();
    let providers = fixture();
    let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("instant");
    for p in &providers {
        pg.create(p).await.expect("create");
        memory.create(p).await.expect("create");
    }
    for (i, p) in providers.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        for tenths in [(i % 50) as u8, 50 - (i % 40) as u8] {
            let r = review(p.id, user(), tenths, at);
            pg.add(&r).await.expect("review");
            memory.add(&r).await.expect("review");
        }
    }

    let jobs = [
        job(&["rust"], 1_000_000, 1, None),
        job(&["rust", "seo"], 60_000, 3, None),
        job(&["rust", "seo", "go"], 1_000_000, 2, Some(2.0)),
        job(&["rust", "seo", "go", "plumbing"], 1_000_000, 1, None),
        job(&["PLUMBING", "go", "seo", "Rust"], 40_000, 2, None),
        job(&["go", "nobody"], 1_000_000, 1, None),
    ];
    for job in &jobs {
        for size in [1, 2, 5, 100] {
            let mut got = Vec::new();
            let mut want = Vec::new();
            for number in 1.. {
                let page = Page::new(Some(number), Some(size)).expect("page");
                let a = pg.recommend(job, page).await.expect("recommend");
                let b = memory.recommend(job, page).await.expect("recommend");
                assert_eq!(a.has_more, b.has_more, "{job:?} page {number} of {size}");
                let more = a.has_more;
                got.extend(a.items);
                want.extend(b.items);
                if !more {
                    break;
                }
            }
            assert_eq!(got, want, "{job:?}, pages of {size}");
        }
    }
}
