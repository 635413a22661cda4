//! Talking to databases: connecting by URL, the version table, and running one step.
//!
//! Each backend gets one file; this module holds what they share and the enum that picks one
//! by URL. Backends decide nothing about what runs: the migrator hands them one step at a
//! time with the rows it expects to find.

pub mod statements;
pub mod url;

#[cfg(feature = "sqlite")]
mod sqlite;

use std::time::Duration;

pub use url::{DatabaseUrl, Dialect, UrlError};

use crate::revision::Section;

/// An error from the database or the driver, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {message}")]
pub struct DbError {
    /// What was being done ("connecting to sqlite://app.db").
    pub context: String,
    /// The database's own message.
    pub message: String,
}

impl DbError {
    pub(crate) fn new(context: impl Into<String>, message: impl ToString) -> Self {
        Self {
            context: context.into(),
            message: message.to_string(),
        }
    }
}

/// The name of the version table, checked to be a plain SQL identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionTable {
    name: String,
}

/// Why a configured version table name is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("version table name `{0}` is not a plain identifier; use letters, digits and `_` (at most 60 characters, not starting with a digit)")]
pub struct InvalidTableName(pub String);

impl VersionTable {
    /// Checks `name`: it is spliced into SQL, so only plain identifiers are allowed.
    pub fn new(name: &str) -> Result<Self, InvalidTableName> {
        let valid = !name.is_empty()
            && name.len() <= 60
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if valid {
            Ok(Self {
                name: name.to_owned(),
            })
        } else {
            Err(InvalidTableName(name.to_owned()))
        }
    }

    /// The unquoted name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name quoted for `dialect`.
    pub fn quoted(&self, dialect: Dialect) -> String {
        match dialect {
            Dialect::Mysql => format!("`{}`", self.name),
            Dialect::Sqlite | Dialect::Postgres => format!("\"{}\"", self.name),
        }
    }

    /// Alembic's DDL for the table: `version_num VARCHAR(32) NOT NULL` with the primary key
    /// constraint `<table>_pkc`.
    pub fn create_sql(&self, dialect: Dialect) -> String {
        format!(
            "CREATE TABLE {} (\n    version_num VARCHAR(32) NOT NULL, \n    CONSTRAINT {}_pkc PRIMARY KEY (version_num)\n)",
            self.quoted(dialect),
            self.name
        )
    }
}

impl Default for VersionTable {
    fn default() -> Self {
        Self {
            name: "alembic_version".to_owned(),
        }
    }
}

/// One version-table change with ids as text, ready for a backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionChange {
    /// Insert a row.
    Insert(String),
    /// Delete a row.
    Delete(String),
    /// Replace a row.
    Update {
        /// The row replaced.
        from: String,
        /// Its new value.
        to: String,
    },
}

/// What a backend needs to run one step.
#[derive(Clone, Copy, Debug)]
pub struct StepWork<'a> {
    /// The SQL to run (`None` for a stamp, which only moves rows).
    pub section: Option<&'a Section>,
    /// The version-table changes to commit with it.
    pub changes: &'a [VersionChange],
    /// The rows the plan was made for, sorted; a different table means another process
    /// moved the database and the step must be re-planned.
    pub expected_rows: &'a [String],
    /// Whether to wait for another run's lock (after a first attempt found it busy).
    pub wait: bool,
}

/// How a step ended when it did not simply succeed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The version table no longer holds the expected rows.
    #[error("the version table changed while waiting: it now holds {0:?}")]
    RowsChanged(Vec<String>),
    /// Another run holds the lock (only when `wait` was false).
    #[error("another migration run holds the database lock")]
    Busy,
    /// The lock was not obtained within the lock timeout.
    #[error("gave up waiting for another migration run after {0:?} (see --lock-timeout)")]
    LockTimeout(Duration),
    /// The revision's own SQL failed; nothing of the step was kept unless `partial`.
    #[error("{message}")]
    Sql {
        /// The database's message.
        message: String,
        /// For statements run outside a transaction: how many had already succeeded.
        statements_done: Option<usize>,
    },
    /// The version table or the connection failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A connection to one of the supported databases, chosen by the URL's scheme.
pub enum DatabaseConnection {
    /// SQLite through diesel's bundled driver.
    #[cfg(feature = "sqlite")]
    Sqlite(diesel::SqliteConnection),
}

/// Opens a connection, creating a SQLite file that does not exist yet.
pub fn connect(url: &DatabaseUrl) -> Result<DatabaseConnection, DbError> {
    match url {
        #[cfg(feature = "sqlite")]
        DatabaseUrl::Sqlite { path } => sqlite::connect(path).map(DatabaseConnection::Sqlite),
        other => Err(DbError::new(
            format!("connecting to {other}"),
            format!(
                "this build has no {} support; rebuild revise-runtime with its `{}` feature",
                other.dialect().name(),
                match other.dialect() {
                    Dialect::Sqlite => "sqlite",
                    Dialect::Postgres => "postgres",
                    Dialect::Mysql => "mysql",
                }
            ),
        )),
    }
}

/// Opens a connection only if the database already exists: read-only commands must not
/// create an empty SQLite file as a side effect. `None` means "no database yet".
pub fn connect_existing(url: &DatabaseUrl) -> Result<Option<DatabaseConnection>, DbError> {
    if let DatabaseUrl::Sqlite { path } = url {
        if path.as_os_str() != ":memory:" && !path.exists() {
            return Ok(None);
        }
    }
    connect(url).map(Some)
}

impl DatabaseConnection {
    /// The dialect of this connection.
    pub fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// The rows of the version table, sorted; `None` when the table does not exist.
    pub fn read_rows(&mut self, table: &VersionTable) -> Result<Option<Vec<String>>, DbError> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(conn) => sqlite::read_rows(conn, table),
        }
    }

    /// Runs one step: the section's SQL and the row changes, in one transaction when the
    /// section is transactional, after checking that the rows are still the expected ones.
    pub fn run_step(
        &mut self,
        table: &VersionTable,
        work: StepWork<'_>,
        lock_timeout: Duration,
    ) -> Result<(), StepError> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(conn) => sqlite::run_step(conn, table, work, lock_timeout),
        }
    }
}
