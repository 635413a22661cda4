//! Database URLs: the schemes of SPEC section 4, SQLite paths, and a display that never
//! shows a password.

use std::fmt;
use std::path::{Path, PathBuf};

/// The SQL dialect a URL selects; decides quoting and locking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
}

impl Dialect {
    /// The dialect's usual name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgresql",
            Self::Mysql => "mysql",
        }
    }
}

/// A parsed `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file (or `:memory:`).
    Sqlite {
        /// The file, resolved against the base folder when relative.
        path: PathBuf,
    },
    /// A PostgreSQL server; the URL with its scheme normalized to `postgres://`.
    Postgres {
        /// The URL diesel connects with.
        url: String,
        /// The scheme as the user wrote it (`postgresql`, `postgresql+psycopg2`), so that
        /// messages show the URL as given.
        scheme: String,
    },
    /// A MySQL or MariaDB server; the URL with its scheme normalized to `mysql://`.
    Mysql {
        /// The URL diesel connects with (diesel's parser accepts only `mysql://`).
        url: String,
        /// The scheme as the user wrote it (`mariadb`, `mysql+pymysql`), so that messages
        /// show the URL as given.
        scheme: String,
    },
}

/// Why a URL cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// No `scheme:` at all.
    #[error("database URL `{0}` has no scheme; expected one like `sqlite://app.db` or `postgres://user@host/db`")]
    NoScheme(String),
    /// A scheme this tool does not know.
    #[error("database URL `{url}` has the unsupported scheme `{scheme}`; expected sqlite:, postgres://, postgresql://, mysql:// or mariadb://")]
    UnknownScheme {
        /// The scheme.
        scheme: String,
        /// The URL, password hidden.
        url: String,
    },
    /// Neither the environment nor a `.env` file names a database.
    #[error("DATABASE_URL is not set, and no .env file in {0} or its parents sets it")]
    NotConfigured(String),
    /// A `.env` file could not be read.
    #[error("{}: {message}", path.display())]
    EnvFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// `sqlite://` with no path.
    #[error("database URL `{0}` names no SQLite file; write `sqlite://app.db` (relative) or `sqlite:///srv/app.db` (absolute)")]
    EmptySqlitePath(String),
}

impl DatabaseUrl {
    /// Parses `text`. A relative SQLite path is resolved against `base` (the env file's folder
    /// or the working directory, SPEC section 4).
    pub fn parse(text: &str, base: &Path) -> Result<Self, UrlError> {
        let text = text.trim();
        let Some((scheme, rest)) = text.split_once(':') else {
            return Err(UrlError::NoScheme(redact(text)));
        };
        let family = scheme
            .split('+')
            .next()
            .unwrap_or(scheme)
            .to_ascii_lowercase();
        match family.as_str() {
            "sqlite" | "sqlite3" => Self::sqlite(text, rest, base),
            "postgres" | "postgresql" => Ok(Self::Postgres {
                url: format!("postgres:{rest}"),
                scheme: scheme.to_owned(),
            }),
            "mysql" | "mariadb" => Ok(Self::Mysql {
                url: format!("mysql:{rest}"),
                scheme: scheme.to_owned(),
            }),
            _ if scheme.is_empty() || rest.is_empty() => Err(UrlError::NoScheme(redact(text))),
            _ => Err(UrlError::UnknownScheme {
                scheme: scheme.to_owned(),
                url: redact(text),
            }),
        }
    }

    fn sqlite(text: &str, rest: &str, base: &Path) -> Result<Self, UrlError> {
        // `sqlite://x` and `sqlite:x` are both relative; `sqlite:///x` is absolute (sqlx).
        let path = rest.strip_prefix("//").unwrap_or(rest);
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() {
            return Err(UrlError::EmptySqlitePath(text.to_owned()));
        }
        if path == ":memory:" {
            return Ok(Self::Sqlite {
                path: PathBuf::from(":memory:"),
            });
        }
        let path = Path::new(path);
        Ok(Self::Sqlite {
            path: if path.is_absolute() {
                path.to_owned()
            } else {
                base.join(path)
            },
        })
    }

