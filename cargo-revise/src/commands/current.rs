//! `cargo revise current`: the revisions the database stands at, as Alembic prints them.
//!
//! Alembic's `current` (`RevisionMap._get_all_current`) takes the rows and everything they
//! need, and prints those that no applied revision revises: every row of a well-kept table,
//! plus the revisions applied only because a row depends on them (`u2 (effective head)`).
//! A row that an applied revision revises is left out, by Alembic and here alike. Such a row,
//! or any row that another row needs, only appears after a `stamp` of overlapping revisions
//! (or Alembic's downgrade of a merge with a redundant parent); the human output warns about
//! it on standard error, since no upgrade starts from such a table.

use revise_runtime::graph::Node;
use revise_runtime::{NodeSet, RevisionGraph};
use serde_json::json;

use crate::cli::{CurrentArgs, Format};
use crate::error::CliError;

use super::history::verbose_entry;
use super::{ids, revision_line, Context, LineParts};

/// `current --fleet NAME`: each database's rows, and whether it is behind.
pub fn run_fleet(context: &Context, args: &CurrentArgs) -> Result<(), CliError> {
    super::fleet::run(
        context,
        super::fleet::FleetCommand {
            selection: &args.fleet,
            run: None,
            operation: revise_runtime::fleet::Operation::Current,
            format: args.format,
            lock_timeout: std::time::Duration::from_secs(60),
        },
    )
}

/// Prints the current revisions.
pub fn run(context: &Context, args: &CurrentArgs) -> Result<(), CliError> {
    let pending = context.start_reading_rows();
    let graph = context.read_graph()?;
    let setting = context.database()?;
    let rows = pending.nodes(graph)?;
    let shown = graph.applied_branch_heads(rows.iter().copied());
    match args.format {
        Format::Json | Format::Jsonl => context.printer.json(&json!({
            "database": setting.url.to_string(),
            "rows": rows.iter().map(|&n| graph.id(n)).collect::<Vec<_>>(),
            "current": shown.iter().map(|&n| json!({
                "id": graph.id(n),
                "message": graph.revision(n).message,
                "is_row": rows.contains(&n),
                "head": graph.all_children(n).is_empty(),
                "effective_head": !graph.all_children(n).is_empty() && graph.children(n).is_empty(),
            })).collect::<Vec<_>>(),
        })),
        Format::Human => {
            if context.printer.verbose > 0 {
                // As `alembic current -v`: the header, then each revision as `show` prints it.
                let mut lines = vec![format!("Current revision(s) for {}:", setting.url)];
                lines.extend(shown.iter().map(|&n| verbose_entry(graph, n, false)));
                context.printer.lines(lines);
            } else {
                let parts = LineParts {
                    tree: true,
                    ..LineParts::default()
                };
                context
                    .printer
                    .lines(shown.iter().map(|&n| revision_line(graph, n, parts)));
            }
            if let Some(warning) = rows_left_out(graph, &rows, &shown) {
                context.printer.warning(warning);
            }
        }
    }
    Ok(())
}

/// The warning for a table that holds a row together with a descendant of it, which only an
/// Alembic `stamp` of overlapping revisions (or its downgrade of a merge with a redundant
/// parent) leaves: neither tool's `upgrade` starts from such a table, and `current` leaves
/// out a row that an applied revision revises. The `stamp` suggested keeps the same
/// revisions applied with only the latest as rows, which is what upgrades would have left.
fn rows_left_out(graph: &RevisionGraph, rows: &NodeSet, shown: &[Node]) -> Option<String> {
    let needed: Vec<(Node, Node)> = rows
        .iter()
        .filter_map(|&row| {
            rows.iter()
                .find(|&&other| other != row && graph.is_ancestor(row, other))
                .map(|&other| (row, other))
        })
        .collect();
    if needed.is_empty() {
        return None;
    }
    let described: Vec<String> = needed
        .iter()
        .map(|&(row, other)| {
            let listed = if shown.contains(&row) {
                ""
            } else {
                ", and is not listed (Alembic's `current` leaves it out too)"
            };
            format!(
                "{} is a row although the row {} needs it{listed}",
                graph.id(row),
                graph.id(other)
            )
        })
        .collect();
    let latest = graph.maximal(&graph.ancestors_inclusive(rows.iter().copied()));
    let latest: Vec<Node> = latest.into_iter().collect();
    Some(format!(
        "{}; `up` refuses to start from such a table, as Alembic's `upgrade` does; \
         `cargo revise stamp --purge {}` keeps the same revisions applied with only the latest as rows",
        described.join("; "),
        ids(graph, &latest).join(" ")
    ))
}
