//! argon2id with its 19 MiB of working memory kept per hasher thread.
//!
//! `Argon2::hash_password` allocates and frees that memory on every call: fresh
//! pages to fault in each time and, once the allocator hands them back to the
//! kernel, an unmapping that interrupts every other thread of the process (a TLB
//! shootdown) — requests included. A hasher thread reuses one buffer instead.
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;

/// OWASP's parameters: m=19456 KiB, t=2, p=1.
pub fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

thread_local! {
    /// This thread's working memory, grown on first use and kept.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `argon2` over `password` and the decoded `salt` into `out`, with this
/// thread's buffer when `reuse` (hasher threads), else a buffer of its own.
fn compute(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    reuse: bool,
) -> argon2::Result<()> {
    let count = argon2.params().block_count();
    if !reuse {
        return argon2.hash_password_into(password, salt, out);
    }
    BLOCKS.with_borrow_mut(|blocks| {
        blocks.resize(count, Block::default());
        argon2.hash_password_into_with_memory(password, salt, out, &mut blocks[..count])
    })
}

/// A new PHC string for `password` with a random salt.
pub fn hash(password: &[u8], reuse: bool) -> Result<String, anyhow::Error> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let argon2 = argon2();
    let mut buf = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut buf)
        .map_err(|e| anyhow::anyhow!("argon2 salt: {e}"))?;
    let len = argon2
        .params()
        .output_len()
        .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(len, |out| {
        compute(&argon2, password, salt_bytes, out, reuse)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params())
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `phc` (constant-time comparison).
pub fn verify(password: &[u8], phc: &str, reuse: bool) -> Result<bool, anyhow::Error> {
    let unreadable =
        |e: argon2::password_hash::Error| anyhow::anyhow!("stored hash unreadable: {e}");
    let parsed = PasswordHash::new(phc).map_err(unreadable)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        anyhow::bail!("stored hash has no salt or no hash");
    };
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(unreadable)?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).map_err(unreadable)?;
    let argon2 = Argon2::new(algorithm, version, params);
    let mut buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut buf).map_err(unreadable)?;
    let computed = Output::init_with(expected.len(), |out| {
        compute(&argon2, password, salt_bytes, out, reuse)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(unreadable)?;
    // `Output`'s equality is constant-time.
    Ok(computed == expected)
}

#[cfg(test)]
mod tests {
    use super::{hash, verify};
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    #[test]
    fn hashes_are_standard_phc_strings_either_way_round() {
        let phc = hash(b"correct horse battery staple", true).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        // The argon2 crate's own verifier accepts ours…
        let parsed = PasswordHash::new(&phc).unwrap();
        super::argon2()
            .verify_password(b"correct horse battery staple", &parsed)
            .unwrap();
        // …and ours accepts its hashes, and refuses a wrong password.
        let theirs = hash(b"another password 123", false).unwrap();
        assert!(verify(b"another password 123", &theirs, true).unwrap());
        assert!(!verify(b"another password 124", &theirs, true).unwrap());
        assert!(!verify(b"correct horse battery stapler", &phc, false).unwrap());
    }
}
