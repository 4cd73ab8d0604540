//! Reservation groups: stock of several SKUs held, sold or given back all
//! together, for other services (a marketplace, a point of sale) that sell
//! through Mercato's stock.
//!
//! - [`state`]: the pure state machine of one group: which step comes next;
//! - [`messages`]: what callers and the front door send it, and its answers;
//! - `actor`: how the runtime runs it (`reservation-group/<id>`);
//! - [`ReservationGroups`]: the front door, which carries each step out at the
//!   SKU actors and records its result.
//!
//! No lock is taken: each SKU actor decides its own line, as in the checkout.
//! A line is held at its SKU under the reservation id `group:<id>`, so every
//! SKU call is idempotent and a step cut short is repeated, never doubled; a
//! line whose SKU is short makes the front door give back the lines it got.
//! Holds cut short by a crash run out with the group's TTL.

mod actor;
pub mod messages;
pub mod state;

use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::join_all;

use self::messages::{Driver, GroupCommand, GroupError, Step};
use self::state::{GroupLine, ReservationGroup, ShortLine};
use crate::runtime::{now_millis, ActorError, Registry, Runtime};
use crate::sku::{Inventory, InventoryError, StockError};

pub use self::actor::GroupReply;

/// The next request's [`Driver`]; unique in this process, where every
/// request that could still report a step runs.
static NEXT_DRIVER: AtomicU64 = AtomicU64::new(1);

fn next_driver() -> Driver {
    NEXT_DRIVER.fetch_add(1, Ordering::Relaxed)
}

/// How long a sold line's reservation id is kept open if its hold ran out
/// just before the sale (the SKU sells from free stock instead).
const SELL_TTL_MS: u64 = 60_000;

