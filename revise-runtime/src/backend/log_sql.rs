//! The run log's SQL on every backend (the log's meaning is `run_log`'s): its table, the rows
//! a step writes, and the rows commands read back.
//!
//! User text (messages, SQL, errors, names) is always bound as a parameter; only values this
//! module makes itself (times, numbers, the direction words) are written into the SQL.

use std::time::{Duration, SystemTime};

use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::QueryResult;

use super::steps::SqlConnection;
use super::{DbError, Dialect};
use crate::checksum::Checksum;
use crate::run_log::{
    KeptSection, LogAuthor, LogChecks, LogDirection, LogEntry, LogOutcome, LogRecord, LogSelect,
    LogTable, RecordedChecksum,
};

/// A log row as read: every column as text (each backend casts), so one row type serves
/// all three.
#[derive(diesel::QueryableByName)]
pub(crate) struct LogRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    revision: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    member: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    direction: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    checksum: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    path: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    message: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    revises: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    depends_on: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    down_sql: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    down_transactional: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    started_at: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    finished_at: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    duration_ms: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    success: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    error: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    tool: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    user_name: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    host_name: Option<String>,
}

/// The columns, in the order rows are read and written.
const COLUMNS: [&str; 19] = [
    "id",
    "revision",
    "member",
    "direction",
    "checksum",
    "path",
    "message",
    "revises",
    "depends_on",
    "down_sql",
    "down_transactional",
    "started_at",
    "finished_at",
    "duration_ms",
    "success",
    "error",
    "tool",
    "user_name",
    "host_name",
];

/// A statement of SQL pieces with nullable text parameters between them, which diesel keeps
/// prepared by its text (`sql_query` is prepared anew every time it runs).
pub(crate) struct Prepared<'a> {
    /// One more piece than parameters.
    pub(crate) pieces: &'a [String],
    /// The parameters.
    pub(crate) params: &'a [Option<String>],
}

impl QueryId for Prepared<'_> {
    type QueryId = ();
    // No static id: the statement cache keys it by its SQL text instead.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB> QueryFragment<DB> for Prepared<'_>
where
    DB: diesel::backend::Backend + diesel::sql_types::HasSqlType<diesel::sql_types::Text>,
    Option<String>:
        diesel::serialize::ToSql<diesel::sql_types::Nullable<diesel::sql_types::Text>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        for (n, piece) in self.pieces.iter().enumerate() {
            out.push_sql(piece);
            if let Some(param) = self.params.get(n) {
                out.push_bind_param::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(
                    param,
                )?;
            }
        }
        Ok(())
    }
}

impl<Conn> diesel::RunQueryDsl<Conn> for Prepared<'_> {}

/// The table's name quoted for `dialect` (with its schema on PostgreSQL).
pub(crate) fn quoted(log: &LogTable, dialect: Dialect) -> String {
    super::quote_table(log.name(), log.schema(), dialect)
}

/// `CREATE TABLE IF NOT EXISTS` for the log.
pub(crate) fn create_sql(log: &LogTable, dialect: Dialect) -> String {
    let (id, time, text) = match dialect {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY", "TEXT", "TEXT"),
        Dialect::Postgres => (
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "TIMESTAMP(6)",
            "TEXT",
        ),
        Dialect::Mysql => (
            "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
            "DATETIME(6)",
            "LONGTEXT",
        ),
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (\n    \
         id {id},\n    \
         revision VARCHAR(32) NOT NULL,\n    \
         member VARCHAR(255) NOT NULL,\n    \
         direction VARCHAR(8) NOT NULL,\n    \
         checksum CHAR(64),\n    \
         path {text} NOT NULL,\n    \
         message {text} NOT NULL,\n    \
         revises {text} NOT NULL,\n    \
         depends_on {text} NOT NULL,\n    \
         down_sql {text},\n    \
         down_transactional SMALLINT,\n    \
         started_at {time} NOT NULL,\n    \
         finished_at {time},\n    \
         duration_ms BIGINT,\n    \
         success SMALLINT,\n    \
         error {text},\n    \
         tool VARCHAR(255) NOT NULL,\n    \
         user_name VARCHAR(255) NOT NULL,\n    \
         host_name VARCHAR(255) NOT NULL\n)",
        table = quoted(log, dialect),
    )
}

