//! Fixtures for the end-to-end tests of `cargo revise`.
//!
//! The tests in `tests/*.rs` drive the built `cargo-revise` binary the way a user does: on a
//! throw-away Cargo workspace ([`Workspace`]) against a fresh database ([`TestDb`]), then look
//! at the exit status, the printed report and what the database holds. Nothing here calls the
//! runtime's API directly, so a test passes only if the product works from the outside.
//!
//! ```no_run
//! use revise_tests::{Captured, Rev, Workspace};
//!
//! let ws = Workspace::new(&["users"]);
//! ws.chain("users", &["u1", "u2"]);
//! let out = ws.run(["up"]).success();
//! assert!(out.stdout_text().contains("Running 2 pending migration(s)..."));
//! assert_eq!(ws.db().version_rows(), ["u2"]);
//! ```

mod binary;
mod db;
mod output;
mod workspace;

pub use binary::cargo_revise;
pub use db::TestDb;
pub use output::Captured;
pub use workspace::{Rev, UrlVia, Workspace};

/// The SQLite tables a revision created with [`Rev::table`] leaves, plus the version table:
/// what a test expects `TestDb::tables` to return after applying `ids`.
pub fn tables_after(ids: &[&str]) -> Vec<String> {
    let mut tables: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    tables.push("alembic_version".to_owned());
    tables.sort();
    tables
}
