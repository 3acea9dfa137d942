//! Rows as read from and written to the tables, and their conversion to and from the domain:
//! [`ProviderRows`] (a provider as the rows it is stored in), [`WholeProviderRow`] (a provider read
//! back), [`ReviewRow`] (a review, both ways).

use crate::schema::{
    availability, availability_runs, provider_skills, providers, review_skill_ratings, reviews,
};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date as SqlDate, Text, Uuid as SqlUuid};
use provider_domain::{
    Availability, DateRange, DayRate, Provider, ProviderId, ProviderName, Review, ReviewStats,
    Skill, SkillReviews, Skills, UserId,
};
use provider_ports::{RepoError, Version, Versioned};
use std::ops::Bound;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Data read back that the domain refuses: the database holds something no client could have
/// written (a bug, or a hand edit).
#[derive(Debug, thiserror::Error)]
#[error("stored {what} is invalid: {detail}")]
pub(crate) struct CorruptRow {
    what: &'static str,
    detail: String,
}

pub(crate) fn corrupt(what: &'static str, detail: impl ToString) -> RepoError {
    RepoError::Unexpected(Box::new(CorruptRow {
        what,
        detail: detail.to_string(),
    }))
}

/// A provider with its skills and availability, as one row: the children come as arrays
/// (skills in position order with their per-skill figures, ranges sorted by start with
/// inclusive `to_dates`).
#[derive(Debug, QueryableByName)]
pub(crate) struct WholeProviderRow {
    #[diesel(sql_type = SqlUuid)]
    pub(crate) id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub(crate) owner_id: Uuid,
    #[diesel(sql_type = Text)]
    pub(crate) name: String,
    #[diesel(sql_type = BigInt)]
    pub(crate) cost_in_pence: i64,
    #[diesel(sql_type = BigInt)]
    pub(crate) review_count: i64,
    #[diesel(sql_type = BigInt)]
    pub(crate) rating_sum: i64,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub(crate) created_at: OffsetDateTime,
    #[diesel(sql_type = Array<Text>)]
    pub(crate) skills: Vec<String>,
    /// Per skill (same order): the count of its per-skill ratings.
    #[diesel(sql_type = Array<BigInt>)]
    pub(crate) skill_review_counts: Vec<i64>,
    /// Per skill (same order): the sum of its per-skill ratings, in tenths.
    #[diesel(sql_type = Array<BigInt>)]
    pub(crate) skill_rating_sums: Vec<i64>,
    #[diesel(sql_type = Array<SqlDate>)]
    pub(crate) from_dates: Vec<Date>,
    #[diesel(sql_type = Array<SqlDate>)]
    pub(crate) to_dates: Vec<Date>,
}

impl TryFrom<WholeProviderRow> for Provider {
    type Error = RepoError;

    fn try_from(row: WholeProviderRow) -> Result<Self, RepoError> {
        let name = ProviderName::new(&row.name).map_err(|e| corrupt("name", e))?;
        let skills = row
            .skills
            .iter()
            .map(|s| Skill::new(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| corrupt("skill", e))?;
        let cost = DayRate::new(row.cost_in_pence).map_err(|e| corrupt("cost_in_pence", e))?;
        if row.from_dates.len() != row.to_dates.len() {
            return Err(corrupt("availability", "unpaired range bounds"));
        }
        let ranges = row
            .from_dates
            .iter()
            .zip(&row.to_dates)
            .map(|(from, to)| DateRange::new(*from, *to))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| corrupt("availability", e))?;
        let availability =
            Availability::new(ranges).map_err(|(_, e)| corrupt("availability", e))?;
        let reviews = ReviewStats {
            count: u64::try_from(row.review_count).map_err(|e| corrupt("review_count", e))?,
            sum_tenths: u64::try_from(row.rating_sum).map_err(|e| corrupt("rating_sum", e))?,
        };
        if row.skill_review_counts.len() != skills.len()
            || row.skill_rating_sums.len() != skills.len()
        {
            return Err(corrupt("skill figures", "not one per skill"));
        }
        let figures = skills
            .iter()
            .zip(row.skill_review_counts.iter().zip(&row.skill_rating_sums))
            .map(|(skill, (count, sum))| {
                Ok((
                    skill.key().to_owned(),
                    ReviewStats {
                        count: u64::try_from(*count)
                            .map_err(|e| corrupt("skill_review_count", e))?,
                        sum_tenths: u64::try_from(*sum)
                            .map_err(|e| corrupt("skill_rating_sum", e))?,
                    },
                ))
            })
            .collect::<Result<Vec<_>, RepoError>>()?;
        Ok(Provider {
            id: ProviderId::from_uuid(row.id),
            owner: UserId::from_uuid(row.owner_id),
            name,
            skills: Skills::from_skills(skills),
            cost,
            availability,
            reviews,
            skill_reviews: SkillReviews::new(figures),
            created_at: row.created_at,
        })
    }
}

