//! argon2id hashing off the async runtime, on a few dedicated low-priority threads.
//!
//! Why not `spawn_blocking`: each argon2 run allocates 19 MiB, and every blocking-pool
//! thread that ran one keeps its own malloc arena, so a burst of 32 sign-ins left the
//! process at ~480 MiB; and two hashes on two cores starved every other request (the
//! benchmark's isolation figure was 5.2). Dedicated threads, one fewer than the cores
//! and at a lower OS priority, bound both.
use crate::error::AppError;
use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use tokio::sync::oneshot;

mod kdf;
#[cfg(target_os = "linux")]
mod pause;

type Job = Box<dyn FnOnce() + Send>;

/// Hashes and verifies passwords with the OWASP parameters (m=19456 KiB, t=2, p=1).
#[derive(Clone)]
pub struct Passwords {
    jobs: mpsc::Sender<Job>,
    /// Verified against for unknown accounts, so they cost the same time as known ones.
    /// Made by [`Passwords::prepare`] (`serve` does it at start-up), else by the first
    /// verification that needs it, on a hasher thread; a worker never needs it.
    dummy_hash: Arc<OnceLock<String>>,
    /// Verifications so far: each costs the same, so an answer's timing follows
    /// how many a request made (tests hold every path to one).
    verifications: Arc<std::sync::atomic::AtomicU64>,
}

/// How much less CPU priority hashing gets than request handling (nice value), where
/// the scheduler refuses `SCHED_IDLE`.
const HASHER_NICENESS: i32 = 19;

/// Starts `n` hasher threads taking jobs from one queue; they end with the sender.
fn start_hashers(n: usize) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..n {
        let rx = rx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                lower_priority();
                let pauses = Pauses::for_this_thread();
                loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    let _interrupted = pauses.as_ref().map(Pauses::arm);
                    job();
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start a password hasher thread");
        }
    }
    tx
}

/// Hashing runs only on CPU time nothing else wants: Linux's `SCHED_IDLE` class
/// (a weight of 3 against a request thread's 1024), so a burst of sign-ins slows
/// sign-ins, not every other request. Under full load sign-ins still progress.
/// `SCHED_IDLE` alone still let a hash hold a CPU others waited for, up to a
/// scheduler tick; `pause` makes each hash step aside every eighth of a millisecond.
#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: plain syscalls on the calling thread (pid 0 / its own thread id).
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) == 0 {
            return;
        }
        // PRIO_PROCESS with a thread id sets that thread's niceness.
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, HASHER_NICENESS);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(target_os = "linux")]
use pause::Pauses;

/// Elsewhere hashing is not interrupted.
#[cfg(not(target_os = "linux"))]
struct Pauses;

#[cfg(not(target_os = "linux"))]
impl Pauses {
    fn for_this_thread() -> Option<Self> {
        None
    }
    fn arm(&self) {}
}

/// The dummy hash, made on first use.
fn dummy_hash(cell: &OnceLock<String>) -> &str {
    cell.get_or_init(|| {
        kdf::hash(b"not-a-real-password-0f9e", false).expect("argon2 works on this machine")
    })
}

/// On a hasher thread: hashes with the thread's kept working memory.
fn hash_blocking(password: &SecretString) -> Result<String, anyhow::Error> {
    kdf::hash(password.expose_secret().as_bytes(), true)
}

/// On a hasher thread: verifies with the thread's kept working memory.
fn verify_blocking(password: &SecretString, phc: &str) -> Result<bool, anyhow::Error> {
    kdf::verify(password.expose_secret().as_bytes(), phc, true)
}

impl Passwords {
    /// Prepares the hashers (one fewer than the cores, at least one). Hashes nothing:
    /// see [`Passwords::prepare`].
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            jobs: start_hashers(cores.saturating_sub(1).max(1)),
            dummy_hash: Arc::default(),
            verifications: Arc::default(),
        }
    }

    /// Makes the dummy hash on the calling thread (which keeps no working memory), so
    /// that the first sign-in for an unknown account costs what the others do. Blocks
    /// for one hash; a process that verifies no password (the worker) skips it, and
    /// the ~40 ms of CPU and 19 MiB it costs.
    pub fn prepare(&self) {
        dummy_hash(&self.dummy_hash);
    }

    /// Runs `work` on a hasher thread and waits for its answer.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = tx.send(work());
            }))
            .map_err(|_| anyhow::anyhow!("password hashers stopped"))?;
        Ok(rx.await.context("password hasher failed")?)
    }

    /// Hashes a new password to a PHC string.
    pub async fn hash(&self, password: SecretString) -> Result<String, AppError> {
        Ok(self.run(move || hash_blocking(&password)).await??)
    }

    /// Checks `password` against `stored`; with no stored hash it still spends the
    /// same work on the dummy hash and answers false.
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<bool, AppError> {
        self.verifications
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let known = stored.is_some();
        let dummy = self.dummy_hash.clone();
        let matches = self
            .run(move || {
                let phc = stored.unwrap_or_else(|| dummy_hash(&dummy).to_owned());
                verify_blocking(&password, &phc)
            })
            .await??;
        Ok(known && matches)
    }
}

impl Passwords {
    /// How many password verifications this process has run.
    pub fn verifications(&self) -> u64 {
        self.verifications
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}
