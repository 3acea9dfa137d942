//! A review as answered: its content, its status and the reply the caller may see.

use crate::schema;
use provider_domain::{ReviewStatus, Viewer};
use provider_ports::StoredReview;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// One of the provider's skills, rated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SkillRating)]
pub(crate) struct SkillRatingDto {
    /// One of the provider's skills: 1..=100 characters after trimming, no control characters,
    /// matched case-insensitively; answered in the provider's spelling.
    #[schema(schema_with = schema::rated_skill)]
    pub skill: String,
    /// 0..=5 in steps of 0.1, as a review's rating.
    #[schema(minimum = 0, maximum = 5, multiple_of = 0.1)]
    pub rating: f64,
}

/// A review.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = Review)]
pub(crate) struct ReviewDto {
    /// Its id.
    pub id: Uuid,
    /// The provider reviewed.
    pub service_provider_id: Uuid,
    /// The reviewer.
    pub user_id: Uuid,
    /// 0..=5 in steps of 0.1.
    pub rating: f64,
    /// The comment, trimmed; `null` when none was given.
    #[schema(required = true)]
    pub comment: Option<String>,
    /// When it was written: RFC 3339, UTC, microsecond precision.
    #[schema(format = DateTime, example = "2027-11-12T09:30:00.123456Z")]
    pub created_at: String,
    /// Its per-skill ratings, in the provider's spelling and skill order as they were when it
    /// was written (`[]` when none).
    pub skill_ratings: Vec<SkillRatingDto>,
    /// `published` (anyone sees it; it counts), `pending` (held for a moderator) or `hidden`
    /// (a moderator decided it breaks a rule); only its author and moderators see a review
    /// that is not published.
    pub status: StatusDto,
    /// The provider's reply; `null` when there is none, or when it is not published and the
    /// caller is neither the provider's owner nor a moderator.
    #[schema(required = true)]
    pub reply: Option<ReplyDto>,
}

/// RFC 3339, UTC, to the microsecond the stores keep.
pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

impl ReviewDto {
    /// The review as `viewer` sees it (its reply only when they may see it).
    pub(crate) fn seen_by(stored: &StoredReview, viewer: Viewer) -> Self {
        let review = &stored.review;
        Self {
            id: review.id.as_uuid(),
            service_provider_id: review.provider_id.as_uuid(),
            user_id: review.user_id.as_uuid(),
            rating: review.rating.as_f64(),
            comment: review.comment.as_ref().map(|c| c.as_str().to_owned()),
            created_at: rfc3339(review.created_at),
            skill_ratings: review
                .skill_ratings
                .iter()
                .map(|r| SkillRatingDto {
                    skill: r.skill.as_str().to_owned(),
                    rating: r.rating.as_f64(),
                })
                .collect(),
            status: stored.moderation.status.into(),
            reply: reply_for(stored, viewer),
        }
    }

    /// The review as `caller` sees it.
    pub(crate) fn for_caller(
        stored: &StoredReview,
        caller: Option<&provider_domain::Caller>,
    ) -> Self {
        Self::seen_by(stored, stored.moderation.viewer(caller, stored.owner))
    }
}

/// Where a review (or a reply) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StatusDto {
    /// Anyone sees it; a review counts in the provider's figures.
    Published,
    /// Held for a moderator; seen by its author (a reply: the provider's owner) and moderators.
    Pending,
    /// A moderator decided it breaks a rule; seen as a pending one is.
    Hidden,
}

impl From<ReviewStatus> for StatusDto {
    fn from(status: ReviewStatus) -> Self {
        match status {
            ReviewStatus::Published => Self::Published,
            ReviewStatus::Pending => Self::Pending,
            ReviewStatus::Hidden => Self::Hidden,
        }
    }
}

/// The provider's reply to a review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Reply)]
pub(crate) struct ReplyDto {
    /// What the provider's owner wrote.
    pub text: String,
    /// Screened like a comment, then decided by moderators.
    pub status: StatusDto,
    /// When it was first written (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it was last written (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// The reply as `viewer` may see it: `None` when there is none, or it is not published and
/// they are neither the provider's owner nor a moderator.
pub(crate) fn reply_for(stored: &StoredReview, viewer: Viewer) -> Option<ReplyDto> {
    let status = stored.moderation.reply.as_ref()?.status;
    let content = stored.reply.as_ref()?;
    provider_domain::can_see_reply(status, viewer).then(|| ReplyDto {
        text: content.text.clone(),
        status: status.into(),
        created_at: rfc3339(content.created_at),
        updated_at: rfc3339(content.updated_at),
    })
}
