//! Stripe webhooks: the `Stripe-Signature` check (HMAC-SHA256 over
//! `"{t}.{body}"`, any `v1` may match, compared in constant time, at most
//! [`TOLERANCE_SECS`] old), the few event fields the saga needs, and the record
//! of applied event ids (one entity per event id) so each applies once.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::runtime::{Entity, UnixMillis};

/// How old a signature may be, in seconds (Stripe's default).
pub const TOLERANCE_SECS: u64 = 300;

/// Why a webhook is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No usable `t=` and `v1=` parts.
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    /// No `v1` signature matches.
    #[error("the Stripe-Signature does not match")]
    Mismatch,
    /// The timestamp is outside the tolerance.
    #[error("the Stripe-Signature is older than {TOLERANCE_SECS} s (or from the future)")]
    Stale,
}

/// Checks `header` for `body` with the endpoint's `secret` at `now_secs`.
pub fn verify(header: &str, body: &[u8], secret: &[u8], now_secs: u64) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<u64>().ok(),
            Some(("v1", value)) => signatures.extend(decode_hex(value)),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let matches = signatures
        .iter()
        .any(|signature| mac.clone().verify_slice(signature).is_ok());
    if !matches {
        return Err(SignatureError::Mismatch);
    }
    if now_secs.abs_diff(timestamp) > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// The signature header Stripe would send for `body` at `timestamp` (for tests
/// and tools).
pub fn sign(body: &[u8], secret: &[u8], timestamp: u64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let signature: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={signature}")
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The parts of a Stripe event the saga reads.
#[derive(Debug, Clone, Deserialize)]
pub struct StripeEvent {
    /// `evt_...`: applied once.
    pub id: String,
    /// e.g. `payment_intent.succeeded`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The object the event is about.
    pub data: EventData,
}

impl StripeEvent {
    /// How the payment stands after this event, for the event types that say
    /// (`payment_intent.succeeded`, `.payment_failed`, `.canceled`).
    pub fn payment_status(&self) -> Option<super::PaymentStatus> {
        use super::PaymentStatus;
        let object = &self.data.object;
        match self.kind.as_str() {
            "payment_intent.succeeded" => Some(PaymentStatus::Succeeded),
            "payment_intent.payment_failed" => Some(PaymentStatus::Failed(
                object
                    .last_payment_error
                    .as_ref()
                    .and_then(|error| error.message.clone())
                    .unwrap_or_else(|| "the payment failed".into()),
            )),
            "payment_intent.canceled" => Some(PaymentStatus::Failed("the payment was canceled".into())),
            _ => None,
        }
    }

    /// The order the PaymentIntent pays (set at its creation).
    pub fn order_id(&self) -> Option<&str> {
        self.data.object.metadata.get("order_id").map(String::as_str)
    }
}

/// `data` of an event.
#[derive(Debug, Clone, Deserialize)]
pub struct EventData {
    /// A PaymentIntent, for the events the saga reads.
    pub object: EventObject,
}

/// The PaymentIntent fields the saga reads.
#[derive(Debug, Clone, Deserialize)]
pub struct EventObject {
    /// `pi_...`.
    pub id: String,
    /// Set at creation: which order it pays.
    #[serde(default)]
    pub metadata: std::collections::HashMap<String, String>,
    /// Why the last attempt failed.
    pub last_payment_error: Option<PaymentErrorObject>,
}

/// `last_payment_error`.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentErrorObject {
    /// For people.
    pub message: Option<String>,
}

/// Whether one Stripe event id was applied; one entity per id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenEvent {
    /// Set once the event was applied.
    pub applied: bool,
}

/// The event was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied;

impl Entity for SeenEvent {
    const KIND: &'static str = "stripe-event";
    type Event = Applied;
    /// `true`: record it as applied; `false`: just ask.
    type Command = bool;
    /// Whether it was applied before this command.
    type Reply = bool;
    type View = ();

    fn new(_id: &str) -> Self {
        SeenEvent::default()
    }

    fn apply(&mut self, _event: &Applied) {
        self.applied = true;
    }

    fn handle(&mut self, mark: bool, _now: UnixMillis, events: &mut Vec<Applied>) -> bool {
        let before = self.applied;
        if mark && !before {
            self.applied = true;
            events.push(Applied);
        }
        before
    }

    fn settle(&mut self, _now: UnixMillis, _events: &mut Vec<Applied>) {}

    fn next_deadline(&self) -> Option<UnixMillis> {
        None
    }

    fn view(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";

    #[test]
    fn a_signed_body_verifies_within_the_tolerance_only() {
        let body = br#"{"id":"evt_1"}"#;
        let header = sign(body, SECRET, 1_000_000);
        assert_eq!(verify(&header, body, SECRET, 1_000_000), Ok(()));
        assert_eq!(verify(&header, body, SECRET, 1_000_000 + TOLERANCE_SECS), Ok(()));
        assert_eq!(
            verify(&header, body, SECRET, 1_000_000 + TOLERANCE_SECS + 1),
            Err(SignatureError::Stale)
        );
        assert_eq!(verify(&header, b"{}", SECRET, 1_000_000), Err(SignatureError::Mismatch));
        assert_eq!(
            verify(&header, body, b"other", 1_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify("t=1", body, SECRET, 1), Err(SignatureError::Malformed));
        assert_eq!(verify("v1=abcd", body, SECRET, 1), Err(SignatureError::Malformed));
        let rotated = format!(
            "{},v1={}",
            sign(body, b"old", 1_000_000),
            &header[header.find("v1=").unwrap() + 3..]
        );
        assert_eq!(verify(&rotated, body, SECRET, 1_000_000), Ok(()), "any v1 may match");
    }
}
