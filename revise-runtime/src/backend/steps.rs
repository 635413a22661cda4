//! The step choreography every backend shares, written once over [`SqlConnection`].
//!
//! A transactional step is one transaction: re-read the rows (another run may have moved
//! them), create the version table if missing, run the section, change the rows. A
//! `transaction=false` section runs its statements one by one between two short
//! transactions that check the rows and then record the version.

use std::time::{Duration, Instant, SystemTime};

use diesel::QueryResult;

use super::log_sql::BoundStatement;
use super::statements::{has_no_statements, statement_spans};
use super::{locate, log_sql};
use super::{DbError, Dialect, StepError, StepWork, VersionChange, VersionTable};
use crate::revision::Section;
use crate::run_log::{LogSelect, StepLog};
use crate::snapshot::catalog::{self, CatalogRow};
use crate::snapshot::Schema;

/// A version-table row read through `sql_query`.
#[derive(diesel::QueryableByName)]
pub(crate) struct TextRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) version_num: String,
}

/// What can end a step's transaction early; converted back to [`StepError`].
pub(crate) enum TxError {
    Step(StepError),
    Driver(diesel::result::Error),
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Driver(e)
    }
}

impl From<StepError> for TxError {
    fn from(e: StepError) -> Self {
        Self::Step(e)
    }
}

/// What a backend's diesel connection must offer; each backend file implements it.
pub(crate) trait SqlConnection: Sized {
    /// The dialect, for quoting and placeholders.
    const DIALECT: Dialect;

    /// Loads one text column (named `version_num`) with text parameters bound in order.
    fn load_strings(&mut self, sql: &str, params: &[&str]) -> QueryResult<Vec<String>>;

    /// Executes a batch of statements as the database's simple query.
    fn execute_batch(&mut self, sql: &str) -> QueryResult<()>;

    /// Executes one statement with any number of nullable text parameters (the run log's
    /// rows), returning the affected row count.
    fn execute_texts(&mut self, sql: &str, params: &[Option<&str>]) -> QueryResult<usize>;

    /// Executes a [`log_sql::Prepared`] statement (kept prepared by its text), returning the
    /// affected row count.
    fn execute_prepared(
        &mut self,
        pieces: &[String],
        params: &[Option<String>],
    ) -> QueryResult<usize>;

    /// Loads run-log rows (every column cast to text) with text parameters bound in order.
    fn load_log_rows(
        &mut self,
        sql: &str,
        params: &[&str],
    ) -> QueryResult<Vec<super::log_sql::LogRow>>;

    /// Runs `body` in a transaction. `wait` is how long SQLite waits to begin it (others
    /// lock per run); `patience` how long statements inside may wait for readers.
    fn in_transaction<T>(
        &mut self,
        wait: Option<Duration>,
        patience: Duration,
        body: impl FnOnce(&mut Self) -> Result<T, TxError>,
    ) -> Result<T, TxError>;

    /// The error code of a statement that just failed, where the driver can tell one (see
    /// [`SqlFailure::code`](crate::failure::SqlFailure::code)). Called right after the
    /// failure, before anything else runs on the connection.
    fn error_code(&mut self, _error: &diesel::result::Error) -> Option<String> {
        None
    }

    /// A query returning one row when the version table exists.
    fn table_exists_query(table: &VersionTable) -> (String, Vec<String>);

    /// Loads the rows of a catalog query (`snapshot/catalog.rs`).
    fn load_catalog(&mut self, sql: &str) -> QueryResult<Vec<CatalogRow>>;

    /// Serializes concurrent runs for one step when no run-long lock is held (a connection
    /// the application owns): a lock scoped to the step, waited for up to `wait`, or
    /// [`StepError::Busy`] at once without one (so the migrator can say it waits, as for
    /// SQLite's `BEGIN IMMEDIATE`, which already is such a lock and needs none).
    fn lock_step(
        &mut self,
        _table: &VersionTable,
        _wait: Option<Duration>,
    ) -> Result<StepLock, StepError> {
        Ok(StepLock::default())
    }
}

