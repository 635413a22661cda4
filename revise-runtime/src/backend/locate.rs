//! Which statement of a failed section failed, and what the database said about it.
//!
//! A transactional section runs as one batch, as it always has: a success costs nothing
//! extra. Only after a failure is the statement looked for:
//!
//! - PostgreSQL's error position (a character offset into the text sent) points into the
//!   statement directly, for errors found while parsing and planning (syntax, unknown
//!   table or column, a type mismatch).
//! - Otherwise (SQLite, or a PostgreSQL error found while executing: a unique violation, an
//!   exception raised by a function), the section is re-run statement by statement in a
//!   transaction that is always rolled back, and the statement that fails with the same
//!   message is the one. See [`replay`] for when that is not done.
//! - MySQL sections and `transaction=false` sections already run statement by statement.

use std::ops::Range;
use std::time::Duration;

use diesel::result::{DatabaseErrorKind, Error};

use super::statements::{first_keyword, statement_spans};
use super::steps::{SqlConnection, TxError};
use crate::failure::{FailedStatement, SqlFailure, TextPosition};
use crate::revision::Section;

/// The longest a failed batch may have run for the section to be re-run to find its
/// failing statement: the re-run takes about as long again, holding the same locks.
pub(crate) const REPLAY_LIMIT: Duration = Duration::from_secs(10);

/// Statements that end, start or leave the enclosing transaction, or that act on other
/// databases: a section holding one is never re-run, since the re-run could keep effects.
const NOT_REPLAYED: [&str; 8] = [
    "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "ATTACH", "DETACH",
];

/// What a failed batch of `section` tells: the database's words and the statement, when
/// the error points into the text (PostgreSQL's position, a NUL byte) or the section has
/// only one.
pub(crate) fn batch_failure<C: SqlConnection>(
    conn: &mut C,
    section: &Section,
    error: &Error,
) -> SqlFailure {
    let mut failure = describe(conn, error);
    let spans = statement_spans(&section.sql);
    let offset = error_offset(&section.sql, 0, error);
    let index = match offset {
        Some(offset) => spans.iter().rposition(|span| span.start <= offset),
        // A section of one statement needs no position.
        None => (spans.len() == 1).then_some(0),
    };
    if let Some(index) = index.or(offset.map(|_| 0)) {
        failure.statement = statement(section, &spans, index, offset);
    }
    failure
}

/// What a failure of statement `index` (of `spans`, run on its own) tells.
pub(crate) fn statement_failure<C: SqlConnection>(
    conn: &mut C,
    section: &Section,
    spans: &[Range<usize>],
    index: usize,
    error: &Error,
) -> SqlFailure {
    let mut failure = describe(conn, error);
    let start = spans.get(index).map_or(0, |span| span.start);
    let offset = error_offset(&section.sql, start, error);
    failure.statement = statement(section, spans, index, offset);
    failure
}

/// Whether a failed batch that gave no position is worth re-running: not when it ran for
/// longer than [`REPLAY_LIMIT`], nor when the failure came from other sessions rather than
/// from the SQL (a serialization failure, a lost connection, SQLite's busy database), which
/// a re-run would not meet again.
pub(crate) fn worth_replaying(error: &Error, ran_for: Duration) -> bool {
    let transient = match error {
        Error::DatabaseError(
            DatabaseErrorKind::SerializationFailure | DatabaseErrorKind::ClosedConnection,
            _,
        ) => true,
        Error::DatabaseError(_, info) => {
            let message = info.message();
            message.contains("database is locked") || message.contains("deadlock")
        }
        _ => true,
    };
    !transient && ran_for <= REPLAY_LIMIT
}

/// Re-runs `section` statement by statement in a transaction that is always rolled back,
/// and records in `failure` the statement that fails with the same message.
///
/// Safe because the re-run does exactly what the failed batch did up to the failure, in a
/// transaction that is rolled back as the batch's was (PostgreSQL and SQLite roll DDL
/// back): it runs only after that batch failed (on PostgreSQL under the same run or step
/// lock; on SQLite in a `BEGIN IMMEDIATE` of its own, like every step), and never for a
/// section that holds transaction control (`COMMIT`, `BEGIN`, ...) or `ATTACH`. What
/// escapes any transaction happens twice, as it would on a second `up`: sequence values
/// drawn, calls out of the database (`dblink`, `COPY ... PROGRAM`). Correct because a
/// statement is named only when it fails with the message the batch failed with: if a
/// non-deterministic statement (`random()`, the clock, data another session changed) fails
/// elsewhere or not at all this time, nothing is named and the error points at the
/// section, as it would without the re-run.
pub(crate) fn replay<C: SqlConnection>(
    conn: &mut C,
    section: &Section,
    failure: &mut SqlFailure,
    patience: Duration,
) {
    let spans = statement_spans(&section.sql);
    let controls_transactions = spans.iter().any(|span| {
        let keyword = first_keyword(&section.sql[span.clone()]);
        NOT_REPLAYED.iter().any(|k| keyword.eq_ignore_ascii_case(k))
    });
    if spans.len() < 2 || controls_transactions {
        return;
    }
    let mut found = None;
    // The body always fails, so the transaction is always rolled back.
    let _ = conn.in_transaction(Some(patience), patience, |conn| {
        for (index, span) in spans.iter().enumerate() {
            if let Err(error) = conn.execute_batch(&section.sql[span.clone()]) {
                found = Some(statement_failure(conn, section, &spans, index, &error));
                break;
            }
        }
        Err::<(), _>(TxError::Driver(Error::RollbackTransaction))
    });
    if let Some(again) = found.filter(|again| again.message == failure.message) {
        failure.statement = again.statement;
    }
}

