//! CPU time over the timed phase, to tell how contended the machine was: this
//! process (the client, and the server when it runs in-process) against the
//! whole machine, from `/proc` (Linux; elsewhere nothing is printed).

use std::time::Instant;

/// Clock ticks per second of `/proc` times (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU times at one instant.
pub(crate) struct CpuSample {
    at: Instant,
    /// This process: user + system ticks.
    process: u64,
    /// The machine: busy ticks (everything but idle and iowait), summed over cores.
    machine_busy: u64,
}

impl CpuSample {
    /// Reads `/proc/self/stat` and `/proc/stat`; `None` where they cannot be read.
    pub(crate) fn now() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let process = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        let machine = std::fs::read_to_string("/proc/stat").ok()?;
        let ticks: Vec<u64> = machine
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|field| field.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        let total: u64 = ticks.iter().take(8).sum();
        let idle = ticks.get(3)? + ticks.get(4).copied().unwrap_or(0);
        Some(CpuSample {
            at: Instant::now(),
            process,
            machine_busy: total - idle,
        })
    }

    /// One line: cores kept busy by this process and by everything else since `earlier`.
    pub(crate) fn describe_since(&self, earlier: &CpuSample) -> String {
        let seconds = self.at.duration_since(earlier.at).as_secs_f64().max(1e-3);
        let process = (self.process - earlier.process) as f64 / TICKS_PER_SECOND / seconds;
        let machine = (self.machine_busy.saturating_sub(earlier.machine_busy)) as f64 / TICKS_PER_SECOND / seconds;
        let cores = std::thread::available_parallelism().map_or(0, usize::from);
        format!(
            "{machine:.2} of {cores} cores busy: {process:.2} this process, {:.2} other processes",
            (machine - process).max(0.0)
        )
    }
}
