//! A Cargo workspace as `cargo revise` sees it: its root, its members and their migrations
//! folders, from `cargo metadata` and the `[workspace.metadata.revise]` /
//! `[package.metadata.revise]` tables (SPEC section 4).
//!
//! Shared by the CLI and by `build.rs` embedding, so both read exactly the same files.

use std::path::{Path, PathBuf};

use cargo_metadata::MetadataCommand;
use serde::Deserialize;

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
}

impl Default for WorkspaceConfig {
    fn default() -> Self {
        Self {
            version_table: "alembic_version".to_owned(),
            version_table_schema: None,
            migrations_dir: "migrations".to_owned(),
            env_file: ".env".to_owned(),
        }
    }
}

/// `[package.metadata.revise]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberConfig {
    migrations_dir: Option<String>,
    branch_label: Option<String>,
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
    /// Runs `cargo metadata --no-deps` for `manifest_path` (or the current directory).
    pub fn discover(manifest_path: Option<&Path>) -> Result<Self, WorkspaceError> {
        let mut command = MetadataCommand::new();
        command.no_deps();
        if let Some(path) = manifest_path {
            if !path.exists() {
                return Err(WorkspaceError::MissingManifest(path.to_owned()));
            }
            command.manifest_path(path);
        }
        let metadata = command
            .exec()
            .map_err(|e| WorkspaceError::Metadata(first_error_line(&e.to_string())))?;
        let root: PathBuf = metadata.workspace_root.clone().into();
        let config: WorkspaceConfig = read_table(
            &metadata.workspace_metadata,
            &root.join("Cargo.toml"),
            "workspace.metadata.revise",
        )?
        .unwrap_or_default();
        let mut members = Vec::new();
        for package in metadata.workspace_packages() {
            let manifest: PathBuf = package.manifest_path.clone().into();
            let own: MemberConfig =
                read_table(&package.metadata, &manifest, "package.metadata.revise")?
                    .unwrap_or_default();
            let package_dir = manifest
                .parent()
                .map_or_else(|| root.clone(), Path::to_owned);
            let dir = own
                .migrations_dir
                .as_deref()
                .unwrap_or(&config.migrations_dir);
            let label = own.branch_label.unwrap_or_else(|| package.name.to_string());
            if !crate::parse::is_valid_label(&label) {
                return Err(WorkspaceError::Config {
                    manifest,
                    table: "package.metadata.revise",
                    message: format!("branch label `{label}` is not valid; labels contain no spaces, `@`, `,`, `+` or `:`"),
                });
            }
            members.push(Member {
                name: package.name.to_string(),
                label,
                migrations_dir: package_dir.join(dir),
                package_dir,
                manifest,
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

/// Cargo's failure output ends with the line that matters.
fn first_error_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| text.lines().next().unwrap_or(text))
        .trim_start_matches("error: ")
        .to_owned()
}
