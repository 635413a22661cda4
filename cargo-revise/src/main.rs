//! `cargo revise`: Alembic's migration model for Cargo workspaces.
//!
//! This binary turns flags into `revise-runtime` calls and renders the results; it holds no
//! planning and no SQL. Exit status: 0 success, 1 an operation failed, 2 bad usage or input.

mod cli;
mod commands;
mod error;
mod output;
mod scaffold;
mod settings;
mod workspace;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::error::CliError;
use crate::output::{diagnostic, Printer};
use crate::workspace::Workspace;

fn main() -> ExitCode {
    // Cargo runs `cargo-revise revise ARGS` for `cargo revise ARGS`.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "revise") {
        args.remove(1);
    }
    let cli = Cli::parse_from(args);
    // Completion scripts are written before looking for a workspace: they need none.
    if let cli::Command::Completions(args) = &cli.command {
        commands::completions::run(args);
        return ExitCode::SUCCESS;
    }
    let printer = Printer::new(&cli.global);
    let workspace = match Workspace::discover(cli.global.manifest_path.as_deref()) {
        Ok(workspace) => workspace,
        Err(error) => return fail(&error.into(), None),
    };
    let root = workspace.root.clone();
    let context = commands::Context {
        global: cli.global,
        printer,
        workspace,
    };
    match commands::run(cli.command, &context) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error, Some(&root)),
    }
}

/// The one place where failures become exit statuses.
fn fail(error: &CliError, root: Option<&std::path::Path>) -> ExitCode {
    diagnostic::print_error(error, root);
    ExitCode::from(error.status as u8)
}
