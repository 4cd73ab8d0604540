//! The WebSocket side: one task per socket reading cart snapshots, and what they
//! count.
//!
//! A socket notes the version and arrival instant of every snapshot it receives;
//! the REST side notes the version and send instant of every change. The two are
//! joined after the run (see `main.rs`): a snapshot's latency is the time from
//! just before the REST request that produced its version was sent to its
//! arrival. A snapshot of a version no timed change produced (the one on connect)
//! is only counted. Versions a socket never sees (it skipped to a later one, as a
//! slow socket does) are counted as skipped.
//!
//! Snapshots are not parsed: the version is read after the first `"version":`,
//! which the server writes right after the cart id.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt as _;
use hdrhistogram::Histogram;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Longest latency the histograms hold, in microseconds (larger values are clamped).
const MAX_LATENCY_US: u64 = 60_000_000;
/// Read buffer of a socket: snapshots are well under 1 KiB, and there are many sockets.
const READ_BUFFER: usize = 4096;
/// A socket's `last_version` once it has ended.
pub(crate) const ENDED: u64 = u64::MAX;

/// The phases of a scenario; every snapshot is counted in the phase it arrives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Connecting; the snapshot each socket gets on connect.
    Connect = 0,
    /// Spaced changes, then waiting for the sockets to catch up.
    Latency = 1,
    /// Changes as fast as possible.
    Load = 2,
    /// After the load: the backlog.
    Backlog = 3,
}

/// How many phases there are.
pub(crate) const PHASES: usize = 4;

/// A latency histogram in microseconds.
pub(crate) fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("the histogram bounds are valid")
}

/// The number after the first `"version":` of a cart JSON (a snapshot or a REST answer).
pub(crate) fn cart_version(body: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"\"version\":";
    let at = body.windows(KEY.len()).position(|window| window == KEY)? + KEY.len();
    let digits = body[at..].iter().take_while(|byte| byte.is_ascii_digit()).count();
    std::str::from_utf8(&body[at..at + digits]).ok()?.parse().ok()
}

/// Microseconds since the start of the run, shared by both sides.
#[derive(Clone, Copy)]
pub(crate) struct Clock(Instant);

impl Clock {
    pub(crate) fn start() -> Self {
        Clock(Instant::now())
    }

    pub(crate) fn micros(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// What the sockets share with the driver.
pub(crate) struct Shared {
    pub(crate) clock: Clock,
    /// The current [`Phase`].
    pub(crate) phase: AtomicUsize,
    /// Per socket: the latest version it received ([`ENDED`] once it ended).
    pub(crate) last_version: Box<[AtomicU64]>,
}

impl Shared {
    pub(crate) fn set_phase(&self, phase: Phase) {
        self.phase.store(phase as usize, Ordering::Release);
    }
}

/// What one socket saw in one phase.
#[derive(Default)]
pub(crate) struct PhaseStats {
    /// Snapshots received.
    pub(crate) received: u64,
    /// Versions jumped over.
    pub(crate) skipped: u64,
    /// Snapshots not newer than the previous one (should never happen).
    pub(crate) out_of_order: u64,
    /// Every snapshot received: its version and arrival (see [`Clock`]).
    pub(crate) arrivals: Vec<(u64, u64)>,
}

/// What one socket saw.
#[derive(Default)]
pub(crate) struct SocketStats {
    /// The cart it follows.
    pub(crate) cart: usize,
    pub(crate) phases: [PhaseStats; PHASES],
    /// Why it ended before it was told to stop.
    pub(crate) ended: Option<String>,
}

/// Opens a WebSocket on `url` through `addr`.
pub(crate) async fn connect(addr: std::net::SocketAddr, url: &str) -> anyhow::Result<WebSocketStream<TcpStream>> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_nodelay(true)?;
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let (socket, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
        .await
        .with_context(|| format!("WebSocket handshake with {url} failed"))?;
    Ok(socket)
}

/// Reads snapshots of cart `cart` on socket number `n` until `stop` turns true.
pub(crate) async fn follow(
    mut socket: WebSocketStream<TcpStream>,
    n: usize,
    cart: usize,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> SocketStats {
    let mut stats = SocketStats {
        cart,
        ..SocketStats::default()
    };
    let mut last = 0u64;
    loop {
        let message = tokio::select! {
            biased;
            _ = stop.wait_for(|stop| *stop) => break,
            message = socket.next() => message,
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => {
                stats.ended = Some(format!("closed by the server: {frame:?}"));
                break;
            }
            Some(Ok(_)) => continue,
            Some(Err(err)) => {
                stats.ended = Some(err.to_string());
                break;
            }
            None => {
                stats.ended = Some("the connection ended".to_owned());
                break;
            }
        };
        let now = shared.clock.micros();
        if !text.starts_with(r#"{"type":"cart""#) {
            continue;
        }
        let Some(version) = cart_version(text.as_bytes()) else {
            continue;
        };
        let phase = &mut stats.phases[shared.phase.load(Ordering::Acquire)];
        phase.received += 1;
        if version <= last {
            phase.out_of_order += 1;
            continue;
        }
        if last != 0 {
            phase.skipped += version - last - 1;
        }
        phase.arrivals.push((version, now));
        last = version;
        shared.last_version[n].store(version, Ordering::Release);
    }
    if stats.ended.is_some() {
        shared.last_version[n].store(ENDED, Ordering::Release);
    }
    stats
}

/// Waits until every socket has reached the version of its cart in `versions`
/// (or ended), at most `timeout`; returns how many had not.
pub(crate) async fn wait_caught_up(
    shared: &Shared,
    socket_carts: &[usize],
    versions: &[u64],
    timeout: Duration,
) -> usize {
    let deadline = Instant::now() + timeout;
    loop {
        let behind = socket_carts
            .iter()
            .enumerate()
            .filter(|(n, cart)| shared.last_version[*n].load(Ordering::Acquire) < versions[**cart])
            .count();
        if behind == 0 || Instant::now() >= deadline {
            return behind;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
