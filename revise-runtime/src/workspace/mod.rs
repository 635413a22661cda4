//! A Cargo workspace as `cargo revise` sees it: its root, its members and their migrations
//! folders, from `cargo metadata` and the `[workspace.metadata.revise]` /
//! `[package.metadata.revise]` tables (SPEC section 4).
//!
//! Shared by the CLI and by `build.rs` embedding, so both read exactly the same files.

use std::path::{Path, PathBuf};

use cargo_metadata::MetadataCommand;
use serde::Deserialize;

mod manifests;
mod schema_file;

pub use schema_file::{SchemaFile, SchemaFileSource};

use crate::graph::RevisionGraph;
use crate::source::{self, LoadErrors, MemberFolder};

/// Why the workspace cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WorkspaceError {
    /// The manifest path does not exist.
    #[error("manifest path `{0}` does not exist")]
    MissingManifest(PathBuf),
    /// `cargo metadata` failed.
    #[error("could not read the Cargo workspace: {0}")]
    Metadata(String),
    /// A `[...metadata.revise]` table is malformed.
    #[error("{}: invalid [{table}]: {message}", manifest.display())]
    Config {
        /// The manifest.
        manifest: PathBuf,
        /// The table.
        table: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// `[workspace.metadata.revise]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkspaceConfig {
    /// The version table's name.
    pub version_table: String,
    /// The PostgreSQL schema of the version table (Alembic's `version_table_schema`).
    pub version_table_schema: Option<String>,
    /// The default migrations folder inside each member.
    pub migrations_dir: String,
    /// The env file, relative to the workspace root.
    pub env_file: String,
    /// The run log's table (SPEC section 10): `false` turns the log off, a string names the
    /// table; `revise_log` by default.
    pub log_table: LogTableSetting,
    /// `[workspace.metadata.revise.fleet.NAME]`: named lists of databases (SPEC section 11).
    pub fleet: std::collections::BTreeMap<String, crate::fleet::FleetDeclaration>,
}

/// `log_table = false`, `true` or `"name"`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum LogTableSetting {
    /// `false` turns the log off; `true` keeps the default table.
    Enabled(bool),
    /// The table's name.
    Named(String),
}

impl LogTableSetting {
    /// The table's name, or `None` when the log is off.
    pub fn table_name(&self) -> Option<&str> {
        match self {
            Self::Enabled(false) => None,
            Self::Enabled(true) => Some(crate::run_log::LogTable::DEFAULT_NAME),
            Self::Named(name) => Some(name),
        }
    }
}

impl Default for WorkspaceConfig {
    fn default() -> Self {
        Self {
            version_table: "alembic_version".to_owned(),
            version_table_schema: None,
            migrations_dir: "migrations".to_owned(),
            env_file: ".env".to_owned(),
            log_table: LogTableSetting::Enabled(true),
            fleet: std::collections::BTreeMap::new(),
        }
    }
}

/// `[package.metadata.revise]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberConfig {
    migrations_dir: Option<String>,
    branch_label: Option<String>,
    schema: Option<String>,
}

/// A workspace member.
#[derive(Clone, Debug)]
pub struct Member {
    /// The package name.
    pub name: String,
    /// The branch label of its revisions.
    pub label: String,
    /// The package folder.
    pub package_dir: PathBuf,
    /// Its manifest.
    pub manifest: PathBuf,
    /// Its migrations folder (which may not exist yet).
    pub migrations_dir: PathBuf,
    /// `[package.metadata.revise] schema`: its diesel schema file, relative to the package.
    pub schema_setting: Option<String>,
}

impl Member {
    /// Whether the member takes part: it has its migrations folder.
    pub fn takes_part(&self) -> bool {
        self.migrations_dir.is_dir()
    }

    /// The member's folder for the loader.
    pub fn folder(&self) -> MemberFolder {
        MemberFolder {
            label: self.label.clone(),
            dir: self.migrations_dir.clone(),
        }
    }
}

