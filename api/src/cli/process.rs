//! The `portal` process: its one-time settings, the runtime, and the exit code. Shared
//! by `api/src/main.rs` and the bench's copy of the binary (built with the bench's
//! features, so a fresh clone compiles the dependencies once).
use super::{Cli, run};
use clap::Parser;
use std::process::ExitCode;

/// Large allocations (argon2's 19 MiB per hash) always get their own mapping and go
/// back to the OS when freed; glibc's default raises the threshold after the first
/// free and keeps them in the heap, which the benchmark saw as +90 MiB of RSS.
fn return_large_allocations_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: a process-wide malloc setting made before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Runs `portal` with the process's arguments; call from `main` before any thread starts.
pub fn main() -> ExitCode {
    return_large_allocations_to_the_os();
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(start()),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn start() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
