//! The rules of API.md, one at a time: field validation, review statistics, the search filter
//! and its order, the recommendation rules and their ranking.
//!
//! Each test reads as a sentence and is laid out Arrange / Act / Assert; where a rule has many
//! edges the cases sit in a table next to the expected outcome.

use provider_domain::{
    parse_date, recommendation_order, search_order, Availability, Comment, DateRange, DayRate,
    FieldError, JobInput, JobRequest, Provider, ProviderDraft, ProviderId, ProviderInput,
    ProviderName, RangeInput, Rating, RatingBound, Recommendation, ReviewStats, SearchFilter,
    SearchInput, Skill, Skills, UserId, ValidationError, ValueError,
};
use std::cmp::Ordering;
use time::macros::date;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn range(from: &str, to: &str) -> RangeInput {
    RangeInput {
        from_date: from.into(),
        to_date: to.into(),
    }
}

/// Date ranges written as `(from_date, to_date)` text pairs.
type Days<'a> = &'a [(&'a str, &'a str)];

fn ranges(list: &[(&str, &str)]) -> Vec<RangeInput> {
    list.iter().map(|(from, to)| range(from, to)).collect()
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// A provider input that passes every rule; tests change the one field they are about.
fn valid_input() -> ProviderInput {
    ProviderInput {
        name: "SEO Incorporated".into(),
        skills: strings(&["SEO Optimisation", "Cold Calling"]),
        cost_in_pence: 25_000,
        availability: ranges(&[("2027-11-12", "2027-12-28")]),
    }
}

/// The `(field, error)` pairs of a validation error, for compact assertions.
fn faults(error: &ValidationError) -> Vec<(String, ValueError)> {
    error
        .fields()
        .iter()
        .map(|f| (f.field.clone(), f.error.clone()))
        .collect()
}

fn fault(field: &str, error: ValueError) -> (String, ValueError) {
    (field.to_owned(), error)
}

fn id(n: u128) -> ProviderId {
    ProviderId::from_uuid(Uuid::from_u128(n))
}

fn skills(list: &[&str]) -> Skills {
    Skills::from_skills(list.iter().map(|s| Skill::new(s).unwrap()))
}

fn day_range(from: &str, to: &str) -> DateRange {
    DateRange::new(parse_date(from).unwrap(), parse_date(to).unwrap()).unwrap()
}

fn availability(list: &[(&str, &str)]) -> Availability {
    Availability::new(list.iter().map(|(f, t)| day_range(f, t)).collect()).unwrap()
}

/// Review statistics after one review per rating, given in tenths.
fn stats(ratings_in_tenths: &[u8]) -> ReviewStats {
    ratings_in_tenths
        .iter()
        .fold(ReviewStats::default(), |s, &t| {
            s.with(Rating::from_tenths(t).unwrap())
        })
}

/// A provider with id `n` and day rate `cost`; skills, availability and reviews are set by the
/// test through the public fields.
fn provider(n: u128, cost: i64) -> Provider {
    Provider {
        id: id(n),
        owner: UserId::from_uuid(Uuid::from_u128(u128::MAX - n)),
        name: ProviderName::new("SEO Incorporated").unwrap(),
        skills: skills(&["SEO Optimisation", "Cold Calling"]),
        cost: DayRate::new(cost).unwrap(),
        availability: availability(&[("2027-01-01", "2027-12-31")]),
        reviews: ReviewStats::default(),
    }
}

fn search(input: SearchInput) -> SearchFilter {
    SearchFilter::parse(&input).unwrap()
}

/// A job that passes every rule: budget 1,000,000, one day, SEO, all of 2027.
fn valid_job() -> JobInput {
    JobInput {
        job_budget_in_pence: Some(1_000_000),
        expected_job_duration_in_days: Some(1),
        skills: Some(strings(&["SEO Optimisation"])),
        availability: Some(ranges(&[("2027-01-01", "2027-12-31")])),
        minimum_review_rating: None,
    }
}

fn job(input: JobInput) -> JobRequest {
    JobRequest::parse(&input).unwrap()
}

fn job_for_days(duration: i64, windows: &[(&str, &str)]) -> JobRequest {
    job(JobInput {
        expected_job_duration_in_days: Some(duration),
        availability: Some(ranges(windows)),
        ..valid_job()
    })
}

fn recommendation(provider: Provider, matched: &[&str]) -> Recommendation {
    Recommendation {
        provider,
        matched_skills: matched.iter().map(|s| Skill::new(s).unwrap()).collect(),
    }
}

fn spellings(skills: &[Skill]) -> Vec<&str> {
    skills.iter().map(Skill::as_str).collect()
}

// ---------------------------------------------------------------------------------------------
// Provider fields
// ---------------------------------------------------------------------------------------------

#[test]
fn name_is_trimmed_and_holds_1_to_200_characters() {
    // Arrange
    let cases: Vec<(String, Result<String, ValueError>)> = vec![
        (
            "  SEO Incorporated \n".into(),
            Ok("SEO Incorporated".into()),
        ),
        ("a".into(), Ok("a".into())),
        ("é".repeat(200), Ok("é".repeat(200))),
        (format!("  {}\t", "x".repeat(200)), Ok("x".repeat(200))),
        (
            "é".repeat(201),
            Err(ValueError::TooLong {
                max: 200,
                actual: 201,
            }),
        ),
        ("".into(), Err(ValueError::Empty)),
        (" \t\n\u{3000} ".into(), Err(ValueError::Empty)),
    ];

    for (raw, expected) in cases {
        // Act
        let name = ProviderName::new(&raw);

        // Assert
        assert_eq!(
            name.as_ref()
                .map(ProviderName::as_str)
                .map_err(Clone::clone),
            expected.as_deref().map_err(Clone::clone),
            "name {raw:?}"
        );
    }
}

#[test]
fn name_of_200_two_byte_characters_is_counted_as_200() {
    // Arrange
    let raw = "é".repeat(200);
    assert_eq!(raw.len(), 400);

    // Act
    let name = ProviderName::new(&raw);

    // Assert
    assert!(name.is_ok());
}

#[test]
fn skill_is_trimmed_and_holds_1_to_100_characters() {
    // Arrange
    let cases: Vec<(String, Result<String, ValueError>)> = vec![
        (" Cold Calling ".into(), Ok("Cold Calling".into())),
        ("ß".repeat(100), Ok("ß".repeat(100))),
        (
            "ß".repeat(101),
            Err(ValueError::TooLong {
                max: 100,
                actual: 101,
            }),
        ),
        ("".into(), Err(ValueError::Empty)),
        ("   ".into(), Err(ValueError::Empty)),
    ];

    for (raw, expected) in cases {
        // Act
        let skill = Skill::new(&raw);

        // Assert
        assert_eq!(
            skill.as_ref().map(Skill::as_str).map_err(Clone::clone),
            expected.as_deref().map_err(Clone::clone),
            "skill {raw:?}"
        );
    }
}

#[test]
fn skill_key_is_lower_case_and_spelling_is_kept() {
    // Act
    let skill = Skill::new("  SEO Optimisation ").unwrap();

    // Assert
    assert_eq!(skill.as_str(), "SEO Optimisation");
    assert_eq!(skill.key(), "seo optimisation");
}

#[test]
fn duplicate_skills_are_dropped_keeping_the_first_spelling_and_the_order() {
    // Arrange
    let input = ProviderInput {
        skills: strings(&[
            "SEO",
            "Cold Calling",
            "seo",
            " COLD calling ",
            "Design",
            "sEo",
        ]),
        ..valid_input()
    };

    // Act
    let draft = ProviderDraft::parse(&input).unwrap();

    // Assert
    assert_eq!(
        spellings(draft.skills.as_slice()),
        ["SEO", "Cold Calling", "Design"]
    );
}

#[test]
fn provider_may_have_no_skills() {
    // Arrange
    let input = ProviderInput {
        skills: Vec::new(),
        ..valid_input()
    };

    // Act
    let draft = ProviderDraft::parse(&input).unwrap();

    // Assert
    assert!(draft.skills.is_empty());
}

#[test]
fn provider_may_list_50_skills_but_not_51() {
    // Arrange
    let fifty: Vec<String> = (0..50).map(|i| format!("skill {i}")).collect();
    let fifty_one: Vec<String> = (0..51).map(|i| format!("skill {i}")).collect();

    // Act
    let ok = ProviderDraft::parse(&ProviderInput {
        skills: fifty,
        ..valid_input()
    });
    let refused = ProviderDraft::parse(&ProviderInput {
        skills: fifty_one,
        ..valid_input()
    })
    .unwrap_err();

    // Assert
    assert_eq!(ok.unwrap().skills.len(), 50);
    assert_eq!(
        faults(&refused),
        [fault(
            "skills",
            ValueError::TooMany {
                max: 50,
                actual: 51
            }
        )]
    );
}

#[test]
fn an_empty_skill_is_reported_at_its_index() {
    // Arrange
    let input = ProviderInput {
        skills: strings(&["SEO", "Design", "  "]),
        ..valid_input()
    };

    // Act
    let error = ProviderDraft::parse(&input).unwrap_err();

    // Assert
    assert_eq!(faults(&error), [fault("skills[2]", ValueError::Empty)]);
}

#[test]
fn cost_is_between_0_and_100_billion_pence_inclusive() {
    // Arrange
    let out_of_range = Err(ValueError::OutOfRange {
        min: "0".into(),
        max: "100000000000".into(),
    });
    let cases = [
        (0, Ok(0)),
        (1, Ok(1)),
        (25_000, Ok(25_000)),
        (100_000_000_000, Ok(100_000_000_000)),
        (-1, out_of_range.clone()),
        (100_000_000_001, out_of_range.clone()),
        (i64::MIN, out_of_range.clone()),
        (i64::MAX, out_of_range),
    ];

    for (pence, expected) in cases {
        // Act
        let rate = DayRate::new(pence).map(DayRate::pence);

        // Assert
        assert_eq!(rate, expected, "cost {pence}");
    }
}

#[test]
fn a_negative_cost_is_reported_at_cost_in_pence() {
    // Arrange
    let input = ProviderInput {
        cost_in_pence: -1,
        ..valid_input()
    };

    // Act
    let error = ProviderDraft::parse(&input).unwrap_err();

    // Assert
    assert_eq!(error.fields().len(), 1);
    assert_eq!(error.fields()[0].field, "cost_in_pence");
}

// ---------------------------------------------------------------------------------------------
// Dates, ranges and availability
// ---------------------------------------------------------------------------------------------

#[test]
fn dates_are_iso_calendar_days_between_1900_and_9999() {
    // Arrange
    let cases = [
        ("1900-01-01", Ok(date!(1900 - 01 - 01))),
        ("9999-12-31", Ok(date!(9999 - 12 - 31))),
        ("2027-03-01", Ok(date!(2027 - 03 - 01))),
        ("2028-02-29", Ok(date!(2028 - 02 - 29))),
        ("2000-02-29", Ok(date!(2000 - 02 - 29))),
        ("1899-12-31", Err(ValueError::DateOutOfRange)),
        ("0000-01-01", Err(ValueError::DateOutOfRange)),
        ("2027-02-29", Err(ValueError::NotADate)),
        ("1900-02-29", Err(ValueError::NotADate)),
        ("2027-04-31", Err(ValueError::NotADate)),
        ("2027-13-01", Err(ValueError::NotADate)),
        ("2027-00-10", Err(ValueError::NotADate)),
        ("2027-01-00", Err(ValueError::NotADate)),
        ("2027-3-1", Err(ValueError::NotADate)),
        ("2027-03-1", Err(ValueError::NotADate)),
        ("27-03-01", Err(ValueError::NotADate)),
        ("10000-01-01", Err(ValueError::NotADate)),
        ("+2027-03-01", Err(ValueError::NotADate)),
        ("-2027-03-01", Err(ValueError::NotADate)),
        ("2027/03/01", Err(ValueError::NotADate)),
        ("01-03-2027", Err(ValueError::NotADate)),
        ("2027-03-01T00:00:00Z", Err(ValueError::NotADate)),
        (" 2027-03-01", Err(ValueError::NotADate)),
        ("", Err(ValueError::NotADate)),
        ("tomorrow", Err(ValueError::NotADate)),
    ];

    for (text, expected) in cases {
        // Act
        let parsed = parse_date(text);

        // Assert
        assert_eq!(parsed, expected, "date {text:?}");
    }
}

#[test]
fn one_day_range_is_one_day_long() {
    // Act
    let one_day = day_range("2027-03-01", "2027-03-01");

    // Assert
    assert_eq!(one_day.days(), 1);
}

#[test]
fn range_days_count_both_ends() {
    // Arrange
    let cases = [
        (("2027-03-01", "2027-03-02"), 2),
        (("2027-02-01", "2027-03-01"), 29),
        (("2028-02-01", "2028-03-01"), 30),
        (("2027-01-01", "2027-12-31"), 365),
        (("1900-01-01", "9999-12-31"), 2_958_464),
    ];

    for ((from, to), expected) in cases {
        // Act
        let days = day_range(from, to).days();

        // Assert
        assert_eq!(days, expected, "{from}..={to}");
    }
}

#[test]
fn inverted_range_is_refused_at_its_to_date() {
    // Act
    let error = DateRange::parse("availability[1]", "2027-03-02", "2027-03-01").unwrap_err();

    // Assert
    assert_eq!(
        faults(&error),
        [fault("availability[1].to_date", ValueError::Inverted)]
    );
}

#[test]
fn range_reports_both_bad_ends_at_once() {
    // Act
    let error = DateRange::parse("availability[0]", "1899-12-31", "2027-02-29").unwrap_err();

    // Assert
    assert_eq!(
        faults(&error),
        [
            fault("availability[0].from_date", ValueError::DateOutOfRange),
            fault("availability[0].to_date", ValueError::NotADate),
        ]
    );
}

#[test]
fn range_constructor_refuses_inverted_and_out_of_range_days() {
    // Arrange
    let cases = [
        (
            date!(2027 - 03 - 02),
            date!(2027 - 03 - 01),
            Err(ValueError::Inverted),
        ),
        (
            date!(1899 - 12 - 31),
            date!(2027 - 03 - 01),
            Err(ValueError::DateOutOfRange),
        ),
        (
            date!(2027 - 03 - 01),
            date!(1899 - 12 - 31),
            Err(ValueError::DateOutOfRange),
        ),
        (date!(2027 - 03 - 01), date!(2027 - 03 - 01), Ok(1)),
    ];

    for (from, to, expected) in cases {
        // Act
        let days = DateRange::new(from, to).map(|r| r.days());

        // Assert
        assert_eq!(days, expected, "{from}..={to}");
    }
}

#[test]
fn availability_is_returned_sorted_by_from_date() {
    // Arrange
    let input = ProviderInput {
        availability: ranges(&[
            ("2027-03-01", "2027-03-10"),
            ("2027-01-01", "2027-01-05"),
            ("2027-02-01", "2027-02-01"),
        ]),
        ..valid_input()
    };

    // Act
    let draft = ProviderDraft::parse(&input).unwrap();

    // Assert
    assert_eq!(
        draft.availability.ranges(),
        [
            day_range("2027-01-01", "2027-01-05"),
            day_range("2027-02-01", "2027-02-01"),
            day_range("2027-03-01", "2027-03-10"),
        ]
    );
}

#[test]
fn touching_ranges_are_allowed() {
    // Arrange
    let input = ProviderInput {
        availability: ranges(&[
            ("2027-01-03", "2027-01-04"),
            ("2027-01-01", "2027-01-02"),
            ("2027-01-05", "2027-01-05"),
        ]),
        ..valid_input()
    };

    // Act
    let draft = ProviderDraft::parse(&input);

    // Assert
    assert_eq!(draft.unwrap().availability.ranges().len(), 3);
}

#[test]
fn overlapping_ranges_are_refused_at_the_later_given_one() {
    // Arrange: (ranges as given, field at fault, index of the range it overlaps)
    let cases: [(Days, &str, usize); 5] = [
        (
            &[("2027-01-01", "2027-01-05"), ("2027-01-05", "2027-01-09")],
            "availability[1]",
            0,
        ),
        (
            // The later given range sorts first.
            &[("2027-03-05", "2027-03-12"), ("2027-03-01", "2027-03-06")],
            "availability[1]",
            0,
        ),
        (
            &[
                ("2027-03-01", "2027-03-10"),
                ("2027-01-01", "2027-01-05"),
                ("2027-03-10", "2027-03-12"),
            ],
            "availability[2]",
            0,
        ),
        (
            // Contained in a long range that started before an unrelated one.
            &[
                ("2027-01-01", "2027-12-31"),
                ("2026-01-01", "2026-01-02"),
                ("2027-06-01", "2027-06-01"),
            ],
            "availability[2]",
            0,
        ),
        (
            &[("2027-01-01", "2027-01-01"), ("2027-01-01", "2027-01-01")],
            "availability[1]",
            0,
        ),
    ];

    for (given, field, other) in cases {
        // Arrange
        let input = ProviderInput {
            availability: ranges(given),
            ..valid_input()
        };

        // Act
        let error = ProviderDraft::parse(&input).unwrap_err();

        // Assert
        assert_eq!(
            faults(&error),
            [fault(field, ValueError::Overlaps { other })],
            "{given:?}"
        );
    }
}

#[test]
fn provider_may_list_100_ranges_but_not_101() {
    // Arrange: one-day ranges on consecutive days, all touching.
    let days = |n: usize| -> Vec<RangeInput> {
        let start = date!(2027 - 01 - 01);
        (0..n)
            .map(|i| {
                let day = (start + time::Duration::days(i as i64)).to_string();
                range(&day, &day)
            })
            .collect()
    };

    // Act
    let ok = ProviderDraft::parse(&ProviderInput {
        availability: days(100),
        ..valid_input()
    });
    let refused = ProviderDraft::parse(&ProviderInput {
        availability: days(101),
        ..valid_input()
    })
    .unwrap_err();

    // Assert
    assert_eq!(ok.unwrap().availability.ranges().len(), 100);
    assert_eq!(
        faults(&refused),
        [fault(
            "availability",
            ValueError::TooMany {
                max: 100,
                actual: 101
            }
        )]
    );
}

#[test]
fn touching_ranges_join_into_one_run() {
    // Arrange
    let available = availability(&[
        ("2027-01-03", "2027-01-04"),
        ("2027-01-01", "2027-01-02"),
        ("2027-01-06", "2027-01-06"),
    ]);

    // Act
    let runs = available.runs();

    // Assert
    assert_eq!(
        runs,
        [
            day_range("2027-01-01", "2027-01-04"),
            day_range("2027-01-06", "2027-01-06"),
        ]
    );
}

#[test]
fn a_run_ending_on_the_last_allowed_day_does_not_overflow() {
    // Arrange
    let available = availability(&[("9999-12-30", "9999-12-30"), ("9999-12-31", "9999-12-31")]);

    // Act
    let runs = available.runs();

    // Assert
    assert_eq!(runs, [day_range("9999-12-30", "9999-12-31")]);
}

// ---------------------------------------------------------------------------------------------
// Ratings and comments
// ---------------------------------------------------------------------------------------------

#[test]
fn rating_is_0_to_5_in_whole_tenths() {
    // Arrange
    let out_of_range = Err(ValueError::OutOfRange {
        min: "0".into(),
        max: "5".into(),
    });
    let cases = [
        (4.5, Ok(45)),
        (0.3, Ok(3)),
        (0.1 + 0.2, Ok(3)),
        (0.0, Ok(0)),
        (-0.0, Ok(0)),
        (5.0, Ok(50)),
        (2.7, Ok(27)),
        (4.55, Err(ValueError::NotTenths)),
        (0.05, Err(ValueError::NotTenths)),
        (4.999, Err(ValueError::NotTenths)),
        (5.1, out_of_range.clone()),
        (5.000_001, out_of_range.clone()),
        (-0.1, out_of_range.clone()),
        (f64::NAN, out_of_range.clone()),
        (f64::INFINITY, out_of_range.clone()),
        (f64::NEG_INFINITY, out_of_range),
    ];

    for (value, expected) in cases {
        // Act
        let rating = Rating::from_f64(value).map(Rating::tenths);

        // Assert
        assert_eq!(rating, expected, "rating {value}");
    }
}

#[test]
fn rating_reads_back_as_the_decimal_it_was_given() {
    for tenths in 0..=Rating::MAX_TENTHS {
        // Arrange
        let decimal = f64::from(tenths) / 10.0;

        // Act
        let rating = Rating::from_f64(decimal).unwrap();

        // Assert
        assert_eq!(rating.tenths(), tenths);
        assert_eq!(rating.as_f64(), decimal);
    }
}

#[test]
fn rating_above_50_tenths_is_refused() {
    // Act / Assert
    assert!(Rating::from_tenths(50).is_ok());
    assert!(Rating::from_tenths(51).is_err());
}

#[test]
fn rating_bound_is_any_finite_number_from_0_to_5() {
    // Arrange
    let cases = [
        (0.0, true),
        (5.0, true),
        (3.33, true),
        (-0.01, false),
        (5.01, false),
        (f64::NAN, false),
        (f64::INFINITY, false),
    ];

    for (value, ok) in cases {
        // Act
        let bound = RatingBound::new(value);

        // Assert
        assert_eq!(bound.is_ok(), ok, "bound {value}");
    }
}

#[test]
fn comment_is_trimmed_and_at_most_2000_characters() {
    // Arrange
    let cases: Vec<(String, Result<String, ValueError>)> = vec![
        ("  great work ".into(), Ok("great work".into())),
        ("".into(), Ok(String::new())),
        ("   ".into(), Ok(String::new())),
        ("€".repeat(2000), Ok("€".repeat(2000))),
        (
            "€".repeat(2001),
            Err(ValueError::TooLong {
                max: 2000,
                actual: 2001,
            }),
        ),
    ];

    for (raw, expected) in cases {
        // Act
        let comment = Comment::new(&raw);

        // Assert
        assert_eq!(
            comment.as_ref().map(Comment::as_str).map_err(Clone::clone),
            expected.as_deref().map_err(Clone::clone),
            "comment of {} chars",
            raw.chars().count()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Reporting: field paths, every fault at once
// ---------------------------------------------------------------------------------------------

#[test]
fn every_faulty_provider_field_is_reported_at_once_with_its_path() {
    // Arrange
    let input = ProviderInput {
        name: "   ".into(),
        skills: strings(&["SEO", "Design", "", &"x".repeat(101)]),
        cost_in_pence: -1,
        availability: ranges(&[
            ("2027-01-01", "2027-01-02"),
            ("2027-03-02", "2027-03-01"),
            ("2027-02-30", "1899-01-01"),
        ]),
    };

    // Act
    let error = ProviderDraft::parse(&input).unwrap_err();

    // Assert
    assert_eq!(
        faults(&error),
        [
            fault("name", ValueError::Empty),
            fault("skills[2]", ValueError::Empty),
            fault(
                "skills[3]",
                ValueError::TooLong {
                    max: 100,
                    actual: 101
                }
            ),
            fault(
                "cost_in_pence",
                ValueError::OutOfRange {
                    min: "0".into(),
                    max: "100000000000".into()
                }
            ),
            fault("availability[1].to_date", ValueError::Inverted),
            fault("availability[2].from_date", ValueError::NotADate),
            fault("availability[2].to_date", ValueError::DateOutOfRange),
        ]
    );
}

#[test]
fn an_overlap_is_reported_together_with_other_faulty_fields() {
    // Arrange
    let input = ProviderInput {
        name: String::new(),
        cost_in_pence: 100_000_000_001,
        availability: ranges(&[("2027-01-01", "2027-01-05"), ("2027-01-04", "2027-01-09")]),
        ..valid_input()
    };

    // Act
    let error = ProviderDraft::parse(&input).unwrap_err();

    // Assert
    let fields: Vec<&str> = error.fields().iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["name", "cost_in_pence", "availability[1]"]);
    assert_eq!(error.fields()[2].error, ValueError::Overlaps { other: 0 });
}

#[test]
fn validation_error_reads_as_one_sentence_naming_each_field() {
    // Arrange
    let error = ValidationError(vec![
        FieldError::new("availability[1].to_date", ValueError::Inverted),
        FieldError::new("skills[2]", ValueError::Empty),
    ]);

    // Act
    let message = error.to_string();

    // Assert
    assert_eq!(
        message,
        "the request has 2 invalid field(s): availability[1].to_date from_date must not be \
         after to_date; skills[2] must not be empty"
    );
}

#[test]
fn a_valid_provider_parses_into_its_trimmed_values() {
    // Arrange
    let input = ProviderInput {
        name: "  SEO Incorporated  ".into(),
        skills: strings(&[" SEO Optimisation", "Cold Calling "]),
        cost_in_pence: 25_000,
        availability: ranges(&[("2027-11-12", "2027-12-28")]),
    };

    // Act
    let draft = ProviderDraft::parse(&input).unwrap();

    // Assert
    assert_eq!(draft.name.as_str(), "SEO Incorporated");
    assert_eq!(
        spellings(draft.skills.as_slice()),
        ["SEO Optimisation", "Cold Calling"]
    );
    assert_eq!(draft.cost.pence(), 25_000);
    assert_eq!(
        draft.availability.ranges(),
        [day_range("2027-11-12", "2027-12-28")]
    );
}

// ---------------------------------------------------------------------------------------------
// Review statistics
// ---------------------------------------------------------------------------------------------

#[test]
fn unreviewed_provider_has_mean_zero() {
    // Act
    let mean = ReviewStats::default().mean();

    // Assert
    assert_eq!(mean, 0.0);
}

#[test]
fn mean_is_the_plain_average_of_the_ratings() {
    // Arrange
    let cases: [(&[u8], f64); 5] = [
        (&[35], 3.5),
        (&[40, 30], 3.5),
        (&[45, 40, 50], 4.5),
        (&[1, 2], 0.15),
        (&[0, 0, 0], 0.0),
    ];

    for (ratings, expected) in cases {
        // Act
        let mean = stats(ratings).mean();

        // Assert
        assert_eq!(mean, expected, "ratings {ratings:?}");
    }
}

#[test]
fn each_review_adds_one_to_the_count_and_its_tenths_to_the_sum() {
    // Act
    let after = stats(&[45, 30]);

    // Assert
    assert_eq!(
        after,
        ReviewStats {
            count: 2,
            sum_tenths: 75
        }
    );
}

#[test]
fn equal_means_compare_equal_exactly() {
    // Arrange: (a, b, expected a.cmp_mean(b))
    let cases: [(&[u8], &[u8], Ordering); 5] = [
        (&[45, 40], &[40, 45], Ordering::Equal),
        (&[10, 20], &[15], Ordering::Equal),
        (&[], &[0, 0], Ordering::Equal),
        (&[], &[1], Ordering::Less),
        (&[43, 42], &[42], Ordering::Greater),
    ];

    for (a, b, expected) in cases {
        // Act
        let order = stats(a).cmp_mean(&stats(b));

        // Assert
        assert_eq!(order, expected, "{a:?} vs {b:?}");
    }
}

#[test]
fn unreviewed_confidence_is_the_prior_of_2_5() {
    // Act
    let confidence = ReviewStats::default().confidence();

    // Assert
    assert_eq!(confidence, 2.5);
}

#[test]
fn a_single_five_ranks_below_a_4_5_average_over_200_reviews() {
    // Arrange
    let single_five = stats(&[50]);
    let many_four_and_a_half = stats(&[45; 200]);

    // Act
    let order = single_five.cmp_confidence(&many_four_and_a_half);

    // Assert
    assert_eq!(order, Ordering::Less);
    assert!(single_five.mean() > many_four_and_a_half.mean());
    assert!(single_five.confidence() < many_four_and_a_half.confidence());
}

#[test]
fn equal_confidence_fractions_compare_equal() {
    // Arrange: each gives (sum_tenths + 125) / (count + 5) == 25.
    let unreviewed = stats(&[]);
    let one_two_and_a_half = stats(&[25]);
    let five_averaging_two_and_a_half = stats(&[20, 30, 25, 10, 40]);

    // Act
    let orders = [
        unreviewed.cmp_confidence(&one_two_and_a_half),
        one_two_and_a_half.cmp_confidence(&five_averaging_two_and_a_half),
        five_averaging_two_and_a_half.cmp_confidence(&unreviewed),
    ];

    // Assert
    assert_eq!(orders, [Ordering::Equal; 3]);
}

#[test]
fn confidence_fractions_that_differ_by_little_still_compare_exactly() {
    // Arrange: 4.0 from 995 reviews vs 4.0 from 996 reviews: the larger sample is closer to 4.0.
    let fewer = stats(&[40; 995]);
    let more = stats(&[40; 996]);

    // Act
    let order = fewer.cmp_confidence(&more);

    // Assert
    assert_eq!(order, Ordering::Less);
}

#[test]
fn confidence_comparison_does_not_overflow_at_the_largest_counts() {
    // Arrange
    let huge = ReviewStats {
        count: u64::MAX,
        sum_tenths: u64::MAX,
    };
    let small = stats(&[50]);

    // Act
    let orders = [huge.cmp_confidence(&small), huge.cmp_mean(&small)];

    // Assert: a mean of 0.1 is below 5.0, and a confidence of about 0.1 below 2.9.
    assert_eq!(orders, [Ordering::Less, Ordering::Less]);
    assert!(huge.mean().is_finite() && huge.confidence().is_finite());
}

// ---------------------------------------------------------------------------------------------
// Search
// ---------------------------------------------------------------------------------------------

#[test]
fn empty_search_selects_every_provider() {
    // Arrange
    let mut unreviewed_and_unavailable = provider(1, 0);
    unreviewed_and_unavailable.skills = Skills::default();
    unreviewed_and_unavailable.availability = Availability::default();
    let mut top_rated = provider(2, DayRate::MAX_PENCE);
    top_rated.reviews = stats(&[50, 50]);

    // Act
    let filter = search(SearchInput::default());

    // Assert
    assert_eq!(filter, SearchFilter::default());
    assert!(filter.matches(&unreviewed_and_unavailable));
    assert!(filter.matches(&top_rated));
}

#[test]
fn search_name_is_a_case_insensitive_trimmed_substring() {
    // Arrange
    let seo = provider(1, 100);
    let cases = [
        ("SEO Incorporated", true),
        ("seo inc", true),
        ("  INCORPORATED  ", true),
        ("o I", true),
        ("", true),
        ("   ", true),
        ("Incorporated SEO", false),
        ("SEO  Inc", false),
        ("Plumbing", false),
    ];

    for (needle, expected) in cases {
        // Act
        let filter = search(SearchInput {
            name: Some(needle.into()),
            ..SearchInput::default()
        });

        // Assert
        assert_eq!(filter.matches(&seo), expected, "name {needle:?}");
    }
}

#[test]
fn search_name_longer_than_a_name_is_refused() {
    // Act
    let error = SearchFilter::parse(&SearchInput {
        name: Some("a".repeat(201)),
        ..SearchInput::default()
    })
    .unwrap_err();

    // Assert
    assert_eq!(
        faults(&error),
        [fault(
            "name",
            ValueError::TooLong {
                max: 200,
                actual: 201
            }
        )]
    );
}

#[test]
fn search_skills_match_any_of_them_case_insensitively_and_exactly() {
    // Arrange
    let mut seo = provider(1, 100);
    seo.skills = skills(&["SEO Optimisation", "Cold Calling"]);
    let cases: [(&[&str], bool); 7] = [
        (&[], true),
        (&["Cold Calling"], true),
        (&["cold CALLING"], true),
        (&["Plumbing", "seo optimisation"], true),
        (&["Plumbing"], false),
        (&["Cold"], false),
        (&["SEO"], false),
    ];

    for (wanted, expected) in cases {
        // Act
        let filter = search(SearchInput {
            skills: Some(strings(wanted)),
            ..SearchInput::default()
        });

        // Assert
        assert_eq!(filter.matches(&seo), expected, "skills {wanted:?}");
    }
}

#[test]
fn search_for_skills_excludes_a_provider_with_none() {
    // Arrange
    let mut unskilled = provider(1, 100);
    unskilled.skills = Skills::default();

    // Act
    let filter = search(SearchInput {
        skills: Some(strings(&["SEO Optimisation"])),
        ..SearchInput::default()
    });

    // Assert
    assert!(!filter.matches(&unskilled));
}

#[test]
fn search_cost_bounds_are_strict() {
    // Arrange
    let hundred = provider(1, 100);
    let cases = [
        (Some(99), None, true),
        (Some(100), None, false),
        (None, Some(101), true),
        (None, Some(100), false),
        (Some(99), Some(101), true),
        (Some(-1), None, true),
    ];

    for (cost_gt, cost_lt, expected) in cases {
        // Act
        let filter = search(SearchInput {
            cost_gt,
            cost_lt,
            ..SearchInput::default()
        });

        // Assert
        assert_eq!(
            filter.matches(&hundred),
            expected,
            "cost_gt {cost_gt:?} cost_lt {cost_lt:?}"
        );
    }
}

#[test]
fn search_cost_gt_not_below_cost_lt_is_refused() {
    // Arrange
    let cases = [(100, 100, false), (101, 100, false), (99, 100, true)];

    for (cost_gt, cost_lt, ok) in cases {
        // Act
        let parsed = SearchFilter::parse(&SearchInput {
            cost_gt: Some(cost_gt),
            cost_lt: Some(cost_lt),
            ..SearchInput::default()
        });

        // Assert
        match parsed {
            Ok(_) => assert!(ok, "{cost_gt} >= {cost_lt} must be refused"),
            Err(error) => {
                assert!(!ok, "{cost_gt} < {cost_lt} must be accepted");
                assert_eq!(
                    faults(&error),
                    [fault("cost_gt", ValueError::NotBelow { other: "cost_lt" })]
                );
            }
        }
    }
}

#[test]
fn search_review_bounds_are_inclusive() {
    // Arrange: mean 3.5
    let mut rated = provider(1, 100);
    rated.reviews = stats(&[30, 40]);
    let cases = [
        (Some(3.5), None, true),
        (None, Some(3.5), true),
        (Some(3.5), Some(3.5), true),
        (Some(3.6), None, false),
        (None, Some(3.4), false),
        (Some(0.0), Some(5.0), true),
    ];

    for (reviews_gt, reviews_lt, expected) in cases {
        // Act
        let filter = search(SearchInput {
            reviews_gt,
            reviews_lt,
            ..SearchInput::default()
        });

        // Assert
        assert_eq!(
            filter.matches(&rated),
            expected,
            "reviews_gt {reviews_gt:?} reviews_lt {reviews_lt:?}"
        );
    }
}

#[test]
fn search_review_bounds_default_to_0_and_5() {
    // Arrange
    let unreviewed = provider(1, 100);
    let mut perfect = provider(2, 100);
    perfect.reviews = stats(&[50]);

    // Act
    let filter = search(SearchInput::default());

    // Assert
    assert_eq!(filter.reviews_gt().value(), 0.0);
    assert_eq!(filter.reviews_lt().value(), 5.0);
    assert!(filter.matches(&unreviewed));
    assert!(filter.matches(&perfect));
}

#[test]
fn search_unreviewed_provider_counts_as_zero() {
    // Arrange
    let unreviewed = provider(1, 100);

    // Act
    let above_zero = search(SearchInput {
        reviews_gt: Some(0.1),
        ..SearchInput::default()
    });
    let at_most_zero = search(SearchInput {
        reviews_lt: Some(0.0),
        ..SearchInput::default()
    });

    // Assert
    assert!(!above_zero.matches(&unreviewed));
    assert!(at_most_zero.matches(&unreviewed));
}

#[test]
fn search_review_bounds_out_of_order_or_range_are_refused() {
    // Arrange
    let out_of_range = ValueError::OutOfRange {
        min: "0".into(),
        max: "5".into(),
    };
    let cases = [
        (
            Some(4.0),
            Some(3.0),
            vec![fault(
                "reviews_gt",
                ValueError::Above {
                    other: "reviews_lt",
                },
            )],
        ),
        (
            Some(5.5),
            None,
            vec![fault("reviews_gt", out_of_range.clone())],
        ),
        (
            None,
            Some(-1.0),
            vec![fault("reviews_lt", out_of_range.clone())],
        ),
        (
            Some(f64::NAN),
            None,
            vec![fault("reviews_gt", out_of_range)],
        ),
        (Some(3.0), Some(3.0), vec![]),
    ];

    for (reviews_gt, reviews_lt, expected) in cases {
        // Act
        let parsed = SearchFilter::parse(&SearchInput {
            reviews_gt,
            reviews_lt,
            ..SearchInput::default()
        });

        // Assert
        let got = parsed.map_or_else(|e| faults(&e), |_| Vec::new());
        assert_eq!(
            got, expected,
            "reviews_gt {reviews_gt:?} reviews_lt {reviews_lt:?}"
        );
    }
}

#[test]
fn search_availability_needs_a_day_inside_every_window() {
    // Arrange: available 01-01..=01-10 and 03-01..=03-05
    let mut seo = provider(1, 100);
    seo.availability = availability(&[("2027-01-01", "2027-01-10"), ("2027-03-01", "2027-03-05")]);
    let cases: [(&[(&str, &str)], bool); 8] = [
        (&[], true),
        (&[("2027-01-05", "2027-01-06")], true),
        (&[("2027-01-11", "2027-02-28")], false),
        (&[("2026-12-31", "2026-12-31")], false),
        (&[("2027-01-10", "2027-01-20")], true),
        (&[("2027-02-20", "2027-03-01")], true),
        (
            &[("2027-01-10", "2027-01-20"), ("2027-02-20", "2027-03-01")],
            true,
        ),
        (
            &[("2027-01-01", "2027-01-02"), ("2027-02-01", "2027-02-02")],
            false,
        ),
    ];

    for (windows, expected) in cases {
        // Act
        let filter = search(SearchInput {
            availability: Some(ranges(windows)),
            ..SearchInput::default()
        });

        // Assert
        assert_eq!(filter.matches(&seo), expected, "windows {windows:?}");
    }
}

#[test]
fn search_window_touching_a_range_last_day_counts() {
    // Arrange
    let mut seo = provider(1, 100);
    seo.availability = availability(&[("2027-01-01", "2027-01-10")]);

    // Act
    let filter = search(SearchInput {
        availability: Some(ranges(&[("2027-01-10", "2027-01-10")])),
        ..SearchInput::default()
    });

    // Assert
    assert!(filter.matches(&seo));
}

#[test]
fn search_window_excludes_a_provider_with_no_availability() {
    // Arrange
    let mut unavailable = provider(1, 100);
    unavailable.availability = Availability::default();

    // Act
    let filter = search(SearchInput {
        availability: Some(ranges(&[("1900-01-01", "9999-12-31")])),
        ..SearchInput::default()
    });

    // Assert
    assert!(!filter.matches(&unavailable));
}

#[test]
fn search_reports_every_faulty_field_at_once() {
    // Arrange
    let input = SearchInput {
        name: Some("x".repeat(201)),
        skills: Some(strings(&["SEO", " "])),
        cost_gt: Some(10),
        cost_lt: Some(5),
        reviews_gt: Some(6.0),
        reviews_lt: None,
        availability: Some(ranges(&[
            ("2027-01-01", "2027-01-02"),
            ("2027-01-05", "2027-01-04"),
        ])),
    };

    // Act
    let error = SearchFilter::parse(&input).unwrap_err();

    // Assert
    let fields: Vec<&str> = error.fields().iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "name",
            "skills[1]",
            "cost_gt",
            "reviews_gt",
            "availability[1].to_date"
        ]
    );
}

#[test]
fn search_refuses_more_than_20_windows_and_50_skills() {
    // Arrange
    let input = SearchInput {
        skills: Some((0..51).map(|i| format!("skill {i}")).collect()),
        availability: Some(vec![range("2027-01-01", "2027-01-01"); 21]),
        ..SearchInput::default()
    };

    // Act
    let error = SearchFilter::parse(&input).unwrap_err();

    // Assert
    assert_eq!(
        faults(&error),
        [
            fault(
                "skills",
                ValueError::TooMany {
                    max: 50,
                    actual: 51
                }
            ),
            fault(
                "availability",
                ValueError::TooMany {
                    max: 20,
                    actual: 21
                }
            ),
        ]
    );
}

#[test]
fn search_order_puts_the_higher_cost_first() {
    // Arrange
    let mut cheap_but_loved = provider(1, 100);
    cheap_but_loved.reviews = stats(&[50]);
    let dear = provider(2, 101);

    // Act
    let order = search_order(&dear, &cheap_but_loved);

    // Assert
    assert_eq!(order, Ordering::Less);
}

#[test]
fn search_order_puts_the_higher_mean_first_at_equal_cost() {
    // Arrange
    let mut fair = provider(1, 100);
    fair.reviews = stats(&[40, 45]);
    let mut good = provider(2, 100);
    good.reviews = stats(&[43]);

    // Act
    let order = search_order(&good, &fair);

    // Assert
    assert_eq!(order, Ordering::Less);
}

#[test]
fn search_order_puts_the_lower_id_first_at_equal_cost_and_mean() {
    // Arrange: equal means from different counts.
    let mut later = provider(2, 100);
    later.reviews = stats(&[45]);
    let mut earlier = provider(1, 100);
    earlier.reviews = stats(&[40, 50]);

    // Act
    let order = search_order(&earlier, &later);

    // Assert
    assert_eq!(order, Ordering::Less);
    assert_eq!(search_order(&earlier, &earlier), Ordering::Equal);
}

#[test]
fn search_order_sorts_a_page_as_api_md_says() {
    // Arrange
    let mut a = provider(3, 500);
    a.reviews = stats(&[30]);
    let mut b = provider(2, 500);
    b.reviews = stats(&[30]);
    let mut c = provider(1, 500);
    c.reviews = stats(&[40]);
    let d = provider(4, 900);
    let e = provider(5, 10);
    let mut page = [e, a, d, c, b];

    // Act
    page.sort_by(search_order);

    // Assert
    let ids: Vec<ProviderId> = page.iter().map(|p| p.id).collect();
    assert_eq!(ids, [id(4), id(1), id(2), id(3), id(5)]);
}

// ---------------------------------------------------------------------------------------------
// Recommend: parsing the job
// ---------------------------------------------------------------------------------------------

#[test]
fn job_without_required_fields_reports_each_of_them() {
    // Act
    let error = JobRequest::parse(&JobInput::default()).unwrap_err();

    // Assert
    assert_eq!(
        faults(&error),
        [
            fault("job_budget_in_pence", ValueError::Required),
            fault("skills", ValueError::Required),
            fault("availability", ValueError::Required),
        ]
    );
}

#[test]
fn job_duration_defaults_to_one_day_and_minimum_rating_to_zero() {
    // Act
    let job = job(JobInput {
        expected_job_duration_in_days: None,
        minimum_review_rating: None,
        ..valid_job()
    });

    // Assert
    assert_eq!(job.duration(), 1);
    assert_eq!(job.minimum_rating().value(), 0.0);
}

#[test]
fn job_fields_out_of_range_are_refused_at_their_paths() {
    // Arrange: (change to a valid job, expected faults)
    let too_small = ValueError::TooSmall { min: "1".into() };
    let cases: Vec<(JobInput, Vec<(String, ValueError)>)> = vec![
        (
            JobInput {
                job_budget_in_pence: Some(0),
                ..valid_job()
            },
            vec![fault("job_budget_in_pence", too_small.clone())],
        ),
        (
            JobInput {
                job_budget_in_pence: Some(-5),
                ..valid_job()
            },
            vec![fault("job_budget_in_pence", too_small.clone())],
        ),
        (
            JobInput {
                expected_job_duration_in_days: Some(0),
                ..valid_job()
            },
            vec![fault("expected_job_duration_in_days", too_small)],
        ),
        (
            JobInput {
                skills: Some(Vec::new()),
                ..valid_job()
            },
            vec![fault("skills", ValueError::TooFew { min: 1 })],
        ),
        (
            JobInput {
                skills: Some((0..51).map(|i| format!("s{i}")).collect()),
                ..valid_job()
            },
            vec![fault(
                "skills",
                ValueError::TooMany {
                    max: 50,
                    actual: 51,
                },
            )],
        ),
        (
            JobInput {
                skills: Some(strings(&["SEO", ""])),
                ..valid_job()
            },
            vec![fault("skills[1]", ValueError::Empty)],
        ),
        (
            JobInput {
                availability: Some(Vec::new()),
                ..valid_job()
            },
            vec![fault("availability", ValueError::TooFew { min: 1 })],
        ),
        (
            JobInput {
                availability: Some(vec![range("2027-01-01", "2027-01-01"); 21]),
                ..valid_job()
            },
            vec![fault(
                "availability",
                ValueError::TooMany {
                    max: 20,
                    actual: 21,
                },
            )],
        ),
        (
            JobInput {
                availability: Some(ranges(&[("2027-01-01", "2027-01-01"), ("2027-01-02", "x")])),
                ..valid_job()
            },
            vec![fault("availability[1].to_date", ValueError::NotADate)],
        ),
        (
            JobInput {
                minimum_review_rating: Some(5.1),
                ..valid_job()
            },
            vec![fault(
                "minimum_review_rating",
                ValueError::OutOfRange {
                    min: "0".into(),
                    max: "5".into(),
                },
            )],
        ),
    ];

    for (input, expected) in cases {
        // Act
        let error = JobRequest::parse(&input).unwrap_err();

        // Assert
        assert_eq!(faults(&error), expected, "{input:?}");
    }
}

#[test]
fn a_window_shorter_than_the_job_is_refused_at_its_index() {
    // Arrange
    let input = JobInput {
        expected_job_duration_in_days: Some(3),
        availability: Some(ranges(&[
            ("2027-01-01", "2027-01-03"),
            ("2027-02-01", "2027-02-02"),
            ("2027-03-01", "2027-03-01"),
        ])),
        ..valid_job()
    };

    // Act
    let error = JobRequest::parse(&input).unwrap_err();

    // Assert
    assert_eq!(
        faults(&error),
        [
            fault(
                "availability[1]",
                ValueError::WindowShorterThanJob {
                    days: 2,
                    duration: 3
                }
            ),
            fault(
                "availability[2]",
                ValueError::WindowShorterThanJob {
                    days: 1,
                    duration: 3
                }
            ),
        ]
    );
}

#[test]
fn a_window_exactly_as_long_as_the_job_is_accepted() {
    // Act
    let job = JobRequest::parse(&JobInput {
        expected_job_duration_in_days: Some(3),
        availability: Some(ranges(&[("2027-01-01", "2027-01-03")])),
        ..valid_job()
    });

    // Assert
    assert!(job.is_ok());
}

#[test]
fn a_job_longer_than_any_possible_window_is_refused_not_overflowed() {
    // Act
    let error = JobRequest::parse(&JobInput {
        expected_job_duration_in_days: Some(i64::MAX),
        availability: Some(ranges(&[("1900-01-01", "9999-12-31")])),
        ..valid_job()
    })
    .unwrap_err();

    // Assert
    assert_eq!(
        faults(&error),
        [fault(
            "availability[0]",
            ValueError::WindowShorterThanJob {
                days: 2_958_464,
                duration: i64::MAX
            }
        )]
    );
}

// ---------------------------------------------------------------------------------------------
// Recommend: the four rules
// ---------------------------------------------------------------------------------------------

#[test]
fn a_budget_exactly_equal_to_cost_times_duration_affords_the_provider() {
    // Arrange
    let dear = provider(1, 1_000);
    let job = job(JobInput {
        job_budget_in_pence: Some(3_000),
        expected_job_duration_in_days: Some(3),
        ..valid_job()
    });

    // Act
    let affords = job.affords(&dear);

    // Assert
    assert!(affords);
    assert!(job.evaluate(&dear).is_some());
}

#[test]
fn a_budget_one_pence_short_does_not_afford_the_provider() {
    // Arrange
    let dear = provider(1, 1_000);
    let job = job(JobInput {
        job_budget_in_pence: Some(2_999),
        expected_job_duration_in_days: Some(3),
        ..valid_job()
    });

    // Act
    let affords = job.affords(&dear);

    // Assert
    assert!(!affords);
    assert!(job.evaluate(&dear).is_none());
    assert_eq!(job.max_day_rate(), 999);
}

#[test]
fn a_free_provider_is_always_affordable() {
    // Arrange
    let free = provider(1, 0);
    let job = job(JobInput {
        job_budget_in_pence: Some(1),
        ..valid_job()
    });

    // Act / Assert
    assert!(job.affords(&free));
}

#[test]
fn affordability_is_exact_at_the_largest_numbers() {
    // Arrange: the longest possible job at the highest day rate.
    let days = 2_958_464;
    let dearest = provider(1, DayRate::MAX_PENCE);
    let whole_calendar_job = |budget: i64| {
        job(JobInput {
            job_budget_in_pence: Some(budget),
            expected_job_duration_in_days: Some(days),
            availability: Some(ranges(&[("1900-01-01", "9999-12-31")])),
            ..valid_job()
        })
    };
    let exact = whole_calendar_job(DayRate::MAX_PENCE * days);
    let short = whole_calendar_job(DayRate::MAX_PENCE * days - 1);
    let unlimited = whole_calendar_job(i64::MAX);

    // Act
    let affords = [&exact, &short, &unlimited].map(|j| j.affords(&dearest));

    // Assert
    assert_eq!(affords, [true, false, true]);
    assert_eq!(exact.max_day_rate(), DayRate::MAX_PENCE);
}

#[test]
fn touching_ranges_form_one_run_for_a_job() {
    // Arrange: 01-01..=01-02 and 01-03..=01-04 are one run of 4 days.
    let mut seo = provider(1, 100);
    seo.availability = availability(&[("2027-01-03", "2027-01-04"), ("2027-01-01", "2027-01-02")]);
    let window = [("2027-01-01", "2027-01-31")];

    // Act
    let four = job_for_days(4, &window).fits_schedule(&seo);
    let five = job_for_days(5, &window).fits_schedule(&seo);

    // Assert
    assert!(four);
    assert!(!five);
    assert_eq!(
        seo.availability
            .longest_run_within(&day_range("2027-01-01", "2027-01-31")),
        4
    );
}

#[test]
fn a_gap_of_one_day_breaks_the_run() {
    // Arrange
    let mut seo = provider(1, 100);
    seo.availability = availability(&[("2027-01-01", "2027-01-02"), ("2027-01-04", "2027-01-05")]);

    // Act
    let three = job_for_days(3, &[("2027-01-01", "2027-01-31")]).fits_schedule(&seo);

    // Assert
    assert!(!three);
}

#[test]
fn a_run_crossing_a_window_edge_counts_only_the_days_inside() {
    // Arrange: available 01-01..=01-10; window 01-08..=01-20 holds 3 of those days, and the
    // window 2026-12-25..=01-02 holds 2 at its other edge.
    let mut seo = provider(1, 100);
    seo.availability = availability(&[("2027-01-01", "2027-01-10")]);
    let cases = [
        (("2027-01-08", "2027-01-20"), 3, true),
        (("2027-01-08", "2027-01-20"), 4, false),
        (("2026-12-25", "2027-01-02"), 2, true),
        (("2026-12-25", "2027-01-02"), 3, false),
    ];

    for ((from, to), days, expected) in cases {
        // Act
        let fits = job_for_days(days, &[(from, to)]).fits_schedule(&seo);

        // Assert
        assert_eq!(fits, expected, "{days} days in {from}..={to}");
    }
}

#[test]
fn a_run_must_fit_inside_one_window() {
    // Arrange: a 10-day run, but each window holds only 2 of its days.
    let mut seo = provider(1, 100);
    seo.availability = availability(&[("2027-01-01", "2027-01-10")]);
    let windows = [("2026-12-01", "2027-01-02"), ("2027-01-09", "2027-02-01")];

    // Act
    let two = job_for_days(2, &windows).fits_schedule(&seo);
    let three = job_for_days(3, &windows).fits_schedule(&seo);

    // Assert
    assert!(two);
    assert!(!three);
}

#[test]
fn consecutive_one_day_ranges_form_a_run() {
    // Arrange
    let mut seo = provider(1, 100);
    seo.availability = availability(&[
        ("2027-01-03", "2027-01-03"),
        ("2027-01-01", "2027-01-01"),
        ("2027-01-02", "2027-01-02"),
        ("2027-01-05", "2027-01-05"),
    ]);
    let window = [("2027-01-01", "2027-01-31")];

    // Act
    let three = job_for_days(3, &window).fits_schedule(&seo);
    let four = job_for_days(4, &window).fits_schedule(&seo);

    // Assert
    assert!(three);
    assert!(!four);
}

#[test]
fn a_one_day_range_fits_a_one_day_job_in_a_one_day_window() {
    // Arrange
    let mut seo = provider(1, 100);
    seo.availability = availability(&[("2027-06-15", "2027-06-15")]);

    // Act
    let same_day = job_for_days(1, &[("2027-06-15", "2027-06-15")]).fits_schedule(&seo);
    let next_day = job_for_days(1, &[("2027-06-16", "2027-06-16")]).fits_schedule(&seo);

    // Assert
    assert!(same_day);
    assert!(!next_day);
}

#[test]
fn a_provider_with_no_availability_fits_no_job() {
    // Arrange
    let mut unavailable = provider(1, 100);
    unavailable.availability = Availability::default();

    // Act
    let fits = job_for_days(1, &[("1900-01-01", "9999-12-31")]).fits_schedule(&unavailable);

    // Assert
    assert!(!fits);
}

#[test]
fn matched_skills_use_the_provider_spelling_and_order() {
    // Arrange
    let mut seo = provider(1, 100);
    seo.skills = skills(&["Plumbing", "SEO Optimisation", "Cold Calling"]);
    let job = job(JobInput {
        skills: Some(strings(&["cold calling", "Gardening", "seo OPTIMISATION"])),
        ..valid_job()
    });

    // Act
    let matched = job.matched_skills(&seo);
    let recommended = job.evaluate(&seo).unwrap();

    // Assert
    assert_eq!(spellings(&matched), ["SEO Optimisation", "Cold Calling"]);
    assert_eq!(recommended.matched_skills, matched);
    assert_eq!(recommended.provider, seo);
}

#[test]
fn a_provider_without_a_requested_skill_is_not_recommended() {
    // Arrange
    let mut plumber = provider(1, 100);
    plumber.skills = skills(&["Plumbing"]);

    // Act
    let recommended = job(valid_job()).evaluate(&plumber);

    // Assert
    assert!(recommended.is_none());
}

#[test]
fn minimum_review_rating_is_inclusive() {
    // Arrange: mean 4.0
    let mut rated = provider(1, 100);
    rated.reviews = stats(&[35, 45]);
    let cases = [(4.0, true), (3.9, true), (4.1, false), (5.0, false)];

    for (minimum, expected) in cases {
        // Act
        let recommended = job(JobInput {
            minimum_review_rating: Some(minimum),
            ..valid_job()
        })
        .evaluate(&rated);

        // Assert
        assert_eq!(recommended.is_some(), expected, "minimum {minimum}");
    }
}

#[test]
fn unreviewed_provider_passes_minimum_rating_0_and_fails_0_1() {
    // Arrange
    let unreviewed = provider(1, 100);

    // Act
    let at_zero = job(JobInput {
        minimum_review_rating: Some(0.0),
        ..valid_job()
    })
    .evaluate(&unreviewed);
    let at_a_tenth = job(JobInput {
        minimum_review_rating: Some(0.1),
        ..valid_job()
    })
    .evaluate(&unreviewed);

    // Assert
    assert!(at_zero.is_some());
    assert!(at_a_tenth.is_none());
}

// ---------------------------------------------------------------------------------------------
// Recommend: the ranking
// ---------------------------------------------------------------------------------------------

#[test]
fn ranking_puts_more_matched_skills_first() {
    // Arrange: fewer skills but dearer, better rated and reviewed more.
    let mut one_skill = provider(1, 900);
    one_skill.reviews = stats(&[50; 20]);
    let one_skill = recommendation(one_skill, &["SEO Optimisation"]);
    let two_skills = recommendation(provider(2, 100), &["SEO Optimisation", "Cold Calling"]);

    // Act
    let order = recommendation_order(&two_skills, &one_skill);

    // Assert
    assert_eq!(order, Ordering::Less);
}

#[test]
fn ranking_puts_the_higher_cost_first_at_equal_skills() {
    // Arrange
    let mut cheap = provider(1, 100);
    cheap.reviews = stats(&[50; 20]);
    let cheap = recommendation(cheap, &["SEO Optimisation"]);
    let dear = recommendation(provider(2, 101), &["SEO Optimisation"]);

    // Act
    let order = recommendation_order(&dear, &cheap);

    // Assert
    assert_eq!(order, Ordering::Less);
}

#[test]
fn ranking_puts_the_higher_confidence_first_at_equal_skills_and_cost() {
    // Arrange: one 5.0 review against two hundred 4.5s (which also have more reviews, but
    // confidence decides first: compare with a higher confidence from fewer reviews too).
    let mut single_five = provider(1, 100);
    single_five.reviews = stats(&[50]);
    let mut many_good = provider(2, 100);
    many_good.reviews = stats(&[45; 200]);
    let mut few_great = provider(3, 100);
    few_great.reviews = stats(&[50; 10]);
    let mut many_poor = provider(4, 100);
    many_poor.reviews = stats(&[10; 50]);
    let [single_five, many_good, few_great, many_poor] =
        [single_five, many_good, few_great, many_poor]
            .map(|p| recommendation(p, &["SEO Optimisation"]));

    // Act
    let orders = [
        recommendation_order(&many_good, &single_five),
        recommendation_order(&few_great, &many_poor),
    ];

    // Assert
    assert_eq!(orders, [Ordering::Less, Ordering::Less]);
}

#[test]
fn ranking_puts_more_reviews_first_at_equal_confidence() {
    // Arrange: both have confidence exactly 2.5.
    let unreviewed = recommendation(provider(1, 100), &["SEO Optimisation"]);
    let mut reviewed = provider(2, 100);
    reviewed.reviews = stats(&[25]);
    let reviewed = recommendation(reviewed, &["SEO Optimisation"]);

    // Act
    let order = recommendation_order(&reviewed, &unreviewed);

    // Assert
    assert_eq!(order, Ordering::Less);
}

#[test]
fn ranking_puts_the_lower_id_first_when_all_else_is_equal() {
    // Arrange
    let mut later = provider(2, 100);
    later.reviews = stats(&[40]);
    let later = recommendation(later, &["Cold Calling"]);
    let mut earlier = provider(1, 100);
    earlier.reviews = stats(&[40]);
    let earlier = recommendation(earlier, &["SEO Optimisation"]);

    // Act
    let order = recommendation_order(&earlier, &later);

    // Assert
    assert_eq!(order, Ordering::Less);
    assert_eq!(recommendation_order(&earlier, &earlier), Ordering::Equal);
}

#[test]
fn recommend_end_to_end_keeps_suitable_providers_in_ranked_order() {
    // Arrange
    let job = job(JobInput {
        job_budget_in_pence: Some(10_000),
        expected_job_duration_in_days: Some(2),
        skills: Some(strings(&["seo optimisation", "cold calling"])),
        availability: Some(ranges(&[("2027-01-01", "2027-01-31")])),
        minimum_review_rating: Some(3.0),
    });
    let mut both_skills = provider(5, 1_000);
    both_skills.reviews = stats(&[40]);
    let mut dear = provider(4, 5_000);
    dear.skills = skills(&["SEO Optimisation"]);
    dear.reviews = stats(&[30]);
    let mut too_dear = provider(3, 5_001);
    too_dear.reviews = stats(&[50]);
    let mut poorly_rated = provider(2, 100);
    poorly_rated.reviews = stats(&[29]);
    let mut away = provider(1, 100);
    away.reviews = stats(&[50]);
    away.availability = availability(&[("2027-01-31", "2027-02-10")]);
    let providers = [away, poorly_rated, too_dear, dear, both_skills];

    // Act
    let mut recommended: Vec<Recommendation> =
        providers.iter().filter_map(|p| job.evaluate(p)).collect();
    recommended.sort_by(recommendation_order);

    // Assert
    let ids: Vec<ProviderId> = recommended.iter().map(|r| r.provider.id).collect();
    assert_eq!(ids, [id(5), id(4)]);
}
