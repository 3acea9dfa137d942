//! Recommend splits candidates by how many requested skills they match (all, some, one) and
//! walks each group in day-rate order; every group boundary and tie must still give exactly
//! the in-memory store's pages.

use provider_domain::{JobInput, JobRequest, Provider, RangeInput};
use provider_memory_adapter::MemoryStore;
use provider_ports::contract::{draft, provider, published, rated_review, review, user};
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
    let default = db.store();
    // A walk starting from one posting per needed row deepens and proves exactness at every
    // step on this small fixture.
    let walker = db.store().with_recommend_prefix(1);
    let pg = &default;
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
            pg.add(&published(&r)).await.expect("review");
            memory.add(&published(&r)).await.expect("review");
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
    for (store, job) in [&default, &walker]
        .into_iter()
        .flat_map(|store| jobs.iter().map(move |job| (store, job)))
    {
        for size in [1, 2, 5, 100] {
            let mut got = Vec::new();
            let mut want = Vec::new();
            for number in 1.. {
                let page = Page::new(Some(number), Some(size)).expect("page");
                let a = store.recommend(job, page).await.expect("recommend");
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

/// A walk must not stop on a page proved only by an exhausted list: here the short list of
/// "SEO" fills the page while an unread "Rust" provider, below the cut of the Rust list but
/// above every SEO one, outranks them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recommend_walk_reads_on_when_an_open_list_may_hide_a_better_provider() {
    let db = TestDb::new().await;
    let walker = db.store().with_recommend_prefix(1);
    let memory = MemoryStore::new();
    let available = [("2027-01-01", "2027-01-10")];
    let away = [("2028-01-01", "2028-01-10")];
    let mut providers = Vec::new();
    providers.push(provider(
        user(),
        draft("Top", &["Rust"], 50_000, &available),
    ));
    for cost in [40_000, 30_000] {
        providers.push(provider(user(), draft("Away", &["Rust"], cost, &away)));
    }
    providers.push(provider(
        user(),
        draft("Hidden", &["Rust"], 20_000, &available),
    ));
    for cost in [10_000, 9_000] {
        providers.push(provider(user(), draft("Seo", &["SEO"], cost, &available)));
    }
    for p in &providers {
        walker.create(p).await.expect("create");
        memory.create(p).await.expect("create");
    }
    let job = job(&["rust", "seo"], 1_000_000, 1, None);
    for size in [1, 2, 3] {
        let page = Page::new(Some(1), Some(size)).expect("page");
        let got = walker.recommend(&job, page).await.expect("recommend");
        let want = memory.recommend(&job, page).await.expect("recommend");
        assert_eq!(got, want, "page size {size}");
    }
    let first = walker
        .recommend(&job, Page::new(Some(1), Some(1)).expect("page"))
        .await
        .expect("recommend");
    let names: Vec<&str> = first
        .items
        .iter()
        .map(|r| r.provider.name.as_str())
        .collect();
    assert_eq!(names, ["Top"]);
    let two = walker
        .recommend(&job, Page::new(Some(1), Some(2)).expect("page"))
        .await
        .expect("recommend");
    let names: Vec<&str> = two.items.iter().map(|r| r.provider.name.as_str()).collect();
    assert_eq!(names, ["Top", "Hidden"]);
}

/// Ranking key 3 of a candidate below the walk's cut must pool every matched skill's ratings,
/// not only those of the postings the walk read. Here C and D (both Rust and SEO, same day
/// rate) are read in the Rust list only: the SEO list stops at 44,000-45,000, above them. C's
/// 5.0 for SEO, unread, puts it above D's 4.0 for Rust; counted from the Rust posting alone C
/// would have the prior 2.5 and rank below D.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recommend_walk_pools_every_matched_skills_ratings_of_a_candidate_below_the_cut() {
    let db = TestDb::new().await;
    let walker = db.store().with_recommend_prefix(1);
    let memory = MemoryStore::new();
    let available = [("2027-01-01", "2027-01-10")];
    let both = ["Rust", "SEO"];
    let providers = vec![
        provider(user(), draft("A", &both, 50_000, &available)),
        provider(user(), draft("S1", &["SEO"], 45_000, &available)),
        provider(user(), draft("S2", &["SEO"], 44_000, &available)),
        provider(user(), draft("C", &both, 20_000, &available)),
        provider(user(), draft("D", &both, 20_000, &available)),
    ];
    for p in &providers {
        walker.create(p).await.expect("create");
        memory.create(p).await.expect("create");
    }
    let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("instant");
    for r in [
        rated_review(providers[3].id, user(), 30, &[("SEO", 50)], at),
        rated_review(providers[4].id, user(), 30, &[("Rust", 40)], at),
    ] {
        walker.add(&published(&r)).await.expect("review");
        memory.add(&published(&r)).await.expect("review");
    }
    let job = job(&["rust", "seo"], 1_000_000, 1, None);
    for size in [1, 2, 3] {
        let page = Page::new(Some(1), Some(size)).expect("page");
        let got = walker.recommend(&job, page).await.expect("recommend");
        let want = memory.recommend(&job, page).await.expect("recommend");
        assert_eq!(got, want, "page size {size}");
    }
    let page = Page::new(Some(1), Some(3)).expect("page");
    let three = walker.recommend(&job, page).await.expect("recommend");
    let names: Vec<&str> = three
        .items
        .iter()
        .map(|r| r.provider.name.as_str())
        .collect();
    assert_eq!(names, ["A", "C", "D"]);
}
