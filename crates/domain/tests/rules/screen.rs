//! The screen at submission: what holds a comment (operator terms as whole words after NFKC,
//! profanity, links, e-mail addresses, phone numbers, `manual`), in the contract's order.

use provider_domain::{screen, Blocklist, PublishMode, Reason, ScreenSettings};

fn settings() -> ScreenSettings {
    ScreenSettings::default()
}

fn with_terms(file: &str) -> ScreenSettings {
    ScreenSettings {
        blocklist: Blocklist::parse(file),
        ..settings()
    }
}

#[test]
fn a_plain_comment_passes_the_screen() {
    // Act
    let reasons = screen("Bob fixed the tap in an hour. Great work!", &settings());

    // Assert
    assert_eq!(reasons, []);
}

#[test]
fn an_empty_or_white_space_comment_passes_even_in_manual_mode() {
    // Arrange
    let manual = ScreenSettings {
        publish: PublishMode::Manual,
        ..with_terms("foo")
    };

    for text in ["", " ", "\t\n\r  "] {
        // Act
        let reasons = screen(text, &manual);

        // Assert
        assert_eq!(reasons, [], "{text:?}");
    }
}

#[test]
fn manual_mode_holds_every_non_empty_comment() {
    // Arrange
    let manual = ScreenSettings {
        publish: PublishMode::Manual,
        ..settings()
    };

    // Act
    let reasons = screen("Great work", &manual);

    // Assert
    assert_eq!(reasons, [Reason::Manual]);
}

#[test]
fn a_blocked_term_matches_as_a_whole_word_whatever_its_case() {
    // Arrange
    let terms = with_terms("foo\nbad phrase");
    let cases = [
        ("foo", true),
        ("It was FOO.", true),
        ("(foo)", true),
        ("Foo-bar", true),
        ("food", false),
        ("afoo", false),
        ("foo_bar", false),
        ("a bad phrase indeed", true),
        ("a bad phrasebook", false),
        ("bad  phrase", false),
    ];

    for (text, held) in cases {
        // Act
        let reasons = screen(text, &terms);

        // Assert
        assert_eq!(reasons.contains(&Reason::BlockedTerm), held, "{text:?}");
    }
}

#[test]
fn a_blocked_term_matches_after_nfkc_normalisation_of_the_comment() {
    // Arrange: fullwidth letters, and the "ﬁ" ligature, are their plain letters after NFKC.
    let terms = with_terms("foo\nfine");

    for text in ["ＦＯＯ", "ｆｏｏ fighters", "a ﬁne job"] {
        // Act
        let reasons = screen(text, &terms);

        // Assert
        assert_eq!(reasons, [Reason::BlockedTerm], "{text:?}");
    }
}

#[test]
fn blocklist_lines_are_trimmed_and_normalised_comments_and_blank_lines_ignored() {
    // Act
    let list = Blocklist::parse(
        "# the operator's terms\n  ＦＯＯ  \n\n   \n\tBar\r\n  # not a term\nfoo\n",
    );

    // Assert
    assert_eq!(list.terms(), ["foo", "bar"]);
    assert!(!list.is_empty());
    assert!(Blocklist::parse("# nothing\n\n").is_empty());
}

#[test]
fn a_comment_line_of_the_blocklist_is_no_term() {
    // Arrange
    let terms = with_terms("# secret\nfoo");

    // Act
    let reasons = screen("# secret", &terms);

    // Assert
    assert_eq!(reasons, []);
}

#[test]
fn a_term_overlapping_a_failed_match_is_still_found() {
    // Arrange: the first "aa" in "aaa aa" touches a letter; the second stands alone.
    let terms = with_terms("aa");

    // Act
    let reasons = screen("aaa aa", &terms);

    // Assert
    assert_eq!(reasons, [Reason::BlockedTerm]);
}

#[test]
fn a_term_edged_with_punctuation_needs_no_word_boundary_there() {
    // Arrange
    let terms = with_terms("f*ck\n-x-");

    for (text, held) in [("what the f*ck", true), ("a-x-b", true), ("ax", false)] {
        // Act
        let reasons = screen(text, &terms);

        // Assert
        assert_eq!(reasons.contains(&Reason::BlockedTerm), held, "{text:?}");
    }
}

#[test]
fn profanity_holds_a_comment_with_its_evasions() {
    for text in [
        "this is shit",
        "what the fuck",
        "f.u.c.k",
        "ｆｕｃｋ",
        "sh!t service",
        "the 5h1t",
        "b00bs",
    ] {
        // Act
        let reasons = screen(text, &settings());

        // Assert
        assert_eq!(reasons, [Reason::Profanity], "{text:?}");
    }
}

#[test]
fn profanity_has_no_false_positive_on_scunthorpe_assessment_class_or_cocktail() {
    for text in [
        "Scunthorpe",
        "assessment",
        "class",
        "cocktail",
        "The assessment in Scunthorpe was first class; the cocktail bar too.",
        "Penistone",
        "Essex",
        "therapist",
        "grape",
        "Arsenal",
        "cockpit",
        "room 101, 4.5/5",
        "in 2027 it was 69 degrees",
        "invoice 80085 paid",
        "1 2 3 4 5 6 7 8",
    ] {
        // Act
        let reasons = screen(text, &settings());

        // Assert
        assert_eq!(reasons, [], "{text:?}");
    }
}

