//! Verifying a received message's DKIM signature with mail-auth, an implementation
//! independent of lettre's signer, against a public key "published" in its DNS
//! cache: no query leaves the machine.
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use mail_auth::{
    AuthenticatedMessage, DkimResult, MessageAuthenticator, Parameters, ResolverCache, Txt,
};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

/// The TXT records a receiver would find in DNS.
#[derive(Default)]
struct Records(Mutex<HashMap<String, Txt>>);

impl ResolverCache<String, Txt> for Records {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().unwrap().get(name).cloned()
    }

    fn remove<Q>(&self, name: &Q) -> Option<Txt>
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().unwrap().remove(name)
    }

    fn insert(&self, key: String, value: Txt, _: Instant) {
        self.0.lock().unwrap().insert(key, value);
    }
}

/// A receiving server that knows one DKIM key record.
pub struct Receiver {
    records: Records,
    authenticator: MessageAuthenticator,
}

impl Receiver {
    /// Knows `record` (`v=DKIM1; k=...; p=...`) at `selector._domainkey.domain`.
    pub fn with_key(selector: &str, domain: &str, record: &str) -> Self {
        let key = DomainKey::parse(record.as_bytes()).expect("a DKIM key record");
        let records = Records::default();
        let name = format!("{selector}._domainkey.{domain}.").to_ascii_lowercase();
        records.insert(name, Txt::from(key), Instant::now());
        // No name servers: a name missing from the records fails, it is not asked for.
        let config =
            ResolverConfig::from_parts(None, vec![], NameServerConfigGroup::with_capacity(0));
        let authenticator =
            MessageAuthenticator::new(config, ResolverOpts::default()).expect("authenticator");
        Self {
            records,
            authenticator,
        }
    }

    /// The outcome of each DKIM signature in `raw`, as text (`pass`, or why not).
    pub async fn verify(&self, raw: &str) -> Vec<String> {
        let message = AuthenticatedMessage::parse(raw.as_bytes()).expect("a parsable message");
        let params = Parameters::new(&message).with_txt_cache(&self.records);
        self.authenticator
            .verify_dkim(params)
            .await
            .iter()
            .map(|output| match output.result() {
                DkimResult::Pass => "pass".to_owned(),
                other => format!("{other:?}"),
            })
            .collect()
    }
}
