//! The schema the revisions produce, and diesel's `schema.rs` beside it (SPEC section 9).
//!
//! A member's `schema.rs` (the model, [`schema_rs`]) is compared with a scratch database
//! migrated to the member's head ([`catalog`], read in diesel's terms). From the differences
//! come `check --schema`'s report and `new --autogenerate`'s revision ([`diff`],
//! [`generate`]); from the catalog comes `schema`'s print-out ([`print`]). The type mapping
//! of each backend, in both directions, is [`types`].

pub mod catalog;
pub mod diff;
pub mod generate;
pub mod head;
pub mod model;
pub mod print;
pub mod schema_rs;
pub mod sql_text;
pub mod types;

pub use catalog::Catalog;
pub use model::{DieselSchema, TableName};