/// A time as the log stores it: UTC, `YYYY-MM-DD HH:MM:SS.ffffff`, as a literal that each
/// backend's time column accepts.
pub(crate) fn time_literal(at: SystemTime) -> String {
    format!("'{}'", time_text(at))
}

/// A time as the log stores it: UTC, `YYYY-MM-DD HH:MM:SS.ffffff`.
pub(crate) fn time_text(at: SystemTime) -> String {
    let at = time::OffsetDateTime::from(at);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

fn millis(elapsed: Duration) -> u128 {
    elapsed.as_millis()
}

/// How a row being written ended.
pub(crate) enum Ending<'a> {
    /// Not yet: the row is written unfinished.
    Open,
    /// It committed, after `Duration`.
    Succeeded(Duration),
    /// It failed with the database's message, after `Duration`.
    Failed(Duration, &'a str),
}

/// Inserts one row for `entry`, started at `started`.
///
/// Every value is a parameter (cast where the column is not text), so the statement's text is
/// the same for every row and the connection keeps it prepared: this INSERT is the log's whole
/// cost to a step, and preparing it anew each time was most of that (BENCHMARKS.md).
pub(crate) fn insert<C: SqlConnection>(
    conn: &mut C,
    log: &LogTable,
    entry: &LogEntry,
    author: &LogAuthor,
    started: SystemTime,
    ending: &Ending<'_>,
) -> QueryResult<()> {
    insert_statement(C::DIALECT, log, entry, author, started, ending)
        .execute(conn)
        .map(|_| ())
}

/// PostgreSQL: `change` (a statement on the version table) with `insert` (an
/// [`insert_statement`]) as a data-modifying `WITH` query: one statement, so the log costs a
/// step no round trip of its own to the server, only the row. Run, it returns the count of
/// rows `change` matched, as running `change` alone would.
pub(crate) fn with_change(insert: BoundStatement, change: BoundStatement) -> BoundStatement {
    let mut statement = BoundStatement::new("WITH logged AS (".to_owned());
    statement.append(insert);
    statement.sql(") ");
    statement.append(change);
    statement
}

/// The INSERT of `entry`'s row (see [`insert`]).
pub(crate) fn insert_statement(
    dialect: Dialect,
    log: &LogTable,
    entry: &LogEntry,
    author: &LogAuthor,
    started: SystemTime,
    ending: &Ending<'_>,
) -> BoundStatement {
    let (finished, duration, success, error) = ending_values(started, ending);
    let (down_sql, down_transactional) = match &entry.down {
        Some(section) => (
            Some(section.sql.clone()),
            Some(if section.transactional { "1" } else { "0" }.to_owned()),
        ),
        None => (None, None),
    };
    // SQLite compiles the INSERT again after every step's DDL (a schema change expires every
    // prepared statement), and naming the 18 columns was a third of that work: there the
    // values go by position, in `create_sql`'s order (the id first, NULL for the next one).
    // A table with other columns refuses the row, and the step with it, rather than taking
    // values into the wrong columns.
    let mut statement = BoundStatement::new(if dialect == Dialect::Sqlite {
        format!("INSERT INTO {} VALUES (NULL, ", quoted(log, dialect))
    } else {
        format!(
            "INSERT INTO {} (revision, member, direction, checksum, path, message, revises, \
             depends_on, down_sql, down_transactional, started_at, finished_at, duration_ms, \
             success, error, tool, user_name, host_name) VALUES (",
            quoted(log, dialect)
        )
    });
    let values: [(Option<String>, Column); 18] = [
        (Some(entry.revision.clone()), Column::Text),
        (Some(entry.member.clone()), Column::Text),
        (Some(entry.direction.as_str().to_owned()), Column::Text),
        (entry.checksum.map(|c| c.to_string()), Column::Text),
        (Some(entry.path.clone()), Column::Text),
        (Some(entry.message.clone()), Column::Text),
        (Some(entry.revises.join(",")), Column::Text),
        (Some(entry.depends_on.join(",")), Column::Text),
        (down_sql, Column::Text),
        (down_transactional, Column::Integer),
        (Some(time_text(started)), Column::Time),
        (finished, Column::Time),
        (duration, Column::Integer),
        (success.map(str::to_owned), Column::Integer),
        (error.map(str::to_owned), Column::Text),
        (Some(author.tool.clone()), Column::Text),
        (Some(author.user.clone()), Column::Text),
        (Some(author.host.clone()), Column::Text),
    ];
    for (n, (value, column)) in values.into_iter().enumerate() {
        if n > 0 {
            statement.sql(", ");
        }
        statement.value(dialect, value, column);
    }
    statement.sql(")");
    statement
}

/// A column's kind, for the cast its text parameter needs.
#[derive(Clone, Copy)]
enum Column {
    Text,
    Integer,
    Time,
}

/// SQL text around nullable text parameters: `pieces` has one more element than `params`,
/// and the parameters go between them (each backend writes its own placeholder).
pub(crate) struct BoundStatement {
    pieces: Vec<String>,
    params: Vec<Option<String>>,
}

impl BoundStatement {
    pub(crate) fn new(start: String) -> Self {
        Self {
            pieces: vec![start],
            params: Vec::new(),
        }
    }

    pub(crate) fn sql(&mut self, text: &str) {
        if let Some(last) = self.pieces.last_mut() {
            last.push_str(text);
        }
    }

    /// Runs the statement (kept prepared by its text); the count of rows it changed.
    pub(crate) fn execute<C: SqlConnection>(&self, conn: &mut C) -> QueryResult<usize> {
        conn.execute_prepared(&self.pieces, &self.params)
    }

    /// A text parameter.
    pub(crate) fn text(&mut self, value: &str) {
        self.params.push(Some(value.to_owned()));
        self.pieces.push(String::new());
    }

    /// `other` after this statement's text.
    fn append(&mut self, other: BoundStatement) {
        let mut pieces = other.pieces.into_iter();
        if let Some(first) = pieces.next() {
            self.sql(&first);
        }
        self.pieces.extend(pieces);
        self.params.extend(other.params);
    }

    /// A parameter, cast to the column's type where the backend will not convert text by
    /// itself (SQLite's column affinity does).
    fn value(&mut self, dialect: Dialect, value: Option<String>, column: Column) {
        let cast = match (dialect, column) {
            (Dialect::Sqlite, _) | (_, Column::Text) => None,
            (Dialect::Postgres, Column::Integer) => Some("BIGINT"),
            (Dialect::Postgres, Column::Time) => Some("TIMESTAMP(6)"),
            (Dialect::Mysql, Column::Integer) => Some("SIGNED"),
            (Dialect::Mysql, Column::Time) => Some("DATETIME(6)"),
        };
        if cast.is_some() {
            self.sql("CAST(");
        }
        self.params.push(value);
        self.pieces.push(String::new());
        if let Some(cast) = cast {
            self.sql(&format!(" AS {cast})"));
        }
    }
}

/// The values of an ending as text: finished_at, duration_ms, success, and the error
/// (`None` is NULL).
fn ending_values<'a>(
    started: SystemTime,
    ending: &Ending<'a>,
) -> (
    Option<String>,
    Option<String>,
    Option<&'static str>,
    Option<&'a str>,
) {
    match ending {
        Ending::Open => (None, None, None, None),
        Ending::Succeeded(took) => (
            Some(time_text(started + *took)),
            Some(millis(*took).to_string()),
            Some("1"),
            None,
        ),
        Ending::Failed(took, message) => (
            Some(time_text(started + *took)),
            Some(millis(*took).to_string()),
            Some("0"),
            Some(message),
        ),
    }
}

