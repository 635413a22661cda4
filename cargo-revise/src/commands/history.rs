//! `cargo revise history`: the graph, newest first, in Alembic's line format; `-r FROM:TO`
//! narrows it, `-i` marks the version table's rows.

use revise_runtime::graph::{Node, NodeSet};
use revise_runtime::RevisionGraph;
use serde_json::json;

use crate::cli::{Format, HistoryArgs};
use crate::error::CliError;

use super::{ids, labels, revision_json, revision_line, Context, LineParts};

/// Prints the revisions in range, heads first.
pub fn run(context: &Context, args: &HistoryArgs) -> Result<(), CliError> {
    let needs_db = args.indicate_current
        || args
            .rev_range
            .as_deref()
            .is_some_and(|r| r.split(':').any(|end| end.trim() == "current"));
    let pending = needs_db.then(|| context.start_reading_rows());
    let graph = context.read_graph()?;
    // As in Alembic's `history`, "current" is the version table's rows: `-i` marks them and
    // nothing else (not the revisions applied only because a row depends on them, which
    // `current` also lists), and `current` as an end of `-r` stands for them.
    let current: Vec<Node> = match pending {
        Some(pending) => pending.nodes(graph)?.into_iter().collect(),
        None => Vec::new(),
    };
    let in_range = match &args.rev_range {
        Some(range) => range_nodes(graph, range, &current)?,
        None => (0..graph.len()).collect(),
    };
    let newest_first: Vec<Node> = graph
        .order()
        .iter()
        .rev()
        .copied()
        .filter(|n| in_range.contains(n))
        .collect();
    match args.format {
        Format::Json | Format::Jsonl => context.printer.json(&json!(newest_first
            .iter()
            .map(|&n| {
                let mut value = revision_json(graph, n);
                value["is_current"] = json!(current.contains(&n));
                value
            })
            .collect::<Vec<_>>())),
        Format::Human => context.printer.lines(newest_first.into_iter().map(|node| {
            let is_current = args.indicate_current && current.contains(&node);
            if context.printer.verbose > 0 {
                verbose_entry(graph, node, is_current)
            } else {
                let parts = LineParts {
                    parents: true,
                    labels: true,
                    tree: true,
                    current: is_current,
                    message: true,
                };
                revision_line(graph, node, parts)
            }
        })),
    }
    Ok(())
}

/// `FROM:TO` as in Alembic: either end may be empty (base, heads), `base`, `heads`,
/// `current`, or a revision. As Alembic's `walk_revisions` (`_collect_upgrade_revisions`
/// with the range inclusive), the range holds FROM and what TO needs beyond what FROM needs,
/// keeping only what descends from FROM by `Revises`: a revision that only depends on FROM
/// belongs to another branch and is left out.
fn range_nodes(graph: &RevisionGraph, range: &str, current: &[Node]) -> Result<NodeSet, CliError> {
    let Some((from, to)) = range.split_once(':') else {
        return Err(CliError::bad_input(format!(
            "-r `{range}` is not a range; write FROM:TO, e.g. `base:heads`, `abc:`, `:current`"
        )));
    };
    let resolve = |end: &str, is_from: bool| -> Result<Option<Vec<Node>>, CliError> {
        match end.trim() {
            "" | "base" | "heads" => Ok(None),
            // A database without rows stands at the base: from there the range holds
            // everything, and up to there nothing. (Alembic reads `:current` there as
            // `:heads` and lists every revision as applied.)
            "current" if current.is_empty() && is_from => Ok(None),
            "current" => Ok(Some(current.to_vec())),
            "head" => Ok(Some(graph.heads())),
            reference => revise_runtime::target::resolve_reference(graph, reference)
                .map(|n| Some(vec![n]))
                .map_err(|e| CliError::bad_input(format!("-r {range}: {e}"))),
        }
    };
    let lower = resolve(from, true)?;
    let required: NodeSet = match resolve(to, false)? {
        Some(nodes) => graph.ancestors_inclusive(nodes),
        None => (0..graph.len()).collect(),
    };
    let Some(lower) = lower else {
        return Ok(required);
    };
    if let Some(&outside) = lower.iter().find(|n| !required.contains(n)) {
        return Err(CliError::bad_input(format!(
            "-r {range}: {} is not an ancestor of {}; the range must go from a revision to one that descends from it",
            graph.id(outside),
            to.trim()
        )));
    }
    let below = graph.ancestors_inclusive(lower.iter().copied());
    let downstream = graph.revises_descendants_inclusive(lower.iter().copied());
    Ok(required
        .into_iter()
        .filter(|n| (lower.contains(n) || !below.contains(n)) && downstream.contains(n))
        .collect())
}

/// The verbose form of one revision, as `history -v` and `show` print it.
pub fn verbose_entry(graph: &RevisionGraph, node: Node, is_current: bool) -> String {
    let rev = graph.revision(node);
    let parts = LineParts {
        tree: true,
        current: is_current,
        ..LineParts::default()
    };
    let mut text = format!("Rev: {}\n", revision_line(graph, node, parts));
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
    if !graph.all_children(node).is_empty() {
        text.push_str(&format!(
            "Children: {}\n",
            ids(graph, graph.all_children(node)).join(", ")
        ));
    }
    text.push_str(&format!("Member: {}\n", rev.origin.member));
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
