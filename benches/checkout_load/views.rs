//! `--views R`: product views recorded in process at R per second beside the
//! checkouts, through the server's views front door as the storefront's
//! product pages record them, to show what recording views costs a checkout
//! (compare the checkouts/s of a run with and without it). 10,000 guest
//! sessions view products 1..=10,000 at random.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mercato_actors::views::recent::ViewerKey;
use mercato_actors::views::{Recorded, Views};

/// Sessions viewing.
const SESSIONS: usize = 10_000;
/// How often the generator catches up with its schedule.
const TICK: Duration = Duration::from_millis(1);

/// A running view generator.
pub(crate) struct ViewLoad {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(u64, u64, Duration)>,
}

impl ViewLoad {
    /// Starts recording `rate` views per second on a thread of its own.
    pub(crate) fn start(views: Views, rate: u64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let sessions: Vec<ViewerKey> = (0..SESSIONS)
                .map(|n| ViewerKey::session(&format!("bench-session-{n:08}")))
                .collect();
            let (mut recorded, mut dropped, mut random) = (0u64, 0u64, 0x9E37_79B9_7F4A_7C15_u64);
            let started = Instant::now();
            while !stopped.load(Ordering::Relaxed) {
                let due = (started.elapsed().as_secs_f64() * rate as f64) as u64;
                while recorded + dropped < due {
                    random ^= random << 13;
                    random ^= random >> 7;
                    random ^= random << 17;
                    let viewer = sessions[random as usize % SESSIONS];
                    match views.record(viewer, 1 + (random >> 32) % 10_000) {
                        Recorded::Yes => recorded += 1,
                        Recorded::Dropped => dropped += 1,
                    }
                }
                std::thread::sleep(TICK);
            }
            (recorded, dropped, started.elapsed())
        });
        ViewLoad { stop, thread }
    }

    /// Stops it and prints what it recorded.
    pub(crate) fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Ok((recorded, dropped, ran)) = self.thread.join() {
            println!(
                "views         {recorded} recorded in process ({:.0}/s over {:.1} s), {dropped} dropped (queue full)",
                recorded as f64 / ran.as_secs_f64(),
                ran.as_secs_f64()
            );
        }
    }
}
