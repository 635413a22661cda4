//! Where revisions come from: the migrations folders of workspace members.
//!
//! Every file is read and parsed before anything fails, so one run reports every mistake.

use std::fmt;
use std::path::{Path, PathBuf};

mod cache;
mod folder;

use crate::graph::{GraphError, RevisionGraph};
use crate::parse::{parse_revision, parse_revision_without_sql, ParseError};
use crate::revision::Revision;
use cache::{FolderEntries, FolderToWrite, HeaderCache};
use folder::{FileStamp, Folder};

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

/// One member's folder, opened and listed, with its entries in the header cache.
struct Listed<'a> {
    member: &'a MemberFolder,
    folder: Folder,
    /// The folder as shown to users (relative to the workspace root when inside it).
    shown: PathBuf,
    names: Vec<String>,
    cached: Option<FolderEntries<'a>>,
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
    read_with(members, root, keep, None)
}

/// A header cache to use: its file, and the time that decides which files have settled.
#[derive(Clone, Copy, Debug)]
struct CacheUse<'a> {
    path: &'a Path,
    now: i64,
}

fn read_with(
    members: &[MemberFolder],
    root: &Path,
    keep: Keep,
    cache_use: Option<CacheUse<'_>>,
) -> Result<Vec<Revision>, LoadErrors> {
    let cache = cache_use.and_then(|c| HeaderCache::read(c.path));
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
                cached: cache
                    .as_ref()
                    .and_then(|c| c.folder(&member.dir, &member.label)),
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
    let stamped = cache_use.is_some();
    let shares: Vec<Share> = if threads == 1 {
        vec![read_files(&jobs, keep, stamped)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = jobs
                .chunks(share)
                .map(|chunk| scope.spawn(move || read_files(chunk, keep, stamped)))
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
    let mut stamps = Vec::new();
    let mut hits = 0;
    for (index, share) in shares.into_iter().enumerate() {
        if index == 0 {
            revisions = share.revisions;
        } else {
            revisions.extend(share.revisions);
        }
        stamps.extend(share.stamps);
        hits += share.hits;
        errors.extend(share.failures);
    }
    if !errors.is_empty() {
        return Err(LoadErrors(errors));
    }
    if let Some(cache_use) = cache_use {
        let unchanged = hits == jobs.len() && cache.as_ref().map(HeaderCache::len) == Some(hits);
        // Without stamps (a platform that has none) there is nothing worth writing.
        let stamped = stamps.iter().any(Option::is_some);
        if !unchanged && stamped {
            // Best effort: a cache that cannot be written only means reading files next time.
            let _ = write_cache(cache_use, &listed, &revisions, &stamps);
        }
    }
    Ok(revisions)
}

/// Writes the settled files of every folder to the cache. `revisions` and `stamps` are in
/// the order of the listings' names (nothing failed).
fn write_cache(
    cache_use: CacheUse<'_>,
    listed: &[Listed<'_>],
    revisions: &[Revision],
    stamps: &[Option<FileStamp>],
) -> std::io::Result<()> {
    let mut start = 0;
    let mut folders = Vec::with_capacity(listed.len());
    for listing in listed {
        let end = start + listing.names.len();
        let files = listing
            .names
            .iter()
            .zip(&revisions[start..end])
            .zip(&stamps[start..end])
            .filter_map(|((name, revision), stamp)| {
                let stamp = (*stamp)?;
                cache::settled(&stamp, cache_use.now).then_some((name.as_str(), stamp, revision))
            })
            .collect();
        folders.push(FolderToWrite {
            dir: &listing.member.dir,
            label: &listing.member.label,
            files,
        });
        start = end;
    }
    cache::write(cache_use.path, &folders)
}

/// What one thread read: revisions in file order, their stamps (when asked), the failures,
/// and how many came from the cache.
struct Share {
    revisions: Vec<Revision>,
    stamps: Vec<Option<FileStamp>>,
    failures: Vec<LoadError>,
    hits: usize,
}

/// Reads and parses one share of the files, in order, with one buffer for all of them. With
/// `stamped`, a file whose stamp the folder's cache entries know is taken from the cache.
fn read_files(jobs: &[Job<'_>], keep: Keep, stamped: bool) -> Share {
    let parse = match keep {
        Keep::Everything => parse_revision,
        Keep::Headers => parse_revision_without_sql,
    };
    let mut buffer = Vec::new();
    // Sized once: growing by doubling would copy every revision and leave slack.
    let mut share = Share {
        revisions: Vec::with_capacity(jobs.len()),
        stamps: Vec::with_capacity(if stamped { jobs.len() } else { 0 }),
        failures: Vec::new(),
        hits: 0,
    };
    let mut next_entry = 0;
    for (index, &(listing, name)) in jobs.iter().enumerate() {
        let shown = listing.shown.join(name);
        let label = &listing.member.label;
        if index > 0 && !std::ptr::eq(jobs[index - 1].0, listing) {
            next_entry = 0;
        }
        if let Some(cached) = &listing.cached {
            if let Ok(stamp) = listing.folder.stamp(name) {
                if let Some(revision) =
                    cached.revision(name, &stamp, &shown, label, &mut next_entry)
                {
                    share.revisions.push(revision);
                    share.stamps.push(Some(stamp));
                    share.hits += 1;
                    continue;
                }
            }
        }
        let read = if stamped {
            listing.folder.read_stamped(name, &mut buffer)
        } else {
            listing.folder.read(name, &mut buffer).map(|n| (n, None))
        };
        let parsed = match read {
            Ok((length, stamp)) => parse(&shown, label, &buffer[..length])
                .map(|revision| (revision, stamp))
                .map_err(LoadError::from),
            Err(e) => Err(io_error(&shown, &e)),
        };
        match parsed {
            Ok((revision, stamp)) => {
                share.revisions.push(revision);
                if stamped {
                    share.stamps.push(stamp);
                }
            }
            Err(e) => share.failures.push(e),
        }
    }
    share
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
    fn read_cached(root: &Path, members: &[MemberFolder], cache: &Path) -> Vec<Revision> {
        let now = i64::MAX / 2;
        read_with(
            members,
            root,
            Keep::Headers,
            Some(CacheUse { path: cache, now }),
        )
        .expect("valid revisions")
    }

    fn messages(revisions: &[Revision]) -> Vec<&str> {
        revisions.iter().map(|r| r.message.as_str()).collect()
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
        let bytes = std::fs::read(&cache).expect("cache");
        let at = bytes
            .windows(5)
            .position(|w| w == b"first")
            .expect("the message is cached");
        let mut edited = bytes.clone();
        edited[at..at + 5].copy_from_slice(b"FIRST");
        std::fs::write(&cache, &edited).expect("write");
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
    fn added_removed_and_broken_files_are_seen_through_the_cache() {
        let (root, members, cache) = member();
        read_cached(root.path(), &members, &cache);
        let dir = &members[0].dir;
        std::fs::write(dir.join("c.sql"), revision_text("c", "third")).expect("write");
        std::fs::remove_file(dir.join("b.sql")).expect("remove");
        let now = read_cached(root.path(), &members, &cache);
        assert_eq!(messages(&now), ["first", "third"]);

        std::fs::write(dir.join("c.sql"), "-- third\n-- Revision ID: c\n").expect("write");
        let errors = read_with(
            &members,
            root.path(),
            Keep::Headers,
            Some(CacheUse {
                path: &cache,
                now: i64::MAX / 2,
            }),
        )
        .expect_err("c.sql has no up marker");
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
