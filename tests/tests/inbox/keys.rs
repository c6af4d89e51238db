//! DKIM keys made for one test, as an operator makes them: the private key in a PEM
//! file for `DKIM_PRIVATE_KEY_FILE`, the public key as its DNS TXT record.
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use portal_tests::logscan;

/// A key pair written to a temporary file.
pub struct TestKey {
    /// `k=` of the record: `rsa` or `ed25519`.
    pub algorithm: &'static str,
    /// What is published at `selector._domainkey.domain`.
    pub txt_record: String,
    dir: tempfile::TempDir,
}

impl TestKey {
    /// A fresh RSA-2048 key (PKCS#8 PEM, as `openssl genpkey` writes it).
    pub fn rsa_2048() -> Self {
        use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
        let pem = key.to_pkcs8_pem(LineEnding::LF).expect("PEM").to_string();
        let public = rsa::RsaPublicKey::from(&key)
            .to_public_key_der()
            .expect("public key DER");
        Self::written("rsa", &pem, public.as_bytes())
    }

    /// A fresh Ed25519 key (RFC 8463; the record holds the raw public key).
    pub fn ed25519() -> Self {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
        let key = ed25519_dalek::SigningKey::from_bytes(&rand::random());
        let pem = key.to_pkcs8_pem(LineEnding::LF).expect("PEM").to_string();
        Self::written("ed25519", &pem, key.verifying_key().as_bytes())
    }

    fn written(algorithm: &'static str, pem: &str, public: &[u8]) -> Self {
        // The private key must never reach a log.
        for line in pem.lines().filter(|l| !l.starts_with("-----")) {
            logscan::secret(line);
        }
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("dkim.pem"), pem).expect("key written");
        Self {
            algorithm,
            txt_record: format!("v=DKIM1; k={algorithm}; p={}", STANDARD.encode(public)),
            dir,
        }
    }

    /// The value for `DKIM_PRIVATE_KEY_FILE`.
    pub fn path(&self) -> String {
        self.dir.path().join("dkim.pem").display().to_string()
    }
}
