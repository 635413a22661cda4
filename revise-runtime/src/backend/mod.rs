//! Talking to databases: connecting by URL, the version table, the run lock, and running one
//! step.
//!
//! Each backend gets one file that says how its dialect differs (placeholders, how to find
//! the table, how to lock); `steps.rs` holds the step choreography they share. Backends
//! decide nothing about what runs: the migrator hands them one step at a time with the rows
//! it expects to find.

#[cfg(feature = "diesel")]
pub mod database;
#[cfg(feature = "diesel")]
mod locate;
mod lock;
#[cfg(feature = "diesel")]
mod log_sql;
#[cfg(feature = "diesel")]
pub mod scratch;
mod session;
pub mod statements;
#[cfg(feature = "diesel")]
mod steps;
pub mod url;

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod pg_socket;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::time::Duration;

pub use lock::RunLock;
pub use session::ConnectionSettings;
pub use url::{DatabaseUrl, Dialect, UrlError};

use crate::failure::SqlFailure;
use crate::revision::Section;
use crate::run_log::{LogChecks, LogRecord, LogSelect, LogTable, StepLog};

/// An error from the database or the driver, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {message}")]
pub struct DbError {
    /// What was being done ("connecting to sqlite://app.db").
    pub context: String,
    /// The database's own message, on one line.
    pub message: String,
}

impl DbError {
    // Without a backend nothing connects, so nothing makes one.
    #[cfg_attr(not(feature = "diesel"), allow(dead_code))]
    pub(crate) fn new(context: impl Into<String>, message: impl ToString) -> Self {
        let message = message.to_string();
        let one_line: Vec<&str> = message
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        Self {
            context: context.into(),
            message: url::redact(&one_line.join("; ")),
        }
    }
}

/// The version table's name (and PostgreSQL schema), checked to be plain SQL identifiers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionTable {
    name: String,
    schema: Option<String>,
}

/// Why a configured version table name is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a plain identifier; use letters, digits and `_` (at most 60 characters, not starting with a digit)")]
pub struct InvalidTableName(pub String);

/// A checked table name quoted for `dialect`, with its schema on PostgreSQL (the only
/// dialect of the three whose tables the tool puts in a schema).
pub(crate) fn quote_table(name: &str, schema: Option<&str>, dialect: Dialect) -> String {
    match (dialect, schema) {
        (Dialect::Mysql, _) => format!("`{name}`"),
        (Dialect::Postgres, Some(schema)) => format!("\"{schema}\".\"{name}\""),
        (Dialect::Sqlite | Dialect::Postgres, _) => format!("\"{name}\""),
    }
}

pub(crate) fn check_identifier(name: &str) -> Result<(), InvalidTableName> {
    let valid = !name.is_empty()
        && name.len() <= 60
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(InvalidTableName(name.to_owned()))
    }
}

impl VersionTable {
    /// Checks `name`: it is spliced into SQL, so only plain identifiers are allowed.
    pub fn new(name: &str) -> Result<Self, InvalidTableName> {
        check_identifier(name)?;
        Ok(Self {
            name: name.to_owned(),
            schema: None,
        })
    }

    /// Puts the table in a PostgreSQL schema (Alembic's `version_table_schema`); other
    /// dialects ignore it.
    pub fn in_schema(mut self, schema: &str) -> Result<Self, InvalidTableName> {
        check_identifier(schema)?;
        self.schema = Some(schema.to_owned());
        Ok(self)
    }

