//! `--sql`: a plan rendered as a SQL script instead of being run.
//!
//! The script holds what an online run would execute: the version table's creation when
//! starting from nothing, and per revision `BEGIN`, its SQL, its version-table changes as
//! literals, `COMMIT` (or its statements bare, for a `transaction=false` section). Nothing
//! here connects to a database.

use std::fmt::Write;

use crate::backend::statements::split_statements;
use crate::backend::{Dialect, VersionTable};
use crate::graph::{Node, RevisionGraph};
use crate::plan::Plan;
use crate::version_rows::{Direction, RowChange};

/// Renders `plan` as a script for `dialect`; `create_table` adds the version table's DDL
/// first (when the script starts from an empty database).
pub fn render_plan(
    graph: &RevisionGraph,
    plan: &Plan,
    dialect: Dialect,
    table: &VersionTable,
    create_table: bool,
) -> String {
    let mut out = String::new();
    if create_table {
        let _ = writeln!(out, "{};\n", table.create_sql(dialect));
    }
    for step in &plan.steps {
        let rev = graph.revision(step.node);
        let (verb, from, to) = match step.direction {
            Direction::Up => (
                "upgrade",
                join_ids(graph, graph.parents(step.node)),
                rev.id.to_string(),
            ),
            Direction::Down => (
                "downgrade",
                rev.id.to_string(),
                join_ids(graph, graph.parents(step.node)),
            ),
        };
        let _ = writeln!(out, "-- Running {verb} {from} -> {to}");
        let section = match step.direction {
            Direction::Up => Some(&rev.up),
            Direction::Down => rev.down.as_ref(),
        };
        let transactional = section.is_none_or(|s| s.transactional);
        if let Some(section) = section.filter(|s| !s.transactional) {
            for statement in split_statements(&section.sql) {
                let _ = writeln!(out, "{statement};\n");
            }
        }
        let _ = writeln!(out, "BEGIN;\n");
        if let Some(section) = section.filter(|_| transactional) {
            if !section.sql.trim().is_empty() {
                let sql = section.sql.trim_end();
                let _ = writeln!(out, "{sql}{}\n", if sql.ends_with(';') { "" } else { ";" });
            }
        }
        render_changes(&mut out, graph, &step.changes, dialect, table);
        let _ = writeln!(out, "COMMIT;\n");
    }
    out
}

/// Renders bare row changes (for `stamp --sql`), in one transaction.
pub fn render_stamp(
    graph: &RevisionGraph,
    changes: &[RowChange],
    dialect: Dialect,
    table: &VersionTable,
    create_table: bool,
) -> String {
    let mut out = String::new();
    if create_table {
        let _ = writeln!(out, "{};\n", table.create_sql(dialect));
    }
    let _ = writeln!(out, "BEGIN;\n");
    render_changes(&mut out, graph, changes, dialect, table);
    let _ = writeln!(out, "COMMIT;\n");
    out
}

fn render_changes(
    out: &mut String,
    graph: &RevisionGraph,
    changes: &[RowChange],
    dialect: Dialect,
    table: &VersionTable,
) {
    let quoted = table.quoted(dialect);
    // Ids are `[A-Za-z0-9_]` only (checked when parsed), so quoting them as literals is safe.
    let lit = |n: Node| format!("'{}'", graph.id(n));
    for change in changes {
        let _ = match *change {
            RowChange::Insert(n) => writeln!(
                out,
                "INSERT INTO {quoted} (version_num) VALUES ({});\n",
                lit(n)
            ),
            RowChange::Delete(n) => writeln!(
                out,
                "DELETE FROM {quoted} WHERE version_num = {};\n",
                lit(n)
            ),
            RowChange::Update { from, to } => writeln!(
                out,
                "UPDATE {quoted} SET version_num = {} WHERE version_num = {};\n",
                lit(to),
                lit(from)
            ),
        };
    }
}

fn join_ids(graph: &RevisionGraph, nodes: &[Node]) -> String {
    nodes
        .iter()
        .map(|&n| graph.id(n))
        .collect::<Vec<_>>()
        .join(", ")
}
