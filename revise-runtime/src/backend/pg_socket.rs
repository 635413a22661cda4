//! Where a PostgreSQL URL without a host finds the local server's socket.
//!
//! libpq looks for the socket in the folder compiled into it. PostgreSQL's own default, which
//! a libpq built from source (the CLI's `bundled-libpq`) has, is `/tmp`; Debian, Ubuntu and
//! Fedora put the server's socket in `/var/run/postgresql` and patch their libpq to match.
//! So a URL that names no host (`postgres:///app`) gets the first of the usual folders that
//! holds the server's socket, which is what the system's libpq would have found.

use std::path::Path;

/// The folders to look in, in order: the distributions' first, then PostgreSQL's default.
const SOCKET_DIRS: [&str; 3] = ["/var/run/postgresql", "/run/postgresql", "/tmp"];

/// The folder to pass as `host=` for `url`: `Some` when the URL names no host, the
/// environment sets no `PGHOST`, and one of the usual folders holds the socket for its port.
pub(super) fn socket_dir(url: &str) -> Option<&'static str> {
    if std::env::var_os("PGHOST").is_some() {
        return None;
    }
    let (authority, query) = split(url)?;
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, rest)| rest);
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host_port, None),
    };
    if !host.is_empty() || query_value(query, "host").is_some() {
        return None;
    }
    let port = port
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .or_else(|| query_value(query, "port").map(str::to_owned))
        .or_else(|| std::env::var("PGPORT").ok())
        .unwrap_or_else(|| "5432".to_owned());
    let socket = format!(".s.PGSQL.{port}");
    SOCKET_DIRS
        .into_iter()
        .find(|dir| Path::new(dir).join(&socket).exists())
}

/// The authority (`user@host:port`) and the query of `scheme://authority/path?query`.
fn split(url: &str) -> Option<(&str, &str)> {
    let (_, rest) = url.split_once("://")?;
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = before_query.split('/').next().unwrap_or("");
    Some((authority, query))
}

fn query_value<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_that_name_a_host_are_left_alone() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/test",
            "postgres://localhost/test",
            "postgres:///test?host=/somewhere",
            "postgres://user:pw@db.example.com/test?sslmode=require",
        ] {
            assert_eq!(socket_dir(url), None, "{url}");
        }
    }

    #[test]
    fn the_authority_and_query_are_found() {
        assert_eq!(split("postgres:///db"), Some(("", "")));
        assert_eq!(split("postgres://u@:5433/db?a=b"), Some(("u@:5433", "a=b")));
        assert_eq!(split("postgres://h?port=1"), Some(("h", "port=1")));
        assert_eq!(query_value("a=b&port=5433", "port"), Some("5433"));
        assert_eq!(query_value("a=b", "port"), None);
    }

    #[test]
    fn a_url_without_host_gets_a_folder_that_holds_a_socket_or_nothing() {
        match socket_dir("postgres:///test") {
            Some(dir) => assert!(Path::new(dir).join(".s.PGSQL.5432").exists()),
            None => assert!(SOCKET_DIRS
                .iter()
                .all(|dir| !Path::new(dir).join(".s.PGSQL.5432").exists())),
        }
    }
}