    /// The unquoted name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The PostgreSQL schema, if one is configured.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The name quoted for `dialect` (with its schema on PostgreSQL).
    pub fn quoted(&self, dialect: Dialect) -> String {
        quote_table(&self.name, self.schema.as_deref(), dialect)
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
            schema: None,
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
    /// Whether to wait for SQLite's write lock (after a first attempt found it busy).
    pub wait: bool,
    /// The run log's rows for the step, written with it (`None`: the log is off).
    pub log: Option<StepLog<'a>>,
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
    /// The revision's own SQL failed and was rolled back, except `kept`.
    #[error("{failure}")]
    Sql {
        /// What the database said, and which statement failed (boxed: errors travel far and
        /// are rare).
        failure: Box<SqlFailure>,
        /// Statements that ran before the failure and could not be rolled back: those of a
        /// `transaction=false` section, or any on MySQL, whose DDL commits implicitly.
        kept: Vec<String>,
    },
    /// The version table or the connection failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The run log holds steps some run started and never finished (it died inside a step
    /// that could not roll back); nothing ran.
    #[error("the run log holds {} unfinished step(s)", .0.len())]
    Unfinished(Vec<LogRecord>),
}

/// A connection to one of the supported databases, chosen by the URL's scheme.
#[cfg(feature = "diesel")]
pub struct DatabaseConnection {
    url: DatabaseUrl,
    inner: Inner,
}

#[cfg(feature = "diesel")]
enum Inner {
    #[cfg(feature = "sqlite")]
    Sqlite(diesel::SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
}

/// The concrete diesel connection behind a [`DatabaseConnection`], for code that speaks one
/// dialect's SQL (the schema's catalog readers).
#[cfg(feature = "schema")]
pub(crate) enum Native<'a> {
    #[cfg(feature = "sqlite")]
    Sqlite(&'a mut diesel::SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(&'a mut diesel::PgConnection),
    #[cfg(feature = "mysql")]
    Mysql(&'a mut diesel::MysqlConnection),
}

/// Runs `$body` with `$conn` bound to the concrete diesel connection.
#[cfg(feature = "diesel")]
macro_rules! with_inner {
    ($inner:expr, $conn:ident => $body:expr) => {
        match $inner {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite($conn) => $body,
            #[cfg(feature = "postgres")]
            Inner::Postgres($conn) => $body,
            #[cfg(feature = "mysql")]
            Inner::Mysql($conn) => $body,
        }
    };
}

/// Something that names a database: a [`DatabaseUrl`], or URL text (a relative SQLite path
/// is then relative to the working directory).
#[cfg(feature = "diesel")]
pub trait ToDatabaseUrl {
    /// The parsed URL.
    fn to_database_url(&self) -> Result<DatabaseUrl, DbError>;
}

#[cfg(feature = "diesel")]
impl ToDatabaseUrl for DatabaseUrl {
    fn to_database_url(&self) -> Result<DatabaseUrl, DbError> {
        Ok(self.clone())
    }
}

#[cfg(feature = "diesel")]
impl ToDatabaseUrl for str {
    fn to_database_url(&self) -> Result<DatabaseUrl, DbError> {
        let cwd = std::env::current_dir()
            .map_err(|e| DbError::new("reading the working directory", e))?;
        DatabaseUrl::parse(self, &cwd).map_err(|e| DbError::new("reading the database URL", e))
    }
}

#[cfg(feature = "diesel")]
impl ToDatabaseUrl for String {
    fn to_database_url(&self) -> Result<DatabaseUrl, DbError> {
        self.as_str().to_database_url()
    }
}

/// Opens a connection, creating a SQLite file that does not exist yet.
///
/// ```no_run
/// let mut conn = revise_runtime::connect("sqlite://app.db")?;
/// # Ok::<(), revise_runtime::DbError>(())
/// ```
#[cfg(feature = "diesel")]
pub fn connect(url: &(impl ToDatabaseUrl + ?Sized)) -> Result<DatabaseConnection, DbError> {
    let url = &url.to_database_url()?;
    let inner = match url {
        #[cfg(feature = "sqlite")]
        DatabaseUrl::Sqlite { path } => Inner::Sqlite(sqlite::connect(path)?),
        #[cfg(feature = "postgres")]
        DatabaseUrl::Postgres { url: text, .. } => Inner::Postgres(postgres::connect(text, url)?),
        #[cfg(feature = "mysql")]
        DatabaseUrl::Mysql { url: text, .. } => Inner::Mysql(mysql::connect(text, url)?),
        #[allow(unreachable_patterns)]
        other => {
            let feature = match other.dialect() {
                Dialect::Sqlite => "sqlite",
                Dialect::Postgres => "postgres",
                Dialect::Mysql => "mysql",
            };
            return Err(DbError::new(
                format!("connecting to {other}"),
                format!("this build has no {} support; build with the `{feature}` feature (cargo install cargo-revise --features {feature})", other.dialect().name()),
            ));
        }
    };
    Ok(DatabaseConnection {
        url: url.clone(),
        inner,
    })
}

/// [`connect`] giving up on a server that does not answer within `timeout`: libpq's own
/// `connect_timeout` on PostgreSQL; on MySQL, whose diesel connection has no such option,
/// the attempt runs on a thread of its own that is left to finish by itself. A fleet run
/// must not stall on one dead host.
#[cfg(feature = "diesel")]
pub fn connect_within(url: &DatabaseUrl, timeout: Duration) -> Result<DatabaseConnection, DbError> {
    match url {
        #[cfg(feature = "postgres")]
        DatabaseUrl::Postgres { url: text, .. } => Ok(DatabaseConnection {
            url: url.clone(),
            inner: Inner::Postgres(postgres::connect_within(text, url, timeout.as_secs())?),
        }),
        #[cfg(feature = "mysql")]
        DatabaseUrl::Mysql { .. } => {
            let (sender, receiver) = std::sync::mpsc::sync_channel(1);
            let attempt = url.clone();
            std::thread::Builder::new()
                .name("revise-connect".to_owned())
                .spawn(move || {
                    let _ = sender.send(connect(&attempt));
                })
                .map_err(|e| DbError::new(format!("connecting to {url}"), e))?;
            receiver.recv_timeout(timeout).unwrap_or_else(|_| {
                Err(DbError::new(
                    format!("connecting to {url}"),
                    format!(
                        "no answer within {} s (--connect-timeout)",
                        timeout.as_secs()
                    ),
                ))
            })
        }
        // A SQLite file opens at once: nothing to time out.
        _ => {
            let _ = timeout;
            connect(url)
        }
    }
}

/// Opens a connection only if the database already exists: read-only commands must not
/// create an empty SQLite file as a side effect. `None` means "no database yet".
#[cfg(feature = "diesel")]
pub fn connect_existing(url: &DatabaseUrl) -> Result<Option<DatabaseConnection>, DbError> {
    if let DatabaseUrl::Sqlite { path } = url {
        if path.as_os_str() != ":memory:" && !path.exists() {
            return Ok(None);
        }
    }
    connect(url).map(Some)
}

/// What the migrator needs from a database. Implemented by the runtime's
/// [`DatabaseConnection`] and by diesel's own connections, so an application can migrate on
/// the connection it already has.
pub trait VersionStore {
    /// The SQL dialect.
    fn dialect(&self) -> Dialect;

