//! Reservation groups: stock of several SKUs held, sold or given back all
//! together, for other services (a marketplace, a point of sale) that sell
//! through Mercato's stock.
//!
//! - [`state`]: the pure state machine of one group: which step comes next;
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
pub mod state;

use futures_util::future::join_all;

use self::state::{GroupCommand, GroupError, GroupLine, ReservationGroup, ShortLine, Step};
use crate::runtime::{now_millis, ActorError, Registry, Runtime};
use crate::sku::{Inventory, InventoryError, StockError};

pub use self::actor::GroupReply;

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
    /// The hold ran out before the sale and a line's stock was gone: what had
    /// been sold was returned, nothing is held.
    #[error("reservation group {0} expired before its sale and a line's stock is gone; nothing was sold")]
    Expired(String),
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
        self.run(id, GroupCommand::Reserve { lines, ttl_ms }).await
    }

    /// Sells every held line; repeating it answers the sale.
    pub async fn commit(&self, id: &str) -> Result<GroupAnswer, GroupCallError> {
        self.run(id, GroupCommand::Commit).await
    }

    /// Gives every held line back; repeating it answers the release.
    pub async fn release(&self, id: &str) -> Result<GroupAnswer, GroupCallError> {
        self.run(id, GroupCommand::Release).await
    }

    /// The group as it stands.
    pub async fn get(&self, id: &str) -> Result<GroupAnswer, GroupCallError> {
        self.run(id, GroupCommand::Get).await
    }

    /// Asks the group and carries out the step it names, in a task of its
    /// own: a caller that goes away does not cut the step short.
    async fn run(&self, id: &str, command: GroupCommand) -> Result<GroupAnswer, GroupCallError> {
        let this = self.clone();
        let id = id.to_string();
        tokio::spawn(async move { this.drive(&id, command).await })
            .await
            .unwrap_or(Err(GroupCallError::Actor(ActorError::Restarting)))
    }

    async fn drive(&self, id: &str, command: GroupCommand) -> Result<GroupAnswer, GroupCallError> {
        let (step, group) = self.groups.call(id, command).await??;
        match step {
            Step::Answer { created } => Ok(GroupAnswer { group, created }),
            Step::Reserve => self.reserve_lines(id, &group).await,
            Step::Commit => self.sell_lines(id, &group).await,
            Step::Release => self.release_lines(id, &group).await,
        }
    }

    /// Records a step's result and answers with the group.
    async fn record(&self, id: &str, result: GroupCommand) -> Result<GroupAnswer, GroupCallError> {
        let (step, group) = self.groups.call(id, result).await??;
        let created = matches!(step, Step::Answer { created: true });
        Ok(GroupAnswer { group, created })
    }

    /// Records that a step was cut short by `err`, and fails with it.
    async fn pause<T>(&self, id: &str, err: GroupCallError) -> Result<T, GroupCallError> {
        // If the group cannot take this either, it restarted: nobody drives it then.
        let _ = self.groups.call(id, GroupCommand::Paused).await;
        Err(err)
    }

    async fn reserve_lines(&self, id: &str, group: &ReservationGroup) -> Result<GroupAnswer, GroupCallError> {
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
            return self.record(id, GroupCommand::Reserved { all_held: true }).await;
        }
        if let Err(err) = self.give_back(group).await {
            return self.pause(id, err).await;
        }
        self.record(id, GroupCommand::Reserved { all_held: false }).await?;
        Err(failure.unwrap_or(GroupCallError::OutOfStock(short)))
    }

    async fn sell_lines(&self, id: &str, group: &ReservationGroup) -> Result<GroupAnswer, GroupCallError> {
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
                Ok(_) => sold.push(line),
                Err(InventoryError::Stock(_)) => gone = true,
                Err(err) => return self.pause(id, err.into()).await,
            }
        }
        if !gone {
            return self.record(id, GroupCommand::Sold).await;
        }
        // A line's hold ran out and its stock went elsewhere: undo the sale.
        let return_id = format!("{reservation_id}:return");
        let returns = join_all(
            sold.iter()
                .map(|line| self.inventory.return_sold(&line.sku, return_id.clone(), line.qty)),
        )
        .await;
        if let Some(err) = returns.into_iter().find_map(Result::err) {
            return self.pause(id, err.into()).await;
        }
        self.record(id, GroupCommand::SaleFailed).await?;
        Err(GroupCallError::Expired(id.to_string()))
    }

    async fn release_lines(&self, id: &str, group: &ReservationGroup) -> Result<GroupAnswer, GroupCallError> {
        match self.give_back(group).await {
            Ok(()) => self.record(id, GroupCommand::Given).await,
            Err(err) => self.pause(id, err).await,
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
