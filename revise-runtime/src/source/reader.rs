//! Reading the files of every member folder: from the header cache when a file did not
//! change, else from disk, by a few threads when there are many files.

use std::borrow::Cow;
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
    /// The revision file names, in byte order: the folder's listing, or the cached one.
    names: Vec<Cow<'a, str>>,
    /// The folder's stamp, when its listing may be cached (see `cache.rs`).
    listing_stamp: Option<FileStamp>,
    /// Whether `names` came from the cache.
    listed_from_cache: bool,
    cached: Option<FolderEntries<'a>>,
}

impl<'a> Listed<'a> {
    /// Opens `member`'s folder and lists it, or takes the listing from `cached` when the
    /// folder did not change since. `now` is given when a cache is in use.
    fn open(
        member: &'a MemberFolder,
        root: &Path,
        cached: Option<FolderEntries<'a>>,
        now: Option<i64>,
    ) -> std::io::Result<Self> {
        let folder = Folder::open(&member.dir)?;
        // Taken before listing: an entry added while the folder is listed changes the
        // folder's stamp after this one, so the listing is not trusted next time.
        let stamp = now.and_then(|_| folder.own_stamp());
        let from_cache = cached
            .as_ref()
            .zip(stamp.as_ref())
            .and_then(|(cached, stamp)| cached.listing(stamp));
        let listed_from_cache = from_cache.is_some();
        let (names, listing_stamp) = match from_cache {
            Some(names) => (names.into_iter().map(Cow::Borrowed).collect(), stamp),
            None => {
                let listing = folder.listing()?;
                let settled = stamp.filter(|stamp| {
                    !listing.has_links && now.is_some_and(|now| cache::settled(stamp, now))
                });
                (listing.names.into_iter().map(Cow::Owned).collect(), settled)
            }
        };
        Ok(Self {
            member,
            folder,
            shown: member
                .dir
                .strip_prefix(root)
                .unwrap_or(&member.dir)
                .to_owned(),
            names,
            listing_stamp,
            listed_from_cache,
            cached,
        })
    }
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
        let cached = cache
            .as_ref()
            .and_then(|c| c.folder(&member.dir, &member.label));
        match Listed::open(member, root, cached, cache_use.map(|c| c.now)) {
            Ok(listing) => listed.push(listing),
            Err(e) => errors.push(io_error(&member.dir, &e)),
        }
    }
    let jobs: Vec<Job<'_>> = listed
        .iter()
        .flat_map(|listing| {
            listing
                .names
                .iter()
                .map(move |name| (listing, name.as_ref()))
        })
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(MAX_THREADS)
        .min(jobs.len() / FILES_PER_THREAD)
        .max(1);
    let share = jobs.len().div_ceil(threads).max(1);
    let stamped = cache_use.is_some();
    // Every thread writes its revisions straight into its share of one vector sized once:
    // collecting per-thread vectors and joining them held two copies of the revisions (3 MB
    // each at 10,000) at the peak. `Option<Revision>` is as large as `Revision`, so the
    // final collect reuses the allocation.
    let mut slots: Vec<Option<Revision>> =
        std::iter::repeat_with(|| None).take(jobs.len()).collect();
    let shares: Vec<Share> = if threads == 1 {
        vec![read_files(&jobs, &mut slots, keep, stamped)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = jobs
                .chunks(share)
                .zip(slots.chunks_mut(share))
                .map(|(chunk, out)| scope.spawn(move || read_files(chunk, out, keep, stamped)))
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
    let mut stamps = Vec::with_capacity(if stamped { jobs.len() } else { 0 });
    let mut hits = 0;
    for share in shares {
        stamps.extend(share.stamps);
        hits += share.hits;
        errors.extend(share.failures);
    }
    if !errors.is_empty() {
        return Err(LoadErrors(errors));
    }
    // Without failures every slot was filled. `filter_map`, not `flatten`: the standard
    // library collects it in place, in the slots' allocation (flatten would copy).
    #[allow(clippy::filter_map_identity)]
    let revisions: Vec<Revision> = slots.into_iter().filter_map(|slot| slot).collect();
    if let Some(cache_use) = cache_use {
        // A listing the cache lacks but could now keep (its folder settled) is a change too.
        let listings_unchanged = listed
            .iter()
            .all(|l| l.listed_from_cache || l.listing_stamp.is_none());
        let unchanged = hits == jobs.len()
            && cache.as_ref().map(HeaderCache::len) == Some(hits)
            && listings_unchanged;
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
                cache::settled(&stamp, cache_use.now).then_some((name.as_ref(), stamp, revision))
            })
            .collect::<Vec<_>>();
        // The cached names are the listing only when every file is among them.
        let complete = files.len() == listing.names.len();
        folders.push(FolderToWrite {
            dir: &listing.member.dir,
            label: &listing.member.label,
            listing: listing.listing_stamp.filter(|_| complete),
            files,
        });
        start = end;
    }
    cache::write(cache_use.path, &folders)
}

/// What one thread read besides its revisions: their stamps (when asked), the failures, and
/// how many came from the cache.
struct Share {
    stamps: Vec<Option<FileStamp>>,
    failures: Vec<LoadError>,
    hits: usize,
}

/// Reads and parses one share of the files, in order, with one buffer for all of them, into
/// `out` (one slot per job; a failed file leaves its slot empty). With `stamped`, a file
/// whose stamp the folder's cache entries know is taken from the cache.
fn read_files(jobs: &[Job<'_>], out: &mut [Option<Revision>], keep: Keep, stamped: bool) -> Share {
    let parse = match keep {
        Keep::Everything => parse_revision,
        Keep::Headers => parse_revision_without_sql,
    };
    let mut buffer = Vec::new();
    let mut share = Share {
        stamps: Vec::with_capacity(if stamped { jobs.len() } else { 0 }),
        failures: Vec::new(),
        hits: 0,
    };
    let mut next_entry = 0;
    for (index, (&(listing, name), slot)) in jobs.iter().zip(out).enumerate() {
        let shown = listing.shown.join(name);
        let label = &listing.member.label;
        if index > 0 && !std::ptr::eq(jobs[index - 1].0, listing) {
            next_entry = 0;
        }
        if let Some((mut revision, stamp)) = cached_revision(listing, name, &mut next_entry) {
            revision.origin.path = shown;
            *slot = Some(revision);
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
                *slot = Some(revision);
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
