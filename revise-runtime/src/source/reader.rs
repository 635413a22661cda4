//! Reading the files of every member folder: from the header cache when a file did not
//! change, else from disk, by a few threads when there are many files.

use std::path::{Path, PathBuf};

use super::cache::{self, FolderEntries, FolderToWrite, HeaderCache};
use super::folder::{FileStamp, Folder};
use super::{io_error, Keep, LoadError, LoadErrors, MemberFolder};
use crate::parse::{parse_revision, parse_revision_without_sql};
use crate::revision::Revision;

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

/// A header cache to use: its file, and the time that decides which files have settled.
#[derive(Clone, Copy, Debug)]
pub struct CacheUse<'a> {
    pub path: &'a Path,
    pub now: i64,
}

pub fn read_with(
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
        if let Some((mut revision, stamp)) = cached_revision(listing, name, &mut next_entry) {
            revision.origin.path = shown;
            share.revisions.push(revision);
            share.stamps.push(Some(stamp));
            share.hits += 1;
            continue;
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

/// The file's revision from the header cache, when the cache knows the file at its present
/// stamp; `next` is where the folder's entries are searched first (see `cache.rs`).
fn cached_revision(
    listing: &Listed<'_>,
    name: &str,
    next: &mut usize,
) -> Option<(Revision, FileStamp)> {
    let cached = listing.cached.as_ref()?;
    let stamp = listing.folder.stamp(name).ok()?;
    let revision = cached.revision(name, &stamp, &listing.member.label, next)?;
    Some((revision, stamp))
}
