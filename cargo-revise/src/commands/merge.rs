//! `cargo revise merge -m MSG REV...`: a revision whose `Revises` lists several heads.

use revise_runtime::graph::Node;
use revise_runtime::target::TargetError;

use crate::cli::MergeArgs;
use crate::error::CliError;

use super::{new, Context};

/// Writes the merge revision into the member the heads belong to.
pub fn run(context: &Context, args: &MergeArgs) -> Result<(), CliError> {
    let graph = context.read_graph()?;
    let mut parents: Vec<Node> = Vec::new();
    for written in &args.revisions {
        if written == "heads" {
            let member =
                crate::workspace::select_member(&context.workspace, &context.global.packages)?;
            parents.extend(
                graph
                    .heads()
                    .into_iter()
                    .filter(|&h| *graph.revision(h).origin.member == *member.label),
            );
            continue;
        }
        let node = revise_runtime::target::resolve_single(graph, written).map_err(|e| {
            let error = CliError::bad_input(format!("merge `{written}`: {e}"));
            match e {
                TargetError::Unknown(_) => error.with_hint(new::candidates(graph)),
                _ => error,
            }
        })?;
        parents.push(node);
    }
    parents.dedup();
    if parents.len() < 2 {
        return Err(CliError::bad_input(format!(
            "a merge needs at least two revisions; got {}",
            super::ids(graph, &parents).join(", ")
        ))
        .with_hint("`cargo revise heads` lists the heads to merge"));
    }
    let member = graph.revision(parents[0]).origin.member.clone();
    if let Some(&other) = parents
        .iter()
        .find(|&&p| graph.revision(p).origin.member != member)
    {
        return Err(CliError::bad_input(format!(
            "{} belongs to member `{}` and {} to `{member}`; a merge joins heads of one member (use --depends-on to wait for another member)",
            graph.id(other),
            graph.revision(other).origin.member,
            graph.id(parents[0]),
        )));
    }
    let member = context
        .workspace
        .members
        .iter()
        .find(|m| *m.label == *member)
        .ok_or_else(|| {
            CliError::bad_input(format!("no workspace member has the label `{member}`"))
        })?;
    new::write_revision(
        context,
        graph,
        member,
        &new::RevisionRequest {
            message: &args.message,
            rev_id: args.rev_id.as_deref(),
            revises: super::ids(graph, &parents),
            depends_on: &[],
            branch_labels: &args.branch_labels,
        },
    )
}
