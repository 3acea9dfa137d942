//! Property tests: the orders are total and deterministic, results never depend on the order
//! inputs were given in, availability runs agree with a day-by-day count, parsing a provider is
//! idempotent, and a control character in any text is refused where it sits.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use provider_domain::{
    parse_date, recommendation_order, search_order, Availability, Comment, Cursor, CursorPosition,
    Date, DateRange, DayRate, JobInput, JobRequest, Provider, ProviderDraft, ProviderId,
    ProviderInput, ProviderName, RangeInput, Rating, Recommendation, ReviewStats, SearchFilter,
    SearchInput, SearchSort, Skill, SkillRating, SkillReviews, Skills, SortKey, UserId, ValueError,
    MAX_DATE, MIN_DATE,
};
use std::cmp::Ordering;
use std::collections::BTreeSet;
use time::macros::date;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

/// Day 0 of the generated calendars.
const BASE: Date = date!(2027 - 01 - 01);

/// Skills with case-insensitive duplicates, so de-duplication and matching get exercised.
const VOCABULARY: &[&str] = &[
    "SEO",
    "seo",
    "Cold Calling",
    "cold calling",
    "Plumbing",
    "Design",
    "DESIGN",
    "Gardening",
];

fn day(offset: i64) -> Date {
    BASE + Duration::days(offset)
}

fn offset(day: Date) -> i64 {
    (day - BASE).whole_days()
}

fn iso(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

fn range_input(range: &DateRange) -> RangeInput {
    RangeInput {
        from_date: iso(range.from()),
        to_date: iso(range.to()),
    }
}

fn id(n: u128) -> ProviderId {
    // Spread the number over the high bytes too, so ids do not sort like their numbers.
    ProviderId::from_uuid(Uuid::from_u128(
        n.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835),
    ))
}

/// Ranges that never overlap, laid out left to right from `(gap, length)` pairs: a gap of 0
/// makes a range touch the one before it.
fn laid_out_ranges() -> impl Strategy<Value = Vec<DateRange>> {
    vec((0i64..4, 1i64..6), 0..8).prop_map(|parts| {
        let mut next_free = 0;
        parts
            .into_iter()
            .map(|(gap, len)| {
                let from = next_free + gap;
                let to = from + len - 1;
                next_free = to + 1;
                DateRange::new(day(from), day(to)).unwrap()
            })
            .collect()
    })
}

/// Ranges that may overlap, touch or repeat.
fn any_ranges() -> impl Strategy<Value = Vec<DateRange>> {
    vec((0i64..30, 0i64..5), 0..7).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(from, extra)| DateRange::new(day(from), day(from + extra)).unwrap())
            .collect()
    })
}

/// A window around the generated calendars (partly before, inside, partly after).
fn window() -> impl Strategy<Value = DateRange> {
    (-3i64..45, 0i64..15)
        .prop_map(|(from, extra)| DateRange::new(day(from), day(from + extra)).unwrap())
}

/// Review statistics, mostly with few reviews so that ties in both means and confidences occur.
fn review_stats() -> impl Strategy<Value = ReviewStats> {
    prop_oneof![
        3 => 0u64..6,
        1 => 0u64..400,
    ]
    .prop_flat_map(|count| (Just(count), 0..=count * 50))
    .prop_map(|(count, sum_tenths)| ReviewStats { count, sum_tenths })
}

/// Creation times from a small set (so ties occur), a microsecond apart or a day apart.
fn created_at() -> impl Strategy<Value = OffsetDateTime> {
    (0i64..3, 0i64..3).prop_map(|(days, micros)| {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000 + days) + Duration::microseconds(micros)
    })
}

/// Day rates from a small set (so ties occur), plus the highest allowed.
fn day_rate() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => (0i64..4).prop_map(|c| c * 100),
        1 => Just(DayRate::MAX_PENCE),
    ]
}

fn skill_list() -> impl Strategy<Value = Vec<&'static str>> {
    vec(select(VOCABULARY), 0..6)
}

