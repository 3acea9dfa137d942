//! What a client asks of moderation, before and after checking: a flag, a decision, an appeal,
//! a reply. Each `parse` reports every field at fault with its path in the request body, as
//! [`crate::ProviderDraft::parse`] does.

use super::text::{AppealExplanation, DecisionRule, FlagExplanation, ReplyText, Statement};
use crate::error::{Collector, ValidationError, ValueError};
use std::fmt;

/// Why a user flags a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlagReason {
    /// Advertising, or text that is no review.
    Spam,
    /// Offensive words.
    Offensive,
    /// Not written by a real client of the provider.
    Fake,
    /// Someone's personal data.
    PersonalData,
    /// Against the law (an explanation is required).
    Illegal,
    /// Anything else (an explanation is required).
    Other,
}

impl FlagReason {
    /// Every reason, in the contract's order.
    pub const ALL: [Self; 6] = [
        Self::Spam,
        Self::Offensive,
        Self::Fake,
        Self::PersonalData,
        Self::Illegal,
        Self::Other,
    ];

    /// The contract's name: `spam`, `offensive`, `fake`, `personal_data`, `illegal` or
    /// `other`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Spam => "spam",
            Self::Offensive => "offensive",
            Self::Fake => "fake",
            Self::PersonalData => "personal_data",
            Self::Illegal => "illegal",
            Self::Other => "other",
        }
    }

    /// The reason named `name` (as [`Self::as_str`] writes it), if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// True for the reasons a flag must explain: `illegal` and `other`.
    pub const fn needs_explanation(self) -> bool {
        matches!(self, Self::Illegal | Self::Other)
    }
}

impl fmt::Display for FlagReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A flag as a client wrote it, before checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagInput {
    /// Why the review is flagged.
    pub reason: FlagReason,
    /// An explanation (required for `illegal` and `other`).
    pub explanation: Option<String>,
}

/// A checked flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagRequest {
    /// Why the review is flagged.
    pub reason: FlagReason,
    /// The explanation, when given (always given for `illegal` and `other`).
    pub explanation: Option<FlagExplanation>,
}

impl FlagRequest {
    /// Checks `explanation`: a [`FlagExplanation`] when given, and given when the reason
    /// [needs one](FlagReason::needs_explanation).
    ///
    /// # Errors
    /// A [`ValidationError`] on `explanation`: [`ValueError::Required`] or the text's fault.
    pub fn parse(input: &FlagInput) -> Result<Self, ValidationError> {
        let mut errors = Collector::default();
        let explanation = match &input.explanation {
            Some(raw) => errors.check(|| "explanation".into(), FlagExplanation::new(raw)),
            None if input.reason.needs_explanation() => {
                errors.push("explanation", ValueError::Required);
                None
            }
            None => None,
        };
        errors.finish(|| Self {
            reason: input.reason,
            explanation,
        })
    }
}

/// What a moderator decides for a review or its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecisionAction {
    /// It is published: it breaks no rule.
    Publish,
    /// It is hidden: it breaks the rule named.
    Hide,
}

impl DecisionAction {
    /// The contract's name: `publish` or `hide`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::Hide => "hide",
        }
    }

    /// The action named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Publish, Self::Hide]
            .into_iter()
            .find(|a| a.as_str() == name)
    }
}

/// What a decision applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DecisionTarget {
    /// The review itself (the default).
    #[default]
    Review,
    /// The provider's reply to it.
    Reply,
}

impl DecisionTarget {
    /// The contract's name: `review` or `reply`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Review => "review",
            Self::Reply => "reply",
        }
    }

    /// The target named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Review, Self::Reply]
            .into_iter()
            .find(|t| t.as_str() == name)
    }
}

/// A moderator's decision as a client wrote it, before checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionInput {
    /// Publish or hide.
    pub action: DecisionAction,
    /// The policy rule applied.
    pub rule: String,
    /// The reasons, shown to the author.
    pub statement: String,
    /// The review (default) or its reply.
    pub target: DecisionTarget,
}

/// A checked decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRequest {
    /// Publish or hide.
    pub action: DecisionAction,
    /// The policy rule applied.
    pub rule: DecisionRule,
    /// The reasons, shown to the author.
    pub statement: Statement,
    /// The review or its reply.
    pub target: DecisionTarget,
}

impl DecisionRequest {
    /// Checks `rule` (a [`DecisionRule`]) and `statement` (a [`Statement`]), reporting both
    /// when both are at fault.
    ///
    /// # Errors
    /// A [`ValidationError`] on `rule` and/or `statement`.
    pub fn parse(input: &DecisionInput) -> Result<Self, ValidationError> {
        let mut errors = Collector::default();
        let rule = errors.check(|| "rule".into(), DecisionRule::new(&input.rule));
        let statement = errors.check(|| "statement".into(), Statement::new(&input.statement));
        match (rule, statement) {
            (Some(rule), Some(statement)) => Ok(Self {
                action: input.action,
                rule,
                statement,
                target: input.target,
            }),
            _ => errors.finish(|| unreachable!("errors were recorded")),
        }
    }
}

/// An appeal as a client wrote it, before checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealInput {
    /// Why the author contests the decision.
    pub explanation: String,
}

/// A checked appeal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealRequest {
    /// Why the author contests the decision.
    pub explanation: AppealExplanation,
}

impl AppealRequest {
    /// Checks `explanation` (an [`AppealExplanation`]).
    ///
    /// # Errors
    /// A [`ValidationError`] on `explanation`.
    pub fn parse(input: &AppealInput) -> Result<Self, ValidationError> {
        AppealExplanation::new(&input.explanation)
            .map(|explanation| Self { explanation })
            .map_err(|e| ValidationError::single("explanation", e))
    }
}

/// A provider's reply as a client wrote it, before checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyInput {
    /// The reply.
    pub text: String,
}

/// A checked reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRequest {
    /// The reply.
    pub text: ReplyText,
}

impl ReplyRequest {
    /// Checks `text` (a [`ReplyText`]).
    ///
    /// # Errors
    /// A [`ValidationError`] on `text`.
    pub fn parse(input: &ReplyInput) -> Result<Self, ValidationError> {
        ReplyText::new(&input.text)
            .map(|text| Self { text })
            .map_err(|e| ValidationError::single("text", e))
    }
}
