//! Dates, date ranges and availability.

use crate::helpers::{availability, day_range, fault, faults, range, ranges, valid_input, Days};
use provider_domain::{
    parse_date, Availability, DateRange, ProviderDraft, ProviderInput, RangeInput, ValueError,
};
use time::macros::date;

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
        ("+999-03-01", Err(ValueError::NotADate)),
        ("-999-03-01", Err(ValueError::NotADate)),
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

#[test]
fn availability_is_empty_exactly_when_no_range_is_listed() {
    // Arrange
    let none = Availability::default();
    let one_day = availability(&[("2027-01-01", "2027-01-01")]);

    // Act / Assert
    assert!(none.is_empty());
    assert!(!one_day.is_empty());
}
