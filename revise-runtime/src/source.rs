//! Where revisions come from: the migrations folders of workspace members.
//!
//! Every file is read and parsed before anything fails, so one run reports every mistake.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::graph::{GraphError, RevisionGraph};
use crate::parse::{parse_revision, ParseError};
use crate::revision::Revision;

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

/// Whether a directory entry is a revision file: `*.sql`, not hidden, not starting with `_`.
pub fn is_revision_file_name(name: &str) -> bool {
    name.ends_with(".sql") && !name.starts_with('.') && !name.starts_with('_')
}

/// The revision files of one folder, sorted by name. Sub-folders are not searched, so a
/// symlink loop cannot trap the walk.
pub fn revision_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let io = |path: &Path, e: std::io::Error| LoadError::Io {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let mut files: Vec<(std::ffi::OsString, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let entry = entry.map_err(|e| io(dir, e))?;
        let name = entry.file_name();
        let Some(text) = name.to_str() else { continue };
        if !is_revision_file_name(text) {
            continue;
        }
        // The entry's type comes with the directory listing; only a symlink needs a stat.
        let is_dir = match entry.file_type() {
            Ok(kind) if kind.is_symlink() => entry.path().is_dir(),
            Ok(kind) => kind.is_dir(),
            Err(_) => false,
        };
        if !is_dir {
            let path = entry.path();
            files.push((name, path));
        }
    }
    // Byte order of the names: cheaper than comparing paths component by component.
    files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(files.into_iter().map(|(_, path)| path).collect())
}

/// Reads a whole file into the front of `buffer` with plain reads and returns its length.
/// `std::fs::read` asks the file's size first, one more system call per revision, which is
/// measurable at 10,000 files; a read that does not fill the buffer is the end of a regular
/// file, which saves the final empty read. The buffer keeps its (zeroed) length between files
/// and only grows for a file larger than any before.
fn read_into(path: &Path, buffer: &mut Vec<u8>) -> std::io::Result<usize> {
    use std::io::Read;
    if buffer.len() < 64 * 1024 {
        buffer.resize(64 * 1024, 0);
    }
    let mut file = std::fs::File::open(path)?;
    let mut filled = 0;
    loop {
        match file.read(&mut buffer[filled..]) {
            Ok(n) => {
                filled += n;
                if filled < buffer.len() {
                    return Ok(filled);
                }
                let doubled = buffer.len() * 2;
                buffer.resize(doubled, 0);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads and parses every revision file of `members`, showing paths relative to `root`.
pub fn read_members(members: &[MemberFolder], root: &Path) -> Result<Vec<Revision>, LoadErrors> {
    let mut errors = Vec::new();
    let mut listed = Vec::with_capacity(members.len());
    for member in members {
        match revision_files(&member.dir) {
            Ok(files) => listed.push((member, files)),
            Err(e) => errors.push(e),
        }
    }
    // Sized once: growing by doubling would copy every revision and leave slack, which is
    // most of the peak memory at 10,000 revisions.
    let mut revisions = Vec::with_capacity(listed.iter().map(|(_, files)| files.len()).sum());
    let mut buffer = Vec::new();
    for (member, files) in listed {
        for file in files {
            let shown = file.strip_prefix(root).unwrap_or(&file).to_owned();
            match read_into(&file, &mut buffer) {
                Ok(length) => match parse_revision(&shown, &member.label, &buffer[..length]) {
                    Ok(rev) => revisions.push(rev),
                    Err(e) => errors.push(e.into()),
                },
                Err(e) => errors.push(LoadError::Io {
                    path: shown,
                    message: e.to_string(),
                }),
            }
        }
    }
    if errors.is_empty() {
        Ok(revisions)
    } else {
        Err(LoadErrors(errors))
    }
}

/// Reads every member's folder and builds the validated graph.
pub fn load_graph(members: &[MemberFolder], root: &Path) -> Result<RevisionGraph, LoadErrors> {
    let revisions = read_members(members, root)?;
    Ok(RevisionGraph::build(revisions)?)
}
