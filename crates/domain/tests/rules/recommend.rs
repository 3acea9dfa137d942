//! Recommend: parsing the job and the four rules.

use crate::helpers::{
    availability, day_range, fault, faults, job, job_for_days, provider, range, ranges, skills,
    spellings, stats, strings, valid_job,
};
use provider_domain::{Availability, DayRate, JobInput, JobRequest, ValueError};

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
fn windows_are_held_against_the_job_only_once_every_window_parses() {
    // Arrange: the second window is too short for the job, but the first does not parse, so
    // the windows that did parse no longer line up with the indexes given; a length reported
    // now could name the wrong window.
    let input = JobInput {
        expected_job_duration_in_days: Some(3),
        availability: Some(ranges(&[
            ("2027-02-30", "2027-03-10"),
            ("2027-04-01", "2027-04-02"),
        ])),
        ..valid_job()
    };

    // Act
    let error = JobRequest::parse(&input).unwrap_err();

    // Assert
    assert_eq!(
        faults(&error),
        [fault("availability[0].from_date", ValueError::NotADate)]
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
