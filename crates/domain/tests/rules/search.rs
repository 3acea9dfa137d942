//! The search filter and its order.

use crate::helpers::{
    availability, day_range, fault, faults, id, provider, range, ranges, search, skills, stats,
    strings,
};
use provider_domain::{
    search_order, Availability, DayRate, ProviderId, SearchFilter, SearchInput, Skills, ValueError,
};
use std::cmp::Ordering;

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
fn search_accepts_20_windows_50_skills_and_a_name_as_long_as_a_name() {
    // Arrange
    let input = SearchInput {
        name: Some("n".repeat(200)),
        skills: Some((0..50).map(|i| format!("skill {i}")).collect()),
        availability: Some(vec![range("2027-01-01", "2027-01-01"); 20]),
        ..SearchInput::default()
    };

    // Act
    let filter = SearchFilter::parse(&input);

    // Assert
    assert!(filter.is_ok(), "{filter:?}");
}

#[test]
fn a_checked_search_reads_back_what_it_filters_by() {
    // Arrange
    let input = SearchInput {
        name: Some("  SEO Inc ".into()),
        skills: Some(strings(&["Cold Calling", "cold calling", "SEO"])),
        cost_gt: Some(100),
        cost_lt: Some(5_000),
        reviews_gt: Some(1.5),
        reviews_lt: Some(4.5),
        availability: Some(ranges(&[
            ("2027-02-01", "2027-02-28"),
            ("2027-01-01", "2027-01-31"),
        ])),
    };

    // Act
    let filter = search(input);

    // Assert: the name as its trimmed lower-case needle, skills without repeats, windows in
    // the order given.
    assert_eq!(filter.name_key(), Some("seo inc"));
    assert_eq!(filter.skills(), &skills(&["Cold Calling", "SEO"]));
    assert_eq!(filter.cost_gt(), Some(100));
    assert_eq!(filter.cost_lt(), Some(5_000));
    assert_eq!(filter.reviews_gt().value(), 1.5);
    assert_eq!(filter.reviews_lt().value(), 4.5);
    assert_eq!(
        filter.windows(),
        [
            day_range("2027-02-01", "2027-02-28"),
            day_range("2027-01-01", "2027-01-31"),
        ]
    );
}

#[test]
fn an_empty_search_reads_back_as_filtering_by_nothing() {
    // Act
    let filter = search(SearchInput {
        name: Some("   ".into()),
        ..SearchInput::default()
    });

    // Assert
    assert_eq!(filter.name_key(), None);
    assert!(filter.skills().is_empty());
    assert_eq!(filter.cost_gt(), None);
    assert_eq!(filter.cost_lt(), None);
    assert_eq!(filter.reviews_gt().value(), 0.0);
    assert_eq!(filter.reviews_lt().value(), 5.0);
    assert!(filter.windows().is_empty());
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
