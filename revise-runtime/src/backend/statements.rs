//! Splits a section into single statements.
//!
//! PostgreSQL runs a multi-statement string as one implicit transaction, which statements
//! such as `CREATE INDEX CONCURRENTLY` refuse, so `transaction=false` sections are sent one
//! statement at a time; MySQL sections too, so that a failure can name what ran before it;
//! and a failed section is split to tell which statement failed (`locate.rs`).
//!
//! Semicolons inside quotes, comments and dollar-quoted bodies do not split, nor those inside
//! the `BEGIN ... END` body of a `CREATE TRIGGER`, `PROCEDURE`, `FUNCTION` or `EVENT`
//! (SQLite's and MySQL's trigger bodies, MySQL's stored programs, PostgreSQL's `BEGIN
//! ATOMIC`), which the server parses as one statement.

use std::ops::Range;

/// The statements of `sql`, trimmed, without empty ones.
pub fn split_statements(sql: &str) -> Vec<&str> {
    statement_spans(sql)
        .into_iter()
        .map(|span| &sql[span])
        .collect()
}

/// Where each statement of `sql` lies (byte ranges, trimmed, without `;`), so that a place
/// in `sql` can be traced to its statement and back to a line of the file.
pub fn statement_spans(sql: &str) -> Vec<Range<usize>> {
    let bytes = sql.as_bytes();
    let mut spans = Vec::new();
    let mut start = 0;
    let mut block = BlockDepth::default();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' | b'`' => i = skip_quoted(bytes, i),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |p| i + p + 1)
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |p| p + 2)
            }
            b'$' => i = skip_dollar_quoted(bytes, i),
            b';' if block.depth == 0 => {
                push_span(&mut spans, sql, start..i);
                i += 1;
                start = i;
                block = BlockDepth::default();
            }
            b if is_word_byte(b) => {
                let end = bytes[i..]
                    .iter()
                    .position(|&b| !is_word_byte(b))
                    .map_or(bytes.len(), |p| i + p);
                block.word(&sql[i..end], || next_word(sql, end));
                i = end;
            }
            _ => i += 1,
        }
    }
    push_span(&mut spans, sql, start..bytes.len());
    spans
}

/// Tracks `BEGIN ... END` inside a statement that creates a trigger or a stored program,
/// where semicolons end the body's statements, not the statement itself.
#[derive(Default)]
struct BlockDepth {
    /// Words seen in this statement so far.
    words: usize,
    /// The statement starts with `CREATE`.
    creates: bool,
    /// A `TRIGGER`, `PROCEDURE`, `FUNCTION` or `EVENT` keyword has been seen after `CREATE`.
    program: bool,
    /// Open `BEGIN` (and, inside one, `CASE`) blocks.
    depth: usize,
    /// The previous word was an `END` that takes the next word with it (`END CASE`).
    after_end: bool,
}

impl BlockDepth {
    fn word<'a>(&mut self, word: &str, next: impl FnOnce() -> Option<&'a str>) {
        let is = |keyword: &str| word.eq_ignore_ascii_case(keyword);
        self.words += 1;
        if self.words == 1 {
            self.creates = is("CREATE");
            return;
        }
        if !self.creates {
            return;
        }
        if !self.program {
            self.program = ["TRIGGER", "PROCEDURE", "FUNCTION", "EVENT"]
                .iter()
                .any(|k| is(k));
            return;
        }
        if std::mem::take(&mut self.after_end) {
            return;
        }
        if is("BEGIN") || (self.depth > 0 && is("CASE")) {
            self.depth += 1;
        } else if self.depth > 0 && is("END") {
            let next = next();
            let names = |keywords: &[&str]| {
                next.is_some_and(|n| keywords.iter().any(|k| n.eq_ignore_ascii_case(k)))
            };
            // `END IF`, `END LOOP`, ... close blocks that were never counted; `END CASE`
            // closes a counted one. Either way the next word belongs to this `END`.
            self.after_end = names(&["IF", "LOOP", "WHILE", "REPEAT", "CASE"]);
            if !names(&["IF", "LOOP", "WHILE", "REPEAT"]) {
                self.depth -= 1;
            }
        }
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The word that follows `from` after white space, if any.
fn next_word(sql: &str, from: usize) -> Option<&str> {
    let rest = sql[from..].trim_start();
    let len = rest
        .bytes()
        .position(|b| !is_word_byte(b))
        .unwrap_or(rest.len());
    (len > 0).then(|| &rest[..len])
}

fn push_span(spans: &mut Vec<Range<usize>>, sql: &str, span: Range<usize>) {
    let text = &sql[span.clone()];
    let start = span.start + (text.len() - text.trim_start().len());
    let end = span.start + text.trim_end().len();
    if start < end && !is_only_comments(&sql[start..end]) {
        spans.push(start..end);
    }
}

/// True when `sql` holds no statement: only white space, comments and semicolons. (The
/// quick question every step asks, without splitting.)
pub fn has_no_statements(sql: &str) -> bool {
    let mut rest = sql;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        if rest.is_empty() {
            return true;
        }
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r);
        } else {
            return false;
        }
    }
}

/// True for text that holds nothing but whitespace and comments.
fn is_only_comments(text: &str) -> bool {
    let mut rest = text.trim_start();
    loop {
        if rest.is_empty() {
            return true;
        }
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            return false;
        }
    }
}

/// The first keyword of a statement, after any leading comments.
#[cfg(any(feature = "diesel", test))]
pub(crate) fn first_keyword(statement: &str) -> &str {
    let mut rest = statement.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    let len = rest
        .bytes()
        .position(|b| !is_word_byte(b))
        .unwrap_or(rest.len());
    &rest[..len]
}

/// Skips a quoted string whose quote is doubled to escape it ('it''s').
fn skip_quoted(bytes: &[u8], open: usize) -> usize {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() {
        if bytes[i] == b'\\' && quote != b'"' {
            i += 2;
            continue;
        }
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// Skips `$tag$ ... $tag$` (PostgreSQL); a lone `$` (as in `$1`) is ordinary text.
fn skip_dollar_quoted(bytes: &[u8], open: usize) -> usize {
    let tag_end = bytes[open + 1..]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .map(|p| open + 1 + p);
    match tag_end {
        Some(end)
            if bytes[end] == b'$'
                && !bytes[open + 1..end].first().is_some_and(u8::is_ascii_digit) =>
        {
            let tag = &bytes[open..=end];
            find(bytes, end + 1, tag).map_or(bytes.len(), |p| p + tag.len())
        }
        _ => open + 1,
    }
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_semicolons_outside_quotes_comments_and_dollar_bodies() {
        let sql = "CREATE TABLE t (a TEXT DEFAULT 'x;y');\n-- a comment; still a comment\nINSERT INTO t VALUES ('it''s; fine');\nCREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n/* block; comment */ SELECT $1;\n";
        let statements = split_statements(sql);
        assert_eq!(statements.len(), 4, "{statements:#?}");
        assert!(statements[2].ends_with("LANGUAGE sql"));
        assert_eq!(statements[3], "/* block; comment */ SELECT $1");
    }

    #[test]
    fn comments_and_blanks_alone_are_not_statements() {
        assert!(split_statements("  -- nothing\n/* at all */ ;; ").is_empty());
        assert_eq!(split_statements("SELECT 1"), vec!["SELECT 1"]);
        assert_eq!(
            split_statements("SELECT 'unterminated;"),
            vec!["SELECT 'unterminated;"]
        );
    }

    #[test]
    fn a_section_without_statements_is_recognised_without_splitting() {
        for sql in ["", " ;; ", "-- only\n/* comments */;", "/* open"] {
            assert!(has_no_statements(sql), "{sql:?}");
            assert!(statement_spans(sql).is_empty(), "{sql:?}");
        }
        for sql in ["SELECT 1", "-- c\n;x", "/* c */ y"] {
            assert!(!has_no_statements(sql), "{sql:?}");
        }
    }

    #[test]
    fn spans_point_into_the_text() {
        let sql = "\n  SELECT 1;\n\nSELECT\n  2 ;  ";
        let spans = statement_spans(sql);
        assert_eq!(spans.len(), 2);
        assert_eq!(&sql[spans[0].clone()], "SELECT 1");
        assert_eq!(&sql[spans[1].clone()], "SELECT\n  2");
        assert_eq!(spans[1].start, sql.find("SELECT\n").expect("there"));
    }

    #[test]
    fn trigger_and_stored_program_bodies_are_one_statement() {
        let sqlite = "CREATE TRIGGER tr AFTER INSERT ON t WHEN NEW.a > 0 BEGIN\n  UPDATE t SET b = CASE WHEN a > 1 THEN 1 ELSE 0 END;\n  DELETE FROM u;\nEND;\nSELECT 1;";
        assert_eq!(split_statements(sqlite).len(), 2, "{sqlite}");
        let mysql = "CREATE DEFINER = `root`@`%` PROCEDURE p()\nlabel: BEGIN\n  IF 1 THEN SELECT 1; END IF;\n  CASE WHEN 1 THEN SELECT 2; END CASE;\n  WHILE 0 DO SELECT 3; END WHILE;\n  BEGIN SELECT 4; END;\nEND label;\nINSERT INTO t VALUES (1);";
        let statements = split_statements(mysql);
        assert_eq!(statements.len(), 2, "{statements:#?}");
        assert!(statements[0].ends_with("END label"));
        let atomic = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\nSELECT f();";
        assert_eq!(split_statements(atomic).len(), 2);
        // Outside such statements BEGIN and END are transaction control.
        assert_eq!(
            split_statements("BEGIN; SELECT 1; END; COMMIT;"),
            vec!["BEGIN", "SELECT 1", "END", "COMMIT"]
        );
    }

    proptest::proptest! {
        /// On any mix of SQL's tricky pieces: spans lie in order inside the text, on
        /// character boundaries, trimmed; the quick emptiness check agrees with splitting.
        #[test]
        fn spans_are_ordered_trimmed_slices(pieces in proptest::collection::vec(
            proptest::sample::select(vec![
                "SELECT 1", "'a;b'", "\"q;\"", "-- c;\n", "/* d; */", "$$ e; $$", "$t$ f; $t$",
                ";", " ", "\n", "BEGIN", "END", "END IF", "CASE", "CREATE TRIGGER t", "é", "$1",
                "`x;`", "/*", "'", "--",
            ]),
            0..24,
        )) {
            let sql: String = pieces.concat();
            let spans = statement_spans(&sql);
            let mut previous_end = 0;
            for span in &spans {
                proptest::prop_assert!(previous_end <= span.start && span.start < span.end);
                proptest::prop_assert!(span.end <= sql.len());
                let text = sql.get(span.clone());
                proptest::prop_assert!(text.is_some(), "not on character boundaries");
                let text = text.unwrap_or_default();
                proptest::prop_assert_eq!(text, text.trim());
                previous_end = span.end;
            }
            proptest::prop_assert_eq!(has_no_statements(&sql), spans.is_empty(), "{:?}", sql);
        }
    }

    #[test]
    fn the_first_keyword_skips_comments() {
        assert_eq!(first_keyword("-- why\n/* how */ commit"), "commit");
        assert_eq!(first_keyword("SELECT 1"), "SELECT");
    }
}
