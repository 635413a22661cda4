//! Fleets: many databases migrated by one command (SPEC section 11).
//!
//! A fleet is a named list of databases declared in the workspace manifest
//! (`[workspace.metadata.revise.fleet.NAME]`). The declarations are part of every workspace
//! (feature `workspace`); everything that runs fleets needs the feature `fleet`. This module turns declarations into entries and
//! runs one operation over them; the work on each database is the ordinary [`Migrator`],
//! whose events the scheduler only tags with the entry they belong to.
//!
//! - `declaration.rs`: the manifest's tables, checked (one source, no literal passwords);
//! - `secret.rs`: `env:NAME` values, from the environment, then the env file;
//! - `entry.rs`: [`FleetEntry`], a database to run on, and its checked id;
//! - `source.rs` and `catalog.rs`: the six sources that list a fleet's databases;
//! - `select.rs`: `--db` patterns, `--partition hash:K/N` and `--retry`;
//! - `graphs.rs`: the revision graph each entry runs (its `packages`, or all members);
//! - `work.rs`: one database's run, from connecting to its [`DbRecord`];
//! - `scheduler.rs`: worker threads over one queue, per-host limits, the canary, failure
//!   policies, and the stop signal (Ctrl-C);
//! - `outcome.rs`: statuses, records and the summary document (`--format json`, the summary
//!   file `--retry` reads).
//!
//! [`Migrator`]: crate::Migrator

// The declarations are read with every workspace (an application's build.rs reads the
// same manifest); running fleets needs the `fleet` feature.
#[cfg(feature = "fleet")]
mod catalog;
mod declaration;
#[cfg(feature = "fleet")]
mod entry;
#[cfg(feature = "fleet")]
mod graphs;
#[cfg(feature = "fleet")]
mod outcome;
#[cfg(feature = "fleet")]
mod scheduler;
#[cfg(feature = "fleet")]
mod secret;
#[cfg(feature = "fleet")]
mod select;
#[cfg(feature = "fleet")]
mod source;
#[cfg(feature = "fleet")]
mod work;

use std::path::PathBuf;

pub use declaration::{EntryDeclaration, FleetDeclaration};
#[cfg(feature = "fleet")]
pub use entry::{check_id, FleetEntry};
#[cfg(feature = "fleet")]
pub use graphs::FleetGraphs;
#[cfg(feature = "fleet")]
pub use outcome::{
    now_rfc3339, AppliedRevision, DbFailure, DbRecord, DbStatus, FleetSummary, Totals,
};
#[cfg(feature = "fleet")]
pub use scheduler::{FleetObserver, FleetRun, Schedule, StopReason, StopSignal};
#[cfg(feature = "fleet")]
pub use secret::Secrets;
#[cfg(feature = "fleet")]
pub use select::{read_summary, Partition, Selection};
#[cfg(feature = "fleet")]
pub use source::{resolve_fleets, Resolver};
#[cfg(feature = "fleet")]
pub use work::{DatabaseWork, Operation};

/// Why a fleet cannot be listed or run. Everything but [`FleetError::Catalog`] is bad input,
/// found before any database is touched.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// `--fleet NAME` names no declared fleet.
    #[error("no fleet named `{name}` is declared in [workspace.metadata.revise.fleet]; declared: {}", if declared.is_empty() { "none".to_owned() } else { declared.join(", ") })]
    UnknownFleet {
        /// The name asked for.
        name: String,
        /// The fleets the manifest declares.
        declared: Vec<String>,
    },
    /// A declaration is malformed.
    #[error("fleet `{fleet}`: {message}")]
    Declaration {
        /// The fleet.
        fleet: String,
        /// What is wrong.
        message: String,
    },
    /// An `env:NAME` value names a variable that is set nowhere.
    #[error("fleet `{fleet}`: `{key}` is `env:{name}`, but {name} is set neither in the environment nor in {}", env_file.as_ref().map_or_else(|| "an env file".to_owned(), |p| p.display().to_string()))]
    MissingVariable {
        /// The fleet.
        fleet: String,
        /// The key whose value it is.
        key: String,
        /// The variable.
        name: String,
        /// The env file read.
        env_file: Option<PathBuf>,
    },
    /// Two entries of a run share an id.
    #[error("the id `{id}` appears twice (in fleet `{first}` and in fleet `{second}`); ids must be unique in a run")]
    DuplicateId {
        /// The id.
        id: String,
        /// The fleet of its first entry.
        first: String,
        /// The fleet of the second.
        second: String,
    },
    /// A fleet file (`file = "..."`) or a `--retry` summary cannot be read.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An entry's `packages` lead out of its members, or name no member.
    #[error("fleet `{fleet}`, entry `{id}`: {message}")]
    Packages {
        /// The fleet.
        fleet: String,
        /// The entry.
        id: String,
        /// What is wrong.
        message: String,
    },
    /// A `sql` fleet's catalog could not be queried: nothing ran (exit 1, not bad input).
    #[error("fleet `{fleet}`: cannot list its databases: {message}")]
    Catalog {
        /// The fleet.
        fleet: String,
        /// The database's message, without any password.
        message: String,
    },
}

impl FleetError {
    /// True for bad input (exit 2); false when a catalog database failed (exit 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, Self::Catalog { .. })
    }
}
