//! The five search orders and the cursor's encoding, case by case.

use crate::helpers::{id, provider, stats};
use provider_domain::{
    Cursor, CursorError, CursorPosition, Provider, ProviderId, ReviewId, ReviewStats, SearchSort,
    SortKey, ValueError,
};
use std::cmp::Ordering;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

fn ids(mut list: Vec<Provider>, sort: SearchSort) -> Vec<ProviderId> {
    list.sort_by(|a, b| sort.compare(a, b));
    list.into_iter().map(|p| p.id).collect()
}

#[test]
fn every_order_has_its_api_name_and_nothing_else_parses() {
    let names: Vec<&str> = SearchSort::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            "cost_desc",
            "cost_asc",
            "rating_desc",
            "reviews_desc",
            "newest"
        ]
    );
    for sort in SearchSort::ALL {
        assert_eq!(SearchSort::parse(sort.name()), Ok(sort));
    }
    assert_eq!(SearchSort::default(), SearchSort::CostDesc);
    for wrong in ["", "COST_DESC", "cost_desc ", "price", "rating"] {
        assert_eq!(
            SearchSort::parse(wrong),
            Err(ValueError::NotOneOf {
                allowed: names.clone()
            }),
            "{wrong:?}"
        );
    }
    assert_eq!(
        SearchSort::parse("x").unwrap_err().to_string(),
        "must be one of cost_desc, cost_asc, rating_desc, reviews_desc, newest"
    );
}

#[test]
fn cost_orders_break_a_tie_by_the_higher_mean_then_the_lower_id() {
    let mut cheap_good = provider(3, 100);
    cheap_good.reviews = stats(&[50]);
    let mut cheap_poor = provider(1, 100);
    cheap_poor.reviews = stats(&[10]);
    let cheap_poor_too = {
        let mut p = provider(2, 100);
        p.reviews = stats(&[10, 10]);
        p
    };
    let dear = provider(4, 200);
    let all = vec![
        cheap_poor.clone(),
        dear.clone(),
        cheap_good.clone(),
        cheap_poor_too,
    ];
    assert_eq!(
        ids(all.clone(), SearchSort::CostDesc),
        [id(4), id(3), id(1), id(2)]
    );
    assert_eq!(ids(all, SearchSort::CostAsc), [id(3), id(1), id(2), id(4)]);
}

#[test]
fn rating_desc_compares_confidence_weighted_fractions_exactly() {
    // One 5.0 scores (50 + 125) / 6 = 29.17 tenths; ten 4.0s score (400 + 125) / 15 = 35.
    let mut one_five = provider(1, 0);
    one_five.reviews = stats(&[50]);
    let mut ten_fours = provider(2, 0);
    ten_fours.reviews = stats(&[40; 10]);
    // No reviews scores 2.5 exactly, as does any number of 2.5s: then more reviews first.
    let unreviewed = provider(3, 0);
    let mut two_halves = provider(4, 0);
    two_halves.reviews = stats(&[25, 25]);
    let all = vec![unreviewed, one_five, two_halves, ten_fours];
    assert_eq!(
        ids(all, SearchSort::RatingDesc),
        [id(2), id(1), id(4), id(3)]
    );
}

#[test]
fn rating_desc_separates_fractions_a_double_cannot() {
    // (s1 + 125) / (c1 + 5) and (s2 + 125) / (c2 + 5) one part in ~10^17 apart: equal as
    // doubles, and still ordered.
    let big = (1u64 << 55) + 1;
    let a = ReviewStats {
        count: big - 5,
        sum_tenths: 3 * big - 125,
    };
    let b = ReviewStats {
        count: big - 4,
        sum_tenths: 3 * big + 3 - 125 - 1,
    };
    assert_eq!(a.confidence(), b.confidence());
    let key = |stats, n| SortKey {
        cost: provider(n, 0).cost,
        reviews: stats,
        created_at: OffsetDateTime::UNIX_EPOCH,
        id: id(n),
    };
    // a = 3 exactly; b = (3 big + 2) / (big + 1) < 3.
    assert_eq!(
        SearchSort::RatingDesc.compare_keys(&key(a, 2), &key(b, 1)),
        Ordering::Less
    );
}

#[test]
fn reviews_desc_lists_more_reviews_first_then_the_higher_confidence() {
    let mut many_poor = provider(1, 0);
    many_poor.reviews = stats(&[0, 0, 0]);
    let mut many_good = provider(2, 0);
    many_good.reviews = stats(&[50, 50, 50]);
    let mut few = provider(3, 0);
    few.reviews = stats(&[50]);
    let all = vec![few, many_poor, many_good];
    assert_eq!(ids(all, SearchSort::ReviewsDesc), [id(2), id(1), id(3)]);
}

#[test]
fn newest_lists_the_latest_first_and_breaks_a_tie_by_the_higher_id() {
    let at = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
    let mut old = provider(9, 0);
    old.created_at = at;
    let mut new_low = provider(1, 0);
    new_low.created_at = at + Duration::microseconds(1);
    let mut new_high = provider(2, 0);
    new_high.created_at = at + Duration::microseconds(1);
    let all = vec![old, new_low, new_high];
    assert_eq!(ids(all, SearchSort::Newest), [id(2), id(1), id(9)]);
}

