//! A fresh database for one test, and what a test reads back from it.
//!
//! Three backends ([`Backend`]):
//!
//! - SQLite: a file in the test's temporary folder; nothing to install.
//! - PostgreSQL: a database of its own on the server named by `REVISE_TEST_POSTGRES_URL`
//!   (default `postgres://postgres@127.0.0.1:5432`), created when the [`TestDb`] is made and
//!   dropped when its last handle goes away.
//! - MySQL/MariaDB: likewise on `REVISE_TEST_MYSQL_URL` (default
//!   `mysql://root@127.0.0.1:3306`); needs this package's `mysql` feature, which also builds
//!   the binary under test with MySQL support.
//!
//! Database names are unique per process and test (`revise_t_<pid>_<counter>_<random>`),
//! so tests run in parallel without sharing state. A server that cannot be reached fails the
//! test with a message saying how to start it: a test never passes by skipping silently.
//!
//! `REVISE_TEST_BACKEND=sqlite|postgres|mysql` picks the backend of every
//! `Workspace::new` (SQLite when unset), so one suite checks all three:
//!
//! ```text
//! REVISE_TEST_BACKEND=postgres cargo test -p revise-tests --all-features --test upgrade
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::Text;
use diesel::sqlite::SqliteConnection;
use diesel::{sql_query, Connection, QueryableByName, RunQueryDsl};

/// The version table's name (the default, as Alembic's).
const VERSION_TABLE: &str = "alembic_version";

/// The environment variable that picks the backend of [`crate::Workspace::new`].
pub const BACKEND_VARIABLE: &str = "REVISE_TEST_BACKEND";

/// The environment variable naming the PostgreSQL server the tests use.
pub const POSTGRES_URL_VARIABLE: &str = "REVISE_TEST_POSTGRES_URL";

/// The environment variable naming the MySQL/MariaDB server the tests use.
pub const MYSQL_URL_VARIABLE: &str = "REVISE_TEST_MYSQL_URL";

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432";
const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306";

/// The prefix of every database the tests create on a server.
const NAME_PREFIX: &str = "revise_t_";

/// A kind of database the tests can run against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite files (the default).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
    /// A MySQL or MariaDB server.
    Mysql,
}

