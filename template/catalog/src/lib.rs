//! The examples catalog. Its tables are defined by the revisions in `migrations/`.

/// The table this member's revisions create.
pub const TABLE: &str = "examples";
