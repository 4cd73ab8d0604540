//! One user account as a pure state machine: registration, profile, e-mail,
//! role, address book, deletion. Decisions return events; `apply` folds them.
//!
//! Uniqueness of e-mails is not decided here (one user cannot see the others):
//! the e-mail claim entity serializes it per address.

use serde::{Deserialize, Serialize};

use super::address::{self, Address, FieldError};
use super::state::Role;
use crate::runtime::UnixMillis;

/// Most addresses in one address book.
pub const MAX_ADDRESSES: usize = 20;

/// An address in the book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedAddress {
    /// Stable within the user's book.
    pub id: u32,
    /// Whether checkout offers it first.
    pub is_default: bool,
    /// The address.
    pub address: Address,
}

/// A registered user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Normalized e-mail (unique).
    pub email: String,
    /// What the user may do.
    pub role: Role,
    /// Display name.
    pub name: Option<String>,
    /// Contact phone.
    pub phone: Option<String>,
    /// Registration time.
    pub created_at: UnixMillis,
    /// The address book, oldest first.
    pub addresses: Vec<SavedAddress>,
    /// The current cart's id, once the user has one.
    pub cart_id: Option<String>,
    /// Ids of the user's orders, oldest first.
    pub orders: Vec<String>,
}

/// A change of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserEvent {
    /// The account was created.
    Registered {
        email: String,
        password_hash: String,
        role: Role,
        name: Option<String>,
        created_at: UnixMillis,
    },
    /// Name and phone as they are now.
    ProfileChanged {
        name: Option<String>,
        phone: Option<String>,
    },
    /// The e-mail changed (its claim was taken first).
    EmailChanged { email: String },
    /// The password changed.
    PasswordChanged { password_hash: String },
    /// The role changed.
    RoleChanged { role: Role },
    /// An address was added or replaced (with `id`).
    AddressSaved { id: u32, address: Address },
    /// An address was removed.
    AddressRemoved { id: u32 },
    /// The default address is now `id`.
    DefaultAddressSet { id: u32 },
    /// `cart_id` is the user's current cart now.
    CartAssigned { cart_id: String },
    /// Order `order_id` was placed by the user.
    OrderLinked { order_id: String },
    /// The user's cart `cart_id` was bought: it is no longer the current one.
    CartCheckedOut { cart_id: String },
    /// The account is gone; its tokens stop working.
    Deleted,
}

/// Why a user command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    /// No such user (never registered, or deleted).
    #[error("no such user")]
    NotFound,
    /// The id is already registered.
    #[error("the user already exists")]
    AlreadyRegistered,
    /// No such address in the book.
    #[error("no address {0} in the address book")]
    AddressNotFound(u32),
    /// The book is full.
    #[error("an address book holds at most {MAX_ADDRESSES} addresses")]
    TooManyAddresses,
    /// A field of the change is invalid.
    #[error(transparent)]
    Invalid(#[from] FieldError),
}

/// A user entity's state; also its snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserState {
    /// `None` until registered.
    profile: Option<Profile>,
    /// argon2id PHC string.
    password_hash: String,
    /// Set once deleted; the id is never reused.
    deleted: bool,
    /// Next address id.
    next_address_id: u32,
}

impl UserState {
    /// The profile of a live (registered, not deleted) user.
    pub fn profile(&self) -> Result<&Profile, UserError> {
        match &self.profile {
            Some(profile) if !self.deleted => Ok(profile),
            _ => Err(UserError::NotFound),
        }
    }

    /// The stored password hash of a live user.
    pub fn password_hash(&self) -> Result<&str, UserError> {
        self.profile().map(|_| self.password_hash.as_str())
    }

    /// Decides a registration.
    pub fn register(
        &self,
        email: String,
        password_hash: String,
        role: Role,
        name: Option<String>,
        now: UnixMillis,
    ) -> Result<UserEvent, UserError> {
        if self.profile.is_some() || self.deleted {
            return Err(UserError::AlreadyRegistered);
        }
        Ok(UserEvent::Registered {
            email,
            password_hash,
            role,
            name,
            created_at: now,
        })
    }