/// A provider with its children (as [`WholeProviderRow`]) and its version: what `get` reads.
#[derive(Debug, QueryableByName)]
pub(crate) struct VersionedProviderRow {
    #[diesel(embed)]
    pub(crate) provider: WholeProviderRow,
    #[diesel(sql_type = BigInt)]
    pub(crate) version: i64,
}

impl TryFrom<VersionedProviderRow> for Versioned<Provider> {
    type Error = RepoError;

    fn try_from(row: VersionedProviderRow) -> Result<Self, RepoError> {
        Ok(Versioned {
            value: Provider::try_from(row.provider)?,
            version: version_of(row.version)?,
        })
    }
}

/// A version read back (always at least 1, by `providers_version_positive`).
pub(crate) fn version_of(number: i64) -> Result<Version, RepoError> {
    u64::try_from(number)
        .ok()
        .filter(|n| *n >= 1)
        .map(Version::new)
        .ok_or_else(|| corrupt("version", number))
}

/// The version a write answers (`inserts::create`).
#[derive(Debug, QueryableByName)]
pub(crate) struct VersionRow {
    #[diesel(sql_type = BigInt)]
    pub(crate) version: i64,
}

/// A provider as rows of the store's tables: the one definition of what each table holds for
/// a provider (the keys folded in Rust, its day rate and review figures copied onto its skill
/// rows, its availability merged into runs). The store inserts these rows; the bulk loader
/// copies them.
#[derive(Debug)]
pub(crate) struct ProviderRows<'a> {
    pub(crate) provider: NewProviderRow<'a>,
    /// In the order given.
    pub(crate) skills: Vec<NewSkillRow<'a>>,
    pub(crate) availability: Vec<NewAvailabilityRow>,
    pub(crate) runs: Vec<NewRunRow>,
}

impl<'a> ProviderRows<'a> {
    /// The rows of `provider`.
    ///
    /// # Errors
    /// [`RepoError::Unexpected`] when a figure does not fit its column (never, for a provider
    /// the domain built).
    pub(crate) fn of(provider: &'a Provider) -> Result<Self, RepoError> {
        let id = provider.id.as_uuid();
        let cost_in_pence = provider.cost.pence();
        let skills = provider
            .skills
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Ok(NewSkillRow {
                    provider_id: id,
                    position: i16::try_from(i).map_err(|e| RepoError::Unexpected(e.into()))?,
                    skill: s.as_str(),
                    skill_key: s.key(),
                    cost_in_pence,
                    // Copied by `set_review_stats` below.
                    review_count: 0,
                    rating_sum: 0,
                    skill_review_count: 0,
                    skill_rating_sum: 0,
                    created_at: provider.created_at,
                })
            })
            .collect::<Result<Vec<_>, RepoError>>()?;
        let availability = provider
            .availability
            .ranges()
            .iter()
            .map(|r| NewAvailabilityRow {
                provider_id: id,
                period: inclusive(r),
            })
            .collect();
        let runs = provider
            .availability
            .runs()
            .iter()
            .map(|r| NewRunRow {
                provider_id: id,
                run: inclusive(r),
            })
            .collect();
        let mut rows = Self {
            provider: NewProviderRow {
                id,
                owner_id: provider.owner.as_uuid(),
                name: provider.name.as_str(),
                name_key: provider.name.search_key(),
                cost_in_pence,
                review_count: 0,
                rating_sum: 0,
                created_at: provider.created_at,
            },
            skills,
            availability,
            runs,
        };
        let stat = |v: u64| i64::try_from(v).map_err(|e| RepoError::Unexpected(e.into()));
        rows.set_review_stats(
            stat(provider.reviews.count)?,
            stat(provider.reviews.sum_tenths)?,
        );
        rows.set_skill_figures(&provider.skill_reviews)?;
        Ok(rows)
    }

    /// Copies each skill's figures from `figures` (by key; 0 for a key never rated) onto its
    /// skill row.
    ///
    /// # Errors
    /// [`RepoError::Unexpected`] when a figure does not fit its column.
    pub(crate) fn set_skill_figures(&mut self, figures: &SkillReviews) -> Result<(), RepoError> {
        let stat = |v: u64| i64::try_from(v).map_err(|e| RepoError::Unexpected(e.into()));
        for skill in &mut self.skills {
            let f = figures.get(skill.skill_key);
            skill.skill_review_count = stat(f.count)?;
            skill.skill_rating_sum = stat(f.sum_tenths)?;
        }
        Ok(())
    }

    /// Sets the provider's creation time: on its row, and copied onto its skill rows.
    pub(crate) fn set_created_at(&mut self, created_at: OffsetDateTime) {
        self.provider.created_at = created_at;
        for skill in &mut self.skills {
            skill.created_at = created_at;
        }
    }

    /// Sets the provider's review count and rating sum: on its row, and copied onto its skill
    /// rows (the postings recommend's walk checks and ranks by; the foreign key
    /// `provider_skills_provider_fkey` requires them equal).
    pub(crate) fn set_review_stats(&mut self, review_count: i64, rating_sum: i64) {
        self.provider.review_count = review_count;
        self.provider.rating_sum = rating_sum;
        for skill in &mut self.skills {
            skill.review_count = review_count;
            skill.rating_sum = rating_sum;
        }
    }
}

