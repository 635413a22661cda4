//! `revise-runtime`: Alembic's migration model for Rust.
//!
//! Revision files (SQL with a small header) name their parents and so form a graph; the
//! database records the revisions it stands at in Alembic's own `alembic_version` table.
//! This crate parses the files ([`parse`]), validates the graph ([`graph`]), resolves
//! targets ([`target`]), plans steps ([`plan`]) with Alembic's version-row rules
//! ([`version_rows`]), and applies them on a database ([`backend`], [`migrator`]) while
//! reporting progress ([`report`]). The `cargo revise` command is a thin layer over it.

pub mod backend;
#[cfg(feature = "build")]
pub mod build;
pub mod diesel_interop;
pub mod embedded;
pub mod graph;
pub mod migrator;
pub mod offline;
pub mod parse;
pub mod plan;
pub mod report;
pub mod revision;
pub mod source;
pub mod target;
pub mod version_rows;
#[cfg(feature = "workspace")]
pub mod workspace;

pub use backend::{connect, DatabaseConnection, DatabaseUrl, DbError, VersionStore, VersionTable};
pub use embedded::{EmbeddedFile, EmbeddedRevisions};
pub use graph::{Node, NodeSet, RevisionGraph};
pub use migrator::{MigrateError, Migrator, Outcome};
pub use report::{PlainReport, Reporter, RunEvent, SilentReport};
pub use revision::{Revision, RevisionId};
pub use target::Target;
