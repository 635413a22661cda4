//! One migrations folder on disk: which files in it are revisions, and their bytes.
//!
//! At 10,000 revisions the kernel's work of opening, reading and closing every file is most
//! of a read-only command's time. On Unix the folder is opened once and every file is opened
//! relative to it (`openat`), which spares the kernel a walk of the whole path per file, and
//! the listing's entry types spare a `stat` per file. Elsewhere the same steps use `std::fs`.

use std::io;
use std::path::Path;

/// Whether a directory entry is a revision file: `*.sql`, not hidden, not starting with `_`.
pub fn is_revision_file_name(name: &str) -> bool {
    name.ends_with(".sql") && !name.starts_with('.') && !name.starts_with('_')
}

/// What identifies one version of a file without reading it: device, inode, size, and the
/// modification and change times in nanoseconds. Every write to a file sets its change time
/// to the current time, and nothing can set it back, so an unchanged stamp means unchanged
/// bytes (as long as the file was not changed again within the same clock tick: see
/// `cache.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStamp(pub [i64; 5]);

impl FileStamp {
    /// The later of the modification and change times, in whole seconds since the epoch.
    pub fn changed_at(&self) -> i64 {
        self.0[3].max(self.0[4]).div_euclid(1_000_000_000)
    }

    /// The stamp of an open file or folder.
    #[cfg(unix)]
    fn of_open(fd: impl rustix::fd::AsFd) -> Option<Self> {
        rustix::fs::fstat(fd).ok().map(|stat| Self::of(&stat))
    }

    #[cfg(unix)]
    fn of(stat: &rustix::fs::Stat) -> Self {
        // The fields' integer types differ between platforms; all fit in an i128.
        fn wide(value: impl Into<i128>) -> i128 {
            value.into()
        }
        let nanos = |secs: i128, nanos: i128| (secs * 1_000_000_000 + nanos) as i64;
        Self([
            wide(stat.st_dev) as i64,
            wide(stat.st_ino) as i64,
            wide(stat.st_size) as i64,
            nanos(wide(stat.st_mtime), wide(stat.st_mtime_nsec)),
            nanos(wide(stat.st_ctime), wide(stat.st_ctime_nsec)),
        ])
    }
}

/// An open migrations folder.
pub struct Folder {
    #[cfg(unix)]
    fd: rustix::fd::OwnedFd,
    #[cfg(not(unix))]
    dir: std::path::PathBuf,
}

/// A folder's revision file names (see [`Folder::listing`]).
pub struct Listing {
    /// The names, in byte order.
    pub names: Vec<String>,
    /// Whether a name is a symlink or of a type the listing did not tell.
    pub has_links: bool,
}

/// What a directory entry's listing says about its type.
enum EntryKind {
    Directory,
    NotDirectory,
    /// A symlink, or a file system that does not report types: ask the target.
    Unknown,
}

impl Folder {
    /// Opens `dir` for listing and reading.
    pub fn open(dir: &Path) -> io::Result<Self> {
        #[cfg(unix)]
        {
            use rustix::fs::{Mode, OFlags, CWD};
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            Ok(Self {
                fd: rustix::fs::openat(CWD, dir, flags, Mode::empty())?,
            })
        }
        #[cfg(not(unix))]
        {
            if !std::fs::metadata(dir)?.is_dir() {
                return Err(io::Error::other("not a directory"));
            }
            Ok(Self {
                dir: dir.to_owned(),
            })
        }
    }

    /// The names of the revision files, in byte order. Sub-folders (and symlinks to them) are
    /// left out and not searched, so a symlink loop cannot trap the walk; a dangling symlink
    /// is kept, so that reading it reports the problem.
    pub fn revision_names(&self) -> io::Result<Vec<String>> {
        Ok(self.listing()?.names)
    }

    /// [`Folder::revision_names`], and whether any of them is a symlink (or of a type the
    /// listing did not give): a symlink's target can change while the folder does not.
    pub fn listing(&self) -> io::Result<Listing> {
        let mut listing = Listing {
            names: Vec::new(),
            has_links: false,
        };
        self.each_entry(|name, kind| {
            if !is_revision_file_name(name) {
                return;
            }
            let is_dir = match kind {
                EntryKind::Directory => true,
                EntryKind::NotDirectory => false,
                EntryKind::Unknown => {
                    listing.has_links = true;
                    self.is_dir(name)
                }
            };
            if !is_dir {
                listing.names.push(name.to_owned());
            }
        })?;
        listing.names.sort_unstable();
        Ok(listing)
    }

    /// The folder's own stamp: adding, removing or renaming an entry changes it. `None`
    /// where stamps are not available.
    pub fn own_stamp(&self) -> Option<FileStamp> {
        #[cfg(unix)]
        {
            FileStamp::of_open(&self.fd)
        }
        #[cfg(not(unix))]
        {
            None
        }
    }

    #[cfg(unix)]
    fn each_entry(&self, mut visit: impl FnMut(&str, EntryKind)) -> io::Result<()> {
        use rustix::fs::FileType;
        for entry in rustix::fs::Dir::read_from(&self.fd)? {
            let entry = entry?;
            // A name that is not UTF-8 cannot be a revision the other tools would accept.
            let Ok(name) = entry.file_name().to_str() else {
                continue;
            };
            let kind = match entry.file_type() {
                FileType::Directory => EntryKind::Directory,
                FileType::Symlink | FileType::Unknown => EntryKind::Unknown,
                _ => EntryKind::NotDirectory,
            };
            visit(name, kind);
        }
        Ok(())
    }

