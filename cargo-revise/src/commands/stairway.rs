//! `cargo revise test`: the stairway test (pytest-alembic's) for the workspace's revisions.
//!
//! On a scratch database (a temporary SQLite file, or a throw-away database on the configured
//! server), each revision in graph order is applied, reverted and applied again; the schema
//! after the down must equal the schema before the up, and the schema after the second up
//! the one after the first. The first revision that fails is named with each object that
//! differs and its two versions, and the command exits 1. It also checks that each member
//! has a single head.

use std::time::Duration;

use revise_runtime::backend::scratch::ScratchDatabase;
use revise_runtime::graph::Node;
use revise_runtime::snapshot::{compare, ObjectDifference};
use revise_runtime::version_rows::Direction;
use revise_runtime::{DatabaseConnection, DatabaseUrl, Migrator, RevisionGraph, VersionTable};
use serde_json::{json, Value};

use crate::cli::{Format, StairwayArgs};
use crate::error::CliError;
use crate::output::schema_diff::{self, Wording, SCREENFUL};
use crate::settings;

use super::Context;

const AFTER_DOWN: Wording = Wording {
    removed: "missing after the down",
    added: "left after the down",
    changed: "differs after the down",
};

const AFTER_REAPPLY: Wording = Wording {
    removed: "gone when re-applied",
    added: "new when re-applied",
    changed: "differs when re-applied",
};

/// Why the stairway stopped at a revision.
struct Failure {
    /// The revision, when the failure is about one.
    node: Option<Node>,
    /// What was checked, for scripts: `single_head`, `apply`, `revert`, `reapply`,
    /// `down_restores_schema`, `reapply_same_schema`.
    check: &'static str,
    /// The error as a person reads it.
    error: CliError,
    /// The objects that differ, for the two schema checks.
    differences: Vec<ObjectDifference>,
}

/// Runs the stairway and prints a line per revision (or one JSON document).
pub fn run(context: &Context, args: &StairwayArgs) -> Result<(), CliError> {
    let graph = context.workspace.load_graph().map_err(CliError::from)?;
    let table = settings::version_table(&context.workspace)?;
    let temp = tempfile::tempdir()
        .map_err(|e| CliError::failed(format!("cannot create a temporary folder: {e}")))?;
    let base = settings::configured_database_url(&context.global, &context.workspace)?.map_or_else(
        || DatabaseUrl::Sqlite {
            path: temp.path().join("unused.db"),
        },
        |s| s.url,
    );
    let json = args.format == Format::Json;
    let limit = (context.printer.verbose == 0).then_some(SCREENFUL);
    let mut passed = Vec::new();
    let failure = match single_heads(&graph) {
        Err(error) => Some(Failure {
            node: None,
            check: "single_head",
            error,
            differences: Vec::new(),
        }),
        Ok(()) => {
            let scratch = ScratchDatabase::create(&base, temp.path())?;
            if !json {
                context.printer.line(format!(
                    "Stairway test of {} revision(s) on a scratch database ({})",
                    graph.len(),
                    scratch.url()
                ));
            }
            let mut conn = revise_runtime::connect(scratch.url())?;
            let migrator = Migrator::new(&graph)
                .with_version_table(table.clone())
                .with_lock_timeout(Duration::from_secs(args.lock_timeout));
            let stairway = Stairway {
                migrator: &migrator,
                table: &table,
                limit,
            };
            stairway.walk(&mut conn, |node, checked| {
                if !json {
                    context
                        .printer
                        .line(format!("   - {}: {checked}", graph.id(node)));
                }
                passed.push(json!({
                    "id": graph.id(node),
                    "path": graph.revision(node).origin.path.display().to_string(),
                    "checked": checked,
                }));
            })?
        }
    };
    if json {
        context
            .printer
            .json(&document(&graph, &passed, failure.as_ref()));
        return match failure {
            None => Ok(()),
            Some(_) => Err(CliError {
                status: crate::error::Status::Failed,
                problems: Vec::new(),
                hint: None,
            }),
        };
    }
    match failure {
        Some(failure) => Err(failure.error),
        None => {
            context.printer.line(format!("Stairway passed: every down restores the schema and every revision re-applies ({} revision(s))", graph.len()));
            Ok(())
        }
    }
}

/// What one walk needs.
struct Stairway<'a, 'g> {
    migrator: &'a Migrator<'g>,
    table: &'a VersionTable,
    limit: Option<usize>,
}