/// What a step-scoped lock needs released after the step (MySQL's named lock).
#[derive(Default)]
pub(crate) struct StepLock {
    pub(crate) release_sql: Option<String>,
}

/// [`run_step`] under a step-scoped lock, for connections without a run lock.
pub(crate) fn run_locked_step<C: SqlConnection>(
    conn: &mut C,
    table: &VersionTable,
    work: StepWork<'_>,
    lock_timeout: Duration,
) -> Result<(), StepError> {
    let lock = conn.lock_step(table, work.wait.then_some(lock_timeout))?;
    let result = run_step(conn, table, work, lock_timeout);
    // Released on every way out; an error here leaves the lock to the connection's end.
    if let Some(sql) = lock.release_sql {
        let _ = conn.execute_batch(&sql);
    }
    result
}

/// Implements the parameter plumbing of [`SqlConnection`] for a concrete diesel connection.
macro_rules! sql_connection_basics {
    () => {
        fn load_strings(&mut self, sql: &str, params: &[&str]) -> diesel::QueryResult<Vec<String>> {
            use diesel::sql_types::Text;
            use diesel::RunQueryDsl;
            let rows: Vec<crate::backend::steps::TextRow> = match params {
                [] => diesel::sql_query(sql).load(self)?,
                [a] => diesel::sql_query(sql).bind::<Text, _>(*a).load(self)?,
                [a, b] => diesel::sql_query(sql)
                    .bind::<Text, _>(*a)
                    .bind::<Text, _>(*b)
                    .load(self)?,
                _ => {
                    return Err(diesel::result::Error::QueryBuilderError(
                        "at most two parameters".into(),
                    ))
                }
            };
            Ok(rows.into_iter().map(|r| r.version_num).collect())
        }

        fn load_catalog(
            &mut self,
            sql: &str,
        ) -> diesel::QueryResult<Vec<crate::snapshot::catalog::CatalogRow>> {
            diesel::RunQueryDsl::load(diesel::sql_query(sql), self)
        }

        fn execute_batch(&mut self, sql: &str) -> diesel::QueryResult<()> {
            diesel::connection::SimpleConnection::batch_execute(self, sql)
        }

        fn execute_texts(
            &mut self,
            sql: &str,
            params: &[Option<&str>],
        ) -> diesel::QueryResult<usize> {
            use diesel::sql_types::{Nullable, Text};
            use diesel::RunQueryDsl;
            let mut query =
                diesel::sql_query(sql).into_boxed::<<Self as diesel::Connection>::Backend>();
            for param in params {
                query = query.bind::<Nullable<Text>, _>(*param);
            }
            query.execute(self)
        }

        fn execute_prepared(
            &mut self,
            pieces: &[String],
            params: &[Option<String>],
        ) -> diesel::QueryResult<usize> {
            use diesel::RunQueryDsl;
            crate::backend::log_sql::Prepared { pieces, params }.execute(self)
        }

        fn load_log_rows(
            &mut self,
            sql: &str,
            params: &[&str],
        ) -> diesel::QueryResult<Vec<crate::backend::log_sql::LogRow>> {
            use diesel::sql_types::Text;
            use diesel::RunQueryDsl;
            let mut query =
                diesel::sql_query(sql).into_boxed::<<Self as diesel::Connection>::Backend>();
            for param in params {
                query = query.bind::<Text, _>(*param);
            }
            query.load(self)
        }
    };
}
pub(crate) use sql_connection_basics;

