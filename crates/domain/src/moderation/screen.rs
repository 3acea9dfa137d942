//! The screen a comment (or a provider's reply) passes at submission: a pure function of the
//! text and the operator's settings, the same on every store.
//!
//! Every check reads the text after Unicode NFKC normalisation, and all but profanity after
//! case folding too ([`crate::fold_case`]), so `ＦＯＯ` reads `foo` and `ｗｗｗ.` reads `www.`.
//! Profanity is `rustrict`'s English detector, which handles evasions (`f.u.c.k`, `sh!t`,
//! `sh1t`, confusable letters), given the text with its numbers blanked (rustrict reads digits
//! as letters, so "room 101" or a date would be profane), at the threshold
//! `(Type::PROFANE | Type::OFFENSIVE | Type::SEXUAL) & Type::MODERATE_OR_HIGHER`: moderately
//! (or more) profane, offensive or sexual. At it, "Scunthorpe", "assessment",
//! "class" and "cocktail" are not profane, nor are mild words ("damn", "hell of a job",
//! "bloody good", "crap"), shouting, or a merely mean review ("I hate this"); rustrict 0.7.39
//! still finds a few English place names profane (Middlesex, Lightwater): such a review waits
//! for a person.

use super::status::Reason;
use crate::values::fold_case;
use rustrict::{Censor, Type};
use unicode_normalization::UnicodeNormalization;

/// The operator's list of terms (`MODERATION_BLOCKLIST_FILE`), normalised as comments are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Blocklist(Vec<String>);

impl Blocklist {
    /// From the text of a blocklist file: one term per line; a line whose first character
    /// (after trimming) is `#` is a comment; each line trimmed, NFKC-normalised and
    /// case-folded; blank lines ignored; a term listed twice kept once.
    pub fn parse(file: &str) -> Self {
        Self::from_terms(
            file.lines()
                .map(str::trim)
                .filter(|line| !line.starts_with('#')),
        )
    }

    /// From terms given one by one: each trimmed, NFKC-normalised and case-folded; blank
    /// terms left out; a term given twice kept once.
    pub fn from_terms<'a>(terms: impl IntoIterator<Item = &'a str>) -> Self {
        let mut kept: Vec<String> = Vec::new();
        for term in terms {
            let term = normalise(term.trim());
            let term = term.trim();
            if !term.is_empty() && !kept.iter().any(|k| k == term) {
                kept.push(term.to_owned());
            }
        }
        Self(kept)
    }

    /// The terms as matched (normalised), in the order first given.
    pub fn terms(&self) -> &[String] {
        &self.0
    }

    /// True when the list holds no term.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when one of the terms stands in `normalised` as whole words.
    fn matches(&self, normalised: &str) -> bool {
        self.0.iter().any(|term| contains_whole(normalised, term))
    }
}

/// Whether a review with a comment is published once it passes the screen
/// (`MODERATION_PUBLISH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PublishMode {
    /// A comment that passes the screen is published at once (the default).
    #[default]
    Auto,
    /// Every non-empty comment waits for a person (reason `manual`).
    Manual,
}

/// The operator's screen settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenSettings {
    /// The operator's terms (`MODERATION_BLOCKLIST_FILE`; empty without one).
    pub blocklist: Blocklist,
    /// Whether profanity holds a comment (`MODERATION_PROFANITY`, default `true`).
    pub profanity: bool,
    /// `MODERATION_PUBLISH` (default [`PublishMode::Auto`]).
    pub publish: PublishMode,
}

impl Default for ScreenSettings {
    /// No term, profanity checked, published automatically.
    fn default() -> Self {
        Self {
            blocklist: Blocklist::default(),
            profanity: true,
            publish: PublishMode::Auto,
        }
    }
}

/// The profanity threshold handed to rustrict: moderately or severely profane, offensive or
/// sexual. Mild profanity, meanness, shouting and spam are left to flags and moderators.
fn profanity_threshold() -> Type {
    (Type::PROFANE | Type::OFFENSIVE | Type::SEXUAL) & Type::MODERATE_OR_HIGHER
}

/// Every reason `text` waits for a person, in the order `blocked_term`, `profanity`, `link`,
/// `contact_details`, `manual`; empty when it is published at once. A text of white space only
/// counts as empty, and an empty text always passes.
pub fn screen(text: &str, settings: &ScreenSettings) -> Vec<Reason> {
    let text = text.trim();
    if text.is_empty() {
        return Vec::new();
    }
    let nfkc: String = text.nfkc().collect();
    let normalised = fold_case(&nfkc);
    let mut reasons = Vec::new();
    if settings.blocklist.matches(&normalised) {
        reasons.push(Reason::BlockedTerm);
    }
    if settings.profanity && is_profane(&nfkc) {
        reasons.push(Reason::Profanity);
    }
    if has_link(&normalised) {
        reasons.push(Reason::Link);
    }
    if has_email_address(&normalised) || has_phone_number(&normalised) {
        reasons.push(Reason::ContactDetails);
    }
    if settings.publish == PublishMode::Manual {
        reasons.push(Reason::Manual);
    }
    reasons
}

