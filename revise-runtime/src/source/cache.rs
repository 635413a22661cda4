//! A cache of parsed revision headers, so that read-only commands need not open, read and
//! parse files that did not change.
//!
//! At 10,000 revisions, opening, reading and closing every file is most of what `heads`
//! costs; asking each file's [`FileStamp`] is one system call instead of three, and no parse.
//! The cache is one file (by default `target/revise/headers` of the workspace), rewritten
//! whole when anything changed, through a rename so that readers never see half of it.
//! Anything wrong with it (missing, truncated, another version, unwritable) only means the
//! files are read; it can never fail a command.
//!
//! A file enters the cache only when it has not changed for [`SETTLED_SECONDS`]: a write
//! within the same clock tick as the stamp was taken would leave the stamp as it was (git's
//! "racy" index entries are the same problem), and later writes always move the change time
//! forward past a settled stamp.
//!
//! A folder's listing is cached the same way, keyed by the folder's own stamp: adding,
//! removing or renaming a file changes it. Listing 10,000 entries and sorting their names
//! took `heads` 4 ms. It is only cached when every listed file is (all settled), the folder
//! itself has settled, and no entry is a symlink (whose target can change behind an
//! unchanged folder).

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::folder::FileStamp;
use crate::revision::{HeaderLines, Origin, Revision, RevisionId, Section};

/// The first bytes of a cache file: the format and the crate version that wrote it, since
/// a new version may parse files differently.
const MAGIC: &str = concat!("revise header cache 2 ", env!("CARGO_PKG_VERSION"), "\n");

/// How long a file must have been left alone before its header is cached.
pub const SETTLED_SECONDS: i64 = 2;

/// Whether a file with this stamp may be cached at `now` (seconds since the epoch).
pub fn settled(stamp: &FileStamp, now: i64) -> bool {
    stamp.changed_at() < now - SETTLED_SECONDS
}

/// A cache file as read: its bytes, and where each folder's entries are in them.
pub struct HeaderCache {
    bytes: Vec<u8>,
    folders: Vec<CachedFolder>,
}

struct CachedFolder {
    dir: Range<usize>,
    label: Range<usize>,
    /// The folder's stamp when its listing was cached: its entries' names are the listing.
    listing: Option<FileStamp>,
    /// Where each entry starts in the bytes (4 bytes an entry: at 10,000 files a decoded
    /// index would cost close to a megabyte).
    entries: Vec<u32>,
}

/// One folder's cached entries, sorted by file name as the folder listing is.
pub struct FolderEntries<'a> {
    bytes: &'a [u8],
    entries: &'a [u32],
    listing: Option<FileStamp>,
}

/// An entry, decoded from where it starts.
struct Entry<'a> {
    stamp: FileStamp,
    record: &'a [u8],
}

impl<'a> Entry<'a> {
    /// `None` only for bytes that `index` did not check, which cannot happen.
    fn at(bytes: &'a [u8], start: u32) -> Option<Self> {
        let mut reader = Reader {
            bytes,
            at: usize::try_from(start).ok()?,
        };
        let name_length = reader.u32()?;
        reader.take(name_length)?;
        let stamp = reader.stamp()?;
        let length = reader.u32()?;
        let record = reader.take(length)?;
        Some(Self { stamp, record })
    }
}

impl HeaderCache {
    /// Reads the cache at `path`; `None` when it is missing or not one this version wrote.
    pub fn read(path: &Path) -> Option<Self> {
        let bytes = std::fs::read(path).ok()?;
        let folders = index(&bytes)?;
        Some(Self { bytes, folders })
    }

    /// The entries of the folder `dir` read for the member labelled `label`.
    pub fn folder(&self, dir: &Path, label: &str) -> Option<FolderEntries<'_>> {
        let dir = dir.to_str()?;
        self.folders
            .iter()
            .find(|f| {
                &self.bytes[f.dir.clone()] == dir.as_bytes()
                    && &self.bytes[f.label.clone()] == label.as_bytes()
            })
            .map(|f| FolderEntries {
                bytes: &self.bytes,
                entries: &f.entries,
                listing: f.listing,
            })
    }

    /// How many files the cache describes, over all folders.
    pub fn len(&self) -> usize {
        self.folders.iter().map(|f| f.entries.len()).sum()
    }
}

