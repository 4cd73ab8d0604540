//! The account entities on the runtime: `user` (profile, password hash, address
//! book), `email` (who holds an address) and `session` (one refresh-token
//! family). Each persists its events like every entity; none talks to another —
//! the [`Accounts`](super::Accounts) front door orchestrates them.

use super::messages::{ClaimCommand, ClaimReply, SessionCommand, SessionReply, UserCommand, UserOutcome, UserReply};
use super::state::{ClaimEvent, EmailClaim, FamilyEvent, RefreshError, RefreshFamily, Role};
use super::user::{UserEvent, UserState};
use crate::runtime::{Entity, UnixMillis};

/// Applies and records each event.
fn emit<E: Entity>(entity: &mut E, new: impl IntoIterator<Item = E::Event>, events: &mut Vec<E::Event>) {
    for event in new {
        entity.apply(&event);
        events.push(event);
    }
}

impl Entity for UserState {
    const KIND: &'static str = "user";
    type Event = UserEvent;
    type Command = UserCommand;
    type Reply = UserReply;
    /// The role of a live user; `None` when there is none (never registered, deleted).
    type View = Option<Role>;

    fn new(_id: &str) -> Self {
        UserState::default()
    }

    fn apply(&mut self, event: &UserEvent) {
        UserState::apply(self, event);
    }

    fn handle(&mut self, command: UserCommand, now: UnixMillis, events: &mut Vec<UserEvent>) -> UserReply {
        let new = match command {
            UserCommand::Profile => Vec::new(),
            UserCommand::Credentials => {
                return Ok(UserOutcome::Credentials {
                    profile: self.profile()?.clone(),
                    password_hash: self.password_hash()?.to_string(),
                })
            }
            UserCommand::Register {
                email,
                password_hash,
                role,
                name,
            } => vec![self.register(email, password_hash, role, name, now)?],
            UserCommand::UpdateProfile { name, phone } => vec![self.update_profile(name, phone)?],
            UserCommand::ChangeEmail { email } => vec![self.profile().map(|_| UserEvent::EmailChanged { email })?],
            UserCommand::SetRole { role } => vec![self.profile().map(|_| UserEvent::RoleChanged { role })?],
            UserCommand::LinkOrder { order_id } => match self.profile()?.orders.contains(&order_id) {
                true => Vec::new(),
                false => vec![UserEvent::OrderLinked { order_id }],
            },
            UserCommand::CartCheckedOut { cart_id } => match self.profile()?.cart_id == Some(cart_id.clone()) {
                true => vec![UserEvent::CartCheckedOut { cart_id }],
                false => Vec::new(),
            },
            UserCommand::AssignCart { candidate } => match self.profile()?.cart_id {
                Some(_) => Vec::new(),
                None => vec![UserEvent::CartAssigned { cart_id: candidate }],
            },
            UserCommand::AddAddress { address, make_default } => self.add_address(address, make_default)?,
            UserCommand::UpdateAddress {
                id,
                patch,
                make_default,
            } => self.update_address(id, |address| patch.apply_to(address), make_default)?,
            UserCommand::RemoveAddress { id } => self.remove_address(id)?,
            UserCommand::Delete => {
                let profile = self.profile()?.clone();
                emit(self, [UserEvent::Deleted], events);
                return Ok(UserOutcome::Profile(profile));
            }
        };
        emit(self, new, events);
        Ok(UserOutcome::Profile(self.profile()?.clone()))
    }

    fn settle(&mut self, _now: UnixMillis, _events: &mut Vec<UserEvent>) {}

    fn next_deadline(&self) -> Option<UnixMillis> {
        None
    }

    fn view(&self) -> Option<Role> {
        self.profile().ok().map(|profile| profile.role)
    }
}

impl Entity for EmailClaim {
    const KIND: &'static str = "email";
    type Event = ClaimEvent;
    type Command = ClaimCommand;
    type Reply = ClaimReply;
    type View = ();

    fn new(_id: &str) -> Self {
        EmailClaim::default()
    }

    fn apply(&mut self, event: &ClaimEvent) {
        EmailClaim::apply(self, event);
    }

    fn handle(&mut self, command: ClaimCommand, _now: UnixMillis, events: &mut Vec<ClaimEvent>) -> ClaimReply {
        let event = match command {
            ClaimCommand::Owner => None,
            ClaimCommand::Claim { owner, replacing } => self.claim(&owner, replacing.as_deref())?,
            ClaimCommand::Release { owner } => self.release(&owner),
        };
        emit(self, event, events);
        Ok(self.owner().map(str::to_string))
    }

    fn settle(&mut self, _now: UnixMillis, _events: &mut Vec<ClaimEvent>) {}

    fn next_deadline(&self) -> Option<UnixMillis> {
        None
    }

    fn view(&self) {}
}

impl Entity for RefreshFamily {
    const KIND: &'static str = "session";
    type Event = FamilyEvent;
    type Command = SessionCommand;
    type Reply = SessionReply;
    type View = ();

    fn new(_id: &str) -> Self {
        RefreshFamily::default()
    }

    fn apply(&mut self, event: &FamilyEvent) {
        RefreshFamily::apply(self, event);
    }

    fn handle(&mut self, command: SessionCommand, now: UnixMillis, events: &mut Vec<FamilyEvent>) -> SessionReply {
        let result = match command {
            SessionCommand::Start {
                user,
                digest,
                expires_at,
            } => {
                if self.user().is_some() {
                    return Err(RefreshError::Invalid);
                }
                emit(
                    self,
                    [FamilyEvent::Started {
                        user,
                        current: digest,
                        expires_at,
                    }],
                    events,
                );
                Ok(())
            }
            SessionCommand::Rotate {
                presented,
                next,
                expires_at,
            } => {
                let (event, result) = self.rotate(&presented, next, now, expires_at);
                emit(self, event, events);
                result
            }
            SessionCommand::Logout { presented } => {
                if !self.issued(&presented) {
                    return Err(RefreshError::Invalid);
                }
                emit(self, self.logout(), events);
                Ok(())
            }
            SessionCommand::Check => match self.revoked() {
                Some(_) => Err(RefreshError::Invalid),
                None => Ok(()),
            },
        };
        result.and_then(|()| self.user().map(str::to_string).ok_or(RefreshError::Invalid))
    }

    fn settle(&mut self, _now: UnixMillis, _events: &mut Vec<FamilyEvent>) {}

    fn next_deadline(&self) -> Option<UnixMillis> {
        None
    }

    fn view(&self) {}
}
