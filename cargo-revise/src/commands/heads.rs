//! `cargo revise heads` and `branches`, as Alembic prints them.

use serde_json::json;

use crate::cli::{Format, HeadsArgs, ReadArgs};
use crate::error::CliError;

use super::{ids, revision_json, revision_line, Context, LineParts};

/// Prints every head (by `Revises`; `--resolve-dependencies` for the real heads only).
pub fn heads(context: &Context, args: &HeadsArgs) -> Result<(), CliError> {
    let graph = context.read_graph()?;
    let heads = if args.resolve_dependencies {
        graph.real_heads()
    } else {
        graph.heads()
    };
    match args.format {
        Format::Json | Format::Jsonl => context.printer.json(&json!(heads
            .iter()
            .map(|&n| revision_json(graph, n))
            .collect::<Vec<_>>())),
        Format::Human => {
            let parts = LineParts {
                labels: true,
                message: context.printer.verbose > 0,
                ..LineParts::default()
            };
            for node in heads {
                context.printer.line(revision_line(graph, node, parts));
            }
        }
    }
    Ok(())
}

/// Prints every branch point with the revisions it branches into.
pub fn branches(context: &Context, args: &ReadArgs) -> Result<(), CliError> {
    let graph = context.read_graph()?;
    let points: Vec<_> = graph
        .order()
        .iter()
        .rev()
        .copied()
        .filter(|&n| graph.is_branch_point(n))
        .collect();
    match args.format {
        Format::Json | Format::Jsonl => context.printer.json(&json!(points
            .iter()
            .map(|&n| json!({ "branch_point": revision_json(graph, n), "branches": ids(graph, graph.children(n)) }))
            .collect::<Vec<_>>())),
        Format::Human => {
            for node in points {
                let head = LineParts { labels: true, tree: true, message: true, ..LineParts::default() };
                context.printer.line(revision_line(graph, node, head));
                let pad = " ".repeat(graph.id(node).len());
                for &child in graph.children(node) {
                    let parts = LineParts { labels: true, tree: true, message: true, ..LineParts::default() };
                    context.printer.line(format!("{pad} -> {}", revision_line(graph, child, parts)));
                }
                context.printer.line("");
            }
        }
    }
    Ok(())
}
