//! CPU time by process from `/proc`: what one phase cost each component. Per email
//! it is far steadier than a rate, which moves with everything else on the machine.
//! Beside the processes, the machine as a whole (`/proc/stat`): everything it spent,
//! how much of that in interrupts (loopback TCP's receiving side runs there), how
//! much a hypervisor took (steal: on a virtual machine, time its cores wanted and
//! did not get), and how many of its cores a phase kept busy, which says whether the
//! phase was short of CPU or waiting.
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Instant;

/// Clock ticks per second in `/proc/<pid>/stat` (`USER_HZ`: 100 in Linux's ABI,
/// whatever the kernel's own tick).
const USER_HZ: f64 = 100.0;

/// CPU seconds used so far by each process of interest, with its component:
/// `postgres` (every backend and helper), `redis`, `smtp-sink`, `portal` (the
/// processes of `pids`), `bench` (this process: the floor's lettre) and `load` (the
/// children it ran to the end: `wrk`, `pgbench`).
pub struct Sample {
    processes: BTreeMap<u32, (&'static str, f64)>,
    machine: Machine,
}

/// The machine's CPU seconds so far: busy in all (every process, the kernel,
/// interrupts and steal), in interrupts alone (irq + softirq) and stolen, and when
/// they were read.
struct Machine {
    busy: f64,
    interrupts: f64,
    /// Taken by the hypervisor from a virtual machine's cores (0 on bare metal).
    stolen: f64,
    at: Instant,
}

impl Machine {
    fn now() -> Self {
        let at = machine_seconds();
        Self {
            busy: busy(&at),
            interrupts: at(5) + at(6),
            stolen: at(7),
            at: Instant::now(),
        }
    }
}

/// The machine's CPU seconds so far in column `i` of `/proc/stat`'s first line
/// (`cpu  user nice system idle iowait irq softirq steal …`), all cores summed.
fn machine_seconds() -> impl Fn(usize) -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    move |i| ticks.get(i).copied().unwrap_or(0.0) / USER_HZ
}

/// The machine's CPU seconds so far: (busy, of which stolen by the hypervisor).
/// Busy is everything but idle and I/O wait, steal included: a stolen moment is
/// one the machine's own work could not run in.
pub fn busy_and_stolen() -> (f64, f64) {
    let at = machine_seconds();
    (busy(&at), at(7))
}

/// Busy seconds of [`machine_seconds`]: user, nice, system, irq, softirq, steal.
fn busy(at: &impl Fn(usize) -> f64) -> f64 {
    [0, 1, 2, 5, 6, 7].into_iter().map(at).sum()
}

impl Sample {
    pub fn now(pids: &[u32]) -> Self {
        let me = std::process::id();
        let mut used = BTreeMap::new();
        let mut postgres_reaped = 0.0;
        let entries = std::fs::read_dir("/proc").into_iter().flatten().flatten();
        for entry in entries {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            let Some((comm, seconds, reaped)) = cpu_seconds(pid) else {
                continue;
            };
            let component = if pids.contains(&pid) {
                "portal"
            } else if pid == me {
                "bench"
            } else if comm.starts_with("postgres") {
                postgres_reaped += reaped;
                "postgres"
            } else if comm == "redis-server" {
                "redis"
            } else if comm == "smtp-sink" {
                "smtp-sink"
            } else {
                continue;
            };
            used.insert(pid, (component, seconds));
        }
        // Backends that ended (a `pgbench` floor's, opened and closed within its
        // phase): their CPU, from the postmaster's counters of reaped children.
        used.insert(POSTGRES_REAPED_PID, ("postgres", postgres_reaped));
        // Children this process ran to the end (`wrk`, `pgbench`): the load
        // generator's CPU, from its own counters of reaped children.
        if let Some((_, _, reaped)) = cpu_seconds(me) {
            used.insert(LOAD_PID, ("load", reaped));
        }
        Self {
            processes: used,
            machine: Machine::now(),
        }
    }