#[test]
fn mild_words_shouting_and_mean_reviews_are_not_profanity() {
    for text in [
        "a hell of a job",
        "damn good",
        "crap service",
        "WORST SERVICE EVER",
        "I hate this",
        "you are an idiot",
    ] {
        // Act
        let reasons = screen(text, &settings());

        // Assert
        assert_eq!(reasons, [], "{text:?}");
    }
}

#[test]
fn profanity_is_not_checked_when_the_operator_turns_it_off() {
    // Arrange
    let off = ScreenSettings {
        profanity: false,
        ..settings()
    };

    // Act
    let reasons = screen("this is shit", &off);

    // Assert
    assert_eq!(reasons, []);
}

#[test]
fn a_comment_with_a_link_is_held_for_a_person() {
    for text in [
        "see http://example.com",
        "see https://example.com",
        "HTTPS://EXAMPLE.COM",
        "www.example.com",
        "visit WWW.example.com",
        "ｗｗｗ.example.com",
        "(www.example.com)",
    ] {
        // Act
        let reasons = screen(text, &settings());

        // Assert
        assert_eq!(reasons, [Reason::Link], "{text:?}");
    }
}

#[test]
fn www_inside_a_word_or_at_the_end_is_no_link() {
    for text in ["awww. so kind", "the www. was down", "www.", "awww.com"] {
        // Act
        let reasons = screen(text, &settings());

        // Assert
        assert_eq!(reasons, [], "{text:?}");
    }
}

#[test]
fn a_comment_with_an_email_address_is_held_for_contact_details() {
    for text in [
        "mail bob@example.com",
        "Robert.Smith+jobs@mail.example.co.uk.",
        "write to x@y.io today",
        "ｂｏｂ＠ｅｘａｍｐｌｅ．ｃｏｍ",
    ] {
        // Act
        let reasons = screen(text, &settings());

        // Assert
        assert_eq!(reasons, [Reason::ContactDetails], "{text:?}");
    }
}

#[test]
fn an_at_sign_that_makes_no_address_is_no_contact_detail() {
    for text in [
        "meet @ 5pm",
        "bob@home",
        "bob@ example.com",
        "@example.com",
        "bob@example.c",
        "bob@example.c0m",
        "bob@.com",
        "bob@example..com",
    ] {
        // Act
        let reasons = screen(text, &settings());

        // Assert
        assert_eq!(reasons, [], "{text:?}");
    }
}

#[test]
fn a_comment_with_a_phone_number_is_held_for_contact_details() {
    for text in [
        "call 020 7946 0958",
        "call +44 20 7946 0958",
        "call +44 (0)20 7946 0958",
        "call (020) 7946-0958",
        "call 020 (7946) 0958",
        "call 020.7946.0958",
        "call 123456789",
        "call 123456789012345",
        "call ０２０７９４６０９５８",
        "call 0-2-0-7-9-4-6-0-9",
    ] {
        // Act
        let reasons = screen(text, &settings());

        // Assert
        assert_eq!(reasons, [Reason::ContactDetails], "{text:?}");
    }
}

#[test]
fn dates_sums_and_short_or_long_numbers_are_no_phone_number() {
    for text in [
        "done on 2027-03-01",
        "from 2027-03-01 to 2027-03-31",
        "2027-03-01 - 2027-03-31",
        "it cost 1.250.000",
        "it cost £1,250,000,000",
        "12345678",
        "1234567890123456",
        "020  7946 0958",
        "020 -7946 0958",
        "020 ((7946)) 0958",
        "020 ((7946) 0958",
        "020 (7946)) 0958",
        "at 10:30, 4.5 stars",
    ] {
        // Act
        let reasons = screen(text, &settings());

        // Assert
        assert_eq!(reasons, [], "{text:?}");
    }
}

#[test]
fn every_reason_that_applies_is_listed_in_the_contracts_order() {
    // Arrange
    let everything = ScreenSettings {
        blocklist: Blocklist::parse("foo"),
        profanity: true,
        publish: PublishMode::Manual,
    };

    // Act
    let reasons = screen(
        "call 020 7946 0958 or www.example.com, foo, this is shit",
        &everything,
    );

    // Assert
    assert_eq!(
        reasons,
        [
            Reason::BlockedTerm,
            Reason::Profanity,
            Reason::Link,
            Reason::ContactDetails,
            Reason::Manual
        ]
    );
}

#[test]
fn the_default_settings_check_profanity_and_publish_automatically() {
    // Act
    let defaults = ScreenSettings::default();

    // Assert
    assert!(defaults.profanity);
    assert_eq!(defaults.publish, PublishMode::Auto);
    assert!(defaults.blocklist.is_empty());
}
