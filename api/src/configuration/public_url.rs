//! `PUBLIC_URL`, the base of every link the service emails, and `CLIENT_PORTAL_URL`,
//! where "sign in" links lead when a practice runs its own client frontend. Both
//! must be a plain `http(s)://host[:port][/path]`, because links are made by
//! appending `/account/setup?token=…`: a user part (`https://portal.example@evil.example`)
//! sends them to the host after the `@`, a query or fragment swallows the path, and
//! spaces or odd characters make links that mail clients cut or rewrite.
use super::{ConfigError, err};
use std::net::Ipv6Addr;

/// `PUBLIC_URL` without a trailing slash, or why it cannot carry links.
pub fn parse(value: &str) -> Result<String, ConfigError> {
    parse_as("PUBLIC_URL", value)
}

/// The URL in `variable` without a trailing slash, or why it cannot carry links.
pub fn parse_as(variable: &'static str, value: &str) -> Result<String, ConfigError> {
    let refuse = |message: &str| err(variable, message);
    let url = value.trim().trim_end_matches('/');
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return Err(refuse("must start with http:// or https://"));
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(refuse("must not contain spaces or control characters"));
    }
    if url.contains(['?', '#']) {
        return Err(refuse(
            "must not have a query (?) or fragment (#): links are made by appending a path",
        ));
    }
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.contains('@') {
        return Err(refuse(
            "must not contain a user part (user@host): links would lead to the host after the @",
        ));
    }
    check_authority(authority).map_err(refuse)?;
    let path_char = |c: char| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@%/".contains(c);
    if !path.chars().all(path_char) {
        return Err(refuse("the path may hold only URL characters"));
    }
    Ok(url.to_owned())
}

/// `host[:port]`: a DNS name or IPv4 address, or `[IPv6]`; the port 1-65535.
fn check_authority(authority: &str) -> Result<(), &'static str> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (address, after) = bracketed
                .split_once(']')
                .ok_or("has an unclosed [ in its host")?;
            address
                .parse::<Ipv6Addr>()
                .map_err(|_| "has an invalid IPv6 address in its host")?;
            match after {
                "" => (None, None),
                _ => (None, Some(after.strip_prefix(':').unwrap_or(after))),
            }
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(authority), None),
        },
    };
    if let Some(host) = host {
        check_host(host)?;
    }
    match port.map(str::parse::<u16>) {
        None | Some(Ok(1..)) => Ok(()),
        Some(_) => Err("has a port that is not a number from 1 to 65535"),
    }
}

/// Letters, digits and hyphens in dot-separated labels (non-ASCII names are written
/// in their `xn--` form, which is what mail clients show anyway).
fn check_host(host: &str) -> Result<(), &'static str> {
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
        return Err(
            "must name a host of letters, digits, hyphens and dots (like portal.example.com)",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{parse, parse_as};

    #[test]
    fn the_client_portal_url_is_checked_the_same_way_and_named() {
        let e = parse_as("CLIENT_PORTAL_URL", "https://app.example@evil.example").unwrap_err();
        assert_eq!(e.variable, "CLIENT_PORTAL_URL");
        let kept = parse_as("CLIENT_PORTAL_URL", "https://app.example/portal/").unwrap();
        assert_eq!(kept, "https://app.example/portal");
    }

    #[test]
    fn plain_urls_are_kept_without_the_trailing_slash() {
        for (given, kept) in [
            ("https://portal.example.com/", "https://portal.example.com"),
            ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
            ("http://[::1]:8000", "http://[::1]:8000"),
            (
                "https://example.com/practice/portal",
                "https://example.com/practice/portal",
            ),
            (
                "https://xn--bcher-kva.example",
                "https://xn--bcher-kva.example",
            ),
        ] {
            assert_eq!(parse(given).unwrap(), kept);
        }
    }

    #[test]
    fn urls_that_would_send_links_elsewhere_or_break_them_are_refused() {
        for bad in [
            "https://portal.example@evil.example",
            "https://user:pw@portal.example",
            "https://portal example",
            "https://portal.example/a b",
            "https://portal.example/?next=x",
            "https://portal.example#top",
            "https://portal.example\\@evil.example",
            "ftp://portal.example",
            "javascript:alert(1)",
            "https://",
            "https://portal.example:0",
            "https://portal.example:99999",
            "https://portal.example:80x",
            "https://-portal.example",
            "https://portal..example",
            "https://[::1",
            "https://[nope]",
            "https://bücher.example",
            "https://portal.example/<script>",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.variable, "PUBLIC_URL", "{bad}");
        }
    }
}