impl<'a> FolderEntries<'a> {
    /// The folder's revision file names, when the folder's stamp is still `stamp`: the
    /// listing was cached then, and no file was added, removed or renamed since.
    pub fn listing(&self, stamp: &FileStamp) -> Option<Vec<&'a str>> {
        if self.listing.as_ref() != Some(stamp) {
            return None;
        }
        self.entries
            .iter()
            .map(|&start| std::str::from_utf8(name_at(self.bytes, start)?).ok())
            .collect()
    }

    /// The stamp the cache knows for file `name`.
    pub fn stamp(&self, name: &str) -> Option<FileStamp> {
        let at = self.position(name)?;
        Some(Entry::at(self.bytes, self.entries[at])?.stamp)
    }

    /// Where the entry of file `name` is, by binary search (entries are in name order).
    fn position(&self, name: &str) -> Option<usize> {
        self.entries
            .binary_search_by(|&start| {
                name_at(self.bytes, start)
                    .unwrap_or_default()
                    .cmp(name.as_bytes())
            })
            .ok()
    }

    /// The cached revision of file `name`, if the cache has it with exactly this stamp.
    /// Its origin names `member` and an empty path, for the caller to move the shown path
    /// in (this runs for every file; a copy of the path would be one more allocation each).
    /// Files are asked for in name order, the order of the entries, so `next` (where the
    /// last one was found, plus one) is tried before a search.
    pub fn revision(
        &self,
        name: &str,
        stamp: &FileStamp,
        member: &Arc<str>,
        next: &mut usize,
    ) -> Option<Revision> {
        let name_of = |start: u32| name_at(self.bytes, start).unwrap_or_default();
        let at = match self.entries.get(*next) {
            Some(&start) if name_of(start) == name.as_bytes() => *next,
            _ => self.position(name)?,
        };
        *next = at + 1;
        let entry = Entry::at(self.bytes, self.entries[at])?;
        if entry.stamp != *stamp {
            return None;
        }
        decode(entry.record, member)
    }
}

/// The name of the entry starting at `start` (checked as UTF-8 when the cache was indexed).
fn name_at(bytes: &[u8], start: u32) -> Option<&[u8]> {
    let mut reader = Reader {
        bytes,
        at: usize::try_from(start).ok()?,
    };
    let length = reader.u32()?;
    reader.take(length)
}

/// One folder to write: its path, its member's label, and its files in name order.
pub struct FolderToWrite<'a> {
    /// The folder, absolute.
    pub dir: &'a Path,
    /// The member's label.
    pub label: &'a str,
    /// The folder's stamp, when its listing may be cached (see the module's documentation).
    pub listing: Option<FileStamp>,
    /// File name, stamp and parsed revision of every settled file.
    pub files: Vec<(&'a str, FileStamp, &'a Revision)>,
}