/// Inserts `entry` unfinished and returns its row id.
pub(crate) fn insert_unfinished<C: SqlConnection>(
    conn: &mut C,
    log: &LogTable,
    entry: &LogEntry,
    author: &LogAuthor,
    started: SystemTime,
) -> QueryResult<String> {
    insert(conn, log, entry, author, started, &Ending::Open)?;
    let sql = match C::DIALECT {
        Dialect::Postgres => "SELECT CAST(lastval() AS TEXT) AS version_num",
        Dialect::Mysql => "SELECT CAST(LAST_INSERT_ID() AS CHAR) AS version_num",
        Dialect::Sqlite => "SELECT CAST(last_insert_rowid() AS TEXT) AS version_num",
    };
    conn.load_strings(sql, &[])?
        .pop()
        .ok_or_else(|| diesel::result::Error::NotFound)
}

/// Completes the unfinished row `id`; the count of rows changed (0 when a rollback took the
/// row away with it).
pub(crate) fn finish<C: SqlConnection>(
    conn: &mut C,
    log: &LogTable,
    id: &str,
    started: SystemTime,
    ending: &Ending<'_>,
) -> QueryResult<usize> {
    let (finished, duration, success, error) = ending_values(started, ending);
    let or_null = |value: Option<String>| value.unwrap_or_else(|| "NULL".to_owned());
    let sql = format!(
        "UPDATE {table} SET finished_at = {finished}, duration_ms = {duration}, \
         success = {success}, error = {p1} WHERE id = {id} AND success IS NULL",
        table = quoted(log, C::DIALECT),
        finished = or_null(finished.map(|t| format!("'{t}'"))),
        duration = or_null(duration),
        success = success.unwrap_or("NULL"),
        p1 = placeholder(C::DIALECT, 1),
        id = row_id(id),
    );
    conn.execute_texts(&sql, &[error])
}

