//! SQLite through diesel's `SqliteConnection` (bundled SQLite: nothing to install).
//!
//! Locking is `BEGIN IMMEDIATE` per step: SQLite allows one writer per file, so a second
//! connection cannot hold a run-long lock while the first writes. Each step re-reads the
//! version table inside its immediate transaction; the migrator re-plans if another run
//! moved it, so no revision ever runs twice.

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::SqliteConnection;

use super::statements::split_statements;
use super::{DbError, Dialect, StepError, StepWork, VersionChange, VersionTable};

#[derive(QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = Text)]
    version_num: String,
}

pub(super) fn connect(path: &Path) -> Result<SqliteConnection, DbError> {
    let context = || format!("opening SQLite database {}", path.display());
    let text = path
        .to_str()
        .ok_or_else(|| DbError::new(context(), "the path is not valid UTF-8"))?;
    let mut conn = SqliteConnection::establish(text).map_err(|e| DbError::new(context(), e))?;
    // Readers may meet a writer's commit; give them time instead of failing at once.
    conn.batch_execute("PRAGMA busy_timeout = 5000")
        .map_err(|e| DbError::new(context(), e))?;
    Ok(conn)
}

pub(super) fn read_rows(
    conn: &mut SqliteConnection,
    table: &VersionTable,
) -> Result<Option<Vec<String>>, DbError> {
    let context = || format!("reading the version table `{}`", table.name());
    let exists = diesel::sql_query(
        "SELECT name AS version_num FROM sqlite_master WHERE type = 'table' AND name = ?",
    )
    .bind::<Text, _>(table.name())
    .load::<VersionRow>(conn)
    .map_err(|e| DbError::new(context(), e))?;
    if exists.is_empty() {
        return Ok(None);
    }
    let sql = format!("SELECT version_num FROM {}", table.quoted(Dialect::Sqlite));
    let rows = diesel::sql_query(sql)
        .load::<VersionRow>(conn)
        .map_err(|e| DbError::new(context(), e))?;
    let mut rows: Vec<String> = rows.into_iter().map(|r| r.version_num).collect();
    rows.sort_unstable();
    Ok(Some(rows))
}

/// What can end a transaction early; converted to [`StepError`] at the end.
enum TxError {
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

pub(super) fn run_step(
    conn: &mut SqliteConnection,
    table: &VersionTable,
    work: StepWork<'_>,
    lock_timeout: Duration,
) -> Result<(), StepError> {
    match work.section {
        Some(section) if !section.transactional => {
            // Check the rows and create the table under the lock, run the statements one by
            // one outside any transaction, then record the version.
            let wait = (work.wait, lock_timeout);
            locked(conn, table, Some(work.expected_rows), wait, |_| Ok(()))?;
            run_statements(conn, &section.sql)?;
            locked(conn, table, None, (true, lock_timeout), |conn| {
                apply_changes(conn, table, work.changes)
            })
        }
        section => locked(
            conn,
            table,
            Some(work.expected_rows),
            (work.wait, lock_timeout),
            |conn| {
                if let Some(section) = section {
                    conn.batch_execute(&section.sql)
                        .map_err(|e| StepError::Sql {
                            message: e.to_string(),
                            statements_done: None,
                        })?;
                }
                apply_changes(conn, table, work.changes)
            },
        ),
    }
}

/// Runs `body` inside `BEGIN IMMEDIATE` once the rows are confirmed to be `expected` (when
/// given) and the version table exists. `wait` says whether to wait for the lock, and how
/// long.
fn locked(
    conn: &mut SqliteConnection,
    table: &VersionTable,
    expected: Option<&[String]>,
    (wait, lock_timeout): (bool, Duration),
    body: impl FnOnce(&mut SqliteConnection) -> Result<(), StepError>,
) -> Result<(), StepError> {
    let timeout_ms = if wait { lock_timeout.as_millis() } else { 0 };
    conn.batch_execute(&format!("PRAGMA busy_timeout = {timeout_ms}"))
        .map_err(|e| DbError::new("setting the busy timeout", e))?;
    let mut entered = false;
    let result = conn.immediate_transaction::<_, TxError, _>(|conn| {
        entered = true;
        let rows = read_rows(conn, table).map_err(StepError::Db)?;
        if let Some(expected) = expected {
            if rows.as_deref().unwrap_or_default() != expected {
                return Err(StepError::RowsChanged(rows.unwrap_or_default()).into());
            }
        }
        if rows.is_none() {
            conn.batch_execute(&table.create_sql(Dialect::Sqlite))?;
        }
        body(conn)?;
        Ok(())
    });
    match result {
        Ok(()) => Ok(()),
        Err(TxError::Step(e)) => Err(e),
        Err(TxError::Driver(e)) if !entered && is_busy(&e) => Err(if wait {
            StepError::LockTimeout(lock_timeout)
        } else {
            StepError::Busy
        }),
        Err(TxError::Driver(e)) => Err(StepError::Db(DbError::new(
            format!("updating the version table `{}`", table.name()),
            e,
        ))),
    }
}

fn is_busy(e: &diesel::result::Error) -> bool {
    let text = e.to_string();
    text.contains("database is locked") || text.contains("busy")
}

fn run_statements(conn: &mut SqliteConnection, sql: &str) -> Result<(), StepError> {
    for (done, statement) in split_statements(sql).into_iter().enumerate() {
        conn.batch_execute(statement).map_err(|e| StepError::Sql {
            message: e.to_string(),
            statements_done: Some(done),
        })?;
    }
    Ok(())
}

fn apply_changes(
    conn: &mut SqliteConnection,
    table: &VersionTable,
    changes: &[VersionChange],
) -> Result<(), StepError> {
    let quoted = table.quoted(Dialect::Sqlite);
    for change in changes {
        let (count, expected) = match change {
            VersionChange::Insert(id) => (
                diesel::sql_query(format!("INSERT INTO {quoted} (version_num) VALUES (?)"))
                    .bind::<Text, _>(id)
                    .execute(conn),
                id,
            ),
            VersionChange::Delete(id) => (
                diesel::sql_query(format!("DELETE FROM {quoted} WHERE version_num = ?"))
                    .bind::<Text, _>(id)
                    .execute(conn),
                id,
            ),
            VersionChange::Update { from, to } => (
                diesel::sql_query(format!(
                    "UPDATE {quoted} SET version_num = ? WHERE version_num = ?"
                ))
                .bind::<Text, _>(to)
                .bind::<Text, _>(from)
                .execute(conn),
                from,
            ),
        };
        let context = || format!("changing the version table `{}`", table.name());
        let count = count.map_err(|e| DbError::new(context(), e))?;
        // Alembic's guard: a concurrent change shows up as a row count other than one.
        if count != 1 {
            return Err(StepError::Db(DbError::new(
                context(),
                format!("expected to match one row for '{expected}'; {count} found"),
            )));
        }
    }
    Ok(())
}
