//! `cargo revise check`: every file and the graph, lints, and, with a database, whether it
//! is up to date (exit 1 when it is not).

use revise_runtime::graph::Node;
use revise_runtime::plan;
use revise_runtime::{RevisionGraph, Target};
use serde_json::json;

use crate::cli::{CheckArgs, Format};
use crate::error::CliError;
use crate::settings;

use super::{ids, Context};

/// `check --fleet NAME`: every database, exit 1 when any is behind or unreachable.
pub fn run_fleet(context: &Context, args: &CheckArgs) -> Result<(), CliError> {
    super::fleet::run(
        context,
        super::fleet::FleetCommand {
            selection: &args.fleet,
            run: None,
            operation: revise_runtime::fleet::Operation::Check,
            format: args.format,
            lock_timeout: std::time::Duration::from_secs(60),
        },
    )
}

/// Validates and reports; fails with status 1 when revisions are pending.
pub fn run(context: &Context, args: &CheckArgs) -> Result<(), CliError> {
    // A database is optional: without any URL, check only the files.
    let database = settings::configured_database_url(&context.global, &context.workspace);
    let pending = match &database {
        Ok(Some(_)) => Some(context.start_reading_rows()),
        _ => None,
    };
    let graph = context.read_graph()?;
    let warnings = redundant_parents(graph);
    let members = graph
        .labels()
        .filter(|(_, owner)| graph.revises(*owner).is_empty())
        .count();
    let database = database?;
    let pending: Option<Vec<Node>> = match pending {
        Some(pending) => {
            let rows = pending.nodes(graph)?;
            let goal = plan::upgrade_goal(graph, &rows, &Target::Heads, "heads")
                .map_err(|e| CliError::failed(e.to_string()))?;
            Some(
                plan::plan_upgrade(graph, &rows, &goal)
                    .steps
                    .iter()
                    .map(|s| s.node)
                    .collect(),
            )
        }
        None => None,
    };
    match args.format {
        Format::Json | Format::Jsonl => context.printer.json(&json!({
            "revisions": graph.len(),
            "members": members,
            "heads": ids(graph, &graph.heads()),
            "warnings": warnings,
            "database": database.as_ref().map(|d| d.url.to_string()),
            "pending": pending.as_ref().map(|p| ids(graph, p)),
            "up_to_date": pending.as_ref().map(Vec::is_empty),
        })),
        Format::Human => {
            context.printer.line(format!(
                "Checked {} revision(s) in {members} member(s): no problems found; heads: {}",
                graph.len(),
                ids(graph, &graph.heads()).join(", ")
            ));
            for warning in &warnings {
                context.printer.warning(warning);
            }
            if let (Some(setting), Some(pending)) = (&database, &pending) {
                let from = &setting.url;
                if pending.is_empty() {
                    context
                        .printer
                        .line(format!("Database {from} is up to date"));
                } else {
                    context.printer.line(format!(
                        "Database {from} is not up to date: {} revision(s) pending: {}",
                        pending.len(),
                        ids(graph, pending).join(", ")
                    ));
                }
            }
        }
    }
    match pending {
        Some(p) if !p.is_empty() => Err(CliError {
            status: crate::error::Status::Failed,
            problems: Vec::new(),
            hint: Some("run `cargo revise up` to apply them".to_owned()),
        }),
        _ => Ok(()),
    }
}

/// Parents that are already ancestors of another parent: Alembic keeps surprising rows for
/// them (ALEMBIC.md), so `check` warns.
fn redundant_parents(graph: &RevisionGraph) -> Vec<String> {
    let mut warnings = Vec::new();
    for node in 0..graph.len() {
        let links: Vec<Node> = graph
            .revises(node)
            .iter()
            .chain(graph.depends_on(node))
            .copied()
            .collect();
        for &link in &links {
            if let Some(&via) = links
                .iter()
                .find(|&&other| other != link && graph.is_ancestor(link, other))
            {
                let rev = graph.revision(node);
                warnings.push(format!(
                    "{}: revision {} lists {} although {} already leads to it; remove the redundant parent",
                    rev.origin.path.display(),
                    rev.id,
                    graph.id(link),
                    graph.id(via)
                ));
            }
        }
    }
    warnings
}
