//! Account rules as pure functions and a pure state machine, apart from any
//! actor, HTTP or cryptography (issue 4 builds the entities and routes on them):
//!
//! - emails are trimmed and case-folded, and must look like `local@domain.tld`;
//! - passwords are 10 to 128 characters and not all whitespace;
//! - roles are ordered: an admin may do what an operator may, an operator what a
//!   customer may;
//! - an e-mail address is claimed by one user at a time;
//! - a refresh-token family rotates its token on every use; presenting a token
//!   that was already rotated away means it was stolen, and revokes the family.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::runtime::UnixMillis;

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest accepted password, in characters.
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Longest email address (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Shops: carts, orders, profile.
    Customer,
    /// Runs the shop: inventory, catalog, orders, actors.
    Operator,
    /// Everything, including accounts of staff.
    Admin,
}

impl Role {
    /// Whether this role may do what `needed` may.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }

    /// The name used in the API and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// The role called `name`.
    pub fn from_name(name: &str) -> Option<Role> {
        [Role::Customer, Role::Operator, Role::Admin]
            .into_iter()
            .find(|role| role.name() == name)
    }
}

/// Why an account input is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// Not an email address.
    #[error("'{0}' is not an email address")]
    InvalidEmail(String),
    /// The password breaks the policy.
    #[error("passwords must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters, not only whitespace, without control characters")]
    WeakPassword,
}

/// An e-mail as addresses are stored (trimmed, case-folded), for looking one up.
pub fn fold_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// Bidirectional-text controls: they make text display as something else.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Trims and case-folds an email, and checks it looks like `local@domain.tld`
/// (a host name, no address literal), holds no control or bidi character, and
/// that the mailer's own parser takes it as one plain address: the one check
/// for registration, profile changes and checkout, so that no address the
/// mailer cannot send to is ever stored.
pub fn normalize_email(raw: &str) -> Result<String, AccountError> {
    let email = fold_email(raw);
    let invalid = || AccountError::InvalidEmail(raw.trim().to_string());
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || is_bidi_control(c);
    if email.len() > MAX_EMAIL_LEN || email.chars().any(bad_char) {
        return Err(invalid());
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    if local.is_empty() || local.len() > 64 || !domain.contains('.') || !labels_ok {
        return Err(invalid());
    }
    let parsed: lettre::message::Mailbox = email.parse().map_err(|_| invalid())?;
    if parsed.name.is_some() || parsed.email.to_string() != email {
        return Err(invalid());
    }
    Ok(email)
}

/// Checks the password policy.
pub fn check_password(password: &str) -> Result<(), AccountError> {
    let chars = password.chars().count();
    let controls = password.chars().any(char::is_control);
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) || password.trim().is_empty() || controls {
        return Err(AccountError::WeakPassword);
    }
    Ok(())
}

/// Who holds an e-mail address: serializes uniqueness per address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailClaim {
    /// The user id holding the address.
    owner: Option<String>,
}

/// A change of an e-mail claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClaimEvent {
    /// `owner` holds the address now.
    Claimed { owner: String },
    /// Nobody holds it.
    Released,
}

/// The address is held by another user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the e-mail address is held by user {owner}")]
pub struct ClaimTaken {
    /// Who holds it.
    pub owner: String,
}

impl EmailClaim {
    /// The user holding the address.
    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// Decides a claim by `owner`; `replacing` names a holder the caller found
    /// stale (deleted, or moved to another address), which may be displaced.
    pub fn claim(&self, owner: &str, replacing: Option<&str>) -> Result<Option<ClaimEvent>, ClaimTaken> {
        match self.owner.as_deref() {
            Some(current) if current == owner => Ok(None),
            Some(current) if Some(current) != replacing => Err(ClaimTaken {
                owner: current.to_string(),
            }),
            _ => Ok(Some(ClaimEvent::Claimed {
                owner: owner.to_string(),
            })),
        }
    }

