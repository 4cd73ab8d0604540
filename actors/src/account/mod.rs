//! Accounts: users, unique e-mails, refresh-token sessions, address books.
//!
//! - [`state`]: the rules (e-mail shape, password policy, roles), the e-mail claim
//!   and the refresh-token family, pure;
//! - [`user`]: one user's state machine, pure;
//! - [`address`]: address and phone checks, pure;
//! - [`password`]: argon2id hashing on the blocking pool;
//! - [`tokens`]: opaque refresh tokens and random ids;
//! - [`revocation`]: which sessions' access tokens are refused, from memory;
//! - [`messages`], `actor`: the `user`, `email` and `session` entities;
//! - [`customers`]: every account for the console, a read model of the log;
//! - [`Accounts`]: the front door the HTTP layer and the CLI use.
//!
//! An e-mail belongs to a user when its claim names the user *and* the user's
//! profile carries that e-mail. The claim is taken before the user is created or
//! its e-mail changed, so a crash in between leaves a stale claim, never two users
//! on one address; a stale claim is displaced by the next claimant.

mod actor;
pub mod address;
pub mod customers;
pub mod messages;
pub mod password;
pub mod revocation;
pub mod state;
pub mod tokens;
pub mod user;

use std::sync::Arc;
use std::time::Duration;

use self::address::{Address, AddressPatch};
use self::customers::CustomerBook;
use self::messages::{ClaimCommand, SessionCommand, UserCommand, UserOutcome};
use self::password::{PasswordError, Passwords};
use self::revocation::Revocations;
use self::tokens::RefreshToken;
use crate::read_model::ReadModel;
use crate::runtime::{now_millis, ActorDirectory, ActorError, Registry, Runtime, UnixMillis};

pub use self::address::FieldError;
pub use self::state::{
    check_password, fold_email, normalize_email, AccountError, ClaimTaken, EmailClaim, RefreshError, RefreshFamily,
    Role,
};
pub use self::user::{Profile, SavedAddress, UserError, UserState};

