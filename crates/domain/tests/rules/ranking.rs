//! Recommend: the ranking.

use crate::helpers::{
    availability, id, job, provider, ranges, recommendation, skills, stats, strings,
};
use provider_domain::{recommendation_order, JobInput, ProviderId, Recommendation};
use std::cmp::Ordering;

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