/// Marks the unfinished row `id` resolved (as failed, with `note`), for `repair`.
pub(crate) fn resolve<C: SqlConnection>(
    conn: &mut C,
    log: &LogTable,
    id: i64,
    note: &str,
) -> QueryResult<usize> {
    let sql = format!(
        "UPDATE {table} SET success = 0, error = {p1}, finished_at = {now} \
         WHERE id = {id} AND success IS NULL",
        table = quoted(log, C::DIALECT),
        p1 = placeholder(C::DIALECT, 1),
        now = time_literal(SystemTime::now()),
    );
    conn.execute_texts(&sql, &[Some(note)])
}

/// A row id as SQL: digits only (it came from the database, but is spliced).
fn row_id(id: &str) -> String {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        id.to_owned()
    } else {
        "NULL".to_owned()
    }
}

/// The rows `select` asks for; `None` when the log table does not exist.
pub(crate) fn read<C: SqlConnection>(
    conn: &mut C,
    log: &LogTable,
    select: LogSelect<'_>,
) -> Result<Option<Vec<LogRecord>>, DbError> {
    let context = || format!("reading the run log `{}`", log.name());
    let table = quoted(log, C::DIALECT);
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|column| format!("{} AS {column}", as_text(C::DIALECT, column)))
        .collect();
    let columns = columns.join(", ");
    let applied = format!(
        "id IN (SELECT MAX(id) FROM {table} WHERE success = 1 AND direction IN \
         ('up', 'stamp', 'accept') AND checksum IS NOT NULL{only} GROUP BY revision)",
        only = match select {
            LogSelect::AppliedOf(ids) => {
                let marks: Vec<String> = (1..=ids.len())
                    .map(|n| placeholder(C::DIALECT, n))
                    .collect();
                format!(" AND revision IN ({})", marks.join(", "))
            }
            _ => String::new(),
        }
    );
    let (filter, order) = match select {
        LogSelect::Unfinished => ("success IS NULL".to_owned(), "id".to_owned()),
        LogSelect::Applied | LogSelect::AppliedOf(_) => (applied, "id".to_owned()),
        LogSelect::Newest(limit) => (
            "1 = 1".to_owned(),
            match limit {
                Some(n) => format!("id DESC LIMIT {n}"),
                None => "id DESC".to_owned(),
            },
        ),
    };
    let params: Vec<&str> = match select {
        LogSelect::AppliedOf([]) => return Ok(Some(Vec::new())),
        LogSelect::AppliedOf(ids) => ids.to_vec(),
        _ => Vec::new(),
    };
    let sql = format!("SELECT {columns} FROM {table} WHERE {filter} ORDER BY {order}");
    if C::DIALECT == Dialect::Sqlite {
        // As for the version table: asking directly is one statement, and SQLite's answer
        // for a missing table is plain.
        return match conn.load_log_rows(&sql, &params) {
            Ok(rows) => Ok(Some(rows.into_iter().filter_map(record).collect())),
            Err(e) if e.to_string().starts_with("no such table") => Ok(None),
            Err(e) => Err(DbError::new(context(), e)),
        };
    }
    if !exists(conn, log).map_err(|e| DbError::new(context(), e))? {
        return Ok(None);
    }
    let rows = conn
        .load_log_rows(&sql, &params)
        .map_err(|e| DbError::new(context(), e))?;
    Ok(Some(rows.into_iter().filter_map(record).collect()))
}

