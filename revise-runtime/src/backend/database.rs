//! Creating and dropping the database a URL names: the SQLite file, or a database on a
//! PostgreSQL or MySQL/MariaDB server (`cargo revise database`, and the stairway test's
//! scratch databases).
//!
//! A server database cannot be created from a connection to itself, so these connect to the
//! server's maintenance database instead: `postgres` on PostgreSQL, no database at all on
//! MySQL. The name is spliced into `CREATE DATABASE` as a quoted identifier, so only plain
//! names are accepted.

use std::path::{Path, PathBuf};

use super::{connect, DatabaseConnection, DatabaseUrl, DbError, Dialect};

/// The longest database name accepted: PostgreSQL cuts names at 63 bytes, MySQL at 64.
const MAX_NAME_LENGTH: usize = 63;

/// The database PostgreSQL clients connect to for administration.
const POSTGRES_MAINTENANCE: &str = "postgres";

/// Why a database could not be created, dropped or looked up.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The URL's database name is not a plain identifier.
    #[error("database name `{name}` (in {url}) is not a plain name; use letters, digits, `_` and `-` (at most 63 characters)")]
    InvalidName {
        /// The name as written.
        name: String,
        /// The URL, password hidden.
        url: String,
    },
    /// A server URL without a database.
    #[error("{0} names no database; add it as the URL's path, e.g. `/app`")]
    NoName(String),
    /// `sqlite::memory:` has no file to create or drop.
    #[error("{0} is an in-memory database: there is no file to create or drop")]
    InMemory(String),
    /// The maintenance connection failed.
    #[error("cannot {action}: connecting to {through} failed: {message}")]
    Maintenance {
        /// What was being done (``create database `app` ``).
        action: String,
        /// The maintenance database and its URL, password hidden.
        through: String,
        /// The driver's message.
        message: String,
    },
    /// The server refused the statement.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A SQLite file could not be removed.
    #[error("cannot remove {}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The reason.
        message: String,
    },
}

impl AdminError {
    /// True when the URL itself is at fault (exit status 2), not the server.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Self::InvalidName { .. } | Self::NoName(_) | Self::InMemory(_)
        )
    }
}

/// What [`create_database`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Created {
    /// The database was created.
    New,
    /// It existed already; nothing was done.
    Existed,
}

/// What [`drop_database`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// The database was dropped.
    Dropped,
    /// There was none; nothing was done.
    Absent,
}

/// Where the database of a URL lives.
enum Place<'a> {
    File(&'a Path),
    Server(Server<'a>),
}

/// A database on a server, with the connection that administers it.
struct Server<'a> {
    url: &'a DatabaseUrl,
    name: &'a str,
    maintenance: DatabaseUrl,
}

impl Server<'_> {
    /// A connection to the maintenance database, named in the error when it fails.
    fn connect(&self, action: &str) -> Result<DatabaseConnection, AdminError> {
        connect(&self.maintenance).map_err(|e| AdminError::Maintenance {
            action: format!("{action} `{}`", self.name),
            through: match self.maintenance.database_name() {
                Some(db) => format!("the maintenance database `{db}` ({})", self.maintenance),
                None => format!("the server {} (no database)", self.maintenance),
            },
            message: e.message,
        })
    }

    fn quoted(&self) -> String {
        match self.url.dialect() {
            Dialect::Mysql => format!("`{}`", self.name),
            Dialect::Postgres | Dialect::Sqlite => format!("\"{}\"", self.name),
        }
    }

    fn exists_on(&self, conn: &mut DatabaseConnection) -> Result<bool, AdminError> {
        let query = match self.url.dialect() {
            Dialect::Mysql => "SELECT CAST(schema_name AS CHAR) AS version_num FROM information_schema.schemata WHERE schema_name = ?",
            Dialect::Postgres | Dialect::Sqlite => "SELECT datname::text AS version_num FROM pg_database WHERE datname = $1",
        };
        let context = format!(
            "looking up database `{}` on {}",
            self.name, self.maintenance
        );
        Ok(!conn.load_strings(query, &[self.name], &context)?.is_empty())
    }

    /// Ends the other sessions on the database, so that dropping it does not wait or fail:
    /// PostgreSQL's `WITH (FORCE)`, `KILL` of each session on MySQL.
    fn force_sql(&self, conn: &mut DatabaseConnection) -> Result<String, AdminError> {
        let drop = format!("DROP DATABASE {}", self.quoted());
        if self.url.dialect() != Dialect::Mysql {
            return Ok(format!("{drop} WITH (FORCE)"));
        }
        let context = format!("listing the sessions on `{}`", self.name);
        let sessions = conn.load_strings(
            "SELECT CAST(id AS CHAR) AS version_num FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()",
            &[self.name],
            &context,
        )?;
        for id in sessions {
            // A session may end by itself meanwhile.
            let _ = conn.batch_execute(&format!("KILL {id}"));
        }
        Ok(drop)
    }
}

fn place(url: &DatabaseUrl) -> Result<Place<'_>, AdminError> {
    let name = match url {
        DatabaseUrl::Sqlite { path } if path.as_os_str() == ":memory:" => {
            return Err(AdminError::InMemory(url.to_string()))
        }
        DatabaseUrl::Sqlite { path } => return Ok(Place::File(path)),
        _ => url
            .database_name()
            .ok_or_else(|| AdminError::NoName(url.to_string()))?,
    };
    check_name(name, url)?;
    let maintenance = match url.dialect() {
        Dialect::Postgres => url.with_database(Some(POSTGRES_MAINTENANCE)),
        Dialect::Mysql | Dialect::Sqlite => url.with_database(None),
    };
    Ok(Place::Server(Server {
        url,
        name,
        maintenance,
    }))
}

