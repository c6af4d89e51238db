//! Debian's nginx as the reverse proxy in front of `portal serve` processes, set up
//! the way the README's "Behind a proxy" section tells operators to.
use crate::process::{Program, start_on_free_port};
use std::path::Path;
use std::process::Command;

pub const NGINX: &str = "/usr/sbin/nginx";

/// Starts nginx on a free loopback port, balancing over the `upstreams` ports (on
/// 127.0.0.1) round robin, and appending the client to `X-Forwarded-For`.
pub async fn start(upstreams: &[u16]) -> Program {
    assert!(
        Path::new(NGINX).exists(),
        "this test needs Debian's nginx (apt-get install nginx); ./test installs it"
    );
    start_on_free_port("nginx", "/healthz", |port, dir| {
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config(port, upstreams, dir)).expect("nginx.conf written");
        let mut command = Command::new(NGINX);
        command
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.join("error.log"))
            .args(["-g", "daemon off;"]);
        command
    })
    .await
}

/// One process (no master and workers to outlive the test), every path in `dir`.
fn config(port: u16, upstreams: &[u16], dir: &Path) -> String {
    let dir = dir.display();
    let servers: String = upstreams
        .iter()
        .map(|p| format!("    server 127.0.0.1:{p};\n"))
        .collect();
    // Run as root, nginx would switch to `nobody`, who cannot read the temp dir.
    let user = if is_root() { "user root;" } else { "" };
    format!(
        r#"{user}
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log {dir}/access.log;
  client_body_temp_path {dir}/client_body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  upstream portal {{
{servers}  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://portal;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }}
  }}
}}
"#
    )
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1))
            == Some("0")
    })
}