/// A provider row to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = providers)]
pub(crate) struct NewProviderRow<'a> {
    pub(crate) id: Uuid,
    pub(crate) owner_id: Uuid,
    pub(crate) name: &'a str,
    pub(crate) name_key: String,
    pub(crate) cost_in_pence: i64,
    pub(crate) review_count: i64,
    pub(crate) rating_sum: i64,
    pub(crate) created_at: OffsetDateTime,
}

/// A skill row to insert: one of the provider's skills, and a posting of recommend's walk.
#[derive(Debug, Insertable)]
#[diesel(table_name = provider_skills)]
pub(crate) struct NewSkillRow<'a> {
    pub(crate) provider_id: Uuid,
    pub(crate) position: i16,
    pub(crate) skill: &'a str,
    pub(crate) skill_key: &'a str,
    /// The provider's day rate and review figures, copied (see [`ProviderRows`]).
    pub(crate) cost_in_pence: i64,
    pub(crate) review_count: i64,
    pub(crate) rating_sum: i64,
    /// The figures of this skill's key (see [`ProviderRows::set_skill_figures`]).
    pub(crate) skill_review_count: i64,
    pub(crate) skill_rating_sum: i64,
    /// The provider's creation time, copied (it never changes): the `newest` order's walk.
    pub(crate) created_at: OffsetDateTime,
}

/// An availability range to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = availability)]
pub(crate) struct NewAvailabilityRow {
    pub(crate) provider_id: Uuid,
    pub(crate) period: (Bound<Date>, Bound<Date>),
}

/// A run of available days to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = availability_runs)]
pub(crate) struct NewRunRow {
    pub(crate) provider_id: Uuid,
    pub(crate) run: (Bound<Date>, Bound<Date>),
}

/// An inclusive range as PostgreSQL takes it; it stores `[from, to + 1)`.
fn inclusive(range: &DateRange) -> (Bound<Date>, Bound<Date>) {
    (Bound::Included(range.from()), Bound::Included(range.to()))
}

/// A review as stored: inserted by the store, copied by the bulk loader, read back.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = reviews)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub(crate) struct ReviewRow {
    pub(crate) id: Uuid,
    pub(crate) provider_id: Uuid,
    pub(crate) user_id: Uuid,
    pub(crate) rating: i16,
    pub(crate) comment: Option<String>,
    pub(crate) created_at: OffsetDateTime,
}

/// One per-skill rating of a review, as stored: inserted by the store, copied by the bulk
/// loader, read back.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = review_skill_ratings)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub(crate) struct ReviewSkillRatingRow {
    pub(crate) review_id: Uuid,
    pub(crate) position: i16,
    pub(crate) skill: String,
    pub(crate) skill_key: String,
    pub(crate) rating: i16,
}

impl ReviewSkillRatingRow {
    /// The rows of `review`'s per-skill ratings, in its order.
    pub(crate) fn of(review: &Review) -> Vec<Self> {
        review
            .skill_ratings
            .iter()
            .zip(0i16..)
            .map(|(r, position)| Self {
                review_id: review.id.as_uuid(),
                position,
                skill: r.skill.as_str().to_owned(),
                skill_key: r.skill.key().to_owned(),
                rating: i16::from(r.rating.tenths()),
            })
            .collect()
    }
}

impl From<&Review> for ReviewRow {
    fn from(r: &Review) -> Self {
        Self {
            id: r.id.as_uuid(),
            provider_id: r.provider_id.as_uuid(),
            user_id: r.user_id.as_uuid(),
            rating: i16::from(r.rating.tenths()),
            comment: r.comment.as_ref().map(|c| c.as_str().to_owned()),
            created_at: r.created_at,
        }
    }
}
