//! A provider's fields (name, skills, cost) and every fault reported at once with its path.

use crate::helpers::{
    day_range, fault, faults, provider, ranges, spellings, stats, strings, valid_input,
};
use provider_domain::{
    DayRate, FieldError, ProviderDraft, ProviderInput, ProviderName, Skill, Skills,
    ValidationError, ValueError,
};

// ---------------------------------------------------------------------------------------------
// Provider fields
// ---------------------------------------------------------------------------------------------

#[test]
fn name_is_trimmed_and_holds_1_to_200_characters() {
    // Arrange
    let cases: Vec<(String, Result<String, ValueError>)> = vec![
        (
            "  SEO Incorporated \u{3000}".into(),
            Ok("SEO Incorporated".into()),
        ),
        ("a".into(), Ok("a".into())),
        ("é".repeat(200), Ok("é".repeat(200))),
        (format!("  {}\u{a0}", "x".repeat(200)), Ok("x".repeat(200))),
        // Tab and line feed are white space but control characters too: refused, not trimmed.
        (
            "  SEO Incorporated \n".into(),
            Err(ValueError::ControlCharacter {
                character: '\n',
                position: 20,
            }),
        ),
        (
            "é".repeat(201),
            Err(ValueError::TooLong {
                max: 200,
                actual: 201,
            }),
        ),
        ("".into(), Err(ValueError::Empty)),
        (" \u{a0}\u{3000} ".into(), Err(ValueError::Empty)),
    ];

    for (raw, expected) in cases {
        // Act
        let name = ProviderName::new(&raw);

        // Assert
        assert_eq!(
            name.as_ref()
                .map(ProviderName::as_str)
                .map_err(Clone::clone),
            expected.as_deref().map_err(Clone::clone),
            "name {raw:?}"
        );
    }
}

#[test]
fn name_of_200_two_byte_characters_is_counted_as_200() {
    // Arrange
    let raw = "é".repeat(200);
    assert_eq!(raw.len(), 400);

    // Act
    let name = ProviderName::new(&raw);

    // Assert
    assert!(name.is_ok());
}

#[test]
fn skill_is_trimmed_and_holds_1_to_100_characters() {
    // Arrange
    let cases: Vec<(String, Result<String, ValueError>)> = vec![
        (" Cold Calling ".into(), Ok("Cold Calling".into())),
        ("ß".repeat(100), Ok("ß".repeat(100))),
        (
            "ß".repeat(101),
            Err(ValueError::TooLong {
                max: 100,
                actual: 101,
            }),
        ),
        ("".into(), Err(ValueError::Empty)),
        ("   ".into(), Err(ValueError::Empty)),
    ];

    for (raw, expected) in cases {
        // Act
        let skill = Skill::new(&raw);

        // Assert
        assert_eq!(
            skill.as_ref().map(Skill::as_str).map_err(Clone::clone),
            expected.as_deref().map_err(Clone::clone),
            "skill {raw:?}"
        );
    }
}

#[test]
fn skill_key_is_lower_case_and_spelling_is_kept() {
    // Act
    let skill = Skill::new("  SEO Optimisation ").unwrap();

    // Assert
    assert_eq!(skill.as_str(), "SEO Optimisation");
    assert_eq!(skill.key(), "seo optimisation");
}

#[test]
fn duplicate_skills_are_dropped_keeping_the_first_spelling_and_the_order() {
    // Arrange
    let input = ProviderInput {
        skills: strings(&[
            "SEO",
            "Cold Calling",
            "seo",
            " COLD calling ",
            "Design",
            "sEo",
        ]),
        ..valid_input()
    };

    // Act
    let draft = ProviderDraft::parse(&input).unwrap();

    // Assert
    assert_eq!(
        spellings(draft.skills.as_slice()),
        ["SEO", "Cold Calling", "Design"]
    );
}

