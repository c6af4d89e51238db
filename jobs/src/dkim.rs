//! DKIM (RFC 6376): every email the worker sends is signed with the practice's key,
//! so the receiving server can check it against the public key published at
//! `selector._domainkey.domain`, whatever relay the mail passes through.
//!
//! The key is PEM, as `openssl` writes it: RSA (`BEGIN RSA PRIVATE KEY` or
//! `BEGIN PRIVATE KEY`, at least 2048 bits) or Ed25519 (`BEGIN PRIVATE KEY`).
use base64::Engine;
use lettre::Message;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;
use rsa::RsaPrivateKey;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, LineEnding};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;

/// RSA keys shorter than this are refused (RFC 8301 asks for 2048 from signers).
const MIN_RSA_BITS: usize = 2048;

/// The headers the signature covers. All are set once by the mailer; the
/// top-level `Content-Type` belongs to lettre's body part, so it is left out
/// (naming a header the signer does not see would break every signature).
const SIGNED_HEADERS: &[&str] = &[
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Auto-Submitted",
];

/// Signs messages for one domain with one key.
pub struct DkimSigner {
    domain: String,
    selector: String,
    algorithm: DkimSigningAlgorithm,
    config: DkimConfig,
}

impl std::fmt::Debug for DkimSigner {
    /// Names the key, never prints it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DkimSigner(d={}, s={}, a={})",
            self.domain, self.selector, self.algorithm
        )
    }
}

impl DkimSigner {
    /// A signer for `domain` under `selector` with the PEM private key `pem`; the
    /// error says what is wrong with the key without quoting it.
    pub fn new(domain: &str, selector: &str, pem: &str) -> Result<Self, String> {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        if !is_dns_name(&domain) || !domain.contains('.') {
            return Err(format!("{domain:?} is not a domain name like example.com"));
        }
        let selector = selector.trim().to_ascii_lowercase();
        if !is_dns_name(&selector) {
            return Err(format!(
                "{selector:?} is not a selector (letters, digits, hyphens, dots)"
            ));
        }
        let (algorithm, key) = signing_key(pem)?;
        let headers = SIGNED_HEADERS
            .iter()
            .map(|h| HeaderName::new_from_ascii_str(h))
            .collect();
        // Relaxed/relaxed survives relays that refold headers or trim trailing space.
        let canonicalization = DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        };
        let config = DkimConfig::new(
            selector.clone(),
            domain.clone(),
            key,
            headers,
            canonicalization,
        );
        Ok(Self {
            domain,
            selector,
            algorithm,
            config,
        })
    }

    /// Adds the `DKIM-Signature` header.
    pub fn sign(&self, message: &mut Message) {
        message.sign(&self.config);
    }

    /// The signing domain (`d=`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Where receivers look the public key up: `selector._domainkey.domain`.
    pub fn record_name(&self) -> String {
        format!("{}._domainkey.{}", self.selector, self.domain)
    }

    /// `rsa` or `ed25519`.
    pub fn algorithm(&self) -> String {
        self.algorithm.to_string()
    }
}

/// Reads the PEM key into lettre's form: PKCS#1 PEM for RSA, the base64 seed for
/// Ed25519.
fn signing_key(pem: &str) -> Result<(DkimSigningAlgorithm, DkimSigningKey), String> {
    let pem = pem.trim();
    let label = pem
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("-----BEGIN "))
        .and_then(|l| l.strip_suffix("-----"))
        .ok_or("is not a PEM private key (no -----BEGIN ...----- line)")?;
    let rsa = match label {
        "RSA PRIVATE KEY" => Some(
            RsaPrivateKey::from_pkcs1_pem(pem)
                .map_err(|_| "holds an RSA PRIVATE KEY block that cannot be read")?,
        ),
        "PRIVATE KEY" => RsaPrivateKey::from_pkcs8_pem(pem).ok(),
        "ENCRYPTED PRIVATE KEY" => {
            return Err("is encrypted; give the unencrypted key (readable by the service only)".into());
        }
        other => return Err(format!("holds a {other}, not an RSA or Ed25519 private key")),
    };
    if let Some(key) = rsa {
        let bits = key.size() * 8;
        if bits < MIN_RSA_BITS {
            return Err(format!(
                "holds a {bits}-bit RSA key; DKIM needs at least {MIN_RSA_BITS} bits"
            ));
        }
        let pkcs1 = key
            .to_pkcs1_pem(LineEnding::LF)
            .map_err(|_| "holds an RSA key that cannot be re-encoded")?;
        let key = DkimSigningKey::new(&pkcs1, DkimSigningAlgorithm::Rsa)
            .map_err(|e| format!("holds an RSA key lettre refuses: {e}"))?;
        return Ok((DkimSigningAlgorithm::Rsa, key));
    }
    let ed25519 = ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
        .map_err(|_| "holds a PRIVATE KEY that is neither RSA nor Ed25519")?;
    let seed = base64::engine::general_purpose::STANDARD.encode(ed25519.to_bytes());
    let key = DkimSigningKey::new(&seed, DkimSigningAlgorithm::Ed25519)
        .map_err(|e| format!("holds an Ed25519 key lettre refuses: {e}"))?;
    Ok((DkimSigningAlgorithm::Ed25519, key))
}

/// Dot-separated labels of letters, digits and inner hyphens.
fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::DkimSigner;

    #[test]
    fn what_is_not_a_usable_key_is_named_without_quoting_it() {
        let cases = [
            ("", "no -----BEGIN"),
            ("just some text", "no -----BEGIN"),
            (
                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
                "CERTIFICATE",
            ),
            (
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----",
                "encrypted",
            ),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----",
                "cannot be read",
            ),
            (
                "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----",
                "neither RSA nor Ed25519",
            ),
        ];
        for (pem, expected) in cases {
            let e = DkimSigner::new("clinic.example", "portal", pem).unwrap_err();
            assert!(e.contains(expected), "{pem:?}: {e}");
            assert!(!e.contains("bm90IGEga2V5"), "{e}");
        }
    }

    #[test]
    fn domain_and_selector_must_be_dns_names() {
        let pem = "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----";
        for (domain, selector) in [
            ("localhost", "portal"),
            ("clinic example", "portal"),
            ("clinic.example", "port al"),
            ("clinic.example", "-portal"),
            ("clinic.example", ""),
        ] {
            let e = DkimSigner::new(domain, selector, pem).unwrap_err();
            assert!(e.contains("is not a"), "{domain} {selector}: {e}");
        }
    }
}
