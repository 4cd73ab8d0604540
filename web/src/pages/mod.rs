//! One module per page (or group of pages sharing one template).

pub mod account;
pub mod cart;
pub mod checkout;
pub mod home;
pub mod listing;
pub mod order;
pub mod product;
pub mod seo;
pub mod sign_in;
pub mod suggestions;
