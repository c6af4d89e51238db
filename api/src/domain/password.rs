//! A new password, checked for strength with zxcvbn before it is ever hashed.
use secrecy::{ExposeSecret, SecretString};

const MIN_CHARS: usize = 10;
const MAX_BYTES: usize = 256;

/// A password that passed the strength check; the plaintext stays secret.
#[derive(Debug)]
pub struct NewPassword(SecretString);

/// Why a password was refused, with zxcvbn's advice; never contains the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct WeakPassword {
    pub message: String,
    pub suggestions: Vec<String>,
}

impl NewPassword {
    /// Accepts at least 10 characters scoring 3 or more with zxcvbn; `user_inputs`
    /// (names, email) count as guessable.
    pub fn parse(password: SecretString, user_inputs: &[&str]) -> Result<Self, WeakPassword> {
        let plain = password.expose_secret();
        if plain.chars().count() < MIN_CHARS {
            return Err(WeakPassword {
                message: format!("Password must be at least {MIN_CHARS} characters."),
                suggestions: vec![],
            });
        }
        if plain.len() > MAX_BYTES {
            return Err(WeakPassword {
                message: format!("Password must be at most {MAX_BYTES} bytes."),
                suggestions: vec![],
            });
        }
        let entropy = zxcvbn::zxcvbn(plain, user_inputs);
        if (entropy.score() as u8) < 3 {
            let feedback = entropy.feedback();
            let warning = feedback
                .and_then(|f| f.warning())
                .map(|w| w.to_string())
                .unwrap_or_else(|| "This password is too easy to guess.".to_owned());
            let suggestions = feedback
                .map(|f| f.suggestions().iter().map(|s| s.to_string()).collect())
                .unwrap_or_default();
            return Err(WeakPassword {
                message: warning,
                suggestions,
            });
        }
        Ok(Self(password))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::NewPassword;

    fn check(p: &str) -> Result<NewPassword, super::WeakPassword> {
        NewPassword::parse(p.to_owned().into(), &["jane", "doe"])
    }

    #[test]
    fn strong_passphrases_pass() {
        assert!(check("correct horse battery staple tuba").is_ok());
    }

    #[test]
    fn short_common_and_personal_passwords_fail() {
        assert!(check("short").is_err());
        assert!(check("password123").is_err());
        for personal in ["janedoejanedoe", "qwertyuiop12"] {
            assert!(check(personal).is_err(), "{personal}");
        }
        let err = check("aaaaaaaaaaaa").unwrap_err();
        assert!(!err.message.contains("aaaa"));
    }
}
