//! The Cargo workspace: its root, its members and their migrations folders, from
//! `cargo metadata` and the `[workspace.metadata.revise]` / `[package.metadata.revise]` tables.

use std::path::{Path, PathBuf};

use cargo_metadata::MetadataCommand;
use revise_runtime::source::MemberFolder;
use serde::Deserialize;

use crate::error::CliError;

/// `[workspace.metadata.revise]` (SPEC section 4).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkspaceConfig {
    /// The version table's name.
    pub version_table: String,
    /// The default migrations folder inside each member.
    pub migrations_dir: String,
    /// The env file, relative to the workspace root.
    pub env_file: String,
}

impl Default for WorkspaceConfig {
    fn default() -> Self {
        Self {
            version_table: "alembic_version".to_owned(),
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
    /// Its migrations folder (which may not exist yet).
    pub migrations_dir: PathBuf,
}

impl Member {
    /// Whether the member takes part: it has its migrations folder.
    pub fn takes_part(&self) -> bool {
        self.migrations_dir.is_dir()
    }
}

/// The workspace as `cargo revise` sees it.
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
    /// Runs `cargo metadata` for `manifest_path` (or the current directory).
    pub fn discover(manifest_path: Option<&Path>) -> Result<Self, CliError> {
        let mut command = MetadataCommand::new();
        command.no_deps();
        if let Some(path) = manifest_path {
            if !path.exists() {
                return Err(CliError::bad_input(format!(
                    "manifest path `{}` does not exist",
                    path.display()
                )));
            }
            command.manifest_path(path);
        }
        let metadata = command.exec().map_err(|e| {
            CliError::bad_input(format!(
                "could not read the Cargo workspace: {}",
                first_line(&e.to_string())
            ))
            .with_hint("run inside a Cargo workspace or pass --manifest-path path/to/Cargo.toml")
        })?;
        let root: PathBuf = metadata.workspace_root.clone().into();
        let root_manifest = root.join("Cargo.toml");
        let config: WorkspaceConfig = read_table(
            &metadata.workspace_metadata,
            &root_manifest,
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
                .map(Path::to_owned)
                .unwrap_or_else(|| root.clone());
            let dir = own
                .migrations_dir
                .as_deref()
                .unwrap_or(&config.migrations_dir);
            let label = own.branch_label.unwrap_or_else(|| package.name.to_string());
            if !revise_runtime::parse::is_valid_label(&label) {
                return Err(CliError::bad_input(format!(
                    "{}: branch label `{label}` is not valid; labels contain no spaces, `@`, `,`, `+` or `:`",
                    manifest.display()
                )));
            }
            members.push(Member {
                name: package.name.to_string(),
                label,
                migrations_dir: package_dir.join(dir),
                package_dir,
            });
        }
        members.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Self {
            root,
            config,
            members,
        })
    }

    /// The members that have a migrations folder, as the runtime's loader wants them.
    pub fn folders(&self) -> Vec<MemberFolder> {
        self.members
            .iter()
            .filter(|m| m.takes_part())
            .map(|m| MemberFolder {
                label: m.label.clone(),
                dir: m.migrations_dir.clone(),
            })
            .collect()
    }

    /// Reads every member's revisions and builds the graph.
    pub fn load_graph(&self) -> Result<revise_runtime::RevisionGraph, CliError> {
        Ok(revise_runtime::source::load_graph(
            &self.folders(),
            &self.root,
        )?)
    }

    /// The member a command acts on: the `-p` one, else the one the current directory is in,
    /// else the only one that takes part.
    pub fn select_member(&self, packages: &[String]) -> Result<&Member, CliError> {
        let names = || {
            self.members
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match packages {
            [name] => self
                .members
                .iter()
                .find(|m| &m.name == name)
                .ok_or_else(|| {
                    CliError::bad_input(format!(
                        "package `{name}` is not a member of this workspace; members: {}",
                        names()
                    ))
                }),
            [] => {
                let cwd = std::env::current_dir().unwrap_or_default();
                if let Some(member) = self
                    .members
                    .iter()
                    .filter(|m| cwd.starts_with(&m.package_dir) && m.package_dir != self.root)
                    .max_by_key(|m| m.package_dir.components().count())
                {
                    return Ok(member);
                }
                let taking_part: Vec<&Member> =
                    self.members.iter().filter(|m| m.takes_part()).collect();
                match (taking_part.as_slice(), self.members.as_slice()) {
                    ([only], _) => Ok(*only),
                    ([], [only]) => Ok(only),
                    _ => Err(CliError::bad_input(format!(
                        "this workspace has several members; choose one with -p MEMBER (members: {})",
                        names()
                    ))),
                }
            }
            _ => Err(CliError::bad_input(
                "this command acts on one member; pass a single -p MEMBER",
            )),
        }
    }
}

/// Reads `metadata.revise` from a manifest's metadata, naming the manifest on a mistake.
fn read_table<T: for<'de> Deserialize<'de>>(
    metadata: &serde_json::Value,
    manifest: &Path,
    table: &str,
) -> Result<Option<T>, CliError> {
    match metadata.get("revise") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value) => T::deserialize(value).map(Some).map_err(|e| {
            CliError::bad_input(format!("{}: invalid [{table}]: {e}", manifest.display()))
        }),
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("error:") || l.contains("error"))
        .unwrap_or_else(|| text.lines().next().unwrap_or(text))
        .trim_start_matches("error: ")
        .to_owned()
}
