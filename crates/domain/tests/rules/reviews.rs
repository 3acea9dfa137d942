//! Review statistics: the plain mean and the confidence-weighted rating.

use crate::helpers::stats;
use provider_domain::ReviewStats;
use std::cmp::Ordering;

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
