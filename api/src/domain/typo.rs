//! R10: the usual reason an invite never arrives is a misspelled address. Like
//! mailcheck.js, compare the domain with the providers people actually use and
//! suggest the close match (`gmial.com` → `gmail.com`, `gmail.con` → `gmail.com`).
use super::EmailAddress;
use strsim::damerau_levenshtein;

/// Domains people really use; an exact match is never questioned.
const DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.ca",
    "ymail.com",
    "rocketmail.com",
    "hotmail.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "outlook.com",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "comcast.net",
    "verizon.net",
    "att.net",
    "sbcglobal.net",
    "bellsouth.net",
    "cox.net",
    "charter.net",
    "earthlink.net",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "zoho.com",
    "yandex.com",
    "fastmail.com",
    "hey.com",
    "btinternet.com",
    "shaw.ca",
    "rogers.com",
    "sympatico.ca",
    "bigpond.com",
    "optusnet.com.au",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "qq.com",
    "163.com",
];

/// Second-level names of the providers above, to catch `gmial.de`-style slips.
const NAMES: &[&str] = &[
    "gmail",
    "yahoo",
    "hotmail",
    "outlook",
    "icloud",
    "proton",
    "protonmail",
];

/// Top-level domains common enough that a near miss is a typo.
const TLDS: &[&str] = &[
    "com", "net", "org", "edu", "gov", "info", "biz", "io", "co", "us", "uk", "co.uk", "ca", "de",
    "fr", "au", "com.au", "nz", "ie", "es", "it", "nl", "be", "ch", "at", "se", "no", "dk", "fi",
    "me", "health",
];

/// A likely intended address, when `email`'s domain looks like a slip.
pub fn suggestion(email: &EmailAddress) -> Option<String> {
    let domain = email.domain();
    let local = email.as_str().rsplit_once('@').map(|(l, _)| l)?;
    suggest_domain(&domain).map(|d| format!("{local}@{d}"))
}

fn suggest_domain(domain: &str) -> Option<String> {
    if DOMAINS.contains(&domain) {
        return None;
    }
    if let Some(known) = closest(domain, DOMAINS, max_distance(domain)) {
        return Some(known.to_owned());
    }
    let (name, tld) = split(domain)?;
    let fixed_tld = if TLDS.contains(&tld) {
        tld.to_owned()
    } else {
        closest(tld, TLDS, 1)?.to_owned()
    };
    let fixed_name = match name.rsplit_once('.') {
        // Only the last label before the TLD is a provider's name (`mail.gmial.com` is rare).
        None => closest(name, NAMES, 1).unwrap_or(name).to_owned(),
        Some(_) => name.to_owned(),
    };
    let fixed = format!("{fixed_name}.{fixed_tld}");
    // The repaired domain may itself be a near miss of a known one (`p.eme` → `p.me`,
    // one letter from `pm.me`): suggest that, so that accepting a suggestion never
    // prompts another. A known domain is final, so one more look is enough.
    let fixed = match closest(&fixed, DOMAINS, max_distance(&fixed)) {
        Some(known) if !DOMAINS.contains(&fixed.as_str()) => known.to_owned(),
        _ => fixed,
    };
    (fixed != domain).then_some(fixed)
}

/// Splits `example.co.uk` into (`example`, `co.uk`), preferring the longest known TLD.
fn split(domain: &str) -> Option<(&str, &str)> {
    for tld in TLDS.iter().filter(|t| t.contains('.')) {
        if let Some(name) = domain.strip_suffix(&format!(".{tld}")) {
            return Some((name, tld));
        }
    }
    domain.rsplit_once('.')
}

/// Short domains need a closer match: `me.com` vs `mac.com` is not a typo.
fn max_distance(domain: &str) -> usize {
    if domain.len() >= 9 { 2 } else { 1 }
}

fn closest<'a>(value: &str, candidates: &[&'a str], max: usize) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (damerau_levenshtein(value, c), *c))
        .filter(|(d, _)| *d > 0 && *d <= max)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggest(s: &str) -> Option<String> {
        suggestion(&EmailAddress::parse(s, "email").unwrap())
    }

    #[test]
    fn common_slips_get_the_intended_domain() {
        for (typed, meant) in [
            ("jane@gmial.com", "jane@gmail.com"),
            ("jane@gmail.con", "jane@gmail.com"),
            ("jane@gmai.com", "jane@gmail.com"),
            ("Jane.Doe@yaho.com", "Jane.Doe@yahoo.com"),
            ("jane@hotmial.com", "jane@hotmail.com"),
            ("jane@outlok.com", "jane@outlook.com"),
            ("jane@iclod.com", "jane@icloud.com"),
            ("jane@gmail.cmo", "jane@gmail.com"),
            ("jane@example.cmo", "jane@example.com"),
            ("jane@gmial.de", "jane@gmail.de"),
            // The TLD repaired first (`p.me`), then the known domain next to it.
            ("a@p.EMe", "a@pm.me"),
        ] {
            assert_eq!(suggest(typed).as_deref(), Some(meant), "{typed}");
        }
    }

    #[test]
    fn real_domains_are_left_alone() {
        for s in [
            "jane@gmail.com",
            "jane@mail.com",
            "jane@me.com",
            "jane@mac.com",
            "jane@gmx.com",
            "jane@ymail.com",
            "jane@live.com",
            "jane@example.com",
            "jane@harborpine.health",
            "jane@uni.edu",
            "jane@practice.co.uk",
            "jane@acme.io",
            "jane@mailbox.org",
        ] {
            assert_eq!(suggest(s), None, "{s}");
        }
    }
}