/// The version table's rows, sorted; `None` when the table does not exist.
pub(crate) fn read_rows<C: SqlConnection>(
    conn: &mut C,
    table: &VersionTable,
) -> Result<Option<Vec<String>>, DbError> {
    let context = || reading_context(table);
    if C::DIALECT == Dialect::Sqlite {
        // Looking the table up in `sqlite_master` scans the whole schema, once per step; at
        // thousands of revisions (thousands of tables) that dominates `up`. SQLite keeps a
        // transaction usable after a failed statement, so asking directly is safe here.
        return match select_rows(conn, table) {
            Ok(rows) => Ok(Some(rows)),
            Err(e) if e.to_string().starts_with("no such table") => Ok(None),
            Err(e) => Err(DbError::new(context(), e)),
        };
    }
    let (exists_sql, params) = C::table_exists_query(table);
    let params: Vec<&str> = params.iter().map(String::as_str).collect();
    let exists = conn
        .load_strings(&exists_sql, &params)
        .map_err(|e| DbError::new(context(), e))?;
    if exists.is_empty() {
        return Ok(None);
    }
    read_existing_rows(conn, table).map(Some)
}

/// The rows of a version table known to exist, sorted: one query instead of two.
fn read_existing_rows<C: SqlConnection>(
    conn: &mut C,
    table: &VersionTable,
) -> Result<Vec<String>, DbError> {
    select_rows(conn, table).map_err(|e| DbError::new(reading_context(table), e))
}

fn reading_context(table: &VersionTable) -> String {
    format!("reading the version table `{}`", table.name())
}

fn select_rows<C: SqlConnection>(
    conn: &mut C,
    table: &VersionTable,
) -> diesel::QueryResult<Vec<String>> {
    let sql = format!("SELECT version_num FROM {}", table.quoted(C::DIALECT));
    let mut rows = conn.load_strings(&sql, &[])?;
    rows.sort_unstable();
    Ok(rows)
}

/// The schema's description, without the version table.
pub(crate) fn schema<C: SqlConnection>(
    conn: &mut C,
    table: &VersionTable,
) -> Result<Schema, DbError> {
    let mut rows = Vec::new();
    for query in catalog::queries(C::DIALECT) {
        rows.extend(
            conn.load_catalog(query)
                .map_err(|e| DbError::new("reading the schema", e))?,
        );
    }
    Schema::from_rows(rows)
        .map(|schema| schema.without_table(table.name()))
        .map_err(|e| DbError::new("reading the schema", e))
}

/// Runs one step; see the module documentation.
pub(crate) fn run_step<C: SqlConnection>(
    conn: &mut C,
    table: &VersionTable,
    work: StepWork<'_>,
    lock_timeout: Duration,
) -> Result<(), StepError> {
    let wait = (work.wait.then_some(lock_timeout), lock_timeout);
    let mut log = work.log.map(StepLogWriter::new);
    match work.section {
        Some(section) if !section.transactional => {
            guarded(conn, table, Some(work.expected_rows), wait, |conn| {
                if let Some(log) = &mut log {
                    log.prepare(conn)?;
                    log.open(conn)?;
                }
                Ok(())
            })?;
            if let Err(failure) = run_statements(conn, section) {
                return Err(record_failure(conn, log.as_ref(), failure, lock_timeout));
            }
            guarded(
                conn,
                table,
                None,
                (Some(lock_timeout), lock_timeout),
                |conn| {
                    apply_changes(conn, table, work.changes)?;
                    match &log {
                        Some(log) => log.succeeded(conn),
                        None => Ok(()),
                    }
                },
            )
        }
        section => {
            // PostgreSQL refuses an empty query string; a section of only comments is empty.
            let section = section.filter(|s| !has_no_statements(&s.sql));
            let mut replay = false;
            let result = guarded(conn, table, Some(work.expected_rows), wait, |conn| {
                if let Some(log) = &mut log {
                    log.prepare(conn)?;
                    if section.is_some() && C::DIALECT == Dialect::Mysql {
                        // DDL commits implicitly: the row must be there, unfinished, before
                        // any of it (the first DDL statement commits it with itself).
                        log.open(conn)?;
                    }
                }
                if let Some(section) = section {
                    run_section(conn, section, &mut replay)?;
                }
                apply_changes_and_log(conn, table, work.changes, log.as_ref())
            });
            let result = match (result, section) {
                (Err(StepError::Sql { mut failure, kept }), Some(section)) if replay => {
                    // Only now that the failed transaction is rolled back.
                    locate::replay(conn, section, &mut failure, lock_timeout);
                    Err(StepError::Sql { failure, kept })
                }
                (result, _) => result,
            };
            match result {
                Err(failure @ StepError::Sql { .. }) => {
                    Err(record_failure(conn, log.as_ref(), failure, lock_timeout))
                }
                other => other,
            }
        }
    }
}

