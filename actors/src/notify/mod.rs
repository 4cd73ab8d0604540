//! Order mails: confirmed, shipped, payment failed.
//!
//! The notifier follows the domain event log from where it stopped (its cursor
//! is an entity, so it survives restarts): for every order event that calls for
//! a mail it renders a template, sends the batch's mails ([`mailer`]), then moves
//! its cursor past the batch. Delivery is at-least-once: a crash between a send and the
//! cursor's move resends that batch, which the outbox absorbs (the batch's file
//! is replaced, not doubled; SMTP receivers see the same Message-ID); in normal
//! operation each event mails once.
//!
//! An event that can never be mailed (an order that is not there, an address
//! the mailer refuses, an SMTP 5xx) is set aside as a dead letter — recorded
//! before the cursor passes it, counted in `mercato_dead_letters_total`, logged,
//! listed for operators — and the notifier moves on. Anything that may pass
//! later (SMTP down, an actor restarting) fails the pass, which is retried from
//! the same place with a growing back-off, so mails never go out of order.
//!
//! - [`state`]: the cursor and which events mail, pure;
//! - `actor`: the cursor entity;
//! - [`dead_letters`]: what was set aside;
//! - [`mailer`]: templates, the outbox, SMTP;
//! - [`mbox`]: the outbox's file format.

mod actor;
pub mod dead_letters;
pub mod mailer;
pub mod mbox;
pub mod state;

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use prometheus::IntCounterVec;
use serde::{Deserialize, Serialize};

use self::dead_letters::{DeadLetter, DeadLetters};
use self::mailer::{MailError, Mailer};
use self::state::{Cursor, MailKind};
use crate::account::address::Address;
use crate::metrics::OrderMetrics;
use crate::order::links::OrderLinks;
use crate::order::state::{OrderError, OrderEvent, OrderLine};
use crate::order::{Orders, OrdersError};
use crate::runtime::{now_millis, ActorDirectory, ActorError, BackgroundTask, Entity, Registry, Runtime, StopSignal};
use crate::storage::{codec, Storage};

/// The id of the one cursor.
const CURSOR_ID: &str = "main";
/// The notifier's name as a consumer of the log (its dead letters' id).
const CONSUMER: &str = "notifier";
/// Event-log entries read per pass.
const BATCH: usize = 256;
/// Longest wait between two failed passes.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The `[mail]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// Sender, e.g. `Shop <shop@example.com>`.
    pub from: String,
    /// `host:port` of an SMTP relay; empty: write `.eml` files to the outbox.
    pub smtp_relay: String,
    /// How often the event log is polled when there is nothing new.
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
}

/// What a template sees.
#[derive(Serialize)]
struct MailContext<'a> {
    order_id: &'a str,
    lines: &'a [OrderLine],
    subtotal: u64,
    discount: u64,
    total: u64,
    currency: &'a str,
    address: &'a Address,
    tracking: Option<&'a str>,
    reason: Option<&'a str>,
    /// The order's page (with the order token for a guest).
    order_link: String,
}

/// Follows the event log and mails customers.
#[derive(Clone)]
pub struct Notifier {
    cursor: Registry<Cursor>,
    dead_letters: Registry<DeadLetters>,
    storage: Storage,
    orders: Orders,
    mailer: Arc<Mailer>,
    /// `mercato_mails_sent_total{kind}`.
    sent: IntCounterVec,
    /// `mercato_dead_letters_total{consumer}`.
    set_aside: IntCounterVec,
    poll_interval: Duration,
    /// Links to order pages in the mails.
    links: OrderLinks,
}

impl Notifier {
    /// A notifier on `runtime`; [`Notifier::start`] follows the log.
    pub fn new(
        runtime: &Runtime,
        orders: Orders,
        mailer: Mailer,
        poll_interval: Duration,
        links: OrderLinks,
        metrics: &OrderMetrics,
    ) -> Self {
        Notifier {
            cursor: Registry::new(runtime),
            dead_letters: Registry::new(runtime),
            storage: runtime.storage().clone(),
            orders,
            mailer: Arc::new(mailer),
            sent: metrics.mails.clone(),
            set_aside: metrics.dead_letters.clone(),
            poll_interval,
            links,
        }
    }

    /// Starts following the log (inside a tokio runtime), until stopped.
    pub fn start(&self) -> BackgroundTask {
        let notifier = self.clone();
        BackgroundTask::spawn("notifier", move |stop| notifier.run(stop))
    }

    /// The cursor's and the dead letters' registries, for the admin API and shutdown.
    pub fn directories(&self) -> Vec<Arc<dyn ActorDirectory>> {
        vec![Arc::new(self.cursor.clone()), Arc::new(self.dead_letters.clone())]
    }

    /// What the notifier has set aside.
    pub async fn dead_letters(&self) -> Result<DeadLetters, ActorError> {
        self.dead_letters.call(CONSUMER, Vec::new()).await
    }

    async fn run(self, mut stop: StopSignal) {
        let mut failures = 0u32;
        loop {
            let passed = tokio::select! {
                passed = self.pass() => passed,
                _ = stop.stopped() => return,
            };
            let more = match passed {
                Ok(read) => {
                    failures = 0;
                    read > 0 || stop.sleep(self.poll_interval).await
                }
                Err(err) => {
                    failures = failures.saturating_add(1);
                    let wait = self
                        .poll_interval
                        .saturating_mul(1 << failures.min(16) >> 1)
                        .min(MAX_BACKOFF);
                    tracing::warn!(error = %err, retry_in = ?wait, failures, "mail pass failed; retrying from the same event");
                    stop.sleep(wait).await
                }
            };
            if !more {
                return;
            }
        }
    }

