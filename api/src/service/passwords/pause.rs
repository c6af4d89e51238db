//! A hasher thread that steps aside every eighth of a millisecond while it hashes.
//!
//! `SCHED_IDLE` alone did not keep hashing out of other work's way. `perf sched
//! timehist` during the benchmark's sign-in load (Linux 6.18, HZ=250) showed the
//! scheduler picking the hasher over a runnable request thread or PostgreSQL backend,
//! or not preempting it for a waking one in another scheduling group, and then leaving
//! it on the CPU until the next tick: 400 waits of 1–4.7 ms in 3 s, ending on 4 ms
//! tick boundaries, which made the p99 of a cheap query 4–5× its idle value.
//!
//! An argon2 run is one call of 20–30 ms with no place to yield, so a per-thread
//! high-resolution timer interrupts it every `PERIOD`, and when anything but hashing
//! is runnable (`/proc/loadavg`, read in the handler) the handler sleeps for `BREAK`:
//! off the run queue, the hasher leaves its CPU to whatever is waiting. Nothing waits
//! behind a hash much longer than `PERIOD`. The price is hashing speed under load:
//! sign-ins while other work runs come about half as fast.
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::time::Duration;

/// Longest stretch a hasher keeps a CPU.
pub const PERIOD: Duration = Duration::from_micros(125);
/// How long it steps aside each time.
pub const BREAK: Duration = Duration::from_micros(10);

/// The interrupting timer of one hasher thread, armed only while it hashes.
pub struct Pauses {
    timer: libc::timer_t,
}

// SAFETY: the timer id is a plain handle; it is only used by the thread that owns it.
unsafe impl Send for Pauses {}

fn signal() -> libc::c_int {
    libc::SIGRTMAX() - 2
}

/// `/proc/loadavg`, open for the handler.
static LOADAVG: AtomicI32 = AtomicI32::new(-1);
/// Hasher threads hashing right now (armed).
static HASHING: AtomicUsize = AtomicUsize::new(0);

/// Runnable tasks right now, all CPUs: the numerator of loadavg's fourth field
/// ("0.68 1.27 1.15 3/150 1234"). Only syscalls and stack memory: signal-safe.
fn runnable() -> Option<usize> {
    let mut buf = [0u8; 128];
    let fd = LOADAVG.load(Ordering::Relaxed);
    // SAFETY: reads into a stack buffer of the given length.
    let n = unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    let text = buf.get(..usize::try_from(n).ok()?)?;
    let field = text.split(|&b| b == b' ').nth(3)?;
    let running = field.split(|&b| b == b'/').next()?;
    running.iter().try_fold(0usize, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + usize::from(d - b'0'))
    })
}

/// Whether anything but hashing is runnable. Not "more runnable tasks than CPUs":
/// the waits seen were a task queued behind the hasher on its CPU while the other
/// CPU sat idle. (Linux's CPU pressure, tried instead, did not show those waits.)
fn others_runnable() -> bool {
    runnable().is_some_and(|n| n > HASHING.load(Ordering::Relaxed))
}

extern "C" fn step_aside(_: libc::c_int) {
    // SAFETY: pread and nanosleep are async-signal-safe; errno is saved and restored.
    unsafe {
        let errno = *libc::__errno_location();
        if others_runnable() {
            let pause = libc::timespec {
                tv_sec: 0,
                tv_nsec: BREAK.as_nanos() as libc::c_long,
            };
            libc::nanosleep(&pause, std::ptr::null_mut());
        }
        *libc::__errno_location() = errno;
    }
}

fn install_handler() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    // SAFETY: opening a file and sigaction with a signal-safe handler, once.
    *INSTALLED.get_or_init(|| unsafe {
        let fd = libc::open(c"/proc/loadavg".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return false;
        }
        LOADAVG.store(fd, Ordering::Relaxed);
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = step_aside as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(signal(), &action, std::ptr::null_mut()) == 0
    })
}

impl Pauses {
    /// A timer aimed at the calling thread; `None` where one cannot be made.
    pub fn for_this_thread() -> Option<Self> {
        if !install_handler() {
            return None;
        }
        // SAFETY: plain syscalls on the calling thread; `timer` is written by timer_create.
        unsafe {
            // The sleep is short: let it end on time rather than 50 µs later.
            libc::prctl(libc::PR_SET_TIMERSLACK, 1_000 as libc::c_ulong);
            let mut event: libc::sigevent = std::mem::zeroed();
            event.sigev_notify = libc::SIGEV_THREAD_ID;
            event.sigev_signo = signal();
            event.sigev_notify_thread_id = libc::syscall(libc::SYS_gettid) as libc::c_int;
            let mut timer: libc::timer_t = std::ptr::null_mut();
            (libc::timer_create(libc::CLOCK_MONOTONIC, &mut event, &mut timer) == 0)
                .then_some(Self { timer })
        }
    }

    fn set(&self, every: Duration) {
        let every = libc::timespec {
            tv_sec: every.as_secs() as libc::time_t,
            tv_nsec: every.subsec_nanos() as libc::c_long,
        };
        let spec = libc::itimerspec {
            it_interval: every,
            it_value: every,
        };
        // SAFETY: `self.timer` came from timer_create and is deleted only on drop.
        unsafe {
            libc::timer_settime(self.timer, 0, &spec, std::ptr::null_mut());
        }
    }

    /// Interrupts this thread until the returned guard is dropped (the hash is done,
    /// or its job panicked), so an idle hasher is never woken.
    pub fn arm(&self) -> Armed<'_> {
        HASHING.fetch_add(1, Ordering::Relaxed);
        self.set(PERIOD);
        Armed(self)
    }
}

/// An armed timer: disarmed on drop.
pub struct Armed<'a>(&'a Pauses);

impl Drop for Armed<'_> {
    fn drop(&mut self) {
        self.0.set(Duration::ZERO);
        HASHING.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Drop for Pauses {
    fn drop(&mut self) {
        // SAFETY: deleting the timer this value owns.
        unsafe {
            libc::timer_delete(self.timer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runnable_count_is_read_from_loadavg() {
        assert!(install_handler());
        let n = runnable().expect("a count");
        assert!(n >= 1, "this test itself is runnable");
    }

    /// With a CPU hog per CPU beside it, the timer fires and the thread steps aside
    /// (its voluntary context switches grow), and is silent once disarmed.
    #[test]
    fn an_armed_timer_steps_aside_while_others_wait() {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let hogs: Vec<_> = (0..std::thread::available_parallelism().map_or(1, |n| n.get()))
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        let pauses = Pauses::for_this_thread().expect("timer");
        let switches = || {
            let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
            status
                .lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap()
        };
        let before = switches();
        let armed = pauses.arm();
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(50) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        drop(armed);
        let slept = switches() - before;
        assert!(x != 1);
        // Up to 200 breaks in 50 ms of CPU; none would mean the timer never fired.
        assert!(slept >= 5, "only {slept} breaks");
        stop.store(true, Ordering::Relaxed);
        hogs.into_iter().for_each(|h| h.join().unwrap());
        let after = switches();
        std::thread::sleep(Duration::from_millis(5));
        assert!(switches() - after <= 2, "a disarmed timer still fires");
    }
}