#[test]
fn a_skill_set_iterates_by_reference_in_its_order_as_its_slice_does() {
    // Arrange
    let skills = Skills::from_skills(["Design", "SEO", "design"].map(|s| Skill::new(s).unwrap()));

    // Act
    let mut looped = Vec::new();
    for skill in &skills {
        looped.push(skill.as_str());
    }

    // Assert
    assert_eq!(looped, ["Design", "SEO"]);
    assert_eq!(looped, spellings(skills.as_slice()));
    assert_eq!(skills.iter().count(), skills.len());
}

#[test]
fn provider_may_have_no_skills() {
    // Arrange
    let input = ProviderInput {
        skills: Vec::new(),
        ..valid_input()
    };

    // Act
    let draft = ProviderDraft::parse(&input).unwrap();

    // Assert
    assert!(draft.skills.is_empty());
}

#[test]
fn provider_may_list_50_skills_but_not_51() {
    // Arrange
    let fifty: Vec<String> = (0..50).map(|i| format!("skill {i}")).collect();
    let fifty_one: Vec<String> = (0..51).map(|i| format!("skill {i}")).collect();

    // Act
    let ok = ProviderDraft::parse(&ProviderInput {
        skills: fifty,
        ..valid_input()
    });
    let refused = ProviderDraft::parse(&ProviderInput {
        skills: fifty_one,
        ..valid_input()
    })
    .unwrap_err();

    // Assert
    assert_eq!(ok.unwrap().skills.len(), 50);
    assert_eq!(
        faults(&refused),
        [fault(
            "skills",
            ValueError::TooMany {
                max: 50,
                actual: 51
            }
        )]
    );
}

#[test]
fn an_empty_skill_is_reported_at_its_index() {
    // Arrange
    let input = ProviderInput {
        skills: strings(&["SEO", "Design", "  "]),
        ..valid_input()
    };

    // Act
    let error = ProviderDraft::parse(&input).unwrap_err();

    // Assert
    assert_eq!(faults(&error), [fault("skills[2]", ValueError::Empty)]);
}

#[test]
fn cost_is_between_0_and_100_billion_pence_inclusive() {
    // Arrange
    let out_of_range = Err(ValueError::OutOfRange {
        min: "0".into(),
        max: "100000000000".into(),
    });
    let cases = [
        (0, Ok(0)),
        (1, Ok(1)),
        (25_000, Ok(25_000)),
        (100_000_000_000, Ok(100_000_000_000)),
        (-1, out_of_range.clone()),
        (100_000_000_001, out_of_range.clone()),
        (i64::MIN, out_of_range.clone()),
        (i64::MAX, out_of_range),
    ];

    for (pence, expected) in cases {
        // Act
        let rate = DayRate::new(pence).map(DayRate::pence);

        // Assert
        assert_eq!(rate, expected, "cost {pence}");
    }
}

#[test]
fn a_negative_cost_is_reported_at_cost_in_pence() {
    // Arrange
    let input = ProviderInput {
        cost_in_pence: -1,
        ..valid_input()
    };

    // Act
    let error = ProviderDraft::parse(&input).unwrap_err();

    // Assert
    assert_eq!(error.fields().len(), 1);
    assert_eq!(error.fields()[0].field, "cost_in_pence");
}

// ---------------------------------------------------------------------------------------------
// Reporting: field paths, every fault at once
// ---------------------------------------------------------------------------------------------

#[test]
fn every_faulty_provider_field_is_reported_at_once_with_its_path() {
    // Arrange
    let input = ProviderInput {
        name: "   ".into(),
        skills: strings(&["SEO", "Design", "", &"x".repeat(101)]),
        cost_in_pence: -1,
        availability: ranges(&[
            ("2027-01-01", "2027-01-02"),
            ("2027-03-02", "2027-03-01"),
            ("2027-02-30", "1899-01-01"),
        ]),
    };

    // Act
    let error = ProviderDraft::parse(&input).unwrap_err();

    // Assert
    assert_eq!(
        faults(&error),
        [
            fault("name", ValueError::Empty),
            fault("skills[2]", ValueError::Empty),
            fault(
                "skills[3]",
                ValueError::TooLong {
                    max: 100,
                    actual: 101
                }
            ),
            fault(
                "cost_in_pence",
                ValueError::OutOfRange {
                    min: "0".into(),
                    max: "100000000000".into()
                }
            ),
            fault("availability[1].to_date", ValueError::Inverted),
            fault("availability[2].from_date", ValueError::NotADate),
            fault("availability[2].to_date", ValueError::DateOutOfRange),
        ]
    );
}

