use super::decide;
use crate::configuration::{Settings, TrustedProxies};
use poem::http::{HeaderMap, HeaderValue};
use std::net::IpAddr;

fn trusted(list: &str) -> TrustedProxies {
    let vars = |name: &str| (name == "TRUSTED_PROXIES").then(|| list.to_owned());
    Settings::from_lookup(vars).unwrap().trusted_proxies
}

/// The client of a request from `peer` with `headers` (name, value), as text.
fn client(trust: &str, peer: &str, headers: &[(&'static str, &str)]) -> String {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(*name, HeaderValue::from_str(value).unwrap());
    }
    let peer: IpAddr = peer.parse().unwrap();
    decide(Some(peer), &map, &trusted(trust))
        .unwrap()
        .to_string()
}

const XFF: &str = "x-forwarded-for";
const FWD: &str = "forwarded";

#[test]
fn without_trusted_proxies_the_headers_are_ignored() {
    assert_eq!(
        client("", "198.51.100.7", &[(XFF, "203.0.113.9")]),
        "198.51.100.7"
    );
    let forwarded = [(FWD, "for=203.0.113.9")];
    assert_eq!(client("", "198.51.100.7", &forwarded), "198.51.100.7");
}

#[test]
fn an_untrusted_peer_cannot_choose_its_address() {
    let spoof = [(XFF, "203.0.113.9"), (FWD, "for=203.0.113.10")];
    assert_eq!(client("10.0.0.0/8", "198.51.100.7", &spoof), "198.51.100.7");
}

#[test]
fn behind_a_trusted_proxy_the_address_it_appended_is_the_client() {
    assert_eq!(
        client("10.0.0.1", "10.0.0.1", &[(XFF, "203.0.113.9")]),
        "203.0.113.9"
    );
    assert_eq!(client("10.0.0.1", "10.0.0.1", &[]), "10.0.0.1");
}

#[test]
fn what_the_client_wrote_left_of_its_proxy_is_never_believed() {
    // nginx appends the peer it saw to whatever the client sent.
    let spoofed = [(XFF, "127.0.0.1, 6.6.6.6, 203.0.113.9")];
    assert_eq!(
        client("10.0.0.1, 127.0.0.1", "10.0.0.1", &spoofed),
        "203.0.113.9"
    );
    let garbage_left = [(XFF, "not an address, 203.0.113.9")];
    assert_eq!(client("10.0.0.1", "10.0.0.1", &garbage_left), "203.0.113.9");
}

#[test]
fn a_chain_of_trusted_proxies_is_walked_from_the_right() {
    let chain = [(XFF, "6.6.6.6, 203.0.113.9, 10.0.0.2, 10.0.0.3")];
    assert_eq!(client("10.0.0.0/8", "10.0.0.1", &chain), "203.0.113.9");
    let only_proxies = [(XFF, "10.0.0.5, 10.0.0.2")];
    assert_eq!(client("10.0.0.0/8", "10.0.0.1", &only_proxies), "10.0.0.5");
}

#[test]
fn several_header_lines_are_one_list_in_order() {
    let lines = [(XFF, "6.6.6.6"), (XFF, "203.0.113.9, 10.0.0.2")];
    assert_eq!(client("10.0.0.0/8", "10.0.0.1", &lines), "203.0.113.9");
}

#[test]
fn addresses_with_ports_and_ipv6_are_understood() {
    let cases = [
        ("203.0.113.9:41234", "203.0.113.9"),
        ("2001:db8::17", "2001:db8::17"),
        ("[2001:db8::17]", "2001:db8::17"),
        ("[2001:db8::17]:443", "2001:db8::17"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
    ];
    for (sent, seen) in cases {
        assert_eq!(
            client("10.0.0.1", "10.0.0.1", &[(XFF, sent)]),
            seen,
            "{sent}"
        );
    }
    // A proxy reached over IPv4 on a dual-stack socket is still that IPv4 proxy.
    let mapped = client("127.0.0.1", "::ffff:127.0.0.1", &[(XFF, "203.0.113.9")]);
    assert_eq!(mapped, "203.0.113.9");
}

#[test]
fn rfc_7239_forwarded_is_read_when_there_is_no_x_forwarded_for() {
    let cases = [
        ("for=203.0.113.9", "203.0.113.9"),
        (
            "For=\"203.0.113.9:8080\";proto=https;by=10.0.0.1",
            "203.0.113.9",
        ),
        ("for=\"[2001:db8:cafe::17]:4711\"", "2001:db8:cafe::17"),
        ("for=\"[2001:db8:cafe::17]:_port\"", "2001:db8:cafe::17"),
        (
            "for=6.6.6.6, for=203.0.113.9;proto=http, for=10.0.0.2",
            "203.0.113.9",
        ),
        ("proto=https;for=203.0.113.9;host=\"a,b;c\"", "203.0.113.9"),
    ];
    for (sent, seen) in cases {
        let headers = [(FWD, sent)];
        assert_eq!(client("10.0.0.0/8", "10.0.0.1", &headers), seen, "{sent}");
    }
}

#[test]
fn x_forwarded_for_wins_over_forwarded() {
    let both = [(FWD, "for=6.6.6.6"), (XFF, "203.0.113.9")];
    assert_eq!(client("10.0.0.1", "10.0.0.1", &both), "203.0.113.9");
}

#[test]
fn unknown_obfuscated_or_malformed_entries_leave_the_peer() {
    let peer = "10.0.0.1";
    let cases = [
        (FWD, "for=unknown"),
        (FWD, "for=_hidden"),
        (FWD, "for=_hidden, for=203.0.113.9;by=_x, for=_y"),
        (FWD, "proto=https"),
        (FWD, "for=\"203.0.113.9"),
        (FWD, "for=\"[2001:db8::17\""),
        (FWD, "for=2001:db8::17:99999999"),
        (XFF, ""),
        (XFF, "unknown"),
        (XFF, "203.0.113.9, garbage"),
        (XFF, "203.0.113.9,,"),
        (XFF, "203.0.113.9:http"),
        (XFF, "[203.0.113.9]"),
        (XFF, "203.0.113.9/24"),
    ];
    for (name, sent) in cases {
        assert_eq!(
            client(peer, peer, &[(name, sent)]),
            peer,
            "{name}: {sent:?}"
        );
    }
}

#[test]
fn a_header_that_is_not_ascii_leaves_the_peer() {
    let mut map = HeaderMap::new();
    map.append(XFF, HeaderValue::from_bytes(b"203.0.113.9\xff").unwrap());
    let peer: IpAddr = "10.0.0.1".parse().unwrap();
    assert_eq!(decide(Some(peer), &map, &trusted("10.0.0.1")), Some(peer));
}

#[test]
fn a_peer_without_an_ip_has_no_address() {
    assert_eq!(decide(None, &HeaderMap::new(), &trusted("10.0.0.1")), None);
}
