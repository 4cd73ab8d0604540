//! What callers send to the account entities and what they get back.

use super::address::{Address, AddressPatch};
use super::state::{ClaimTaken, RefreshError, Role, TokenDigest};
use super::user::{Profile, UserError};
use crate::runtime::UnixMillis;

/// A request to one user entity.
#[derive(Debug, Clone)]
pub enum UserCommand {
    /// Create the account.
    Register {
        email: String,
        password_hash: String,
        role: Role,
        name: Option<String>,
    },
    /// Read the profile.
    Profile,
    /// Read the profile and the password hash.
    Credentials,
    /// Change name and phone (absent: keep, `Some(None)`: clear).
    UpdateProfile {
        name: Option<Option<String>>,
        phone: Option<Option<String>>,
    },
    /// Change the e-mail (after its claim was taken).
    ChangeEmail { email: String },
    /// Change the role.
    SetRole { role: Role },
    /// Add an address.
    AddAddress { address: Address, make_default: bool },
    /// Change an address.
    UpdateAddress {
        id: u32,
        patch: AddressPatch,
        make_default: bool,
    },
    /// Remove an address.
    RemoveAddress { id: u32 },
    /// Make `candidate` the current cart unless the user has one; answers the profile.
    AssignCart { candidate: String },
    /// Record an order placed by the user (idempotent).
    LinkOrder { order_id: String },
    /// Cart `cart_id` was bought: unless another is current, the next cart is a fresh one.
    CartCheckedOut { cart_id: String },
    /// Delete the account.
    Delete,
}

/// What a user entity answers.
#[derive(Debug, Clone)]
pub enum UserOutcome {
    /// The profile after the command.
    Profile(Profile),
    /// The profile and the stored password hash.
    Credentials { profile: Profile, password_hash: String },
}

/// The reply to a [`UserCommand`].
pub type UserReply = Result<UserOutcome, UserError>;

/// A request to one e-mail claim.
#[derive(Debug, Clone)]
pub enum ClaimCommand {
    /// Who holds the address.
    Owner,
    /// Take the address for `owner`, displacing `replacing` if it holds it.
    Claim { owner: String, replacing: Option<String> },
    /// Give the address up if `owner` holds it.
    Release { owner: String },
}

/// The reply to a [`ClaimCommand`]: the holder afterwards.
pub type ClaimReply = Result<Option<String>, ClaimTaken>;

/// A request to one session (refresh-token family).
#[derive(Debug, Clone)]
pub enum SessionCommand {
    /// Begin the family for `user` with its first token.
    Start {
        user: String,
        digest: TokenDigest,
        expires_at: UnixMillis,
    },
    /// Swap the presented token for `next`.
    Rotate {
        presented: TokenDigest,
        next: TokenDigest,
        expires_at: UnixMillis,
    },
    /// Revoke the family the presented token belongs to.
    Logout { presented: TokenDigest },
    /// Whether the family is still signed in (its access tokens work).
    Check,
}

/// The reply to a [`SessionCommand`]: the family's user.
pub type SessionReply = Result<String, RefreshError>;
