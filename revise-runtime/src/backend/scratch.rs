//! Throw-away databases for the stairway test: a temporary SQLite file, or a database
//! created on the configured server and dropped afterwards.

use std::path::Path;

use super::{connect, DatabaseUrl, DbError};

/// A database that exists only for the caller's use; dropped (on a server) with the value.
pub struct ScratchDatabase {
    url: DatabaseUrl,
    drop_sql: Option<(DatabaseUrl, String)>,
}

impl ScratchDatabase {
    /// Creates a scratch database like `base`: a new file in `dir` for SQLite, a new database
    /// on the same server otherwise.
    pub fn create(base: &DatabaseUrl, dir: &Path) -> Result<Self, DbError> {
        let name = format!(
            "revise_scratch_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        match base {
            DatabaseUrl::Sqlite { .. } => Ok(Self {
                url: DatabaseUrl::Sqlite {
                    path: dir.join(format!("{name}.db")),
                },
                drop_sql: None,
            }),
            DatabaseUrl::Postgres { url } => {
                let scratch = DatabaseUrl::Postgres {
                    url: with_database(url, &name),
                };
                run_on(base, &format!("CREATE DATABASE \"{name}\""))?;
                Ok(Self {
                    url: scratch,
                    drop_sql: Some((
                        base.clone(),
                        format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                    )),
                })
            }
            DatabaseUrl::Mysql { url } => {
                let scratch = DatabaseUrl::Mysql {
                    url: with_database(url, &name),
                };
                run_on(base, &format!("CREATE DATABASE `{name}`"))?;
                Ok(Self {
                    url: scratch,
                    drop_sql: Some((base.clone(), format!("DROP DATABASE IF EXISTS `{name}`"))),
                })
            }
        }
    }

    /// The scratch database's URL.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if let Some((server, sql)) = &self.drop_sql {
            // Best effort: a scratch database left behind is named for what it is.
            let _ = run_on(server, sql);
        }
    }
}

fn run_on(url: &DatabaseUrl, sql: &str) -> Result<(), DbError> {
    let mut conn = connect(url)?;
    conn.batch_execute(sql)
}

/// `scheme://auth@host:port/old?query` with the database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_only_the_database() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/app?sslmode=disable", "x"),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(
            with_database("mysql://root@127.0.0.1:3306", "x"),
            "mysql://root@127.0.0.1:3306/x"
        );
    }
}
