//! Stopping the server on a signal. SIGTERM turns `/readyz` to 503 at once,
//! keeps serving for `server.drain_delay` (load balancers see the 503 and stop
//! sending), then closes the listener and lets in-flight requests finish
//! within `server.shutdown_timeout`. SIGINT (Ctrl-C), or a second signal
//! during the delay, skips the delay; a signal after that (the drain or the
//! flush is stuck) ends the process at once, exit status 130.
//!
//! The handlers are installed when the application is built, before the
//! listener accepts anything, so no signal falls to the default action.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use tokio::signal::unix::{signal, Signal, SignalKind};

/// The signal that asked for the stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Terminate,
    Interrupt,
}

/// SIGTERM and SIGINT, listened to from the start.
pub struct Signals {
    terminate: Signal,
    interrupt: Signal,
}

impl Signals {
    /// Installs the handlers (inside a tokio runtime).
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    async fn next(&mut self) -> Stop {
        tokio::select! {
            _ = self.terminate.recv() => Stop::Terminate,
            _ = self.interrupt.recv() => Stop::Interrupt,
        }
    }

    /// Waits for a stop signal, then drains `server`: not ready, the delay, a
    /// graceful stop (it returns once in-flight requests are done or timed
    /// out). Any later signal exits the process at once.
    pub async fn drain_on_signal(mut self, server: ServerHandle, ready: &AtomicBool, drain_delay: Duration) {
        let stop = self.next().await;
        ready.store(false, Ordering::Release);
        if stop == Stop::Terminate && !drain_delay.is_zero() {
            tracing::info!(
                ?drain_delay,
                "SIGTERM: /readyz answers 503; serving on until the drain delay ends"
            );
            tokio::select! {
                () = tokio::time::sleep(drain_delay) => {}
                _ = self.next() => {}
            }
        }
        tracing::info!("closing the listener; in-flight requests finish (another signal ends the process at once)");
        tokio::spawn(async move {
            self.next().await;
            tracing::warn!("second stop signal while shutting down: exiting now, without a final flush");
            std::process::exit(130);
        });
        server.stop(true).await;
    }
}
