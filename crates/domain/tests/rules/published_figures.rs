//! Only published reviews count: a provider's figures are those of its published reviews, and
//! each transition says whether (and by how much) they change.

use crate::helpers::stats;
use provider_domain::{
    figures, Contribution, Figures, FiguresChange, FiguresDelta, Rating, ReviewStats, ReviewStatus,
    Skill, SkillRating, SkillReviews, StatsDelta,
};

fn rated(skill: &str, tenths: u8) -> SkillRating {
    SkillRating {
        skill: Skill::new(skill).unwrap(),
        rating: Rating::from_tenths(tenths).unwrap(),
    }
}

fn review(tenths: u8, skills: &[SkillRating]) -> Contribution<'_> {
    Contribution {
        rating: Rating::from_tenths(tenths).unwrap(),
        skill_ratings: skills,
    }
}

#[test]
fn only_published_reviews_count_in_a_providers_figures() {
    // Arrange
    let seo = [rated("SEO", 40)];
    let both = [rated("seo", 20), rated("Design", 50)];
    let reviews = [
        (ReviewStatus::Published, review(45, &seo)),
        (ReviewStatus::Pending, review(10, &seo)),
        (ReviewStatus::Hidden, review(0, &both)),
        (ReviewStatus::Published, review(30, &both)),
    ];

    // Act
    let result = figures(reviews);

    // Assert
    assert_eq!(result.reviews, stats(&[45, 30]));
    assert_eq!(
        result.skill_reviews,
        SkillReviews::new([
            ("seo".to_owned(), stats(&[40, 20])),
            ("design".to_owned(), stats(&[50])),
        ])
    );
}

#[test]
fn a_provider_without_published_reviews_has_no_figures() {
    // Arrange
    let seo = [rated("SEO", 40)];

    // Act
    let result = figures([
        (ReviewStatus::Pending, review(45, &seo)),
        (ReviewStatus::Hidden, review(45, &seo)),
    ]);

    // Assert
    assert_eq!(result, Figures::default());
}

#[test]
fn the_figures_change_when_a_review_enters_or_leaves_published_or_is_edited_while_published() {
    // Arrange: (before, after, edited, expected)
    use ReviewStatus::{Hidden, Pending, Published};
    let cases = [
        (None, Some(Published), false, FiguresChange::Entered),
        (None, Some(Pending), false, FiguresChange::Unchanged),
        (
            Some(Pending),
            Some(Published),
            false,
            FiguresChange::Entered,
        ),
        (Some(Hidden), Some(Published), false, FiguresChange::Entered),
        (Some(Published), Some(Pending), false, FiguresChange::Left),
        (Some(Published), Some(Hidden), true, FiguresChange::Left),
        (Some(Published), None, false, FiguresChange::Left),
        (
            Some(Published),
            Some(Published),
            true,
            FiguresChange::Replaced,
        ),
        (
            Some(Published),
            Some(Published),
            false,
            FiguresChange::Unchanged,
        ),
        (Some(Pending), Some(Hidden), false, FiguresChange::Unchanged),
        (Some(Hidden), Some(Pending), true, FiguresChange::Unchanged),
        (Some(Pending), None, false, FiguresChange::Unchanged),
    ];

    for (before, after, edited, expected) in cases {
        // Act
        let change = FiguresChange::between(before, after, edited);

        // Assert
        assert_eq!(change, expected, "{before:?} -> {after:?}, edited {edited}");
        assert_eq!(
            change.changes_figures(),
            expected != FiguresChange::Unchanged
        );
    }
}

#[test]
fn each_change_takes_out_what_the_review_brought_and_adds_what_it_brings() {
    // Arrange
    let old_skills = [rated("SEO", 40), rated("Design", 10)];
    let new_skills = [rated("SEO", 40), rated("Plumbing", 30)];
    let before = review(45, &old_skills);
    let after = review(20, &new_skills);
    let seo = [rated("SEO", 50)];
    let start = figures([
        (ReviewStatus::Published, before),
        (ReviewStatus::Published, review(30, &seo)),
    ]);
    let cases = [
        (
            FiguresChange::Entered,
            figures([
                (ReviewStatus::Published, before),
                (ReviewStatus::Published, review(30, &seo)),
                (ReviewStatus::Published, after),
            ]),
        ),
        (
            FiguresChange::Left,
            figures([(ReviewStatus::Published, review(30, &seo))]),
        ),
        (
            FiguresChange::Replaced,
            figures([
                (ReviewStatus::Published, after),
                (ReviewStatus::Published, review(30, &seo)),
            ]),
        ),
        (FiguresChange::Unchanged, start.clone()),
    ];

    for (change, expected) in cases {
        // Act
        let result = start.apply(&change.delta(before, after));

        // Assert
        assert_eq!(result, expected, "{change:?}");
    }
}

#[test]
fn an_edit_that_keeps_a_skills_rating_leaves_no_change_for_that_skill() {
    // Arrange
    let old_skills = [rated("SEO", 40), rated("Design", 10)];
    let new_skills = [rated("SEO", 40), rated("Design", 30)];

    // Act
    let delta = FiguresChange::Replaced.delta(review(45, &old_skills), review(45, &new_skills));

    // Assert
    assert!(delta.reviews.is_zero());
    assert!(!delta.is_zero(), "a skill's figures change");
    assert_eq!(
        delta.skills.into_iter().collect::<Vec<_>>(),
        [(
            "design".to_owned(),
            StatsDelta {
                count: 0,
                sum_tenths: 20
            }
        )]
    );
}

#[test]
fn the_delta_between_two_states_counts_only_their_published_sides() {
    // Arrange
    let skills = [rated("SEO", 40)];
    let one = review(45, &skills);

    // Act
    let entered = FiguresDelta::between(None, Some((ReviewStatus::Published, one)));
    let held = FiguresDelta::between(
        Some((ReviewStatus::Published, one)),
        Some((ReviewStatus::Pending, one)),
    );
    let hidden_to_pending = FiguresDelta::between(
        Some((ReviewStatus::Hidden, one)),
        Some((ReviewStatus::Pending, one)),
    );

    // Assert
    assert_eq!(
        entered.reviews,
        StatsDelta {
            count: 1,
            sum_tenths: 45
        }
    );
    assert_eq!(
        held.reviews,
        StatsDelta {
            count: -1,
            sum_tenths: -45
        }
    );
    assert!(hidden_to_pending.is_zero());
    assert!(!entered.is_zero());
    assert!(
        !FiguresDelta::between(None, Some((ReviewStatus::Published, review(45, &[])))).is_zero(),
        "a review without skill ratings still changes the count"
    );
    assert!(FiguresDelta::between(
        Some((ReviewStatus::Published, one)),
        Some((ReviewStatus::Published, one))
    )
    .is_zero());
}

#[test]
fn a_delta_never_takes_figures_below_zero() {
    // Arrange
    let delta = StatsDelta {
        count: -2,
        sum_tenths: -100,
    };

    // Act
    let after = delta.applied_to(stats(&[45]));

    // Assert
    assert_eq!(after, ReviewStats::default());
}
