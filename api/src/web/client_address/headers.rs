//! Reading the forwarding headers into hops, nearest proxy last: `X-Forwarded-For`
//! (`203.0.113.9, 10.0.0.2`) or RFC 7239 `Forwarded` (`for=203.0.113.9;proto=https,
//! for="[2001:db8::17]:4711"`). Several lines of one header are one list, in order.
use poem::http::HeaderMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The hops the forwarding headers name (`None` for an entry that is no address);
/// `None` when there is no forwarding header or it cannot be read.
pub(super) fn forwarded_hops(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    if let Some(list) = joined(headers, "x-forwarded-for") {
        return Some(list?.split(',').map(node).collect());
    }
    let list = joined(headers, "forwarded")??;
    let elements = split_outside_quotes(&list, ',')?;
    elements.into_iter().map(forwarded_for).collect()
}

/// All lines of header `name` as one comma-separated list: `None` when absent,
/// `Some(None)` when a line is not visible ASCII.
fn joined(headers: &HeaderMap, name: &str) -> Option<Option<String>> {
    let mut lines = headers.get_all(name).iter().peekable();
    lines.peek()?;
    let texts: Option<Vec<&str>> = lines.map(|v| v.to_str().ok()).collect();
    Some(texts.map(|t| t.join(",")))
}

/// The `for=` node of one `Forwarded` element (`None` inside when it has none);
/// `None` outside when the element's quoting is broken.
fn forwarded_for(element: &str) -> Option<Option<IpAddr>> {
    for pair in split_outside_quotes(element, ';')? {
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("for") {
            return Some(node(&unquote(value.trim())?));
        }
    }
    Some(None)
}

/// Splits on `sep` where it is not inside a quoted string; `None` when a quote is
/// left open.
fn split_outside_quotes(text: &str, sep: char) -> Option<Vec<&str>> {
    let (mut parts, mut start) = (Vec::new(), 0);
    let (mut quoted, mut escaped) = (false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    (!quoted).then_some(parts)
}

/// A token as is, or a quoted string without its quotes and escapes.
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return Some(value.to_owned());
    };
    let inner = inner.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' { chars.next()? } else { c });
    }
    Some(out)
}

/// One node: `192.0.2.60`, `192.0.2.60:8080`, `2001:db8::17`, `[2001:db8::17]` or
/// `[2001:db8::17]:4711`. `unknown`, an obfuscated `_name` and anything else is `None`.
fn node(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        if !after.is_empty() && !port(after.strip_prefix(':')?) {
            return None;
        }
        return v6
            .parse::<Ipv6Addr>()
            .ok()
            .map(|a| IpAddr::V6(a).to_canonical());
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    let (v4, p) = text.split_once(':')?;
    port(p).then(|| v4.parse::<Ipv4Addr>().ok().map(IpAddr::V4))?
}

/// A port as RFC 7239 allows it: digits, or an obfuscated `_name`.
fn port(text: &str) -> bool {
    let digits = (1..=5).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    let obfuscated = text.len() > 1
        && text.starts_with('_')
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    digits || obfuscated
}
