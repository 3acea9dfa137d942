//! The moderation use cases: a review read by whoever may see it, flags, the queue, decisions,
//! the statement of reasons, appeals, the author's edit and withdrawal, the owner's reply.
//!
//! Each operation on a review reads it, asks the domain's state machine for the transition and
//! hands the store the change to apply at the revision it read; when another change landed in
//! between, it reads again and decides again (see [`crate::moderation`]).

use super::{check_review, NewReview, ProviderService};
use crate::moderation::{
    queued_since, AppealContent, Moderated, ReplyChange, ReviewChange, StoredFlag, StoredReview,
};
use crate::{Page, PageOf, RepoError, ServiceError};
use provider_domain::{
    AppealInput, AppealRequest, Caller, Contribution, DecisionInput, DecisionRequest, Event,
    FlagId, FlagInput, FlagRequest, FlagStatus, ModerationError, ReplyInput, ReplyRequest, Review,
    ReviewId, SkillRating, Transition,
};
use time::OffsetDateTime;
use uuid::Uuid;

/// How many times an operation reads and decides again when other changes keep landing on
/// the review between its read and its write.
const ATTEMPTS: usize = 32;

/// A review the caller cannot reach is answered as absent (404), never as forbidden.
fn absent(e: RepoError) -> ServiceError {
    match e {
        RepoError::NotFound => ServiceError::Refused(ModerationError::NotFound),
        e => e.into(),
    }
}

/// What an operation adds to its transition: the texts and rows beside the state.
#[derive(Default)]
struct Extras {
    content: Option<Review>,
    flag: Option<StoredFlag>,
    reply: Option<ReplyChange>,
    appeal: Option<AppealContent>,
}

fn change(
    stored: &StoredReview,
    transition: Transition,
    extras: Extras,
    at: OffsetDateTime,
) -> ReviewChange {
    let after = extras.content.as_ref().unwrap_or(&stored.review);
    let figures = transition.figures.changes_figures().then(|| {
        transition
            .figures
            .delta(Contribution::of(&stored.review), Contribution::of(after))
    });
    ReviewChange {
        at,
        queued_at: queued_since(stored.queued_at, &transition.state, at),
        moderation: transition.state,
        content: extras.content,
        events: transition.events,
        figures,
        flag: extras.flag,
        flags_resolved: transition.flags_resolved,
        reply: extras.reply.unwrap_or(ReplyChange::Keep),
        appeal: extras.appeal,
    }
}

impl ProviderService {
    /// Reads the review, lets `decide` make the change from it, and applies that change at the
    /// revision read; again from a fresh read while another change lands first.
    async fn change_review<F>(
        &self,
        id: ReviewId,
        mut decide: F,
    ) -> Result<Moderated<StoredReview>, ServiceError>
    where
        F: FnMut(&StoredReview, OffsetDateTime) -> Result<ReviewChange, ServiceError> + Send,
    {
        for _ in 0..ATTEMPTS {
            let stored = self.reviews().find(id).await.map_err(absent)?;
            let change = decide(&stored, self.now())?;
            match self.reviews().apply(id, stored.revision, &change).await {
                Err(RepoError::PreconditionFailed) => {}
                Ok(value) => {
                    return Ok(Moderated {
                        value,
                        events: change.events,
                    })
                }
                Err(e) => return Err(absent(e)),
            }
        }
        Err(ServiceError::Conflict(
            "the review kept changing while this request was applied; retry".into(),
        ))
    }

    /// The review, for a caller who may see it: anyone when it is published, else its author
    /// and moderators.
    ///
    /// # Errors
    /// [`ServiceError::Refused`] ([`ModerationError::NotFound`]) when it does not exist or the
    /// caller may not see it; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(review = %id))]
    pub async fn review(
        &self,
        caller: Option<&Caller>,
        id: ReviewId,
    ) -> Result<StoredReview, ServiceError> {
        let stored = self.reviews().find(id).await.map_err(absent)?;
        if stored.moderation.visible_to(caller) {
            Ok(stored)
        } else {
            Err(ServiceError::Refused(ModerationError::NotFound))
        }
    }

    /// The review for its author or a moderator only (its statement of reasons).
    ///
    /// # Errors
    /// [`ServiceError::Refused`] ([`ModerationError::NotFound`]) to anyone else, or when it
    /// does not exist; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(review = %id))]
    pub async fn review_moderation(
        &self,
        caller: &Caller,
        id: ReviewId,
    ) -> Result<StoredReview, ServiceError> {
        let stored = self.reviews().find(id).await.map_err(absent)?;
        if caller.moderator || caller.id == stored.review.user_id {
            Ok(stored)
        } else {
            Err(ServiceError::Refused(ModerationError::NotFound))
        }
    }