/// What drift and the refusal of unfinished steps need (see [`LogChecks`]); `None` when the
/// log table does not exist. `check` at 10,000 revisions reads this, so it is one scan, with
/// no grouping, and each row one short text column, which diesel hands over with one lookup
/// and one allocation: `revision checksum` for a recorded checksum, `?` for an unfinished
/// step, whose whole row is read afterwards (a dead run leaves one or two).
pub(crate) fn read_checks<C: SqlConnection>(
    conn: &mut C,
    log: &LogTable,
) -> Result<Option<LogChecks>, DbError> {
    let context = || format!("reading the run log `{}`", log.name());
    let line = match C::DIALECT {
        Dialect::Mysql => "CONCAT_WS(' ', revision, checksum)".to_owned(),
        // The log writes checksums as text; a cast would cost SQLite a copy of each.
        Dialect::Sqlite => "revision || ' ' || checksum".to_owned(),
        Dialect::Postgres => format!("revision || ' ' || {}", as_text(C::DIALECT, "checksum")),
    };
    let sql = format!(
        "SELECT CASE WHEN success IS NULL THEN '?' ELSE {line} END AS version_num \
         FROM {table} WHERE success IS NULL OR (success = 1 \
         AND direction IN ('up', 'stamp', 'accept') AND checksum IS NOT NULL) ORDER BY id",
        table = quoted(log, C::DIALECT),
    );
    let lines = if C::DIALECT == Dialect::Sqlite {
        match conn.load_strings(&sql, &[]) {
            Ok(lines) => lines,
            Err(e) if e.to_string().starts_with("no such table") => return Ok(None),
            Err(e) => return Err(DbError::new(context(), e)),
        }
    } else {
        if !exists(conn, log).map_err(|e| DbError::new(context(), e))? {
            return Ok(None);
        }
        conn.load_strings(&sql, &[])
            .map_err(|e| DbError::new(context(), e))?
    };
    let mut checks = LogChecks {
        applied: Vec::with_capacity(lines.len()),
        unfinished: Vec::new(),
    };
    let mut any_unfinished = false;
    for line in lines {
        if line == "?" {
            any_unfinished = true;
        } else if let Some(recorded) = recorded(line) {
            checks.applied.push(recorded);
        }
    }
    if any_unfinished {
        checks.unfinished = read(conn, log, LogSelect::Unfinished)?.unwrap_or_default();
    }
    Ok(Some(checks))
}

