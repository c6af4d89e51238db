//! The client's address, decided once per request and used by everything that names
//! the caller: the abuse limits, the audit trail's `ip` and the request log.
//!
//! Behind a reverse proxy every TCP connection comes from the proxy, so the peer
//! address alone would count all users as one. When the peer is one of
//! `TRUSTED_PROXIES`, the forwarding headers it adds are read, walking from the right
//! (the entry the nearest proxy wrote) past every trusted proxy to the first address
//! that is not one: entries further left were written by the client or by proxies
//! nobody vouches for, so they are never believed.
//!
//! - `X-Forwarded-For` wins when a request carries both headers: it is what nginx,
//!   HAProxy and the cloud load balancers append to, and a proxy that appends to one
//!   header passes the other through as the client sent it. A proxy that writes only
//!   `Forwarded` must therefore drop any `X-Forwarded-For` it receives.
//! - `Forwarded` (RFC 7239) is read only when there is no `X-Forwarded-For`: the
//!   `for=` of each element, quoted IPv6 in brackets and ports allowed.
//! - An entry that is not an address (`unknown`, an obfuscated `_name`, garbage) where
//!   the walk needs one, or a header that cannot be read, leaves the peer as the client.
//! - A peer that is not trusted is the client, whatever its headers say.
mod headers;

use crate::configuration::TrustedProxies;
use poem::http::HeaderMap;
use poem::web::RequestBody;
use poem::{Endpoint, FromRequest, IntoResponse, Request, Response};
use std::net::IpAddr;
use std::sync::Arc;

/// The address this request is attributed to (`None`: the peer has no IP, e.g. a
/// Unix socket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(Option<IpAddr>);

impl ClientAddress {
    /// The address decided by [`attach`] (the peer's, for a request that did not pass it).
    pub fn of(req: &Request) -> Self {
        match req.extensions().get::<ClientAddress>() {
            Some(decided) => *decided,
            None => ClientAddress(peer_ip(req)),
        }
    }

    /// The address as the audit trail and the limits store it.
    pub fn text(&self) -> Option<String> {
        self.0.map(|ip| ip.to_string())
    }

    /// The address itself, for the log span.
    pub fn ip(&self) -> Option<IpAddr> {
        self.0
    }
}

impl<'a> FromRequest<'a> for ClientAddress {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(ClientAddress::of(req))
    }
}

/// Middleware: decides the client address once and stores it on the request.
pub async fn attach<E: Endpoint>(
    next: Arc<E>,
    mut req: Request,
    trusted: Arc<TrustedProxies>,
) -> poem::Result<Response> {
    let client = ClientAddress(decide(peer_ip(&req), req.headers(), &trusted));
    req.extensions_mut().insert(client);
    next.call(req).await.map(IntoResponse::into_response)
}

fn peer_ip(req: &Request) -> Option<IpAddr> {
    req.remote_addr()
        .as_socket_addr()
        .map(|a| a.ip().to_canonical())
}

/// The one rule: whom a request from `peer` carrying `headers` comes from.
pub fn decide(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    if !trusted.contains(peer) {
        return Some(peer);
    }
    let Some(hops) = headers::forwarded_hops(headers) else {
        return Some(peer);
    };
    Some(nearest_untrusted(&hops, trusted).unwrap_or(peer))
}

/// Walks `hops` (nearest proxy last) from the right past trusted proxies; the first
/// other address is the client. A hop that is no address stops the walk (`None`); a
/// chain of trusted proxies only gives its leftmost.
fn nearest_untrusted(hops: &[Option<IpAddr>], trusted: &TrustedProxies) -> Option<IpAddr> {
    let mut leftmost = None;
    for hop in hops.iter().rev() {
        let ip = (*hop)?;
        if !trusted.contains(ip) {
            return Some(ip);
        }
        leftmost = Some(ip);
    }
    leftmost
}

#[cfg(test)]
mod tests;
