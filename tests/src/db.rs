//! A fresh database for one test, and what a test reads back from it.
//!
//! Only SQLite for now: a file in the test's temporary folder, so tests need no server and run
//! in parallel without sharing state. The type is an enum so that PostgreSQL and MariaDB
//! variants (a throw-away database on a server named by an environment variable, say) can be
//! added with one arm per method, without changing the tests that use it.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::sqlite::SqliteConnection;
use diesel::{sql_query, Connection, QueryableByName, RunQueryDsl};

/// The version table's name (the default, as Alembic's).
const VERSION_TABLE: &str = "alembic_version";

/// A database a test migrates, described so that the test can both hand its URL to
/// `cargo revise` and inspect it afterwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestDb {
    /// A SQLite file; it does not exist until something creates it.
    Sqlite {
        /// The file's absolute path.
        path: PathBuf,
    },
}

/// One text column named `name`: the shape of every query below.
#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

impl TestDb {
    /// A SQLite database at `path` (absolute).
    pub fn sqlite(path: impl Into<PathBuf>) -> Self {
        Self::Sqlite { path: path.into() }
    }

    /// The URL to pass as `--database-url` or `DATABASE_URL`: absolute, so it does not
    /// depend on the working directory.
    pub fn url(&self) -> String {
        match self {
            // `sqlite://` + `/abs/path` is sqlx's spelling of an absolute path.
            Self::Sqlite { path } => format!("sqlite://{}", path.display()),
        }
    }

    /// Whether the database exists at all (the SQLite file was created).
    pub fn exists(&self) -> bool {
        match self {
            Self::Sqlite { path } => path.exists(),
        }
    }

    /// True when nothing has recorded a migration: the database does not exist, or it has no
    /// version table. What every "bad input, nothing runs" test expects afterwards.
    pub fn untouched(&self) -> bool {
        !self.exists() || !self.tables().iter().any(|t| t == VERSION_TABLE)
    }

    /// The rows of `alembic_version`, sorted; empty when the database or the table does not
    /// exist (Alembic may leave either behind after `down base`).
    pub fn version_rows(&self) -> Vec<String> {
        if !self.tables().iter().any(|t| t == VERSION_TABLE) {
            return Vec::new();
        }
        self.names(&format!(
            "SELECT version_num AS name FROM {VERSION_TABLE} ORDER BY version_num"
        ))
    }

    /// The user tables, sorted, without SQLite's own (`sqlite_sequence`, ...); the version
    /// table is included. Empty when the database does not exist.
    pub fn tables(&self) -> Vec<String> {
        if !self.exists() {
            return Vec::new();
        }
        match self {
            Self::Sqlite { .. } => self.names(
                "SELECT name FROM sqlite_master \
                 WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            ),
        }
    }

    /// The column names of `table`, in table order.
    pub fn columns(&self, table: &str) -> Vec<String> {
        match self {
            Self::Sqlite { .. } => self.names(&format!(
                "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
            )),
        }
    }

    /// Runs SQL directly, bypassing `cargo revise` (to set up a state a test needs).
    pub fn execute(&self, sql: &str) {
        match self {
            Self::Sqlite { path } => sqlite(path)
                .batch_execute(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        }
    }

    fn names(&self, query: &str) -> Vec<String> {
        match self {
            Self::Sqlite { path } => sql_query(query)
                .load::<Name>(&mut sqlite(path))
                .unwrap_or_else(|e| panic!("{query}: {e}"))
                .into_iter()
                .map(|row| row.name)
                .collect(),
        }
    }
}

/// Opens an existing SQLite file. (Opening would create a missing one, hence the callers'
/// `exists` checks: reading must never be what creates the database.)
fn sqlite(path: &Path) -> SqliteConnection {
    let path = path.to_str().expect("temporary paths are UTF-8");
    SqliteConnection::establish(path).unwrap_or_else(|e| panic!("opening {path}: {e}"))
}
