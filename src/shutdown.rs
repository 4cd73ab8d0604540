//! Stopping the server on a signal. SIGTERM turns `/readyz` to 503 at once,
//! keeps serving for `server.drain_delay` (load balancers see the 503 and stop
//! sending), then closes the listener and lets in-flight requests finish
//! within `server.shutdown_timeout`. SIGINT (Ctrl-C), or a second signal
//! during the delay, skips the delay.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use tokio::signal::unix::{signal, SignalKind};

/// The signal that asked for the stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Terminate,
    Interrupt,
}

/// The next SIGTERM or SIGINT.
async fn next_stop() -> std::io::Result<Stop> {
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = terminate.recv() => Ok(Stop::Terminate),
        interrupted = tokio::signal::ctrl_c() => interrupted.map(|()| Stop::Interrupt),
    }
}

/// Waits for a stop signal, then drains `server`: not ready, the delay, a
/// graceful stop (it returns once in-flight requests are done or timed out).
pub async fn on_signal(server: ServerHandle, ready: &AtomicBool, drain_delay: Duration) -> std::io::Result<()> {
    let stop = next_stop().await?;
    ready.store(false, Ordering::Release);
    if stop == Stop::Terminate && !drain_delay.is_zero() {
        tracing::info!(
            ?drain_delay,
            "SIGTERM: /readyz answers 503; serving on until the drain delay ends"
        );
        tokio::select! {
            () = tokio::time::sleep(drain_delay) => {}
            again = next_stop() => { again?; }
        }
    }
    tracing::info!("closing the listener; in-flight requests finish");
    server.stop(true).await;
    Ok(())
}
