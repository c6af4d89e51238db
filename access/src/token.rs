//! Secret tokens (session bearer tokens, account-link tokens): 256 random bits shown
//! once, stored only as a SHA-256 digest. Shared by the API and the worker, which
//! mints link tokens at send time.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::marker::PhantomData;

/// What a token is for; the prefix makes leaked tokens recognisable by secret scanners.
pub trait TokenKind {
    const PREFIX: &'static str;
}

/// Bearer token of a provider or client session.
#[derive(Debug)]
pub struct Session;
impl TokenKind for Session {
    const PREFIX: &'static str = "pat_";
}

/// Token in an invite or password-reset link.
#[derive(Debug)]
pub struct Link;
impl TokenKind for Link {
    const PREFIX: &'static str = "lnk_";
}

/// A session token.
pub type SessionToken = SecretToken<Session>;
/// An account-link token.
pub type LinkToken = SecretToken<Link>;

/// A freshly minted or presented token.
#[derive(Debug)]
pub struct SecretToken<K>(SecretString, PhantomData<K>);

impl<K: TokenKind> SecretToken<K> {
    /// Mints a new token from the OS random source.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(
            format!("{}{}", K::PREFIX, URL_SAFE_NO_PAD.encode(bytes)).into(),
            PhantomData,
        )
    }

    /// Wraps a token presented by a caller; malformed ones are refused early.
    pub fn from_presented(token: &str) -> Option<Self> {
        let body = token.strip_prefix(K::PREFIX)?;
        let bytes = URL_SAFE_NO_PAD.decode(body).ok()?;
        (bytes.len() == 32).then(|| Self(token.to_owned().into(), PhantomData))
    }

    /// Hex SHA-256, the only form that is stored.
    pub fn hash(&self) -> String {
        hex_sha256(self.0.expose_secret())
    }

    /// The plaintext, to hand to the caller exactly once.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

fn hex_sha256(value: &str) -> String {
    // One string, not one per byte.
    format!("{:x}", Sha256::digest(value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::{LinkToken, SessionToken};

    #[test]
    fn the_stored_form_is_lowercase_hex_sha256() {
        // FIPS 180-2's example: stored hashes of existing tokens must keep matching.
        assert_eq!(
            super::hex_sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn generated_tokens_round_trip_and_differ() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a.expose(), b.expose());
        let again = SessionToken::from_presented(a.expose()).unwrap();
        assert_eq!(again.hash(), a.hash());
        assert_eq!(a.hash().len(), 64);
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for t in ["", "pat_", "pat_short", "xyz_AAAA", "pat_!!!!"] {
            assert!(SessionToken::from_presented(t).is_none(), "{t}");
        }
    }

    #[test]
    fn a_link_token_is_not_a_session_token() {
        let link = LinkToken::generate();
        assert!(SessionToken::from_presented(link.expose()).is_none());
        assert!(LinkToken::from_presented(link.expose()).is_some());
    }
}

#[cfg(test)]
mod proptests {
    use super::{LinkToken, SessionToken};
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use proptest::prelude::*;

    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    proptest! {
        #[test]
        fn presented_tokens_never_panic_and_accepted_ones_are_well_formed(input in any::<String>()) {
            for accepted in [
                SessionToken::from_presented(&input).map(|t| ("pat_", t.expose().to_owned(), t.hash())),
                LinkToken::from_presented(&input).map(|t| ("lnk_", t.expose().to_owned(), t.hash())),
            ].into_iter().flatten() {
                let (prefix, text, hash) = accepted;
                prop_assert!(text.starts_with(prefix));
                prop_assert_eq!(text.len(), 4 + 43);
                prop_assert!(text[4..].chars().all(|c| ALPHABET.contains(c)));
                prop_assert_eq!(hash.len(), 64);
                // Canonical: one accepted spelling per 32 bytes.
                let bytes = URL_SAFE_NO_PAD.decode(&text[4..]).unwrap();
                prop_assert_eq!(URL_SAFE_NO_PAD.encode(bytes), &text[4..]);
            }
        }

        #[test]
        fn any_32_bytes_with_the_right_prefix_are_accepted_and_only_there(bytes in any::<[u8; 32]>()) {
            let body = URL_SAFE_NO_PAD.encode(bytes);
            let session = format!("pat_{body}");
            let link = format!("lnk_{body}");
            prop_assert!(SessionToken::from_presented(&session).is_some());
            prop_assert!(LinkToken::from_presented(&link).is_some());
            prop_assert!(SessionToken::from_presented(&link).is_none());
            prop_assert!(LinkToken::from_presented(&session).is_none());
            prop_assert!(SessionToken::from_presented(&body).is_none());
            for variant in [format!("PAT_{body}"), format!(" pat_{body}"), format!("pat_{body} ")] {
                prop_assert!(SessionToken::from_presented(&variant).is_none());
            }
        }

        #[test]
        fn wrong_lengths_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            prop_assume!(bytes.len() != 32);
            let token = format!("pat_{}", URL_SAFE_NO_PAD.encode(&bytes));
            prop_assert!(SessionToken::from_presented(&token).is_none());
            let padded = format!("pat_{}", base64::engine::general_purpose::URL_SAFE.encode(&bytes));
            prop_assert!(SessionToken::from_presented(&padded).is_none());
        }

        #[test]
        fn accepted_spellings_are_canonical(bytes in any::<[u8; 32]>(), last in prop::sample::select(ALPHABET.chars().collect::<Vec<_>>())) {
            let mut body = URL_SAFE_NO_PAD.encode(bytes);
            body.pop();
            body.push(last);
            let token = format!("pat_{body}");
            if let Some(t) = SessionToken::from_presented(&token) {
                let decoded = URL_SAFE_NO_PAD.decode(&t.expose()[4..]).unwrap();
                prop_assert_eq!(URL_SAFE_NO_PAD.encode(decoded), body);
            }
        }

        #[test]
        fn a_character_outside_the_alphabet_is_refused(
            bytes in any::<[u8; 32]>(),
            at in 0usize..43,
            bad in prop::sample::select(vec!['+', '/', '=', '.', ' ', '%', 'é', '\u{0}']),
        ) {
            let mut body: Vec<char> = URL_SAFE_NO_PAD.encode(bytes).chars().collect();
            body[at] = bad;
            let token: String = std::iter::once("pat_".to_owned()).chain(body.iter().map(char::to_string)).collect();
            prop_assert!(SessionToken::from_presented(&token).is_none(), "{:?}", token);
        }

        #[test]
        fn the_hash_is_a_function_of_the_token(bytes in any::<[u8; 32]>(), other in any::<[u8; 32]>()) {
            let a = format!("lnk_{}", URL_SAFE_NO_PAD.encode(bytes));
            let b = format!("lnk_{}", URL_SAFE_NO_PAD.encode(other));
            let ha = LinkToken::from_presented(&a).unwrap().hash();
            prop_assert_eq!(&ha, &LinkToken::from_presented(&a).unwrap().hash());
            prop_assert!(ha.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
            prop_assert_eq!(bytes == other, ha == LinkToken::from_presented(&b).unwrap().hash());
        }
    }

    #[test]
    fn generated_tokens_are_always_accepted() {
        for _ in 0..256 {
            let t = SessionToken::generate();
            assert_eq!(
                SessionToken::from_presented(t.expose()).unwrap().hash(),
                t.hash()
            );
            let l = LinkToken::generate();
            assert!(LinkToken::from_presented(l.expose()).is_some());
        }
    }
}
