//! The JSON Schema of fields whose rules a plain type cannot say: text fields (a `pattern` for
//! "1..=N characters after trimming, no control characters") and lists of skills. The request
//! bodies (`crate::dto`) name these functions in `#[schema(schema_with = ...)]`; this module
//! imports nothing of the crate, so the document and the bodies both use it without a cycle.

use provider_domain::{
    Comment, DecisionRule, FlagExplanation, JobRequest, ProviderName, SearchFilter, SearchSort,
    Skill, Skills, Statement,
};
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, SchemaType, Type};

// Text fields. The server refuses C0 control characters and U+007F anywhere in the text as
// sent (a comment may hold tab, line feed and carriage return), then trims surrounding white
// space and counts characters (Unicode scalar values). JSON Schema's `minLength`/`maxLength`
// count the raw string (a name of 201 characters ending in a space is accepted, `"  "` is
// refused), so text fields carry no length keywords but a `pattern` that says exactly what the
// server accepts: optional white space, then 1..=max characters that start and end with a
// character that is not white space, then optional white space; no refused control character
// anywhere. "White space" is what `str::trim` removes (Unicode `White_Space`), spelled out
// because `\s` differs between regex engines (ECMA-262 counts U+FEFF and not U+0085).

/// What `str::trim` removes, less the control characters (tab, line feed, vertical tab, form
/// feed, carriage return), as the inside of a regex character class.
const SPACE: &str = r" \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// The control characters of the Text rule (U+0000..=U+001F, U+007F) but `allowed`, as the
/// inside of a regex character class.
fn refused_controls(allowed: &[char]) -> String {
    let refused: Vec<u32> = (0..=0x1F_u32)
        .chain([0x7F])
        .filter(|c| !allowed.iter().any(|a| u32::from(*a) == *c))
        .collect();
    let mut class = String::new();
    let mut i = 0;
    while i < refused.len() {
        let mut j = i;
        while j + 1 < refused.len() && refused[j + 1] == refused[j] + 1 {
            j += 1;
        }
        class.push_str(&format!("\\u{:04X}", refused[i]));
        if j > i {
            class.push_str(&format!("-\\u{:04X}", refused[j]));
        }
        i = j + 1;
    }
    class
}

/// A regex matching text the server accepts: no control character but `allowed` (which are
/// white space: tab, line feed, carriage return), and a trimmed length of `min..=max`
/// characters (`min` is 0 or 1).
fn text_pattern(min: usize, max: usize, allowed: &[char]) -> String {
    debug_assert!(min <= 1 && max >= 2);
    let refused = refused_controls(allowed);
    let space: String = allowed
        .iter()
        .map(|c| format!("\\u{:04X}", u32::from(*c)))
        .chain([SPACE.to_owned()])
        .collect();
    let edge = format!("[^{space}{refused}]");
    let any = format!("[^{refused}]");
    let core = format!("{edge}(?:{any}{{0,{}}}{edge})?", max - 2);
    let core = if min == 0 {
        format!("(?:{core})?")
    } else {
        core
    };
    format!("^[{space}]*{core}[{space}]*$")
}

/// A string the server accepts (see [`text_pattern`]); `nullable` when JSON `null` means
/// "absent".
fn text(min: usize, max: usize, allowed: &[char], nullable: bool, description: &str) -> Object {
    let kind = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(kind)
        .pattern(Some(text_pattern(min, max, allowed)))
        .description(Some(description))
        .build()
}

/// A list of skills: `min_items..=max_items` entries, each a trimmed 1..=100 characters.
fn skills(min_items: usize, max_items: usize, nullable: bool, description: &str) -> Array {
    let item = text(
        1,
        Skill::MAX_CHARS,
        &[],
        false,
        "A skill: 1..=100 characters after trimming; no control characters (U+0000..=U+001F, \
         U+007F).",
    );
    let builder = if nullable {
        ArrayBuilder::new().schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
    } else {
        ArrayBuilder::new()
    };
    builder
        .items(item)
        .min_items((min_items > 0).then_some(min_items))
        .max_items(Some(max_items))
        .description(Some(description))
        .build()
}

/// `ServiceProviderInput.name`.
pub(crate) fn provider_name() -> Object {
    text(
        1,
        ProviderName::MAX_CHARS,
        &[],
        false,
        "1..=200 characters after trimming surrounding white space; no control characters \
         (U+0000..=U+001F, U+007F) anywhere, leading or trailing ones included.",
    )
}

