//! `up --sql`, `down --sql`, `stamp --sql`: the SQL a run would execute, printed instead of
//! run, without connecting. As in Alembic, a target may be `FROM:TO`; without FROM the
//! script starts from an empty database and creates the version table.

use revise_runtime::backend::Dialect;
use revise_runtime::graph::NodeSet;
use revise_runtime::plan::{self, PlanError};
use revise_runtime::{offline, RevisionGraph, Target};

use crate::cli::SqlDialect;
use crate::error::CliError;
use crate::settings;

use super::Context;

/// Which command is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offline {
    /// `up --sql`.
    Up,
    /// `down --sql`.
    Down,
    /// `stamp --sql`.
    Stamp,
}

/// Prints the script for `command` towards `target` (which may be `FROM:TO`).
pub fn run(
    context: &Context,
    command: Offline,
    target: &str,
    dialect: Option<SqlDialect>,
) -> Result<(), CliError> {
    let graph = context.workspace.load_graph().map_err(CliError::from)?;
    let table = settings::version_table(&context.workspace)?;
    let dialect = match dialect {
        Some(SqlDialect::Sqlite) => Dialect::Sqlite,
        Some(SqlDialect::Postgresql) => Dialect::Postgres,
        Some(SqlDialect::Mysql) => Dialect::Mysql,
        None => settings::configured_database_url(&context.global, &context.workspace)?
            .map(|s| s.url.dialect())
            .ok_or_else(|| CliError::bad_input("--sql needs a dialect: pass --dialect sqlite|postgresql|mysql or configure DATABASE_URL"))?,
    };
    let (from, to) = match target.split_once(':') {
        Some((from, to)) => (Some(from), to),
        None => (None, target),
    };
    if command == Offline::Down && from.is_none() {
        return Err(CliError::bad_input(format!(
            "down --sql needs a range FROM:TO, because offline there is no database to start from; for example `heads:{to}`"
        )));
    }
    let rows = starting_rows(&graph, from.unwrap_or("base"))?;
    let create_table = rows.is_empty();
    let usage = |e: PlanError| CliError::bad_input(e.to_string());
    let parsed = Target::parse(to).map_err(|e| usage(e.into()))?;
    let script = match command {
        Offline::Up => {
            let goal = plan::upgrade_goal(&graph, &rows, &parsed, to).map_err(usage)?;
            offline::render_plan(
                &graph,
                &plan::plan_upgrade(&graph, &rows, &goal),
                dialect,
                &table,
                create_table,
            )
        }
        Offline::Down => {
            let goal = plan::downgrade_goal(&graph, &rows, &parsed, to).map_err(usage)?;
            let plan = plan::plan_downgrade(&graph, &rows, &goal).map_err(usage)?;
            offline::render_plan(&graph, &plan, dialect, &table, false)
        }
        Offline::Stamp => {
            let destinations = plan::stamp_destinations(&graph, &parsed, to).map_err(usage)?;
            let (changes, _) = plan::plan_stamp(&graph, &rows, &destinations).map_err(usage)?;
            offline::render_stamp(&graph, &changes, dialect, &table, create_table)
        }
    };
    context.printer.text(&script);
    Ok(())
}

/// The rows an offline script assumes: `base` (or empty) for none, `heads`, or revisions
/// separated by commas.
fn starting_rows(graph: &RevisionGraph, from: &str) -> Result<NodeSet, CliError> {
    match from.trim() {
        "" | "base" => Ok(NodeSet::new()),
        "heads" => Ok(graph.real_heads().into_iter().collect()),
        list => list
            .split(',')
            .map(|r| {
                revise_runtime::target::resolve_single(graph, r.trim())
                    .map_err(|e| CliError::bad_input(format!("starting revision `{r}`: {e}")))
            })
            .collect(),
    }
}
