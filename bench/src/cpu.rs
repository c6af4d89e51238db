//! CPU time by process from `/proc`: what one phase cost each component. Per email
//! it is far steadier than a rate, which moves with everything else on the machine.
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Clock ticks per second in `/proc/<pid>/stat` (`USER_HZ`: 100 in Linux's ABI,
/// whatever the kernel's own tick).
const USER_HZ: f64 = 100.0;

/// CPU seconds used so far by each process of interest, with its component:
/// `postgres` (every backend and helper), `redis`, `smtp-sink`, `portal` (the
/// processes of `pids`) and `bench` (this process: the floor's lettre).
pub struct Sample(BTreeMap<u32, (&'static str, f64)>);

impl Sample {
    pub fn now(pids: &[u32]) -> Self {
        let me = std::process::id();
        let mut used = BTreeMap::new();
        let entries = std::fs::read_dir("/proc").into_iter().flatten().flatten();
        for entry in entries {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            let Some((comm, seconds)) = cpu_seconds(pid) else {
                continue;
            };
            let component = if pids.contains(&pid) {
                "portal"
            } else if pid == me {
                "bench"
            } else if comm.starts_with("postgres") {
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
        Self(used)
    }

    /// Microseconds of CPU per item of `items` since `earlier`, by component. Counted
    /// process by process: one that ended in between (a backend of the previous
    /// phase's worker) takes only its last moments with it, not its whole history.
    pub fn per_item_since(&self, earlier: &Sample, items: usize) -> Value {
        let mut spent: BTreeMap<&str, f64> = BTreeMap::new();
        for (pid, (component, seconds)) in &self.0 {
            let before = earlier.0.get(pid).map_or(0.0, |(_, s)| *s);
            *spent.entry(component).or_insert(0.0) += seconds - before;
        }
        let per_item: BTreeMap<&str, f64> = spent
            .into_iter()
            .map(|(component, seconds)| {
                let micros = seconds * 1e6 / items.max(1) as f64;
                (component, (micros * 10.0).round() / 10.0)
            })
            .filter(|(_, micros)| *micros >= 0.5)
            .collect();
        json!(per_item)
    }
}

/// A process's name and its user + system CPU seconds.
fn cpu_seconds(pid: u32) -> Option<(String, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let comm = stat[open + 1..close].to_owned();
    let mut fields = stat[close + 2..].split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((comm, (user + system) / USER_HZ))
}

/// One line for the table: `portal 173 µs, postgres 140 µs, …`.
pub fn line(per_item: &Value) -> String {
    per_item
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| format!("{k} {:.0}", v.as_f64().unwrap_or(f64::NAN)))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}