fn build_provider(
    n: u128,
    cost: i64,
    skills: &[&str],
    ranges: Vec<DateRange>,
    reviews: ReviewStats,
    skill_reviews: &SkillReviews,
    created_at: OffsetDateTime,
) -> Provider {
    let skills = Skills::from_skills(skills.iter().map(|s| Skill::new(s).unwrap()));
    Provider {
        skill_reviews: skill_reviews.visible(&skills),
        id: id(n),
        owner: UserId::from_uuid(Uuid::nil()),
        name: ProviderName::new("SEO Incorporated").unwrap(),
        skills,
        cost: DayRate::new(cost).unwrap(),
        availability: Availability::new(ranges).unwrap(),
        reviews,
        created_at,
    }
}

/// A provider whose id comes from a small pool, so equal ids occur.
fn provider() -> impl Strategy<Value = Provider> {
    (
        0u128..6,
        day_rate(),
        skill_list(),
        laid_out_ranges(),
        review_stats(),
        skill_figures(),
        created_at(),
    )
        .prop_map(|(n, cost, skills, ranges, reviews, figures, at)| {
            build_provider(n, cost, &skills, ranges, reviews, &figures, at)
        })
}

/// Per-skill figures for a few skill keys of the vocabulary (some of which the provider may
/// not have): often none, so that v1.0 ties occur; small counts, so that key-3 ties occur.
fn skill_figures() -> impl Strategy<Value = SkillReviews> {
    prop_oneof![
        1 => Just(SkillReviews::default()),
        2 => vec((select(VOCABULARY), review_stats()), 0..4).prop_map(|figures| {
            SkillReviews::new(figures.into_iter().map(|(s, stats)| (s.to_lowercase(), stats)))
        }),
    ]
}

/// Providers with distinct ids, and the same providers shuffled.
fn providers_and_shuffled() -> impl Strategy<Value = (Vec<Provider>, Vec<Provider>)> {
    vec(provider(), 0..12)
        .prop_map(|mut providers| {
            for (n, p) in providers.iter_mut().enumerate() {
                p.id = id(n as u128);
            }
            providers
        })
        .prop_flat_map(|providers| (Just(providers.clone()), Just(providers).prop_shuffle()))
}

/// A recommendation: a provider and a prefix of its skills as the matched ones.
fn recommendation() -> impl Strategy<Value = Recommendation> {
    (provider(), any::<Index>()).prop_map(|(provider, k)| {
        let matched = k.index(provider.skills.len() + 1);
        let matched_skills = provider.skills.as_slice()[..matched].to_vec();
        Recommendation {
            matched_skill_rating: provider
                .skill_reviews
                .pooled(matched_skills.iter().map(Skill::key)),
            matched_skills,
            provider,
        }
    })
}

fn recommendations_and_shuffled(
) -> impl Strategy<Value = (Vec<Recommendation>, Vec<Recommendation>)> {
    vec(recommendation(), 0..12)
        .prop_map(|mut recommendations| {
            for (n, r) in recommendations.iter_mut().enumerate() {
                r.provider.id = id(n as u128);
            }
            recommendations
        })
        .prop_flat_map(|list| (Just(list.clone()), Just(list).prop_shuffle()))
}

/// One provider's input, and the same input with its skills and ranges given in another order.
fn provider_input_and_permuted() -> impl Strategy<Value = (ProviderInput, ProviderInput)> {
    (skill_list(), laid_out_ranges(), day_rate()).prop_flat_map(|(skills, ranges, cost)| {
        let skills: Vec<String> = skills.into_iter().map(String::from).collect();
        let ranges: Vec<RangeInput> = ranges.iter().map(range_input).collect();
        let given = ProviderInput {
            name: "SEO Incorporated".into(),
            skills: skills.clone(),
            cost_in_pence: cost,
            availability: ranges.clone(),
        };
        (Just(skills).prop_shuffle(), Just(ranges).prop_shuffle()).prop_map(
            move |(skills, availability)| {
                let permuted = ProviderInput {
                    skills,
                    availability,
                    ..given.clone()
                };
                (given.clone(), permuted)
            },
        )
    })
}