/// A step's log rows on their way: when it started, and the unfinished row written for it.
struct StepLogWriter<'a> {
    log: StepLog<'a>,
    started: SystemTime,
    clock: Instant,
    /// The id of the row written unfinished before work that cannot roll back.
    open_row: Option<String>,
}

impl<'a> StepLogWriter<'a> {
    fn new(log: StepLog<'a>) -> Self {
        Self {
            log,
            started: SystemTime::now(),
            clock: Instant::now(),
            open_row: None,
        }
    }

    fn context(&self) -> String {
        format!("writing the run log `{}`", self.log.table.name())
    }

    fn db_error(&self, e: impl ToString) -> StepError {
        StepError::Db(DbError::new(self.context(), e))
    }

    /// Creates the table if it may be missing, and refuses to go on past a step some run
    /// left unfinished.
    fn prepare<C: SqlConnection>(&mut self, conn: &mut C) -> Result<(), StepError> {
        if !self.log.exists {
            conn.execute_batch(&log_sql::create_sql(self.log.table, C::DIALECT))
                .map_err(|e| self.db_error(e))?;
            self.log.exists = true;
        } else if self.log.check_unfinished {
            let unfinished =
                log_sql::read(conn, self.log.table, LogSelect::Unfinished)?.unwrap_or_default();
            if !unfinished.is_empty() {
                return Err(StepError::Unfinished(unfinished));
            }
        }
        Ok(())
    }

    /// Writes the step's row unfinished (one entry: a step of one revision).
    fn open<C: SqlConnection>(&mut self, conn: &mut C) -> Result<(), StepError> {
        if let [entry] = self.log.entries {
            let id = log_sql::insert_unfinished(
                conn,
                self.log.table,
                entry,
                self.log.author,
                self.started,
            )
            .map_err(|e| self.db_error(e))?;
            self.open_row = Some(id);
        }
        Ok(())
    }

    /// Completes the open row, or writes the rows, as succeeded.
    fn succeeded<C: SqlConnection>(&self, conn: &mut C) -> Result<(), StepError> {
        self.write(conn, &self.success())
    }

    /// The ending of a step that succeeded now.
    fn success(&self) -> log_sql::Ending<'static> {
        log_sql::Ending::Succeeded(self.clock.elapsed())
    }

    /// Completes the open row with `ending`, or inserts one row per entry when there is
    /// none (or a rollback took it away).
    fn write<C: SqlConnection>(
        &self,
        conn: &mut C,
        ending: &log_sql::Ending<'_>,
    ) -> Result<(), StepError> {
        if let Some(id) = &self.open_row {
            let changed = log_sql::finish(conn, self.log.table, id, self.started, ending)
                .map_err(|e| self.db_error(e))?;
            if changed == 1 {
                return Ok(());
            }
        }
        for entry in self.log.entries {
            log_sql::insert(
                conn,
                self.log.table,
                entry,
                self.log.author,
                self.started,
                ending,
            )
            .map_err(|e| self.db_error(e))?;
        }
        Ok(())
    }
}