    /// Decides a profile change: absent fields stay, `Some(None)` clears.
    pub fn update_profile(
        &self,
        name: Option<Option<String>>,
        phone: Option<Option<String>>,
    ) -> Result<UserEvent, UserError> {
        let profile = self.profile()?;
        let name = match name {
            None => profile.name.clone(),
            Some(name) => address::optional_text("name", name.as_deref(), address::MAX_NAME_CHARS)?,
        };
        let phone = match phone {
            None => profile.phone.clone(),
            Some(None) => None,
            Some(Some(number)) => Some(address::phone("phone", &number)?),
        };
        Ok(UserEvent::ProfileChanged { name, phone })
    }

    /// Decides a new address; the first one becomes the default.
    pub fn add_address(&self, address: Address, make_default: bool) -> Result<Vec<UserEvent>, UserError> {
        let profile = self.profile()?;
        if profile.addresses.len() >= MAX_ADDRESSES {
            return Err(UserError::TooManyAddresses);
        }
        let id = self.next_address_id;
        let address = address.validated()?;
        let mut events = vec![UserEvent::AddressSaved { id, address }];
        if make_default || profile.addresses.is_empty() {
            events.push(UserEvent::DefaultAddressSet { id });
        }
        Ok(events)
    }

    /// Decides a change of address `id`: `change` edits a copy, which must validate.
    pub fn update_address(
        &self,
        id: u32,
        change: impl FnOnce(&mut Address),
        make_default: bool,
    ) -> Result<Vec<UserEvent>, UserError> {
        let saved = self.saved_address(id)?;
        let mut address = saved.address.clone();
        change(&mut address);
        let mut events = vec![UserEvent::AddressSaved {
            id,
            address: address.validated()?,
        }];
        if make_default && !saved.is_default {
            events.push(UserEvent::DefaultAddressSet { id });
        }
        Ok(events)
    }

    /// Decides the removal of address `id`; the oldest other address inherits
    /// the default flag.
    pub fn remove_address(&self, id: u32) -> Result<Vec<UserEvent>, UserError> {
        let saved = self.saved_address(id)?;
        let mut events = vec![UserEvent::AddressRemoved { id }];
        if saved.is_default {
            let heir = self.profile()?.addresses.iter().find(|other| other.id != id);
            events.extend(heir.map(|heir| UserEvent::DefaultAddressSet { id: heir.id }));
        }
        Ok(events)
    }

