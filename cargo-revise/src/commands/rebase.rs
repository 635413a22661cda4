//! `cargo revise rebase`: a member with two heads made linear again by re-parenting the
//! branch the configured database has not applied onto the other head (the runtime's
//! `rebase.rs` plans it and rewrites the `Revises` lines; this file reads and writes files).

use std::path::{Path, PathBuf};

use revise_runtime::backend::{connect_existing, VersionStore};
use revise_runtime::rebase::{member_heads, plan_rebase, rewrite_revises};
use revise_runtime::{NodeSet, RevisionGraph};

use crate::cli::RebaseArgs;
use crate::error::CliError;
use crate::settings;

use super::Context;

/// Plans, rewrites the files, and checks the result.
pub fn run(context: &Context, args: &RebaseArgs) -> Result<(), CliError> {
    let graph = context.workspace.load_graph().map_err(CliError::from)?;
    let member = member_to_rebase(context, &graph)?;
    let applied = applied(context, &graph)?;
    let plan =
        plan_rebase(&graph, &member, &applied).map_err(|e| CliError::failed(e.to_string()))?;
    let moved: Vec<&str> = plan.moved.iter().map(|&n| graph.id(n)).collect();
    context.printer.line(format!(
        "{} member `{member}`: {} onto {} (the database has not applied {})",
        if args.dry_run {
            "Would rebase"
        } else {
            "Rebasing"
        },
        moved.join(", "),
        graph.id(plan.onto),
        if moved.len() == 1 { "it" } else { "them" },
    ));
    let mut originals: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for (node, ids) in &plan.rewrites {
        let revision = graph.revision(*node);
        let path = context.workspace.root.join(&revision.origin.path);
        let before: Vec<&str> = graph.revises(*node).iter().map(|&n| graph.id(n)).collect();
        context.printer.line(format!(
            "  {}: Revises: {} -> {}",
            revision.origin.path.display(),
            before.join(", "),
            ids.join(", ")
        ));
        if args.dry_run {
            continue;
        }
        let bytes = read(&path)?;
        let line = usize::try_from(revision.lines.revises).unwrap_or(0);
        let rewritten = rewrite_revises(&bytes, line, ids)
            .map_err(|e| CliError::failed(format!("{}: {e}", path.display())))?;
        write(&path, &rewritten)?;
        originals.push((path, bytes));
    }
    if args.dry_run {
        return Ok(());
    }
    // The files must still form a valid graph with one head in the member; if not, put
    // every file back as it was.
    match context.workspace.load_graph() {
        Ok(after) if member_heads(&after, &member).len() == 1 => {
            context.printer.line(format!(
                "Member `{member}` is linear again; its head is {}",
                graph.id(plan.moved_head)
            ));
            Ok(())
        }
        outcome => {
            for (path, bytes) in &originals {
                write(path, bytes)?;
            }
            let why = match outcome {
                Err(errors) => errors.to_string(),
                Ok(_) => "the member still has several heads".to_owned(),
            };
            Err(CliError::failed(format!(
                "the rebased files did not form one line ({why}); every file was put back"
            )))
        }
    }
}

/// The member named with `-p`, else the only member with two heads.
fn member_to_rebase(context: &Context, graph: &RevisionGraph) -> Result<String, CliError> {
    if !context.global.packages.is_empty() {
        let member = crate::workspace::select_member(&context.workspace, &context.global.packages)?;
        return Ok(member.label.clone());
    }
    let mut forked: Vec<String> = context
        .workspace
        .members
        .iter()
        .filter(|m| member_heads(graph, &m.label).len() > 1)
        .map(|m| m.label.clone())
        .collect();
    match forked.len() {
        0 => Err(CliError::failed(
            "no member has two heads: there is nothing to rebase",
        )),
        1 => Ok(forked.remove(0)),
        _ => Err(CliError::bad_input(format!(
            "several members have more than one head ({}); name one with -p",
            forked.join(", ")
        ))),
    }
}

/// What the configured database has applied (nothing without a database).
fn applied(context: &Context, graph: &RevisionGraph) -> Result<NodeSet, CliError> {
    let Some(setting) = settings::configured_database_url(&context.global, &context.workspace)?
    else {
        context.printer.warning(
            "no database is configured: no revision counts as applied, so either line may move",
        );
        return Ok(NodeSet::new());
    };
    let Some(mut conn) = connect_existing(&setting.url)? else {
        return Ok(NodeSet::new());
    };
    let table = settings::version_table(&context.workspace)?;
    let rows = conn.read_rows(&table)?.unwrap_or_default();
    let migrator = context.migrator(graph)?;
    let rows = migrator.nodes(&rows)?;
    Ok(graph.ancestors_inclusive(rows.iter().copied()))
}

fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path)
        .map_err(|e| CliError::failed(format!("cannot read {}: {e}", path.display())))
}

/// Writes through a temporary file in the same folder and a rename, so a file is never
/// half written.
fn write(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let failed = |e: &dyn std::fmt::Display| {
        CliError::failed(format!("cannot write {}: {e}", path.display()))
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    // A name the loader ignores (it starts with `.`), should it be left behind.
    let mut file = tempfile::Builder::new()
        .prefix(".rebase-")
        .tempfile_in(dir)
        .map_err(|e| failed(&e))?;
    std::io::Write::write_all(&mut file, bytes).map_err(|e| failed(&e))?;
    if let Ok(metadata) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(file.path(), metadata.permissions());
    }
    file.persist(path).map_err(|e| failed(&e.error))?;
    Ok(())
}
