//! SQLite through diesel's `SqliteConnection` (bundled SQLite: nothing to install).
//!
//! SQLite allows one writer per file, so a run-long lock on a second connection would block
//! the run itself. Each step instead takes `BEGIN IMMEDIATE` and re-reads the version table
//! inside it; the migrator re-plans if another run moved it, so no revision runs twice.
//!
//! For a whole run the busy timeout is the lock timeout (`session.rs`), so every statement
//! waits for another connection's lock as long as a run waits for another run; only
//! `BEGIN IMMEDIATE` is first tried without waiting, so that the run can say it waits.

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::SqliteConnection;

use super::session::{busy_timeout_ms, ConnectionSettings, RunSession};
use super::steps::{sql_connection_basics, SqlConnection, TxError};
use super::{DbError, Dialect, StepError, VersionTable};

pub(super) fn connect(path: &Path) -> Result<SqliteConnection, DbError> {
    let context = || format!("opening SQLite database {}", path.display());
    let text = path
        .to_str()
        .ok_or_else(|| DbError::new(context(), "the path is not valid UTF-8"))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(DbError::new(
                context(),
                format!("the folder {} does not exist", parent.display()),
            ));
        }
    }
    let mut conn = SqliteConnection::establish(text).map_err(|e| DbError::new(context(), e))?;
    // Readers may meet a writer's commit; give them time instead of failing at once.
    conn.batch_execute("PRAGMA busy_timeout = 5000")
        .map_err(|e| DbError::new(context(), e))?;
    Ok(conn)
}

impl SqlConnection for SqliteConnection {
    const DIALECT: Dialect = Dialect::Sqlite;

    sql_connection_basics!();

    fn in_transaction<T>(
        &mut self,
        wait: Option<Duration>,
        patience: Duration,
        body: impl FnOnce(&mut Self) -> Result<T, TxError>,
    ) -> Result<T, TxError> {
        // Without a wait, BEGIN IMMEDIATE fails at once when another run holds the write
        // lock, so the migrator can say it is waiting; once inside, the commit must wait for
        // readers to finish instead of failing.
        set_busy_timeout(self, wait.unwrap_or(Duration::ZERO))?;
        let mut entered = false;
        let result = self.immediate_transaction(|conn| {
            entered = true;
            set_busy_timeout(conn, patience)?;
            body(conn)
        });
        // Whatever happened, what the run issues next waits as long as this step could; once
        // entered, the setting made inside (a connection's, not rolled back) still holds.
        let waits_again = if entered {
            Ok(())
        } else {
            set_busy_timeout(self, patience)
        };
        match result {
            Err(TxError::Driver(e)) if is_busy(&e) => Err(TxError::Step(match (entered, wait) {
                (false, None) => StepError::Busy,
                (false, Some(waited)) => StepError::LockTimeout(waited),
                // The version table or the commit waited for another connection all along.
                (true, _) => StepError::LockTimeout(patience),
            })),
            other => {
                waits_again?;
                other
            }
        }
    }

    /// diesel keeps SQLite's extended result code to itself (reading it needs unsafe code,
    /// which this workspace forbids) and hands over only the kind of constraint violation
    /// it read from that code; the rest (a syntax error, a busy database) carries none.
    fn error_code(&mut self, error: &diesel::result::Error) -> Option<String> {
        use diesel::result::DatabaseErrorKind as Kind;
        let diesel::result::Error::DatabaseError(kind, _) = error else {
            return None;
        };
        let code = match kind {
            Kind::UniqueViolation => "SQLITE_CONSTRAINT_UNIQUE or SQLITE_CONSTRAINT_PRIMARYKEY",
            Kind::ForeignKeyViolation => "SQLITE_CONSTRAINT_FOREIGNKEY",
            Kind::NotNullViolation => "SQLITE_CONSTRAINT_NOTNULL",
            Kind::CheckViolation => "SQLITE_CONSTRAINT_CHECK",
            _ => return None,
        };
        Some(code.to_owned())
    }

