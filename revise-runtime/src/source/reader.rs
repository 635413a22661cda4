//! Reading the files of every member folder: from the header cache when a file did not
//! change, else from disk, by a few threads when there are many files.

use std::borrow::Cow;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::cache::{self, FolderEntries, FolderToWrite, HeaderCache};
use super::folder::{FileStamp, Folder};
use super::{io_error, Keep, LoadError, LoadErrors, MemberFolder};
use crate::parse::parse;
use crate::revision::Revision;

/// One member's folder, opened and listed, with its entries in the header cache.
struct Listed<'a> {
    member: &'a MemberFolder,
    /// The member's label, shared by its revisions.
    label: Arc<str>,
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
            label: Arc::from(member.label.as_str()),
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

/// The files at `range` of every listing's names one after the other, with their listing:
/// a thread's share. (Walked, not collected: a vector of 10,000 jobs was 240 KB more at the
/// peak, and skipping to a share costs a few microseconds.)
fn jobs<'a>(listed: &'a [Listed<'a>], range: Range<usize>) -> impl Iterator<Item = Job<'a>> {
    listed
        .iter()
        .flat_map(|listing| {
            listing
                .names
                .iter()
                .map(move |name| (listing, name.as_ref()))
        })
        .skip(range.start)
        .take(range.len())
}

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
    let files: usize = listed.iter().map(|listing| listing.names.len()).sum();
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(MAX_THREADS)
        .min(files / FILES_PER_THREAD)
        .max(1);
    let share = files.div_ceil(threads).max(1);
    let stamped = cache_use.is_some();
    // Every thread writes its revisions straight into its share of one vector sized once:
    // collecting per-thread vectors and joining them held two copies of the revisions (3 MB
    // each at 10,000) at the peak. `Option<Revision>` is as large as `Revision`, so the
    // final collect reuses the allocation.
    let mut slots: Vec<Option<Revision>> = std::iter::repeat_with(|| None).take(files).collect();
    let shares: Vec<Share> = if threads == 1 {
        vec![read_files(
            0,
            jobs(&listed, 0..files),
            &mut slots,
            keep,
            stamped,
        )]
    } else {
        // Every share on a thread of its own, the calling thread waiting: reading the first
        // share on the calling thread measured 2-3 ms slower (`heads` at 10,000 revisions).
        std::thread::scope(|scope| {
            let listed = &listed;
            let handles: Vec<_> = slots
                .chunks_mut(share)
                .enumerate()
                .map(|(n, out)| {
                    let start = n * share;
                    let chunk = jobs(listed, start..start + out.len());
                    scope.spawn(move || read_files(start, chunk, out, keep, stamped))
                })
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
    let mut hits = 0;
    let mut read_stamps = Vec::new();
    for share in shares {
        hits += share.hits;
        errors.extend(share.failures);
        read_stamps.extend(share.read_stamps);
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
        let unchanged = hits == files
            && cache.as_ref().map(HeaderCache::len) == Some(hits)
            && listings_unchanged;
        if !unchanged {
            let stamps = every_stamp(jobs(&listed, 0..files), read_stamps);
            // Without stamps (a platform that has none) there is nothing worth writing.
            if stamps.iter().any(Option::is_some) {
                // Best effort: a cache that cannot be written only means reading files next
                // time.
                let _ = write_cache(cache_use, &listed, &revisions, &stamps);
            }
        }
    }
    Ok(revisions)
}

/// The stamp of every job, for rewriting the cache: those of the files read (`read`, by job
/// index), and for the rest those of their cache entries, which matched. Kept apart while
/// reading because at 10,000 unchanged files a stamp per file was 480 KB at the peak for a
/// cache that is not rewritten.
fn every_stamp<'a>(
    jobs: impl Iterator<Item = Job<'a>>,
    read: Vec<(usize, Option<FileStamp>)>,
) -> Vec<Option<FileStamp>> {
    let mut stamps: Vec<Option<FileStamp>> = jobs
        .map(|(listing, name)| listing.cached.as_ref().and_then(|c| c.stamp(name)))
        .collect();
    for (index, stamp) in read {
        stamps[index] = stamp;
    }
    stamps
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

/// What one thread read besides its revisions: the failures, how many came from the cache,
/// and (when asked for) the stamps of the files it read, by job index.
struct Share {
    failures: Vec<LoadError>,
    hits: usize,
    read_stamps: Vec<(usize, Option<FileStamp>)>,
}

/// Reads and parses one share of the files (jobs from index `start` on), in order, with one
/// buffer for all of them, into `out` (a failed file leaves its slot empty). With `stamped`,
/// a file whose stamp the folder's cache entries know is taken from the cache.
fn read_files<'a>(
    start: usize,
    jobs: impl Iterator<Item = Job<'a>>,
    out: &mut [Option<Revision>],
    keep: Keep,
    stamped: bool,
) -> Share {
    let keep_sql = keep == Keep::Everything;
    let mut buffer = Vec::new();
    let mut share = Share {
        failures: Vec::new(),
        hits: 0,
        read_stamps: Vec::new(),
    };
    let mut next_entry = 0;
    let mut previous: Option<&Listed<'_>> = None;
    for (index, ((listing, name), slot)) in jobs.zip(out).enumerate() {
        let shown = shown_path(&listing.shown, name);
        let label = &listing.label;
        if previous.is_some_and(|p| !std::ptr::eq(p, listing)) {
            next_entry = 0;
        }
        previous = Some(listing);
        if let Some(mut revision) = cached_revision(listing, name, &mut next_entry) {
            revision.origin.path = shown;
            *slot = Some(revision);
            share.hits += 1;
            continue;
        }
        let read = if stamped {
            listing.folder.read_stamped(name, &mut buffer)
        } else {
            listing.folder.read(name, &mut buffer).map(|n| (n, None))
        };
        let parsed = match read {
            Ok((length, stamp)) => parse(&shown, label, &buffer[..length], keep_sql)
                .map(|revision| (revision, stamp))
                .map_err(LoadError::from),
            Err(e) => Err(io_error(&shown, &e)),
        };
        match parsed {
            Ok((revision, stamp)) => {
                *slot = Some(revision);
                if stamped {
                    share.read_stamps.push((start + index, stamp));
                }
            }
            Err(e) => share.failures.push(e),
        }
    }
    share
}

/// The file's revision from the header cache, when the cache knows the file at its present
/// stamp; `next` is where the folder's entries are searched first (see `cache.rs`).
fn cached_revision(listing: &Listed<'_>, name: &str, next: &mut usize) -> Option<Revision> {
    let cached = listing.cached.as_ref()?;
    let stamp = listing.folder.stamp(name).ok()?;
    cached.revision(name, &stamp, &listing.label, next)
}

/// `folder/name`, allocated once at its size (`Path::join` grows a copy of `folder`: two
/// allocations per file, and a third more memory kept for each of 10,000 paths).
fn shown_path(folder: &Path, name: &str) -> PathBuf {
    let mut path = PathBuf::with_capacity(folder.as_os_str().len() + 1 + name.len());
    path.push(folder);
    path.push(name);
    path
}
