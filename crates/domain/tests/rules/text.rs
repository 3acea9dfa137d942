//! The Text rule: no text a client sends holds U+0000, the other C0 control characters
//! (U+0001..=U+001F) or U+007F; a comment may hold tab, line feed and carriage return. Checked
//! on the text as sent, before trimming, and reported at the field's path.

use crate::helpers::{fault, faults, ranges, strings, valid_input, valid_job};
use provider_domain::{
    Comment, JobInput, JobRequest, ProviderDraft, ProviderInput, ProviderName, SearchFilter,
    SearchInput, Skill, ValueError,
};

/// Every character the rule refuses: U+0000..=U+001F and U+007F.
fn refused() -> impl Iterator<Item = char> {
    ('\u{0}'..='\u{1f}').chain(['\u{7f}'])
}

fn control(character: char, position: usize) -> ValueError {
    ValueError::ControlCharacter {
        character,
        position,
    }
}

#[test]
fn name_refuses_every_c0_control_character_and_delete() {
    for c in refused() {
        // Act
        let result = ProviderName::new(&format!("Bo{c}b"));

        // Assert
        assert_eq!(result, Err(control(c, 3)), "U+{:04X}", u32::from(c));
    }
}

#[test]
fn skill_refuses_every_c0_control_character_and_delete() {
    for c in refused() {
        // Act
        let result = Skill::new(&format!("S{c}EO"));

        // Assert
        assert_eq!(result, Err(control(c, 2)), "U+{:04X}", u32::from(c));
    }
}

#[test]
fn control_characters_are_checked_on_the_text_as_sent_before_trimming() {
    // Arrange: tab, line feed and carriage return are white space that trimming would remove.
    let cases = [
        ("\tBob", control('\t', 1)),
        ("Bob\n", control('\n', 4)),
        ("  Bob\r\n", control('\r', 6)),
        ("\u{0}", control('\u{0}', 1)),
    ];

    for (raw, expected) in cases {
        // Act
        let name = ProviderName::new(raw);
        let skill = Skill::new(raw);

        // Assert
        assert_eq!(name, Err(expected.clone()), "name {raw:?}");
        assert_eq!(skill, Err(expected), "skill {raw:?}");
    }
}

#[test]
fn white_space_that_is_not_a_control_character_is_still_trimmed() {
    // Arrange: no-break space, ideographic space, and a control character of the C1 set
    // (U+0085, next line), which the rule does not name.
    let raw = "\u{a0}\u{3000}Bob\u{85}";

    // Act
    let name = ProviderName::new(raw).unwrap();

    // Assert
    assert_eq!(name.as_str(), "Bob");
}

#[test]
fn the_first_control_character_is_reported_counting_characters_from_1() {
    // Act
    let error = ProviderName::new("Ünïcødé\u{7f}\u{0}").unwrap_err();

    // Assert
    assert_eq!(error, control('\u{7f}', 8));
    assert_eq!(
        error.to_string(),
        "must not contain control characters (found U+007F at character 8)"
    );
}

#[test]
fn comment_may_hold_tab_line_feed_and_carriage_return() {
    // Act
    let comment = Comment::new("Quick:\tdone\r\nwould hire again\n").unwrap();

    // Assert
    assert_eq!(comment.as_str(), "Quick:\tdone\r\nwould hire again");
}

#[test]
fn comment_refuses_every_other_c0_control_character_and_delete() {
    for c in refused().filter(|c| !['\t', '\n', '\r'].contains(c)) {
        // Act
        let result = Comment::new(&format!("ok{c}"));

        // Assert
        assert_eq!(result, Err(control(c, 3)), "U+{:04X}", u32::from(c));
    }
}

#[test]
fn comment_control_character_is_reported_before_its_length() {
    // Act
    let result = Comment::new(&format!("{}\u{0}", "x".repeat(2_001)));

    // Assert
    assert_eq!(result, Err(control('\u{0}', 2_002)));
}

#[test]
fn provider_reports_a_control_character_at_the_name_and_each_skill_path() {
    // Arrange
    let input = ProviderInput {
        name: "Acme\u{0}".into(),
        skills: strings(&["SEO", "Cold\u{1b}Calling", "Design", "\u{7f}"]),
        ..valid_input()
    };

    // Act
    let error = ProviderDraft::parse(&input).unwrap_err();

    // Assert
    assert_eq!(
        faults(&error),
        [
            fault("name", control('\u{0}', 5)),
            fault("skills[1]", control('\u{1b}', 5)),
            fault("skills[3]", control('\u{7f}', 1)),
        ]
    );
}

#[test]
fn search_reports_a_control_character_in_the_name_and_skills_at_their_paths() {
    // Arrange
    let input = SearchInput {
        name: Some("\tseo".into()),
        skills: Some(strings(&["SEO", "Co\u{0}ld"])),
        ..SearchInput::default()
    };

    // Act
    let error = SearchFilter::parse(&input).unwrap_err();

    // Assert
    assert_eq!(
        faults(&error),
        [
            fault("name", control('\t', 1)),
            fault("skills[1]", control('\u{0}', 3)),
        ]
    );
}

#[test]
fn search_name_of_only_a_control_character_is_refused_not_ignored() {
    // Arrange: a blank name filters nothing, but a control character is not blank.
    let input = SearchInput {
        name: Some("\u{0}".into()),
        ..SearchInput::default()
    };

    // Act
    let error = SearchFilter::parse(&input).unwrap_err();

    // Assert
    assert_eq!(faults(&error), [fault("name", control('\u{0}', 1))]);
}

#[test]
fn search_name_control_character_is_reported_alongside_other_faults() {
    // Arrange
    let input = SearchInput {
        name: Some("a\u{1f}".into()),
        cost_gt: Some(10),
        cost_lt: Some(10),
        availability: Some(ranges(&[("2027-01-02", "2027-01-01")])),
        ..SearchInput::default()
    };

    // Act
    let error = SearchFilter::parse(&input).unwrap_err();

    // Assert
    assert_eq!(
        faults(&error),
        [
            fault("name", control('\u{1f}', 2)),
            fault("cost_gt", ValueError::NotBelow { other: "cost_lt" }),
            fault("availability[0].to_date", ValueError::Inverted),
        ]
    );
}

#[test]
fn recommend_reports_a_control_character_in_a_skill_at_its_path() {
    // Arrange
    let input = JobInput {
        skills: Some(strings(&[
            "SEO Optimisation",
            "Cold Calling",
            "Design\u{0}",
        ])),
        ..valid_job()
    };

    // Act
    let error = JobRequest::parse(&input).unwrap_err();

    // Assert
    assert_eq!(faults(&error), [fault("skills[2]", control('\u{0}', 7))]);
}

#[test]
fn text_with_no_control_character_is_accepted_everywhere() {
    // Arrange
    let text = "Ünïcødé ✓ 50% \\ \"quoted\" 'single' <b>";

    // Act
    let name = ProviderName::new(text);
    let skill = Skill::new(text);
    let comment = Comment::new(text);
    let search = SearchFilter::parse(&SearchInput {
        name: Some(text.into()),
        skills: Some(strings(&[text])),
        ..SearchInput::default()
    });
    let job = JobRequest::parse(&JobInput {
        skills: Some(strings(&[text])),
        ..valid_job()
    });

    // Assert
    assert!(name.is_ok() && skill.is_ok() && comment.is_ok());
    assert!(search.is_ok() && job.is_ok());
}