/// A valid search: `cost_gt < cost_lt`, `reviews_gt <= reviews_lt`.
fn search_input() -> impl Strategy<Value = SearchInput> {
    (
        option::of(select(&["seo", "INC", "ted", "plumb", "  "][..])),
        option::of(vec(select(VOCABULARY), 0..3)),
        option::of(-1i64..400),
        option::of(1i64..400),
        (0u8..=50, 0u8..=50),
        option::of(vec(window(), 0..3)),
    )
        .prop_map(
            |(name, skills, cost_gt, cost_gap, (r1, r2), windows)| SearchInput {
                name: name.map(String::from),
                skills: skills.map(|s| s.into_iter().map(String::from).collect()),
                cost_gt,
                cost_lt: cost_gap.map(|gap| cost_gt.unwrap_or(-1) + gap),
                reviews_gt: Some(f64::from(r1.min(r2)) / 10.0),
                reviews_lt: Some(f64::from(r1.max(r2)) / 10.0),
                availability: windows.map(|w| w.iter().map(range_input).collect()),
            },
        )
}

/// A valid job: every window at least as long as the job.
fn job_input() -> impl Strategy<Value = JobInput> {
    (
        1i64..1_000,
        1i64..5,
        vec(select(VOCABULARY), 1..4),
        vec((-3i64..45, 0i64..10), 1..3),
        0u8..=50,
    )
        .prop_map(|(budget, duration, skills, windows, minimum)| JobInput {
            job_budget_in_pence: Some(budget),
            expected_job_duration_in_days: Some(duration),
            skills: Some(skills.into_iter().map(String::from).collect()),
            availability: Some(
                windows
                    .into_iter()
                    .map(|(from, extra)| RangeInput {
                        from_date: iso(day(from)),
                        to_date: iso(day(from + duration - 1 + extra)),
                    })
                    .collect(),
            ),
            minimum_review_rating: Some(f64::from(minimum) / 10.0),
        })
}

/// The available days, one by one.
fn available_days(availability: &Availability) -> BTreeSet<i64> {
    availability
        .ranges()
        .iter()
        .flat_map(|r| offset(r.from())..=offset(r.to()))
        .collect()
}

/// The longest run of available days inside `window`, counted day by day.
fn longest_run_by_counting(days: &BTreeSet<i64>, window: &DateRange) -> i64 {
    let (mut longest, mut current) = (0, 0);
    for d in offset(window.from())..=offset(window.to()) {
        current = if days.contains(&d) { current + 1 } else { 0 };
        longest = longest.max(current);
    }
    longest
}

fn keys(skills: &[Skill]) -> BTreeSet<String> {
    skills.iter().map(|s| s.key().to_owned()).collect()
}

// ---------------------------------------------------------------------------------------------
// The orders are total and deterministic
// ---------------------------------------------------------------------------------------------