    fn table_exists_query(table: &VersionTable) -> (String, Vec<String>) {
        (
            "SELECT name AS version_num FROM sqlite_master WHERE type = 'table' AND name = ?"
                .to_owned(),
            vec![table.name().to_owned()],
        )
    }
}

impl RunSession for SqliteConnection {
    fn begin_run(&mut self, lock_timeout: Duration) -> Result<ConnectionSettings, DbError> {
        let context = "reading the connection's busy timeout";
        let before = diesel::sql_query("PRAGMA busy_timeout")
            .get_result::<BusyTimeout>(self)
            .map_err(|e| DbError::new(context, e))?
            .timeout;
        set_busy_timeout(self, lock_timeout)
            .map_err(|e| DbError::new("setting the busy timeout for the run", e))?;
        Ok(ConnectionSettings {
            sqlite_busy_timeout_ms: Some(before),
        })
    }

    fn end_run(&mut self, saved: &ConnectionSettings) -> Result<(), DbError> {
        match saved.sqlite_busy_timeout_ms {
            Some(ms) => self
                .batch_execute(&format!("PRAGMA busy_timeout = {ms}"))
                .map_err(|e| {
                    DbError::new(
                        format!("restoring the busy timeout ({ms} ms) after the run"),
                        e,
                    )
                }),
            None => Ok(()),
        }
    }

    /// `PRAGMA schema_version` reads the file header, so it needs the shared lock that a
    /// committing or exclusive writer keeps from readers, and costs nothing else (reading
    /// `sqlite_master` would scan a schema of thousands of tables).
    fn wait_until_readable(
        &mut self,
        table: &VersionTable,
        timeout: Duration,
        on_wait: &mut dyn FnMut(),
    ) -> Result<(), StepError> {
        let context = || format!("reading the version table `{}`", table.name());
        let probe = |conn: &mut Self| conn.batch_execute("PRAGMA schema_version");
        set_busy_timeout(self, Duration::ZERO).map_err(|e| DbError::new(context(), e))?;
        let result = match probe(self) {
            Err(e) if is_busy(&e) => {
                on_wait();
                set_busy_timeout(self, timeout).map_err(|e| DbError::new(context(), e))?;
                match probe(self) {
                    Err(e) if is_busy(&e) => Err(StepError::LockTimeout(timeout)),
                    Err(e) => Err(DbError::new(context(), e).into()),
                    Ok(()) => Ok(()),
                }
            }
            Err(e) => Err(DbError::new(context(), e).into()),
            Ok(()) => Ok(()),
        };
        // The rest of the run waits for other connections up to the lock timeout.
        set_busy_timeout(self, timeout).map_err(|e| DbError::new(context(), e))?;
        result
    }
}

/// `PRAGMA busy_timeout`'s answer.
#[derive(QueryableByName)]
struct BusyTimeout {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    timeout: i64,
}

fn set_busy_timeout(conn: &mut SqliteConnection, timeout: Duration) -> QueryResult<()> {
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {}",
        busy_timeout_ms(timeout)
    ))
}

fn is_busy(e: &diesel::result::Error) -> bool {
    let text = e.to_string();
    text.contains("database is locked") || text.contains("busy")
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::Text;

    use super::*;

    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = Text)]
        compile_options: String,
    }

    /// `.cargo/config.toml` builds the bundled SQLite with these options (it says why); a
    /// build without them still works, only `current` on a database of thousands of tables
    /// is a third slower, so nothing else would notice them gone.
    #[test]
    fn the_bundled_sqlite_has_the_workspace_build_options() {
        let mut conn = SqliteConnection::establish(":memory:").expect("an in-memory database");
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(&mut conn)
            .expect("the compile options")
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        for wanted in ["MALLOC_SOFT_LIMIT=0", "DEFAULT_MEMSTATUS=0"] {
            assert!(
                options.iter().any(|o| o == wanted),
                "SQLite was built without {wanted} (is LIBSQLITE3_FLAGS set in the environment?): {options:?}"
            );
        }
    }
}
