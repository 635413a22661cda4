//! Turning fleet declarations into entries, one source each: `sql` on a catalog database,
//! `databases` on one server, PostgreSQL `schemas`, a `sqlite_glob`, a `file` of entries,
//! or the `entries` themselves.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::declaration::{EntryDeclaration, FleetDeclaration, Source};
use super::entry::{check_id, FleetEntry};
use super::secret::Secrets;
use super::FleetError;
use crate::backend::{DatabaseUrl, Dialect, VersionTable};

/// What resolving fleets needs: the workspace root (globs and files are relative to it),
/// the declarations, the secrets, and how long a catalog database may take to answer.
#[derive(Debug)]
pub struct Resolver<'a> {
    /// The workspace root.
    pub root: &'a Path,
    /// `[workspace.metadata.revise.fleet]`.
    pub declarations: &'a BTreeMap<String, FleetDeclaration>,
    /// `env:NAME` values.
    pub secrets: &'a Secrets,
    /// How long a `sql` fleet's catalog database may take to accept the connection.
    pub connect_timeout: Duration,
}

/// A fleet file: `[[entries]]` tables with the keys of `entries`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetFile {
    #[serde(default)]
    entries: Vec<EntryDeclaration>,
}

/// The entries of `names`, in the order given, each fleet in its source's order; ids must
/// be unique across all of them.
pub fn resolve_fleets(
    resolver: &Resolver<'_>,
    names: &[String],
) -> Result<Vec<FleetEntry>, FleetError> {
    let mut entries = Vec::new();
    let mut seen: HashMap<String, Arc<str>> = HashMap::new();
    for name in names {
        let declaration =
            resolver
                .declarations
                .get(name)
                .ok_or_else(|| FleetError::UnknownFleet {
                    name: name.clone(),
                    declared: resolver.declarations.keys().cloned().collect(),
                })?;
        for entry in resolver.resolve(name, declaration)? {
            if let Some(first) = seen.insert(entry.id.clone(), entry.fleet.clone()) {
                return Err(FleetError::DuplicateId {
                    id: entry.id,
                    first: first.to_string(),
                    second: name.clone(),
                });
            }
            entries.push(entry);
        }
    }
    Ok(entries)
}

impl Resolver<'_> {
    fn resolve(
        &self,
        name: &str,
        declaration: &FleetDeclaration,
    ) -> Result<Vec<FleetEntry>, FleetError> {
        let fleet = Fleet {
            resolver: self,
            name: name.into(),
            declaration,
        };
        match declaration.checked_source(name)? {
            Source::Databases(names) => {
                let server = fleet.url()?;
                names
                    .iter()
                    .map(|db| fleet.entry(db, fleet.on_database(&server, db)?, None, None))
                    .collect()
            }
            Source::Schemas(names) => {
                let database = fleet.url()?;
                names
                    .iter()
                    .map(|schema| fleet.entry(schema, database.clone(), Some(schema.clone()), None))
                    .collect()
            }
            Source::SqliteGlob(pattern) => fleet.sqlite_files(pattern),
            Source::Entries(list) => list
                .iter()
                .map(|e| fleet.declared_entry(e, self.root))
                .collect(),
            Source::File(path) => {
                let (list, folder) = fleet.read_file(path)?;
                list.iter()
                    .map(|e| fleet.declared_entry(e, &folder))
                    .collect()
            }
            Source::Sql(sql) => fleet.listed_by_query(sql),
        }
    }
}

/// One fleet being resolved.
struct Fleet<'r, 'a> {
    resolver: &'r Resolver<'a>,
    name: Arc<str>,
    declaration: &'r FleetDeclaration,
}

impl Fleet<'_, '_> {
    fn error(&self, message: impl Into<String>) -> FleetError {
        FleetError::Declaration {
            fleet: self.name.to_string(),
            message: message.into(),
        }
    }

    /// A URL value (`env:NAME` or literal) parsed; `key` names it in errors.
    fn parse_url(
        &self,
        key: &str,
        value: &str,
        literal_base: &Path,
    ) -> Result<DatabaseUrl, FleetError> {
        let resolved = self
            .resolver
            .secrets
            .resolve(&self.name, key, value, literal_base)?;
        DatabaseUrl::parse(&resolved.text, &resolved.base)
            .map_err(|e| self.error(format!("`{key}`: {e}")))
    }

    /// The fleet's `url`, required by this source.
    fn url(&self) -> Result<DatabaseUrl, FleetError> {
        let value = self.declaration.url.as_deref().ok_or_else(|| {
            self.error("this source needs `url` (the server or database its entries share)")
        })?;
        self.parse_url("url", value, self.resolver.root)
    }

    /// `server` naming `database` instead. The name goes into the URL as it is, so only
    /// plain names are taken.
    fn on_database(&self, server: &DatabaseUrl, database: &str) -> Result<DatabaseUrl, FleetError> {
        if server.dialect() == Dialect::Sqlite {
            return Err(self.error(format!(
                "database `{database}`: `url` is a SQLite file, which has no server to hold other databases; list SQLite files with `sqlite_glob` or `entries`"
            )));
        }
        let plain = !database.is_empty()
            && database
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$' | '-'));
        if !plain {
            return Err(self.error(format!(
                "database `{}` is not a plain name (A-Z a-z 0-9 _ . $ -); give the entry a `url` of its own",
                database.escape_debug()
            )));
        }
        Ok(server.with_database(Some(database)))
    }