/// Checks the laws of a total order on three values whose "identity" is `key`.
fn check_total_order<T, K: PartialEq + std::fmt::Debug>(
    cmp: impl Fn(&T, &T) -> Ordering,
    key: impl Fn(&T) -> K,
    a: &T,
    b: &T,
    c: &T,
) -> Result<(), TestCaseError> {
    for (x, y) in [(a, b), (b, c), (a, c)] {
        let forward = cmp(x, y);
        prop_assert_eq!(forward, cmp(x, y), "deterministic");
        prop_assert_eq!(forward, cmp(y, x).reverse(), "antisymmetric");
        if forward == Ordering::Equal {
            prop_assert_eq!(key(x), key(y), "equal only for the same id");
        }
    }
    for x in [a, b, c] {
        prop_assert_eq!(cmp(x, x), Ordering::Equal, "reflexive");
    }
    // Transitive, over every arrangement of the three.
    for (x, y, z) in [
        (a, b, c),
        (a, c, b),
        (b, a, c),
        (b, c, a),
        (c, a, b),
        (c, b, a),
    ] {
        if cmp(x, y) != Ordering::Greater && cmp(y, z) != Ordering::Greater {
            prop_assert_ne!(cmp(x, z), Ordering::Greater, "transitive (<=)");
        }
        if cmp(x, y) == Ordering::Less && cmp(y, z) == Ordering::Less {
            prop_assert_eq!(cmp(x, z), Ordering::Less, "transitive (<)");
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn search_order_is_a_total_order(a in provider(), b in provider(), c in provider()) {
        check_total_order(search_order, |p: &Provider| p.id, &a, &b, &c)?;
    }

    #[test]
    fn recommendation_order_is_a_total_order(
        a in recommendation(),
        b in recommendation(),
        c in recommendation(),
    ) {
        check_total_order(recommendation_order, |r: &Recommendation| r.provider.id, &a, &b, &c)?;
    }

    #[test]
    fn sorting_shuffled_providers_gives_the_same_search_page(
        (providers, shuffled) in providers_and_shuffled(),
    ) {
        // Arrange
        let (mut sorted, mut resorted) = (providers, shuffled);

        // Act
        sorted.sort_by(search_order);
        resorted.sort_by(search_order);

        // Assert
        prop_assert_eq!(&sorted, &resorted);
        for pair in sorted.windows(2) {
            prop_assert_eq!(search_order(&pair[0], &pair[1]), Ordering::Less);
            prop_assert!(pair[0].cost >= pair[1].cost);
        }
    }

    #[test]
    fn sorting_shuffled_recommendations_gives_the_same_ranking(
        (recommendations, shuffled) in recommendations_and_shuffled(),
    ) {
        // Arrange
        let (mut sorted, mut resorted) = (recommendations, shuffled);

        // Act
        sorted.sort_by(recommendation_order);
        resorted.sort_by(recommendation_order);

        // Assert
        prop_assert_eq!(&sorted, &resorted);
        for pair in sorted.windows(2) {
            prop_assert_eq!(recommendation_order(&pair[0], &pair[1]), Ordering::Less);
            prop_assert!(pair[0].matched_skills.len() >= pair[1].matched_skills.len());
            if pair[0].matched_skills.len() == pair[1].matched_skills.len()
                && pair[0].provider.cost == pair[1].provider.cost
            {
                prop_assert_ne!(
                    pair[0].matched_skill_rating.cmp_confidence(&pair[1].matched_skill_rating),
                    Ordering::Less
                );
            }
        }
    }

    #[test]
    fn exact_rating_comparisons_agree_with_the_displayed_doubles(
        a in review_stats(),
        b in review_stats(),
    ) {
        // Act
        let (by_mean, by_confidence) = (a.cmp_mean(&b), a.cmp_confidence(&b));

        // Assert: a strictly smaller double means a strictly smaller fraction.
        if a.mean() < b.mean() {
            prop_assert_eq!(by_mean, Ordering::Less);
        }
        if by_mean == Ordering::Equal {
            prop_assert_eq!(a.mean(), b.mean());
        }
        if a.confidence() < b.confidence() {
            prop_assert_eq!(by_confidence, Ordering::Less);
        }
        if by_confidence == Ordering::Equal {
            prop_assert_eq!(a.confidence(), b.confidence());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Results never depend on the order of a provider's ranges or skills
// ---------------------------------------------------------------------------------------------

proptest! {
    #[test]
    fn a_provider_parsed_from_permuted_input_has_the_same_availability_and_skill_keys(
        (given, permuted) in provider_input_and_permuted(),
    ) {
        // Act
        let a = ProviderDraft::parse(&given).unwrap();
        let b = ProviderDraft::parse(&permuted).unwrap();

        // Assert
        prop_assert_eq!(&a.availability, &b.availability);
        prop_assert_eq!(keys(a.skills.as_slice()), keys(b.skills.as_slice()));
    }

    #[test]
    fn a_search_result_never_depends_on_the_order_ranges_and_skills_were_given(
        (given, permuted) in provider_input_and_permuted(),
        reviews in review_stats(),
        input in search_input(),
    ) {
        // Arrange
        let filter = SearchFilter::parse(&input).unwrap();
        let mut a = Provider::new(id(1), UserId::from_uuid(Uuid::nil()), ProviderDraft::parse(&given).unwrap(), OffsetDateTime::UNIX_EPOCH);
        let mut b = Provider::new(id(1), UserId::from_uuid(Uuid::nil()), ProviderDraft::parse(&permuted).unwrap(), OffsetDateTime::UNIX_EPOCH);
        a.reviews = reviews;
        b.reviews = reviews;

        // Act / Assert
        prop_assert_eq!(filter.matches(&a), filter.matches(&b));
    }

    #[test]
    fn a_recommendation_never_depends_on_the_order_ranges_and_skills_were_given(
        (given, permuted) in provider_input_and_permuted(),
        reviews in review_stats(),
        input in job_input(),
    ) {
        // Arrange
        let job = JobRequest::parse(&input).unwrap();
        let mut a = Provider::new(id(1), UserId::from_uuid(Uuid::nil()), ProviderDraft::parse(&given).unwrap(), OffsetDateTime::UNIX_EPOCH);
        let mut b = Provider::new(id(1), UserId::from_uuid(Uuid::nil()), ProviderDraft::parse(&permuted).unwrap(), OffsetDateTime::UNIX_EPOCH);
        a.reviews = reviews;
        b.reviews = reviews;

        // Act
        let ra = job.evaluate(&a);
        let rb = job.evaluate(&b);

        // Assert
        prop_assert_eq!(job.fits_schedule(&a), job.fits_schedule(&b));
        prop_assert_eq!(
            ra.as_ref().map(|r| keys(&r.matched_skills)),
            rb.as_ref().map(|r| keys(&r.matched_skills))
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Availability arithmetic
// ---------------------------------------------------------------------------------------------

proptest! {
    #[test]
    fn runs_never_touch_or_overlap_and_cover_exactly_the_available_days(
        ranges in laid_out_ranges().prop_shuffle(),
    ) {
        // Arrange
        let availability = Availability::new(ranges).unwrap();

        // Act
        let runs = availability.runs();

        // Assert
        for pair in runs.windows(2) {
            prop_assert!(
                offset(pair[1].from()) - offset(pair[0].to()) >= 2,
                "{:?} and {:?} touch or overlap", pair[0], pair[1]
            );
        }
        let covered: BTreeSet<i64> = runs
            .iter()
            .flat_map(|r| offset(r.from())..=offset(r.to()))
            .collect();
        prop_assert_eq!(covered, available_days(&availability));
        let run_days: i64 = runs.iter().map(DateRange::days).sum();
        let range_days: i64 = availability.ranges().iter().map(DateRange::days).sum();
        prop_assert_eq!(run_days, range_days);
    }

    #[test]
    fn a_run_within_a_window_never_exceeds_the_window_and_matches_a_day_count(
        ranges in laid_out_ranges().prop_shuffle(),
        window in window(),
    ) {
        // Arrange
        let availability = Availability::new(ranges).unwrap();
        let days = available_days(&availability);

        // Act
        let longest = availability.longest_run_within(&window);

        // Assert
        prop_assert!(longest <= window.days());
        for run in availability.runs() {
            if let Some(inside) = run.intersection(&window) {
                prop_assert!(inside.days() <= window.days());
                prop_assert!(inside.from() >= window.from() && inside.to() <= window.to());
            }
        }
        prop_assert_eq!(longest, longest_run_by_counting(&days, &window));
        prop_assert_eq!(availability.has_day_in(&window), longest > 0);
    }

    #[test]
    fn a_job_fits_exactly_when_some_window_holds_a_long_enough_run(
        ranges in laid_out_ranges(),
        input in job_input(),
    ) {
        // Arrange
        let job = JobRequest::parse(&input).unwrap();
        let provider = build_provider(1, 0, &["SEO"], ranges, ReviewStats::default(), &SkillReviews::default(), OffsetDateTime::UNIX_EPOCH);
        let days = available_days(&provider.availability);

        // Act
        let fits = job.fits_schedule(&provider);

        // Assert
        let by_counting = job
            .windows()
            .iter()
            .any(|w| longest_run_by_counting(&days, w) >= job.duration());
        prop_assert_eq!(fits, by_counting);
    }

    #[test]
    fn availability_refuses_exactly_the_overlapping_lists(ranges in any_ranges()) {
        // Arrange
        let overlapping = (0..ranges.len())
            .any(|i| (0..i).any(|j| ranges[i].overlaps(&ranges[j])));

        // Act
        let result = Availability::new(ranges.clone());

        // Assert
        match result {
            Ok(availability) => {
                prop_assert!(!overlapping);
                let mut sorted = ranges;
                sorted.sort();
                prop_assert_eq!(availability.ranges(), &sorted[..]);
            }
            Err((later, error)) => {
                prop_assert!(overlapping);
                let ValueError::Overlaps { other } = error else {
                    return Err(TestCaseError::fail(format!("unexpected {error:?}")));
                };
                prop_assert!(other < later, "the later given range is at fault");
                prop_assert!(ranges[later].overlaps(&ranges[other]));
            }
        }
    }

    #[test]
    fn affordability_is_cost_times_duration_within_budget(
        cost in prop_oneof![0i64..2_000, Just(DayRate::MAX_PENCE)],
        input in job_input(),
    ) {
        // Arrange
        let job = JobRequest::parse(&input).unwrap();
        let provider = build_provider(1, cost, &["SEO"], Vec::new(), ReviewStats::default(), &SkillReviews::default(), OffsetDateTime::UNIX_EPOCH);

        // Act
        let affords = job.affords(&provider);

        // Assert
        prop_assert_eq!(affords, cost * job.duration() <= job.budget());
        prop_assert_eq!(affords, cost <= job.max_day_rate());
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

fn raw_provider_input() -> impl Strategy<Value = ProviderInput> {
    (
        "\\s{0,2}\\PC{0,20}\\s{0,2}",
        vec("\\s?[A-Za-zÉéß ]{1,12}\\s?", 0..8),
        prop_oneof![
            8 => 0..=DayRate::MAX_PENCE,
            1 => any::<i64>(),
        ],
        laid_out_ranges().prop_shuffle(),
    )
        .prop_map(|(name, skills, cost_in_pence, ranges)| ProviderInput {
            name,
            skills,
            cost_in_pence,
            availability: ranges.iter().map(range_input).collect(),
        })
}

/// What a client would PUT back after reading a provider.
fn as_input(draft: &ProviderDraft) -> ProviderInput {
    ProviderInput {
        name: draft.name.as_str().to_owned(),
        skills: draft.skills.iter().map(|s| s.as_str().to_owned()).collect(),
        cost_in_pence: draft.cost.pence(),
        availability: draft
            .availability
            .ranges()
            .iter()
            .map(range_input)
            .collect(),
    }
}

proptest! {
    #[test]
    fn parsing_a_provider_is_idempotent_on_its_own_output(input in raw_provider_input()) {
        // Arrange
        let Ok(first) = ProviderDraft::parse(&input) else {
            return Ok(());
        };

        // Act
        let second = ProviderDraft::parse(&as_input(&first));

        // Assert
        prop_assert_eq!(second, Ok(first));
    }

    #[test]
    fn every_calendar_day_in_range_round_trips_through_its_iso_text(
        julian in MIN_DATE.to_julian_day() - 40_000..=MAX_DATE.to_julian_day(),
    ) {
        // Arrange
        let day = Date::from_julian_day(julian).unwrap();

        // Act
        let parsed = parse_date(&iso(day));

        // Assert
        if day >= MIN_DATE {
            prop_assert_eq!(parsed, Ok(day));
        } else {
            prop_assert_eq!(parsed, Err(ValueError::DateOutOfRange));
        }
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(
        name in "\\PC{0,8}",
        skill in "\\PC{0,8}",
        from in "\\PC{0,12}",
        to in "[0-9-]{0,12}",
        cost in any::<i64>(),
    ) {
        // Arrange
        let input = ProviderInput {
            name,
            skills: vec![skill],
            cost_in_pence: cost,
            availability: vec![RangeInput { from_date: from, to_date: to }],
        };

        // Act
        let result = ProviderDraft::parse(&input);

        // Assert: every fault sits at one of the fields given.
        if let Err(error) = result {
            prop_assert!(!error.fields().is_empty());
            for fault in error.fields() {
                prop_assert!(
                    ["name", "skills[0]", "cost_in_pence", "availability[0].from_date",
                     "availability[0].to_date"].contains(&fault.field.as_str()),
                    "unexpected field {}", fault.field
                );
            }
        }
    }
}

proptest! {
    #[test]
    fn a_control_character_anywhere_in_a_text_is_refused_at_its_position(
        before in "\\PC{0,12}",
        control in prop_oneof![0x00u32..=0x1f, Just(0x7f)].prop_map(|c| char::from_u32(c).unwrap()),
        after in "[\\PC\\t\\n\\r]{0,12}",
    ) {
        // Arrange: `before` holds no control character, so `control` is the first one.
        let raw = format!("{before}{control}{after}");
        let expected = ValueError::ControlCharacter {
            character: control,
            position: before.chars().count() + 1,
        };

        // Act
        let name = ProviderName::new(&raw);
        let skill = Skill::new(&raw);
        let comment = Comment::new(&raw);

        // Assert
        prop_assert_eq!(name, Err(expected.clone()));
        prop_assert_eq!(skill, Err(expected.clone()));
        if ['\t', '\n', '\r'].contains(&control) {
            // A comment may hold tab, line feed and carriage return (and `after` holds no other
            // control character).
            prop_assert!(comment.is_ok(), "{:?}", comment);
        } else {
            prop_assert_eq!(comment, Err(expected));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Ratings per skill
// ---------------------------------------------------------------------------------------------

/// The v1.0 ranking, without ranking key 3 (the matched skills' pooled rating).
fn v1_0_order(a: &Recommendation, b: &Recommendation) -> Ordering {
    b.matched_skills
        .len()
        .cmp(&a.matched_skills.len())
        .then_with(|| b.provider.cost.cmp(&a.provider.cost))
        .then_with(|| b.provider.reviews.cmp_confidence(&a.provider.reviews))
        .then_with(|| b.provider.reviews.count.cmp(&a.provider.reviews.count))
        .then_with(|| a.provider.id.cmp(&b.provider.id))
}

/// Providers with distinct ids.
fn providers() -> impl Strategy<Value = Vec<Provider>> {
    vec(provider(), 0..12).prop_map(|mut providers| {
        for (n, p) in providers.iter_mut().enumerate() {
            p.id = id(n as u128);
        }
        providers
    })
}

/// The ranked recommendations for `job` over `providers`: ids, matched skills and their pooled
/// rating, in order.
fn ranked(job: &JobRequest, providers: &[Provider]) -> Vec<(ProviderId, Vec<Skill>, ReviewStats)> {
    let mut found: Vec<Recommendation> = providers.iter().filter_map(|p| job.evaluate(p)).collect();
    found.sort_by(recommendation_order);
    found
        .into_iter()
        .map(|r| (r.provider.id, r.matched_skills, r.matched_skill_rating))
        .collect()
}

proptest! {
    #[test]
    fn with_no_skill_ratings_the_v1_0_order_stands(
        mut providers in providers(),
        input in job_input(),
    ) {
        // Arrange
        for p in &mut providers {
            p.skill_reviews = SkillReviews::default();
        }
        let job = JobRequest::parse(&input).unwrap();
        let found: Vec<Recommendation> = providers.iter().filter_map(|p| job.evaluate(p)).collect();
        let (mut now, mut before) = (found.clone(), found);

        // Act
        now.sort_by(recommendation_order);
        before.sort_by(v1_0_order);

        // Assert
        prop_assert_eq!(&now, &before);
        for r in &now {
            prop_assert_eq!(r.matched_skill_rating, ReviewStats::default());
        }
    }

    #[test]
    fn a_rating_for_an_unmatched_skill_never_changes_a_recommendation(
        providers in providers(),
        input in job_input(),
        pick in any::<Index>(),
        tenths in 0u8..=50,
    ) {
        // Arrange: one provider's skill the job did not ask for.
        let job = JobRequest::parse(&input).unwrap();
        let unmatched: Vec<(usize, Skill)> = providers
            .iter()
            .enumerate()
            .flat_map(|(i, p)| {
                p.skills
                    .iter()
                    .filter(|s| !job.skills().contains_key(s.key()))
                    .map(move |s| (i, s.clone()))
            })
            .collect();
        prop_assume!(!unmatched.is_empty());
        let (i, skill) = pick.get(&unmatched).clone();
        let mut rated = providers.clone();
        let rating = SkillRating { skill, rating: Rating::from_tenths(tenths).unwrap() };
        rated[i].skill_reviews = rated[i].skill_reviews.clone().with(&[rating]);

        // Act / Assert: the same providers, in the same order, with the same figures.
        prop_assert_eq!(ranked(&job, &providers), ranked(&job, &rated));
    }

    #[test]
    fn the_matched_skill_rating_pools_exactly_the_matched_skills_figures(
        provider in provider(),
        input in job_input(),
    ) {
        // Arrange
        let job = JobRequest::parse(&input).unwrap();

        // Act
        let pooled = job.matched_skill_rating(&provider);

        // Assert
        let (mut count, mut sum) = (0, 0);
        for s in provider.skills.iter().filter(|s| job.skills().contains_key(s.key())) {
            count += provider.skill_reviews.get(s.key()).count;
            sum += provider.skill_reviews.get(s.key()).sum_tenths;
        }
        prop_assert_eq!(pooled, ReviewStats { count, sum_tenths: sum });
    }
}

// ---------------------------------------------------------------------------------------------
// Every search order is total, and a walk of pages after a cursor lists the sorted set
// ---------------------------------------------------------------------------------------------

fn sort() -> impl Strategy<Value = SearchSort> {
    select(SearchSort::ALL.to_vec())
}

/// The page after `last` (or the first page), as a store walking the order from a point
/// finds it: the `size` least of the providers after that point.
fn page_after(
    all: &[Provider],
    sort: SearchSort,
    last: Option<&SortKey>,
    size: usize,
) -> Vec<Provider> {
    let mut after: Vec<Provider> = all
        .iter()
        .filter(|p| last.is_none_or(|k| sort.is_after(p, k)))
        .cloned()
        .collect();
    after.sort_by(|a, b| sort.compare(a, b));
    after.truncate(size);
    after
}

proptest! {
    #[test]
    fn every_search_order_is_a_total_order(
        sort in sort(),
        a in provider(),
        b in provider(),
        c in provider(),
    ) {
        check_total_order(|x, y| sort.compare(x, y), |p: &Provider| p.id, &a, &b, &c)?;
        prop_assert_eq!(sort.compare(&a, &b), sort.compare_keys(&SortKey::of(&a), &SortKey::of(&b)));
    }

    #[test]
    fn the_default_order_is_the_v1_0_search_order(a in provider(), b in provider()) {
        prop_assert_eq!(SearchSort::default().compare(&a, &b), search_order(&a, &b));
    }

    #[test]
    fn each_order_sorts_shuffled_providers_the_same_way_and_by_its_first_key(
        sort in sort(),
        (providers, shuffled) in providers_and_shuffled(),
    ) {
        let (mut sorted, mut resorted) = (providers, shuffled);
        sorted.sort_by(|a, b| sort.compare(a, b));
        resorted.sort_by(|a, b| sort.compare(a, b));
        prop_assert_eq!(&sorted, &resorted);
        for pair in sorted.windows(2) {
            let (x, y) = (&pair[0], &pair[1]);
            prop_assert_eq!(sort.compare(x, y), Ordering::Less);
            match sort {
                SearchSort::CostDesc => prop_assert!(x.cost >= y.cost),
                SearchSort::CostAsc => prop_assert!(x.cost <= y.cost),
                SearchSort::RatingDesc => {
                    prop_assert!(x.reviews.cmp_confidence(&y.reviews) != Ordering::Less);
                    prop_assert!(x.reviews.confidence() >= y.reviews.confidence());
                }
                SearchSort::ReviewsDesc => prop_assert!(x.reviews.count >= y.reviews.count),
                SearchSort::Newest => prop_assert!(x.created_at >= y.created_at),
            }
        }
    }

    #[test]
    fn a_walk_of_pages_after_each_last_key_lists_exactly_the_sorted_set(
        sort in sort(),
        (providers, _) in providers_and_shuffled(),
        size in 1usize..5,
    ) {
        let mut sorted = providers.clone();
        sorted.sort_by(|a, b| sort.compare(a, b));
        let mut walked = Vec::new();
        let mut last: Option<SortKey> = None;
        loop {
            let page = page_after(&providers, sort, last.as_ref(), size);
            if page.is_empty() {
                break;
            }
            last = page.last().map(SortKey::of);
            walked.extend(page);
        }
        prop_assert_eq!(walked, sorted);
    }

    #[test]
    fn a_search_cursor_reads_back_from_its_bytes_and_any_change_is_caught_or_decoded(
        sort in sort(),
        p in provider(),
        scope in any::<[u8; 16]>(),
        flip in any::<Index>(),
        bit in 0u8..8,
    ) {
        let cursor = Cursor {
            position: CursorPosition::Search { sort, last: SortKey::of(&p) },
            scope,
        };
        let bytes = cursor.to_bytes();
        prop_assert_eq!(Cursor::from_bytes(&bytes), Ok(cursor));
        // The bytes alone carry no integrity check (the sealing layer adds one): a changed
        // byte either fails to decode or decodes to another cursor, never panics.
        let mut changed = bytes.clone();
        changed[flip.index(bytes.len())] ^= 1 << bit;
        if let Ok(other) = Cursor::from_bytes(&changed) {
            prop_assert_ne!(other, cursor);
        }
    }
}
