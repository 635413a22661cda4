//! `cargo revise current`: the revisions the database stands at, as Alembic prints them.

use revise_runtime::graph::{Node, NodeSet};
use revise_runtime::{Migrator, RevisionGraph};
use serde_json::json;

use crate::cli::{Format, ReadArgs};
use crate::error::CliError;
use crate::settings;

use super::{indicators, Context};

/// Prints the current revisions.
pub fn run(context: &Context, args: &ReadArgs) -> Result<(), CliError> {
    let graph = context.workspace.load_graph()?;
    let table = settings::version_table(&context.workspace)?;
    let setting = context.database()?;
    let migrator = Migrator::new(&graph).with_version_table(table);
    let rows = match context.connect_existing()? {
        Some(mut conn) => migrator.current(&mut conn)?,
        None => NodeSet::new(),
    };
    let shown = branch_heads(&graph, &rows);
    match args.format {
        Format::Json => context.printer.json(&json!({
            "database": setting.url.to_string(),
            "rows": rows.iter().map(|&n| graph.id(n)).collect::<Vec<_>>(),
            "current": shown.iter().map(|&n| json!({
                "id": graph.id(n),
                "message": graph.revision(n).message,
                "head": graph.all_children(n).is_empty(),
                "effective_head": !graph.all_children(n).is_empty() && graph.children(n).is_empty(),
            })).collect::<Vec<_>>(),
        })),
        Format::Human => {
            if context.printer.verbose > 0 {
                context
                    .printer
                    .line(format!("Current revision(s) for {}:", setting.url));
            }
            for node in shown {
                context
                    .printer
                    .line(format!("{}{}", graph.id(node), indicators(&graph, node)));
            }
        }
    }
    Ok(())
}

/// Alembic's `get_all_current`: every applied revision that no applied revision revises,
/// which adds the heads implied through `Depends On` to the rows.
fn branch_heads(graph: &RevisionGraph, rows: &NodeSet) -> Vec<Node> {
    let applied = graph.ancestors_inclusive(rows.iter().copied());
    applied
        .iter()
        .copied()
        .filter(|&n| !graph.children(n).iter().any(|c| applied.contains(c)))
        .collect()
}