    /// Decides a release by `owner` (nothing if someone else holds it).
    pub fn release(&self, owner: &str) -> Option<ClaimEvent> {
        (self.owner.as_deref() == Some(owner)).then_some(ClaimEvent::Released)
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &ClaimEvent) {
        self.owner = match event {
            ClaimEvent::Claimed { owner } => Some(owner.clone()),
            ClaimEvent::Released => None,
        };
    }
}

/// A digest of a refresh token: only digests are stored, never tokens.
pub type TokenDigest = [u8; 32];

/// What happens to a refresh-token family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FamilyEvent {
    /// The family began with its first token (at login or registration).
    Started {
        user: String,
        current: TokenDigest,
        expires_at: UnixMillis,
    },
    /// A token was used and replaced by the next one.
    Rotated { next: TokenDigest, expires_at: UnixMillis },
    /// The family can no longer be used.
    Revoked { reason: RevokeReason },
}

/// Why a family was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RevokeReason {
    /// The user logged out.
    Logout,
    /// A rotated-away token was presented again: it was stolen (or replayed).
    Reuse,
}

/// Why a refresh is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    /// Unknown token, or the family is revoked or expired.
    #[error("the refresh token is not valid")]
    Invalid,
    /// An old token of the family was presented: the family is revoked now.
    #[error("the refresh token was already used; every session of this login is revoked")]
    Reused,
}

/// One login's chain of refresh tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshFamily {
    /// The user the family signs in; `None` before it started.
    user: Option<String>,
    /// The only token that may be used next.
    current: Option<TokenDigest>,
    /// Tokens already rotated away.
    used: HashSet<TokenDigest>,
    /// When the current token stops working.
    expires_at: UnixMillis,
    /// Set once revoked; nothing works afterwards.
    revoked: Option<RevokeReason>,
}

impl RefreshFamily {
    /// Whether the family still accepts its current token at `now`.
    pub fn is_active(&self, now: UnixMillis) -> bool {
        self.revoked.is_none() && self.current.is_some() && now < self.expires_at
    }

    /// The user it signs in.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// Whether `presented` is one of the family's tokens, current or rotated away.
    pub fn issued(&self, presented: &TokenDigest) -> bool {
        self.current.as_ref() == Some(presented) || self.used.contains(presented)
    }

    /// Why it was revoked, if it was.
    pub fn revoked(&self) -> Option<RevokeReason> {
        self.revoked
    }

    /// Decides a refresh with `presented`, handing out `next` until `expires_at`.
    /// A reused token yields the revocation event *and* an error: the caller
    /// persists the event and refuses the request.
    pub fn rotate(
        &self,
        presented: &TokenDigest,
        next: TokenDigest,
        now: UnixMillis,
        expires_at: UnixMillis,
    ) -> (Option<FamilyEvent>, Result<(), RefreshError>) {
        if self.used.contains(presented) {
            let event = self.revoked.is_none().then_some(FamilyEvent::Revoked {
                reason: RevokeReason::Reuse,
            });
            return (event, Err(RefreshError::Reused));
        }
        if !self.is_active(now) || self.current.as_ref() != Some(presented) {
            return (None, Err(RefreshError::Invalid));
        }
        (Some(FamilyEvent::Rotated { next, expires_at }), Ok(()))
    }

    /// Decides a logout (idempotent: nothing changes once revoked).
    pub fn logout(&self) -> Option<FamilyEvent> {
        self.revoked.is_none().then_some(FamilyEvent::Revoked {
            reason: RevokeReason::Logout,
        })
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &FamilyEvent) {
        match event {
            FamilyEvent::Started {
                user,
                current,
                expires_at,
            } => {
                self.user = Some(user.clone());
                self.current = Some(*current);
                self.expires_at = *expires_at;
            }
            FamilyEvent::Rotated { next, expires_at } => {
                if let Some(old) = self.current.replace(*next) {
                    self.used.insert(old);
                }
                self.expires_at = *expires_at;
            }
            FamilyEvent::Revoked { reason } => {
                self.revoked.get_or_insert(*reason);
                if let Some(old) = self.current.take() {
                    self.used.insert(old);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
