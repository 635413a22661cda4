//! Which workspace member a command acts on; the workspace itself is read by
//! `revise_runtime::workspace`, shared with `build.rs` embedding.

pub use revise_runtime::workspace::{Member, Workspace, WorkspaceError};

use crate::error::CliError;

impl From<WorkspaceError> for CliError {
    fn from(error: WorkspaceError) -> Self {
        let hint = matches!(
            error,
            WorkspaceError::Metadata(_) | WorkspaceError::MissingManifest(_)
        )
        .then(|| {
            "run inside a Cargo workspace or pass --manifest-path path/to/Cargo.toml".to_owned()
        });
        Self {
            hint,
            ..CliError::bad_input(error.to_string())
        }
    }
}

/// The member a command acts on: the `-p` one, else the one the current directory is in,
/// else the only one that takes part.
pub fn select_member<'w>(
    workspace: &'w Workspace,
    packages: &[String],
) -> Result<&'w Member, CliError> {
    let names = || {
        workspace
            .members
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match packages {
        [name] => workspace
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
            if let Some(member) = workspace
                .members
                .iter()
                .filter(|m| cwd.starts_with(&m.package_dir) && m.package_dir != workspace.root)
                .max_by_key(|m| m.package_dir.components().count())
            {
                return Ok(member);
            }
            let taking_part: Vec<&Member> = workspace
                .members
                .iter()
                .filter(|m| m.takes_part())
                .collect();
            match (taking_part.as_slice(), workspace.members.as_slice()) {
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
