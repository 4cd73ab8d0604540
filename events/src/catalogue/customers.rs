//! `customer.*`: accounts, without anything secret (no password hash, no
//! addresses, no cart bookkeeping).

use mercato_actors::account::user::UserEvent;
use serde::Serialize;
use utoipa::ToSchema;

use super::{schema_of, EventType, Mapped};

const REGISTERED: &str = "customer.registered";
const UPDATED: &str = "customer.updated";
const DELETED: &str = "customer.deleted";

pub const TYPES: &[EventType] = &[
    EventType {
        name: REGISTERED,
        summary: "An account was created (customers and staff; `role` says which).",
        data: schema_of::<CustomerRegistered>,
    },
    EventType {
        name: UPDATED,
        summary: "An account's e-mail, name, phone or role changed: the fields that changed are set.",
        data: schema_of::<CustomerUpdated>,
    },
    EventType {
        name: DELETED,
        summary: "An account was deleted.",
        data: schema_of::<CustomerRef>,
    },
];

/// `customer.registered`.
#[derive(Serialize, ToSchema)]
pub struct CustomerRegistered {
    pub customer_id: String,
    pub email: String,
    pub name: Option<String>,
    /// `customer`, `operator` or `admin`.
    pub role: String,
}

/// `customer.updated`: only what changed is set.
#[derive(Serialize, ToSchema, Default)]
pub struct CustomerUpdated {
    pub customer_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub role: Option<String>,
}

/// `customer.deleted`.
#[derive(Serialize, ToSchema)]
pub struct CustomerRef {
    pub customer_id: String,
}

/// Maps an event of account `id`.
pub fn user(id: &str, event: UserEvent) -> Option<Mapped> {
    let subject = format!("customers/{id}");
    let customer_id = id.to_string();
    let updated = CustomerUpdated {
        customer_id: customer_id.clone(),
        ..CustomerUpdated::default()
    };
    Some(match event {
        UserEvent::Registered { email, role, name, .. } => Mapped::new(
            REGISTERED,
            subject,
            CustomerRegistered {
                customer_id,
                email,
                name,
                role: role.name().to_string(),
            },
        ),
        UserEvent::ProfileChanged { name, phone } => {
            Mapped::new(UPDATED, subject, CustomerUpdated { name, phone, ..updated })
        }
        UserEvent::EmailChanged { email } => Mapped::new(
            UPDATED,
            subject,
            CustomerUpdated {
                email: Some(email),
                ..updated
            },
        ),
        UserEvent::RoleChanged { role } => Mapped::new(
            UPDATED,
            subject,
            CustomerUpdated {
                role: Some(role.name().to_string()),
                ..updated
            },
        ),
        UserEvent::Deleted => Mapped::new(DELETED, subject, CustomerRef { customer_id }),
        UserEvent::PasswordChanged { .. }
        | UserEvent::AddressSaved { .. }
        | UserEvent::AddressRemoved { .. }
        | UserEvent::DefaultAddressSet { .. }
        | UserEvent::CartAssigned { .. }
        | UserEvent::OrderLinked { .. }
        | UserEvent::CartCheckedOut { .. } => return None,
    })
}
