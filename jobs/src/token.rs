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
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{LinkToken, SessionToken};

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