/// Why an account operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AccountsError {
    /// The e-mail or password breaks the rules.
    #[error(transparent)]
    Invalid(#[from] AccountError),
    /// Another user holds the e-mail.
    #[error("an account with this e-mail address already exists")]
    EmailTaken,
    /// Unknown e-mail or wrong password (deliberately not told apart).
    #[error("the e-mail address or the password is wrong")]
    InvalidCredentials,
    /// The current password given to confirm a change is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// The user refused the change.
    #[error(transparent)]
    User(#[from] UserError),
    /// The refresh token is not usable.
    #[error(transparent)]
    Refresh(#[from] RefreshError),
    /// Hashing failed.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// An entity could not answer.
    #[error(transparent)]
    Actor(#[from] ActorError),
}

impl From<ClaimTaken> for AccountsError {
    fn from(_: ClaimTaken) -> Self {
        AccountsError::EmailTaken
    }
}

/// A signed-in user with the refresh token of a session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The user id.
    pub user_id: String,
    /// The profile.
    pub profile: Profile,
    /// The refresh token to hand to the client.
    pub refresh: RefreshToken,
    /// When that token stops working unless rotated.
    pub refresh_expires_at: UnixMillis,
}

/// Typed access to the account entities.
#[derive(Clone)]
pub struct Accounts {
    users: Registry<UserState>,
    emails: Registry<EmailClaim>,
    sessions: Registry<RefreshFamily>,
    passwords: Passwords,
    /// How long a refresh token lives unless rotated.
    refresh_ttl: Duration,
    /// Sessions whose access tokens are refused.
    revocations: Arc<Revocations>,
    /// Every account, from the event log.
    customers: ReadModel<CustomerBook>,
}

impl Accounts {
    /// Accounts on `runtime`.
    pub fn new(runtime: &Runtime, passwords: Passwords, refresh_ttl: Duration, access_ttl: Duration) -> Self {
        Accounts {
            users: Registry::new(runtime),
            emails: Registry::new(runtime),
            sessions: Registry::new(runtime),
            passwords,
            refresh_ttl,
            revocations: Arc::new(Revocations::new(access_ttl)),
            customers: ReadModel::new(runtime.storage().clone()),
        }
    }

    /// Every account (the console's list), fed from the event log by the task
    /// of `customers().start()`.
    pub fn customers(&self) -> &ReadModel<CustomerBook> {
        &self.customers
    }

    /// The registries, for the admin API and shutdown.
    pub fn directories(&self) -> Vec<Arc<dyn ActorDirectory>> {
        vec![
            Arc::new(self.users.clone()),
            Arc::new(self.emails.clone()),
            Arc::new(self.sessions.clone()),
        ]
    }

    async fn user(&self, user_id: &str, command: UserCommand) -> Result<Profile, AccountsError> {
        match self.users.call(user_id, command).await?? {
            UserOutcome::Profile(profile) | UserOutcome::Credentials { profile, .. } => Ok(profile),
        }
    }

    /// The user that holds `email` with its password hash, if any.
    async fn holder(&self, email: &str) -> Result<Option<(String, Profile, String)>, AccountsError> {
        let Some(owner) = self.emails.call(email, ClaimCommand::Owner).await?? else {
            return Ok(None);
        };
        match self.users.call(&owner, UserCommand::Credentials).await? {
            Ok(UserOutcome::Credentials { profile, password_hash }) if profile.email == email => {
                Ok(Some((owner, profile, password_hash)))
            }
            Ok(_) | Err(UserError::NotFound) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// Takes `email` for `user_id`, displacing a stale holder.
    async fn claim(&self, email: &str, user_id: &str) -> Result<(), AccountsError> {
        let claim = |replacing| ClaimCommand::Claim {
            owner: user_id.to_string(),
            replacing,
        };
        match self.emails.call(email, claim(None)).await? {
            Ok(_) => Ok(()),
            Err(taken) => {
                if self.holder(email).await?.is_some() {
                    return Err(AccountsError::EmailTaken);
                }
                self.emails.call(email, claim(Some(taken.owner))).await??;
                Ok(())
            }
        }
    }

    /// Creates an account (no session); answers its id and profile.
    pub async fn create(
        &self,
        email: &str,
        password: String,
        name: Option<String>,
        role: Role,
    ) -> Result<(String, Profile), AccountsError> {
        let email = normalize_email(email)?;
        check_password(&password)?;
        let name = address::optional_text("name", name.as_deref(), address::MAX_NAME_CHARS).map_err(UserError::from)?;
        let password_hash = self.passwords.hash(password).await?;
        let user_id = tokens::random_id();
        self.claim(&email, &user_id).await?;
        let registered = self
            .user(
                &user_id,
                UserCommand::Register {
                    email: email.clone(),
                    password_hash,
                    role,
                    name,
                },
            )
            .await;
        if registered.is_err() {
            let release = ClaimCommand::Release { owner: user_id.clone() };
            let _ = self.emails.call(&email, release).await;
        }
        Ok((user_id, registered?))
    }

    /// Opens a session for a user just created or authenticated.
    pub async fn start_session(&self, user_id: String, profile: Profile) -> Result<SignedIn, AccountsError> {
        let refresh = RefreshToken::issue(&tokens::random_id());
        let expires_at = self.refresh_deadline();
        let start = SessionCommand::Start {
            user: user_id.clone(),
            digest: refresh.digest,
            expires_at,
        };
        self.sessions.call(&refresh.family, start).await??;
        Ok(SignedIn {
            user_id,
            profile,
            refresh,
            refresh_expires_at: expires_at,
        })
    }

    /// Checks an e-mail and password. An unknown e-mail costs one hash too.
    pub async fn authenticate(&self, email: &str, password: String) -> Result<(String, Profile), AccountsError> {
        // Looked up as stored, not re-validated: an address accepted under
        // older, looser rules still signs in (and can then be changed).
        let holder = self.holder(&fold_email(email)).await?;
        let stored = holder.as_ref().map(|(_, _, hash)| hash.clone());
        if !self.passwords.verify(password, stored).await? {
            return Err(AccountsError::InvalidCredentials);
        }
        let (user_id, profile, _) = holder.ok_or(AccountsError::InvalidCredentials)?;
        Ok((user_id, profile))
    }

    /// Swaps a refresh token for the next one of its family.
    pub async fn refresh(&self, token: &str) -> Result<SignedIn, AccountsError> {
        let (family, presented) = tokens::parse(token).ok_or(RefreshError::Invalid)?;
        let next = RefreshToken::issue(&family);
        let expires_at = self.refresh_deadline();
        let rotate = SessionCommand::Rotate {
            presented,
            next: next.digest,
            expires_at,
        };
        let user_id = match self.sessions.call(&family, rotate).await? {
            Err(RefreshError::Reused) => {
                self.revocations.revoke(&family);
                return Err(RefreshError::Reused.into());
            }
            other => other?,
        };
        let profile = match self.user(&user_id, UserCommand::Profile).await {
            Err(AccountsError::User(UserError::NotFound)) => return Err(RefreshError::Invalid.into()),
            other => other?,
        };
        Ok(SignedIn {
            user_id,
            profile,
            refresh: next,
            refresh_expires_at: expires_at,
        })
    }

    /// Revokes the family of a refresh token.
    pub async fn logout(&self, token: &str) -> Result<(), AccountsError> {
        let (family, presented) = tokens::parse(token).ok_or(RefreshError::Invalid)?;
        self.sessions
            .call(&family, SessionCommand::Logout { presented })
            .await??;
        self.revocations.revoke(&family);
        Ok(())
    }

    /// The role of a live user, `None` for a deleted or unknown one. Reads the
    /// view a live user entity published, else asks it.
    pub async fn role(&self, user_id: &str) -> Result<Option<Role>, ActorError> {
        if let Some(role) = self.users.peek(user_id) {
            return Ok(role);
        }
        match self.users.call(user_id, UserCommand::Profile).await? {
            Ok(outcome) => match outcome {
                UserOutcome::Profile(profile) | UserOutcome::Credentials { profile, .. } => Ok(Some(profile.role)),
            },
            Err(_) => Ok(None),
        }
    }

    /// A user's profile.
    pub async fn profile(&self, user_id: &str) -> Result<Profile, AccountsError> {
        self.user(user_id, UserCommand::Profile).await
    }

    /// Changes name and phone (absent: keep, `Some(None)`: clear).
    pub async fn update_profile(
        &self,
        user_id: &str,
        name: Option<Option<String>>,
        phone: Option<Option<String>>,
    ) -> Result<Profile, AccountsError> {
        self.user(user_id, UserCommand::UpdateProfile { name, phone }).await
    }

    /// Moves a user to another e-mail, confirmed by the current password.
    pub async fn change_email(&self, user_id: &str, email: &str, password: String) -> Result<Profile, AccountsError> {
        let email = normalize_email(email)?;
        let (profile, password_hash) = match self.users.call(user_id, UserCommand::Credentials).await?? {
            UserOutcome::Credentials { profile, password_hash } => (profile, password_hash),
            UserOutcome::Profile(_) => unreachable!("credentials answer with the hash"),
        };
        if !self.passwords.verify(password, Some(password_hash)).await? {
            return Err(AccountsError::WrongPassword);
        }
        if profile.email == email {
            return Ok(profile);
        }
        self.claim(&email, user_id).await?;
        let changed = self.user(user_id, UserCommand::ChangeEmail { email }).await?;
        self.release(&profile.email, user_id).await;
        Ok(changed)
    }

    async fn release(&self, email: &str, user_id: &str) {
        let release = ClaimCommand::Release {
            owner: user_id.to_string(),
        };
        if let Err(err) = self.emails.call(email, release).await {
            tracing::warn!(error = %err, "e-mail claim not released; the next claimant displaces it");
        }
    }

    /// The id of the user's current cart, choosing a fresh one the first time.
    pub async fn current_cart(&self, user_id: &str) -> Result<String, AccountsError> {
        let candidate = tokens::random_id();
        let profile = self.user(user_id, UserCommand::AssignCart { candidate }).await?;
        Ok(profile.cart_id.expect("a cart was just assigned if there was none"))
    }

    /// Records an order of the user (idempotent). Answers the user's order ids.
    pub async fn link_order(&self, user_id: &str, order_id: &str) -> Result<Vec<String>, AccountsError> {
        let command = UserCommand::LinkOrder {
            order_id: order_id.to_string(),
        };
        Ok(self.user(user_id, command).await?.orders)
    }

    /// The user's cart `cart_id` was bought: the next cart is a fresh one.
    pub async fn cart_checked_out(&self, user_id: &str, cart_id: &str) -> Result<(), AccountsError> {
        let command = UserCommand::CartCheckedOut {
            cart_id: cart_id.to_string(),
        };
        self.user(user_id, command).await.map(|_| ())
    }

    /// Changes a user's role.
    pub async fn set_role(&self, user_id: &str, role: Role) -> Result<Profile, AccountsError> {
        self.user(user_id, UserCommand::SetRole { role }).await
    }

    /// Deletes a user: its tokens stop working and its e-mail is free again.
    pub async fn delete(&self, user_id: &str) -> Result<(), AccountsError> {
        let profile = self.user(user_id, UserCommand::Delete).await?;
        self.release(&profile.email, user_id).await;
        Ok(())
    }

    /// Adds an address to a user's book.
    pub async fn add_address(
        &self,
        user_id: &str,
        address: Address,
        make_default: bool,
    ) -> Result<Profile, AccountsError> {
        self.user(user_id, UserCommand::AddAddress { address, make_default })
            .await
    }

    /// Changes an address in a user's book.
    pub async fn update_address(
        &self,
        user_id: &str,
        id: u32,
        patch: AddressPatch,
        make_default: bool,
    ) -> Result<Profile, AccountsError> {
        let command = UserCommand::UpdateAddress {
            id,
            patch,
            make_default,
        };
        self.user(user_id, command).await
    }

    /// Removes an address from a user's book.
    pub async fn remove_address(&self, user_id: &str, id: u32) -> Result<Profile, AccountsError> {
        self.user(user_id, UserCommand::RemoveAddress { id }).await
    }

    fn refresh_deadline(&self) -> UnixMillis {
        now_millis().saturating_add(self.refresh_ttl.as_millis() as u64)
    }
}
