//! Background loops of the process (the order sweeper, the notifier, the cart
//! re-pricer): each is spawned with a [`StopSignal`] and stopped, and waited
//! for, before the actors are passivated at shutdown, so no loop keeps waking
//! actors while shutdown stops them (a short write still in flight may wake
//! one; shutdown passivates again whatever comes alive).

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Tells a background loop to end.
#[derive(Clone)]
pub struct StopSignal(watch::Receiver<bool>);

impl StopSignal {
    /// Resolves once the loop is told to stop.
    pub async fn stopped(&mut self) {
        // An error means the sender is gone: stop as well.
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Sleeps for `duration`; `false` if told to stop meanwhile.
    pub async fn sleep(&mut self, duration: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(duration) => true,
            _ = self.stopped() => false,
        }
    }
}

/// A running background loop.
pub struct BackgroundTask {
    name: &'static str,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl BackgroundTask {
    /// Spawns `body` (inside a tokio runtime), which must return soon after its
    /// signal says stop.
    pub fn spawn<F, Fut>(name: &'static str, body: F) -> Self
    where
        F: FnOnce(StopSignal) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (stop, signal) = watch::channel(false);
        let task = tokio::spawn(body(StopSignal(signal)));
        BackgroundTask { name, stop, task }
    }

    /// Tells it to stop and waits until it has; logs how it ended.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        match self.task.await {
            Ok(()) => tracing::info!(task = self.name, "background task stopped"),
            Err(err) => tracing::warn!(task = self.name, error = %err, "background task ended abnormally"),
        }
    }
}
