//! `cargo revise history`: the graph, newest first, in Alembic's line format.

use revise_runtime::graph::Node;
use revise_runtime::RevisionGraph;
use serde_json::json;

use crate::cli::{Format, HistoryArgs};
use crate::error::CliError;

use super::{indicators, Context};

/// Prints every revision, heads first.
pub fn run(context: &Context, args: &HistoryArgs) -> Result<(), CliError> {
    let graph = context.workspace.load_graph()?;
    let newest_first: Vec<Node> = graph.order().iter().rev().copied().collect();
    match args.format {
        Format::Json => context.printer.json(&json!(newest_first
            .iter()
            .map(|&n| revision_json(&graph, n))
            .collect::<Vec<_>>())),
        Format::Human => {
            for node in newest_first {
                if context.printer.verbose > 0 {
                    context.printer.line(verbose_entry(&graph, node));
                } else {
                    context.printer.line(line(&graph, node));
                }
            }
        }
    }
    Ok(())
}

fn ids(graph: &RevisionGraph, nodes: &[Node]) -> Vec<String> {
    nodes.iter().map(|&n| graph.id(n).to_owned()).collect()
}

fn labels(graph: &RevisionGraph, node: Node) -> Vec<String> {
    let rev = graph.revision(node);
    let mut labels = vec![rev.origin.member.clone()];
    labels.extend(rev.branch_labels.iter().cloned());
    labels
}

/// `parents (deps) -> id (labels) (head), message`, as Alembic's `history`.
fn line(graph: &RevisionGraph, node: Node) -> String {
    let rev = graph.revision(node);
    let parents = if rev.revises.is_empty() {
        "<base>".to_owned()
    } else {
        ids(graph, graph.revises(node)).join(", ")
    };
    let deps = if graph.depends_on(node).is_empty() {
        String::new()
    } else {
        format!(" ({})", ids(graph, graph.depends_on(node)).join(", "))
    };
    format!(
        "{parents}{deps} -> {} ({}){}, {}",
        rev.id,
        labels(graph, node).join(", "),
        indicators(graph, node),
        rev.message
    )
}

fn verbose_entry(graph: &RevisionGraph, node: Node) -> String {
    let rev = graph.revision(node);
    let mut text = format!("Rev: {}{}\n", rev.id, indicators(graph, node));
    let parents = ids(graph, graph.revises(node));
    text.push_str(&format!(
        "Parent: {}\n",
        if parents.is_empty() {
            "<base>".to_owned()
        } else {
            parents.join(", ")
        }
    ));
    if !graph.depends_on(node).is_empty() {
        text.push_str(&format!(
            "Also depends on: {}\n",
            ids(graph, graph.depends_on(node)).join(", ")
        ));
    }
    if graph.is_branch_point(node) {
        text.push_str(&format!(
            "Branches into: {}\n",
            ids(graph, graph.children(node)).join(", ")
        ));
    }
    text.push_str(&format!(
        "Branch names: {}\n",
        labels(graph, node).join(", ")
    ));
    text.push_str(&format!(
        "Path: {}\n\n    {}\n",
        rev.origin.path.display(),
        rev.message
    ));
    if let Some(date) = &rev.create_date {
        text.push_str(&format!("\n    Create Date: {date}\n"));
    }
    text
}

fn revision_json(graph: &RevisionGraph, node: Node) -> serde_json::Value {
    let rev = graph.revision(node);
    json!({
        "id": rev.id.as_str(),
        "message": rev.message,
        "member": rev.origin.member,
        "path": rev.origin.path.display().to_string(),
        "revises": ids(graph, graph.revises(node)),
        "depends_on": ids(graph, graph.depends_on(node)),
        "branch_labels": labels(graph, node),
        "is_head": graph.all_children(node).is_empty(),
        "is_branch_point": graph.is_branch_point(node),
        "is_merge_point": graph.is_merge_point(node),
        "create_date": rev.create_date,
    })
}
