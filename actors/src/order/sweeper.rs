//! The sweeper: at start and every `sweep_interval` it drives every open order
//! on (resume after a crash, expire, reconcile, retry refunds, release), until
//! it is told to stop.

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::messages::OpenOrdersCommand;
use super::state::OrderError;
use super::{Orders, OrdersError, OPEN_ID};

/// The running sweeper; [`Sweeper::stop`] ends it.
pub struct Sweeper {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Sweeper {
    /// Starts sweeping `orders` (inside a tokio runtime).
    pub fn start(orders: Orders) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(orders.sweep_until(stopped));
        Sweeper { stop, task }
    }

    /// Stops after the pass in progress and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        match self.task.await {
            Ok(()) => tracing::info!("order sweeper stopped"),
            Err(err) => tracing::warn!(error = %err, "order sweeper ended abnormally"),
        }
    }
}

impl Orders {
    /// Looks at every open order once; answers how many were driven.
    pub async fn sweep(&self) -> Result<usize, OrdersError> {
        let ids = self.inner.open.call(OPEN_ID, OpenOrdersCommand::List).await?;
        let mut driven = 0;
        for id in ids {
            let Some(_running) = self.mark_running(&id) else {
                continue;
            };
            match self.drive(&id, false).await {
                Ok(_) => driven += 1,
                Err(OrdersError::Order(OrderError::NotFound)) => {
                    self.inner
                        .open
                        .call(OPEN_ID, OpenOrdersCommand::Close(id.clone()))
                        .await?;
                }
                Err(err) => tracing::warn!(order = %id, error = %err, "open order not driven; retrying later"),
            }
        }
        Ok(driven)
    }

    async fn sweep_until(self, mut stopped: watch::Receiver<bool>) {
        loop {
            if let Err(err) = self.sweep().await {
                tracing::warn!(error = %err, "order sweep failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.inner.config.sweep_interval) => {}
                _ = stopped.wait_for(|stop| *stop) => return,
            }
        }
    }
}
