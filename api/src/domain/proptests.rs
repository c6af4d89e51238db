//! Property tests for every domain parser: whatever a caller sends, parsing never
//! panics, what parses stays valid when parsed again, and the bounds hold.
use super::{ClientCursor, EmailAddress, NewPassword, PersonName, typo_suggestion};
use crate::service::clients::sort_key;
use proptest::prelude::*;

/// Local parts and domains built only from allowed characters.
fn valid_email() -> impl Strategy<Value = String> {
    let local = "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]{1,20}(\\.[a-zA-Z0-9_+-]{1,10}){0,2}";
    let domain =
        "[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?(\\.[a-z0-9]{1,10}){0,2}\\.[a-zA-Z]{2,8}";
    (local, domain).prop_map(|(l, d)| format!("{l}@{d}"))
}

/// Names of up to 100 characters mixing 1- to 4-byte UTF-8, characters JSON escapes,
/// and `İ`, whose lower case is longer than itself.
fn wide_name() -> impl Strategy<Value = String> {
    let chars = vec!['a', 'Z', ' ', 'é', '€', '中', '𝔸', '😀', '"', '\\', 'İ'];
    prop::collection::vec(prop::sample::select(chars), 1..=100)
        .prop_map(|cs| cs.into_iter().collect())
}

/// Names at the 100-character bound, made of one character: the longest cursors.
fn name_at_the_bound() -> impl Strategy<Value = String> {
    let chars = vec!['a', 'é', '中', '𝔸', '😀', '"', 'İ'];
    (prop::sample::select(chars), 95usize..=100).prop_map(|(c, n)| c.to_string().repeat(n))
}

/// A name of 2 to 100 printable characters that cannot spell an address or a link.
const PRINTABLE_NAME: &str = "[^\\p{C}\\s@/:.\\u{115F}\\u{1160}\\u{3164}\\u{FFA0}\\u{034F}]\
     [^\\p{C}\\p{Zl}\\p{Zp}@/:.\\u{115F}\\u{1160}\\u{3164}\\u{FFA0}\\u{034F}]{0,98}\
     [^\\p{C}\\s@/:.\\u{115F}\\u{1160}\\u{3164}\\u{FFA0}\\u{034F}]";

/// Characters a name must never carry: bidi controls, zero-width and other format
/// characters, line separators, fillers that print as nothing.
const HIDDEN: &[char] = &[
    '\u{202E}',
    '\u{202D}',
    '\u{2067}',
    '\u{200B}',
    '\u{200F}',
    '\u{2028}',
    '\u{2029}',
    '\u{FEFF}',
    '\u{00AD}',
    '\u{2060}',
    '\u{061C}',
    '\u{E0041}',
    '\u{3164}',
    '\u{E000}',
];

fn any_uuid() -> impl Strategy<Value = uuid::Uuid> {
    any::<u128>().prop_map(uuid::Uuid::from_u128)
}

