//! Validate a client's JSON into the crate's values and print the field errors, as a service
//! with its own transport would.
//!
//! ```text
//! cargo run -p provider-domain --example validate_json
//! ```
//!
//! The crate knows no JSON: its `*Input` structs ([`ProviderInput`], [`RangeInput`], ...) are
//! plain structs that hold what a client wrote. The caller reads its wire format into them
//! (here with `serde_json`, into local structs that map onto them) and the crate checks every
//! field at once, reporting each one at fault with its path in the body (`skills[1]`,
//! `availability[0].to_date`). Whether the JSON itself is well formed and well typed is the
//! transport's business, told apart from the domain's refusals here as a caller would (a 400
//! against a 422 in an HTTP API). It exits non-zero if an answer is not the one the rules give.

use provider_domain::{ProviderDraft, ProviderInput, RangeInput, ValidationError};
use serde::Deserialize;

/// The body of a "create a provider" request, as the caller's API spells it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderBody {
    name: String,
    #[serde(default)]
    skills: Vec<String>,
    cost_in_pence: i64,
    #[serde(default)]
    availability: Vec<RangeBody>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeBody {
    from_date: String,
    to_date: String,
}

impl From<ProviderBody> for ProviderInput {
    fn from(body: ProviderBody) -> Self {
        Self {
            name: body.name,
            skills: body.skills,
            cost_in_pence: body.cost_in_pence,
            availability: body
                .availability
                .into_iter()
                .map(|r| RangeInput {
                    from_date: r.from_date,
                    to_date: r.to_date,
                })
                .collect(),
        }
    }
}

/// What became of one body.
#[derive(Debug)]
enum Outcome {
    /// Not JSON of the right shape: the transport refuses it before the domain sees it.
    Malformed(serde_json::Error),
    /// Well formed, but the domain refuses some fields.
    Invalid(ValidationError),
    /// Valid: the checked values.
    Valid(ProviderDraft),
}

fn validate(json: &str) -> Outcome {
    let body: ProviderBody = match serde_json::from_str(json) {
        Ok(body) => body,
        Err(e) => return Outcome::Malformed(e),
    };
    match ProviderDraft::parse(&body.into()) {
        Ok(draft) => Outcome::Valid(draft),
        Err(errors) => Outcome::Invalid(errors),
    }
}

fn main() {
    let valid = r#"{
        "name": "  SEO Incorporated ",
        "skills": ["SEO", "Cold Calling", "seo"],
        "cost_in_pence": 25000,
        "availability": [{"from_date": "2027-11-12", "to_date": "2027-12-28"}]
    }"#;
    let Outcome::Valid(draft) = validate(valid) else {
        panic!("the first body is valid")
    };
    println!(
        "valid: {:?}, skills {:?}, {} pence a day, {} range(s)",
        draft.name.as_str(),
        draft.skills.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        draft.cost.pence(),
        draft.availability.ranges().len()
    );
    assert_eq!(draft.name.as_str(), "SEO Incorporated");
    assert_eq!(
        draft.skills.len(),
        2,
        "\"seo\" repeats \"SEO\" and is dropped"
    );

    // Every field at fault is reported at once, each at its path, in the order found.
    let invalid = r#"{
        "name": "   ",
        "skills": ["SEO", "", "Tab\there"],
        "cost_in_pence": -5,
        "availability": [
            {"from_date": "2027-03-10", "to_date": "2027-03-01"},
            {"from_date": "2027-02-30", "to_date": "2027-03-31"}
        ]
    }"#;
    let Outcome::Invalid(errors) = validate(invalid) else {
        panic!("the second body is invalid")
    };
    println!("invalid: {errors}");
    for fault in errors.fields() {
        println!("  {:<26} {}", fault.field, fault.error);
    }
    let fields: Vec<&str> = errors.fields().iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "name",
            "skills[1]",
            "skills[2]",
            "cost_in_pence",
            "availability[0].to_date",
            "availability[1].from_date",
        ]
    );

    // A body that is not the right JSON never reaches the domain.
    let malformed = r#"{"name": "SEO Incorporated", "cost_in_pence": "25000"}"#;
    let Outcome::Malformed(e) = validate(malformed) else {
        panic!("the third body is malformed")
    };
    println!("malformed: {e}");
    assert!(
        e.is_data(),
        "a string where a number belongs is a type error"
    );
}
