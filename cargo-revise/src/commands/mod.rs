//! One short file per command, each a thin layer over `revise-runtime`.

mod current;
mod history;
mod init;
mod migrate;
mod new;

use revise_runtime::backend::{connect_existing, DatabaseConnection};
use revise_runtime::graph::Node;
use revise_runtime::RevisionGraph;

use crate::cli::{Command, GlobalArgs};
use crate::error::CliError;
use crate::output::Printer;
use crate::settings::{self, DatabaseSetting};
use crate::workspace::Workspace;

/// What every command works with.
pub struct Context {
    /// The global options.
    pub global: GlobalArgs,
    /// Output settings.
    pub printer: Printer,
    /// The workspace.
    pub workspace: Workspace,
}

impl Context {
    /// The database URL by precedence.
    pub fn database(&self) -> Result<DatabaseSetting, CliError> {
        settings::database_url(&self.global, &self.workspace)
    }

    /// Connects only to a database that exists (for commands that only read).
    pub fn connect_existing(&self) -> Result<Option<DatabaseConnection>, CliError> {
        let setting = self.database()?;
        Ok(connect_existing(&setting.url)?)
    }
}

/// Runs one command.
pub fn run(command: Command, context: &Context) -> Result<(), CliError> {
    match command {
        Command::Init(args) => init::run(context, &args),
        Command::New(args) => new::run(context, &args),
        Command::Up(args) => migrate::up(context, &args),
        Command::Down(args) => migrate::down(context, &args),
        Command::Current(args) => current::run(context, &args),
        Command::History(args) => history::run(context, &args),
    }
}

/// Alembic's head and tree indicators for a revision: ` (head)`, ` (effective head)`,
/// ` (branchpoint)`, ` (mergepoint)`.
pub fn indicators(graph: &RevisionGraph, node: Node) -> String {
    let mut text = String::new();
    if graph.all_children(node).is_empty() {
        text.push_str(" (head)");
    } else if graph.children(node).is_empty() {
        text.push_str(" (effective head)");
    }
    if graph.is_branch_point(node) {
        text.push_str(" (branchpoint)");
    }
    if graph.is_merge_point(node) {
        text.push_str(" (mergepoint)");
    }
    text
}
