//! Where revisions come from: the migrations folders of workspace members.
//!
//! Every file is read and parsed before anything fails, so one run reports every mistake.

use std::fmt;
use std::path::{Path, PathBuf};

mod folder;

use crate::graph::{GraphError, RevisionGraph};
use crate::parse::{parse_revision, parse_revision_without_sql, ParseError};
use crate::revision::Revision;
use folder::Folder;

/// A member's migrations folder and the label its revisions carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberFolder {
    /// The member's branch label (its package name unless configured).
    pub label: String,
    /// The folder, absolute.
    pub dir: PathBuf,
}

/// One reason the revisions could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// A file or folder could not be read.
    #[error("cannot read {}: {message}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's reason.
        message: String,
    },
    /// A file is not a valid revision.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The files do not form a valid graph.
    #[error(transparent)]
    Graph(#[from] GraphError),
}

impl LoadError {
    /// The file the problem is in.
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. } => path,
            Self::Parse(e) => &e.path,
            Self::Graph(e) => &e.path,
        }
    }

    /// The line, when the problem is on one.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Io { .. } => None,
            Self::Parse(e) => Some(e.line),
            Self::Graph(e) => Some(e.line),
        }
    }
}

/// Every problem found while loading, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadErrors(pub Vec<LoadError>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

impl From<Vec<GraphError>> for LoadErrors {
    fn from(errors: Vec<GraphError>) -> Self {
        Self(errors.into_iter().map(LoadError::Graph).collect())
    }
}

pub use folder::is_revision_file_name;

/// The revision files of one folder, sorted by name. Sub-folders are not searched, so a
/// symlink loop cannot trap the walk.
pub fn revision_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let names = Folder::open(dir)
        .and_then(|folder| folder.revision_names())
        .map_err(|e| io_error(dir, &e))?;
    Ok(names.into_iter().map(|name| dir.join(name)).collect())
}

fn io_error(path: &Path, e: &std::io::Error) -> LoadError {
    LoadError::Io {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// One member's folder, opened and listed.
struct Listed<'a> {
    member: &'a MemberFolder,
    folder: Folder,
    /// The folder as shown to users (relative to the workspace root when inside it).
    shown: PathBuf,
    names: Vec<String>,
}

/// One file to read: the member's listing and the file's name in it.
type Job<'a> = (&'a Listed<'a>, &'a str);

/// Below this many files one thread reads them all: starting threads costs more than it saves.
const FILES_PER_THREAD: usize = 512;

/// At most this many threads read files. Opening and reading is kernel work that scales with
/// cores, but a few threads already hide most of it.
const MAX_THREADS: usize = 4;

/// Reads and parses every revision file of `members`, showing paths relative to `root`.
///
/// Every file is read and parsed before anything fails, so one run reports every mistake, in
/// file order. Large folders are read by a few threads, each taking a contiguous share of the
/// files, so the result keeps the order of a single-threaded read.
pub fn read_members(members: &[MemberFolder], root: &Path) -> Result<Vec<Revision>, LoadErrors> {
    read_members_keeping(members, root, Keep::Everything)
}

/// What to keep of each revision file once it is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// The whole revision, SQL included.
    Everything,
    /// Everything but the SQL (left empty): enough for commands that only read the graph.
    Headers,
}

/// [`read_members`], keeping only what `keep` says.
pub fn read_members_keeping(
    members: &[MemberFolder],
    root: &Path,
    keep: Keep,
) -> Result<Vec<Revision>, LoadErrors> {
    let mut errors = Vec::new();
    let mut listed = Vec::with_capacity(members.len());
    for member in members {
        let opened = Folder::open(&member.dir)
            .and_then(|folder| folder.revision_names().map(|names| (folder, names)));
        match opened {
            Ok((folder, names)) => listed.push(Listed {
                member,
                folder,
                shown: member
                    .dir
                    .strip_prefix(root)
                    .unwrap_or(&member.dir)
                    .to_owned(),
                names,
            }),
            Err(e) => errors.push(io_error(&member.dir, &e)),
        }
    }
    let jobs: Vec<Job<'_>> = listed
        .iter()
        .flat_map(|listing| {
            listing
                .names
                .iter()
                .map(move |name| (listing, name.as_str()))
        })
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(MAX_THREADS)
        .min(jobs.len() / FILES_PER_THREAD)
        .max(1);
    let share = jobs.len().div_ceil(threads).max(1);
    let shares: Vec<(Vec<Revision>, Vec<LoadError>)> = if threads == 1 {
        vec![read_files(&jobs, keep)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = jobs
                .chunks(share)
                .map(|chunk| scope.spawn(move || read_files(chunk, keep)))
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    };
    // The first share's vector grows to hold the others. The revisions are the largest
    // allocation of a run (about 3 MB at 10,000); growing one vector lets the allocator
    // extend it in place instead of holding a second copy while moving them.
    let mut revisions = Vec::new();
    for (index, (share, failures)) in shares.into_iter().enumerate() {
        if index == 0 {
            revisions = share;
        } else {
            revisions.extend(share);
        }
        errors.extend(failures);
    }
    if errors.is_empty() {
        Ok(revisions)
    } else {
        Err(LoadErrors(errors))
    }
}

/// Reads and parses one share of the files, in order, with one buffer for all of them.
fn read_files(jobs: &[Job<'_>], keep: Keep) -> (Vec<Revision>, Vec<LoadError>) {
    let parse = match keep {
        Keep::Everything => parse_revision,
        Keep::Headers => parse_revision_without_sql,
    };
    let mut buffer = Vec::new();
    // Sized once: growing by doubling would copy every revision and leave slack.
    let mut revisions = Vec::with_capacity(jobs.len());
    let mut failures = Vec::new();
    for &(listing, name) in jobs {
        let shown = listing.shown.join(name);
        let parsed = match listing.folder.read(name, &mut buffer) {
            Ok(length) => {
                parse(&shown, &listing.member.label, &buffer[..length]).map_err(LoadError::from)
            }
            Err(e) => Err(io_error(&shown, &e)),
        };
        match parsed {
            Ok(revision) => revisions.push(revision),
            Err(e) => failures.push(e),
        }
    }
    (revisions, failures)
}

/// Reads every member's folder and builds the validated graph.
pub fn load_graph(members: &[MemberFolder], root: &Path) -> Result<RevisionGraph, LoadErrors> {
    load_graph_keeping(members, root, Keep::Everything)
}

/// [`load_graph`], keeping only what `keep` says of each revision.
pub fn load_graph_keeping(
    members: &[MemberFolder],
    root: &Path,
    keep: Keep,
) -> Result<RevisionGraph, LoadErrors> {
    let revisions = read_members_keeping(members, root, keep)?;
    Ok(RevisionGraph::build(revisions)?)
}