/// The database's words for `error`, with the code the connection can find for it.
fn describe<C: SqlConnection>(conn: &mut C, error: &Error) -> SqlFailure {
    let code = conn.error_code(error);
    match error {
        Error::DatabaseError(_, info) => SqlFailure {
            message: one_line(info.message()),
            detail: info.details().map(one_line),
            hint: info.hint().map(one_line),
            code,
            statement: None,
        },
        other => SqlFailure {
            code,
            ..SqlFailure::message(one_line(&other.to_string()))
        },
    }
}

fn one_line(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    super::url::redact(&lines.join("; "))
}

/// The byte of `sql` that the error points at, for text sent from byte `sent_from` of
/// `sql`: PostgreSQL's error position (characters, from 1), or the NUL byte the driver
/// refused to send.
fn error_offset(sql: &str, sent_from: usize, error: &Error) -> Option<usize> {
    let info = match error {
        Error::DatabaseError(_, info) => info,
        Error::InvalidCString(nul) => return Some(sent_from + nul.nul_position()),
        _ => return None,
    };
    let position = usize::try_from(info.statement_position()?).ok()?;
    let sent = sql.get(sent_from..)?;
    let within = sent
        .char_indices()
        .nth(position.checked_sub(1)?)
        .map_or(sent.len(), |(byte, _)| byte);
    Some(sent_from + within)
}

/// Statement `index` of `spans` as a user sees it, with the error's place when known.
fn statement(
    section: &Section,
    spans: &[Range<usize>],
    index: usize,
    error_offset: Option<usize>,
) -> Option<FailedStatement> {
    let span = spans.get(index)?;
    let error_at = error_offset.map(|offset| {
        let line_start = section.sql[..offset].rfind('\n').map_or(0, |p| p + 1);
        TextPosition {
            line: section.line_of(offset),
            column: section.sql[line_start..offset].chars().count() + 1,
        }
    });
    Some(FailedStatement {
        number: index + 1,
        count: spans.len(),
        line: section.line_of(span.start),
        text: section.sql[span.clone()].to_owned(),
        error_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(sql: &str) -> Section {
        Section {
            sql: sql.to_owned(),
            transactional: true,
            line: 10,
            leading_lines: 1,
        }
    }

    #[test]
    fn a_statement_is_named_by_its_file_line_and_the_error_by_line_and_column() {
        let s = section("SELECT 1;\nSELECT 2;\nINSERT INTO t\n  VALUES (x);");
        let spans = statement_spans(&s.sql);
        let offset = s.sql.find('x').expect("an x");
        let found = statement(&s, &spans, 2, Some(offset)).expect("a statement");
        assert_eq!((found.number, found.count, found.line), (3, 3, 14));
        assert_eq!(found.text, "INSERT INTO t\n  VALUES (x)");
        assert_eq!(
            found.error_at,
            Some(TextPosition {
                line: 15,
                column: 11
            })
        );
    }

    /// PostgreSQL's error fields, as diesel hands them over.
    struct Positioned(i32);

    impl diesel::result::DatabaseErrorInformation for Positioned {
        fn message(&self) -> &str {
            "column \"nope\" does not exist"
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            Some(self.0)
        }
    }

    #[test]
    fn positions_count_characters_from_one() {
        let sql = "SELECT 'é';\nSELECT nope";
        let at = |position| {
            let error =
                Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new(Positioned(position)));
            error_offset(sql, 0, &error)
        };
        let nope = sql.find("nope").expect("there");
        assert_eq!(at(20), Some(nope), "é is one character of two bytes");
        assert_eq!(at(1), Some(0));
        assert_eq!(at(99), Some(sql.len()), "past the end: the end");
        let plain = Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new("x".to_owned()));
        assert_eq!(error_offset(sql, 0, &plain), None);
        // A statement sent on its own counts from its own start.
        let second = sql.find("SELECT nope").expect("there");
        let error = Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new(Positioned(8)));
        assert_eq!(error_offset(sql, second, &error), Some(nope));
    }

    #[test]
    fn a_nul_byte_points_at_itself() {
        let sql = "SELECT 1;\nCREATE\0TABLE t (a INTEGER)";
        let error = Error::InvalidCString(std::ffi::CString::new(sql).expect_err("a NUL byte"));
        assert_eq!(error_offset(sql, 0, &error), sql.find('\0'));
    }

    #[test]
    fn transient_failures_and_long_batches_are_not_re_run() {
        let plain = Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new("boom".to_owned()));
        assert!(worth_replaying(&plain, Duration::from_millis(5)));
        assert!(!worth_replaying(
            &plain,
            REPLAY_LIMIT + Duration::from_secs(1)
        ));
        let busy = Error::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("database is locked".to_owned()),
        );
        assert!(!worth_replaying(&busy, Duration::ZERO));
        let serialization = Error::DatabaseError(
            DatabaseErrorKind::SerializationFailure,
            Box::new("could not serialize".to_owned()),
        );
        assert!(!worth_replaying(&serialization, Duration::ZERO));
    }
}
