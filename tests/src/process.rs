//! Real programs a test runs beside it: `portal serve` from this build and Debian's
//! nginx. Neither can take a socket from the test, so each gets a port the OS had
//! free and, when something else took it first (the program exits), another one.
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// A child process with its output in files, killed (SIGKILL) and reaped when dropped.
pub struct Program {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
    /// Hand the output to the suite's secret scan when the program ends.
    scanned: bool,
}

impl Program {
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the program wrote so far, stdout then stderr.
    pub fn output(&self) -> String {
        let read = |name| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        read("stdout.log") + &read("stderr.log")
    }

    /// The program's own directory (configuration, logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.scanned {
            crate::logscan::ingest(&self.output());
        }
    }
}

/// Starts `command(port, dir)` on a free loopback port and waits until
/// `http://127.0.0.1:<port><ready_path>` answers 2xx while the program still runs;
/// a program that exits is retried on another port, one that never answers fails.
pub async fn start_on_free_port(
    name: &str,
    ready_path: &str,
    mut command: impl FnMut(u16, &Path) -> Command,
) -> Program {
    let mut failures = Vec::new();
    for _ in 0..5 {
        let port = crate::ports::released_port();
        let dir = tempfile::tempdir().expect("temp dir");
        let file = |name: &str| std::fs::File::create(dir.path().join(name)).expect("log file");
        let child = command(port, dir.path())
            .stdin(Stdio::null())
            .stdout(file("stdout.log"))
            .stderr(file("stderr.log"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let mut program = Program {
            child,
            port,
            dir,
            scanned: false,
        };
        let ready = format!("{}{ready_path}", program.url());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while tokio::time::Instant::now() < deadline {
            if matches!(program.child.try_wait(), Ok(Some(_))) {
                break;
            }
            let answer = reqwest::get(&ready).await;
            if answer.is_ok_and(|r| r.status().is_success())
                && matches!(program.child.try_wait(), Ok(None))
            {
                return program;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        failures.push(format!("port {port}: {}", program.output()));
    }
    panic!("{name} did not start on any of five ports: {failures:#?}");
}

/// `portal serve --no-worker` with only `env` set (and `BIND` on a free port), its
/// JSON log scanned for secrets when it ends.
pub async fn serve_no_worker(env: &[(&str, &str)]) -> Program {
    let binary = portal_binary();
    let mut serving = start_on_free_port("portal serve", "/healthz", |port, _| {
        let mut command = Command::new(binary);
        command
            .args(["serve", "--no-worker"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("BIND", format!("127.0.0.1:{port}"))
            .envs(env.iter().copied());
        command
    })
    .await;
    serving.scanned = true;
    serving
}

/// The `portal` binary of this build profile: this package's `portal-under-test`,
/// which cargo builds before it runs any integration test of the package, with the
/// features of the same build.
pub fn portal_binary() -> &'static PathBuf {
    static FOUND: OnceLock<PathBuf> = OnceLock::new();
    FOUND.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable");
        // target/<profile>/deps/<test>-<hash>
        let profile_dir = exe.parent().and_then(|d| d.parent()).expect("profile dir");
        let binary = profile_dir.join(format!("portal-under-test{}", std::env::consts::EXE_SUFFIX));
        assert!(
            binary.is_file(),
            "{} is missing: run the tests with `cargo test` (it builds the binary first)",
            binary.display()
        );
        binary
    })
}