/// One recorded checksum's line of [`read_checks`]; `None` for one this version cannot read.
/// The line's own allocation becomes the revision id.
fn recorded(mut line: String) -> Option<RecordedChecksum> {
    let (revision, checksum) = line.split_once(' ')?;
    let checksum = Checksum::from_hex(checksum).ok()?;
    let revision_length = revision.len();
    line.truncate(revision_length);
    Some(RecordedChecksum {
        revision: line,
        checksum,
    })
}

/// Whether the log table exists (PostgreSQL and MySQL; SQLite asks by reading).
pub(crate) fn exists<C: SqlConnection>(conn: &mut C, log: &LogTable) -> QueryResult<bool> {
    let (sql, params) = match C::DIALECT {
        Dialect::Postgres => (
            "SELECT relname::text AS version_num FROM pg_class WHERE oid = to_regclass($1)",
            vec![match log.schema() {
                Some(schema) => format!("\"{schema}\".\"{}\"", log.name()),
                None => format!("\"{}\"", log.name()),
            }],
        ),
        Dialect::Mysql => (
            "SELECT CAST(table_name AS CHAR) AS version_num FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = ?",
            vec![log.name().to_owned()],
        ),
        Dialect::Sqlite => (
            "SELECT name AS version_num FROM sqlite_master WHERE type = 'table' AND name = ?",
            vec![log.name().to_owned()],
        ),
    };
    let params: Vec<&str> = params.iter().map(String::as_str).collect();
    Ok(!conn.load_strings(sql, &params)?.is_empty())
}

fn as_text(dialect: Dialect, column: &str) -> String {
    match dialect {
        Dialect::Mysql => format!("CAST({column} AS CHAR)"),
        Dialect::Sqlite | Dialect::Postgres => format!("CAST({column} AS TEXT)"),
    }
}

/// The placeholder for the `n`-th (1-based) parameter.
fn placeholder(dialect: Dialect, n: usize) -> String {
    match dialect {
        Dialect::Postgres => format!("${n}"),
        Dialect::Sqlite | Dialect::Mysql => "?".to_owned(),
    }
}

