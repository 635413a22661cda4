//! `cargo revise init`: the migrations folder of a member, and a `.env` if there is none.

use crate::cli::InitArgs;
use crate::error::CliError;
use crate::scaffold;
use crate::settings;

use super::Context;

/// Creates what is missing and says what it did.
pub fn run(context: &Context, args: &InitArgs) -> Result<(), CliError> {
    let workspace = &context.workspace;
    let member = crate::workspace::select_member(workspace, &context.global.packages)?;
    let shown = |path: &std::path::Path| {
        path.strip_prefix(&workspace.root)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    if member.migrations_dir.is_dir() {
        context
            .printer
            .line(format!("  Exists      {}", shown(&member.migrations_dir)));
    } else {
        std::fs::create_dir_all(&member.migrations_dir).map_err(|e| {
            CliError::failed(format!(
                "cannot create {}: {e}",
                member.migrations_dir.display()
            ))
        })?;
        context
            .printer
            .line(format!("  Created     {}", shown(&member.migrations_dir)));
    }
    let env_path = settings::env_file_path(&context.global, workspace);
    if env_path.exists() {
        context
            .printer
            .line(format!("  Exists      {}", shown(&env_path)));
    } else {
        let url = args.env_url.as_deref().unwrap_or("sqlite://dev.db");
        revise_runtime::DatabaseUrl::parse(url, &workspace.root)
            .map_err(|e| CliError::bad_input(format!("--env-url: {e}")))?;
        std::fs::write(&env_path, scaffold::render_env(url))
            .map_err(|e| CliError::failed(format!("cannot write {}: {e}", env_path.display())))?;
        context
            .printer
            .line(format!("  Created     {}", shown(&env_path)));
    }
    context.printer.line(format!(
        "Member `{}` is ready: add a revision with `cargo revise new -p {} -m \"...\"`",
        member.name, member.name
    ));
    Ok(())
}