impl Stairway<'_, '_> {
    /// Up, down, up for each revision in graph order; `passed` hears of each that passed.
    /// `Ok(Some(_))` is a revision that failed the test; `Err` a failure of the test itself
    /// (the scratch database went away).
    fn walk(
        &self,
        conn: &mut DatabaseConnection,
        mut passed: impl FnMut(Node, &'static str),
    ) -> Result<Option<Failure>, CliError> {
        let graph = self.migrator.graph();
        for &node in graph.order() {
            let before = conn.schema(self.table)?;
            if let Err(failure) = self.step(conn, node, Direction::Up, "apply", "cannot be applied")
            {
                return Ok(Some(failure));
            }
            if graph.revision(node).down.is_none() {
                passed(node, "up (irreversible: no down to check)");
                continue;
            }
            let after_up = conn.schema(self.table)?;
            if let Err(failure) =
                self.step(conn, node, Direction::Down, "revert", "fails to revert")
            {
                return Ok(Some(failure));
            }
            let after_down = conn.schema(self.table)?;
            let differences = compare(&before, &after_down);
            if !differences.is_empty() {
                return Ok(Some(self.mismatch(
                    node,
                    "down_restores_schema",
                    format!(
                        "the down of revision {} does not restore the schema",
                        shown(graph, node)
                    ),
                    AFTER_DOWN,
                    differences,
                )));
            }
            if let Err(failure) = self.step(
                conn,
                node,
                Direction::Up,
                "reapply",
                "cannot be re-applied after its down",
            ) {
                return Ok(Some(failure));
            }
            let again = conn.schema(self.table)?;
            let differences = compare(&after_up, &again);
            if !differences.is_empty() {
                return Ok(Some(self.mismatch(
                    node,
                    "reapply_same_schema",
                    format!(
                        "revision {} leaves a different schema when re-applied after its down",
                        shown(graph, node)
                    ),
                    AFTER_REAPPLY,
                    differences,
                )));
            }
            passed(node, "up, down, up");
        }
        Ok(None)
    }

    fn step(
        &self,
        conn: &mut DatabaseConnection,
        node: Node,
        direction: Direction,
        check: &'static str,
        what: &str,
    ) -> Result<(), Failure> {
        self.migrator.step_one(conn, node, direction).map_err(|e| {
            let mut error = CliError::from(e);
            error.status = crate::error::Status::Failed;
            error.problems.insert(
                0,
                crate::error::Problem::new(format!(
                    "stairway: revision {} {what}",
                    shown(self.migrator.graph(), node)
                )),
            );
            Failure {
                node: Some(node),
                check,
                error,
                differences: Vec::new(),
            }
        })
    }

    /// A schema check that failed: the headline, then each object that differs.
    fn mismatch(
        &self,
        node: Node,
        check: &'static str,
        headline: String,
        wording: Wording,
        differences: Vec<ObjectDifference>,
    ) -> Failure {
        let mut message = format!(
            "stairway: {headline}; {} object(s) differ:",
            differences.len()
        );
        for line in schema_diff::lines(&differences, wording, self.limit) {
            message.push('\n');
            message.push_str(&line);
        }
        let hint = match check {
            "down_restores_schema" => "make the down section undo exactly what the up section does",
            _ => "something the up section creates depends on when it runs (the time, a sequence, data); make it the same each time",
        };
        Failure {
            node: Some(node),
            check,
            error: CliError::failed(message).with_hint(hint),
            differences,
        }
    }
}

/// `ID (PATH)`.
fn shown(graph: &RevisionGraph, node: Node) -> String {
    format!(
        "{} ({})",
        graph.id(node),
        graph.revision(node).origin.path.display()
    )
}

/// The `--format json` document.
fn document(graph: &RevisionGraph, passed: &[Value], failure: Option<&Failure>) -> Value {
    json!({
        "revisions": graph.len(),
        "passed": failure.is_none(),
        "checked": passed,
        "failure": failure.map(|f| json!({
            "revision": f.node.map(|n| graph.id(n)),
            "path": f.node.map(|n| graph.revision(n).origin.path.display().to_string()),
            "check": f.check,
            "message": f.error.problems.iter().map(|p| headline(&p.message)).collect::<Vec<_>>().join("\n"),
            "differences": schema_diff::json(&f.differences),
        })),
    })
}

/// A message's first line, without terminal colors: the differences below it are in the
/// document as data.
fn headline(message: &str) -> String {
    let first = message.lines().next().unwrap_or_default();
    console::strip_ansi_codes(first).into_owned()
}

/// Each member must have a single head: several mean unmerged branches.
fn single_heads(graph: &RevisionGraph) -> Result<(), CliError> {
    let mut by_member: std::collections::BTreeMap<&str, Vec<&str>> =
        std::collections::BTreeMap::new();
    for head in graph.heads() {
        by_member
            .entry(&*graph.revision(head).origin.member)
            .or_default()
            .push(graph.id(head));
    }
    for (member, heads) in by_member {
        if heads.len() > 1 {
            return Err(CliError::failed(format!(
                "stairway: member `{member}` has several heads: {}",
                heads.join(", ")
            ))
            .with_hint(format!(
                "join them with `cargo revise merge -p {member} -m \"merge\" heads`"
            )));
        }
    }
    Ok(())
}