    /// `DATABASE_URL` as an application finds it at start-up, the way `cargo revise` does:
    /// the environment variable (a relative SQLite path is relative to the working
    /// directory), else the nearest `.env` file in the working directory or its parents (a
    /// relative path is relative to that file's folder, so the application and the CLI reach
    /// the same SQLite file).
    pub fn from_env() -> Result<Self, UrlError> {
        let cwd = std::env::current_dir().unwrap_or_default();
        if let Some(text) = std::env::var("DATABASE_URL")
            .ok()
            .filter(|t| !t.trim().is_empty())
        {
            return Self::parse(&text, &cwd);
        }
        for dir in cwd.ancestors() {
            let path = dir.join(".env");
            if !path.is_file() {
                continue;
            }
            let env_error = |e: dotenvy::Error| UrlError::EnvFile {
                path: path.clone(),
                message: e.to_string(),
            };
            for entry in dotenvy::from_path_iter(&path).map_err(env_error)? {
                let (key, value) = entry.map_err(env_error)?;
                if key == "DATABASE_URL" && !value.trim().is_empty() {
                    return Self::parse(&value, dir);
                }
            }
        }
        Err(UrlError::NotConfigured(cwd.display().to_string()))
    }

    /// The database a server URL names: its path, without the `/` and the query. `None`
    /// for SQLite and for a server URL without a path (`mysql://root@host:3306`).
    pub fn database_name(&self) -> Option<&str> {
        match self {
            Self::Sqlite { .. } => None,
            Self::Postgres { url, .. } | Self::Mysql { url, .. } => {
                let (start, end) = path_span(url);
                let name = url[start..end].trim_start_matches('/');
                (!name.is_empty()).then_some(name)
            }
        }
    }

    /// The same server with another database (`None`: no database, as MySQL's
    /// administration connections use), keeping credentials and query. A SQLite URL is
    /// returned unchanged.
    pub fn with_database(&self, name: Option<&str>) -> Self {
        let replaced = |url: &str| {
            let (start, end) = path_span(url);
            let path = name.map(|n| format!("/{n}")).unwrap_or_default();
            format!("{}{path}{}", &url[..start], &url[end..])
        };
        match self {
            Self::Sqlite { .. } => self.clone(),
            Self::Postgres { url, scheme } => Self::Postgres {
                url: replaced(url),
                scheme: scheme.clone(),
            },
            Self::Mysql { url, scheme } => Self::Mysql {
                url: replaced(url),
                scheme: scheme.clone(),
            },
        }
    }

    /// The dialect this URL selects.
    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite { .. } => Dialect::Sqlite,
            Self::Postgres { .. } => Dialect::Postgres,
            Self::Mysql { .. } => Dialect::Mysql,
        }
    }
}

impl DatabaseUrl {
    /// `host:port` of a server (the default port when the URL names none, `localhost` when
    /// it names no host); `sqlite` for every SQLite file, which all share this machine's disk.
    pub fn server_address(&self) -> String {
        let (url, default_port) = match self {
            Self::Sqlite { .. } => return "sqlite".to_owned(),
            Self::Postgres { url, .. } => (url, 5432),
            Self::Mysql { url, .. } => (url, 3306),
        };
        let start = url.find("://").map_or(0, |i| i + 3);
        let end = url[start..]
            .find(['/', '?', '#'])
            .map_or(url.len(), |i| start + i);
        let authority = &url[start..end];
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = match host_port.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (host, port.to_owned()),
            _ => (host_port, default_port.to_string()),
        };
        let host = if host.is_empty() { "localhost" } else { host };
        format!("{host}:{port}")
    }

    /// The password the URL carries, if any (for scrubbing it from driver messages that
    /// might echo it).
    pub fn password(&self) -> Option<String> {
        let (Self::Postgres { url, .. } | Self::Mysql { url, .. }) = self else {
            return None;
        };
        password_of(url)
    }
}

