//! The server a run talks to (external, in this process or a child process)
//! and the CPU each process used during a phase.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::server::{InProcessServer, Seed};
use crate::{Args, DurabilityArg, ServerMode};

/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// The server a run talks to.
pub(crate) enum Server {
    /// Given by --url.
    External,
    /// A thread of this process.
    InProcess(InProcessServer),
    /// A child process serving until its stdin closes.
    Child { child: Child, stdin: ChildStdin },
}

impl Server {
    /// Starts the server `args` ask for; returns it and its address (none for --url).
    pub(crate) fn start(args: &Args) -> anyhow::Result<(Server, Option<SocketAddr>)> {
        if args.url.is_some() {
            return Ok((Server::External, None));
        }
        match args.server {
            ServerMode::InProcess => {
                let (server, _) =
                    InProcessServer::start(&args.token, args.durability.durability(), Seed::default(), |_| {})?;
                let addr = server.addr;
                Ok((Server::InProcess(server), Some(addr)))
            }
            ServerMode::Child => {
                let exe = std::env::current_exe().context("cannot find this executable")?;
                let mut child = Command::new(exe)
                    .args(["--serve-child", "--token", &args.token, "--durability"])
                    .arg(args.durability.flag())
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .context("cannot start the server process")?;
                let stdin = child.stdin.take().context("no stdin pipe to the server")?;
                let stdout = child.stdout.take().context("no stdout pipe from the server")?;
                let mut line = String::new();
                BufReader::new(stdout)
                    .read_line(&mut line)
                    .context("cannot read the server's address")?;
                let addr = match line.trim().parse() {
                    Ok(addr) => addr,
                    Err(_) => {
                        let _ = child.kill();
                        let _ = child.wait();
                        bail!("the server process did not start (it printed {line:?})");
                    }
                };
                Ok((Server::Child { child, stdin }, Some(addr)))
            }
        }
    }

    /// The process whose CPU time is the server's, if it is not this one.
    pub(crate) fn pid(&self) -> Option<u32> {
        match self {
            Server::Child { child, .. } => Some(child.id()),
            _ => None,
        }
    }

    /// Where it runs, for the summary.
    pub(crate) fn describe(&self, addr: &str, durability: DurabilityArg) -> String {
        match self {
            Server::External => format!("{addr} (external)"),
            Server::InProcess(_) => format!("{addr}, in this process ({})", durability.flag()),
            Server::Child { child, .. } => format!("{addr}, child process {} ({})", child.id(), durability.flag()),
        }
    }

    /// Stops a server this run started.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        match self {
            Server::External => Ok(()),
            Server::InProcess(server) => server.stop().await.context("the in-process server failed"),
            Server::Child { mut child, stdin } => {
                drop(stdin);
                let waited = tokio::task::spawn_blocking(move || {
                    let deadline = Instant::now() + Duration::from_secs(30);
                    loop {
                        if let Some(status) = child.try_wait()? {
                            return Ok(status);
                        }
                        if Instant::now() >= deadline {
                            child.kill()?;
                            return child.wait();
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                })
                .await?
                .context("cannot wait for the server process")?;
                if !waited.success() {
                    bail!("the server process ended with {waited}");
                }
                Ok(())
            }
        }
    }
}

/// `--serve-child`: serves until the parent closes stdin.
pub(crate) fn serve_child(args: &Args) -> anyhow::Result<()> {
    let (server, _) = InProcessServer::start(&args.token, args.durability.durability(), Seed::default(), |_| {})?;
    println!("{}", server.addr);
    let mut rest = Vec::new();
    // Blocks until the parent closes the pipe (or dies).
    let _ = std::io::stdin().read_to_end(&mut rest);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(server.stop())
}

/// The soft limit on open files of this process, from /proc.
pub(crate) fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// User plus system CPU seconds of a process (`self` or a pid), from /proc.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / TICKS_PER_SECOND)
}

/// Busy CPU seconds of the whole machine (all cores), from /proc/stat.
fn machine_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .map(|field| field.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal ...: idle and iowait are not busy.
    let total: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4)?;
    Some((total - idle) as f64 / TICKS_PER_SECOND)
}

/// CPU used by this process, the server's and the whole machine over a phase.
pub(crate) struct CpuMeter {
    pub(crate) started: Instant,
    pub(crate) client: Option<f64>,
    pub(crate) server_pid: Option<String>,
    pub(crate) server: Option<f64>,
    pub(crate) machine: Option<f64>,
}

impl CpuMeter {
    pub(crate) fn start(server_pid: Option<u32>) -> Self {
        let server_pid = server_pid.map(|pid| pid.to_string());
        CpuMeter {
            started: Instant::now(),
            client: cpu_seconds("self"),
            server: server_pid.as_deref().and_then(cpu_seconds),
            server_pid,
            machine: machine_cpu_seconds(),
        }
    }

    /// Cores used since the start, as a line. The machine's figure tells whether
    /// anything else competed for the cores.
    pub(crate) fn line(&self, server_in_process: bool) -> String {
        let wall = self.started.elapsed().as_secs_f64();
        let cores = |before: Option<f64>, pid: Option<&str>| {
            let (before, now) = (before?, cpu_seconds(pid?)?);
            Some((now - before) / wall)
        };
        let client = cores(self.client, Some("self"));
        let server = cores(self.server, self.server_pid.as_deref());
        let mut line = match (client, server) {
            (Some(client), Some(server)) => format!("client {client:.2} cores, server {server:.2} cores"),
            (Some(both), None) if server_in_process => format!("{both:.2} cores (client and server)"),
            (Some(client), None) => format!("client {client:.2} cores"),
            _ => "unknown".to_owned(),
        };
        if let (Some(before), Some(now)) = (self.machine, machine_cpu_seconds()) {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            line.push_str(&format!("; machine {:.2} of {cores} cores busy", (now - before) / wall));
        }
        line
    }
}
