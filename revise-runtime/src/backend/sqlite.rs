//! SQLite through diesel's `SqliteConnection` (bundled SQLite: nothing to install).
//!
//! SQLite allows one writer per file, so a run-long lock on a second connection would block
//! the run itself. Each step instead takes `BEGIN IMMEDIATE` and re-reads the version table
//! inside it; the migrator re-plans if another run moved it, so no revision runs twice.

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::SqliteConnection;

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
        let timeout_ms = wait.map_or(0, |w| w.as_millis());
        self.batch_execute(&format!("PRAGMA busy_timeout = {timeout_ms}"))?;
        let mut entered = false;
        let result = self.immediate_transaction(|conn| {
            entered = true;
            conn.batch_execute(&format!("PRAGMA busy_timeout = {}", patience.as_millis()))?;
            body(conn)
        });
        match result {
            Err(TxError::Driver(e)) if !entered && is_busy(&e) => Err(TxError::Step(match wait {
                Some(waited) => StepError::LockTimeout(waited),
                None => StepError::Busy,
            })),
            other => other,
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
