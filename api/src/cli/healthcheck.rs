//! `portal healthcheck`: for a container's HEALTHCHECK. One plain HTTP/1.1 GET of
//! the local `/readyz`, no configuration beyond the address and no database, so it
//! costs a few milliseconds; exit 0 on `200`, 1 on anything else.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The whole check may take this long.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Where to ask: `--url`, else `/readyz` on `BIND` (or `WORKER_BIND` with `--worker`)
/// with an unspecified address (`0.0.0.0`, `::`) read as loopback.
pub fn target(url: Option<String>, worker: bool) -> anyhow::Result<String> {
    if let Some(url) = url {
        return Ok(url);
    }
    let (variable, default) = match worker {
        true => ("WORKER_BIND", "127.0.0.1:9090"),
        false => ("BIND", "127.0.0.1:8000"),
    };
    let _ = dotenvy::dotenv();
    let text = std::env::var(variable)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned());
    let mut addr: SocketAddr = text
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("{variable}: {text:?} is not an address like {default}"))?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    Ok(format!("http://{addr}/readyz"))
}

/// GETs `url` (`http://host:port/path`); `Ok` only for a `200` answer.
pub async fn check(url: &str) -> anyhow::Result<()> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow::anyhow!("--url: {url:?} is not an http:// URL"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    anyhow::ensure!(
        !authority.is_empty() && !authority.contains('@'),
        "--url: {url:?} has no host:port"
    );
    let host_port = match authority.rsplit_once(':') {
        Some((_, port)) if port.parse::<u16>().is_ok() && !authority.ends_with(']') => {
            authority.to_owned()
        }
        _ => format!("{authority}:80"),
    };
    let status = tokio::time::timeout(TIMEOUT, get(&host_port, authority, path))
        .await
        .map_err(|_| anyhow::anyhow!("{url} did not answer within {} s", TIMEOUT.as_secs()))?
        .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    anyhow::ensure!(status == 200, "{url} answered {status}");
    Ok(())
}

/// The status code of `GET path` on `host_port`.
async fn get(host_port: &str, host: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = tokio::net::TcpStream::connect(host_port).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: portal-healthcheck\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 4096 {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    line.split_whitespace()
        .nth(1)
        .filter(|_| line.starts_with("HTTP/1."))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP answer"))
}

#[cfg(test)]
mod tests {
    use super::target;

    #[test]
    fn an_explicit_url_wins() {
        let url = target(Some("http://10.0.0.1:1/readyz".into()), false).unwrap();
        assert_eq!(url, "http://10.0.0.1:1/readyz");
    }
}
