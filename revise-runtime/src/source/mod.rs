//! Where revisions come from: the migrations folders of workspace members.
//!
//! Every file is read and parsed before anything fails, so one run reports every mistake.

use std::fmt;
use std::path::{Path, PathBuf};

mod cache;
mod folder;
mod reader;

use crate::graph::{GraphError, RevisionGraph};
use crate::parse::ParseError;
use crate::revision::Revision;
use folder::Folder;
use reader::{read_with, CacheUse};

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
    read_with(members, root, keep, None)
}

/// Reads every member's folder and builds the validated graph.
pub fn load_graph(members: &[MemberFolder], root: &Path) -> Result<RevisionGraph, LoadErrors> {
    load_graph_keeping(members, root, Keep::Everything)
}

/// [`load_graph`] without the SQL ([`Keep::Headers`]), taking unchanged files' headers from
/// the cache file at `cache` and rewriting it when files changed (see `cache.rs`).
pub fn load_graph_cached(
    members: &[MemberFolder],
    root: &Path,
    cache: &Path,
) -> Result<RevisionGraph, LoadErrors> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        });
    let cache_use = CacheUse { path: cache, now };
    let revisions = read_with(members, root, Keep::Headers, Some(cache_use))?;
    Ok(RevisionGraph::build(revisions)?)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn revision_text(id: &str, message: &str) -> String {
        format!("-- {message}\n-- Revision ID: {id}\n-- revise:up\nSELECT 1;\n")
    }

    /// A member `m` with files `a.sql` and `b.sql`, and where its cache goes.
    fn member() -> (tempfile::TempDir, Vec<MemberFolder>, PathBuf) {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("m/migrations");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("a.sql"), revision_text("a", "first")).expect("write");
        let b = "-- second\n-- Revision ID: b\n-- Revises: a\n-- revise:up\nSELECT 2;\n";
        std::fs::write(dir.join("b.sql"), b).expect("write");
        let members = vec![MemberFolder {
            label: "m".to_owned(),
            dir,
        }];
        let cache = root.path().join("target/revise/headers");
        (root, members, cache)
    }

    /// Reads with the cache, as if every file had been left alone for a minute.
    fn try_read_cached(
        root: &Path,
        members: &[MemberFolder],
        cache: &Path,
    ) -> Result<Vec<Revision>, LoadErrors> {
        let now = i64::MAX / 2;
        read_with(
            members,
            root,
            Keep::Headers,
            Some(CacheUse { path: cache, now }),
        )
    }

    fn read_cached(root: &Path, members: &[MemberFolder], cache: &Path) -> Vec<Revision> {
        try_read_cached(root, members, cache).expect("valid revisions")
    }

    /// Replaces the first `from` in the cache file by `to`, of the same length, as a
    /// hand-edited cache would: proof of what is taken from the cache.
    fn edit_cache(cache: &Path, from: &[u8], to: &[u8]) {
        let mut bytes = std::fs::read(cache).expect("cache");
        let at = bytes
            .windows(from.len())
            .position(|w| w == from)
            .expect("the text is cached");
        bytes[at..at + to.len()].copy_from_slice(to);
        std::fs::write(cache, &bytes).expect("write");
    }

    fn messages(revisions: &[Revision]) -> Vec<&str> {
        revisions.iter().map(|r| &*r.message).collect()
    }

    #[test]
    fn cached_headers_equal_parsed_ones_and_are_used_while_files_are_unchanged() {
        let (root, members, cache) = member();
        let first = read_cached(root.path(), &members, &cache);
        assert!(cache.exists(), "the first read writes the cache");
        let uncached = read_members_keeping(&members, root.path(), Keep::Headers).expect("ok");
        assert_eq!(first, uncached);
        assert_eq!(read_cached(root.path(), &members, &cache), uncached);

        // Proof that the second read came from the cache: a record changed in the cache
        // (same length) shows, while the file is untouched.
        edit_cache(&cache, b"first", b"FIRST");
        assert_eq!(
            messages(&read_cached(root.path(), &members, &cache)),
            ["FIRST", "second"]
        );

        // Any write to the file changes its stamp: the file is read again.
        let dir = &members[0].dir;
        std::fs::write(dir.join("a.sql"), revision_text("a", "first, edited")).expect("write");
        assert_eq!(
            messages(&read_cached(root.path(), &members, &cache)),
            ["first, edited", "second"]
        );
    }

    #[test]
    fn a_rewritten_cache_keeps_the_entries_of_unchanged_files() {
        let (root, members, cache) = member();
        read_cached(root.path(), &members, &cache);
        // b's entry is marked; a changes, so the cache is written again, taking b's stamp
        // from its old entry (b was not read).
        edit_cache(&cache, b"second", b"SECOND");
        let dir = &members[0].dir;
        std::fs::write(dir.join("a.sql"), revision_text("a", "first, edited")).expect("write");
        assert_eq!(
            messages(&read_cached(root.path(), &members, &cache)),
            ["first, edited", "SECOND"]
        );
        edit_cache(&cache, b"first, edited", b"FIRST, EDITED");
        assert_eq!(
            messages(&read_cached(root.path(), &members, &cache)),
            ["FIRST, EDITED", "SECOND"],
            "both entries of the rewritten cache are used"
        );
    }

    /// Lets the file system's clock tick, so that the next change to a folder gives it a
    /// new stamp. In use, a folder's listing is only cached two seconds after its last
    /// change; the tests' `now` far in the future skips that wait.
    fn let_the_clock_tick() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    /// The folder's cached listing, if the cache has one for the folder as it is.
    fn cached_listing(members: &[MemberFolder], cache: &Path) -> Option<Vec<String>> {
        let stamp = folder::Folder::open(&members[0].dir)
            .expect("open")
            .own_stamp()?;
        let cache = cache::HeaderCache::read(cache)?;
        let entries = cache.folder(&members[0].dir, &members[0].label)?;
        let names = entries.listing(&stamp)?;
        Some(names.into_iter().map(str::to_owned).collect())
    }

    #[test]
    fn an_unchanged_folder_is_not_listed_again() {
        let (root, members, cache) = member();
        read_cached(root.path(), &members, &cache);
        assert_eq!(
            cached_listing(&members, &cache),
            Some(vec!["a.sql".to_owned(), "b.sql".to_owned()])
        );

        // Proof that the listing comes from the cache: a name changed in the cache (same
        // length, same order) is asked for, and is not there.
        edit_cache(&cache, b"b.sql", b"x.sql");
        let errors =
            try_read_cached(root.path(), &members, &cache).expect_err("x.sql is not in the folder");
        assert!(errors.to_string().contains("x.sql"), "{errors}");

        // Any entry added to the folder (even one that is not a revision) changes its
        // stamp: the folder is listed again.
        let_the_clock_tick();
        std::fs::write(members[0].dir.join("notes.txt"), "x").expect("write");
        assert_eq!(
            messages(&read_cached(root.path(), &members, &cache)),
            ["first", "second"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_with_symlinks_is_always_listed() {
        let (root, members, cache) = member();
        let target = root.path().join("c.sql");
        std::fs::write(&target, revision_text("c", "third")).expect("write");
        std::os::unix::fs::symlink(&target, members[0].dir.join("c.sql")).expect("symlink");
        read_cached(root.path(), &members, &cache);
        assert_eq!(cached_listing(&members, &cache), None);
    }

    #[test]
    fn added_removed_and_broken_files_are_seen_through_the_cache() {
        let (root, members, cache) = member();
        read_cached(root.path(), &members, &cache);
        let_the_clock_tick();
        let dir = &members[0].dir;
        std::fs::write(dir.join("c.sql"), revision_text("c", "third")).expect("write");
        std::fs::remove_file(dir.join("b.sql")).expect("remove");
        let now = read_cached(root.path(), &members, &cache);
        assert_eq!(messages(&now), ["first", "third"]);

        std::fs::write(dir.join("c.sql"), "-- third\n-- Revision ID: c\n").expect("write");
        let errors =
            try_read_cached(root.path(), &members, &cache).expect_err("c.sql has no up marker");
        assert_eq!(errors.0.len(), 1);
        assert!(errors.0[0].to_string().contains("c.sql"), "{}", errors);
    }

    #[test]
    fn files_changed_in_the_last_seconds_are_not_cached() {
        let (root, members, cache) = member();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        let now = i64::try_from(now).expect("fits");
        let cache_use = CacheUse { path: &cache, now };
        read_with(&members, root.path(), Keep::Headers, Some(cache_use)).expect("valid");
        let bytes = std::fs::read(&cache).expect("the cache is written");
        assert!(
            !bytes.windows(5).any(|w| w == b"a.sql"),
            "a file written just now is not cached"
        );
        assert_eq!(
            cached_listing(&members, &cache),
            None,
            "nor a folder changed just now"
        );
    }

    #[test]
    fn a_damaged_cache_is_ignored_and_replaced() {
        let (root, members, cache) = member();
        std::fs::create_dir_all(cache.parent().expect("parent")).expect("mkdir");
        std::fs::write(&cache, b"revise header cache 1 but damaged").expect("write");
        let revisions = read_cached(root.path(), &members, &cache);
        assert_eq!(messages(&revisions), ["first", "second"]);
        assert!(cache::HeaderCache::read(&cache).is_some(), "rewritten");
    }
}