#[test]
fn is_after_holds_exactly_for_what_the_order_lists_later() {
    let low = provider(1, 100);
    let high = provider(2, 200);
    let at_low = SortKey::of(&low);
    assert!(SearchSort::CostDesc.is_after(&low, &SortKey::of(&high)));
    assert!(!SearchSort::CostDesc.is_after(&high, &at_low));
    assert!(
        !SearchSort::CostDesc.is_after(&low, &at_low),
        "not after itself"
    );
    assert!(SearchSort::CostAsc.is_after(&high, &at_low));
}

fn search_cursor(sort: SearchSort) -> Cursor {
    let mut p = provider(7, 12_345);
    p.reviews = stats(&[45, 30]);
    p.created_at = OffsetDateTime::UNIX_EPOCH + Duration::nanoseconds(1_765_000_000_123_456_000);
    Cursor {
        position: CursorPosition::Search {
            sort,
            last: SortKey::of(&p),
        },
        scope: [3; 16],
    }
}

fn review_cursor(provider: ProviderId) -> Cursor {
    Cursor {
        position: CursorPosition::Reviews {
            created_at: OffsetDateTime::UNIX_EPOCH + Duration::microseconds(5),
            id: ReviewId::from_uuid(Uuid::from_u128(11)),
        },
        scope: Cursor::review_scope(provider),
    }
}

#[test]
fn a_cursor_reads_back_from_its_bytes() {
    for sort in SearchSort::ALL {
        let cursor = search_cursor(sort);
        assert_eq!(Cursor::from_bytes(&cursor.to_bytes()), Ok(cursor));
    }
    let cursor = review_cursor(id(1));
    let bytes = cursor.to_bytes();
    assert_eq!(bytes[0], Cursor::VERSION);
    assert_eq!(Cursor::from_bytes(&bytes), Ok(cursor));
}

#[test]
fn bytes_that_are_not_a_whole_cursor_are_damaged() {
    let bytes = search_cursor(SearchSort::Newest).to_bytes();
    for len in 0..bytes.len() {
        assert_eq!(
            Cursor::from_bytes(&bytes[..len]),
            Err(CursorError::Damaged),
            "{len}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(Cursor::from_bytes(&longer), Err(CursorError::Damaged));
    let mut other_version = bytes.clone();
    other_version[0] = 2;
    assert_eq!(
        Cursor::from_bytes(&other_version),
        Err(CursorError::UnknownVersion)
    );
    let mut other_kind = bytes.clone();
    other_kind[1] = 3;
    assert_eq!(Cursor::from_bytes(&other_kind), Err(CursorError::Damaged));
    let mut other_sort = bytes.clone();
    other_sort[18] = 5;
    assert_eq!(Cursor::from_bytes(&other_sort), Err(CursorError::Damaged));
}

#[test]
fn a_cursor_holding_values_that_cannot_exist_is_damaged() {
    let bytes = search_cursor(SearchSort::CostDesc).to_bytes();
    // The day rate, beyond the largest allowed.
    let mut cost = bytes.clone();
    cost[19..27].copy_from_slice(&(100_000_000_001i64).to_be_bytes());
    assert_eq!(Cursor::from_bytes(&cost), Err(CursorError::Damaged));
    // A rating sum above 5.0 per review (2 reviews, 101 tenths).
    let mut sum = bytes.clone();
    sum[35..43].copy_from_slice(&101u64.to_be_bytes());
    assert_eq!(Cursor::from_bytes(&sum), Err(CursorError::Damaged));
    // Exactly 5.0 per review can exist.
    let mut full = bytes.clone();
    full[35..43].copy_from_slice(&100u64.to_be_bytes());
    assert!(Cursor::from_bytes(&full).is_ok());
    // A time beyond what a date can hold.
    let mut time = bytes;
    time[43..59].copy_from_slice(&i128::MAX.to_be_bytes());
    assert_eq!(Cursor::from_bytes(&time), Err(CursorError::Damaged));
}

#[test]
fn a_cursor_is_refused_for_another_list_scope_or_sort() {
    let search = search_cursor(SearchSort::RatingDesc);
    let CursorPosition::Search { last, .. } = search.position else {
        unreachable!()
    };
    assert_eq!(
        search.search_key(&[3; 16], SearchSort::RatingDesc),
        Ok(last)
    );
    assert_eq!(
        search.search_key(&[4; 16], SearchSort::RatingDesc),
        Err(CursorError::OtherScope)
    );
    assert_eq!(
        search.search_key(&[3; 16], SearchSort::Newest),
        Err(CursorError::OtherSort)
    );
    assert_eq!(search.review_key(id(1)), Err(CursorError::OtherList));

    let reviews = review_cursor(id(1));
    assert_eq!(
        reviews.review_key(id(1)),
        Ok((
            OffsetDateTime::UNIX_EPOCH + Duration::microseconds(5),
            ReviewId::from_uuid(Uuid::from_u128(11))
        ))
    );
    assert_eq!(reviews.review_key(id(2)), Err(CursorError::OtherScope));
    assert_eq!(
        reviews.search_key(&Cursor::review_scope(id(1)), SearchSort::CostDesc),
        Err(CursorError::OtherList)
    );
}
