//! The data of one revision: its id, its links to other revisions, and its SQL.
//!
//! Nothing here parses or queries; see `parse.rs` for text and `graph.rs` for links.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// The longest id the version table can hold: Alembic's column is `VARCHAR(32)`.
pub const MAX_ID_LEN: usize = 32;

/// A validated revision id: 1 to 32 characters of `[A-Za-z0-9_]`.
///
/// The limit comes from `alembic_version.version_num VARCHAR(32)`; SQLite would not enforce
/// it and a production server would then refuse the id, so it is checked up front. The
/// character set keeps ids safe in file names, messages and SQL text. Held as a boxed `str`
/// (16 bytes, not a `String`'s 24): a graph holds every id at least twice.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RevisionId(Box<str>);

/// Why a string is not a valid revision id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidId {
    /// The id is empty.
    #[error("a revision id cannot be empty")]
    Empty,
    /// The id is longer than the version column allows.
    #[error("revision id `{0}` is {len} characters long; the version column holds at most {MAX_ID_LEN}", len = .0.chars().count())]
    TooLong(String),
    /// The id contains a character outside `[A-Za-z0-9_]`.
    #[error("revision id `{id}` contains `{ch}`; ids may only use letters, digits and `_`")]
    BadCharacter {
        /// The rejected id.
        id: String,
        /// The first character that is not allowed.
        ch: char,
    },
}

impl RevisionId {
    /// Validates `text` as a revision id.
    pub fn new(text: &str) -> Result<Self, InvalidId> {
        if text.is_empty() {
            return Err(InvalidId::Empty);
        }
        if let Some(ch) = text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
        {
            return Err(InvalidId::BadCharacter {
                id: text.to_owned(),
                ch,
            });
        }
        if text.len() > MAX_ID_LEN {
            return Err(InvalidId::TooLong(text.to_owned()));
        }
        Ok(Self(text.into()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RevisionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RevisionId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// One direction of a revision: the SQL and whether it runs inside a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The SQL text between this marker and the next one (or the end of the file).
    pub sql: String,
    /// False for `-- revise:up transaction=false`: the statements run one by one, outside a
    /// transaction, for statements such as `CREATE INDEX CONCURRENTLY`.
    pub transactional: bool,
    /// The line of the marker, so that a failing statement can be located. (`u32`, like the
    /// header lines: 10,000 revisions are held at once, so every byte of them counts.)
    pub line: u32,
    /// How many lines below the marker `sql` starts (the blank lines the parser trimmed
    /// away), so that a place in `sql` maps back to a line of the file. A `u16` fits in the
    /// padding after `line`; it saturates, so only a section whose SQL starts more than
    /// 65,535 lines below its marker would point at the wrong line. Zero in the headers kept
    /// by the read-only commands, which carry no SQL.
    pub leading_lines: u16,
}

impl Section {
    /// The file line on which `sql` starts.
    pub fn sql_line(&self) -> usize {
        shown_line(self.line)
            .saturating_add(1)
            .saturating_add(usize::from(self.leading_lines))
    }

    /// The file line of byte `offset` of `sql` (every line break in `sql` is one in the file:
    /// the parser only turns CRLF into LF).
    pub fn line_of(&self, offset: usize) -> usize {
        let before = self.sql.get(..offset).unwrap_or(&self.sql);
        self.sql_line()
            .saturating_add(before.bytes().filter(|&b| b == b'\n').count())
    }
}

/// Where a revision came from: its member and its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The branch label of the member that holds the file (its package name by default),
    /// shared by the member's revisions: one allocation per member, not per file.
    pub member: Arc<str>,
    /// The file, as it should be shown to a user (relative to the workspace root when known).
    pub path: PathBuf,
}

/// The header lines a reference came from, so graph errors can point at them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderLines {
    /// The line of `Revision ID:`.
    pub id: u32,
    /// The line of `Revises:` (0 when absent).
    pub revises: u32,
    /// The line of `Depends On:` (0 when absent).
    pub depends_on: u32,
    /// The line of `Branch Labels:` (0 when absent).
    pub branch_labels: u32,
}

/// A line number as a revision keeps it: 32 bits, saturating (a file of four billion lines
/// is never read), because 10,000 revisions are held at once.
pub(crate) fn stored_line(number: usize) -> u32 {
    u32::try_from(number).unwrap_or(u32::MAX)
}

/// A kept line number as errors show it.
pub(crate) fn shown_line(line: u32) -> usize {
    usize::try_from(line).unwrap_or(usize::MAX)
}

/// One revision file, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    /// The `Revision ID:` of the header; authoritative over the file name.
    pub id: RevisionId,
    /// The first header line: what the revision does, for humans.
    pub message: Box<str>,
    /// `Revises:`: the parents in this member (several for a merge point, none for the root).
    pub revises: Box<[RevisionId]>,
    /// `Depends On:`: revisions (ids, unique prefixes or labels) that must be applied first
    /// without being parents; resolved by the graph.
    pub depends_on: Box<[String]>,
    /// `Branch Labels:`: extra labels declared by this revision.
    pub branch_labels: Box<[String]>,
    /// `Create Date:` as written, if any.
    pub create_date: Option<Box<str>>,
    /// The upgrade SQL.
    pub up: Section,
    /// The downgrade SQL; `None` makes the revision irreversible.
    pub down: Option<Section>,
    /// The member and file it came from.
    pub origin: Origin,
    /// Where the header's references were written.
    pub lines: HeaderLines,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A graph holds every revision at once (10,000 in the benchmark, whose memory target is
    /// 16 MB for the whole command): a field that makes `Revision` larger costs that many
    /// times its size. 304 bytes before the fields were made compact.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_revision_stays_compact() {
        let size = std::mem::size_of::<Revision>();
        assert!(size <= 216, "Revision grew to {size} bytes");
    }
}
