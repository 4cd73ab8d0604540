//! Every account as the console lists it: e-mail, name, role, when it was
//! made and how many orders it placed, newest first; a read model of the
//! `user` events (DESIGN §10, [`crate::read_model`]), rebuilt from the log at
//! start. Pure. A deleted account leaves the list.

use rustc_hash::FxHashMap;

use super::state::Role;
use super::user::UserEvent;
use crate::read_model::Book;
use crate::runtime::UnixMillis;

/// One account as a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerSummary {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub created_at: UnixMillis,
    pub orders: u32,
    deleted: bool,
}

/// What a page asks for.
#[derive(Debug, Clone, Default)]
pub struct CustomerQuery {
    /// Part of an e-mail address or a name, case-insensitive (empty: all).
    pub search: String,
    /// Only this role.
    pub role: Option<Role>,
    /// 0-based.
    pub page: usize,
    pub per_page: usize,
}

/// Every account, in registration order.
#[derive(Debug, Default)]
pub struct CustomerBook {
    accounts: Vec<CustomerSummary>,
    by_id: FxHashMap<String, usize>,
    live: usize,
}

impl Book for CustomerBook {
    const KIND: &'static str = "user";
    const NAME: &'static str = "customer list";
    type Event = UserEvent;

    fn apply(&mut self, id: &str, _first_seq: u64, events: Vec<UserEvent>) {
        for event in events {
            self.apply_one(id, event);
        }
    }
}

impl CustomerBook {
    fn apply_one(&mut self, id: &str, event: UserEvent) {
        if let UserEvent::Registered {
            email,
            role,
            name,
            created_at,
            ..
        } = event
        {
            if !self.by_id.contains_key(id) {
                self.accounts.push(CustomerSummary {
                    id: id.to_string(),
                    email,
                    name,
                    role,
                    created_at,
                    orders: 0,
                    deleted: false,
                });
                self.by_id.insert(id.to_string(), self.accounts.len() - 1);
                self.live += 1;
            }
            return;
        }
        let Some(&index) = self.by_id.get(id) else {
            return;
        };
        let account = &mut self.accounts[index];
        match event {
            UserEvent::ProfileChanged { name, .. } => account.name = name,
            UserEvent::EmailChanged { email } => account.email = email,
            UserEvent::RoleChanged { role } => account.role = role,
            UserEvent::OrderLinked { .. } => account.orders += 1,
            UserEvent::Deleted if !account.deleted => {
                account.deleted = true;
                self.live -= 1;
            }
            _ => {}
        }
    }

    /// Accounts not deleted.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// One account, unless deleted.
    pub fn get(&self, id: &str) -> Option<&CustomerSummary> {
        self.by_id
            .get(id)
            .map(|&index| &self.accounts[index])
            .filter(|account| !account.deleted)
    }

    /// A page of the accounts matching `query`, newest first, and how many match.
    pub fn page(&self, query: &CustomerQuery) -> (Vec<CustomerSummary>, usize) {
        let search = query.search.trim().to_lowercase();
        let per_page = query.per_page.max(1);
        let skip = query.page.saturating_mul(per_page);
        let mut matching = 0;
        let mut found = Vec::with_capacity(per_page);
        for account in self.accounts.iter().rev().filter(|account| !account.deleted) {
            let wanted = query.role.is_none_or(|role| role == account.role)
                && (search.is_empty()
                    || account.email.contains(&search)
                    || account
                        .name
                        .as_ref()
                        .is_some_and(|name| name.to_lowercase().contains(&search)));
            if !wanted {
                continue;
            }
            if matching >= skip && found.len() < per_page {
                found.push(account.clone());
            }
            matching += 1;
        }
        (found, matching)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered(email: &str, name: Option<&str>, at: u64) -> UserEvent {
        UserEvent::Registered {
            email: email.into(),
            password_hash: "h".into(),
            role: Role::Customer,
            name: name.map(String::from),
            created_at: at,
        }
    }

    #[test]
    fn the_list_follows_registrations_changes_orders_and_deletions() {
        let mut book = CustomerBook::default();
        for n in 0..30u64 {
            let name = (n % 3 == 0).then_some("Ada Lovelace");
            Book::apply(
                &mut book,
                &format!("u{n}"),
                n,
                vec![registered(&format!("c{n}@example.com"), name, n)],
            );
        }
        Book::apply(
            &mut book,
            "u4",
            40,
            vec![UserEvent::RoleChanged { role: Role::Operator }],
        );
        Book::apply(
            &mut book,
            "u5",
            41,
            vec![UserEvent::EmailChanged {
                email: "new5@example.com".into(),
            }],
        );
        let linked = |order: &str| UserEvent::OrderLinked { order_id: order.into() };
        Book::apply(&mut book, "u6", 42, vec![linked("o1"), linked("o2")]);
        Book::apply(&mut book, "u7", 43, vec![UserEvent::Deleted]);
        Book::apply(&mut book, "ghost", 44, vec![UserEvent::Deleted]);

        assert_eq!(book.len(), 29);
        assert!(book.get("u7").is_none());
        assert_eq!(book.get("u6").unwrap().orders, 2);
        let (first, all) = book.page(&CustomerQuery {
            per_page: 5,
            ..CustomerQuery::default()
        });
        assert_eq!(all, 29);
        assert_eq!(
            first.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            ["u29", "u28", "u27", "u26", "u25"]
        );
        let (staff, n) = book.page(&CustomerQuery {
            role: Some(Role::Operator),
            per_page: 10,
            ..CustomerQuery::default()
        });
        assert_eq!((n, staff[0].id.as_str()), (1, "u4"));
        let (ada, n) = book.page(&CustomerQuery {
            search: " LOVELACE".into(),
            per_page: 100,
            ..CustomerQuery::default()
        });
        assert_eq!(n, 10);
        assert!(ada.iter().all(|a| a.name.as_deref() == Some("Ada Lovelace")));
        let (renamed, n) = book.page(&CustomerQuery {
            search: "new5@".into(),
            per_page: 10,
            ..CustomerQuery::default()
        });
        assert_eq!((n, renamed[0].id.as_str()), (1, "u5"));
        let (second, _) = book.page(&CustomerQuery {
            page: 5,
            per_page: 5,
            ..CustomerQuery::default()
        });
        assert_eq!(
            second.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            ["u3", "u2", "u1", "u0"]
        );
    }
}