    fn entry(
        &self,
        id: &str,
        url: DatabaseUrl,
        schema: Option<String>,
        packages: Option<Vec<String>>,
    ) -> Result<FleetEntry, FleetError> {
        check_id(id).map_err(|e| self.error(e))?;
        if let Some(schema) = &schema {
            if url.dialect() != Dialect::Postgres {
                return Err(self.error(format!(
                    "entry `{id}`: schema `{schema}` needs PostgreSQL; on {} give each tenant a database of its own (`databases`)",
                    url.dialect().name()
                )));
            }
            VersionTable::default()
                .in_schema(schema)
                .map_err(|e| self.error(format!("entry `{id}`: schema {e}")))?;
        }
        Ok(FleetEntry {
            id: id.to_owned(),
            fleet: self.name.clone(),
            url,
            schema,
            packages,
            create_schema: self.declaration.create_schema,
        })
    }

    /// An entry of `entries` or of a fleet file; literal relative SQLite paths are relative
    /// to `literal_base` (the manifest's or the file's folder).
    fn declared_entry(
        &self,
        declared: &EntryDeclaration,
        literal_base: &Path,
    ) -> Result<FleetEntry, FleetError> {
        check_id(&declared.id).map_err(|e| self.error(e))?;
        let key = format!("entries.{}.url", declared.id);
        let url = match &declared.url {
            Some(value) => self.parse_url(&key, value, literal_base)?,
            None => self.url()?,
        };
        let url = match &declared.database {
            Some(database) => self.on_database(&url, database)?,
            None => url,
        };
        self.entry(
            &declared.id,
            url,
            declared.schema.clone(),
            declared.packages.clone(),
        )
    }