    /// The rows of the version table, sorted; `None` when the table does not exist.
    fn read_rows(&mut self, table: &VersionTable) -> Result<Option<Vec<String>>, DbError>;

    /// Sets the connection up for a run and returns what it changed, for
    /// [`VersionStore::end_run`] to put back: on SQLite, every statement of the run waits up
    /// to `lock_timeout` for another connection's lock (the busy timeout), whatever the
    /// application had set. The migrator calls it first and `end_run` on every way out.
    fn begin_run(&mut self, lock_timeout: Duration) -> Result<ConnectionSettings, DbError> {
        let _ = lock_timeout;
        Ok(ConnectionSettings::default())
    }

    /// Puts back the settings [`VersionStore::begin_run`] changed.
    fn end_run(&mut self, saved: ConnectionSettings) -> Result<(), DbError> {
        let _ = saved;
        Ok(())
    }

    /// Takes the run lock, calling `on_wait` once if another run holds it. Dropping the guard
    /// releases it. Connections that cannot open a second connection lock per step instead;
    /// on SQLite this waits until the database can be read (a run, or the application's own
    /// transaction, may hold it exclusively), calling `on_wait` likewise.
    fn lock(
        &mut self,
        table: &VersionTable,
        timeout: Duration,
        on_wait: &mut dyn FnMut(),
    ) -> Result<RunLock, StepError>;