    fn saved_address(&self, id: u32) -> Result<&SavedAddress, UserError> {
        self.profile()?
            .addresses
            .iter()
            .find(|saved| saved.id == id)
            .ok_or(UserError::AddressNotFound(id))
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &UserEvent) {
        if let UserEvent::Registered {
            email,
            password_hash,
            role,
            name,
            created_at,
        } = event
        {
            self.password_hash = password_hash.clone();
            self.profile = Some(Profile {
                email: email.clone(),
                role: *role,
                name: name.clone(),
                phone: None,
                created_at: *created_at,
                addresses: Vec::new(),
                cart_id: None,
                orders: Vec::new(),
            });
            return;
        }
        if let UserEvent::PasswordChanged { password_hash } = event {
            self.password_hash = password_hash.clone();
            return;
        }
        if let UserEvent::Deleted = event {
            self.deleted = true;
            return;
        }
        let Some(profile) = self.profile.as_mut() else {
            return;
        };
        match event {
            UserEvent::ProfileChanged { name, phone } => {
                profile.name = name.clone();
                profile.phone = phone.clone();
            }
            UserEvent::EmailChanged { email } => profile.email = email.clone(),
            UserEvent::RoleChanged { role } => profile.role = *role,
            UserEvent::CartAssigned { cart_id } => profile.cart_id = Some(cart_id.clone()),
            UserEvent::OrderLinked { order_id } => profile.orders.push(order_id.clone()),
            UserEvent::CartCheckedOut { cart_id } => {
                if profile.cart_id.as_ref() == Some(cart_id) {
                    profile.cart_id = None;
                }
            }
            UserEvent::AddressSaved { id, address } => {
                match profile.addresses.iter_mut().find(|saved| saved.id == *id) {
                    Some(saved) => saved.address = address.clone(),
                    None => profile.addresses.push(SavedAddress {
                        id: *id,
                        is_default: false,
                        address: address.clone(),
                    }),
                }
                self.next_address_id = self.next_address_id.max(id + 1);
            }
            UserEvent::AddressRemoved { id } => profile.addresses.retain(|saved| saved.id != *id),
            UserEvent::DefaultAddressSet { id } => {
                for saved in &mut profile.addresses {
                    saved.is_default = saved.id == *id;
                }
            }
            UserEvent::Registered { .. } | UserEvent::PasswordChanged { .. } | UserEvent::Deleted => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(city: &str) -> Address {
        crate::account::address::example_in(city)
    }

    fn registered() -> UserState {
        let mut user = UserState::default();
        let event = user
            .register("a@b.co".into(), "hash".into(), Role::Customer, None, 1)
            .expect("fresh id");
        user.apply(&event);
        user
    }

    fn run(user: &mut UserState, decide: impl FnOnce(&UserState) -> Result<Vec<UserEvent>, UserError>) {
        for event in decide(user).expect("accepted") {
            user.apply(&event);
        }
    }

    fn defaults(user: &UserState) -> Vec<u32> {
        let addresses = &user.profile().expect("live").addresses;
        addresses.iter().filter(|a| a.is_default).map(|a| a.id).collect()
    }

    #[test]
    fn exactly_one_default_address_follows_adds_updates_and_removals() {
        let mut user = registered();
        run(&mut user, |user| user.add_address(address("Berlin"), false));
        assert_eq!(defaults(&user), vec![0], "the first address becomes the default");
        run(&mut user, |user| user.add_address(address("Hamburg"), false));
        run(&mut user, |user| user.add_address(address("Munich"), true));
        assert_eq!(defaults(&user), vec![2]);
        run(&mut user, |user| {
            user.update_address(0, |a| a.city = "Bonn".into(), true)
        });
        assert_eq!(defaults(&user), vec![0]);
        run(&mut user, |user| user.remove_address(0));
        assert_eq!(defaults(&user), vec![1], "the oldest remaining address inherits");
        run(&mut user, |user| user.add_address(address("Cologne"), false));
        let ids: Vec<u32> = user.profile().unwrap().addresses.iter().map(|a| a.id).collect();
        assert_eq!(ids, vec![1, 2, 3], "ids are never reused");
    }

    #[test]
    fn an_update_that_breaks_a_field_changes_nothing() {
        let mut user = registered();
        run(&mut user, |user| user.add_address(address("Berlin"), false));
        let err = user
            .update_address(0, |a| a.country = "ZZ".into(), false)
            .expect_err("bad country");
        assert!(matches!(err, UserError::Invalid(FieldError { field: "country", .. })));
        assert_eq!(
            user.update_address(7, |_| {}, false),
            Err(UserError::AddressNotFound(7))
        );
    }

    #[test]
    fn the_book_is_bounded_and_a_deleted_user_is_gone_for_good() {
        let mut user = registered();
        for n in 0..MAX_ADDRESSES {
            run(&mut user, |user| user.add_address(address(&format!("City {n}")), false));
        }
        assert_eq!(
            user.add_address(address("One more"), false),
            Err(UserError::TooManyAddresses)
        );
        user.apply(&UserEvent::Deleted);
        assert_eq!(user.profile(), Err(UserError::NotFound));
        assert_eq!(user.password_hash(), Err(UserError::NotFound));
        assert_eq!(
            user.register("a@b.co".into(), "h".into(), Role::Customer, None, 2),
            Err(UserError::AlreadyRegistered)
        );
    }
}
