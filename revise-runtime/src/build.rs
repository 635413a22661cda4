//! What an application's `build.rs` calls to embed its revisions.
//!
//! ```no_run
//! // build.rs: the body of `fn main`
//! revise_runtime::build::embed_workspace().expect("valid revision files");
//! ```
//!
//! It reads the revision files with the same workspace discovery, parser and graph as
//! `cargo revise`, fails the build on a bad file (printing its path and line), asks Cargo to
//! rerun when a file or folder changes (so new files are never missed, unlike embedding
//! macros), and writes `OUT_DIR/revise_revisions.rs` for
//! [`include_revisions!`](crate::include_revisions).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::source::{read_members, revision_files, LoadErrors, MemberFolder};
use crate::workspace::{Workspace, WorkspaceError};

/// Why embedding failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// An environment variable Cargo sets for build scripts is missing.
    #[error("{0} is not set; call revise_runtime::build from a build.rs run by Cargo")]
    NotInBuildScript(&'static str),
    /// The workspace could not be read.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// A revision file or the graph is invalid.
    #[error("invalid revision files:\n{0}")]
    Revisions(LoadErrors),
    /// This package is not a workspace member.
    #[error("package `{0}` is not a member of its workspace")]
    NotAMember(String),
    /// Writing the output failed.
    #[error("cannot write {}: {message}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The reason.
        message: String,
    },
}

/// Embeds the revisions of every member of the workspace.
pub fn embed_workspace() -> Result<(), BuildError> {
    embed(Scope::Workspace)
}

/// Embeds only the revisions of the package being built (its `Depends On` must then stay
/// within it).
pub fn embed_member() -> Result<(), BuildError> {
    embed(Scope::ThisMember)
}

enum Scope {
    Workspace,
    ThisMember,
}

fn embed(scope: Scope) -> Result<(), BuildError> {
    let manifest_dir = env_path("CARGO_MANIFEST_DIR")?;
    let out_dir = env_path("OUT_DIR")?;
    let workspace = Workspace::discover(Some(&manifest_dir.join("Cargo.toml")))?;
    println!(
        "cargo:rerun-if-changed={}",
        workspace.root.join("Cargo.toml").display()
    );
    let members: Vec<_> = match scope {
        Scope::Workspace => workspace.members.iter().collect(),
        Scope::ThisMember => {
            let name = std::env::var("CARGO_PKG_NAME")
                .map_err(|_| BuildError::NotInBuildScript("CARGO_PKG_NAME"))?;
            let member = workspace
                .members
                .iter()
                .find(|m| m.name == name)
                .ok_or(BuildError::NotAMember(name))?;
            vec![member]
        }
    };
    let mut folders: Vec<MemberFolder> = Vec::new();
    for member in members {
        println!("cargo:rerun-if-changed={}", member.manifest.display());
        if member.takes_part() {
            // The folder itself, so that added and removed files rerun the build.
            println!("cargo:rerun-if-changed={}", member.migrations_dir.display());
            folders.push(member.folder());
        } else {
            // A migrations folder that appears later changes the package folder.
            println!("cargo:rerun-if-changed={}", member.package_dir.display());
        }
    }
    for folder in &folders {
        for file in revision_files(&folder.dir).unwrap_or_default() {
            println!("cargo:rerun-if-changed={}", file.display());
        }
    }
    let revisions = read_members(&folders, &workspace.root).and_then(|revisions| {
        crate::graph::RevisionGraph::build(revisions).map_err(LoadErrors::from)
    });
    let graph = match revisions {
        Ok(graph) => graph,
        Err(errors) => {
            for error in &errors.0 {
                eprintln!("error: {error}");
            }
            return Err(BuildError::Revisions(errors));
        }
    };
    let settings = settings_code(&workspace)?;
    let code = generated_code(&graph, &workspace.root, &settings);
    let path = out_dir.join("revise_revisions.rs");
    std::fs::write(&path, code).map_err(|e| BuildError::Write {
        path,
        message: e.to_string(),
    })
}

fn env_path(name: &'static str) -> Result<PathBuf, BuildError> {
    std::env::var_os(name)
        .map(PathBuf::from)
        .ok_or(BuildError::NotInBuildScript(name))
}

/// The workspace's table settings as the Rust expression of an `EmbeddedSettings`, checked
/// as `cargo revise` checks them (a bad name fails the build, not the application).
fn settings_code(workspace: &Workspace) -> Result<String, BuildError> {
    let config = &workspace.config;
    let refuse = |setting: &str, e: crate::backend::InvalidTableName| {
        BuildError::Workspace(WorkspaceError::Config {
            manifest: workspace.root.join("Cargo.toml"),
            table: "workspace.metadata.revise",
            message: format!("{setting} {e}"),
        })
    };
    crate::backend::VersionTable::new(&config.version_table)
        .map_err(|e| refuse("version_table", e))?;
    if let Some(schema) = &config.version_table_schema {
        crate::backend::check_identifier(schema).map_err(|e| refuse("version_table_schema", e))?;
    }
    let log = config.log_table.table_name();
    if let Some(name) = log {
        crate::run_log::LogTable::new(name).map_err(|e| refuse("log_table", e))?;
    }
    Ok(format!(
        "::revise_runtime::embedded::EmbeddedSettings {{ version_table: {:?}, version_table_schema: {:?}, log_table: {:?} }}",
        config.version_table, config.version_table_schema, log
    ))
}

/// The Rust expression `EmbeddedRevisions::with_settings(&[...], settings)` with each file's
/// text included from its absolute path, so rustc also tracks the files.
fn generated_code(graph: &crate::graph::RevisionGraph, root: &Path, settings: &str) -> String {
    let mut code =
        String::from("::revise_runtime::embedded::EmbeddedRevisions::with_settings(&[\n");
    for rev in graph.revisions() {
        let absolute = root.join(&rev.origin.path);
        let _ = writeln!(
            code,
            "    ::revise_runtime::embedded::EmbeddedFile {{ member: {:?}, path: {:?}, text: include_str!({:?}), checksum: Some({:?}) }},",
            rev.origin.member,
            rev.origin.path.display().to_string(),
            absolute.display().to_string(),
            rev.checksum.to_string(),
        );
    }
    code.push_str("], ");
    code.push_str(settings);
    code.push_str(")\n");
    code
}