/// NFKC, then the crate's case folding: how comments and blocklist terms are compared.
fn normalise(text: &str) -> String {
    fold_case(&text.nfkc().collect::<String>())
}

/// True for what counts as part of a word when a term is matched whole.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// True when `term` stands in `text` with no word character touching either end (an end of
/// the term that is not itself a word character needs no boundary).
fn contains_whole(text: &str, term: &str) -> bool {
    let starts_with_word = term.chars().next().is_some_and(is_word_char);
    let ends_with_word = term.chars().next_back().is_some_and(is_word_char);
    let mut from = 0;
    while let Some(found) = text[from..].find(term) {
        let start = from + found;
        let end = start + term.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        let open = !(starts_with_word && before.is_some_and(is_word_char));
        let close = !(ends_with_word && after.is_some_and(is_word_char));
        if open && close {
            return true;
        }
        // Look again from the next character: occurrences may overlap.
        from = start + text[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// rustrict reads digits as the letters they may stand for (`sh1t`), which makes words of
/// numbers: "room 101, 4.5/5" or a date range would be profane. So the digits of a word
/// holding no letter are blanked first; a digit within a word (`sh1t`, `b00bs`) stays.
/// `nfkc` is the text after NFKC normalisation.
fn is_profane(nfkc: &str) -> bool {
    Censor::from_str(&without_numbers(nfkc))
        .analyze()
        .is(profanity_threshold())
}

/// `text` with the ASCII digits of every white-space-separated word holding no letter
/// replaced by spaces.
fn without_numbers(text: &str) -> String {
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            if word.chars().any(char::is_alphabetic) {
                word.to_owned()
            } else {
                word.chars()
                    .map(|c| if c.is_ascii_digit() { ' ' } else { c })
                    .collect()
            }
        })
        .collect()
}

/// `http://` or `https://` anywhere, or `www.` starting a word and followed by a word
/// character (so "awww." is no link).
fn has_link(normalised: &str) -> bool {
    if normalised.contains("http://") || normalised.contains("https://") {
        return true;
    }
    normalised.match_indices("www.").any(|(start, found)| {
        let before = normalised[..start].chars().next_back();
        let after = normalised[start + found.len()..].chars().next();
        !before.is_some_and(is_word_char) && after.is_some_and(is_word_char)
    })
}

/// Characters an e-mail address's local part may hold besides letters and digits.
const LOCAL_PUNCTUATION: &str = ".!#$%&'*+/=?^_`{|}~-";

/// An `@` with at least one local-part character right before it and a domain right after:
/// two or more dot-separated labels of letters, digits and hyphens, the last one at least two
/// letters.
fn has_email_address(normalised: &str) -> bool {
    normalised.match_indices('@').any(|(at, _)| {
        let local = normalised[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || LOCAL_PUNCTUATION.contains(c));
        let domain: String = normalised[at + 1..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '.')
            .collect();
        let labels: Vec<&str> = domain.trim_end_matches('.').split('.').collect();
        local
            && labels.len() >= 2
            && labels.iter().all(|label| !label.is_empty())
            && labels
                .last()
                .is_some_and(|tld| tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
    })
}

/// Fewest and most digits a phone number has.
const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 9..=15;

/// A run of digits where each gap between two digits holds at most one space, dot or dash
/// (and at most one bracket of each kind, so groups may stand in brackets), with 9 to 15
/// digits. A leading `+` changes nothing. A date (`2027-03-01`, 8 digits) or a sum
/// (`1.250.000`, 7) is too short to be one.
fn has_phone_number(normalised: &str) -> bool {
    let chars: Vec<char> = normalised.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let (digits, end) = digit_run(&chars, i);
        if PHONE_DIGITS.contains(&digits) {
            return true;
        }
        i = end;
    }
    false
}

/// The number of digits in the run starting at the digit `chars[start]`, and the index just
/// after its last digit.
fn digit_run(chars: &[char], start: usize) -> (usize, usize) {
    let mut digits = 0;
    let mut at = start;
    loop {
        digits += 1;
        at += 1;
        let (mut separators, mut opening, mut closing) = (0, 0, 0);
        let mut next = at;
        while let Some(&c) = chars.get(next) {
            match c {
                ' ' | '.' | '-' => separators += 1,
                '(' => opening += 1,
                ')' => closing += 1,
                _ => break,
            }
            next += 1;
        }
        let joined = separators <= 1 && opening <= 1 && closing <= 1;
        if joined && chars.get(next).is_some_and(char::is_ascii_digit) {
            at = next;
        } else {
            return (digits, at);
        }
    }
}
