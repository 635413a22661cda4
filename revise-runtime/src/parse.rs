//! Revision file text to a [`Revision`], with the file and line of every mistake.
//!
//! The format is SPEC section 3: a header of `--` comment lines (the message, then
//! `Key: value` lines), then `-- revise:up` and optionally `-- revise:down` sections.
//! This module never touches the file system; `source.rs` reads the bytes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::revision::{
    shown_line, stored_line, HeaderLines, InvalidId, Origin, Revision, RevisionId, Section,
};

/// A mistake in one revision file, with where it is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {kind}", path.display())]
pub struct ParseError {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line.
    pub line: usize,
    /// What was wrong.
    pub kind: ParseErrorKind,
}

/// What was wrong in a revision file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// The file has no content at all.
    #[error("the file is empty; expected a header starting with `-- <message>` and a `-- revise:up` marker")]
    Empty,
    /// The bytes are not UTF-8.
    #[error("the file is not valid UTF-8 (invalid byte at column {column}); save it as UTF-8")]
    NotUtf8 {
        /// The 1-based byte column of the first invalid byte.
        column: usize,
    },
    /// SQL appears before the first marker.
    #[error("expected a `--` header line or the `-- revise:up` marker, found `{0}`")]
    UnexpectedLine(String),
    /// A header line is not `Key: value`.
    #[error("expected a header line `Key: value`, found `{0}`")]
    NotKeyValue(String),
    /// A header key that the format does not define.
    #[error("unknown header key `{0}`; expected one of `Revision ID`, `Revises`, `Create Date`, `Depends On`, `Branch Labels`")]
    UnknownKey(String),
    /// The same key twice.
    #[error("header key `{key}` appears twice (first on line {first_line})")]
    DuplicateKey {
        /// The key as written the second time.
        key: String,
        /// Where it was written first.
        first_line: usize,
    },
    /// No `Revision ID:` line.
    #[error("the header has no `Revision ID:` line")]
    MissingId,
    /// An id that cannot be stored or is unsafe.
    #[error("{0}")]
    InvalidId(InvalidId),
    /// A branch label that cannot be used in a target.
    #[error("branch label `{0}` is not valid; labels are non-empty and contain no spaces, `@`, `,`, `+` or `:`")]
    InvalidLabel(String),
    /// No `-- revise:up` marker.
    #[error(
        "no `-- revise:up` marker; every revision needs one (add `-- revise:up` before its SQL)"
    )]
    MissingUp,
    /// A marker other than up or down.
    #[error("unknown marker `{0}`; expected `-- revise:up` or `-- revise:down`")]
    UnknownMarker(String),
    /// A marker option other than `transaction=true|false`.
    #[error("unknown marker option `{0}`; the only option is `transaction=false` (or `transaction=true`)")]
    UnknownMarkerOption(String),
    /// Two up (or two down) markers.
    #[error("a second `-- revise:{direction}` marker (the first is on line {first_line})")]
    DuplicateMarker {
        /// `up` or `down`.
        direction: &'static str,
        /// Where the first one is.
        first_line: usize,
    },
}

/// Parses the bytes of one revision file that belongs to `member`.
///
/// `path` is only used in the result and in errors.
pub fn parse_revision(path: &Path, member: &str, bytes: &[u8]) -> Result<Revision, ParseError> {
    parse(path, &Arc::from(member), bytes, true)
}

/// Like [`parse_revision`], with every check, but leaves the sections' SQL empty: for
/// commands that only read the graph (`heads`, `history`, `current`, ...), which then keep
/// no SQL text in memory.
pub fn parse_revision_without_sql(
    path: &Path,
    member: &str,
    bytes: &[u8],
) -> Result<Revision, ParseError> {
    parse(path, &Arc::from(member), bytes, false)
}

/// [`parse_revision`] (with `keep_sql`) or [`parse_revision_without_sql`], for a member
/// whose label the caller shares among its files.
pub(crate) fn parse(
    path: &Path,
    member: &Arc<str>,
    bytes: &[u8],
    keep_sql: bool,
) -> Result<Revision, ParseError> {
    let error = |line: usize, kind: ParseErrorKind| ParseError {
        path: path.to_owned(),
        line,
        kind,
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        error(
            line,
            ParseErrorKind::NotUtf8 {
                column: e.valid_up_to() - line_start + 1,
            },
        )
    })?;
    if text.trim().is_empty() {
        return Err(error(1, ParseErrorKind::Empty));
    }
    let mut parser = FileParser {
        keep_sql,
        ..FileParser::default()
    };
    let mut line_start = 0;
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        parser
            .line(text, line_start, index + 1, line)
            .map_err(|kind| error(index + 1, kind))?;
        line_start += raw.len() + 1;
    }
    parser.close_section(text, text.len());
    let line_count = text.lines().count().max(1);
    parser
        .finish(path, member)
        .map_err(|(line, kind)| error(line.unwrap_or(line_count), kind))
}

