//! Deterministic synthetic data for `provider-api seed`: providers, their skills, availability
//! and reviews, shaped like a real marketplace.
//!
//! Provider number `i` is drawn from its own ChaCha8 stream (`seed`, stream `i`), so the data
//! does not depend on batch sizes or threads: seeding N then M more with the same seed gives
//! exactly what seeding N + M at once gives, and seeding twice into a fresh database gives the
//! same rows. `seed` numbers providers on from those already stored, so seeding a database that
//! has data adds to it without colliding with what is there.

use provider_domain::{
    Availability, Caller, Comment, DateRange, DayRate, FlagId, FlagInput, FlagReason, FlagRequest,
    FlagStatus, Moderation, ModerationSettings, Provider, ProviderId, ProviderName, Rating, Review,
    ReviewId, ReviewStats, ReviewStatus, Skill, SkillRating, SkillReviews, Skills, UserId,
};
use provider_ports::moderation::queued_since;
use provider_ports::{StoredFlag, Submission};
use provider_postgres_adapter::bulk::{BulkModerated, BulkProvider, CopyBatch};
use provider_postgres_adapter::PgError;
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

/// Distinct skills in the vocabulary (`skill-0` … `skill-299`).
pub const VOCABULARY: u32 = 300;
/// Provider number 0's id is minted at 2026-01-01T00:00:00Z, each next one a millisecond later.
const ID_EPOCH_MILLIS: u64 = 1_767_225_600_000;
/// Days ahead of the start date that availability may fall in (about two years).
pub const HORIZON_DAYS: i64 = 730;

const ADJECTIVES: &[&str] = &[
    "Acme", "Bright", "Crown", "Delta", "Eagle", "First", "Golden", "Harbour", "Iron", "Jade",
    "Keystone", "Lunar", "Maple", "Northern", "Oak", "Pioneer", "Quantum", "Royal", "Silver",
    "Summit", "Trinity", "Union", "Vertex", "Western", "Zenith",
];
const TRADES: &[&str] = &[
    "Plumbing",
    "Consulting",
    "Design",
    "Electrics",
    "Marketing",
    "Analytics",
    "Carpentry",
    "Cleaning",
    "Logistics",
    "Software",
    "Accounting",
    "Legal",
    "Gardening",
    "Security",
    "Catering",
    "Media",
    "Roofing",
    "Tutoring",
    "Translation",
    "Engineering",
];
const FORMS: &[&str] = &["Ltd", "& Co", "Services", "Group", "Partners", "Studio"];

/// What one provider is seeded with: the provider (its review stats matching its published
/// reviews) and those reviews, by distinct users, and the reviews waiting for a moderator.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The provider and its published reviews.
    pub published: BulkProvider,
    /// Its reviews held for a moderator: by the screen (a link in the comment), or by flags.
    pub waiting: Vec<BulkModerated>,
}

/// Published reviews that have a comment, in thousandths.
const COMMENTED_PER_MILLE: u32 = 300;
/// Providers with a review held by the screen, in thousandths.
const HELD_PER_MILLE: u32 = 7;
/// Providers with a published review held by flags, in thousandths (with the held ones, about
/// 10,000 waiting at a million providers).
const FLAGGED_PER_MILLE: u32 = 3;
const COMMENTS: &[&str] = &[
    "Turned up on time and did a tidy job.",
    "Good value; would book again.",
    "Friendly, careful and quick.",
    "The work was fine but the invoice came late.",
    "Excellent communication throughout the job.",
    "Solid work, a little over the estimate.",
];
/// Mixed into the seed of the comments' and moderation's stream.
const MODERATION_SEED: u64 = 0x6d6f_6465_7261_7465;

/// The synthetic data set named by a seed and a start date.
#[derive(Debug, Clone, Copy)]
pub struct Generator {
    seed: u64,
    start: Date,
    reviewed_at: OffsetDateTime,
}