    /// `sqlite_glob`: the matching files, sorted by path, each named by its file stem.
    fn sqlite_files(&self, pattern: &str) -> Result<Vec<FleetEntry>, FleetError> {
        let root = self.resolver.root;
        let absolute = if Path::new(pattern).is_absolute() {
            PathBuf::from(pattern)
        } else {
            root.join(pattern)
        };
        let text = absolute
            .to_str()
            .ok_or_else(|| self.error("`sqlite_glob` is not valid UTF-8"))?;
        let paths =
            glob::glob(text).map_err(|e| self.error(format!("`sqlite_glob` `{pattern}`: {e}")))?;
        let mut files = Vec::new();
        for path in paths {
            let path = path.map_err(|e| self.error(format!("`sqlite_glob`: {e}")))?;
            if path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        files
            .into_iter()
            .map(|path| {
                let id = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                self.entry(&id, DatabaseUrl::Sqlite { path }, None, None)
            })
            .collect()
    }

    /// A fleet file's entries and the folder its relative paths are relative to.
    fn read_file(&self, path: &str) -> Result<(Vec<EntryDeclaration>, PathBuf), FleetError> {
        let (text, shown, folder) = if path == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| FleetError::File {
                    path: PathBuf::from("<stdin>"),
                    message: e.to_string(),
                })?;
            let cwd = std::env::current_dir().unwrap_or_default();
            (text, PathBuf::from("<stdin>"), cwd)
        } else {
            let full = self.resolver.root.join(path);
            let text = std::fs::read_to_string(&full).map_err(|e| FleetError::File {
                path: full.clone(),
                message: format!("cannot read the file of fleet `{}`: {e}", self.name),
            })?;
            let folder = full
                .parent()
                .map_or_else(|| self.resolver.root.to_owned(), Path::to_owned);
            (text, full, folder)
        };
        let file: FleetFile = toml::from_str(&text).map_err(|e| FleetError::File {
            path: shown,
            message: format!(
                "not a fleet file ([[entries]] tables with id, url, database, schema, packages): {}",
                e.message()
            ),
        })?;
        Ok((file.entries, folder))
    }

    /// `sql`: one entry per row of the query on the catalog database.
    fn listed_by_query(&self, sql: &str) -> Result<Vec<FleetEntry>, FleetError> {
        let (key, value) = match (&self.declaration.catalog_url, &self.declaration.url) {
            (Some(catalog), _) => ("catalog_url", catalog),
            (None, Some(url)) => ("url", url),
            (None, None) => {
                return Err(self
                    .error("`sql` needs `catalog_url` (or `url`): the database the query runs on"))
            }
        };
        let catalog = self.parse_url(key, value, self.resolver.root)?;
        let rows =
            super::catalog::query(&catalog, sql, self.resolver.connect_timeout).map_err(|e| {
                FleetError::Catalog {
                    fleet: self.name.to_string(),
                    message: e.to_string(),
                }
            })?;
        let mut entries = Vec::with_capacity(rows.len());
        for (index, row) in rows.into_iter().enumerate() {
            let id = row.id.ok_or_else(|| {
                self.error(format!(
                    "row {} of the query has no `id` column (or it is NULL); return `id` and one of `url`, `database`, `schema`",
                    index + 1
                ))
            })?;
            let url = match (&row.url, &row.database, &row.schema) {
                (Some(url), _, _) => DatabaseUrl::parse(url, self.resolver.root)
                    .map_err(|e| self.error(format!("entry `{id}`: {e}")))?,
                (None, Some(database), _) => self.on_database(&self.url()?, database)?,
                (None, None, Some(_)) => self.url()?,
                (None, None, None) => {
                    return Err(self.error(format!(
                        "entry `{id}`: the query returns none of `url`, `database`, `schema`"
                    )))
                }
            };
            entries.push(self.entry(&id, url, row.schema, row.packages)?);
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(root: &Path, manifest: &str, names: &[&str]) -> Result<Vec<FleetEntry>, FleetError> {
        let declarations: BTreeMap<String, FleetDeclaration> =
            toml::from_str(manifest).expect("declarations");
        let secrets = Secrets::new(None, root.to_owned());
        let resolver = Resolver {
            root,
            declarations: &declarations,
            secrets: &secrets,
            connect_timeout: Duration::from_secs(5),
        };
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        resolve_fleets(&resolver, &names)
    }

    #[test]
    fn globs_files_and_lists_resolve_in_order() {
        let dir = tempfile::tempdir().expect("a folder");
        let root = dir.path();
        std::fs::create_dir_all(root.join("data")).expect("mkdir");
        for name in ["b", "a", "c"] {
            std::fs::write(root.join(format!("data/{name}.db")), "").expect("write");
        }
        std::fs::write(
            root.join("prod.toml"),
            "[[entries]]\nid = \"eu\"\nurl = \"postgres://app:secret@db-eu/app\"\n\n[[entries]]\nid = \"us\"\nurl = \"postgres://app@db-us/app\"\nschema = \"t_us\"\npackages = [\"users\"]\n",
        )
        .expect("write");
        let manifest = r#"
            [stores]
            sqlite_glob = "data/*.db"
            [shards]
            url = "mysql://root@127.0.0.1:3306/x"
            databases = ["s1", "s0"]
            [prod]
            file = "prod.toml"
            [tenants]
            url = "postgres://app@db/app"
            schemas = ["t2", "t1"]
            create_schema = true
        "#;
        let entries =
            resolve(root, manifest, &["stores", "shards", "prod", "tenants"]).expect("entries");
        let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c", "s1", "s0", "eu", "us", "t2", "t1"]);
        assert_eq!(entries[0].host(), "sqlite");
        assert_eq!(entries[3].url.to_string(), "mysql://root@127.0.0.1:3306/s1");
        assert_eq!(entries[5].url.to_string(), "postgres://app:***@db-eu/app");
        assert_eq!(entries[6].schema.as_deref(), Some("t_us"));
        assert_eq!(entries[6].packages, Some(vec!["users".to_owned()]));
        assert!(entries[7].create_schema && !entries[0].create_schema);
    }

    #[test]
    fn bad_declarations_name_what_is_wrong() {
        let dir = tempfile::tempdir().expect("a folder");
        let root = dir.path();
        let err = resolve(
            root,
            "[a]\nentries = [{ id = \"x y\", url = \"sqlite://x.db\" }]",
            &["a"],
        )
        .expect_err("bad id");
        assert!(err.to_string().contains("`x y`"), "{err}");
        let err = resolve(
            root,
            "[a]\nentries = [{ id = \"x\", url = \"sqlite://x.db\" }]\n[b]\nentries = [{ id = \"x\", url = \"sqlite://y.db\" }]",
            &["a", "b"],
        )
        .expect_err("duplicate");
        assert!(
            err.to_string()
                .contains("`x` appears twice (in fleet `a` and in fleet `b`)"),
            "{err}"
        );
        let err = resolve(
            root,
            "[a]\nurl = \"mysql://root@h/x\"\nschemas = [\"t\"]",
            &["a"],
        )
        .expect_err("schemas on MySQL");
        assert!(err.to_string().contains("needs PostgreSQL"), "{err}");
        let err = resolve(
            root,
            "[a]\nurl = \"sqlite://x.db\"\ndatabases = [\"t\"]",
            &["a"],
        )
        .expect_err("databases on SQLite");
        assert!(err.to_string().contains("SQLite file"), "{err}");
        let err = resolve(
            root,
            "[a]\nurl = \"env:FLEET_SOURCE_TEST_UNSET\"\ndatabases = [\"t\"]",
            &["a"],
        )
        .expect_err("unset variable");
        assert!(err.to_string().contains("FLEET_SOURCE_TEST_UNSET"), "{err}");
        let err = resolve(root, "[a]\nsqlite_glob = \"*.db\"", &["b"]).expect_err("unknown fleet");
        assert!(err.to_string().contains("declared: a"), "{err}");
        let err = resolve(root, "[a]\nfile = \"missing.toml\"", &["a"]).expect_err("no file");
        assert!(err.to_string().contains("missing.toml"), "{err}");
    }
}