/// The keys a header may hold, in their canonical spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HeaderKey {
    RevisionId,
    Revises,
    CreateDate,
    DependsOn,
    BranchLabels,
}

impl HeaderKey {
    /// The key `name` spells, ignoring case and the amount of white space between words.
    /// Compared word by word: this runs for every header line of every file.
    fn from_name(name: &str) -> Option<Self> {
        const KEYS: [(HeaderKey, &[&str]); 5] = [
            (HeaderKey::RevisionId, &["revision", "id"]),
            (HeaderKey::Revises, &["revises"]),
            (HeaderKey::CreateDate, &["create", "date"]),
            (HeaderKey::DependsOn, &["depends", "on"]),
            (HeaderKey::BranchLabels, &["branch", "labels"]),
        ];
        KEYS.iter().find_map(|(key, words)| {
            let mut written = name.split_whitespace();
            let same = words
                .iter()
                .all(|word| written.next().is_some_and(|w| w.eq_ignore_ascii_case(word)));
            (same && written.next().is_none()).then_some(*key)
        })
    }
}

/// A `-- revise:...` marker line.
struct Marker {
    up: bool,
    transactional: bool,
}

/// Line-by-line state: the header, then the sections.
#[derive(Default)]
struct FileParser {
    message: Option<String>,
    seen_keys: Vec<(HeaderKey, usize)>,
    id: Option<RevisionId>,
    revises: Vec<RevisionId>,
    depends_on: Vec<String>,
    branch_labels: Vec<String>,
    create_date: Option<String>,
    lines: HeaderLines,
    up: Option<Section>,
    down: Option<Section>,
    /// Which section lines go to: `Some(true)` up, `Some(false)` down, `None` still the header.
    /// The open section (`Some(true)` for up), and the byte where its SQL starts.
    current: Option<bool>,
    section_start: usize,
    keep_sql: bool,
}

impl FileParser {
    /// Takes line `number`, which starts at byte `line_start` of `text`. SQL lines are only
    /// skipped here: a section's text is cut out of `text` in one piece when it closes.
    fn line(
        &mut self,
        text: &str,
        line_start: usize,
        number: usize,
        line: &str,
    ) -> Result<(), ParseErrorKind> {
        if let Some(marker) = parse_marker(line)? {
            self.close_section(text, line_start);
            // The marker's own line break (LF or CRLF) is not part of the section.
            let after_marker = text[line_start..]
                .find('\n')
                .map_or(text.len(), |p| line_start + p + 1);
            return self.open_section(number, after_marker, marker);
        }
        match self.current {
            Some(_) => Ok(()),
            None => self.header_line(number, line),
        }
    }

    /// Ends the open section (if any) at byte `end`: its SQL is the text since its marker,
    /// trimmed, with CRLF line ends turned into LF.
    fn close_section(&mut self, text: &str, end: usize) {
        let Some(up) = self.current.filter(|_| self.keep_sql) else {
            return;
        };
        let section = if up { &mut self.up } else { &mut self.down };
        if let Some(section) = section {
            let raw = &text[self.section_start..end];
            let sql = raw.trim();
            let skipped = &raw[..raw.len() - raw.trim_start().len()];
            let leading = skipped.bytes().filter(|&b| b == b'\n').count();
            section.leading_lines = u16::try_from(leading).unwrap_or(u16::MAX);
            section.sql = if sql.contains('\r') {
                sql.replace("\r\n", "\n")
            } else {
                sql.to_owned()
            };
        }
    }

