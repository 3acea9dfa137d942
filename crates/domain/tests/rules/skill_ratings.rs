//! Ratings per skill: checking a review's `skill_ratings`, a provider's per-skill figures, and
//! ranking key 3 (the matched skills' pooled confidence-weighted rating).

use crate::helpers::{fault, faults, job, provider, skills, stats, strings, valid_job};
use provider_domain::{
    recommendation_order, JobInput, ProviderDraft, ProviderInput, Rating, ReviewStats, Skill,
    SkillRating, SkillRatingInput, SkillReviews, ValueError,
};
use std::cmp::Ordering;

fn entry(skill: &str, rating: f64) -> SkillRatingInput {
    SkillRatingInput {
        skill: skill.into(),
        rating,
    }
}

fn rated(skill: &str, tenths: u8) -> SkillRating {
    SkillRating {
        skill: Skill::new(skill).unwrap(),
        rating: Rating::from_tenths(tenths).unwrap(),
    }
}

#[test]
fn skill_ratings_take_the_providers_spelling_and_skill_order() {
    // Arrange
    let provider_skills = skills(&["SEO Optimisation", "Cold Calling"]);
    let given = [
        entry("  cold calling ", 4.5),
        entry("SEO OPTIMISATION", 3.0),
    ];

    // Act
    let parsed = SkillRating::parse_list(&given, Some(&provider_skills)).unwrap();

    // Assert
    assert_eq!(
        parsed,
        vec![rated("SEO Optimisation", 30), rated("Cold Calling", 45)]
    );
}

#[test]
fn a_skill_the_provider_does_not_have_is_refused_at_its_entry() {
    // Arrange
    let provider_skills = skills(&["SEO Optimisation"]);
    let given = [entry("SEO Optimisation", 4.0), entry("Plumbing", 4.0)];

    // Act
    let error = SkillRating::parse_list(&given, Some(&provider_skills)).unwrap_err();

    // Assert
    assert_eq!(
        faults(&error),
        vec![fault(
            "skill_ratings[1].skill",
            ValueError::NotASkillOfTheProvider
        )]
    );
}

#[test]
fn the_same_skill_twice_is_refused_on_the_later_entry_whatever_its_case() {
    // Arrange
    let provider_skills = skills(&["SEO Optimisation", "Cold Calling"]);
    let given = [
        entry("seo optimisation", 4.0),
        entry("Cold Calling", 1.0),
        entry("SEO Optimisation ", 2.0),
    ];

    // Act
    let error = SkillRating::parse_list(&given, Some(&provider_skills)).unwrap_err();

    // Assert
    assert_eq!(
        faults(&error),
        vec![fault(
            "skill_ratings[2].skill",
            ValueError::RatedTwice { first: 0 }
        )]
    );
}

#[test]
fn each_entry_is_checked_like_a_review_rating_and_a_skill() {
    // Arrange
    let provider_skills = skills(&["SEO Optimisation", "Cold Calling"]);
    let given = [
        entry("SEO Optimisation", 4.55),
        entry("Cold Calling", 5.1),
        entry("  ", 1.0),
        entry("Cold\u{0}Calling", 1.0),
    ];

    // Act
    let error = SkillRating::parse_list(&given, Some(&provider_skills)).unwrap_err();

    // Assert
    let fields: Vec<String> = faults(&error).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        strings(&[
            "skill_ratings[0].rating",
            "skill_ratings[1].rating",
            "skill_ratings[2].skill",
            "skill_ratings[3].skill",
        ])
    );
    assert_eq!(faults(&error)[0].1, ValueError::NotTenths);
}

#[test]
fn more_than_fifty_entries_are_refused() {
    // Arrange
    let given: Vec<SkillRatingInput> = (0..51).map(|i| entry(&format!("s{i}"), 1.0)).collect();

    // Act
    let error = SkillRating::parse_list(&given, None).unwrap_err();

    // Assert
    assert_eq!(
        faults(&error),
        vec![fault(
            "skill_ratings",
            ValueError::TooMany {
                max: 50,
                actual: 51
            }
        )]
    );
}

#[test]
fn fifty_entries_are_accepted() {
    // Arrange
    let given: Vec<SkillRatingInput> = (0..50).map(|i| entry(&format!("s{i}"), 1.0)).collect();

    // Act
    let parsed = SkillRating::parse_list(&given, None).unwrap();

    // Assert
    assert_eq!(parsed.len(), 50);
}

#[test]
fn without_the_providers_skills_only_the_entries_themselves_are_checked() {
    // Arrange
    let given = [entry("Anything", 2.5), entry("anything", 1.0)];

    // Act
    let alone = SkillRating::parse_list(&given[..1], None).unwrap();
    let twice = SkillRating::parse_list(&given, None).unwrap_err();

    // Assert
    assert_eq!(alone, vec![rated("Anything", 25)]);
    assert_eq!(
        faults(&twice),
        vec![fault(
            "skill_ratings[1].skill",
            ValueError::RatedTwice { first: 0 }
        )]
    );
}

#[test]
fn a_providers_skill_ratings_are_the_mean_and_count_of_its_rated_skills_in_skill_order() {
    // Arrange
    let mut p = provider(1, 100);
    p.skill_reviews = SkillReviews::default()
        .with(&[rated("Cold Calling", 45)])
        .with(&[rated("Cold Calling", 30)]);

    // Act
    let shown = p.skill_ratings();

    // Assert: SEO Optimisation was never rated, so it is left out; 4.5 and 3.0 make 3.75.
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].0.as_str(), "Cold Calling");
    assert_eq!(
        shown[0].1,
        ReviewStats {
            count: 2,
            sum_tenths: 75
        }
    );
    assert_eq!(shown[0].1.mean(), 3.75);
}