/// Records a failed step in the log, after its transaction rolled back, in a transaction of
/// its own (SPEC section 10), and hands the failure back. A log that cannot be written
/// does not hide the revision's own error: it is added to it.
fn record_failure<C: SqlConnection>(
    conn: &mut C,
    log: Option<&StepLogWriter<'_>>,
    error: StepError,
    lock_timeout: Duration,
) -> StepError {
    let (Some(log), StepError::Sql { failure, kept }) = (log, &error) else {
        return error;
    };
    let message = failure.to_string();
    let ending = log_sql::Ending::Failed(log.clock.elapsed(), &message);
    let written = conn.in_transaction(Some(lock_timeout), lock_timeout, |conn| {
        // The step's rollback may have taken a table created in it along.
        conn.execute_batch(&log_sql::create_sql(log.log.table, C::DIALECT))?;
        log.write(conn, &ending)?;
        Ok(())
    });
    match written {
        Ok(()) => error,
        Err(e) => {
            let why = match e {
                TxError::Step(e) => e.to_string(),
                TxError::Driver(e) => e.to_string(),
            };
            let mut failure = failure.clone();
            failure.message = format!(
                "{} (and the run log could not record it: {why})",
                failure.message
            );
            StepError::Sql {
                failure,
                kept: kept.clone(),
            }
        }
    }
}

/// Runs a transactional section: as one batch, except on MySQL. Sets `replay` when the
/// batch failed without saying which statement failed, and that is worth finding out.
fn run_section<C: SqlConnection>(
    conn: &mut C,
    section: &Section,
    replay: &mut bool,
) -> Result<(), StepError> {
    if C::DIALECT == Dialect::Mysql {
        // DDL commits implicitly on MySQL; statement by statement, a failure can say
        // exactly which statements ran before it.
        return run_statements(conn, section);
    }
    let started = Instant::now();
    match conn.execute_batch(&section.sql) {
        Ok(()) => Ok(()),
        Err(error) => {
            let failure = locate::batch_failure(conn, section, &error);
            *replay =
                failure.statement.is_none() && locate::worth_replaying(&error, started.elapsed());
            Err(StepError::Sql {
                failure: Box::new(failure),
                kept: Vec::new(),
            })
        }
    }
}

/// Runs `body` in a transaction once the rows are confirmed to be `expected` (when given)
/// and the version table exists.
fn guarded<C: SqlConnection>(
    conn: &mut C,
    table: &VersionTable,
    expected: Option<&[String]>,
    (wait, patience): (Option<Duration>, Duration),
    body: impl FnOnce(&mut C) -> Result<(), StepError>,
) -> Result<(), StepError> {
    let result = conn.in_transaction(wait, patience, |conn| {
        // Rows expected mean a table that existed when the plan was made: asking whether it
        // still does would cost every step a round trip to the server. Were it dropped
        // since, the read fails and the step with it.
        let rows = match expected {
            Some(expected) if !expected.is_empty() => read_existing_rows(conn, table).map(Some),
            _ => read_rows(conn, table),
        }
        .map_err(StepError::Db)?;
        if let Some(expected) = expected {
            if rows.as_deref().unwrap_or_default() != expected {
                return Err(StepError::RowsChanged(rows.unwrap_or_default()).into());
            }
        }
        if rows.is_none() {
            conn.execute_batch(&table.create_sql(C::DIALECT))?;
        }
        body(conn)?;
        Ok(())
    });
    match result {
        Ok(()) => Ok(()),
        Err(TxError::Step(e)) => Err(e),
        Err(TxError::Driver(e)) => Err(StepError::Db(DbError::new(
            format!("updating the version table `{}`", table.name()),
            e,
        ))),
    }
}

