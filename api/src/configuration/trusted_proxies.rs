//! `TRUSTED_PROXIES`: the reverse proxies and load balancers whose forwarding headers
//! (`X-Forwarded-For`, `Forwarded`) are believed. A comma-separated list of networks
//! (`10.0.0.0/8`, `fd00::/8`) or single addresses (`127.0.0.1`, `::1`). Empty by
//! default: every forwarding header is then ignored and the TCP peer is the client.
use super::{ConfigError, err};
use ipnet::IpNet;
use std::net::IpAddr;

const VARIABLE: &str = "TRUSTED_PROXIES";

/// The networks whose requests may name the client they forward for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// True when `addr` is one of the trusted proxies (IPv4-mapped IPv6 addresses
    /// count as the IPv4 address they carry).
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        self.0.iter().any(|net| net.contains(&addr))
    }

    /// True when no proxy is trusted: forwarding headers are never read.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Parses the comma-separated list; unset or blank is the empty list.
pub fn parse(value: Option<&str>) -> Result<TrustedProxies, ConfigError> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(network)
        .collect::<Result<Vec<_>, _>>()
        .map(TrustedProxies)
}

/// One entry: a network in CIDR notation or a single address.
fn network(entry: &str) -> Result<IpNet, ConfigError> {
    let net = match entry.parse::<IpAddr>() {
        Ok(addr) => IpNet::from(addr.to_canonical()),
        Err(_) => entry.parse::<IpNet>().map_err(|_| {
            let why = "is not an address or network like 10.0.0.0/8, 127.0.0.1 or fd00::/8";
            err(VARIABLE, format!("{entry:?} {why}"))
        })?,
    };
    if net.prefix_len() == 0 {
        // Trusting every address means believing whatever a client writes in the header.
        let why = "trusts every address, so any client could choose its own address";
        return Err(err(VARIABLE, format!("{entry:?} {why}")));
    }
    Ok(net.trunc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn unset_or_blank_trusts_nobody() {
        assert!(parse(None).unwrap().is_empty());
        assert!(parse(Some(" , ")).unwrap().is_empty());
        assert!(!parse(None).unwrap().contains(ip("127.0.0.1")));
    }

    #[test]
    fn networks_and_single_addresses_of_both_families_are_trusted() {
        let trusted = parse(Some("10.0.0.0/8, 127.0.0.1,fd00::/8 , ::1")).unwrap();
        for yes in [
            "10.1.2.3",
            "127.0.0.1",
            "fd00::17",
            "::1",
            "::ffff:10.9.9.9",
        ] {
            assert!(trusted.contains(ip(yes)), "{yes}");
        }
        for no in [
            "11.0.0.1",
            "127.0.0.2",
            "fe80::1",
            "::2",
            "::ffff:127.0.0.2",
        ] {
            assert!(!trusted.contains(ip(no)), "{no}");
        }
    }

    #[test]
    fn a_network_written_with_host_bits_covers_the_whole_network() {
        let trusted = parse(Some("192.168.1.77/24")).unwrap();
        assert!(trusted.contains(ip("192.168.1.1")));
        assert!(!trusted.contains(ip("192.168.2.1")));
    }

    #[test]
    fn bad_entries_and_trust_in_everyone_are_refused_by_name() {
        for bad in [
            "localhost",
            "10.0.0.0/33",
            "10.0.0/8",
            "fd00::/129",
            "10.0.0.1:80",
            "0.0.0.0/0",
            "::/0",
            "10.0.0.0/8, nonsense",
        ] {
            let e = parse(Some(bad)).unwrap_err();
            assert_eq!(e.variable, VARIABLE, "{bad}");
        }
        let e = parse(Some("10.0.0.0/8, nonsense")).unwrap_err();
        assert!(e.to_string().contains("\"nonsense\""), "{e}");
    }
}