/// The workspace.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// The workspace root.
    pub root: PathBuf,
    /// The root manifest's configuration.
    pub config: WorkspaceConfig,
    /// Every member, sorted by name.
    pub members: Vec<Member>,
}

impl Workspace {
    /// Finds the workspace of `manifest_path` (or the current directory): by reading the
    /// manifests directly when they are plain, else with `cargo metadata --no-deps`.
    pub fn discover(manifest_path: Option<&Path>) -> Result<Self, WorkspaceError> {
        if let Some(path) = manifest_path {
            if !path.exists() {
                return Err(WorkspaceError::MissingManifest(path.to_owned()));
            }
        }
        match manifests::read(manifest_path) {
            Some(found) => Self::assemble(
                found.root,
                found.workspace_metadata.map(|v| toml_to_json(&v)),
                found.members.into_iter().map(|(manifest, name, metadata)| {
                    (manifest, name, metadata.map(|v| toml_to_json(&v)))
                }),
            ),
            None => Self::from_cargo_metadata(manifest_path),
        }
    }

    /// Discovery through `cargo metadata --no-deps`, which understands every manifest.
    pub fn from_cargo_metadata(manifest_path: Option<&Path>) -> Result<Self, WorkspaceError> {
        let mut command = MetadataCommand::new();
        command.no_deps();
        if let Some(path) = manifest_path {
            command.manifest_path(path);
        }
        let metadata = command
            .exec()
            .map_err(|e| WorkspaceError::Metadata(first_error_line(&e.to_string())))?;
        let root: PathBuf = metadata.workspace_root.clone().into();
        let members: Vec<_> = metadata
            .workspace_packages()
            .into_iter()
            .map(|p| {
                (
                    PathBuf::from(p.manifest_path.clone()),
                    p.name.to_string(),
                    Some(p.metadata.clone()),
                )
            })
            .collect();
        Self::assemble(
            root,
            Some(metadata.workspace_metadata.clone()),
            members.into_iter(),
        )
    }

    fn assemble(
        root: PathBuf,
        workspace_metadata: Option<serde_json::Value>,
        packages: impl Iterator<Item = (PathBuf, String, Option<serde_json::Value>)>,
    ) -> Result<Self, WorkspaceError> {
        let null = serde_json::Value::Null;
        let config: WorkspaceConfig = read_table(
            workspace_metadata.as_ref().unwrap_or(&null),
            &root.join("Cargo.toml"),
            "workspace.metadata.revise",
        )?
        .unwrap_or_default();
        let mut members = Vec::new();
        for (manifest, name, metadata) in packages {
            let own: MemberConfig = read_table(
                metadata.as_ref().unwrap_or(&null),
                &manifest,
                "package.metadata.revise",
            )?
            .unwrap_or_default();
            let package_dir = manifest
                .parent()
                .map_or_else(|| root.clone(), Path::to_owned);
            let dir = own
                .migrations_dir
                .as_deref()
                .unwrap_or(&config.migrations_dir);
            let label = own.branch_label.unwrap_or_else(|| name.clone());
            if !crate::parse::is_valid_label(&label) {
                return Err(WorkspaceError::Config {
                    manifest,
                    table: "package.metadata.revise",
                    message: format!("branch label `{label}` is not valid; labels contain no spaces, `@`, `,`, `+` or `:`"),
                });
            }
            members.push(Member {
                name,
                label,
                migrations_dir: package_dir.join(dir),
                package_dir,
                manifest,
                schema_setting: own.schema,
            });
        }
        members.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Self {
            root,
            config,
            members,
        })
    }

    /// The members that have a migrations folder, as the loader wants them.
    pub fn folders(&self) -> Vec<MemberFolder> {
        self.members
            .iter()
            .filter(|m| m.takes_part())
            .map(Member::folder)
            .collect()
    }

    /// Reads every member's revisions and builds the graph.
    pub fn load_graph(&self) -> Result<RevisionGraph, LoadErrors> {
        source::load_graph(&self.folders(), &self.root)
    }

    /// [`Workspace::load_graph`] with every check but without the revisions' SQL, for
    /// commands that never run it: less to keep in memory at thousands of revisions.
    ///
    /// Headers of files that did not change since the last such command come from a cache
    /// in the workspace's target folder ([`Workspace::header_cache`]), so that a read-only
    /// command at thousands of revisions asks each file's stamp instead of reading it.
    pub fn load_graph_without_sql(&self) -> Result<RevisionGraph, LoadErrors> {
        match self.header_cache() {
            Some(cache) => source::load_graph_cached(&self.folders(), &self.root, &cache),
            None => source::load_graph_keeping(&self.folders(), &self.root, source::Keep::Headers),
        }
    }

    /// The header cache file: `revise/headers` in the target folder (`CARGO_TARGET_DIR`, as
    /// cargo reads it, else `target/` at the workspace root). `None` when `REVISE_NO_CACHE`
    /// is set to anything but an empty string.
    pub fn header_cache(&self) -> Option<PathBuf> {
        if std::env::var_os("REVISE_NO_CACHE").is_some_and(|v| !v.is_empty()) {
            return None;
        }
        Some(self.revise_dir()?.join("headers"))
    }

    /// `revise/` in the target folder (`CARGO_TARGET_DIR`, as cargo reads it, else
    /// `target/` at the workspace root): where the tool keeps files of its own (the header
    /// cache, a fleet run's summary). `None` when the working directory cannot be read.
    pub fn revise_dir(&self) -> Option<PathBuf> {
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if !dir.is_empty() => std::env::current_dir().ok()?.join(dir),
            _ => self.root.join("target"),
        };
        Some(target.join("revise"))
    }
}

