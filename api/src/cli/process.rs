//! The `portal` process: its one-time settings, the runtime, and the exit code. Shared
//! by `api/src/main.rs` and the bench's copy of the binary (built with the bench's
//! features, so a fresh clone compiles the dependencies once).
use super::{Cli, Command, run};
use clap::Parser;
use std::process::ExitCode;

/// mimalloc, not glibc's malloc: under 16 connections of resends glibc's malloc,
/// free and `malloc_consolidate` were 16% of serve's CPU, and the resend rate was
/// 0.56–0.64 of its floor against 0.60–0.78 with mimalloc (`bench resend`, four runs
/// each, alternated). Built without transparent huge pages (`no_thp`): with them a
/// burst of sign-ins (argon2's 19 MiB) took serve's peak RSS to 63.5 MiB, against
/// 54 without and 48 with glibc. Declared here, in the library, so that every
/// binary of the workspace that runs `portal` (the bench's copy too) gets it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs `portal` with the process's arguments; call from `main` before any thread starts.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match runtime_for(&cli.command) {
        Ok(runtime) => runtime.block_on(start(cli)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The async runtime: tokio's default (a thread per core), except that `serve` gets
/// one thread more than there are cores and `worker` runs on one thread, unless
/// `TOKIO_WORKER_THREADS` sets the count.
///
/// The API shares its cores with PostgreSQL and Redis on a small host. When a
/// database backend preempts one of the runtime's threads, the tasks queued on that
/// thread (among them the one it just woke, which tokio keeps for that thread alone)
/// wait until it runs again: `perf sched` under 16 connections of resends saw waits
/// of up to 18 ms, and the p99 of a resend was 21–41 ms against a p50 of 7. A
/// spare thread keeps running them meanwhile: p99 17–19 ms, and 5–15% more resends
/// per second (`bench resend`, four runs each, on 2 cores).
///
/// A worker process is a pipeline of short steps (queue, database, SMTP) handing
/// each email on: on one thread (tokio's current-thread runtime) it spent 110–159 µs
/// of CPU per email against 133–180 on two, sent 0.35–0.41 of lettre's floor against
/// 0.33–0.38 (`bench pipeline`, alternated runs on 2 cores), and two workers on two
/// cores no longer fought over four threads (0.30–0.52 of the floor over as many
/// connections against 0.26–0.32). More cores: run more workers, or set the count.
/// lettre is not on this runtime: it has a thread of its own in either process
/// (`jobs/src/mailer/smtp_thread.rs`), so the SMTP side and the database side of a
/// worker run side by side.
fn runtime_for(command: &Command) -> std::io::Result<tokio::runtime::Runtime> {
    let threads_set = std::env::var_os("TOKIO_WORKER_THREADS").is_some();
    if matches!(command, Command::Worker) && !threads_set {
        return tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    let serving = matches!(command, Command::Serve { .. });
    if serving && !threads_set {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        builder.worker_threads(cores + 1);
    }
    builder.build()
}

async fn start(cli: Cli) -> ExitCode {
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Command, runtime_for};
    use tokio::runtime::RuntimeFlavor;

    #[test]
    fn a_worker_runs_on_one_thread_and_serve_on_several() {
        // `TOKIO_WORKER_THREADS` would choose for both; the suite never sets it.
        assert!(std::env::var_os("TOKIO_WORKER_THREADS").is_none());
        let flavor = |c: Command| runtime_for(&c).unwrap().handle().runtime_flavor();
        assert_eq!(flavor(Command::Worker), RuntimeFlavor::CurrentThread);
        let serve = Command::Serve { no_worker: false };
        assert_eq!(flavor(serve), RuntimeFlavor::MultiThread);
    }
}
