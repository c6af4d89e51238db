//! argon2id hashing off the async runtime, with a bounded number of hashes at once
//! so a burst of sign-ins cannot starve the other requests of CPU.
use crate::error::AppError;
use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Hashes and verifies passwords with the OWASP parameters (m=19456 KiB, t=2, p=1).
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// Verified against for unknown accounts, so they cost the same time as known ones.
    dummy_hash: Arc<String>,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &SecretString) -> Result<String, anyhow::Error> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let hash = argon2()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
    Ok(hash.to_string())
}

fn verify_blocking(password: &SecretString, phc: &str) -> Result<bool, anyhow::Error> {
    let parsed =
        PasswordHash::new(phc).map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
    Ok(argon2()
        .verify_password(password.expose_secret().as_bytes(), &parsed)
        .is_ok())
}

impl Passwords {
    /// Prepares the hasher; computes the dummy hash once (start-up only).
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let dummy = hash_blocking(&SecretString::from("not-a-real-password-0f9e".to_owned()))
            .expect("argon2 works at start-up");
        Self {
            permits: Arc::new(Semaphore::new(cores)),
            dummy_hash: Arc::new(dummy),
        }
    }

    /// Hashes a new password to a PHC string.
    pub async fn hash(&self, password: SecretString) -> Result<String, AppError> {
        let _permit = self.permits.acquire().await.context("hasher closed")?;
        let hash = tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .context("hashing task failed")??;
        Ok(hash)
    }

    /// Checks `password` against `stored`; with no stored hash it still spends the
    /// same work on the dummy hash and answers false.
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<bool, AppError> {
        let _permit = self.permits.acquire().await.context("hasher closed")?;
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| self.dummy_hash.as_str().to_owned());
        let matches = tokio::task::spawn_blocking(move || verify_blocking(&password, &phc))
            .await
            .context("verify task failed")??;
        Ok(known && matches)
    }
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}