impl Backend {
    /// Every backend, SQLite first.
    pub const ALL: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::Mysql];

    /// The backend named by `REVISE_TEST_BACKEND` (`sqlite`, `postgres` or `mysql`), SQLite
    /// when it is unset.
    ///
    /// Panics on any other value, and on `mysql` when this package was built without its
    /// `mysql` feature: the run asked for MariaDB explicitly, so passing on SQLite instead
    /// would be a lie.
    pub fn from_env() -> Self {
        static CHOSEN: OnceLock<Backend> = OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let value = std::env::var(BACKEND_VARIABLE).unwrap_or_default();
            let backend = match value.trim().to_ascii_lowercase().as_str() {
                "" | "sqlite" => Backend::Sqlite,
                "postgres" | "postgresql" | "pg" => Backend::Postgres,
                "mysql" | "mariadb" => Backend::Mysql,
                other => panic!(
                    "{BACKEND_VARIABLE}={other:?} is not a backend; use sqlite, postgres or mysql"
                ),
            };
            if let Some(why) = backend.unsupported() {
                panic!("{BACKEND_VARIABLE}={value} but {why}");
            }
            backend
        })
    }

    /// The name users know it by.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
            Backend::Mysql => "MariaDB",
        }
    }

    /// Whether DDL rolls back with its transaction (PostgreSQL, SQLite); MySQL/MariaDB
    /// commit each DDL statement implicitly.
    pub fn transactional_ddl(self) -> bool {
        self != Backend::Mysql
    }

    /// Why this build of the tests cannot use the backend, if it cannot.
    pub fn unsupported(self) -> Option<&'static str> {
        if self == Backend::Mysql && !cfg!(feature = "mysql") {
            Some(
                "revise-tests was built without its `mysql` feature, so neither the tests nor \
                 the cargo-revise they build can talk to MySQL/MariaDB; run with \
                 `--features mysql` (or `--all-features`)",
            )
        } else {
            None
        }
    }

    /// For tests written for one backend explicitly: true (after saying so on standard
    /// error) when this build cannot test it, so the test returns early instead of passing
    /// without a word.
    pub fn skip(self, test: &str) -> bool {
        match self.unsupported() {
            Some(why) => {
                eprintln!("SKIPPED {test} on {}: {why}", self.name());
                true
            }
            None => false,
        }
    }

    /// SQL that keeps the database busy for about `seconds` (at least one), as a statement
    /// of a revision: `pg_sleep`, `SLEEP`, or for SQLite (which cannot sleep) a recursive
    /// count sized by measuring this machine.
    pub fn slow_sql(self, seconds: u32) -> String {
        match self {
            Backend::Postgres => format!("SELECT pg_sleep({seconds});"),
            Backend::Mysql => format!("SELECT SLEEP({seconds});"),
            Backend::Sqlite => format!(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {}) \
                 SELECT count(*) FROM c;",
                sqlite_rows_per_second() * u64::from(seconds)
            ),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How many rows of the recursive count SQLite makes per second here (measured once).
fn sqlite_rows_per_second() -> u64 {
    static RATE: OnceLock<u64> = OnceLock::new();
    *RATE.get_or_init(|| {
        let mut conn =
            SqliteConnection::establish(":memory:").expect("an in-memory SQLite database");
        let rows: u64 = 200_000;
        // The fastest of three: the rate of an idle machine, so that the binary under test,
        // sharing the machine with other tests, can only take longer than asked.
        let fastest = (0..3)
            .map(|_| {
                let started = std::time::Instant::now();
                conn.batch_execute(&format!(
                    "WITH RECURSIVE c(x) AS \
                     (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) \
                     SELECT count(*) FROM c;"
                ))
                .expect("the recursive count runs");
                started.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
            .max(0.000_1);
        (rows as f64 / fastest) as u64
    })
}

/// A database a test migrates, described so that the test can both hand its URL to
/// `cargo revise` and inspect it afterwards.
///
/// Cloning is cheap; a server database is dropped when the last clone goes away.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestDb {
    /// A SQLite file; it does not exist until something creates it.
    Sqlite {
        /// The file's absolute path.
        path: PathBuf,
    },
    /// A database of its own on the PostgreSQL server.
    Postgres(Arc<ServerDb>),
    /// A database of its own on the MySQL/MariaDB server.
    Mysql(Arc<ServerDb>),
}

/// A database created on a server for one test; dropping it drops the database.
#[derive(PartialEq, Eq)]
pub struct ServerDb {
    backend: Backend,
    /// The server's URL without a database.
    server: ServerUrl,
    /// The database's name.
    name: String,
}

impl fmt::Debug for ServerDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} database {} on {}",
            self.backend,
            self.name,
            self.server.shown()
        )
    }
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

    /// A new, empty database on the PostgreSQL server. Panics, saying how to start the
    /// server, when it cannot be reached.
    pub fn postgres() -> Self {
        Self::Postgres(Arc::new(ServerDb::create(Backend::Postgres)))
    }

    /// A new, empty database on the MySQL/MariaDB server. Panics when it cannot be reached,
    /// and when this build has no MySQL support (see [`Backend::unsupported`]).
    pub fn mysql() -> Self {
        Self::Mysql(Arc::new(ServerDb::create(Backend::Mysql)))
    }

    /// A new database of `backend`; a SQLite one is the file `dir/test.db`.
    pub fn new(backend: Backend, dir: &Path) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite(dir.join("test.db")),
            Backend::Postgres => Self::postgres(),
            Backend::Mysql => Self::mysql(),
        }
    }

    /// A database of `backend` that does not exist yet, for tests that create it (`cargo
    /// revise database create`): the file `dir/test.db` for SQLite, a unique name on the
    /// server otherwise, dropped (if anything created it) when the last handle goes away.
    pub fn missing(backend: Backend, dir: &Path) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite(dir.join("test.db")),
            Backend::Postgres => Self::Postgres(Arc::new(ServerDb::reserve(Backend::Postgres))),
            Backend::Mysql => Self::Mysql(Arc::new(ServerDb::reserve(Backend::Mysql))),
        }
    }

    /// Which kind of database this is.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite { .. } => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
            Self::Mysql(_) => Backend::Mysql,
        }
    }

    /// The URL to pass as `--database-url` or `DATABASE_URL`: absolute, so it does not
    /// depend on the working directory.
    pub fn url(&self) -> String {
        match self {
            // `sqlite://` + `/abs/path` is sqlx's spelling of an absolute path.
            Self::Sqlite { path } => format!("sqlite://{}", path.display()),
            Self::Postgres(db) | Self::Mysql(db) => db.url(),
        }
    }

    /// The server database's name (`None` for SQLite).
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Sqlite { .. } => None,
            Self::Postgres(db) | Self::Mysql(db) => Some(&db.name),
        }
    }

    /// Whether the database exists at all: the SQLite file was created, or the server
    /// still has the database (it does for as long as this handle lives).
    pub fn exists(&self) -> bool {
        match self {
            Self::Sqlite { path } => path.exists(),
            Self::Postgres(db) | Self::Mysql(db) => db.exists(),
        }
    }

    /// True when nothing has recorded a migration: the database does not exist, or it has no
    /// version table. What every "bad input, nothing runs" test expects afterwards.
    pub fn untouched(&self) -> bool {
        !self.exists() || !self.tables().iter().any(|t| t == VERSION_TABLE)
    }

    /// True when nothing was created at all: no SQLite file, or a server database without
    /// a single table. What a read-only command must leave.
    pub fn pristine(&self) -> bool {
        match self {
            Self::Sqlite { path } => !path.exists(),
            Self::Postgres(_) | Self::Mysql(_) => self.tables().is_empty(),
        }
    }

    /// The rows of `alembic_version`, sorted; empty when the database or the table does not
    /// exist (Alembic may leave either behind after `down base`).
    pub fn version_rows(&self) -> Vec<String> {
        if !self.tables().iter().any(|t| t == VERSION_TABLE) {
            return Vec::new();
        }
        self.strings(&format!(
            "SELECT version_num AS name FROM {VERSION_TABLE} ORDER BY version_num"
        ))
    }

    /// The user tables, sorted by name (bytewise, whatever the server's collation), without
    /// the database's own (`sqlite_sequence`, ...); the version table is included. Empty
    /// when the database does not exist.
    pub fn tables(&self) -> Vec<String> {
        if !self.exists() {
            return Vec::new();
        }
        let mut tables = match self {
            Self::Sqlite { .. } => self.strings(
                "SELECT name FROM sqlite_master \
                 WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            ),
            Self::Postgres(_) => self.strings(
                "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public'",
            ),
            Self::Mysql(_) => self.strings(
                "SELECT CAST(table_name AS CHAR) AS name FROM information_schema.tables \
                 WHERE table_schema = DATABASE()",
            ),
        };
        tables.sort();
        tables
    }

    /// The column names of `table`, in table order.
    pub fn columns(&self, table: &str) -> Vec<String> {
        match self {
            Self::Sqlite { .. } => self.strings(&format!(
                "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
            )),
            Self::Postgres(_) => self.strings(&format!(
                "SELECT column_name::text AS name FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = '{table}' \
                 ORDER BY ordinal_position"
            )),
            Self::Mysql(_) => self.strings(&format!(
                "SELECT CAST(column_name AS CHAR) AS name FROM information_schema.columns \
                 WHERE table_schema = DATABASE() AND table_name = '{table}' \
                 ORDER BY ordinal_position"
            )),
        }
    }

    /// The whole schema as sorted lines, read with the database's own tools rather than
    /// `cargo revise`'s catalog readers: `pg_dump --schema-only` on PostgreSQL,
    /// `mariadb-dump --no-data` on MySQL/MariaDB, SQLite's pragmas. Column order is left out
    /// (the lines are sorted), as the schema commands leave it out: a column added back goes
    /// last. Two equal dumps are the same schema: tables, columns with types, nullability and
    /// defaults, keys, indexes, constraints, sequences.
    pub fn schema_dump(&self) -> Vec<String> {
        let text = match self {
            Self::Sqlite { .. } => self
                .strings(
                    "SELECT 'column ' || m.name || '.' || p.name || ' ' || p.type || ' notnull=' || p.\"notnull\" \
                     || ' default=' || COALESCE(p.dflt_value, '') || ' pk=' || p.pk AS name \
                     FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                     UNION ALL SELECT 'index ' || m.name || '.' || l.name || ' unique=' || l.\"unique\" \
                     || ' origin=' || l.origin || ' partial=' || l.partial || ' columns=' \
                     || (SELECT group_concat(i.name, ',') FROM pragma_index_info(l.name) i) AS name \
                     FROM sqlite_master m JOIN pragma_index_list(m.name) l \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                     UNION ALL SELECT 'foreign key ' || m.name || ' ' || f.\"from\" || ' -> ' || f.\"table\" \
                     || '.' || COALESCE(f.\"to\", '') || ' ' || f.on_update || ' ' || f.on_delete AS name \
                     FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                     UNION ALL SELECT type || ' ' || name || ': ' || sql AS name FROM sqlite_master \
                     WHERE type IN ('index', 'trigger', 'view') AND sql IS NOT NULL",
                )
                .join("\n"),
            Self::Postgres(db) => run_tool(
                "pg_dump",
                &["--schema-only", "--no-owner", "--no-privileges", "-d", &db.url()],
            ),
            Self::Mysql(db) => {
                let url = db.url();
                let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
                let (credentials, rest) = rest.split_once('@').unwrap_or(("root", rest));
                let (user, password) = credentials.split_once(':').unwrap_or((credentials, ""));
                let (host_port, database) = rest.split_once('/').unwrap_or((rest, ""));
                let database = database.split('?').next().unwrap_or(database);
                let (host, port) = host_port.split_once(':').unwrap_or((host_port, "3306"));
                let password_arg = format!("--password={password}");
                let mut args = vec![
                    "--no-data", "--skip-comments", "--compact", "--protocol=TCP", "-h", host, "-P", port, "-u", user,
                ];
                if !password.is_empty() {
                    args.push(&password_arg);
                }
                args.push(database);
                run_tool("mariadb-dump", &args)
            }
        };
        let mut lines: Vec<String> = text
            .lines()
            .map(|line| line.trim().trim_end_matches(',').trim().to_owned())
            .filter(|line| {
                !line.is_empty()
                    && !line.starts_with("--")
                    && !line.starts_with("SET ")
                    && !line.starts_with("SELECT pg_catalog.set_config")
                    && !line.starts_with("/*!")
                    // pg_dump 15.14 and later fence its output with a random key.
                    && !line.starts_with("\\restrict")
                    && !line.starts_with("\\unrestrict")
            })
            .map(|line| {
                line.split(' ')
                    .filter(|word| !word.starts_with("AUTO_INCREMENT="))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        lines.sort();
        lines
    }

    /// Runs SQL directly, bypassing `cargo revise` (to set up a state a test needs).
    pub fn execute(&self, sql: &str) {
        match self {
            Self::Sqlite { path } => sqlite(path)
                .batch_execute(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            Self::Postgres(db) => postgres(&db.url())
                .batch_execute(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            Self::Mysql(db) => mysql::execute(&db.url(), sql),
        }
    }

    /// Whether another session on this server database is running a statement that
    /// contains `marker` (from `pg_stat_activity` or MariaDB's process list); `None` for
    /// SQLite, which cannot tell.
    pub fn running(&self, marker: &str) -> Option<bool> {
        let statements = match self {
            Self::Sqlite { .. } => return None,
            Self::Postgres(_) => self.strings(
                "SELECT COALESCE(query, '') AS name FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid() \
                 AND state = 'active'",
            ),
            Self::Mysql(_) => self.strings(
                "SELECT CAST(COALESCE(info, '') AS CHAR) AS name \
                 FROM information_schema.processlist \
                 WHERE db = DATABASE() AND id <> CONNECTION_ID()",
            ),
        };
        Some(statements.iter().any(|s| s.contains(marker)))
    }

    /// The URL of another database on this database's server with other credentials
    /// (`user` or `user:password`), for tests of connection errors. Panics for SQLite.
    pub fn server_url(&self, credentials: &str, database: &str) -> String {
        self.server().with_credentials(credentials, database)
    }

    /// The user the tests connect to the server as.
    pub fn server_user(&self) -> String {
        let credentials = self.server_credentials();
        match credentials.split_once(':') {
            Some((user, _)) => user.to_owned(),
            None => credentials,
        }
    }

    /// The `user` or `user:password` the tests connect to the server with.
    pub fn server_credentials(&self) -> String {
        self.server().credentials().to_owned()
    }

    fn server(&self) -> &ServerUrl {
        match self {
            Self::Sqlite { .. } => panic!("a SQLite database has no server"),
            Self::Postgres(db) | Self::Mysql(db) => &db.server,
        }
    }

    /// The values of a query's single text column, which must be named `name`, in the
    /// order the query returns them (`SELECT rev AS name FROM runs`).
    pub fn strings(&self, query: &str) -> Vec<String> {
        let rows: Vec<Name> = match self {
            Self::Sqlite { path } => sql_query(query)
                .load::<Name>(&mut sqlite(path))
                .unwrap_or_else(|e| panic!("{query}: {e}")),
            Self::Postgres(db) => sql_query(query)
                .load::<Name>(&mut postgres(&db.url()))
                .unwrap_or_else(|e| panic!("{query}: {e}")),
            Self::Mysql(db) => mysql::load(&db.url(), query),
        };
        rows.into_iter().map(|row| row.name).collect()
    }
}

/// Runs a database's own command-line tool and returns its standard output; panics with its
/// error output when it fails.
fn run_tool(program: &str, args: &[&str]) -> String {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (is it installed?): {e}"));
    assert!(
        output.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Opens an existing SQLite file. (Opening would create a missing one, hence the callers'
/// `exists` checks: reading must never be what creates the database.)
fn sqlite(path: &Path) -> SqliteConnection {
    let path = path.to_str().expect("temporary paths are UTF-8");
    let mut conn =
        SqliteConnection::establish(path).unwrap_or_else(|e| panic!("opening {path}: {e}"));
    // A run may be committing in another process; wait for it instead of failing.
    conn.batch_execute("PRAGMA busy_timeout = 10000")
        .unwrap_or_else(|e| panic!("opening {path}: {e}"));
    conn
}

fn postgres(url: &str) -> PgConnection {
    PgConnection::establish(url)
        .unwrap_or_else(|e| panic!("connecting to {}: {e}", ServerUrl::mask(url)))
}

/// The server side: the base URL, creating and dropping databases.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ServerUrl {
    /// `scheme://user:password@host:port`, no path.
    base: String,
    /// The database to connect to for administration (`postgres`), if any.
    admin_db: Option<String>,
    /// `?query` to keep on every URL, if any.
    query: String,
}

impl ServerUrl {
    fn from_env(backend: Backend) -> Self {
        let (variable, default) = match backend {
            Backend::Postgres => (POSTGRES_URL_VARIABLE, DEFAULT_POSTGRES_URL),
            Backend::Mysql => (MYSQL_URL_VARIABLE, DEFAULT_MYSQL_URL),
            Backend::Sqlite => unreachable!("SQLite has no server"),
        };
        let text = std::env::var(variable)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| default.to_owned());
        let text = text.trim();
        let (without_query, query) = match text.split_once('?') {
            Some((url, query)) => (url, format!("?{query}")),
            None => (text, String::new()),
        };
        let authority_start = without_query.find("://").map_or(0, |i| i + 3);
        let (base, path) = match without_query[authority_start..].find('/') {
            Some(slash) => without_query.split_at(authority_start + slash),
            None => (without_query, ""),
        };
        let path = path.trim_matches('/');
        let admin_db = match (backend, path) {
            (Backend::Postgres, "") => Some("postgres".to_owned()),
            (_, "") => None,
            (_, path) => Some(path.to_owned()),
        };
        Self {
            base: base.to_owned(),
            admin_db,
            query,
        }
    }

    /// The URL of `database` on this server.
    fn url(&self, database: Option<&str>) -> String {
        match database {
            Some(db) => format!("{}/{db}{}", self.base, self.query),
            None => format!("{}{}", self.base, self.query),
        }
    }

    fn admin_url(&self) -> String {
        self.url(self.admin_db.as_deref())
    }

    /// The base URL as scheme, credentials (possibly empty) and host.
    fn parts(&self) -> (&str, &str, &str) {
        let (scheme, rest) = self
            .base
            .split_at(self.base.find("://").map_or(0, |i| i + 3));
        match rest.rsplit_once('@') {
            Some((credentials, host)) => (scheme, credentials, host),
            None => (scheme, "", rest),
        }
    }

    fn credentials(&self) -> &str {
        self.parts().1
    }

    /// The URL of `database` with the user (and password) replaced by `credentials`.
    fn with_credentials(&self, credentials: &str, database: &str) -> String {
        let (scheme, _, host) = self.parts();
        format!("{scheme}{credentials}@{host}/{database}{}", self.query)
    }

    /// The base URL with any password replaced by `***`.
    fn shown(&self) -> String {
        Self::mask(&self.base)
    }

    fn mask(url: &str) -> String {
        let Some(scheme_end) = url.find("://") else {
            return url.to_owned();
        };
        let rest = &url[scheme_end + 3..];
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        match authority.rfind('@') {
            Some(at) => match authority[..at].split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &rest[at..]),
                None => url.to_owned(),
            },
            None => url.to_owned(),
        }
    }
}

/// The panic message for a server that cannot be reached.
fn unreachable_server(backend: Backend, server: &ServerUrl, error: &dyn fmt::Display) -> String {
    let (variable, start) = match backend {
        Backend::Postgres => (
            POSTGRES_URL_VARIABLE,
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
        ),
        _ => (
            MYSQL_URL_VARIABLE,
            "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
        ),
    };
    format!(
        "cannot reach the {backend} server at {} for the {backend} tests: {error}\n\
         Start it (as root: `{start}`), or point {variable} at a running server; \
         these tests do not skip a missing server.",
        server.shown()
    )
}

impl ServerDb {
    fn create(backend: Backend) -> Self {
        let db = Self::reserve(backend);
        db.admin(|admin| admin.create(&db.name))
            .unwrap_or_else(|e| panic!("{}", unreachable_server(backend, &db.server, &e)));
        db
    }

    /// A unique name on the server, not created; stale databases of killed runs are
    /// removed once per process first.
    fn reserve(backend: Backend) -> Self {
        if let Some(why) = backend.unsupported() {
            panic!("a {backend} test database was asked for, but {why}");
        }
        let server = ServerUrl::from_env(backend);
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "{NAME_PREFIX}{}_{}_{:08x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let db = Self {
            backend,
            server,
            name,
        };
        db.admin(|admin| {
            static CLEANED: Mutex<Vec<Backend>> = Mutex::new(Vec::new());
            let mut cleaned = CLEANED.lock().unwrap_or_else(|e| e.into_inner());
            if !cleaned.contains(&backend) {
                remove_stale_databases(admin);
                cleaned.push(backend);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{}", unreachable_server(backend, &db.server, &e)));
        db
    }

    fn url(&self) -> String {
        self.server.url(Some(&self.name))
    }

    fn exists(&self) -> bool {
        let name = self.name.clone();
        self.admin(|admin| admin.database_names().map(|names| names.contains(&name)))
            .unwrap_or_else(|e| panic!("{}", unreachable_server(self.backend, &self.server, &e)))
    }

    /// Runs `body` on an administration connection to the server.
    fn admin<T>(
        &self,
        body: impl FnOnce(&mut dyn Admin) -> Result<T, String>,
    ) -> Result<T, String> {
        let url = self.server.admin_url();
        match self.backend {
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&url).map_err(|e| e.to_string())?;
                body(&mut conn)
            }
            Backend::Mysql => mysql::admin(&url, body),
            Backend::Sqlite => unreachable!("SQLite has no server"),
        }
    }
}

impl Drop for ServerDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        if let Err(e) = self.admin(|admin| admin.drop_database(&name)) {
            // Never panic in a drop (it may run while a failed test unwinds); the next run
            // removes what is left (see `remove_stale_databases`).
            eprintln!("warning: could not drop the test database {name}: {e}");
        }
    }
}

/// What creating and dropping databases needs from a server connection.
trait Admin {
    fn batch(&mut self, sql: &str) -> Result<(), String>;
    fn load_names(&mut self, query: &str) -> Result<Vec<String>, String>;
    fn create(&mut self, name: &str) -> Result<(), String>;
    fn drop_database(&mut self, name: &str) -> Result<(), String>;
    fn database_names(&mut self) -> Result<Vec<String>, String>;
}

impl Admin for PgConnection {
    fn batch(&mut self, sql: &str) -> Result<(), String> {
        self.batch_execute(sql).map_err(|e| format!("{sql}: {e}"))
    }

    fn load_names(&mut self, query: &str) -> Result<Vec<String>, String> {
        sql_query(query)
            .load::<Name>(self)
            .map(|rows| rows.into_iter().map(|r| r.name).collect())
            .map_err(|e| format!("{query}: {e}"))
    }

    fn create(&mut self, name: &str) -> Result<(), String> {
        self.batch(&format!("CREATE DATABASE \"{name}\""))
    }

    fn drop_database(&mut self, name: &str) -> Result<(), String> {
        // FORCE ends the sessions a killed `cargo revise` may have left running.
        self.batch(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
    }

    fn database_names(&mut self) -> Result<Vec<String>, String> {
        self.load_names("SELECT datname::text AS name FROM pg_database")
    }
}

/// Drops the test databases of processes that no longer run (a test run that was killed
/// could not drop its own), once per process and server. Best effort.
fn remove_stale_databases(admin: &mut dyn Admin) {
    // Only where process ids can be checked.
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(names) = admin.database_names() else {
        return;
    };
    for name in names {
        let Some(rest) = name.strip_prefix(NAME_PREFIX) else {
            continue;
        };
        let Some(pid) = rest.split('_').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = admin.drop_database(&name);
        }
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    //! The MySQL/MariaDB half, compiled only with the `mysql` feature (it links the system's
    //! libmariadb).

    use diesel::connection::SimpleConnection;
    use diesel::mysql::MysqlConnection;
    use diesel::{sql_query, Connection, RunQueryDsl};

    use super::{Admin, Name, ServerUrl};

    fn connect(url: &str) -> MysqlConnection {
        MysqlConnection::establish(url)
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", ServerUrl::mask(url)))
    }

    pub(super) fn execute(url: &str, sql: &str) {
        connect(url)
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub(super) fn load(url: &str, query: &str) -> Vec<Name> {
        sql_query(query)
            .load::<Name>(&mut connect(url))
            .unwrap_or_else(|e| panic!("{query}: {e}"))
    }

    pub(super) fn admin<T>(
        url: &str,
        body: impl FnOnce(&mut dyn Admin) -> Result<T, String>,
    ) -> Result<T, String> {
        let mut conn = MysqlConnection::establish(url).map_err(|e| e.to_string())?;
        body(&mut conn)
    }

    impl Admin for MysqlConnection {
        fn batch(&mut self, sql: &str) -> Result<(), String> {
            self.batch_execute(sql).map_err(|e| format!("{sql}: {e}"))
        }

        fn load_names(&mut self, query: &str) -> Result<Vec<String>, String> {
            sql_query(query)
                .load::<Name>(self)
                .map(|rows| rows.into_iter().map(|r| r.name).collect())
                .map_err(|e| format!("{query}: {e}"))
        }

        fn create(&mut self, name: &str) -> Result<(), String> {
            self.batch(&format!("CREATE DATABASE `{name}`"))
        }

        fn drop_database(&mut self, name: &str) -> Result<(), String> {
            // A killed `cargo revise` may leave a session running a statement (a SLEEP) that
            // holds metadata locks; DROP DATABASE would wait for it. End such sessions first.
            let sessions = self.load_names(&format!(
                "SELECT CAST(id AS CHAR) AS name FROM information_schema.processlist \
                 WHERE db = '{name}' AND id <> CONNECTION_ID()"
            ))?;
            for id in sessions {
                // The session may end by itself meanwhile.
                let _ = self.batch(&format!("KILL {id}"));
            }
            self.batch(&format!("DROP DATABASE IF EXISTS `{name}`"))
        }

        fn database_names(&mut self) -> Result<Vec<String>, String> {
            self.load_names(
                "SELECT CAST(schema_name AS CHAR) AS name FROM information_schema.schemata",
            )
        }
    }
}

#[cfg(not(feature = "mysql"))]
mod mysql {
    //! Without the `mysql` feature no MySQL test database can be made (`ServerDb::create`
    //! refuses first), so these are never reached.

    use super::{Admin, Name};

    const NO_MYSQL: &str = "revise-tests was built without its `mysql` feature";

    pub(super) fn execute(_url: &str, _sql: &str) {
        unreachable!("{NO_MYSQL}")
    }

    pub(super) fn load(_url: &str, _query: &str) -> Vec<Name> {
        unreachable!("{NO_MYSQL}")
    }

    pub(super) fn admin<T>(
        _url: &str,
        _body: impl FnOnce(&mut dyn Admin) -> Result<T, String>,
    ) -> Result<T, String> {
        Err(NO_MYSQL.to_owned())
    }
}
