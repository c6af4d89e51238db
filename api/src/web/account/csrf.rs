//! CSRF protection for the account forms: a double-submit token (a random value in
//! a SameSite=Strict, HttpOnly cookie and in the form) plus a same-site check.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use poem::Request;
use rand::RngCore;

const COOKIE: &str = "portal_csrf";

/// A fresh token for a form.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The `Set-Cookie` value carrying `token` (Secure when the site is served over https).
pub fn cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={token}; Path=/account; HttpOnly; SameSite=Strict; Max-Age=3600{secure}")
}

/// Whether a form post carries the cookie's token and, as far as the browser says
/// where it comes from, comes from this site. With `Referrer-Policy: no-referrer`
/// browsers send `Origin: null`, so `Sec-Fetch-Site` is the better witness.
pub fn verify(req: &Request, submitted: &str) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let same_site = match (header("sec-fetch-site"), header("origin")) {
        (Some(site), _) => site == "same-origin",
        (None, None | Some("null")) => true,
        (None, Some(origin)) => {
            let host = header("host").unwrap_or_default();
            origin
                .split_once("://")
                .is_some_and(|(_, rest)| rest == host)
        }
    };
    let matches = super::session::cookie(req, COOKIE)
        .is_some_and(|c| constant_time_eq(c.as_bytes(), submitted.as_bytes()));
    same_site && matches && !submitted.is_empty()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