proptest! {
    #[test]
    fn email_parse_never_panics_and_what_parses_is_bounded(input in any::<String>()) {
        if let Ok(email) = EmailAddress::parse(&input, "email") {
            prop_assert_eq!(email.as_str(), input.trim());
            prop_assert!(email.as_str().len() <= 254);
            let (local, domain) = email.as_str().rsplit_once('@').unwrap();
            prop_assert!(!local.is_empty() && local.len() <= 64);
            prop_assert!(domain.contains('.'));
            prop_assert!(email.as_str().is_ascii());
        }
    }

    #[test]
    fn valid_emails_parse_and_normalize_idempotently(input in valid_email(), pad in "[ \t]{0,3}") {
        let email = EmailAddress::parse(&format!("{pad}{input}{pad}"), "email").unwrap();
        prop_assert_eq!(email.as_str(), input.as_str());
        let again = EmailAddress::parse(email.as_str(), "email").unwrap();
        prop_assert_eq!(&again, &email);
        let lower = EmailAddress::parse(&email.normalized(), "email").unwrap();
        prop_assert_eq!(lower.normalized(), email.normalized());
        prop_assert_eq!(lower.as_str(), email.normalized());
        prop_assert_eq!(email.domain(), email.domain().to_lowercase());
    }

    #[test]
    fn emails_with_a_forbidden_character_are_refused(
        input in valid_email(),
        bad in prop::sample::select(vec![' ', '"', '(', ',', ':', ';', '<', '\\', 'é', '\u{0}', '\u{202e}']),
        at in any::<prop::sample::Index>(),
    ) {
        let mut chars: Vec<char> = input.chars().collect();
        // Inside the address, never at either end where trimming could remove it.
        let i = 1 + at.index(chars.len() - 1);
        chars.insert(i, bad);
        let s: String = chars.into_iter().collect();
        prop_assert!(EmailAddress::parse(&s, "email").is_err(), "{:?}", s);
    }

    #[test]
    fn overlong_emails_are_refused(extra in 0usize..300, tail in valid_email()) {
        let s = format!("{}{tail}", "a".repeat(255 + extra));
        let err = EmailAddress::parse(&s, "email").unwrap_err();
        prop_assert_eq!(err.field, "email");
    }

    #[test]
    fn name_parse_never_panics_and_what_parses_is_bounded(input in any::<String>()) {
        if let Ok(name) = PersonName::parse(&input, "firstName") {
            prop_assert_eq!(name.as_str(), input.trim());
            let chars = name.as_str().chars().count();
            prop_assert!((1..=100).contains(&chars));
            prop_assert!(!name.as_str().chars().any(char::is_control));
            prop_assert!(!name.as_str().contains('@') && !name.as_str().contains("://"));
            prop_assert!(!name.as_str().chars().any(|c| HIDDEN.contains(&c)));
            prop_assert_eq!(PersonName::parse(name.as_str(), "firstName").unwrap(), name);
        }
    }

    /// Printable text without `@`, `/`, `:` or `.` (those can spell an address or a
    /// link, see the next properties) and without the separators and fillers that
    /// print as nothing.
    #[test]
    fn printable_names_up_to_100_chars_are_accepted(input in PRINTABLE_NAME) {
        let name = PersonName::parse(&input, "lastName").unwrap();
        prop_assert_eq!(name.as_str(), input.as_str());
    }

    #[test]
    fn names_with_initials_and_abbreviations_are_accepted(
        first in "[A-Z][a-z]{1,12}",
        initial in "[A-Z]",
        last in "[A-Z][a-z]{1,12}",
        suffix in prop::sample::select(vec!["", " Jr.", " Sr.", " Ph.D.", " M.Sc."]),
    ) {
        for input in [format!("{first} {initial}. {last}{suffix}"), format!("St. {last}{suffix}")] {
            let name = PersonName::parse(&input, "lastName").unwrap();
            prop_assert_eq!(name.as_str(), input.as_str());
        }
    }

    #[test]
    fn names_with_a_hidden_character_or_an_address_are_refused(
        input in PRINTABLE_NAME,
        bad in prop_oneof![
            prop::sample::select(HIDDEN.to_vec()).prop_map(String::from),
            Just("@".to_owned()),
            Just(" https://evil.example ".to_owned()),
            Just(" www.evil.example ".to_owned()),
            Just(" evil.example/verify ".to_owned()),
            Just(" evil.com ".to_owned()),
        ],
        at in any::<prop::sample::Index>(),
    ) {
        let chars: Vec<char> = input.chars().collect();
        // Inside the name, never at either end where trimming could remove it.
        let i = 1 + at.index(chars.len() - 1);
        let s: String = chars[..i].iter().chain(bad.chars().collect::<Vec<_>>().iter()).chain(&chars[i..]).collect();
        let err = PersonName::parse(&s, "lastName").unwrap_err();
        prop_assert_eq!(err.field, "lastName");
    }

    #[test]
    fn names_over_100_chars_or_with_controls_are_refused(
        long in "[^\\p{C}\\s]{101,150}",
        control in "\\p{Cc}",
        name in "[a-z]{1,5}",
    ) {
        prop_assert!(PersonName::parse(&long, "firstName").is_err());
        let with_control = format!("{name}{control}{name}");
        prop_assert!(PersonName::parse(&with_control, "firstName").is_err());
    }

    #[test]
    fn password_parse_never_panics_and_keeps_the_password_out_of_errors(input in any::<String>()) {
        let err = match NewPassword::parse(input.clone().into(), &["jane", "doe"]) {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if input.chars().count() >= 10 {
            prop_assert!(!err.message.contains(&input));
            prop_assert!(err.suggestions.iter().all(|s| !s.contains(&input)));
        }
    }

    #[test]
    fn passwords_outside_the_length_bounds_are_refused(short in ".{0,9}", long in "[a-zA-Z0-9]{257,400}") {
        prop_assert!(NewPassword::parse(short.into(), &[]).is_err());
        prop_assert!(NewPassword::parse(long.into(), &[]).is_err());
    }

    #[test]
    fn long_random_passwords_are_strong_enough(p in "[a-zA-Z0-9]{12}[!-~]{8,40}") {
        prop_assert!(NewPassword::parse(p.into(), &["jane", "doe"]).is_ok());
    }

    #[test]
    fn cursor_decode_never_panics(input in any::<String>(), bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = ClientCursor::decode(&input);
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let _ = ClientCursor::decode(&URL_SAFE_NO_PAD.encode(&bytes));
    }

    /// Every client the API can store gets a cursor the API takes back.
    #[test]
    fn cursors_of_any_valid_names_round_trip(
        first in prop_oneof![wide_name(), name_at_the_bound(), "\\PC{1,100}"],
        last in prop_oneof![wide_name(), name_at_the_bound(), "\\PC{1,100}"],
        id in any_uuid(),
    ) {
        let (Ok(first), Ok(last)) = (PersonName::parse(&first, "firstName"), PersonName::parse(&last, "lastName")) else {
            return Ok(());
        };
        let cursor = ClientCursor { sort_key: sort_key(first.as_str(), last.as_str()), id };
        prop_assert_eq!(ClientCursor::decode(&cursor.encode()).unwrap(), cursor);
    }

    #[test]
    fn cursors_of_the_longest_names_round_trip(first in name_at_the_bound(), last in name_at_the_bound()) {
        let cursor = ClientCursor { sort_key: sort_key(&first, &last), id: uuid::Uuid::max() };
        prop_assert_eq!(ClientCursor::decode(&cursor.encode()).unwrap(), cursor);
    }

    #[test]
    fn decoded_cursors_encode_back_to_themselves(sort_key in any::<String>(), id in any_uuid()) {
        let cursor = ClientCursor { sort_key, id };
        if let Ok(decoded) = ClientCursor::decode(&cursor.encode()) {
            prop_assert_eq!(&decoded, &cursor);
            prop_assert_eq!(decoded.encode(), cursor.encode());
        }
    }

    #[test]
    fn typo_suggestions_are_valid_keep_the_local_part_and_are_final(input in valid_email()) {
        let email = EmailAddress::parse(&input, "email").unwrap();
        if let Some(suggested) = typo_suggestion(&email) {
            let parsed = EmailAddress::parse(&suggested, "email").unwrap();
            let local = |s: &str| s.rsplit_once('@').unwrap().0.to_owned();
            prop_assert_eq!(local(&suggested), local(&input));
            prop_assert_ne!(parsed.domain(), email.domain());
            // Accepting a suggestion must not trigger another one.
            prop_assert_eq!(typo_suggestion(&parsed), None, "{} -> {}", input, suggested);
        }
    }

    #[test]
    fn typo_check_leaves_known_domains_alone_in_any_case(
        local in "[a-z0-9.]{0,8}[a-z0-9]",
        domain in prop::sample::select(vec!["gmail.com", "yahoo.co.uk", "outlook.com", "icloud.com", "proton.me", "optusnet.com.au"]),
        upper in any::<bool>(),
    ) {
        let domain = if upper { domain.to_uppercase() } else { domain.to_owned() };
        let Ok(email) = EmailAddress::parse(&format!("{local}@{domain}"), "email") else {
            return Ok(());
        };
        prop_assert_eq!(typo_suggestion(&email), None);
    }
}
