//! The sweeper: at start and every `sweep_interval` it drives every open order
//! on (resume after a crash, expire, reconcile, retry refunds, release), until
//! it is told to stop.

use super::messages::{OpenOrdersCommand, OpenOrdersReply};
use super::state::OrderError;
use super::{Orders, OrdersError, OPEN_ID};
use crate::runtime::{BackgroundTask, StopSignal};

impl Orders {
    /// Starts the sweeper (inside a tokio runtime).
    pub fn start_sweeper(&self) -> BackgroundTask {
        let orders = self.clone();
        BackgroundTask::spawn("order sweeper", move |stop| orders.sweep_until(stop))
    }

    /// Looks at every open order once; answers how many were driven.
    pub async fn sweep(&self) -> Result<usize, OrdersError> {
        let OpenOrdersReply::All(listed) = self.inner.open.call(OPEN_ID, OpenOrdersCommand::List).await? else {
            unreachable!("a list answers every open order")
        };
        let mut driven = 0;
        for (id, generation) in listed {
            let Some(_running) = self.mark_running(&id) else {
                continue;
            };
            match self.drive(&id, false, Some(generation)).await {
                Ok(_) => driven += 1,
                Err(OrdersError::Order(OrderError::NotFound)) => self.close_listing(&id, generation),
                Err(err) => tracing::warn!(order = %id, error = %err, "open order not driven; retrying later"),
            }
        }
        Ok(driven)
    }

    async fn sweep_until(self, mut stop: StopSignal) {
        loop {
            tokio::select! {
                swept = self.sweep() => if let Err(err) = swept {
                    tracing::warn!(error = %err, "order sweep failed");
                },
                _ = stop.stopped() => return,
            }
            if !stop.sleep(self.inner.config.sweep_interval).await {
                return;
            }
        }
    }
}