/// Refuses names that would need escaping inside a quoted identifier, or that a server
/// would silently shorten.
fn check_name(name: &str, url: &DatabaseUrl) -> Result<(), AdminError> {
    let plain = !name.is_empty()
        && name.len() <= MAX_NAME_LENGTH
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        Ok(())
    } else {
        Err(AdminError::InvalidName {
            name: name.to_owned(),
            url: url.to_string(),
        })
    }
}

/// Checks the URL's database name without connecting (bad input is reported before
/// anything is touched).
pub fn check_url(url: &DatabaseUrl) -> Result<(), AdminError> {
    place(url).map(|_| ())
}

/// Whether the database exists: the SQLite file, or the database on its server.
pub fn database_exists(url: &DatabaseUrl) -> Result<bool, AdminError> {
    match place(url)? {
        Place::File(path) => Ok(path.exists()),
        Place::Server(server) => {
            let mut conn = server.connect("look up database")?;
            server.exists_on(&mut conn)
        }
    }
}

/// Creates the database unless it exists: an empty SQLite file (its folder must exist), or
/// `CREATE DATABASE` on the server.
pub fn create_database(url: &DatabaseUrl) -> Result<Created, AdminError> {
    match place(url)? {
        Place::File(path) if path.exists() => Ok(Created::Existed),
        Place::File(_) => {
            // Opening creates the file, and checks that it is a place SQLite can write.
            connect(url)?;
            Ok(Created::New)
        }
        Place::Server(server) => {
            let mut conn = server.connect("create database")?;
            if server.exists_on(&mut conn)? {
                return Ok(Created::Existed);
            }
            conn.batch_execute(&format!("CREATE DATABASE {}", server.quoted()))
                .map_err(|e| {
                    DbError::new(
                        format!(
                            "creating database `{}` on {}",
                            server.name, server.maintenance
                        ),
                        e.message,
                    )
                })?;
            Ok(Created::New)
        }
    }
}

/// Drops the database if it exists: removes the SQLite file (and its journal), or
/// `DROP DATABASE` on the server. `force` first ends other sessions on it; without it a
/// server refuses (PostgreSQL) or waits (MySQL) while others are connected.
pub fn drop_database(url: &DatabaseUrl, force: bool) -> Result<Dropped, AdminError> {
    match place(url)? {
        Place::File(path) if !path.exists() => Ok(Dropped::Absent),
        Place::File(path) => {
            remove_sqlite_files(path)?;
            Ok(Dropped::Dropped)
        }
        Place::Server(server) => {
            let mut conn = server.connect("drop database")?;
            if !server.exists_on(&mut conn)? {
                return Ok(Dropped::Absent);
            }
            let sql = if force {
                server.force_sql(&mut conn)?
            } else {
                format!("DROP DATABASE {}", server.quoted())
            };
            conn.batch_execute(&sql).map_err(|e| {
                DbError::new(
                    format!(
                        "dropping database `{}` on {}",
                        server.name, server.maintenance
                    ),
                    e.message,
                )
            })?;
            Ok(Dropped::Dropped)
        }
    }
}

/// Removes a SQLite database file and the files SQLite keeps beside it.
fn remove_sqlite_files(path: &Path) -> Result<(), AdminError> {
    let remove = |path: PathBuf| match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(AdminError::File {
            path,
            message: e.to_string(),
        }),
        _ => Ok(()),
    };
    remove(path.to_owned())?;
    for suffix in ["-journal", "-wal", "-shm"] {
        let mut sibling = path.as_os_str().to_owned();
        sibling.push(suffix);
        remove(sibling.into())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> DatabaseUrl {
        DatabaseUrl::parse(text, Path::new("/")).expect("a valid URL")
    }

    #[test]
    fn names_that_are_not_plain_are_refused_before_connecting() {
        for bad in [
            "postgres://u@h/a\"b",
            "postgres://u@h/a%20b",
            "mysql://root@h/a`b",
            "mysql://root@h/a.b",
        ] {
            let error = check_url(&parse(bad)).expect_err(bad);
            assert!(error.is_bad_input(), "{bad}: {error}");
            assert!(error.to_string().contains("is not a plain name"), "{error}");
        }
        let long = format!("postgres://u@h/{}", "x".repeat(64));
        assert!(check_url(&parse(&long)).is_err());
        let error = check_url(&parse("mysql://root:secret@h:3306")).expect_err("no name");
        assert!(error.to_string().contains("names no database"), "{error}");
        assert!(!error.to_string().contains("secret"), "{error}");
        assert!(check_url(&parse("sqlite::memory:")).is_err());
        for good in [
            "postgres://u@h/app_2",
            "mariadb://root@h/shop-dev",
            "sqlite://x.db",
        ] {
            assert!(check_url(&parse(good)).is_ok(), "{good}");
        }
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn a_sqlite_file_is_created_once_and_dropped_with_its_journal() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("app.db");
        let url = DatabaseUrl::Sqlite { path: path.clone() };
        assert_eq!(database_exists(&url).ok(), Some(false));
        assert_eq!(create_database(&url).ok(), Some(Created::New));
        assert!(path.is_file());
        assert_eq!(create_database(&url).ok(), Some(Created::Existed));
        std::fs::write(dir.path().join("app.db-journal"), b"").expect("a journal");
        assert_eq!(drop_database(&url, false).ok(), Some(Dropped::Dropped));
        assert!(!path.exists());
        assert!(!dir.path().join("app.db-journal").exists());
        assert_eq!(drop_database(&url, false).ok(), Some(Dropped::Absent));
    }
}
