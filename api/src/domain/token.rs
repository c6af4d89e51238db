//! Bearer tokens: 256 random bits shown once, stored only as a SHA-256 digest.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Prefix so leaked tokens are recognisable by secret scanners.
const PREFIX: &str = "pat_";

/// A freshly minted or presented session token.
#[derive(Debug)]
pub struct SessionToken(SecretString);

impl SessionToken {
    /// Mints a new token from the OS random source.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)).into())
    }

    /// Wraps a token presented by a caller; malformed ones are refused early.
    pub fn from_presented(token: &str) -> Option<Self> {
        let body = token.strip_prefix(PREFIX)?;
        let bytes = URL_SAFE_NO_PAD.decode(body).ok()?;
        (bytes.len() == 32).then(|| Self(token.to_owned().into()))
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
    use super::SessionToken;

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
}