    /// Runs one step: the section's SQL and the row changes, in one transaction when the
    /// section is transactional, after checking that the rows are still the expected ones.
    fn run_step(
        &mut self,
        table: &VersionTable,
        work: StepWork<'_>,
        lock_timeout: Duration,
    ) -> Result<(), StepError>;

    /// The run log's rows that `select` asks for; `None` when the log table does not exist.
    fn read_log(
        &mut self,
        log: &LogTable,
        select: LogSelect<'_>,
    ) -> Result<Option<Vec<LogRecord>>, DbError>;

    /// The checksums the run log recorded and the steps left unfinished, in one scan (drift,
    /// and the refusal of a run after a dead one); `None` when the log table does not exist.
    fn read_checks(&mut self, log: &LogTable) -> Result<Option<LogChecks>, DbError>;

    /// Marks the unfinished log row `id` resolved, as failed with `note` (`repair`); false
    /// when it was not unfinished (any more).
    fn resolve_unfinished(&mut self, log: &LogTable, id: i64, note: &str) -> Result<bool, DbError>;
}

#[cfg(feature = "diesel")]
impl DatabaseConnection {
    /// The URL this connection was opened with.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The schema's description (`schema` module), without the version table: what the
    /// stairway test compares before and after a revision's down.
    pub fn schema(&mut self, table: &VersionTable) -> Result<crate::snapshot::Schema, DbError> {
        with_inner!(&mut self.inner, conn => steps::schema(conn, table))
    }

    /// The concrete diesel connection.
    #[cfg(feature = "schema")]
    pub(crate) fn native(&mut self) -> Native<'_> {
        match &mut self.inner {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(conn) => Native::Sqlite(conn),
            #[cfg(feature = "postgres")]
            Inner::Postgres(conn) => Native::Postgres(conn),
            #[cfg(feature = "mysql")]
            Inner::Mysql(conn) => Native::Mysql(conn),
        }
    }

    /// The values of one text column named `version_num`, with text parameters bound in
    /// order (`$1` on PostgreSQL, `?` elsewhere): what the fleet's catalog and schema checks
    /// ask.
    #[cfg_attr(not(feature = "fleet"), allow(dead_code))]
    pub(crate) fn query_strings(
        &mut self,
        sql: &str,
        params: &[&str],
    ) -> Result<Vec<String>, DbError> {
        with_inner!(&mut self.inner, conn => steps::SqlConnection::load_strings(conn, sql, params)
            .map_err(|e| DbError::new("running SQL", e)))
    }

    /// Runs SQL outside any revision (test set-up, introspection).
    pub fn batch_execute(&mut self, sql: &str) -> Result<(), DbError> {
        with_inner!(&mut self.inner, conn => steps::SqlConnection::execute_batch(conn, sql)
            .map_err(|e| DbError::new("running SQL", e)))
    }

    /// One text column (named `version_num`) of a query with text parameters bound in
    /// order (`$1` on PostgreSQL, `?` elsewhere); `context` says what it was for in errors.
    pub(crate) fn load_strings(
        &mut self,
        sql: &str,
        params: &[&str],
        context: &str,
    ) -> Result<Vec<String>, DbError> {
        with_inner!(&mut self.inner, conn => steps::SqlConnection::load_strings(conn, sql, params)
            .map_err(|e| DbError::new(context, e)))
    }
}

#[cfg(feature = "diesel")]
impl VersionStore for DatabaseConnection {
    fn dialect(&self) -> Dialect {
        self.url.dialect()
    }

    fn read_rows(&mut self, table: &VersionTable) -> Result<Option<Vec<String>>, DbError> {
        with_inner!(&mut self.inner, conn => steps::read_rows(conn, table))
    }

    fn begin_run(&mut self, lock_timeout: Duration) -> Result<ConnectionSettings, DbError> {
        with_inner!(&mut self.inner, conn => session::RunSession::begin_run(conn, lock_timeout))
    }

    fn end_run(&mut self, saved: ConnectionSettings) -> Result<(), DbError> {
        with_inner!(&mut self.inner, conn => session::RunSession::end_run(conn, &saved))
    }