    /// `caller` flags the review; enough open flags hold a published one for a moderator.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`] for a bad body (checked first; nothing changes);
    /// [`ServiceError::Refused`] as [`provider_domain::Moderation::flag`] refuses;
    /// [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(review = %id))]
    pub async fn flag_review(
        &self,
        caller: &Caller,
        id: ReviewId,
        input: &FlagInput,
    ) -> Result<Moderated<StoredFlag>, ServiceError> {
        let request = FlagRequest::parse(input)?;
        let flag_id = FlagId::from_uuid(Uuid::new_v4());
        let changed = self
            .change_review(id, |stored, at| {
                let transition = stored
                    .moderation
                    .flag(caller, &request, &self.moderation, at)?;
                let flag = StoredFlag {
                    id: flag_id,
                    review_id: id,
                    flagger: caller.id,
                    reason: request.reason,
                    explanation: request.explanation.clone(),
                    status: FlagStatus::Open,
                    created_at: at,
                };
                Ok(change(
                    stored,
                    transition,
                    Extras {
                        flag: Some(flag),
                        ..Extras::default()
                    },
                    at,
                ))
            })
            .await?;
        let flag = self.reviews().flag(flag_id).await?;
        Ok(Moderated {
            value: flag,
            events: changed.events,
        })
    }

    /// The flag, for its flagger or a moderator.
    ///
    /// # Errors
    /// [`ServiceError::Missing`] when it does not exist or the caller is someone else;
    /// [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(flag = %id))]
    pub async fn flag(&self, caller: &Caller, id: FlagId) -> Result<StoredFlag, ServiceError> {
        match self.reviews().flag(id).await {
            Ok(flag) if caller.moderator || flag.flagger == caller.id => Ok(flag),
            Ok(_) | Err(RepoError::NotFound) => Err(ServiceError::Missing("flag not found")),
            Err(e) => Err(e.into()),
        }
    }

    /// One page of the moderation queue, longest waiting first.
    ///
    /// # Errors
    /// [`ServiceError::Refused`] ([`ModerationError::NotAModerator`]);
    /// [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all)]
    pub async fn moderation_queue(
        &self,
        caller: &Caller,
        page: Page,
    ) -> Result<PageOf<StoredReview>, ServiceError> {
        moderator(caller)?;
        Ok(self.reviews().queue(page).await?)
    }

    /// How many reviews wait in the moderation queue.
    ///
    /// # Errors
    /// [`ServiceError::Unavailable`].
    pub async fn moderation_queue_size(&self) -> Result<u64, ServiceError> {
        Ok(self.reviews().queue_size().await?)
    }

    /// A moderator decides the review or its reply.
    ///
    /// # Errors
    /// [`ServiceError::Refused`] ([`ModerationError::NotAModerator`], checked first);
    /// [`ServiceError::Invalid`] for a bad body (nothing changes); [`ServiceError::Refused`]
    /// as [`provider_domain::Moderation::decide`] refuses, or when the review does not exist;
    /// [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(review = %id))]
    pub async fn decide(
        &self,
        caller: &Caller,
        id: ReviewId,
        input: &DecisionInput,
    ) -> Result<Moderated<StoredReview>, ServiceError> {
        moderator(caller)?;
        let request = DecisionRequest::parse(input)?;
        self.change_review(id, |stored, at| {
            let transition = stored.moderation.decide(caller, &request, at)?;
            Ok(change(stored, transition, Extras::default(), at))
        })
        .await
    }

    /// Every event of the review's history, oldest first (withdrawn reviews' too).
    ///
    /// # Errors
    /// [`ServiceError::Refused`] ([`ModerationError::NotAModerator`], or
    /// [`ModerationError::NotFound`] when there never was such a review);
    /// [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(review = %id))]
    pub async fn review_history(
        &self,
        caller: &Caller,
        id: ReviewId,
    ) -> Result<Vec<Event>, ServiceError> {
        moderator(caller)?;
        self.reviews().history(id).await.map_err(absent)
    }

    /// The author appeals the moderator's decision that hid their review.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`] for a bad body; [`ServiceError::Refused`] as
    /// [`provider_domain::Moderation::appeal`] refuses, or when the review does not exist;
    /// [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(review = %id))]
    pub async fn appeal(
        &self,
        caller: &Caller,
        id: ReviewId,
        input: &AppealInput,
    ) -> Result<Moderated<StoredReview>, ServiceError> {
        let request = AppealRequest::parse(input)?;
        self.change_review(id, |stored, at| {
            let transition = stored.moderation.appeal(caller, &request, at)?;
            let appeal = AppealContent {
                explanation: request.explanation.as_str().to_owned(),
            };
            Ok(change(
                stored,
                transition,
                Extras {
                    appeal: Some(appeal),
                    ..Extras::default()
                },
                at,
            ))
        })
        .await
    }