impl Generator {
    /// Data for `seed`, with availability from `start` up to [`HORIZON_DAYS`] later.
    pub fn new(seed: u64, start: Date) -> Self {
        Self {
            seed,
            start,
            reviewed_at: start.midnight().assume_utc() - Duration::days(365),
        }
    }

    /// Provider number `index` and its reviews.
    pub fn provider(&self, index: u64) -> Seeded {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(index);
        // Time-ordered ids (UUIDv7, one millisecond per provider number), as a marketplace that
        // mints v7 ids would have: consecutive providers sit side by side in every index keyed
        // by provider id, which keeps a large load from touching random pages everywhere.
        let minted = ID_EPOCH_MILLIS + index;
        let id = ProviderId::from_uuid(uuid_v7(&mut rng, minted));
        let owner = UserId::from_uuid(uuid(&mut rng));
        let name = format!(
            "{} {} {} {index}",
            pick(&mut rng, ADJECTIVES),
            pick(&mut rng, TRADES),
            pick(&mut rng, FORMS)
        );
        let skill_count = rng.random_range(1..=10);
        let skills = Skills::from_skills((0..skill_count).map(|_| {
            // u³ skews towards low numbers: skill-0 is common, most are rare.
            let u: f64 = rng.random();
            let k = (f64::from(VOCABULARY) * u * u * u) as u32;
            Skill::new(&format!("skill-{k}")).expect("generated skill is valid")
        }));
        let cost = DayRate::new(rng.random_range(5_000..=150_000)).expect("in range");
        let availability = self.availability(&mut rng);
        let review_count = {
            // 0..=20, mean about 5.
            let u: f64 = rng.random();
            (21.0 * u * u * u) as u32
        };
        let mut stats = ReviewStats::default();
        let mut figures = SkillReviews::default();
        // Per-skill ratings come from a stream of their own, so that everything else is drawn
        // exactly as before they existed (the same providers and reviews for a given seed).
        let mut skill_rng = ChaCha8Rng::seed_from_u64(self.seed ^ SKILL_RATINGS_SEED);
        skill_rng.set_stream(index);
        let reviews = (0..review_count)
            .map(|_| {
                let rating = Rating::from_tenths(rng.random_range(10..=50)).expect("in range");
                stats = stats.with(rating);
                let skill_ratings = skill_ratings(&mut skill_rng, &skills, rating);
                figures = std::mem::take(&mut figures).with(&skill_ratings);
                Review {
                    id: ReviewId::from_uuid(uuid_v7(&mut rng, minted)),
                    provider_id: id,
                    user_id: UserId::from_uuid(uuid(&mut rng)),
                    rating,
                    comment: None,
                    skill_ratings,
                    created_at: self.reviewed_at
                        + Duration::seconds(rng.random_range(0..365 * 86_400)),
                }
            })
            .collect();
        let mut moderation_rng = ChaCha8Rng::seed_from_u64(self.seed ^ MODERATION_SEED);
        moderation_rng.set_stream(index);
        let reviews = with_comments(&mut moderation_rng, reviews);
        let provider = Provider {
            id,
            owner,
            name: ProviderName::new(&name).expect("generated name is valid"),
            skills,
            cost,
            availability,
            reviews: stats,
            skill_reviews: figures,
            // The instant its id was minted: the newest order follows the ids' time.
            created_at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(minted) * 1_000_000)
                .expect("a time near now"),
        };
        let waiting = self.waiting(&mut moderation_rng, &provider, minted);
        Seeded {
            published: BulkProvider { provider, reviews },
            waiting,
        }
    }

    /// The provider's reviews waiting for a moderator, if it has any: one held by the screen
    /// (its comment has a link), or one published and then held by flags from enough readers.
    /// Neither counts in the provider's figures.
    fn waiting(
        &self,
        rng: &mut ChaCha8Rng,
        provider: &Provider,
        minted: u64,
    ) -> Vec<BulkModerated> {
        let draw = rng.random_range(0..1000);
        if draw >= HELD_PER_MILLE + FLAGGED_PER_MILLE {
            return vec![];
        }
        let settings = ModerationSettings::default();
        let at = self.reviewed_at + Duration::seconds(rng.random_range(0..365 * 86_400));
        let by_screen = draw < HELD_PER_MILLE;
        let text = if by_screen {
            "Book me direct at www.example.com for less"
        } else {
            pick(rng, COMMENTS)
        };
        let review = Review {
            id: ReviewId::from_uuid(uuid_v7(rng, minted)),
            provider_id: provider.id,
            user_id: UserId::from_uuid(uuid(rng)),
            rating: Rating::from_tenths(rng.random_range(10..=50)).expect("in range"),
            comment: Some(Comment::new(text).expect("a valid comment")),
            skill_ratings: vec![],
            created_at: at,
        };
        let submitted = Moderation::submit(review.user_id, review.comment.as_ref(), &settings, at);
        let mut queued_at = queued_since(None, &submitted.state, at);
        let (mut state, mut events) = (submitted.state, submitted.events);
        let mut flags = Vec::new();
        if !by_screen {
            let request = FlagRequest::parse(&FlagInput {
                reason: FlagReason::Fake,
                explanation: None,
            })
            .expect("a valid flag");
            for n in 0..settings.flags_to_hold.get() {
                let flagged_at = at + Duration::hours(i64::from(n) + 1);
                let flagger = Caller::user(UserId::from_uuid(uuid(rng)));
                let step = state
                    .flag(&flagger, &request, &settings, flagged_at)
                    .expect("a reader may flag a published review");
                queued_at = queued_since(queued_at, &step.state, flagged_at);
                state = step.state;
                events.extend(step.events);
                flags.push(StoredFlag {
                    id: FlagId::from_uuid(uuid(rng)),
                    review_id: review.id,
                    flagger: flagger.id,
                    reason: FlagReason::Fake,
                    explanation: None,
                    status: FlagStatus::Open,
                    created_at: flagged_at,
                });
            }
        }
        assert_eq!(
            state.status,
            ReviewStatus::Pending,
            "the seeded review waits"
        );
        vec![BulkModerated {
            submission: Submission {
                review,
                moderation: state,
                events,
                queued_at,
            },
            flags,
        }]
    }

    /// 1–6 ranges (mean about 3) of 1–30 days, in order with gaps, within the horizon.
    fn availability(&self, rng: &mut ChaCha8Rng) -> Availability {
        let count: i64 = [1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 6][rng.random_range(0..11)];
        let stride = HORIZON_DAYS / count;
        let ranges = (0..count)
            .map(|n| {
                let from = n * stride + rng.random_range(0..stride / 2);
                let days = rng.random_range(1..=30).min(stride - (from - n * stride));
                let from = self.start + Duration::days(from);
                DateRange::new(from, from + Duration::days(days - 1)).expect("ordered dates")
            })
            .collect();
        Availability::new(ranges).expect("ranges are disjoint by construction")
    }
}

