//! What a client sends to moderation: a flag's reason and explanation, a decision's rule and
//! statement, an appeal, a reply. Texts follow the Text rule and are trimmed; faults are
//! reported at the field's path.

use crate::helpers::{fault, faults};
use provider_domain::{
    AppealInput, AppealRequest, DecisionAction, DecisionInput, DecisionRequest, DecisionRule,
    DecisionTarget, FlagInput, FlagReason, FlagRequest, ReplyInput, ReplyRequest, Statement,
    ValueError,
};

fn flag(reason: FlagReason, explanation: Option<&str>) -> FlagInput {
    FlagInput {
        reason,
        explanation: explanation.map(str::to_owned),
    }
}

fn decision(rule: &str, statement: &str) -> DecisionInput {
    DecisionInput {
        action: DecisionAction::Hide,
        rule: rule.into(),
        statement: statement.into(),
        target: DecisionTarget::default(),
    }
}

#[test]
fn a_flag_for_illegal_or_other_reasons_needs_an_explanation() {
    for reason in [FlagReason::Illegal, FlagReason::Other] {
        // Act
        let error = FlagRequest::parse(&flag(reason, None)).unwrap_err();

        // Assert
        assert_eq!(faults(&error), [fault("explanation", ValueError::Required)]);
    }
}

#[test]
fn a_flag_for_the_other_reasons_may_go_without_an_explanation() {
    for reason in [
        FlagReason::Spam,
        FlagReason::Offensive,
        FlagReason::Fake,
        FlagReason::PersonalData,
    ] {
        // Act
        let request = FlagRequest::parse(&flag(reason, None)).unwrap();

        // Assert
        assert_eq!(request.reason, reason);
        assert_eq!(request.explanation, None);
    }
}

#[test]
fn a_flags_explanation_is_trimmed_text_of_1_to_1000_characters() {
    // Arrange
    let cases = [
        ("  it lies\n", Ok("it lies".to_owned())),
        (
            "line one\nline two\ttab",
            Ok("line one\nline two\ttab".to_owned()),
        ),
        ("   ", Err(ValueError::Empty)),
        (
            &"x".repeat(1001) as &str,
            Err(ValueError::TooLong {
                max: 1000,
                actual: 1001,
            }),
        ),
        (
            "bad\u{0}byte",
            Err(ValueError::ControlCharacter {
                character: '\u{0}',
                position: 4,
            }),
        ),
    ];

    for (raw, expected) in cases {
        // Act
        let result = FlagRequest::parse(&flag(FlagReason::Spam, Some(raw)));

        // Assert
        match expected {
            Ok(text) => assert_eq!(result.unwrap().explanation.unwrap().as_str(), text),
            Err(e) => assert_eq!(faults(&result.unwrap_err()), [fault("explanation", e)]),
        }
    }
    assert!(FlagRequest::parse(&flag(FlagReason::Other, Some(&"x".repeat(1000)))).is_ok());
}

#[test]
fn a_decision_reports_its_rule_and_statement_both_when_both_are_at_fault() {
    // Act
    let error = DecisionRequest::parse(&decision(" ", "")).unwrap_err();

    // Assert
    assert_eq!(
        faults(&error),
        [
            fault("rule", ValueError::Empty),
            fault("statement", ValueError::Empty)
        ]
    );
}

#[test]
fn a_decisions_rule_is_one_line_of_at_most_100_characters() {
    // Arrange
    let cases = [
        (
            "a\nb",
            ValueError::ControlCharacter {
                character: '\n',
                position: 2,
            },
        ),
        (
            &"r".repeat(101) as &str,
            ValueError::TooLong {
                max: 100,
                actual: 101,
            },
        ),
    ];

    for (rule, expected) in cases {
        // Act
        let error = DecisionRequest::parse(&decision(rule, "Reasons.")).unwrap_err();

        // Assert
        assert_eq!(faults(&error), [fault("rule", expected)]);
    }
    assert_eq!(
        DecisionRule::new(&"r".repeat(100)).unwrap().as_str().len(),
        100
    );
}

#[test]
fn a_decisions_statement_is_prose_of_at_most_2000_characters() {
    // Act
    let long = DecisionRequest::parse(&decision("spam", &"s".repeat(2001))).unwrap_err();
    let ok = DecisionRequest::parse(&decision("  spam ", "Line one.\nLine two.")).unwrap();

    // Assert
    assert_eq!(
        faults(&long),
        [fault(
            "statement",
            ValueError::TooLong {
                max: 2000,
                actual: 2001
            }
        )]
    );
    assert_eq!(ok.rule.as_str(), "spam");
    assert_eq!(ok.statement.as_str(), "Line one.\nLine two.");
    assert_eq!(ok.action, DecisionAction::Hide);
    assert_eq!(ok.target, DecisionTarget::Review);
    assert_eq!(Statement::MAX_CHARS, 2000);
}

#[test]
fn an_appeals_explanation_and_a_reply_are_trimmed_prose_of_1_to_2000_characters() {
    // Act
    let appeal = AppealRequest::parse(&AppealInput {
        explanation: " It was fair.\n".into(),
    })
    .unwrap();
    let empty_appeal = AppealRequest::parse(&AppealInput {
        explanation: "\n".into(),
    })
    .unwrap_err();
    let reply = ReplyRequest::parse(&ReplyInput {
        text: "Thank you!\n".into(),
    })
    .unwrap();
    let long_reply = ReplyRequest::parse(&ReplyInput {
        text: "r".repeat(2001),
    })
    .unwrap_err();

    // Assert
    assert_eq!(appeal.explanation.as_str(), "It was fair.");
    assert_eq!(
        faults(&empty_appeal),
        [fault("explanation", ValueError::Empty)]
    );
    assert_eq!(reply.text.as_str(), "Thank you!");
    assert_eq!(reply.text.to_string(), "Thank you!");
    assert_eq!(
        faults(&long_reply),
        [fault(
            "text",
            ValueError::TooLong {
                max: 2000,
                actual: 2001
            }
        )]
    );
}

#[test]
fn every_name_of_the_contract_reads_back_as_its_value() {
    // Assert
    for reason in FlagReason::ALL {
        assert_eq!(FlagReason::parse(reason.as_str()), Some(reason));
        assert_eq!(reason.to_string(), reason.as_str());
    }
    for action in [DecisionAction::Publish, DecisionAction::Hide] {
        assert_eq!(DecisionAction::parse(action.as_str()), Some(action));
    }
    for target in [DecisionTarget::Review, DecisionTarget::Reply] {
        assert_eq!(DecisionTarget::parse(target.as_str()), Some(target));
    }
    assert_eq!(FlagReason::parse("rude"), None);
    assert_eq!(DecisionAction::parse("hold"), None);
    assert_eq!(DecisionTarget::parse("flag"), None);
    assert_eq!(
        FlagReason::ALL.map(FlagReason::as_str),
        [
            "spam",
            "offensive",
            "fake",
            "personal_data",
            "illegal",
            "other"
        ]
    );
}
