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
//! An application embeds its workspace's revisions with `build.rs` (feature `build`):
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

pub mod backend;
#[cfg(feature = "build")]
pub mod build;
pub mod diesel_interop;
pub mod embedded;
#[cfg(feature = "workspace")]
pub mod fleet;
pub mod graph;
mod id_index;
pub mod migrator;
pub mod offline;
pub mod parse;
pub mod plan;
pub mod report;
pub mod revision;
#[cfg(feature = "schema")]
pub mod schema;
pub mod source;
pub mod target;
pub mod version_rows;
#[cfg(feature = "workspace")]
pub mod workspace;

pub use backend::{connect, DatabaseConnection, DatabaseUrl, DbError, VersionStore, VersionTable};
pub use embedded::{EmbeddedFile, EmbeddedRevisions};
pub use graph::{Node, NodeSet, RevisionGraph};
pub use migrator::{MigrateError, Migrator, Outcome};
pub use report::{report_errors, PlainReport, Reporter, RunEvent, SilentReport};
pub use revision::{Revision, RevisionId};
pub use target::Target;
