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

/// What is wrong with a DKIM setting, by the part it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DkimError {
    #[error("{0}")]
    Domain(String),
    #[error("{0}")]
    Selector(String),
    #[error("{0}")]
    Key(String),
}

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
    pub fn new(domain: &str, selector: &str, pem: &str) -> Result<Self, DkimError> {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        if !is_dns_name(&domain) || !domain.contains('.') {
            return Err(DkimError::Domain(format!(
                "{domain:?} is not a domain name like example.com"
            )));
        }
        let selector = selector.trim().to_ascii_lowercase();
        if !is_dns_name(&selector) {
            return Err(DkimError::Selector(format!(
                "{selector:?} is not a selector (letters, digits, hyphens, dots)"
            )));
        }
        let (algorithm, key) = signing_key(pem).map_err(DkimError::Key)?;
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

    /// Whether mail from `address`'s domain aligns with the signing domain for
    /// DMARC (relaxed: one is the other or a subdomain of it). Receivers that apply
    /// DMARC ignore a signature that does not align.
    pub fn aligns_with(&self, from_domain: &str) -> bool {
        let from = from_domain.trim_end_matches('.').to_ascii_lowercase();
        let within =
            |inner: &str, outer: &str| inner == outer || inner.ends_with(&format!(".{outer}"));
        within(&from, &self.domain) || within(&self.domain, &from)
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
            return Err(
                "is encrypted; give the unencrypted key (readable by the service only)".into(),
            );
        }
        other => {
            return Err(format!(
                "holds a {other}, not an RSA or Ed25519 private key"
            ));
        }
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
    use super::{DkimError, DkimSigner};

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
            let DkimError::Key(e) = e else {
                panic!("{pem:?}: {e:?}")
            };
            assert!(e.contains(expected), "{pem:?}: {e}");
            assert!(!e.contains("bm90IGEga2V5"), "{e}");
        }
    }

    fn rsa_pem(bits: usize, pkcs1: bool) -> String {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::pkcs8::EncodePrivateKey;
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits).unwrap();
        let ending = rsa::pkcs8::LineEnding::LF;
        match pkcs1 {
            true => key.to_pkcs1_pem(ending).unwrap().to_string(),
            false => key.to_pkcs8_pem(ending).unwrap().to_string(),
        }
    }

    fn signature_of(signer: &DkimSigner) -> String {
        let mut message = lettre::Message::builder()
            .from("Clinic <no-reply@clinic.example>".parse().unwrap())
            .to("jane@example.com".parse().unwrap())
            .subject("Hello")
            .body("Hello".to_owned())
            .unwrap();
        signer.sign(&mut message);
        let raw = String::from_utf8(message.formatted()).unwrap();
        let start = raw.find("DKIM-Signature: ").expect("a signature");
        raw[start..].to_owned()
    }

    #[test]
    fn rsa_keys_in_either_pem_form_and_ed25519_keys_sign() {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let ed25519 = ed25519_dalek::SigningKey::from_bytes(&[7; 32])
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .unwrap()
            .to_string();
        for (pem, algorithm) in [
            (rsa_pem(2048, true), "rsa"),
            (rsa_pem(2048, false), "rsa"),
            (ed25519, "ed25519"),
        ] {
            let signer = DkimSigner::new("Clinic.Example.", "portal2026", &pem).unwrap();
            assert_eq!(signer.algorithm(), algorithm);
            assert_eq!(signer.record_name(), "portal2026._domainkey.clinic.example");
            let header = signature_of(&signer);
            for tag in [
                format!("a={algorithm}-sha256;"),
                "d=clinic.example;".to_owned(),
                "s=portal2026;".to_owned(),
                "c=relaxed/relaxed;".to_owned(),
                "h=from:to:subject:date:message-id:mime-version:auto-submitted;".to_owned(),
            ] {
                assert!(header.contains(&tag), "{tag} in {header}");
            }
            assert!(!format!("{signer:?}").contains("PRIVATE"));
        }
    }

    #[test]
    fn a_short_rsa_key_is_refused() {
        let e = DkimSigner::new("clinic.example", "portal", &rsa_pem(1024, false)).unwrap_err();
        assert_eq!(
            e,
            DkimError::Key("holds a 1024-bit RSA key; DKIM needs at least 2048 bits".into())
        );
    }

    #[test]
    fn alignment_is_the_same_domain_or_a_parent() {
        let pem = rsa_pem(2048, false);
        let signer = DkimSigner::new("clinic.example", "portal", &pem).unwrap();
        assert!(signer.aligns_with("clinic.example"));
        assert!(signer.aligns_with("mail.clinic.example"));
        assert!(!signer.aligns_with("otherclinic.example"));
        assert!(!signer.aligns_with("clinic.example.org"));
        let signer = DkimSigner::new("mail.clinic.example", "portal", &pem).unwrap();
        assert!(signer.aligns_with("clinic.example"));
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
            assert!(
                matches!(e, DkimError::Domain(_) | DkimError::Selector(_)),
                "{domain} {selector}: {e:?}"
            );
            assert!(
                e.to_string().contains("is not a"),
                "{domain} {selector}: {e}"
            );
        }
    }
}