/// Writes a new cache to `path` (through a temporary file and a rename). Errors are the
/// caller's to ignore.
pub fn write(path: &Path, folders: &[FolderToWrite<'_>]) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(64 * 1024);
    out.extend_from_slice(MAGIC.as_bytes());
    let folders: Vec<&FolderToWrite<'_>> = folders
        .iter()
        .filter(|folder| folder.dir.to_str().is_some())
        .collect();
    put_u32(&mut out, folders.len());
    for folder in folders {
        put_str(&mut out, folder.dir.to_str().unwrap_or_default());
        put_str(&mut out, folder.label);
        match &folder.listing {
            None => out.push(0),
            Some(stamp) => {
                out.push(1);
                put_stamp(&mut out, stamp);
            }
        }
        put_u32(&mut out, folder.files.len());
        for (name, stamp, revision) in &folder.files {
            put_str(&mut out, name);
            put_stamp(&mut out, stamp);
            let length_at = out.len();
            put_u32(&mut out, 0);
            encode(&mut out, revision);
            let length = out.len() - length_at - 4;
            out[length_at..length_at + 4].copy_from_slice(&to_u32(length).to_le_bytes());
        }
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = path.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::write(&temporary, &out)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

/// The folders and entries of a cache file, or `None` if any part is malformed.
fn index(bytes: &[u8]) -> Option<Vec<CachedFolder>> {
    let mut reader = Reader { bytes, at: 0 };
    if reader.take(MAGIC.len())? != MAGIC.as_bytes() {
        return None;
    }
    let folder_count = reader.u32()?;
    let mut folders = Vec::with_capacity(folder_count.min(1024));
    for _ in 0..folder_count {
        let dir = reader.str_range()?;
        let label = reader.str_range()?;
        let listing = match reader.take(1)?[0] {
            0 => None,
            1 => Some(reader.stamp()?),
            _ => return None,
        };
        let count = reader.u32()?;
        let mut entries = Vec::with_capacity(count.min(bytes.len() / 64));
        let mut previous: Option<&[u8]> = None;
        for _ in 0..count {
            let start = u32::try_from(reader.at).ok()?;
            let name = reader.str()?.as_bytes();
            reader.stamp()?;
            let length = reader.u32()?;
            reader.take(length)?;
            // Lookups halve the range, so the names must be in order (they are as written).
            if previous.is_some_and(|p| p >= name) {
                return None;
            }
            previous = Some(name);
            entries.push(start);
        }
        folders.push(CachedFolder {
            dir,
            label,
            listing,
            entries,
        });
    }
    (reader.at == bytes.len()).then_some(folders)
}

/// A revision's header fields, as [`decode`] reads them back. The SQL is not kept.
fn encode(out: &mut Vec<u8>, revision: &Revision) {
    put_str(out, revision.id.as_str());
    put_str(out, &revision.message);
    put_list(out, revision.revises.iter().map(RevisionId::as_str));
    put_list(out, revision.depends_on.iter().map(String::as_str));
    put_list(out, revision.branch_labels.iter().map(String::as_str));
    put_list(out, revision.create_date.as_deref());
    put_section(out, Some(&revision.up));
    put_section(out, revision.down.as_ref());
    let lines = &revision.lines;
    for line in [
        lines.id,
        lines.revises,
        lines.depends_on,
        lines.branch_labels,
    ] {
        put_line(out, line);
    }
}

fn decode(record: &[u8], member: &Arc<str>) -> Option<Revision> {
    let mut reader = Reader {
        bytes: record,
        at: 0,
    };
    let id = RevisionId::new(reader.str()?).ok()?;
    let message = reader.str()?.to_owned();
    let revises = reader.list(|text| RevisionId::new(text).ok())?;
    let depends_on = reader.list(|text| Some(text.to_owned()))?;
    let branch_labels = reader.list(|text| Some(text.to_owned()))?;
    let create_date = reader.list(|text| Some(text.to_owned()))?.pop();
    let up = reader.section()??;
    let down = reader.section()?;
    let lines = HeaderLines {
        id: reader.line()?,
        revises: reader.line()?,
        depends_on: reader.line()?,
        branch_labels: reader.line()?,
    };
    if reader.at != record.len() {
        return None;
    }
    Some(Revision {
        id,
        message: message.into_boxed_str(),
        revises: revises.into_boxed_slice(),
        depends_on: depends_on.into_boxed_slice(),
        branch_labels: branch_labels.into_boxed_slice(),
        create_date: create_date.map(String::into_boxed_str),
        up,
        down,
        origin: Origin {
            member: Arc::clone(member),
            path: PathBuf::new(),
        },
        lines,
    })
}

/// Lengths are stored as 32 bits (lines already are); a revision file never comes near that.
fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn put_u32(out: &mut Vec<u8>, value: usize) {
    put_line(out, to_u32(value));
}

fn put_line(out: &mut Vec<u8>, line: u32) {
    out.extend_from_slice(&line.to_le_bytes());
}

fn put_stamp(out: &mut Vec<u8>, stamp: &FileStamp) {
    for field in stamp.0 {
        out.extend_from_slice(&field.to_le_bytes());
    }
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_u32(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

fn put_list<'a>(out: &mut Vec<u8>, items: impl IntoIterator<Item = &'a str>) {
    let items: Vec<&str> = items.into_iter().collect();
    put_u32(out, items.len());
    for item in items {
        put_str(out, item);
    }
}

/// A section as presence, transaction flag and marker line (its SQL is not cached).
fn put_section(out: &mut Vec<u8>, section: Option<&Section>) {
    match section {
        None => out.push(0),
        Some(section) => {
            out.push(if section.transactional { 2 } else { 1 });
            put_line(out, section.line);
        }
    }
}

/// Reads a cache's bytes front to back; every read returns `None` past the end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, length: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(length)?;
        let taken = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(taken)
    }

    fn u32(&mut self) -> Option<usize> {
        usize::try_from(self.line()?).ok()
    }

    fn line(&mut self) -> Option<u32> {
        let bytes = self.take(4)?.try_into().ok()?;
        Some(u32::from_le_bytes(bytes))
    }

    fn stamp(&mut self) -> Option<FileStamp> {
        let mut stamp = [0i64; 5];
        for field in &mut stamp {
            *field = i64::from_le_bytes(self.take(8)?.try_into().ok()?);
        }
        Some(FileStamp(stamp))
    }

    fn str_range(&mut self) -> Option<Range<usize>> {
        let length = self.u32()?;
        let start = self.at;
        std::str::from_utf8(self.take(length)?).ok()?;
        Some(start..start + length)
    }

    fn str(&mut self) -> Option<&'a str> {
        let length = self.u32()?;
        std::str::from_utf8(self.take(length)?).ok()
    }

    fn list<T>(&mut self, item: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
        let count = self.u32()?;
        let mut items = Vec::with_capacity(count.min(self.bytes.len()));
        for _ in 0..count {
            items.push(item(self.str()?)?);
        }
        Some(items)
    }

    /// `Some(None)` for an absent section, `None` for malformed bytes.
    fn section(&mut self) -> Option<Option<Section>> {
        let transactional = match self.take(1)?[0] {
            0 => return Some(None),
            1 => false,
            2 => true,
            _ => return None,
        };
        Some(Some(Section {
            sql: String::new(),
            transactional,
            line: self.line()?,
            leading_lines: 0,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_revision_without_sql;

    const TEXT: &str = "-- Add things\n-- Revision ID: abc123\n-- Revises: p1, p2\n-- Create Date: 2026-01-01\n-- Depends On: other\n-- Branch Labels: feature\n\n-- revise:up transaction=false\nSELECT 1;\n-- revise:down\nSELECT 2;\n";

    fn parsed() -> Revision {
        parse_revision_without_sql(Path::new("m/migrations/a.sql"), "m", TEXT.as_bytes())
            .expect("valid")
    }

    fn written(dir: &Path) -> PathBuf {
        let revision = parsed();
        let path = dir.join("cache/headers");
        let stamp = FileStamp([1, 2, 3, 4, 5]);
        write(
            &path,
            &[FolderToWrite {
                dir: Path::new("/ws/m/migrations"),
                label: "m",
                listing: Some(FileStamp([6, 7, 8, 9, 10])),
                files: vec![("a.sql", stamp, &revision)],
            }],
        )
        .expect("written");
        path
    }

    #[test]
    fn a_written_cache_gives_back_the_parsed_revision_for_the_same_stamp_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = HeaderCache::read(&written(dir.path())).expect("readable");
        assert_eq!(cache.len(), 1);
        let folder = cache
            .folder(Path::new("/ws/m/migrations"), "m")
            .expect("the folder");
        let stamp = FileStamp([1, 2, 3, 4, 5]);
        let mut expected = parsed();
        expected.origin.path = PathBuf::new();
        let mut next = 0;
        assert_eq!(
            folder.revision("a.sql", &stamp, &"m".into(), &mut next),
            Some(expected)
        );
        assert_eq!(next, 1);
        let touched = FileStamp([1, 2, 3, 4, 6]);
        assert_eq!(
            folder.revision("a.sql", &touched, &"m".into(), &mut 0),
            None
        );
        assert_eq!(folder.revision("b.sql", &stamp, &"m".into(), &mut 0), None);
        assert_eq!(folder.revision("0.sql", &stamp, &"m".into(), &mut 5), None);
        assert!(cache.folder(Path::new("/ws/m/migrations"), "n").is_none());
    }

    #[test]
    fn a_cached_listing_is_given_for_the_folder_stamp_it_was_cached_with_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = HeaderCache::read(&written(dir.path())).expect("readable");
        let folder = cache
            .folder(Path::new("/ws/m/migrations"), "m")
            .expect("the folder");
        assert_eq!(
            folder.listing(&FileStamp([6, 7, 8, 9, 10])),
            Some(vec!["a.sql"])
        );
        assert_eq!(folder.listing(&FileStamp([6, 7, 8, 9, 11])), None);
    }

    #[test]
    fn a_damaged_or_foreign_cache_is_ignored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = written(dir.path());
        let bytes = std::fs::read(&path).expect("read");
        for cut in [0, 10, MAGIC.len() + 2, bytes.len() - 1] {
            std::fs::write(&path, &bytes[..cut]).expect("write");
            assert!(HeaderCache::read(&path).is_none(), "cut at {cut}");
        }
        let mut foreign = bytes.clone();
        foreign[MAGIC.len() - 2] ^= 1;
        std::fs::write(&path, &foreign).expect("write");
        assert!(HeaderCache::read(&path).is_none());
        let mut longer = bytes;
        longer.push(0);
        std::fs::write(&path, &longer).expect("write");
        assert!(HeaderCache::read(&path).is_none());
        assert!(HeaderCache::read(&dir.path().join("missing")).is_none());
    }

    #[test]
    fn only_files_left_alone_for_a_while_are_settled() {
        let stamp = |secs: i64| FileStamp([0, 0, 0, secs * 1_000_000_000, secs * 1_000_000_000]);
        assert!(settled(&stamp(100), 103));
        assert!(!settled(&stamp(100), 102));
        assert!(!settled(&stamp(100), 100));
    }
}