/// A row as a record; `None` for a row this version cannot read (an unknown direction,
/// written by a newer version), which is then left out.
fn record(row: LogRow) -> Option<LogRecord> {
    let list = |text: Option<String>| -> Vec<String> {
        text.unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let outcome = match row.success.as_deref() {
        None => LogOutcome::Unfinished,
        Some("1") => LogOutcome::Succeeded,
        Some(_) => LogOutcome::Failed,
    };
    Some(LogRecord {
        id: row.id?.parse().ok()?,
        revision: row.revision?,
        member: row.member.unwrap_or_default(),
        direction: LogDirection::parse(row.direction.as_deref()?)?,
        checksum: row.checksum.and_then(|c| Checksum::from_hex(c.trim()).ok()),
        path: row.path.unwrap_or_default(),
        message: row.message.unwrap_or_default(),
        revises: list(row.revises),
        depends_on: list(row.depends_on),
        down: row.down_sql.map(|sql| KeptSection {
            sql,
            transactional: row.down_transactional.as_deref() != Some("0"),
        }),
        started_at: row.started_at.unwrap_or_default(),
        finished_at: row.finished_at,
        duration_ms: row.duration_ms.and_then(|d| d.parse().ok()),
        outcome,
        error: row.error,
        tool: row.tool.unwrap_or_default(),
        user: row.user_name.unwrap_or_default(),
        host: row.host_name.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_literals_with_microseconds() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_micros(1_795_000_000_123_456);
        assert_eq!(time_literal(at), "'2026-11-18 11:06:40.123456'");
    }

    #[test]
    fn a_recorded_checksum_line_reads_back() {
        let sum = Checksum::of_file(b"x");
        let read = recorded(format!("a1 {sum}")).expect("a line this version wrote");
        assert_eq!(read.revision, "a1");
        assert_eq!(read.checksum, sum);
        assert_eq!(recorded("a1 nothex".to_owned()), None);
        assert_eq!(recorded(format!("a1 {sum} more")), None);
        assert_eq!(recorded("a1".to_owned()), None);
    }

    /// SQLite's INSERT gives the values by position: every field must come back from the
    /// column `create_sql` gave it, and a table with other columns must refuse the row.
    #[cfg(feature = "sqlite")]
    #[test]
    fn a_row_written_on_sqlite_reads_back_field_by_field() {
        use diesel::{Connection, SqliteConnection};

        let mut conn = SqliteConnection::establish(":memory:").expect("an in-memory database");
        let log = LogTable::new(LogTable::DEFAULT_NAME).expect("a plain name");
        conn.execute_batch(&create_sql(&log, Dialect::Sqlite))
            .expect("the log table");
        let entry = LogEntry {
            revision: "r2".to_owned(),
            member: "billing".to_owned(),
            direction: LogDirection::Up,
            checksum: Some(Checksum::of_file(b"-- r2")),
            path: "billing/migrations/r2.sql".to_owned(),
            message: "Add invoices".to_owned(),
            revises: vec!["r1".to_owned(), "q1".to_owned()],
            depends_on: vec!["u1".to_owned()],
            down: Some(KeptSection {
                sql: "DROP TABLE invoices;".to_owned(),
                transactional: false,
            }),
        };
        let author = LogAuthor {
            tool: "cargo-revise 9.9.9".to_owned(),
            user: "ana".to_owned(),
            host: "build-7".to_owned(),
        };
        let started = SystemTime::UNIX_EPOCH + Duration::from_micros(1_795_000_000_123_456);
        let ending = Ending::Failed(Duration::from_millis(42), "no such table: x");
        insert(&mut conn, &log, &entry, &author, started, &ending).expect("the row");

        let rows = read(&mut conn, &log, LogSelect::Newest(None))
            .expect("the rows")
            .expect("the table exists");
        let [row] = rows.as_slice() else {
            panic!("one row: {rows:?}");
        };
        assert_eq!(
            (row.revision.as_str(), row.member.as_str(), row.direction),
            ("r2", "billing", LogDirection::Up)
        );
        assert_eq!(row.checksum, entry.checksum);
        assert_eq!(
            (row.path.as_str(), row.message.as_str()),
            ("billing/migrations/r2.sql", "Add invoices")
        );
        assert_eq!(
            (&row.revises, &row.depends_on),
            (&entry.revises, &entry.depends_on)
        );
        assert_eq!(row.down, entry.down);
        assert_eq!(row.started_at, "2026-11-18 11:06:40.123456");
        assert_eq!(
            row.finished_at.as_deref(),
            Some("2026-11-18 11:06:40.165456")
        );
        assert_eq!(row.duration_ms, Some(42));
        assert_eq!(row.outcome, LogOutcome::Failed);
        assert_eq!(row.error.as_deref(), Some("no such table: x"));
        assert_eq!(
            (row.tool.as_str(), row.user.as_str(), row.host.as_str()),
            ("cargo-revise 9.9.9", "ana", "build-7")
        );

        conn.execute_batch("ALTER TABLE revise_log ADD COLUMN note TEXT")
            .expect("a column of another version");
        let refused = insert(&mut conn, &log, &entry, &author, started, &ending)
            .expect_err("a table with other columns refuses the row");
        assert!(refused.to_string().contains("columns"), "{refused}");
    }

    #[test]
    fn row_ids_are_spliced_only_as_digits() {
        assert_eq!(row_id("42"), "42");
        assert_eq!(row_id("1; DROP TABLE x"), "NULL");
        assert_eq!(row_id(""), "NULL");
    }
}