    /// The run lock is taken on a connection of its own (PostgreSQL advisory lock, MySQL
    /// `GET_LOCK`), so nothing a revision does to its session can release it. SQLite locks
    /// per step instead.
    fn lock(
        &mut self,
        table: &VersionTable,
        timeout: Duration,
        on_wait: &mut dyn FnMut(),
    ) -> Result<RunLock, StepError> {
        with_inner!(&mut self.inner, conn => session::RunSession::wait_until_readable(
            conn, table, timeout, on_wait
        ))?;
        lock::acquire(&self.url, table, timeout, on_wait)
    }

    fn run_step(
        &mut self,
        table: &VersionTable,
        work: StepWork<'_>,
        lock_timeout: Duration,
    ) -> Result<(), StepError> {
        with_inner!(&mut self.inner, conn => steps::run_step(conn, table, work, lock_timeout))
    }

    fn read_log(
        &mut self,
        log: &LogTable,
        select: LogSelect<'_>,
    ) -> Result<Option<Vec<LogRecord>>, DbError> {
        with_inner!(&mut self.inner, conn => log_sql::read(conn, log, select))
    }

    fn read_checks(&mut self, log: &LogTable) -> Result<Option<LogChecks>, DbError> {
        with_inner!(&mut self.inner, conn => log_sql::read_checks(conn, log))
    }

    fn resolve_unfinished(&mut self, log: &LogTable, id: i64, note: &str) -> Result<bool, DbError> {
        with_inner!(&mut self.inner, conn => log_sql::resolve(conn, log, id, note)
            .map(|n| n == 1)
            .map_err(|e| DbError::new(format!("writing the run log `{}`", log.name()), e)))
    }
}

/// Implements [`VersionStore`] for one of diesel's connections, which has no URL to open a
/// lock connection with: it locks per step inside the step's own transaction instead.
#[cfg(feature = "diesel")]
macro_rules! diesel_version_store {
    ($conn:ty) => {
        impl VersionStore for $conn {
            fn dialect(&self) -> Dialect {
                <$conn as steps::SqlConnection>::DIALECT
            }

            fn read_rows(&mut self, table: &VersionTable) -> Result<Option<Vec<String>>, DbError> {
                steps::read_rows(self, table)
            }

            fn begin_run(&mut self, lock_timeout: Duration) -> Result<ConnectionSettings, DbError> {
                session::RunSession::begin_run(self, lock_timeout)
            }

            fn end_run(&mut self, saved: ConnectionSettings) -> Result<(), DbError> {
                session::RunSession::end_run(self, &saved)
            }

            fn lock(
                &mut self,
                table: &VersionTable,
                timeout: Duration,
                on_wait: &mut dyn FnMut(),
            ) -> Result<RunLock, StepError> {
                session::RunSession::wait_until_readable(self, table, timeout, on_wait)?;
                Ok(RunLock::per_step())
            }

            fn run_step(
                &mut self,
                table: &VersionTable,
                work: StepWork<'_>,
                lock_timeout: Duration,
            ) -> Result<(), StepError> {
                steps::run_locked_step(self, table, work, lock_timeout)
            }

            fn read_log(
                &mut self,
                log: &LogTable,
                select: LogSelect<'_>,
            ) -> Result<Option<Vec<LogRecord>>, DbError> {
                log_sql::read(self, log, select)
            }

            fn read_checks(&mut self, log: &LogTable) -> Result<Option<LogChecks>, DbError> {
                log_sql::read_checks(self, log)
            }

            fn resolve_unfinished(
                &mut self,
                log: &LogTable,
                id: i64,
                note: &str,
            ) -> Result<bool, DbError> {
                log_sql::resolve(self, log, id, note)
                    .map(|n| n == 1)
                    .map_err(|e| DbError::new(format!("writing the run log `{}`", log.name()), e))
            }
        }
    };
}

#[cfg(feature = "sqlite")]
diesel_version_store!(diesel::SqliteConnection);
#[cfg(feature = "postgres")]
diesel_version_store!(diesel::PgConnection);
#[cfg(feature = "mysql")]
diesel_version_store!(diesel::MysqlConnection);