/// `ServiceProviderInput.skills`.
pub(crate) fn provider_skills() -> Array {
    skills(
        0,
        Skills::MAX_ENTRIES,
        false,
        "0..=50 entries, each 1..=100 characters after trimming; later case-insensitive \
         duplicates are dropped (first spelling and order kept). Absent means none.",
    )
}

/// `SearchRequest.name`.
pub(crate) fn search_name() -> Object {
    text(
        0,
        ProviderName::MAX_CHARS,
        &[],
        true,
        "Case-insensitive substring of the name: at most 200 characters after trimming, no \
         control characters (U+0000..=U+001F, U+007F); empty (or `null`) filters nothing.",
    )
}

/// `SearchRequest.skills`.
pub(crate) fn search_skills() -> Array {
    skills(
        0,
        SearchFilter::MAX_SKILLS,
        true,
        "Has at least one of these skills (case-insensitive, exact skill): 0..=50 entries, each \
         1..=100 characters after trimming; absent, `null` or `[]`: no skill filter.",
    )
}

/// `RecommendRequest.skills`.
pub(crate) fn recommend_skills() -> Array {
    skills(
        1,
        JobRequest::MAX_SKILLS,
        false,
        "Wanted skills, 1..=50 entries, each 1..=100 characters after trimming (a provider needs \
         at least one, case-insensitive).",
    )
}

/// `SearchRequest.sort`: the domain's orders by name (or `null`: the default).
pub(crate) fn search_sort() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(
            SearchSort::ALL
                .iter()
                .map(|s| serde_json::Value::from(s.name()))
                // JSON null is the default order too, as for every optional field.
                .chain(std::iter::once(serde_json::Value::Null)),
        ))
        .default(Some(SearchSort::default().name().into()))
        .description(Some(
            "The order of the results: `cost_desc` (default), `cost_asc`, `rating_desc`, \
             `reviews_desc` or `newest`.",
        ))
        .build()
}

/// `ReviewInput.comment`.
pub(crate) fn comment() -> Object {
    text(
        0,
        Comment::MAX_CHARS,
        &Comment::ALLOWED_CONTROLS,
        true,
        "At most 2000 characters after trimming; no control characters (U+0000..=U+001F, \
         U+007F) but tab, line feed and carriage return. `null` or absent means none.",
    )
}

/// `SkillRating.skill`.
pub(crate) fn rated_skill() -> Object {
    text(
        1,
        Skill::MAX_CHARS,
        &[],
        false,
        "One of the provider's current skills, matched case-insensitively after trimming \
         (1..=100 characters, no control characters); answered in the provider's spelling.",
    )
}

/// `FlagInput.explanation`.
pub(crate) fn flag_explanation() -> Object {
    text(
        1,
        FlagExplanation::MAX_CHARS,
        &Comment::ALLOWED_CONTROLS,
        true,
        "1..=1000 characters after trimming; no control characters but tab, line feed and \
         carriage return. Required for the reasons `illegal` and `other`.",
    )
}

/// `DecisionInput.rule`.
pub(crate) fn decision_rule() -> Object {
    text(
        1,
        DecisionRule::MAX_CHARS,
        &[],
        false,
        "The policy rule applied: 1..=100 characters after trimming, on one line (no control \
         characters).",
    )
}

/// `DecisionInput.statement`, `AppealInput.explanation`, `ReplyInput.text`.
pub(crate) fn statement() -> Object {
    text(
        1,
        Statement::MAX_CHARS,
        &Comment::ALLOWED_CONTROLS,
        false,
        "1..=2000 characters after trimming; no control characters but tab, line feed and \
         carriage return.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_skills_refuse_every_control_character() {
        assert_eq!(refused_controls(&[]), r"\u0000-\u001F\u007F");
        let pattern = text_pattern(1, 200, &[]);
        assert!(pattern.starts_with(r"^[ \u0085\u00A0"), "{pattern}");
        assert!(
            pattern.contains(r"(?:[^\u0000-\u001F\u007F]{0,198}["),
            "{pattern}"
        );
    }

    #[test]
    fn a_comment_may_hold_tab_line_feed_and_carriage_return_as_white_space() {
        assert_eq!(
            refused_controls(&Comment::ALLOWED_CONTROLS),
            r"\u0000-\u0008\u000B-\u000C\u000E-\u001F\u007F"
        );
        let pattern = text_pattern(0, 2000, &Comment::ALLOWED_CONTROLS);
        assert!(
            pattern.starts_with(r"^[\u0009\u000A\u000D \u0085"),
            "{pattern}"
        );
        assert!(pattern.contains("{0,1998}"), "{pattern}");
    }
}