/// The password of `scheme://user:password@host` or of a `password=` query parameter.
pub fn password_of(url: &str) -> Option<String> {
    let start = url.find("://")? + 3;
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    let authority = &url[start..authority_end];
    if let Some((userinfo, _)) = authority.rsplit_once('@') {
        if let Some((_, password)) = userinfo.split_once(':') {
            if !password.is_empty() {
                return Some(password.to_owned());
            }
        }
    }
    let (_, query) = url.split_once('?')?;
    query
        .split('&')
        .find_map(|param| match param.split_once('=') {
            Some((key, value)) if key.eq_ignore_ascii_case("password") && !value.is_empty() => {
                Some(value.to_owned())
            }
            _ => None,
        })
}

/// Shows the URL as the user wrote its scheme (`mariadb://` stays `mariadb://`), with any
/// password replaced by `***`.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
            Self::Postgres { url, scheme } | Self::Mysql { url, scheme } => {
                let rest = url.split_once(':').map_or(url.as_str(), |(_, rest)| rest);
                f.write_str(&redact(&format!("{scheme}:{rest}")))
            }
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Where the path of `scheme://authority/path?query` starts (at its `/`) and ends (before
/// `?` or `#`); an empty span at the end of the authority when there is no path.
fn path_span(url: &str) -> (usize, usize) {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let end = url[authority_start..]
        .find(['?', '#'])
        .map_or(url.len(), |i| authority_start + i);
    let start = url[authority_start..end]
        .find('/')
        .map_or(end, |i| authority_start + i);
    (start, end)
}

/// Replaces the password of `scheme://user:password@host`, and of a `password=` query
/// parameter, with `***`.
pub fn redact(url: &str) -> String {
    let url = redact_userinfo(url);
    match url.split_once('?') {
        Some((base, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|param| match param.split_once('=') {
                    Some((key, _)) if key.to_ascii_lowercase().contains("password") => {
                        format!("{key}=***")
                    }
                    _ => param.to_owned(),
                })
                .collect();
            format!("{base}?{}", params.join("&"))
        }
        None => url,
    }
}

fn redact_userinfo(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    let authority = &url[start..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &authority[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..start],
            &userinfo[..colon],
            &url[start + at..]
        ),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_follow_sqlx() {
        let base = Path::new("/ws");
        let path = |u: &str| match DatabaseUrl::parse(u, base) {
            Ok(DatabaseUrl::Sqlite { path }) => path,
            other => panic!("{u}: {other:?}"),
        };
        assert_eq!(path("sqlite://dev.db"), PathBuf::from("/ws/dev.db"));
        assert_eq!(path("sqlite:dev.db"), PathBuf::from("/ws/dev.db"));
        assert_eq!(path("sqlite:///srv/app.db"), PathBuf::from("/srv/app.db"));
        assert_eq!(
            path("sqlite://data/x.db?mode=rwc"),
            PathBuf::from("/ws/data/x.db")
        );
        assert!(DatabaseUrl::parse("sqlite://", base).is_err());
    }

    #[test]
    fn server_schemes_are_normalized_and_odd_ones_refused() {
        let base = Path::new("/");
        assert_eq!(
            DatabaseUrl::parse("postgresql+psycopg2://u@h/db", base).map(|u| u.dialect()),
            Ok(Dialect::Postgres)
        );
        assert_eq!(
            DatabaseUrl::parse("mariadb://root@127.0.0.1/test", base),
            Ok(DatabaseUrl::Mysql {
                url: "mysql://root@127.0.0.1/test".into(),
                scheme: "mariadb".into(),
            })
        );
        let err = DatabaseUrl::parse("oracle://scott:tiger@h/db", base).expect_err("unknown");
        assert!(!err.to_string().contains("tiger"), "{err}");
        assert!(DatabaseUrl::parse("just-a-path.db", base).is_err());
    }

    #[test]
    fn fleets_replace_the_database_and_group_by_server() {
        let base = Path::new("/");
        let url = DatabaseUrl::parse("postgresql://bob:pw@db:6543/app?sslmode=require", base)
            .expect("a URL");
        let shard = url.with_database(Some("shard_01"));
        // Shown as given, password hidden.
        assert_eq!(
            shard.to_string(),
            "postgresql://bob:***@db:6543/shard_01?sslmode=require"
        );
        assert_eq!(shard.server_address(), "db:6543");
        let bare = DatabaseUrl::parse("mysql://root@127.0.0.1", base).expect("a URL");
        assert_eq!(
            bare.with_database(Some("s1")).to_string(),
            "mysql://root@127.0.0.1/s1"
        );
        assert_eq!(bare.server_address(), "127.0.0.1:3306");
        assert_eq!(url.password().as_deref(), Some("pw"));
        assert_eq!(bare.password(), None);
        assert_eq!(
            password_of("postgres://h/db?user=a&password=x1").as_deref(),
            Some("x1")
        );
        let file = DatabaseUrl::parse("sqlite://a.db", base).expect("a URL");
        assert_eq!(file.server_address(), "sqlite");
    }

    #[test]
    fn passwords_are_never_shown() {
        assert_eq!(
            redact("postgres://bob:s3cret@db:5432/app"),
            "postgres://bob:***@db:5432/app"
        );
        assert_eq!(
            redact("mysql://root@localhost/test"),
            "mysql://root@localhost/test"
        );
        assert_eq!(
            redact("postgres://a:b:c@h/x?x=@"),
            "postgres://a:***@h/x?x=@"
        );
        let url = DatabaseUrl::parse("postgres://bob:s3cret@db/app", Path::new("/")).expect("ok");
        assert!(!url.to_string().contains("s3cret"));
        assert!(!format!("{url:?}").contains("s3cret"));
    }

    #[test]
    fn the_database_of_a_server_url_is_read_and_replaced() {
        let parse = |text: &str| DatabaseUrl::parse(text, Path::new("/")).expect("a valid URL");
        let pg = parse("postgresql://u:pw@h:5432/app?sslmode=disable");
        assert_eq!(pg.database_name(), Some("app"));
        let maintenance = pg.with_database(Some("postgres"));
        assert_eq!(
            maintenance.to_string(),
            "postgresql://u:***@h:5432/postgres?sslmode=disable"
        );
        assert_eq!(maintenance.database_name(), Some("postgres"));
        let socket = parse("postgres:///app");
        assert_eq!(socket.database_name(), Some("app"));
        assert_eq!(
            socket.with_database(Some("postgres")).to_string(),
            "postgres:///postgres"
        );
        let mysql = parse("mariadb://root@127.0.0.1:3306/shop");
        assert_eq!(mysql.database_name(), Some("shop"));
        let server = mysql.with_database(None);
        assert_eq!(server.to_string(), "mariadb://root@127.0.0.1:3306");
        assert_eq!(server.database_name(), None);
        assert_eq!(
            server.with_database(Some("x")).to_string(),
            "mariadb://root@127.0.0.1:3306/x"
        );
        assert_eq!(parse("mysql://root@h/").database_name(), None);
        assert_eq!(parse("sqlite://a.db").database_name(), None);
    }

    #[test]
    fn urls_are_shown_with_the_scheme_as_given() {
        let shown = |text: &str| {
            DatabaseUrl::parse(text, Path::new("/"))
                .expect("a valid URL")
                .to_string()
        };
        assert_eq!(
            shown("mariadb://bob:s3cret@db:3306/app"),
            "mariadb://bob:***@db:3306/app"
        );
        assert_eq!(shown("MySQL://root@db/app"), "MySQL://root@db/app");
        assert_eq!(
            shown("postgresql+psycopg2://u:pw@h/db?password=x"),
            "postgresql+psycopg2://u:***@h/db?password=***"
        );
        assert_eq!(shown("postgres:///app"), "postgres:///app");
    }
}
