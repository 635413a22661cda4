//! `cargo revise new -m MSG`: a revision file chained onto the member's head.

use revise_runtime::parse::parse_revision;
use revise_runtime::target::TargetError;
use revise_runtime::{RevisionGraph, RevisionId};

use crate::cli::NewArgs;
use crate::error::CliError;
use crate::scaffold::{self, NewRevision};
use crate::workspace::Member;

use super::Context;

/// What the new file says, before an id is chosen.
pub struct RevisionRequest<'a> {
    /// The message.
    pub message: &'a str,
    /// `--rev-id`, if given.
    pub rev_id: Option<&'a str>,
    /// The parents' ids.
    pub revises: Vec<String>,
    /// `Depends On` entries.
    pub depends_on: &'a [String],
    /// Extra branch labels.
    pub branch_labels: &'a [String],
}

/// Writes the file and prints its path.
pub fn run(context: &Context, args: &NewArgs) -> Result<(), CliError> {
    let member = crate::workspace::select_member(&context.workspace, &context.global.packages)?;
    let graph = context.read_graph()?;
    let revises = parents(graph, &member.label, args.head.as_deref())?;
    let depends_on = args
        .depends_on
        .iter()
        .map(|value| dependency(graph, value))
        .collect::<Result<Vec<_>, _>>()?;
    write_revision(
        context,
        graph,
        member,
        &RevisionRequest {
            message: &args.message,
            rev_id: args.rev_id.as_deref(),
            revises,
            depends_on: &depends_on,
            branch_labels: &args.branch_labels,
        },
    )
}

/// What `Depends On` records for one `--depends-on` value, as Alembic's `revision
/// --depends-on` writes it: a branch label as written, any other form as the full id.
fn dependency(graph: &RevisionGraph, value: &str) -> Result<String, CliError> {
    revise_runtime::target::resolve_dependency(graph, value).map_err(|e| {
        let error = CliError::bad_input(format!("--depends-on `{value}`: {e}"));
        match e {
            TargetError::Unknown(_) => error.with_hint(candidates(graph)),
            _ => error,
        }
    })
}

/// The values a user most likely meant: every branch label and every head.
pub fn candidates(graph: &RevisionGraph) -> String {
    let labels: Vec<&str> = graph.labels().map(|(label, _)| label).collect();
    let heads: Vec<String> = graph
        .heads()
        .into_iter()
        .map(|n| format!("{} ({})", graph.id(n), graph.revision(n).origin.member))
        .collect();
    format!(
        "the branch labels are {}; the heads are {}",
        labels.join(", "),
        heads.join(", ")
    )
}

/// Renders, checks against the graph, and writes a new revision file into `member`.
pub fn write_revision(
    context: &Context,
    graph: &RevisionGraph,
    member: &Member,
    request: &RevisionRequest<'_>,
) -> Result<(), CliError> {
    let (file_name, text) = render(graph, request, "", "")?;
    write_file(context, graph, member, &file_name, &text)
}

/// The file name and text of a new revision with these sections, its id checked to be new.
pub fn render(
    graph: &RevisionGraph,
    request: &RevisionRequest<'_>,
    up: &str,
    down: &str,
) -> Result<(String, String), CliError> {
    let id = match request.rev_id {
        Some(id) => RevisionId::new(id)
            .map_err(|e| CliError::bad_input(format!("--rev-id: {e}")))?
            .to_string(),
        None => scaffold::random_id(),
    };
    if let Some(existing) = graph.node(&id) {
        return Err(CliError::bad_input(format!(
            "revision id `{id}` is already used by {}",
            graph.revision(existing).origin.path.display()
        )));
    }
    let text = scaffold::render_revision_with(
        &NewRevision {
            message: request.message,
            id: &id,
            revises: &request.revises,
            depends_on: request.depends_on,
            branch_labels: request.branch_labels,
            create_date: None,
        },
        up,
        down,
    );
    let slug = scaffold::slug(request.message);
    let file_name = if slug.is_empty() {
        format!("{id}.sql")
    } else {
        format!("{id}_{slug}.sql")
    };
    Ok((file_name, text))
}

/// Checks the new file against the graph and writes it into the member's folder.
pub fn write_file(
    context: &Context,
    graph: &RevisionGraph,
    member: &Member,
    file_name: &str,
    text: &str,
) -> Result<(), CliError> {
    let path = member.migrations_dir.join(file_name);
    let root = &context.workspace.root;
    let shown = path.strip_prefix(root).unwrap_or(&path).to_owned();
    check_new_graph(graph, &shown, &member.label, text)?;
    std::fs::create_dir_all(&member.migrations_dir)
        .and_then(|()| std::fs::write(&path, text))
        .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))?;
    context
        .printer
        .line(format!("  Generating {} ...  done", shown.display()));
    Ok(())
}

/// The parent of the new revision: `--head`, else the member's single head (none for a
/// member without revisions).
pub fn parents(
    graph: &RevisionGraph,
    label: &str,
    head: Option<&str>,
) -> Result<Vec<String>, CliError> {
    if let Some(head) = head {
        let node = revise_runtime::target::resolve_single(graph, head)
            .map_err(|e| CliError::bad_input(format!("--head: {e}")))?;
        let rev = graph.revision(node);
        if *rev.origin.member != *label {
            return Err(CliError::bad_input(format!(
                "--head {head} is revision {} of member `{}`, not of `{label}`; use --depends-on to wait for another member",
                rev.id, rev.origin.member
            )));
        }
        return Ok(vec![rev.id.to_string()]);
    }
    let heads: Vec<&str> = graph
        .heads()
        .into_iter()
        .filter(|&n| *graph.revision(n).origin.member == *label)
        .map(|n| graph.id(n))
        .collect();
    match heads.as_slice() {
        [] => Ok(Vec::new()),
        [one] => Ok(vec![(*one).to_owned()]),
        many => Err(CliError::bad_input(format!(
            "member `{label}` has several heads: {}",
            many.join(", ")
        ))
        .with_hint(format!(
            "pass --head REV to choose one, or join them first with `cargo revise merge -p {label} -m \"merge\" heads`"
        ))),
    }
}

/// Refuses a file that would break the graph (an unknown --depends-on, a taken label).
fn check_new_graph(
    graph: &RevisionGraph,
    path: &std::path::Path,
    label: &str,
    text: &str,
) -> Result<(), CliError> {
    let revision = parse_revision(path, label, text.as_bytes()).map_err(|e| {
        CliError::bad_input(format!("the new revision would be invalid: {}", e.kind))
    })?;
    let mut revisions = graph.revisions().to_vec();
    revisions.push(revision);
    RevisionGraph::build(revisions).map_err(|errors| {
        let reasons: Vec<String> = errors.iter().map(|e| e.kind.to_string()).collect();
        CliError::bad_input(format!(
            "the new revision would be invalid: {}",
            reasons.join("; ")
        ))
    })?;
    Ok(())
}
