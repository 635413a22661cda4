//! `cargo revise`: Alembic's migration model for Cargo workspaces.
//!
//! This binary turns flags into `revise-runtime` calls and renders the results; it holds no
//! planning and no SQL. Exit status: 0 success, 1 an operation failed, 2 bad usage or input,
//! 130 a fleet run was interrupted, 141 a command that only prints lost its output (a closed
//! pipe).

mod cli;
mod commands;
mod error;
mod output;
mod scaffold;
mod settings;
mod workspace;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, OutputRole};
use crate::error::{CliError, Status};
use crate::output::{diagnostic, stream, Printer};
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
    let role = cli.command.output_role();
    let context = commands::Context {
        global: cli.global,
        printer,
        workspace,
    };
    let result = commands::run(cli.command, &context);
    stream::flush_stdout();
    match result.and_then(|()| output_kept(role)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error, Some(&root)),
    }
}

/// The one place where failures become exit statuses.
fn fail(error: &CliError, root: Option<&std::path::Path>) -> ExitCode {
    diagnostic::print_error(error, root);
    ExitCode::from(error.status as u8)
}

/// A command that completed, judged by whether its output was all written. A command that
/// only prints failed if its output did not arrive: quietly, as the shell's convention has
/// it, when the reader left (a closed pipe); with the reason otherwise (a full disk). A
/// command whose work lies elsewhere did that work: it says the report was cut short.
fn output_kept(role: OutputRole) -> Result<(), CliError> {
    let Some(lost) = stream::stdout_failure() else {
        return Ok(());
    };
    match role {
        OutputRole::Result if stream::reader_left(lost) => Err(CliError {
            status: Status::OutputClosed,
            problems: Vec::new(),
            hint: None,
        }),
        OutputRole::Result => Err(CliError::failed(format!(
            "cannot write to standard output: {lost}"
        ))),
        OutputRole::Report => {
            stream::stderr_line(&format!(
                "note: standard output went away ({lost}); the command went on without it and completed"
            ));
            Ok(())
        }
    }
}