/// Runs a section's statements one at a time, so a failure can name the statement and
/// those that already ran.
fn run_statements<C: SqlConnection>(conn: &mut C, section: &Section) -> Result<(), StepError> {
    let spans = statement_spans(&section.sql);
    for (done, span) in spans.iter().enumerate() {
        if let Err(error) = conn.execute_batch(&section.sql[span.clone()]) {
            return Err(StepError::Sql {
                failure: Box::new(locate::statement_failure(
                    conn, section, &spans, done, &error,
                )),
                kept: spans[..done]
                    .iter()
                    .map(|s| section.sql[s.clone()].to_owned())
                    .collect(),
            });
        }
    }
    Ok(())
}

/// The version table's changes, then the step's log row as succeeded. On PostgreSQL the row
/// of a one-revision step rides on the last change's statement
/// ([`log_sql::with_change`]), sparing the log a round trip of its own.
fn apply_changes_and_log<C: SqlConnection>(
    conn: &mut C,
    table: &VersionTable,
    changes: &[VersionChange],
    log: Option<&StepLogWriter<'_>>,
) -> Result<(), StepError> {
    let Some(log) = log else {
        return apply_changes(conn, table, changes);
    };
    let combined = match (log.log.entries, changes.split_last()) {
        ([entry], Some((last, before)))
            if C::DIALECT == Dialect::Postgres && log.open_row.is_none() =>
        {
            Some((entry, last, before))
        }
        _ => None,
    };
    let Some((entry, last, before)) = combined else {
        apply_changes(conn, table, changes)?;
        return log.succeeded(conn);
    };
    apply_changes(conn, table, before)?;
    let (change, row) = change_statement(C::DIALECT, table, last);
    let insert = log_sql::insert_statement(
        C::DIALECT,
        log.log.table,
        entry,
        log.log.author,
        log.started,
        &log.success(),
    );
    let count = log_sql::with_change(insert, change)
        .execute(conn)
        .map_err(|e| {
            DbError::new(
                format!(
                    "changing the version table `{}` and writing the run log `{}`",
                    table.name(),
                    log.log.table.name()
                ),
                e,
            )
        })?;
    expect_one_row(table, count, row)
}

fn apply_changes<C: SqlConnection>(
    conn: &mut C,
    table: &VersionTable,
    changes: &[VersionChange],
) -> Result<(), StepError> {
    for change in changes {
        let (statement, row) = change_statement(C::DIALECT, table, change);
        let count = statement
            .execute(conn)
            .map_err(|e| DbError::new(changing_context(table), e))?;
        expect_one_row(table, count, row)?;
    }
    Ok(())
}

/// The statement of one change to the version table (its text the same for every value, so
/// the connection keeps it prepared), and the row it must match.
fn change_statement<'c>(
    dialect: Dialect,
    table: &VersionTable,
    change: &'c VersionChange,
) -> (BoundStatement, &'c str) {
    let quoted = table.quoted(dialect);
    match change {
        VersionChange::Insert(id) => {
            let mut statement =
                BoundStatement::new(format!("INSERT INTO {quoted} (version_num) VALUES ("));
            statement.text(id);
            statement.sql(")");
            (statement, id)
        }
        VersionChange::Delete(id) => {
            let mut statement =
                BoundStatement::new(format!("DELETE FROM {quoted} WHERE version_num = "));
            statement.text(id);
            (statement, id)
        }
        VersionChange::Update { from, to } => {
            let mut statement = BoundStatement::new(format!("UPDATE {quoted} SET version_num = "));
            statement.text(to);
            statement.sql(" WHERE version_num = ");
            statement.text(from);
            (statement, from)
        }
    }
}

fn changing_context(table: &VersionTable) -> String {
    format!("changing the version table `{}`", table.name())
}

/// Alembic's guard: a concurrent change shows up as a row count other than one.
fn expect_one_row(table: &VersionTable, count: usize, row: &str) -> Result<(), StepError> {
    if count == 1 {
        return Ok(());
    }
    Err(StepError::Db(DbError::new(
        changing_context(table),
        format!("expected to match one row for '{row}'; {count} found"),
    )))
}
