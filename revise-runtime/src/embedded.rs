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

/// The revisions embedded by `build.rs`; dereferences to the validated [`RevisionGraph`].
#[derive(Debug)]
pub struct EmbeddedRevisions {
    files: &'static [EmbeddedFile],
    graph: OnceLock<Result<RevisionGraph, LoadErrors>>,
}

impl EmbeddedRevisions {
    /// Wraps the files (used by the generated code).
    pub const fn new(files: &'static [EmbeddedFile]) -> Self {
        Self {
            files,
            graph: OnceLock::new(),
        }
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