/// Why a group call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GroupCallError {
    /// The group refused the request.
    #[error(transparent)]
    Group(#[from] GroupError),
    /// Some lines were short; nothing is held.
    #[error("some lines are not available in the quantity asked; nothing was reserved")]
    OutOfStock(Vec<ShortLine>),
    /// A SKU refused its line for another reason than stock.
    #[error(transparent)]
    Stock(StockError),
    /// An actor could not answer; the step stays to do and the request can be
    /// repeated.
    #[error(transparent)]
    Actor(#[from] ActorError),
}

impl From<InventoryError> for GroupCallError {
    fn from(err: InventoryError) -> Self {
        match err {
            InventoryError::Stock(err) => GroupCallError::Stock(err),
            InventoryError::Actor(err) => GroupCallError::Actor(err),
        }
    }
}

/// A group as a call left it, and whether that call made its hold.
#[derive(Debug, Clone)]
pub struct GroupAnswer {
    /// The group.
    pub group: ReservationGroup,
    /// Whether this call reserved it (rather than finding it reserved).
    pub created: bool,
}

/// Typed access to the reservation groups.
#[derive(Clone)]
pub struct ReservationGroups {
    /// The groups, by id.
    groups: Registry<ReservationGroup>,
    /// The SKUs whose stock they hold.
    inventory: Inventory,
}

impl ReservationGroups {
    /// Groups on `runtime`, holding stock of `inventory`.
    pub fn new(runtime: &Runtime, inventory: Inventory) -> Self {
        ReservationGroups {
            groups: Registry::new(runtime),
            inventory,
        }
    }

    /// The registry of group actors, for the admin API.
    pub fn registry(&self) -> &Registry<ReservationGroup> {
        &self.groups
    }

    /// Holds every line of `lines` for `ttl_ms` under `id`, or none of them;
    /// repeating it while held answers the same hold.
    pub async fn reserve(&self, id: &str, lines: Vec<GroupLine>, ttl_ms: u64) -> Result<GroupAnswer, GroupCallError> {
        let driver = next_driver();
        self.run(id, driver, GroupCommand::Reserve { lines, ttl_ms, driver })
            .await
    }

    /// Sells every held line; repeating it answers the sale.
    pub async fn commit(&self, id: &str) -> Result<GroupAnswer, GroupCallError> {
        let driver = next_driver();
        self.run(id, driver, GroupCommand::Commit { driver }).await
    }

    /// Gives every held line back; repeating it answers the release.
    pub async fn release(&self, id: &str) -> Result<GroupAnswer, GroupCallError> {
        let driver = next_driver();
        self.run(id, driver, GroupCommand::Release { driver }).await
    }

    /// The group as it stands.
    pub async fn get(&self, id: &str) -> Result<GroupAnswer, GroupCallError> {
        self.run(id, next_driver(), GroupCommand::Get).await
    }

    /// Asks the group and carries out the step it names, in a task of its
    /// own: a caller that goes away does not cut the step short.
    async fn run(&self, id: &str, driver: Driver, command: GroupCommand) -> Result<GroupAnswer, GroupCallError> {
        let this = self.clone();
        let id = id.to_string();
        let step = tokio::spawn(async move { this.drive(&id, driver, command).await }).await;
        step.unwrap_or(Err(GroupCallError::Actor(ActorError::Restarting)))
    }

    async fn drive(&self, id: &str, driver: Driver, command: GroupCommand) -> Result<GroupAnswer, GroupCallError> {
        let (step, group) = self.groups.call(id, command).await??;
        let at = Steps {
            id,
            driver,
            group: &group,
        };
        match step {
            Step::Answer { created } => Ok(GroupAnswer { group, created }),
            Step::Reserve => self.reserve_lines(at).await,
            Step::Commit => self.sell_lines(at).await,
            Step::Release => self.release_lines(at).await,
            Step::Return => self.return_lines(at, group.returns()).await,
        }
    }

    /// Records a step's result and answers with the group.
    async fn record(&self, id: &str, result: GroupCommand) -> Result<GroupAnswer, GroupCallError> {
        let (step, group) = self.groups.call(id, result).await??;
        let created = matches!(step, Step::Answer { created: true });
        Ok(GroupAnswer { group, created })
    }

    /// Records that a step was cut short by `err`, and fails with it.
    async fn pause<T>(&self, at: Steps<'_>, err: GroupCallError) -> Result<T, GroupCallError> {
        // If the group cannot take this either, it restarted: nobody drives it then.
        let _ = self
            .groups
            .call(at.id, GroupCommand::Paused { driver: at.driver })
            .await;
        Err(err)
    }

    async fn reserve_lines(&self, at: Steps<'_>) -> Result<GroupAnswer, GroupCallError> {
        let Steps { id, driver, group } = at;
        let reservation_id = group.sku_reservation_id();
        let ttl_ms = group.expires_at().saturating_sub(now_millis()).max(1);
        let results = join_all(group.lines().iter().map(|line| {
            self.inventory
                .reserve(&line.sku, reservation_id.clone(), line.qty, ttl_ms)
        }))
        .await;
        let mut short = Vec::new();
        let mut failure = None;
        for (line, result) in group.lines().iter().zip(results) {
            match result {
                Ok(_) => {}
                Err(InventoryError::Stock(StockError::OutOfStock { requested, available })) => short.push(ShortLine {
                    sku: line.sku.clone(),
                    requested,
                    available,
                }),
                Err(err) => {
                    failure.get_or_insert(GroupCallError::from(err));
                }
            }
        }
        if short.is_empty() && failure.is_none() {
            return self.record(id, GroupCommand::Reserved { driver, all_held: true }).await;
        }
        if let Err(err) = self.give_back(group).await {
            return self.pause(at, err).await;
        }
        self.record(
            id,
            GroupCommand::Reserved {
                driver,
                all_held: false,
            },
        )
        .await?;
        Err(failure.unwrap_or(GroupCallError::OutOfStock(short)))
    }

    async fn sell_lines(&self, at: Steps<'_>) -> Result<GroupAnswer, GroupCallError> {
        let Steps { id, driver, group } = at;
        let reservation_id = group.sku_reservation_id();
        let results = join_all(group.lines().iter().map(|line| {
            self.inventory
                .sell(&line.sku, reservation_id.clone(), line.qty, SELL_TTL_MS)
        }))
        .await;
        let mut sold = Vec::new();
        let mut gone = false;
        for (line, result) in group.lines().iter().zip(results) {
            match result {
                Ok(_) => sold.push(line.sku.clone()),
                Err(InventoryError::Stock(_)) => gone = true,
                Err(err) => return self.pause(at, err.into()).await,
            }
        }
        if !gone {
            return self.record(id, GroupCommand::Sold { driver }).await;
        }
        // A line's hold ran out and its stock went elsewhere: undo the sale,
        // after recording which lines it sold.
        let (step, group) = self
            .groups
            .call(id, GroupCommand::SaleFailed { driver, sold })
            .await??;
        match step {
            Step::Return => {
                self.return_lines(
                    Steps {
                        id,
                        driver,
                        group: &group,
                    },
                    group.returns(),
                )
                .await
            }
            _ => Ok(GroupAnswer { group, created: false }),
        }
    }

    /// Takes back the lines of `skus` that a failed sale sold.
    async fn return_lines(&self, at: Steps<'_>, skus: &[String]) -> Result<GroupAnswer, GroupCallError> {
        let Steps { id, driver, group } = at;
        let return_id = format!("{}:return", group.sku_reservation_id());
        let returns = join_all(
            group
                .lines()
                .iter()
                .filter(|line| skus.contains(&line.sku))
                .map(|line| self.inventory.return_sold(&line.sku, return_id.clone(), line.qty)),
        )
        .await;
        if let Some(err) = returns.into_iter().find_map(Result::err) {
            return self.pause(at, err.into()).await;
        }
        self.record(id, GroupCommand::Returned { driver }).await?;
        Err(GroupError::Unsold(id.to_string()).into())
    }

    async fn release_lines(&self, at: Steps<'_>) -> Result<GroupAnswer, GroupCallError> {
        match self.give_back(at.group).await {
            Ok(()) => self.record(at.id, GroupCommand::Given { driver: at.driver }).await,
            Err(err) => self.pause(at, err).await,
        }
    }

    /// Releases every line still held at its SKU (a line not held is fine).
    async fn give_back(&self, group: &ReservationGroup) -> Result<(), GroupCallError> {
        let reservation_id = group.sku_reservation_id();
        let results = join_all(
            group
                .lines()
                .iter()
                .map(|line| self.inventory.release(&line.sku, reservation_id.clone())),
        )
        .await;
        for result in results {
            match result {
                Ok(_) | Err(InventoryError::Stock(StockError::ReservationNotFound { .. })) => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(())
    }
}

/// The group a step acts on, and the request carrying it out.
#[derive(Clone, Copy)]
struct Steps<'a> {
    /// The group's id.
    id: &'a str,
    /// The request carrying out the step.
    driver: Driver,
    /// The group as the step began.
    group: &'a ReservationGroup,
}