    /// Microseconds of CPU per item of `items` since `earlier`, by component. Counted
    /// process by process: one that ended in between takes only its last moments
    /// with it, not its whole history. PostgreSQL's backends that ended are counted
    /// whole, from the postmaster's reaped children, less what the ones already
    /// running at `earlier` had spent by then (a `pgbench` floor opens and closes
    /// its connections within its phase: before, its backends' CPU went uncounted).
    /// `machine` is everything the machine spent (other processes and the kernel
    /// too), `interrupts` the part of it in interrupt handlers (also charged, here,
    /// to whichever process they interrupted), `stolen` the part a hypervisor took,
    /// and `cores_busy` the machine's busy CPU seconds per second of the phase.
    pub fn per_item_since(&self, earlier: &Sample, items: usize) -> Value {
        let mut spent: BTreeMap<&str, f64> = BTreeMap::new();
        for (pid, (component, seconds)) in &self.processes {
            let before = earlier.processes.get(pid).map_or(0.0, |(_, s)| *s);
            *spent.entry(component).or_insert(0.0) += seconds - before;
        }
        for (pid, (component, seconds)) in &earlier.processes {
            if *component == "postgres" && !self.processes.contains_key(pid) {
                *spent.entry(component).or_insert(0.0) -= seconds;
            }
        }
        let (now, then) = (&self.machine, &earlier.machine);
        spent.insert("machine", now.busy - then.busy);
        spent.insert("interrupts", now.interrupts - then.interrupts);
        spent.insert("stolen", now.stolen - then.stolen);
        let wall = now.at.duration_since(then.at).as_secs_f64();
        let cores_busy = (now.busy - then.busy) / wall.max(1e-9);
        let mut per_item: BTreeMap<&str, f64> = spent
            .into_iter()
            .map(|(component, seconds)| {
                let micros = seconds * 1e6 / items.max(1) as f64;
                (component, (micros * 10.0).round() / 10.0)
            })
            .filter(|(_, micros)| *micros >= 0.5)
            .collect();
        per_item.insert("cores_busy", (cores_busy * 100.0).round() / 100.0);
        json!(per_item)
    }
}

/// Where [`Sample`] keeps PostgreSQL's ended backends' seconds (no process has it).
const POSTGRES_REAPED_PID: u32 = u32::MAX;

/// Where [`Sample`] keeps the reaped children's seconds (no process has pid 0).
const LOAD_PID: u32 = 0;

/// A process's name, its user + system CPU seconds, and those of its children that
/// ended and were waited for.
fn cpu_seconds(pid: u32) -> Option<(String, f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let comm = stat[open + 1..close].to_owned();
    // After the name: utime, stime, cutime and cstime are fields 14 to 17.
    let ticks: Vec<f64> = stat[close + 2..]
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|t| t.parse().unwrap_or(0.0))
        .collect();
    let &[user, system, reaped_user, reaped_system] = ticks.as_slice() else {
        return None;
    };
    Some((
        comm,
        (user + system) / USER_HZ,
        (reaped_user + reaped_system) / USER_HZ,
    ))
}

/// The key of what PostgreSQL spent per email vacuuming after a drain (kept out of
/// the phase's own figures and of [`line`]).
pub const VACUUM_AFTER: &str = "postgres_vacuum_after";

/// The key of the seconds a drain's workers took to start (process, connections,
/// registration with the queue), before the backlog was pushed; kept out of [`line`].
pub const START_UP: &str = "start_up_seconds";

/// What `target` × the floor's rate leaves `portal` per item, if the service kept
/// the cores as busy as the floor: the floor's machine CPU per item ÷ `target`, less
/// everything else the service's run spent per item (PostgreSQL, Redis, the sink,
/// the load, the kernel). Below zero, no code of the service's own could reach it.
pub fn portal_budget(floor: &Value, service: &Value, target: f64) -> f64 {
    let at = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    at(floor, "machine") / target - (at(service, "machine") - at(service, "portal"))
}

/// One line for the table: `portal 173, postgres 140, …; machine 390 (interrupts
/// 40, stolen 3), 1.83 cores busy`.
pub fn line(per_item: &Value) -> String {
    let at = |k: &str| per_item[k].as_f64().unwrap_or(f64::NAN);
    let processes = per_item
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| {
                    ![
                        "machine",
                        "interrupts",
                        "stolen",
                        "cores_busy",
                        VACUUM_AFTER,
                        START_UP,
                    ]
                    .contains(&k.as_str())
                })
                .map(|(k, v)| format!("{k} {:.0}", v.as_f64().unwrap_or(f64::NAN)))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    format!(
        "{processes}; machine {:.0} (interrupts {:.0}, stolen {:.0}), {:.2} cores busy",
        at("machine"),
        at("interrupts"),
        per_item["stolen"].as_f64().unwrap_or(0.0),
        at("cores_busy")
    )
}
