//! `revise-runtime`: Alembic's migration model for Rust.
//!
//! Revision files (SQL with a small header) name their parents and so form a graph; the
//! database records the revisions it stands at in Alembic's own `alembic_version` table.
//! This crate parses the files ([`parse`]), validates the graph ([`graph`]), resolves
//! targets ([`target`]), plans steps ([`plan`]) with Alembic's version-row rules
//! ([`version_rows`]), and applies them on a database ([`backend`], [`migrator`]) while
//! reporting progress ([`report`]). The module `fleet` (features `workspace` and `fleet`)
//! runs the same migrator over many databases at once. The `cargo revise` command is a thin
//! layer over it.
//!
//! # Migrating at start-up
//!
//! An application embeds its workspace's revisions with `build.rs` (feature `build`, asked
//! for in `[build-dependencies]` with `default-features = false` so that the build script
//! compiles neither diesel nor SQLite):
//!
//! ```ignore
//! // build.rs
//! fn main() {
//!     revise_runtime::build::embed_workspace().expect("valid revision files");
//! }
//!
//! // main.rs
//! revise_runtime::include_revisions!(); // static REVISIONS
//! let mut conn = revise_runtime::connect(&revise_runtime::DatabaseUrl::from_env()?)?;
//! revise_runtime::Migrator::new(&REVISIONS).run(&mut conn)?; // prints the status report
//! ```
//!
//! The same, runnable, with a revision given as text and an in-memory SQLite database:
//!
//! ```
//! use revise_runtime::embedded::{parse_files, EmbeddedFile};
//! use revise_runtime::{Migrator, SilentReport};
//!
//! let files = [EmbeddedFile {
//!     member: "app",
//!     path: "app/migrations/0001_create_notes.sql",
//!     text: "-- Create notes\n-- Revision ID: 0001\n-- Revises:\n\n\
//!            -- revise:up\nCREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n\n\
//!            -- revise:down\nDROP TABLE notes;\n",
//!     checksum: None, // computed from the text; build.rs writes the file's
//! }];
//! let graph = parse_files(&files)?;
//! let mut conn = revise_runtime::connect("sqlite::memory:")?;
//! let migrator = Migrator::new(&graph);
//!
//! let outcome = migrator.run_with(&mut conn, &mut SilentReport)?;
//! assert_eq!(outcome.steps.len(), 1);
//! assert!(migrator.pending(&mut conn)?.is_empty());
//! assert_eq!(migrator.current(&mut conn)?.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! - `sqlite` (default), `postgres`, `mysql`: the backends; each turns on `diesel`.
//! - `diesel`: everything that talks to a database ([`connect`], [`DatabaseConnection`], the
//!   run lock, [`backend::database`], [`diesel_interop`]). Without it the crate is the reader
//!   (parse, graph, plan, embedding, [`Migrator`] over the [`VersionStore`] trait) and
//!   compiles no C library.
//! - `workspace`: reading Cargo workspaces (and the fleets they declare); `build`:
//!   `revise_runtime::build`, for build.rs.
//! - `fleet`: running a fleet, many databases from one command (the module `fleet`).

pub mod backend;
#[cfg(feature = "build")]
pub mod build;
pub mod checksum;
#[cfg(feature = "diesel")]
pub mod diesel_interop;
pub mod embedded;
pub mod failure;
#[cfg(feature = "workspace")]
pub mod fleet;
pub mod graph;
mod id_index;
pub mod migrator;
pub mod offline;
pub mod parse;
pub mod plan;
pub mod rebase;
pub mod report;
pub mod revision;
pub mod run_log;
#[cfg(feature = "schema")]
pub mod schema;
#[cfg(feature = "diesel")]
pub mod snapshot;
pub mod source;
pub mod target;
pub mod version_rows;
#[cfg(feature = "workspace")]
pub mod workspace;

#[cfg(feature = "diesel")]
pub use backend::{connect, DatabaseConnection};
pub use backend::{DatabaseUrl, DbError, VersionStore, VersionTable};
pub use embedded::{EmbeddedFile, EmbeddedRevisions};
pub use failure::{FailedStatement, SqlFailure, TextPosition};
pub use graph::{Node, NodeSet, RevisionGraph};
pub use migrator::{MigrateError, Migrator, Outcome, RevisionSet};
pub use report::{report_errors, PlainReport, Reporter, RunEvent, SilentReport};
pub use revision::{Revision, RevisionId};
pub use target::Target;