    /// The author replaces the review's rating, comment and skill ratings (of the provider's
    /// current skills); the new comment is screened again.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`] for a bad body (checked first) or a rated skill the provider
    /// does not have (checked once the caller is known to be the author);
    /// [`ServiceError::Refused`] ([`ModerationError::NotFound`]) when the review does not
    /// exist or the caller is not its author; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(review = %id))]
    pub async fn edit_review(
        &self,
        caller: &Caller,
        id: ReviewId,
        input: &NewReview,
    ) -> Result<Moderated<StoredReview>, ServiceError> {
        let (rating, comment) = check_review(input)?;
        let stored = self.reviews().find(id).await.map_err(absent)?;
        if stored.review.user_id != caller.id {
            return Err(ServiceError::Refused(ModerationError::NotFound));
        }
        let provider = self
            .providers()
            .get(stored.review.provider_id)
            .await
            .map_err(absent)?
            .value;
        let skill_ratings = SkillRating::parse_list(&input.skill_ratings, Some(&provider.skills))?;
        self.change_review(id, |stored, at| {
            let content = Review {
                rating,
                comment: comment.clone(),
                skill_ratings: skill_ratings.clone(),
                ..stored.review.clone()
            };
            let transition =
                stored
                    .moderation
                    .edit(caller, content.comment.as_ref(), &self.moderation, at)?;
            Ok(change(
                stored,
                transition,
                Extras {
                    content: Some(content),
                    ..Extras::default()
                },
                at,
            ))
        })
        .await
    }

    /// The author withdraws the review: it is removed with its skill ratings, flags, reply and
    /// appeal; its history keeps a `withdrawn` event.
    ///
    /// # Errors
    /// [`ServiceError::Refused`] ([`ModerationError::NotFound`]) when the review does not
    /// exist or the caller is not its author; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(review = %id))]
    pub async fn withdraw_review(
        &self,
        caller: &Caller,
        id: ReviewId,
    ) -> Result<Moderated<()>, ServiceError> {
        for _ in 0..ATTEMPTS {
            let stored = self.reviews().find(id).await.map_err(absent)?;
            let withdrawal = stored.moderation.withdraw(caller, self.now())?;
            let figures = withdrawal.figures.changes_figures().then(|| {
                withdrawal.figures.delta(
                    Contribution::of(&stored.review),
                    Contribution::of(&stored.review),
                )
            });
            let withdrawn = self
                .reviews()
                .withdraw(id, stored.revision, &withdrawal.event, figures)
                .await;
            match withdrawn {
                Err(RepoError::PreconditionFailed) => {}
                Ok(()) => {
                    return Ok(Moderated {
                        value: (),
                        events: vec![withdrawal.event],
                    })
                }
                Err(e) => return Err(absent(e)),
            }
        }
        Err(ServiceError::Conflict(
            "the review kept changing while this request was applied; retry".into(),
        ))
    }

    /// The provider's owner creates or replaces the reply to a review, screened like a
    /// comment.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`] for a bad body (checked first); [`ServiceError::Refused`]
    /// ([`ModerationError::NotFound`]) for anyone but the owner, or when the owner cannot see
    /// the review; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(review = %id))]
    pub async fn set_reply(
        &self,
        caller: &Caller,
        id: ReviewId,
        input: &ReplyInput,
    ) -> Result<Moderated<StoredReview>, ServiceError> {
        let request = ReplyRequest::parse(input)?;
        self.change_review(id, |stored, at| {
            let transition = stored.moderation.set_reply(
                caller,
                stored.owner,
                &request,
                &self.moderation,
                at,
            )?;
            let reply = ReplyChange::Set(request.text.as_str().to_owned());
            Ok(change(
                stored,
                transition,
                Extras {
                    reply: Some(reply),
                    ..Extras::default()
                },
                at,
            ))
        })
        .await
    }

    /// The provider's owner removes the reply.
    ///
    /// # Errors
    /// [`ServiceError::Refused`]: [`ModerationError::NotFound`] for anyone but the owner,
    /// [`ModerationError::NoReply`] when there is none; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all, fields(review = %id))]
    pub async fn remove_reply(
        &self,
        caller: &Caller,
        id: ReviewId,
    ) -> Result<Moderated<StoredReview>, ServiceError> {
        self.change_review(id, |stored, at| {
            let transition = stored.moderation.remove_reply(caller, stored.owner, at)?;
            Ok(change(
                stored,
                transition,
                Extras {
                    reply: Some(ReplyChange::Remove),
                    ..Extras::default()
                },
                at,
            ))
        })
        .await
    }
}

fn moderator(caller: &Caller) -> Result<(), ServiceError> {
    if caller.moderator {
        Ok(())
    } else {
        Err(ServiceError::Refused(ModerationError::NotAModerator))
    }
}