    /// Handles one batch of the log; answers how many entries other than the
    /// cursor's own it read (0: nothing new, wait). A send that fails for now
    /// moves the cursor to the mail that failed, so that what went out before
    /// it is not sent again.
    async fn pass(&self) -> Result<usize, MailError> {
        let next = self.cursor.call(CURSOR_ID, None).await.map_err(failed)?;
        let storage = self.storage.clone();
        let entries = tokio::task::spawn_blocking(move || storage.read_event_log(next, BATCH))
            .await
            .map_err(failed)?
            .map_err(failed)?;
        // The cursor's own moves are in the log too: they alone are not news, or
        // every move would cause the next one.
        let news = entries
            .iter()
            .filter(|entry| entry.kind != <Cursor as Entity>::KIND)
            .count();
        if news == 0 {
            return Ok(0);
        }
        let mut end = next;
        let mut wanted = Vec::new();
        let mut dead = Vec::new();
        for entry in &entries {
            end = end.max(entry.first_seq + u64::from(entry.count));
            if entry.kind != "order" {
                continue;
            }
            let mut events = Vec::new();
            if let Err(err) = codec::decode_all::<OrderEvent>(&entry.events, |event| events.push(event)) {
                let subject = format!("order/{}", entry.id);
                dead.push(dead_letter(entry.first_seq, subject, "decode", err.to_string()));
                continue;
            }
            for (offset, event) in events.iter().enumerate() {
                let seq = entry.first_seq + offset as u64;
                if seq < next {
                    continue;
                }
                if let Some(kind) = MailKind::for_event(event) {
                    wanted.push((kind, &*entry.id, seq));
                }
            }
        }
        let stopped = self.mail_all(&wanted, &mut dead).await;
        let (resume_at, result) = match stopped {
            Ok(()) => (end, Ok(news)),
            Err((at, err)) => (at, Err(err)),
        };
        dead.retain(|letter| letter.seq < resume_at);
        self.set_aside(dead).await?;
        if resume_at > next {
            self.cursor.call(CURSOR_ID, Some(resume_at)).await.map_err(failed)?;
        }
        result
    }

    /// Composes the mails of one batch (their orders read at once) and sends
    /// them in log order; adds the ones that can never be sent to `dead`. On a
    /// failure that may pass, answers the sequence number to resume at.
    async fn mail_all(
        &self,
        wanted: &[(MailKind, &str, u64)],
        dead: &mut Vec<DeadLetter>,
    ) -> Result<(), (u64, MailError)> {
        let first = wanted.first().map_or(0, |(_, _, seq)| *seq);
        let orders = join_all(wanted.iter().map(|(_, order_id, _)| self.orders.get(order_id))).await;
        let mut mails = Vec::with_capacity(wanted.len());
        let mut sent = Vec::with_capacity(wanted.len());
        for (&(kind, order_id, seq), order) in wanted.iter().zip(orders) {
            let order = match order {
                Ok(order) => order,
                Err(OrdersError::Order(OrderError::NotFound)) => {
                    dead.push(mail_letter(kind, order_id, seq, "the order is not there".into()));
                    continue;
                }
                // Nothing is sent yet: the whole batch is tried again.
                Err(err) => return Err((first, failed(err))),
            };
            let Some(placement) = order.placement() else {
                continue;
            };
            let context = MailContext {
                order_id,
                lines: &placement.lines,
                subtotal: placement.subtotal,
                discount: placement.discount,
                total: placement.total,
                currency: &placement.currency,
                address: &placement.shipping_address,
                tracking: order.tracking(),
                reason: order.reason(),
                order_link: self.links.page(order_id, placement.owner.is_none()),
            };
            let name = format!("{seq:020}-{order_id}-{}", kind.name());
            match self.mailer.compose(kind, &placement.email, &name, &context) {
                Ok(mail) => {
                    mails.push(mail);
                    sent.push((kind, order_id, seq));
                }
                Err(err) => dead.push(mail_letter(kind, order_id, seq, err.to_string())),
            }
        }
        let report = self.mailer.send_all(mails).await;
        for (index, &(kind, order_id, seq)) in sent.iter().enumerate().take(report.handled) {
            match report.refused.iter().find(|(refused, _)| *refused == index) {
                Some((_, reason)) => dead.push(mail_letter(kind, order_id, seq, reason.clone())),
                None => {
                    self.sent.with_label_values(&[kind.name()]).inc();
                    tracing::info!(order = order_id, kind = kind.name(), "mail sent");
                }
            }
        }
        match report.failure {
            None => Ok(()),
            Some(err) => Err((sent[report.handled].2, err)),
        }
    }

    /// Records `dead` before the cursor can pass them, then counts and logs them.
    async fn set_aside(&self, dead: Vec<DeadLetter>) -> Result<(), MailError> {
        if dead.is_empty() {
            return Ok(());
        }
        self.dead_letters.call(CONSUMER, dead.clone()).await.map_err(failed)?;
        self.set_aside.with_label_values(&[CONSUMER]).inc_by(dead.len() as u64);
        for letter in dead {
            tracing::error!(seq = letter.seq, subject = %letter.subject, action = %letter.action, reason = %letter.reason, "event set aside: it can never be mailed");
        }
        Ok(())
    }
}

fn failed(err: impl std::fmt::Display) -> MailError {
    MailError(err.to_string())
}

fn mail_letter(kind: MailKind, order_id: &str, seq: u64, reason: String) -> DeadLetter {
    dead_letter(seq, format!("order/{order_id}"), kind.name(), reason)
}

fn dead_letter(seq: u64, subject: String, action: &str, reason: String) -> DeadLetter {
    DeadLetter {
        seq,
        subject,
        action: action.to_string(),
        reason,
        at: now_millis(),
    }
}
