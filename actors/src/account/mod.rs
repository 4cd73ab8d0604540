//! Accounts (issue 4, in progress): the rules for emails, passwords, roles and
//! refresh-token families, as pure code in [`state`]. The user and token-family
//! entities, password hashing and the HTTP routes build on it.

pub mod state;

pub use self::state::{check_password, normalize_email, AccountError, RefreshError, RefreshFamily, Role};
