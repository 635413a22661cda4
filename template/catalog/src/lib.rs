//! The examples catalog. Its tables are defined by the revisions in `migrations/`; `schema.rs`
//! describes them for diesel and is written by `cargo revise schema -p catalog --write`
//! (`cargo revise check --schema` fails when the two disagree).

pub mod schema;

/// The table this member's revisions create.
pub const TABLE: &str = "examples";
