//! `cargo revise current`: the revisions the database stands at, as Alembic prints them.

use serde_json::json;

use crate::cli::{CurrentArgs, Format};
use crate::error::CliError;

use super::{revision_line, Context, LineParts};

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
                context
                    .printer
                    .line(format!("Current revision(s) for {}:", setting.url));
            }
            let parts = LineParts {
                tree: true,
                ..LineParts::default()
            };
            for node in shown {
                context.printer.line(revision_line(graph, node, parts));
            }
        }
    }
    Ok(())
}
