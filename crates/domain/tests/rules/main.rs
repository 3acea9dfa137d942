//! The rules of docs/API.md, one at a time: field validation, review statistics, the search
//! filter and its order, the recommendation rules and their ranking, one module each.
//!
//! Each test reads as a sentence and is laid out Arrange / Act / Assert; where a rule has many
//! edges the cases sit in a table next to the expected outcome.

mod dates;
mod helpers;
mod moderation;
mod moderation_requests;
mod provider;
mod published_figures;
mod ranking;
mod recommend;
mod reviews;
mod screen;
mod search;
mod skill_ratings;
mod sorts;
mod text;
mod values;
