//! CPU time over the timed phase, to tell how contended the machine was: this
//! process (the client, and the server when it runs in-process) against the
//! whole machine, and within it the load client's threads (`load-client`)
//! against the rest, the server's, from `/proc` (Linux; elsewhere nothing is
//! printed).

use std::time::Instant;

/// Clock ticks per second of `/proc` times (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU times at one instant.
pub(crate) struct CpuSample {
    at: Instant,
    /// This process: user + system ticks.
    process: u64,
    /// Of which the load client's threads.
    client: u64,
    /// The machine: busy ticks (everything but idle and iowait), summed over cores.
    machine_busy: u64,
}

impl CpuSample {
    /// Reads `/proc/self/stat` and `/proc/stat`; `None` where they cannot be read.
    pub(crate) fn now() -> Option<Self> {
        let process = cpu_ticks(&std::fs::read_to_string("/proc/self/stat").ok()?)?.1;
        let client = std::fs::read_dir("/proc/self/task")
            .ok()?
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("stat")).ok())
            .filter_map(|stat| cpu_ticks(&stat))
            .filter(|(name, _)| name == "load-client")
            .map(|(_, ticks)| ticks)
            .sum();
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
            client,
            machine_busy: total - idle,
        })
    }

    /// One line: cores kept busy by this process and by everything else since `earlier`.
    pub(crate) fn describe_since(&self, earlier: &CpuSample) -> String {
        let process = self.cores_since(earlier, |sample| sample.process);
        let machine = self.cores_since(earlier, |sample| sample.machine_busy);
        let cores = std::thread::available_parallelism().map_or(0, usize::from);
        format!(
            "{machine:.2} of {cores} cores busy: {process:.2} this process, {:.2} other processes",
            (machine - process).max(0.0)
        )
    }

    /// Cores the threads of this process other than the load client's kept
    /// busy since `earlier`: the in-process server's.
    pub(crate) fn server_cores_since(&self, earlier: &CpuSample) -> f64 {
        self.cores_since(earlier, |sample| sample.process.saturating_sub(sample.client))
    }

    fn cores_since(&self, earlier: &CpuSample, ticks: impl Fn(&CpuSample) -> u64) -> f64 {
        let seconds = self.at.duration_since(earlier.at).as_secs_f64().max(1e-3);
        ticks(self).saturating_sub(ticks(earlier)) as f64 / TICKS_PER_SECOND / seconds
    }
}

/// The command name and user + system ticks of a `/proc/.../stat` line.
fn cpu_ticks(stat: &str) -> Option<(String, u64)> {
    let (head, tail) = stat.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_string();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = tail.split_whitespace().collect();
    Some((
        name,
        fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?,
    ))
}
