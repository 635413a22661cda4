//! `[workspace.metadata.revise.fleet.NAME]` as written in the manifest, and the checks that
//! need nothing but the declaration: exactly one source, and no password in a Cargo manifest.

use serde::Deserialize;

use super::FleetError;
use crate::backend::url::redact;

/// One fleet as the manifest declares it. Exactly one of `sql`, `databases`, `schemas`,
/// `sqlite_glob`, `file` and `entries` says where its databases come from.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FleetDeclaration {
    /// The server (or database) the entries share: `env:NAME`, or a URL without a password.
    pub url: Option<String>,
    /// The database `sql` runs on [default: `url`].
    pub catalog_url: Option<String>,
    /// A query returning `id` and one of `url`, `database`, `schema` (and optionally
    /// `packages`, comma separated), one row per database, in fleet order.
    pub sql: Option<String>,
    /// Database names on `url`'s server, each replacing its database.
    pub databases: Option<Vec<String>>,
    /// PostgreSQL schemas of `url`'s database, one tenant each.
    pub schemas: Option<Vec<String>>,
    /// SQLite files, relative to the workspace root, sorted by path.
    pub sqlite_glob: Option<String>,
    /// A TOML file of `[[entries]]` (kept out of git; may hold literal URLs); `-` is stdin.
    pub file: Option<String>,
    /// The entries themselves.
    pub entries: Option<Vec<EntryDeclaration>>,
    /// Create a missing schema instead of reporting its entry unreachable.
    #[serde(default)]
    pub create_schema: bool,
}

/// One database of an `entries` list or a fleet file.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EntryDeclaration {
    /// Its id (1-64 of `[A-Za-z0-9_.-]`).
    pub id: String,
    /// Its URL [default: the fleet's `url`].
    pub url: Option<String>,
    /// A database on the fleet's server, instead of a URL.
    pub database: Option<String>,
    /// A PostgreSQL schema of the URL's database.
    pub schema: Option<String>,
    /// Only these members' revisions run on it (a service that owns its database).
    pub packages: Option<Vec<String>>,
}

/// Where a fleet's databases come from.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(feature = "fleet"), allow(dead_code))]
pub(crate) enum Source<'a> {
    Sql(&'a str),
    Databases(&'a [String]),
    Schemas(&'a [String]),
    SqliteGlob(&'a str),
    File(&'a str),
    Entries(&'a [EntryDeclaration]),
}

impl FleetDeclaration {
    /// The one source, refusing none or several, and URLs with literal passwords.
    #[cfg_attr(not(feature = "fleet"), allow(dead_code))]
    pub(crate) fn checked_source(&self, fleet: &str) -> Result<Source<'_>, FleetError> {
        let mut found = Vec::new();
        if let Some(sql) = &self.sql {
            found.push(("sql", Source::Sql(sql)));
        }
        if let Some(names) = &self.databases {
            found.push(("databases", Source::Databases(names)));
        }
        if let Some(names) = &self.schemas {
            found.push(("schemas", Source::Schemas(names)));
        }
        if let Some(pattern) = &self.sqlite_glob {
            found.push(("sqlite_glob", Source::SqliteGlob(pattern)));
        }
        if let Some(path) = &self.file {
            found.push(("file", Source::File(path)));
        }
        if let Some(entries) = &self.entries {
            found.push(("entries", Source::Entries(entries)));
        }
        let declaration = |message: String| FleetError::Declaration {
            fleet: fleet.to_owned(),
            message,
        };
        let source = match found.as_slice() {
            [(_, source)] => *source,
            [] => return Err(declaration("it has no source; give one of `sql`, `databases`, `schemas`, `sqlite_glob`, `file` or `entries`".to_owned())),
            several => {
                let keys: Vec<&str> = several.iter().map(|(key, _)| *key).collect();
                return Err(declaration(format!(
                    "it has several sources ({}); give exactly one",
                    keys.join(", ")
                )));
            }
        };
        refuse_literal_password(fleet, "url", self.url.as_deref())?;
        refuse_literal_password(fleet, "catalog_url", self.catalog_url.as_deref())?;
        if let Source::Entries(entries) = source {
            for entry in entries {
                let key = format!("entries.{}.url", entry.id);
                refuse_literal_password(fleet, &key, entry.url.as_deref())?;
            }
        }
        Ok(source)
    }
}

/// A URL written into a Cargo manifest must not carry a password: manifests are committed.
/// The message names the fleet and the key, never the value.
#[cfg_attr(not(feature = "fleet"), allow(dead_code))]
pub(crate) fn refuse_literal_password(
    fleet: &str,
    key: &str,
    value: Option<&str>,
) -> Result<(), FleetError> {
    match value {
        Some(text) if !text.starts_with("env:") && redact(text) != text => {
            Err(FleetError::Declaration {
                fleet: fleet.to_owned(),
                message: format!(
                    "`{key}` holds a literal password, and Cargo manifests are committed; put the URL in an environment variable or the env file and write `{key} = \"env:NAME\"`"
                ),
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declaration(toml_text: &str) -> FleetDeclaration {
        toml::from_str(toml_text).expect("a valid declaration")
    }

    #[test]
    fn exactly_one_source() {
        let none = declaration("url = \"env:X\"");
        let err = none.checked_source("f").expect_err("no source");
        assert!(err.to_string().contains("has no source"), "{err}");
        let two = declaration("sqlite_glob = \"*.db\"\ndatabases = [\"a\"]");
        let err = two.checked_source("f").expect_err("two sources");
        assert!(
            err.to_string()
                .contains("several sources (databases, sqlite_glob)"),
            "{err}"
        );
        let one = declaration("sqlite_glob = \"data/*.db\"");
        assert!(matches!(
            one.checked_source("f"),
            Ok(Source::SqliteGlob("data/*.db"))
        ));
    }

    #[test]
    fn literal_passwords_are_refused_without_being_shown() {
        let literal = declaration("url = \"postgres://app:hunter2@db/x\"\ndatabases = [\"a\"]");
        let err = literal.checked_source("shards").expect_err("a password");
        let text = err.to_string();
        assert!(
            text.contains("fleet `shards`") && text.contains("`url`"),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
        let in_entry =
            declaration("entries = [{ id = \"users\", url = \"mysql://root:pw@h/users\" }]");
        let err = in_entry.checked_source("services").expect_err("a password");
        assert!(err.to_string().contains("entries.users.url"), "{err}");
        let fine = declaration("url = \"postgres://app@db/x\"\nschemas = [\"t1\"]");
        assert!(fine.checked_source("tenants").is_ok());
        let env = declaration("url = \"env:SHARDS\"\ndatabases = [\"a\"]");
        assert!(env.checked_source("shards").is_ok());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<FleetDeclaration>("sqlite_glob = \"x\"\njobs = 3")
            .expect_err("unknown key");
        assert!(err.to_string().contains("jobs"), "{err}");
    }
}
