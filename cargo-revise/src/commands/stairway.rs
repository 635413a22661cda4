//! `cargo revise test`: the stairway test (pytest-alembic's) for the workspace's revisions.
//!
//! On a scratch database (a temporary SQLite file, or a throw-away database on the configured
//! server), each revision in graph order is applied, reverted and applied again; the schema
//! after the down must equal the schema before the up. The first revision that fails is named
//! and the command exits 1. It also checks that each member has a single head.

use std::time::Duration;

use revise_runtime::backend::scratch::ScratchDatabase;
use revise_runtime::graph::Node;
use revise_runtime::version_rows::Direction;
use revise_runtime::{DatabaseUrl, Migrator, RevisionGraph};

use crate::cli::StairwayArgs;
use crate::error::CliError;
use crate::settings;

use super::Context;

/// Runs the stairway and prints a line per revision.
pub fn run(context: &Context, args: &StairwayArgs) -> Result<(), CliError> {
    let graph = context.workspace.load_graph().map_err(CliError::from)?;
    single_heads(&graph)?;
    let table = settings::version_table(&context.workspace)?;
    let temp = tempfile::tempdir()
        .map_err(|e| CliError::failed(format!("cannot create a temporary folder: {e}")))?;
    let base = settings::configured_database_url(&context.global, &context.workspace)?.map_or_else(
        || DatabaseUrl::Sqlite {
            path: temp.path().join("unused.db"),
        },
        |s| s.url,
    );
    let scratch = ScratchDatabase::create(&base, temp.path())?;
    let printer = &context.printer;
    printer.line(format!(
        "Stairway test of {} revision(s) on a scratch database ({})",
        graph.len(),
        scratch.url()
    ));
    let mut conn = revise_runtime::connect(scratch.url())?;
    // A scratch database keeps no run log: its schema must come back to nothing.
    let migrator = Migrator::new(&graph)
        .with_version_table(table.clone())
        .with_log_table(None)
        .with_lock_timeout(Duration::from_secs(args.lock_timeout));
    for &node in graph.order() {
        let id = graph.id(node);
        let before = conn.schema(&table)?;
        step(
            &migrator,
            &mut conn,
            node,
            Direction::Up,
            "cannot be applied",
        )?;
        if graph.revision(node).down.is_none() {
            printer.line(format!("   - {id}: up (irreversible: no down to check)"));
            continue;
        }
        let after_up = conn.schema(&table)?;
        step(
            &migrator,
            &mut conn,
            node,
            Direction::Down,
            "fails to revert",
        )?;
        let after_down = conn.schema(&table)?;
        if after_down != before {
            return Err(schema_mismatch(&graph, node, &before, &after_down));
        }
        step(
            &migrator,
            &mut conn,
            node,
            Direction::Up,
            "cannot be re-applied after its down",
        )?;
        let again = conn.schema(&table)?;
        if again != after_up {
            return Err(CliError::failed(format!(
                "revision {id} ({}) leaves a different schema when re-applied after its down",
                graph.revision(node).origin.path.display()
            )));
        }
        printer.line(format!("   - {id}: up, down, up"));
    }
    printer.line(format!("Stairway passed: every down restores the schema and every revision re-applies ({} revision(s))", graph.len()));
    Ok(())
}

fn step(
    migrator: &Migrator<'_>,
    conn: &mut revise_runtime::DatabaseConnection,
    node: Node,
    direction: Direction,
    what: &str,
) -> Result<(), CliError> {
    migrator.step_one(conn, node, direction).map_err(|e| {
        let rev = migrator.graph().revision(node);
        let mut error = CliError::from(e);
        error.status = crate::error::Status::Failed;
        error.problems.insert(
            0,
            crate::error::Problem {
                message: format!(
                    "stairway: revision {} ({}) {what}",
                    rev.id,
                    rev.origin.path.display()
                ),
                location: None,
            },
        );
        error
    })
}

fn schema_mismatch(
    graph: &RevisionGraph,
    node: Node,
    before: &[String],
    after: &[String],
) -> CliError {
    let rev = graph.revision(node);
    let mut message = format!(
        "stairway: the down of revision {} ({}) does not restore the schema",
        rev.id,
        rev.origin.path.display()
    );
    for line in before.iter().filter(|l| !after.contains(l)) {
        message.push_str(&format!("\n    missing after down: {line}"));
    }
    for line in after.iter().filter(|l| !before.contains(l)) {
        message.push_str(&format!("\n    left after down:    {line}"));
    }
    CliError::failed(message)
        .with_hint("make the down section undo exactly what the up section does")
}

/// Each member must have a single head: several mean unmerged branches.
fn single_heads(graph: &RevisionGraph) -> Result<(), CliError> {
    let mut by_member: std::collections::BTreeMap<&str, Vec<&str>> =
        std::collections::BTreeMap::new();
    for head in graph.heads() {
        by_member
            .entry(&*graph.revision(head).origin.member)
            .or_default()
            .push(graph.id(head));
    }
    for (member, heads) in by_member {
        if heads.len() > 1 {
            return Err(CliError::failed(format!(
                "stairway: member `{member}` has several heads: {}",
                heads.join(", ")
            ))
            .with_hint(format!(
                "join them with `cargo revise merge -p {member} -m \"merge\" heads`"
            )));
        }
    }
    Ok(())
}