/// `reviews`, some given a comment (each with [`COMMENTED_PER_MILLE`] chance), one the screen
/// passes.
fn with_comments(rng: &mut ChaCha8Rng, reviews: Vec<Review>) -> Vec<Review> {
    reviews
        .into_iter()
        .map(|mut review| {
            if rng.random_range(0..1000) < COMMENTED_PER_MILLE {
                review.comment = Some(Comment::new(pick(rng, COMMENTS)).expect("a valid comment"));
            }
            review
        })
        .collect()
}

/// Mixed into the seed of the per-skill ratings' stream.
const SKILL_RATINGS_SEED: u64 = 0x736b_696c_6c73_2121;

/// A review's per-skill ratings: most reviews (80%) rate one or two of the provider's skills
/// (60% one, 20% two), each near the review's own rating (within one star), in skill order.
fn skill_ratings(rng: &mut ChaCha8Rng, skills: &Skills, overall: Rating) -> Vec<SkillRating> {
    let wanted = match rng.random_range(0..10) {
        0..=5 => 1,
        6 | 7 => 2,
        _ => 0,
    };
    let mut positions: Vec<usize> = Vec::new();
    while positions.len() < wanted.min(skills.len()) {
        let p = rng.random_range(0..skills.len());
        if !positions.contains(&p) {
            positions.push(p);
        }
    }
    positions.sort_unstable();
    positions
        .into_iter()
        .map(|p| {
            let tenths = (i16::from(overall.tenths()) + rng.random_range(-10i16..=10)).clamp(0, 50);
            SkillRating {
                skill: skills.as_slice()[p].clone(),
                rating: Rating::from_tenths(u8::try_from(tenths).expect("0..=50"))
                    .expect("in range"),
            }
        })
        .collect()
}