#[test]
fn removing_a_skill_hides_its_ratings_and_adding_it_back_shows_them_again() {
    // Arrange: a store keeps every key's figures aside.
    let all =
        SkillReviews::default().with(&[rated("cold calling", 40), rated("SEO Optimisation", 20)]);
    let p = provider(1, 100).with_skill_figures(&all);
    let draft = |skills: &[&str]| {
        ProviderDraft::parse(&ProviderInput {
            skills: strings(skills),
            ..crate::helpers::valid_input()
        })
        .unwrap()
    };

    // Act
    let without = p.clone().replaced(draft(&["SEO Optimisation"]));
    let back = without
        .clone()
        .replaced(draft(&["SEO Optimisation", "COLD CALLING"]))
        .with_skill_figures(&all);

    // Assert
    assert_eq!(
        without.skill_reviews.get("cold calling"),
        ReviewStats::default()
    );
    assert_eq!(without.skill_ratings().len(), 1);
    assert_eq!(back.skill_reviews.get("cold calling"), stats(&[40]));
    assert_eq!(back.skill_ratings()[1].0.as_str(), "COLD CALLING");
}

/// The job of the worked example in docs/API.md: SEO, within budget, all of 2027.
fn seo_job() -> provider_domain::JobRequest {
    job(JobInput {
        skills: Some(strings(&["seo optimisation"])),
        ..valid_job()
    })
}

#[test]
fn key_3_ranks_the_provider_better_rated_for_the_jobs_skill_first_despite_a_lower_overall_rating() {
    // Arrange: same day rate; A is rated 5.0 overall but 2.0 at SEO, B 4.0 overall but 5.0 at
    // SEO.
    let mut a = provider(1, 100);
    a.reviews = stats(&[50, 50]);
    a.skill_reviews = SkillReviews::default().with(&[rated("SEO Optimisation", 20)]);
    let mut b = provider(2, 100);
    b.reviews = stats(&[40, 40]);
    b.skill_reviews = SkillReviews::default().with(&[rated("SEO Optimisation", 50)]);
    let job = seo_job();
    let (a, b) = (job.evaluate(&a).unwrap(), job.evaluate(&b).unwrap());

    // Act
    let order = recommendation_order(&b, &a);

    // Assert
    assert_eq!(order, Ordering::Less);
    assert_eq!(b.matched_skill_rating, stats(&[50]));
}

#[test]
fn key_3_pools_every_rating_of_every_matched_skill_and_ignores_the_others() {
    // Arrange
    let mut p = provider(1, 100);
    p.skill_reviews = SkillReviews::default()
        .with(&[rated("SEO Optimisation", 50), rated("Cold Calling", 10)])
        .with(&[rated("SEO Optimisation", 30)]);
    let both = job(JobInput {
        skills: Some(strings(&["SEO Optimisation", "cold calling", "Plumbing"])),
        ..valid_job()
    });

    // Act
    let pooled_both = both.matched_skill_rating(&p);
    let pooled_seo = seo_job().matched_skill_rating(&p);

    // Assert
    assert_eq!(
        pooled_both,
        ReviewStats {
            count: 3,
            sum_tenths: 90
        }
    );
    assert_eq!(
        pooled_seo,
        ReviewStats {
            count: 2,
            sum_tenths: 80
        }
    );
}

#[test]
fn key_3_comes_after_cost_and_before_the_overall_rating() {
    // Arrange
    let mut dear = provider(1, 101);
    dear.skill_reviews = SkillReviews::default();
    let mut cheap_great_at_seo = provider(2, 100);
    cheap_great_at_seo.skill_reviews =
        SkillReviews::default().with(&[rated("SEO Optimisation", 50)]);
    let mut unrated_but_loved = provider(3, 100);
    unrated_but_loved.reviews = stats(&[50; 30]);
    let job = seo_job();
    let [dear, great, loved] =
        [dear, cheap_great_at_seo, unrated_but_loved].map(|p| job.evaluate(&p).unwrap());

    // Act / Assert
    assert_eq!(recommendation_order(&dear, &great), Ordering::Less);
    assert_eq!(recommendation_order(&great, &loved), Ordering::Less);
}

#[test]
fn with_no_skill_ratings_key_3_ties_at_the_prior_and_the_overall_rating_decides() {
    // Arrange: a low per-skill figure ranks below none at all (the prior 2.5).
    let mut poor = provider(1, 100);
    poor.skill_reviews = SkillReviews::default().with(&[rated("SEO Optimisation", 10)]);
    let mut better_overall = provider(2, 100);
    better_overall.reviews = stats(&[45]);
    let plain = provider(3, 100);
    let job = seo_job();
    let [poor, better, plain] = [poor, better_overall, plain].map(|p| job.evaluate(&p).unwrap());

    // Act / Assert
    assert_eq!(recommendation_order(&plain, &poor), Ordering::Less);
    assert_eq!(recommendation_order(&better, &plain), Ordering::Less);
}

#[test]
fn skill_reviews_list_each_rated_key_once_in_key_order_with_its_figures() {
    // Arrange
    let never_rated = SkillReviews::default();
    let rated_twice = SkillReviews::default()
        .with(&[rated("SEO", 30), rated("Cold Calling", 50)])
        .with(&[rated("seo", 40)]);

    // Act
    let listed: Vec<(&str, ReviewStats)> = rated_twice.iter().collect();

    // Assert
    assert!(never_rated.is_empty());
    assert_eq!(never_rated.iter().count(), 0);
    assert!(!rated_twice.is_empty());
    assert_eq!(
        listed,
        [("cold calling", stats(&[50])), ("seo", stats(&[30, 40]))]
    );
}
