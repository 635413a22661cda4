//! Revisions compiled into an application: what `build.rs` embedding produces and
//! [`include_revisions!`](crate::include_revisions) brings in.
//!
//! The files travel as text and are parsed by the same parser as the CLI's on first use; they
//! were already validated when the application was built.

use std::ops::Deref;
use std::path::Path;
use std::sync::OnceLock;

use crate::checksum::Checksum;
use crate::graph::RevisionGraph;
use crate::parse::parse_revision;
use crate::source::{LoadError, LoadErrors};

/// One embedded revision file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmbeddedFile {
    /// The branch label of its member.
    pub member: &'static str,
    /// Its path relative to the workspace root, for messages.
    pub path: &'static str,
    /// Its text.
    pub text: &'static str,
    /// The file's [`Checksum`] as 64 hexadecimal digits, computed by `build.rs` from the file
    /// it read (what the run log records when the revision runs); `None` computes it from
    /// `text` when the graph is first used.
    pub checksum: Option<&'static str>,
}

/// The workspace's settings as `build.rs` read them from `[workspace.metadata.revise]`, so
/// that an application's [`Migrator`](crate::Migrator) uses the tables `cargo revise` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmbeddedSettings {
    /// `version_table`.
    pub version_table: &'static str,
    /// `version_table_schema` (PostgreSQL).
    pub version_table_schema: Option<&'static str>,
    /// `log_table`; `None` when it is `false`.
    pub log_table: Option<&'static str>,
}

impl EmbeddedSettings {
    /// The defaults: `alembic_version`, no schema, the run log in `revise_log`.
    pub const DEFAULT: Self = Self {
        version_table: "alembic_version",
        version_table_schema: None,
        log_table: Some(crate::run_log::LogTable::DEFAULT_NAME),
    };
}

impl Default for EmbeddedSettings {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The revisions embedded by `build.rs`; dereferences to the validated [`RevisionGraph`].
#[derive(Debug)]
pub struct EmbeddedRevisions {
    files: &'static [EmbeddedFile],
    settings: EmbeddedSettings,
    graph: OnceLock<Result<RevisionGraph, LoadErrors>>,
}

impl EmbeddedRevisions {
    /// Wraps the files, with the default settings.
    pub const fn new(files: &'static [EmbeddedFile]) -> Self {
        Self::with_settings(files, EmbeddedSettings::DEFAULT)
    }

    /// Wraps the files with the workspace's settings (what the generated code calls).
    pub const fn with_settings(files: &'static [EmbeddedFile], settings: EmbeddedSettings) -> Self {
        Self {
            files,
            settings,
            graph: OnceLock::new(),
        }
    }

    /// The workspace's settings that `build.rs` embedded.
    pub fn settings(&self) -> &EmbeddedSettings {
        &self.settings
    }

    /// The embedded files, in load order.
    pub fn files(&self) -> &'static [EmbeddedFile] {
        self.files
    }

    /// The graph, parsed on first use.
    pub fn graph(&self) -> Result<&RevisionGraph, &LoadErrors> {
        self.graph.get_or_init(|| parse_files(self.files)).as_ref()
    }
}

impl Deref for EmbeddedRevisions {
    type Target = RevisionGraph;

    /// # Panics
    /// Only if the files differ from what `build.rs` validated, which cannot happen unless
    /// the generated code was edited by hand.
    fn deref(&self) -> &RevisionGraph {
        match self.graph() {
            Ok(graph) => graph,
            Err(errors) => {
                panic!("embedded revisions are invalid although build.rs checked them:\n{errors}")
            }
        }
    }
}

/// Parses embedded files into a graph, collecting every error.
pub fn parse_files(files: &[EmbeddedFile]) -> Result<RevisionGraph, LoadErrors> {
    let mut revisions = Vec::with_capacity(files.len());
    let mut errors = Vec::new();
    for file in files {
        match parse_revision(Path::new(file.path), file.member, file.text.as_bytes()) {
            Ok(mut revision) => {
                if let Some(built) = file.checksum.and_then(|hex| Checksum::from_hex(hex).ok()) {
                    revision.checksum = built;
                }
                revisions.push(revision);
            }
            Err(e) => errors.push(LoadError::Parse(e)),
        }
    }
    if !errors.is_empty() {
        return Err(LoadErrors(errors));
    }
    Ok(RevisionGraph::build(revisions)?)
}

/// Declares `static REVISIONS: EmbeddedRevisions` (or a name of your choice) from what
/// `revise_runtime::build` wrote into `OUT_DIR`.
///
/// ```ignore
/// revise_runtime::include_revisions!();
/// // or: revise_runtime::include_revisions!(MIGRATIONS);
/// ```
#[macro_export]
macro_rules! include_revisions {
    () => {
        $crate::include_revisions!(REVISIONS);
    };
    ($name:ident) => {
        static $name: $crate::embedded::EmbeddedRevisions =
            include!(concat!(env!("OUT_DIR"), "/revise_revisions.rs"));
    };
}