fn pick<'a>(rng: &mut ChaCha8Rng, words: &[&'a str]) -> &'a str {
    words[rng.random_range(0..words.len())]
}

fn uuid_v7(rng: &mut ChaCha8Rng, millis: u64) -> Uuid {
    let mut bytes = [0u8; 10];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid()
}

fn uuid(rng: &mut ChaCha8Rng) -> Uuid {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Why `seed` failed. Into an empty database a failure leaves it as it was (one transaction).
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The bulk loader could not connect.
    #[error("cannot connect to the database")]
    Connect(#[source] PgError),
    /// Counting the providers already stored failed.
    #[error("cannot count the providers already stored")]
    Count(#[source] PgError),
    /// The progress bar's template does not parse (a bug).
    #[error("invalid progress bar template")]
    Progress(#[source] indicatif::style::TemplateError),
    /// Generating a batch of providers panicked or was cancelled.
    #[error("generating providers {from}..{to} did not finish")]
    Generate {
        /// First provider number of the batch.
        from: u64,
        /// Provider number after the batch's last.
        to: u64,
        /// Why the task did not finish.
        #[source]
        source: tokio::task::JoinError,
    },
    /// Encoding a batch for COPY failed (a figure that does not fit its column: a bug).
    #[error("cannot encode a batch of providers")]
    Encode(#[source] PgError),
    /// The one-transaction load into an empty database could not begin.
    #[error("cannot begin loading into the empty database")]
    Begin(#[source] PgError),
    /// Copying a batch into the database failed.
    #[error("cannot load a batch of providers")]
    Load(#[source] PgError),
    /// Building the indexes and checking the constraints at the end of a load into an empty
    /// database failed (nothing was loaded).
    #[error("cannot build the indexes and check the constraints after loading")]
    Finish(#[source] PgError),
    /// A task loading batches panicked or was cancelled.
    #[error("a loading task did not finish")]
    Task(#[source] tokio::task::JoinError),
    /// `VACUUM` and `ANALYZE` after loading failed.
    #[error("cannot vacuum and analyze the loaded tables")]
    Vacuum(#[source] PgError),
    /// Counting each table's rows for the summary failed.
    #[error("cannot count the rows of each table")]
    Summary(#[source] PgError),
}

/// Settings of `seed`.
#[derive(Debug, Clone, clap::Args)]
pub struct SeedArgs {
    /// Providers to add.
    #[arg(long, default_value_t = 100_000)]
    pub providers: u64,
    /// Seed of the data: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// First day availability may start on (it spans about two years from there).
    #[arg(long, default_value = "2027-01-01", value_parser = provider_domain::parse_date)]
    pub start_date: Date,
    /// Providers written per transaction.
    #[arg(long, default_value_t = 10_000)]
    pub batch_size: u64,
    /// Connections writing batches at once, when the database already has providers (into an
    /// empty one, everything is loaded in one transaction and indexed at the end).
    #[arg(long, default_value_t = 2)]
    pub connections: usize,
}

/// Providers number `from..to`, generated on a blocking thread (CPU work, kept off the async
/// workers).
async fn generate(generator: Generator, from: u64, to: u64) -> Result<Vec<Seeded>, SeedError> {
    tokio::task::spawn_blocking(move || (from..to).map(|i| generator.provider(i)).collect())
        .await
        .map_err(|source| SeedError::Generate { from, to, source })
}

/// A batch's providers with their published reviews, and its reviews waiting for a moderator.
fn split(batch: Vec<Seeded>) -> (Vec<BulkProvider>, Vec<BulkModerated>) {
    let mut published = Vec::with_capacity(batch.len());
    let mut waiting = Vec::new();
    for seeded in batch {
        published.push(seeded.published);
        waiting.extend(seeded.waiting);
    }
    (published, waiting)
}

/// Where the time of a load went, for the summary (each phase's wall-clock time).
#[derive(Debug, Default, Clone, Copy)]
struct Phases {
    /// Generating and copying the rows (the two overlap).
    copy: std::time::Duration,
    /// A load into an empty database (one transaction): of `copy`, the time the copying
    /// waited for the generator, and the time building the indexes and checking the
    /// constraints took.
    deferred: Option<Deferred>,
    /// Bringing the statistics and the visibility map up to date.
    vacuum: std::time::Duration,
}

/// The phases only a load into an empty database has (see [`Phases`]).
#[derive(Debug, Default, Clone, Copy)]
struct Deferred {
    waiting: std::time::Duration,
    finish: std::time::Duration,
}

impl std::fmt::Display for Phases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "copying {:.1} s", self.copy.as_secs_f64())?;
        if let Some(d) = self.deferred {
            write!(
                f,
                " (waiting for the generator {:.1} s), indexes and constraints {:.1} s",
                d.waiting.as_secs_f64(),
                d.finish.as_secs_f64()
            )?;
        }
        write!(f, ", vacuum and analyze {:.1} s", self.vacuum.as_secs_f64())
    }
}

/// Providers number `from..to` with their reviews, encoded for COPY, on a blocking thread:
/// the CPU work of the client, done while the batch before is copied.
async fn generate_encoded(
    generator: Generator,
    from: u64,
    to: u64,
) -> Result<CopyBatch, SeedError> {
    tokio::task::spawn_blocking(move || {
        let (published, waiting) = split((from..to).map(|i| generator.provider(i)).collect());
        CopyBatch::of(&published, &waiting).map_err(SeedError::Encode)
    })
    .await
    .map_err(|source| SeedError::Generate { from, to, source })?
}

/// Loads into an empty database in one transaction (see `BulkLoader::begin_deferred`), the
/// next batch generated and encoded while the last is copied. A failure leaves the database
/// as it was.
async fn load_deferred(
    url: &str,
    generator: Generator,
    batches: Vec<(u64, u64)>,
    bar: &indicatif::ProgressBar,
    phases: &mut Phases,
) -> Result<(), SeedError> {
    use provider_postgres_adapter::bulk::BulkLoader;
    let mut deferred = Deferred::default();
    let mut loader = BulkLoader::connect(url).await.map_err(SeedError::Connect)?;
    let mut load = loader.begin_deferred().await.map_err(SeedError::Begin)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(u64, CopyBatch)>(2);
    let producer = tokio::spawn(async move {
        for (from, to) in batches {
            let batch = generate_encoded(generator, from, to).await?;
            if tx.send((to - from, batch)).await.is_err() {
                break; // The loader failed; its error is reported.
            }
        }
        Ok::<(), SeedError>(())
    });
    let started = std::time::Instant::now();
    loop {
        let waited = std::time::Instant::now();
        let Some((providers, batch)) = rx.recv().await else {
            break;
        };
        deferred.waiting += waited.elapsed();
        load.load_encoded(batch).await.map_err(SeedError::Load)?;
        bar.inc(providers);
    }
    producer.await.map_err(SeedError::Task)??;
    phases.copy = started.elapsed();
    bar.set_message("building indexes and checking constraints");
    let started = std::time::Instant::now();
    load.finish().await.map_err(SeedError::Finish)?;
    deferred.finish = started.elapsed();
    phases.deferred = Some(deferred);
    Ok(())
}

/// Adds batches through `connections` connections at once, one transaction per batch, into a
/// database that already has data (its indexes and constraints maintained row by row).
async fn load_batches(
    url: &str,
    connections: usize,
    generator: Generator,
    batches: Vec<(u64, u64)>,
    bar: &indicatif::ProgressBar,
) -> Result<(), SeedError> {
    use provider_postgres_adapter::bulk::BulkLoader;
    let queue = std::sync::Arc::new(std::sync::Mutex::new(batches.into_iter()));
    let mut workers = Vec::new();
    for _ in 0..connections.max(1) {
        let queue = queue.clone();
        let bar = bar.clone();
        let mut loader = BulkLoader::connect(url).await.map_err(SeedError::Connect)?;
        workers.push(tokio::spawn(async move {
            loop {
                let next = queue.lock().expect("queue lock").next();
                let Some((from, to)) = next else { break };
                let (published, waiting) = split(generate(generator, from, to).await?);
                // Two transactions: a failure in between leaves providers whose waiting
                // reviews are missing, which is still a consistent database.
                loader.load(&published).await.map_err(SeedError::Load)?;
                loader
                    .load_moderated(&waiting)
                    .await
                    .map_err(SeedError::Load)?;
                bar.inc(to - from);
            }
            Ok::<(), SeedError>(())
        }));
    }
    for worker in workers {
        worker.await.map_err(SeedError::Task)??;
    }
    Ok(())
}

/// Adds `args.providers` providers to the database at `url` (numbered on from those already
/// there), printing progress and a summary on stderr.
///
/// # Errors
/// A [`SeedError`] saying which step failed.
pub async fn run(url: &str, args: &SeedArgs) -> Result<(), SeedError> {
    use provider_postgres_adapter::bulk::BulkLoader;
    let started = std::time::Instant::now();
    let probe = BulkLoader::connect(url).await.map_err(SeedError::Connect)?;
    let first = probe.provider_count().await.map_err(SeedError::Count)?;
    let generator = Generator::new(args.seed, args.start_date);
    let bar = indicatif::ProgressBar::new(args.providers).with_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {human_pos}/{human_len} providers ({per_sec}, eta {eta}) {msg}",
        )
        .map_err(SeedError::Progress)?
        .progress_chars("=> "),
    );
    let batch_size = args.batch_size.max(1);
    let batches: Vec<(u64, u64)> = (0..args.providers)
        .step_by(batch_size as usize)
        .map(|start| {
            (
                first + start,
                first + (start + batch_size).min(args.providers),
            )
        })
        .collect();
    let mut phases = Phases::default();
    if first == 0 {
        // An empty database: one transaction, indexes and constraints built once at the end.
        load_deferred(url, generator, batches, &bar, &mut phases).await?;
    } else {
        let copying = std::time::Instant::now();
        load_batches(url, args.connections, generator, batches, &bar).await?;
        phases.copy = copying.elapsed();
    }
    bar.finish();
    let vacuuming = std::time::Instant::now();
    let other = BulkLoader::connect(url).await.map_err(SeedError::Connect)?;
    probe
        .vacuum_analyze(&other)
        .await
        .map_err(SeedError::Vacuum)?;
    phases.vacuum = vacuuming.elapsed();
    let elapsed = started.elapsed();
    eprintln!(
        "seeded {} providers (numbers {first}..{}) with seed {} in {:.1} s ({:.0} providers/s)",
        args.providers,
        first + args.providers,
        args.seed,
        elapsed.as_secs_f64(),
        args.providers as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    eprintln!("  {phases}");
    for (table, rows) in probe.table_counts().await.map_err(SeedError::Summary)? {
        eprintln!("  {table:<18} {rows:>12} rows");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn same_seed_and_index_give_the_same_provider() {
        let a = Generator::new(7, date!(2027 - 01 - 01)).provider(123);
        let b = Generator::new(7, date!(2027 - 01 - 01)).provider(123);
        assert_eq!(a.published.provider, b.published.provider);
        assert_eq!(a.published.reviews, b.published.reviews);
        assert_eq!(
            format!("{:?}", a.waiting),
            format!("{:?}", b.waiting),
            "the same waiting reviews"
        );
    }

    #[test]
    fn different_seeds_or_indexes_give_different_ids() {
        let g = Generator::new(7, date!(2027 - 01 - 01));
        let id = |g: &Generator, i| g.provider(i).published.provider.id;
        assert_ne!(id(&g, 1), id(&g, 2));
        let h = Generator::new(8, date!(2027 - 01 - 01));
        assert_ne!(id(&g, 1), id(&h, 1));
    }

    #[test]
    fn generated_data_has_the_promised_shape() {
        let g = Generator::new(1, date!(2027 - 01 - 01));
        let end = date!(2027 - 01 - 01) + Duration::days(HORIZON_DAYS);
        let (mut skills, mut ranges, mut reviews) = (0, 0, 0);
        let mut rated_per_review = [0usize; 3];
        let (mut commented, mut held, mut flagged) = (0, 0, 0);
        for i in 0..2_000 {
            let seeded = g.provider(i);
            for w in &seeded.waiting {
                // Waiting, so counted nowhere; by the screen or by enough flags.
                assert_eq!(w.submission.moderation.status, ReviewStatus::Pending);
                assert!(w.submission.queued_at.is_some());
                assert_eq!(
                    w.submission.review.provider_id,
                    seeded.published.provider.id
                );
                match w.flags.len() {
                    0 => held += 1,
                    n => {
                        assert_eq!(n as u32, ModerationSettings::default().flags_to_hold.get());
                        flagged += 1;
                    }
                }
            }
            let s = &seeded.published;
            commented += s.reviews.iter().filter(|r| r.comment.is_some()).count();
            let p = &s.provider;
            assert!((1..=10).contains(&p.skills.len()));
            assert!((5_000..=150_000).contains(&p.cost.pence()));
            assert!((1..=6).contains(&p.availability.ranges().len()));
            assert!(p.availability.ranges().iter().all(|r| r.to() < end));
            assert!(s.reviews.len() <= 20);
            assert_eq!(p.reviews.count, s.reviews.len() as u64);
            let mut figures = provider_domain::SkillReviews::default();
            for r in &s.reviews {
                assert!(r.skill_ratings.len() <= 2);
                assert!(r
                    .skill_ratings
                    .iter()
                    .all(|x| p.skills.contains_key(x.skill.key())));
                rated_per_review[r.skill_ratings.len()] += 1;
                figures = figures.with(&r.skill_ratings);
            }
            assert_eq!(p.skill_reviews, figures);
            let users: std::collections::HashSet<_> = s.reviews.iter().map(|r| r.user_id).collect();
            assert_eq!(users.len(), s.reviews.len());
            skills += p.skills.len();
            ranges += p.availability.ranges().len();
            reviews += s.reviews.len();
        }
        // Means near the marketplace BENCH.md describes (about 5 skills, 3 slots, 5 reviews).
        assert!((4_000..=11_000).contains(&skills), "{skills}");
        assert!((5_000..=7_500).contains(&ranges), "{ranges}");
        assert!((7_000..=13_000).contains(&reviews), "{reviews}");
        // About 30% of reviews have a comment; about 0.7% of providers a review held by the
        // screen, 0.3% one held by flags.
        assert!(
            (reviews * 2 / 10..=reviews * 4 / 10).contains(&commented),
            "{commented}"
        );
        assert!((4..=30).contains(&held), "{held}");
        assert!((1..=15).contains(&flagged), "{flagged}");
        // Most reviews rate one or two skills.
        let [none, one, two] = rated_per_review;
        assert!(one + two > 3 * none, "{rated_per_review:?}");
        assert!(one > two && two > 0, "{rated_per_review:?}");
    }
}