/// Reads `metadata.revise` from a manifest's metadata, naming the manifest on a mistake.
fn read_table<T: for<'de> Deserialize<'de>>(
    metadata: &serde_json::Value,
    manifest: &Path,
    table: &'static str,
) -> Result<Option<T>, WorkspaceError> {
    match metadata.get("revise") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value) => T::deserialize(value)
            .map(Some)
            .map_err(|e| WorkspaceError::Config {
                manifest: manifest.to_owned(),
                table,
                message: e.to_string(),
            }),
    }
}

/// TOML metadata as the JSON value `cargo metadata` would report.
fn toml_to_json(value: &toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(s) => serde_json::Value::String(s.clone()),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(f) => serde_json::Value::from(*f),
        toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(toml_to_json).collect())
        }
        toml::Value::Table(table) => serde_json::Value::Object(
            table
                .iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

/// Cargo's failure output ends with the line that matters.
fn first_error_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| text.lines().next().unwrap_or(text))
        .trim_start_matches("error: ")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{manifests, Workspace};

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create folders");
        std::fs::write(path, text).expect("write");
    }

    fn package(name: &str) -> String {
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
    }

    /// The fast path must see exactly what `cargo metadata` sees.
    fn assert_same(manifest: &Path) {
        assert!(
            manifests::read(Some(manifest)).is_some(),
            "the fast path applies to {}",
            manifest.display()
        );
        let fast = Workspace::discover(Some(manifest)).expect("fast discovery");
        let cargo = Workspace::from_cargo_metadata(Some(manifest)).expect("cargo metadata");
        let view = |w: &Workspace| {
            let members: Vec<_> = w
                .members
                .iter()
                .map(|m| {
                    (
                        m.name.clone(),
                        m.label.clone(),
                        m.migrations_dir.clone(),
                        m.manifest.clone(),
                    )
                })
                .collect();
            (
                w.root.clone(),
                w.config.version_table.clone(),
                w.config.migrations_dir.clone(),
                w.config.env_file.clone(),
                members,
            )
        };
        assert_eq!(view(&fast), view(&cargo));
    }

    #[test]
    fn the_template_reads_the_same_both_ways() {
        let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template/Cargo.toml");
        assert_same(&std::fs::canonicalize(template).expect("the template exists"));
    }

    #[test]
    fn globs_excludes_root_packages_and_metadata_read_the_same_both_ways() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        write(&root, "Cargo.toml", &format!("{}\n[workspace]\nmembers = [\"crates/*\", \"tools/c?i\"]\nexclude = [\"crates/skipped\"]\n\n[workspace.metadata.revise]\nmigrations_dir = \"db\"\nversion_table = \"versions\"\n", package("root-app")));
        write(&root, "src/main.rs", "fn main() {}\n");
        for name in ["alpha", "beta", "skipped"] {
            write(&root, &format!("crates/{name}/Cargo.toml"), &package(name));
            write(&root, &format!("crates/{name}/src/lib.rs"), "");
        }
        write(&root, "tools/cli/Cargo.toml", &format!("{}\n[package.metadata.revise]\nbranch_label = \"tooling\"\nmigrations_dir = \"sql\"\n", package("cli")));
        write(&root, "tools/cli/src/lib.rs", "");
        assert_same(&root.join("Cargo.toml"));
        // From a member's manifest, both find the same workspace above it.
        assert_same(&root.join("crates/beta/Cargo.toml"));
        // A folder without a manifest matched by a glob: cargo's error, not a guess.
        write(&root, "crates/not-a-crate/README.md", "no manifest here\n");
        assert!(manifests::read(Some(&root.join("Cargo.toml"))).is_none());
        assert!(Workspace::discover(Some(&root.join("Cargo.toml"))).is_err());
    }

    #[test]
    fn fleets_are_read_with_the_workspace_both_ways() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        write(&root, "Cargo.toml", "[workspace]\nmembers = [\"app\"]\n\n[workspace.metadata.revise.fleet.stores]\nsqlite_glob = \"data/*.db\"\n\n[workspace.metadata.revise.fleet.shards]\nurl = \"env:SHARDS\"\ndatabases = [\"s1\", \"s2\"]\n");
        write(&root, "app/Cargo.toml", &package("app"));
        write(&root, "app/src/lib.rs", "");
        let manifest = root.join("Cargo.toml");
        for workspace in [
            Workspace::discover(Some(&manifest)).expect("fast discovery"),
            Workspace::from_cargo_metadata(Some(&manifest)).expect("cargo metadata"),
        ] {
            let names: Vec<&str> = workspace.config.fleet.keys().map(String::as_str).collect();
            assert_eq!(names, ["shards", "stores"]);
            assert_eq!(
                workspace.config.fleet["shards"].databases,
                Some(vec!["s1".to_owned(), "s2".to_owned()])
            );
        }
        // A typo in a fleet is an error naming the manifest, as for any other key.
        write(&root, "Cargo.toml", "[workspace]\nmembers = [\"app\"]\n\n[workspace.metadata.revise.fleet.stores]\nsqlite_globb = \"data/*.db\"\n");
        let err = Workspace::discover(Some(&manifest)).expect_err("an unknown key");
        assert!(err.to_string().contains("sqlite_globb"), "{err}");
    }

    #[test]
    fn implicit_path_members_fall_back_to_cargo() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        write(
            &root,
            "Cargo.toml",
            &format!(
                "{}\n[dependencies]\nhelper = {{ path = \"helper\" }}\n\n[workspace]\n",
                package("app")
            ),
        );
        write(&root, "src/main.rs", "fn main() {}\n");
        write(&root, "helper/Cargo.toml", &package("helper"));
        write(&root, "helper/src/lib.rs", "");
        assert!(manifests::read(Some(&root.join("Cargo.toml"))).is_none());
        let workspace = Workspace::discover(Some(&root.join("Cargo.toml"))).expect("discovery");
        let names: Vec<_> = workspace.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["app", "helper"]);
    }
}
