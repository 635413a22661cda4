//! Fixtures for the end-to-end tests of `cargo revise`.
//!
//! The tests in `tests/*.rs` drive the built `cargo-revise` binary the way a user does: on a
//! throw-away Cargo workspace ([`Workspace`]) against a fresh database ([`TestDb`]), then look
//! at the exit status, the printed report and what the database holds. Nothing here calls the
//! runtime's API directly, so a test passes only if the product works from the outside.
//!
//! The database is SQLite unless `REVISE_TEST_BACKEND` says `postgres` or `mysql`: then
//! every [`Workspace::new`] gets a database of its own on that server (see [`TestDb`] for the
//! servers' URLs), and the same tests check the same behaviour there. Tests about one backend
//! say so with [`Workspace::with_backend`].
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

pub mod alembic;
mod binary;
mod db;
mod output;
mod workspace;

pub use binary::cargo_revise;
pub use db::{Backend, TestDb, LOG_TABLE};
pub use output::Captured;
pub use workspace::{copy_template, Rev, UrlVia, Workspace};

/// The tables a revision created with [`Rev::table`] leaves, plus the version table:
/// what a test expects `TestDb::tables` to return after applying `ids`.
pub fn tables_after(ids: &[&str]) -> Vec<String> {
    let mut tables: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    tables.push("alembic_version".to_owned());
    tables.sort();
    tables
}

/// The report's warning lines: those starting with `warning:` (plain output) or the warning
/// sign (on a terminal). MySQL/MariaDB runs print one naming the statements of a failed
/// revision that may have been kept, since DDL there commits implicitly (SPEC section 6).
pub fn warnings(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|line| line.starts_with("warning:") || line.starts_with('\u{26a0}'))
        .collect()
}

/// Asserts that `stdout` has a warning saying that `statement` (as written in the revision,
/// without its `;`) may have been left behind, and returns that line.
pub fn assert_kept_warning<'a>(stdout: &'a str, statement: &str) -> &'a str {
    let found = warnings(stdout)
        .into_iter()
        .find(|line| line.contains(&format!("`{statement}`")));
    let line = found.unwrap_or_else(|| {
        panic!("no warning line names `{statement}` as possibly left behind:\n{stdout}")
    });
    assert!(line.contains("kept"), "{line}");
    line
}