    fn header_line(&mut self, number: usize, line: &str) -> Result<(), ParseErrorKind> {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return Ok(());
        }
        let Some(comment) = trimmed.strip_prefix("--") else {
            return Err(ParseErrorKind::UnexpectedLine(shorten(trimmed)));
        };
        let content = comment.trim();
        if self.message.is_none() {
            // The first header line is the message, unless the author left the message out
            // and started with a key.
            let starts_with_key = content
                .split_once(':')
                .is_some_and(|(key, _)| HeaderKey::from_name(key).is_some());
            if !starts_with_key {
                self.message = Some(content.to_owned());
                return Ok(());
            }
            self.message = Some(String::new());
        }
        if content.is_empty() {
            return Ok(());
        }
        let Some((name, value)) = content.split_once(':') else {
            return Err(ParseErrorKind::NotKeyValue(shorten(content)));
        };
        let key = HeaderKey::from_name(name)
            .ok_or_else(|| ParseErrorKind::UnknownKey(name.trim().to_owned()))?;
        if let Some((_, first_line)) = self.seen_keys.iter().find(|(k, _)| *k == key) {
            return Err(ParseErrorKind::DuplicateKey {
                key: name.trim().to_owned(),
                first_line: *first_line,
            });
        }
        self.seen_keys.push((key, number));
        self.header_value(number, key, value.trim())
    }

    fn header_value(
        &mut self,
        number: usize,
        key: HeaderKey,
        value: &str,
    ) -> Result<(), ParseErrorKind> {
        match key {
            HeaderKey::RevisionId => {
                self.id = Some(RevisionId::new(value).map_err(ParseErrorKind::InvalidId)?);
                self.lines.id = stored_line(number);
            }
            HeaderKey::Revises => {
                // Sized exactly: a collected Vec would reserve four slots for the usual one.
                let mut revises = Vec::with_capacity(split_list(value).count());
                for id in split_list(value) {
                    revises.push(RevisionId::new(id).map_err(ParseErrorKind::InvalidId)?);
                }
                self.revises = revises;
                self.lines.revises = stored_line(number);
            }
            HeaderKey::CreateDate => self.create_date = Some(value.to_owned()),
            HeaderKey::DependsOn => {
                self.depends_on = split_list(value).map(str::to_owned).collect();
                if let Some(bad) = self.depends_on.iter().find(|d| !is_valid_label(d)) {
                    return Err(ParseErrorKind::InvalidLabel(bad.clone()));
                }
                self.lines.depends_on = stored_line(number);
            }
            HeaderKey::BranchLabels => {
                self.branch_labels = split_list(value).map(str::to_owned).collect();
                if let Some(bad) = self.branch_labels.iter().find(|l| !is_valid_label(l)) {
                    return Err(ParseErrorKind::InvalidLabel(bad.clone()));
                }
                self.lines.branch_labels = stored_line(number);
            }
        }
        Ok(())
    }

    fn open_section(
        &mut self,
        number: usize,
        sql_start: usize,
        marker: Marker,
    ) -> Result<(), ParseErrorKind> {
        let (slot, direction) = if marker.up {
            (&mut self.up, "up")
        } else {
            (&mut self.down, "down")
        };
        if let Some(existing) = slot {
            return Err(ParseErrorKind::DuplicateMarker {
                direction,
                first_line: shown_line(existing.line),
            });
        }
        *slot = Some(Section {
            sql: String::new(),
            transactional: marker.transactional,
            line: stored_line(number),
            leading_lines: 0,
        });
        self.current = Some(marker.up);
        self.section_start = sql_start;
        Ok(())
    }

    fn finish(
        self,
        path: &Path,
        member: &Arc<str>,
    ) -> Result<Revision, (Option<usize>, ParseErrorKind)> {
        let id = self.id.ok_or((Some(1), ParseErrorKind::MissingId))?;
        let up = self.up.ok_or((None, ParseErrorKind::MissingUp))?;
        let down = self.down;
        Ok(Revision {
            id,
            message: self.message.unwrap_or_default().into_boxed_str(),
            revises: self.revises.into_boxed_slice(),
            depends_on: self.depends_on.into_boxed_slice(),
            branch_labels: self.branch_labels.into_boxed_slice(),
            create_date: self.create_date.map(String::into_boxed_str),
            up,
            down,
            origin: Origin {
                member: Arc::clone(member),
                path: path.to_owned(),
            },
            lines: self.lines,
        })
    }
}

/// Recognizes `-- revise:up [transaction=false]` and `-- revise:down [...]`.
fn parse_marker(line: &str) -> Result<Option<Marker>, ParseErrorKind> {
    let Some(rest) = line.trim_start().strip_prefix("--") else {
        return Ok(None);
    };
    let Some(rest) = rest.trim_start().strip_prefix("revise:") else {
        return Ok(None);
    };
    let mut words = rest.split_whitespace();
    let up = match words.next() {
        Some("up") => true,
        Some("down") => false,
        other => {
            return Err(ParseErrorKind::UnknownMarker(format!(
                "revise:{}",
                other.unwrap_or("")
            )))
        }
    };
    let mut transactional = true;
    for option in words {
        transactional = match option {
            "transaction=false" => false,
            "transaction=true" => true,
            other => return Err(ParseErrorKind::UnknownMarkerOption(other.to_owned())),
        };
    }
    Ok(Some(Marker { up, transactional }))
}

fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// Whether `label` can be a branch label: labels appear in targets (`LABEL@head`), so they
/// must not contain the target syntax.
pub fn is_valid_label(label: &str) -> bool {
    !label.is_empty()
        && !label
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '@' | ',' | '+' | ':' | '\'' | '"' | ';'))
}

fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Revision, ParseError> {
        parse_revision(Path::new("m/migrations/x.sql"), "m", text.as_bytes())
    }

    fn kind(text: &str) -> (usize, ParseErrorKind) {
        let err = parse(text).expect_err("should fail");
        (err.line, err.kind)
    }

    const FULL: &str = "-- Add priority column to examples\n--\n-- Revision ID: 3f2a9c1b7d4e\n-- Revises: 9b1c0d2e4f6a\n-- Create Date: 2026-11-23 12:00:00.000000\n-- Depends On: a1b2c3d4e5f6\n-- Branch Labels: priorities\n\n-- revise:up\nALTER TABLE examples ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;\n\n-- revise:down\nALTER TABLE examples DROP COLUMN priority;\n";

    #[test]
    fn parses_the_spec_example() {
        let rev = parse(FULL).expect("valid");
        assert_eq!(rev.id.as_str(), "3f2a9c1b7d4e");
        assert_eq!(&*rev.message, "Add priority column to examples");
        assert_eq!(*rev.revises, [RevisionId::new("9b1c0d2e4f6a").unwrap()]);
        assert_eq!(*rev.depends_on, ["a1b2c3d4e5f6"]);
        assert_eq!(*rev.branch_labels, ["priorities"]);
        assert_eq!(
            rev.up.sql,
            "ALTER TABLE examples ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;"
        );
        assert!(rev.up.transactional);
        assert_eq!(rev.up.line, 9);
        assert_eq!(
            rev.down.expect("down").sql,
            "ALTER TABLE examples DROP COLUMN priority;"
        );
        assert_eq!(rev.lines.revises, 4);
    }

    #[test]
    fn keys_are_case_insensitive_and_crlf_and_bom_are_accepted() {
        let text =
            "\u{feff}-- msg\r\n-- revision id: abc\r\n-- REVISES:\r\n-- revise:up\r\nSELECT 1;\r\n";
        let rev = parse(text).expect("valid");
        assert_eq!(rev.id.as_str(), "abc");
        assert!(rev.revises.is_empty());
        assert_eq!(rev.up.sql, "SELECT 1;");
        assert!(rev.down.is_none());
    }

    #[test]
    fn a_place_in_the_sql_maps_back_to_its_file_line() {
        let text = "-- m\r\n-- Revision ID: a\r\n-- revise:up\r\n\r\n  \r\nSELECT 1;\r\nSELECT\r\n  2;\r\n-- revise:down\nSELECT 3;";
        let rev = parse(text).expect("valid");
        assert_eq!(rev.up.line, 3);
        assert_eq!(rev.up.leading_lines, 2);
        assert_eq!(rev.up.sql_line(), 6);
        assert_eq!(rev.up.line_of(0), 6);
        let two = rev.up.sql.find('2').expect("a 2");
        assert_eq!(rev.up.line_of(two), 8);
        let down = rev.down.expect("down");
        assert_eq!((down.sql_line(), down.leading_lines), (10, 0));
    }

    #[test]
    fn crlf_inside_sections_becomes_lf_and_lone_carriage_returns_stay() {
        let text = "-- m\r\n-- Revision ID: a\r\n-- revise:up\r\nSELECT 1;\r\nSELECT '\r';\r\n\r\n-- revise:down\r\nSELECT 2;";
        let rev = parse(text).expect("valid");
        assert_eq!(rev.up.sql, "SELECT 1;\nSELECT '\r';");
        assert_eq!(rev.down.expect("down").sql, "SELECT 2;");
    }

    #[test]
    fn the_header_only_parse_agrees_on_everything_but_the_sql() {
        let path = Path::new("m/migrations/x.sql");
        let mut full = parse(FULL).expect("valid");
        let headers = parse_revision_without_sql(path, "m", FULL.as_bytes()).expect("valid");
        assert!(headers.up.sql.is_empty());
        full.up.sql.clear();
        full.up.leading_lines = 0;
        if let Some(down) = &mut full.down {
            down.sql.clear();
            down.leading_lines = 0;
        }
        assert_eq!(headers, full);
        let broken = "-- m\n-- Revision ID: a\n-- revise:up\nSELECT 1;\n-- revise:sideways\n";
        assert_eq!(
            parse_revision_without_sql(path, "m", broken.as_bytes()),
            parse(broken)
        );
    }

    #[test]
    fn merge_points_list_several_parents() {
        let rev =
            parse("-- m\n-- Revision ID: m\n-- Revises: a, b\n-- revise:up\n").expect("valid");
        assert_eq!(rev.revises.len(), 2);
        assert_eq!(rev.up.sql, "");
    }

    #[test]
    fn transaction_false_is_read_from_the_marker() {
        let rev = parse("-- m\n-- Revision ID: a\n-- revise:up transaction=false\nCREATE INDEX CONCURRENTLY i ON t (c);\n-- revise:down\nDROP INDEX i;\n").expect("valid");
        assert!(!rev.up.transactional);
        assert!(rev.down.expect("down").transactional);
    }

    #[test]
    fn bad_inputs_name_the_line() {
        assert_eq!(kind(""), (1, ParseErrorKind::Empty));
        assert_eq!(
            kind("-- m\n-- Revises:\n-- revise:up\n"),
            (1, ParseErrorKind::MissingId)
        );
        assert_eq!(
            kind("-- m\n-- Revision ID: a\n-- Author: me\n-- revise:up\n"),
            (3, ParseErrorKind::UnknownKey("Author".into()))
        );
        assert_eq!(kind("-- m\n-- Revision ID: a\nSELECT 1;\n").0, 3);
        assert_eq!(
            kind("-- m\n-- Revision ID: a\n\nSELECT 1;\n").1,
            ParseErrorKind::UnexpectedLine("SELECT 1;".into())
        );
        assert_eq!(
            kind("-- m\n-- Revision ID: a\n-- nothing here\n-- revise:up\n").0,
            3
        );
        assert_eq!(
            kind("-- m\n-- Revision ID: a\n").1,
            ParseErrorKind::MissingUp
        );
        assert_eq!(
            kind("-- m\n-- Revision ID: a\n-- revise:up\n-- revise:up\n"),
            (
                4,
                ParseErrorKind::DuplicateMarker {
                    direction: "up",
                    first_line: 3
                }
            )
        );
        assert_eq!(kind("-- m\n-- Revision ID: a\n-- revise:sideways\n").0, 3);
        assert_eq!(
            kind("-- m\n-- Revision ID: a\n-- revise:up transaction=maybe\n").0,
            3
        );
        assert_eq!(
            kind("-- m\n-- Revision ID: a\n-- Revision ID: b\n-- revise:up\n"),
            (
                3,
                ParseErrorKind::DuplicateKey {
                    key: "Revision ID".into(),
                    first_line: 2
                }
            )
        );
    }

    #[test]
    fn ids_are_checked() {
        let long = "a".repeat(33);
        let (line, kind) = kind(&format!("-- m\n-- Revision ID: {long}\n-- revise:up\n"));
        assert_eq!(line, 2);
        assert!(matches!(
            kind,
            ParseErrorKind::InvalidId(InvalidId::TooLong(_))
        ));
        let (line, kind) =
            kind_of("-- m\n-- Revision ID: a\n-- Revises: x'; DROP TABLE t; --\n-- revise:up\n");
        assert_eq!(line, 3);
        assert!(matches!(
            kind,
            ParseErrorKind::InvalidId(InvalidId::BadCharacter { .. })
        ));
    }

    fn kind_of(text: &str) -> (usize, ParseErrorKind) {
        kind(text)
    }

    #[test]
    fn non_utf8_names_line_and_column() {
        let err = parse_revision(
            Path::new("x.sql"),
            "m",
            b"-- m\n-- Revision ID: a\n-- revise:up\nSELECT '\xff';\n",
        )
        .expect_err("not utf-8");
        assert_eq!(err.line, 4);
        assert_eq!(err.kind, ParseErrorKind::NotUtf8 { column: 9 });
    }

    #[test]
    fn a_header_without_message_starts_with_a_key() {
        let rev = parse("-- Revision ID: a\n-- revise:up\n").expect("valid");
        assert_eq!(&*rev.message, "");
    }
}
