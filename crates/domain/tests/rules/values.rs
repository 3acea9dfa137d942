//! Ratings, rating bounds and comments.

use provider_domain::{Comment, Rating, RatingBound, ValueError};

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

#[test]
fn a_rating_exactly_a_billionth_of_a_tenth_from_a_whole_tenth_is_accepted() {
    // Arrange: 1e-10 is 1e-9 tenths, and 1e-10 * 10.0 is exactly the double nearest 1e-9, the
    // tolerance `from_f64` documents ("anything not within a billionth of a tenth is refused").
    let at_the_tolerance = 1e-10;
    let past_it = 3e-10;

    // Act
    let accepted = Rating::from_f64(at_the_tolerance);
    let refused = Rating::from_f64(past_it);

    // Assert
    assert_eq!(accepted.map(Rating::tenths), Ok(0));
    assert_eq!(refused, Err(ValueError::NotTenths));
}