    #[cfg(not(unix))]
    fn each_entry(&self, mut visit: impl FnMut(&str, EntryKind)) -> io::Result<()> {
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let kind = match entry.file_type() {
                Ok(kind) if kind.is_dir() => EntryKind::Directory,
                Ok(kind) if !kind.is_symlink() => EntryKind::NotDirectory,
                _ => EntryKind::Unknown,
            };
            visit(name, kind);
        }
        Ok(())
    }

    /// Whether `name` leads to a directory, following symlinks; false when it leads nowhere.
    fn is_dir(&self, name: &str) -> bool {
        #[cfg(unix)]
        {
            use rustix::fs::{AtFlags, FileType};
            rustix::fs::statat(&self.fd, name, AtFlags::empty())
                .is_ok_and(|stat| FileType::from_raw_mode(stat.st_mode) == FileType::Directory)
        }
        #[cfg(not(unix))]
        {
            self.dir.join(name).is_dir()
        }
    }

    /// The stamp of the file `name` (following a symlink), without opening it.
    pub fn stamp(&self, name: &str) -> io::Result<FileStamp> {
        #[cfg(unix)]
        {
            use rustix::fs::AtFlags;
            Ok(FileStamp::of(&rustix::fs::statat(
                &self.fd,
                name,
                AtFlags::empty(),
            )?))
        }
        #[cfg(not(unix))]
        {
            let _ = name;
            Err(io::ErrorKind::Unsupported.into())
        }
    }

    /// [`Folder::read`], and the file's stamp taken after opening and before reading, so
    /// that a change made while reading shows as a different stamp next time (a stamp taken
    /// after reading could describe newer bytes than those read). `None` where stamps are not
    /// available.
    pub fn read_stamped(
        &self,
        name: &str,
        buffer: &mut Vec<u8>,
    ) -> io::Result<(usize, Option<FileStamp>)> {
        let file = self.open_file(name)?;
        #[cfg(unix)]
        let stamp = FileStamp::of_open(&file);
        #[cfg(not(unix))]
        let stamp = None;
        Ok((read_all(&file, buffer)?, stamp))
    }

    /// Reads the whole file `name` into the front of `buffer` and returns its length.
    ///
    /// Plain reads into a buffer reused from file to file: `std::fs::read` would ask the
    /// file's size first (one more system call per revision) and allocate per file. A read
    /// that does not fill the buffer is the end of a regular file, which saves the final empty
    /// read. The buffer only grows, for a file larger than any before.
    pub fn read(&self, name: &str, buffer: &mut Vec<u8>) -> io::Result<usize> {
        read_all(&self.open_file(name)?, buffer)
    }

    #[cfg(unix)]
    fn open_file(&self, name: &str) -> io::Result<OpenFile> {
        use rustix::fs::{Mode, OFlags};
        Ok(rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )?)
    }

    #[cfg(not(unix))]
    fn open_file(&self, name: &str) -> io::Result<OpenFile> {
        std::fs::File::open(self.dir.join(name))
    }
}

/// Reads `file` to its end into the front of `buffer` (see [`Folder::read`]).
fn read_all(file: &OpenFile, buffer: &mut Vec<u8>) -> io::Result<usize> {
    if buffer.len() < 64 * 1024 {
        buffer.resize(64 * 1024, 0);
    }
    let mut filled = 0;
    loop {
        match read_some(file, &mut buffer[filled..]) {
            Ok(n) => {
                filled += n;
                if filled < buffer.len() {
                    return Ok(filled);
                }
                let doubled = buffer.len() * 2;
                buffer.resize(doubled, 0);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(unix)]
type OpenFile = rustix::fd::OwnedFd;
#[cfg(not(unix))]
type OpenFile = std::fs::File;

#[cfg(unix)]
fn read_some(file: &rustix::fd::OwnedFd, into: &mut [u8]) -> io::Result<usize> {
    Ok(rustix::io::read(file, into)?)
}

#[cfg(not(unix))]
fn read_some(mut file: &std::fs::File, into: &mut [u8]) -> io::Result<usize> {
    use std::io::Read;
    file.read(into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_revision_files_in_byte_order_and_skips_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in [
            "b.sql",
            "a.sql",
            "B.sql",
            "_draft.sql",
            ".hidden.sql",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(name), "x").expect("write");
        }
        std::fs::create_dir(dir.path().join("folder.sql")).expect("mkdir");
        let folder = Folder::open(dir.path()).expect("open");
        let listing = folder.listing().expect("list");
        assert_eq!(listing.names, ["B.sql", "a.sql", "b.sql"]);
        assert!(!listing.has_links);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_dangling_symlinks_and_skips_symlinked_folders() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::os::unix::fs::symlink(dir.path().join("gone"), dir.path().join("gone.sql"))
            .expect("symlink");
        std::os::unix::fs::symlink(dir.path(), dir.path().join("loop.sql")).expect("symlink");
        let folder = Folder::open(dir.path()).expect("open");
        let listing = folder.listing().expect("list");
        assert_eq!(listing.names, ["gone.sql"]);
        assert!(listing.has_links);
        let mut buffer = Vec::new();
        assert!(folder.read("gone.sql", &mut buffer).is_err());
    }

    #[test]
    fn reads_files_larger_than_the_buffer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = "-- x\n".repeat(40_000);
        std::fs::write(dir.path().join("big.sql"), &text).expect("write");
        let folder = Folder::open(dir.path()).expect("open");
        let mut buffer = Vec::new();
        let length = folder.read("big.sql", &mut buffer).expect("read");
        assert_eq!(&buffer[..length], text.as_bytes());
    }

    #[test]
    fn opening_a_file_as_a_folder_fails() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("file");
        std::fs::write(&file, "x").expect("write");
        assert!(Folder::open(&file).is_err());
    }
}