#[test]
fn an_overlap_is_reported_together_with_other_faulty_fields() {
    // Arrange
    let input = ProviderInput {
        name: String::new(),
        cost_in_pence: 100_000_000_001,
        availability: ranges(&[("2027-01-01", "2027-01-05"), ("2027-01-04", "2027-01-09")]),
        ..valid_input()
    };

    // Act
    let error = ProviderDraft::parse(&input).unwrap_err();

    // Assert
    let fields: Vec<&str> = error.fields().iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["name", "cost_in_pence", "availability[1]"]);
    assert_eq!(error.fields()[2].error, ValueError::Overlaps { other: 0 });
}

#[test]
fn validation_error_reads_as_one_sentence_naming_each_field() {
    // Arrange
    let error = ValidationError(vec![
        FieldError::new("availability[1].to_date", ValueError::Inverted),
        FieldError::new("skills[2]", ValueError::Empty),
    ]);

    // Act
    let message = error.to_string();

    // Assert
    assert_eq!(
        message,
        "the request has 2 invalid field(s): availability[1].to_date from_date must not be \
         after to_date; skills[2] must not be empty"
    );
}

#[test]
fn a_valid_provider_parses_into_its_trimmed_values() {
    // Arrange
    let input = ProviderInput {
        name: "  SEO Incorporated  ".into(),
        skills: strings(&[" SEO Optimisation", "Cold Calling "]),
        cost_in_pence: 25_000,
        availability: ranges(&[("2027-11-12", "2027-12-28")]),
    };

    // Act
    let draft = ProviderDraft::parse(&input).unwrap();

    // Assert
    assert_eq!(draft.name.as_str(), "SEO Incorporated");
    assert_eq!(
        spellings(draft.skills.as_slice()),
        ["SEO Optimisation", "Cold Calling"]
    );
    assert_eq!(draft.cost.pence(), 25_000);
    assert_eq!(
        draft.availability.ranges(),
        [day_range("2027-11-12", "2027-12-28")]
    );
}

#[test]
fn a_name_and_a_skill_display_as_stored_trimmed_in_the_given_spelling() {
    // Arrange
    let name = ProviderName::new("  SEO Incorporated ").unwrap();
    let skill = Skill::new(" Cold CALLING ").unwrap();

    // Act
    let shown = format!("{name} offers {skill}");

    // Assert
    assert_eq!(shown, "SEO Incorporated offers Cold CALLING");
}

// ---------------------------------------------------------------------------------------------
// Replacing a provider
// ---------------------------------------------------------------------------------------------

#[test]
fn replacing_a_provider_takes_every_field_a_client_sets_and_keeps_id_owner_and_reviews() {
    // Arrange
    let mut before = provider(7, 25_000);
    before.reviews = stats(&[40, 50]);
    let draft = ProviderDraft::parse(&ProviderInput {
        name: "Plumbing Partners".into(),
        skills: strings(&["Plumbing"]),
        cost_in_pence: 31_000,
        availability: ranges(&[("2028-05-01", "2028-05-31")]),
    })
    .unwrap();

    // Act
    let after = before.clone().replaced(draft);

    // Assert
    assert_eq!(after.name.as_str(), "Plumbing Partners");
    assert_eq!(spellings(after.skills.as_slice()), ["Plumbing"]);
    assert_eq!(after.cost.pence(), 31_000);
    assert_eq!(
        after.availability.ranges(),
        [day_range("2028-05-01", "2028-05-31")]
    );
    assert_eq!(after.id, before.id);
    assert_eq!(after.owner, before.owner);
    assert_eq!(after.reviews, before.reviews);
}
