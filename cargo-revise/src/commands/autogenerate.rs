//! `cargo revise new --autogenerate -m MSG`: a revision from the difference between the
//! member's schema file and its revisions (Alembic's `revision --autogenerate`).
//!
//! Before the file is written, the revision is tried on the scratch database: up, then the
//! comparison must find nothing left (but what was refused); down, then the whole schema (as
//! the stairway test compares it) must equal the one before; up again, the schema as after
//! the first up. A revision that
//! fails any of these is not written (exit 1).

use std::collections::BTreeSet;

use revise_runtime::backend::VersionTable;
use revise_runtime::parse::parse_revision;
use revise_runtime::schema::catalog::Catalog;
use revise_runtime::schema::diff::{self, Change, Difference, Scope};
use revise_runtime::schema::generate::{generate, Generated};
use revise_runtime::schema::model::{DieselSchema, TableName};
use revise_runtime::snapshot::{self, Schema};
use revise_runtime::version_rows::Direction;
use revise_runtime::{DatabaseConnection, Migrator, RevisionGraph};

use crate::cli::NewArgs;
use crate::error::CliError;
use crate::output::schema_diff::{self, Wording, SCREENFUL};

use super::new::{self, RevisionRequest};
use super::schema::{self, Compared};
use super::Context;

/// Generates, tries and writes the revision.
pub fn run(context: &Context, args: &NewArgs) -> Result<(), CliError> {
    let member = crate::workspace::select_member(&context.workspace, &context.global.packages)?;
    let file = member.schema_file()?.ok_or_else(|| {
        CliError::bad_input(format!(
            "member `{}` has no schema file: --autogenerate compares one with the revisions",
            member.name
        ))
        .with_hint("create src/schema.rs (`cargo revise schema --write` prints the current one), or set [package.metadata.revise] schema = \"PATH\"")
    })?;
    let wanted = schema::read_wanted(context, member, &file)?;
    let scope = renames(args, &wanted)?;
    let graph = schema::load_graph(context)?;
    let revises = new::parents(&graph, &member.label, args.head.as_deref())?;
    let server = schema::scratch_server(context, &args.dev)?;
    let mut compared = schema::compare(context, &graph, &server, member, &wanted, scope)?;
    let generated = generate(&compared.differences, &wanted, &compared.catalog);
    let path = schema::shown(context, &file.path);
    for warning in &generated.warnings {
        context.printer.warning(warning);
    }
    if generated.is_empty() {
        context.printer.line(format!(
            "No changes detected: {path} matches the tables of `{}`",
            member.name
        ));
        return Ok(());
    }
    context.printer.line(format!(
        "Comparing {path} with the revisions of `{}`:",
        member.name
    ));
    context.printer.lines(
        compared
            .differences
            .iter()
            .filter(|d| d.other_member.is_none())
            .map(|d| format!("  {d}")),
    );
    refuse(args, &generated)?;
    for destructive in &generated.destructive {
        context
            .printer
            .warning(format!("destructive: {destructive}"));
    }
    let depends_on = dependencies(args, &compared, &wanted, &member.label, &graph);
    let request = RevisionRequest {
        message: &args.message,
        rev_id: args.rev_id.as_deref(),
        revises,
        depends_on: &depends_on,
        branch_labels: &args.branch_labels,
    };
    let (file_name, text) =
        new::render(&graph, &request, &generated.up_sql(), &generated.down_sql())?;
    let version_table = crate::settings::version_table(&context.workspace)?;
    self_test(
        &mut compared,
        &graph,
        &wanted,
        &generated,
        member,
        (&file_name, &text),
        &version_table,
    )?;
    context
        .printer
        .line("  Tried on the scratch database: up, compare, down (schema restored), up");
    new::write_file(context, &graph, member, &file_name, &text)
}

/// `--depends-on`, plus the revisions of other members that created the tables a new
/// foreign key references: without them the revision could run before its parent table
/// exists.
fn dependencies(
    args: &NewArgs,
    compared: &Compared,
    wanted: &DieselSchema,
    label: &str,
    graph: &RevisionGraph,
) -> Vec<String> {
    let mut depends_on = args.depends_on.clone();
    let new_tables: Vec<&TableName> = compared
        .differences
        .iter()
        .filter_map(|d| match &d.change {
            Change::CreateTable(t) => Some(&t.name),
            _ => None,
        })
        .collect();
    for difference in compared
        .differences
        .iter()
        .filter(|d| d.other_member.is_none())
    {
        let parents: Vec<&TableName> = match &difference.change {
            Change::CreateTable(table) => wanted
                .joinables
                .iter()
                .filter(|j| j.child == table.name)
                .map(|j| &j.parent)
                .collect(),
            Change::AddForeignKey(j) => vec![&j.parent],
            _ => Vec::new(),
        };
        for parent in parents {
            if new_tables.contains(&parent) {
                continue;
            }
            let owner = compared.scope.owners.get(parent).map(String::as_str);
            let Some(creator) = compared.scratch.creators.get(parent) else {
                continue;
            };
            let foreign = owner.is_some_and(|o| o != label && !o.is_empty());
            if foreign && graph.node(creator).is_some() && !depends_on.contains(creator) {
                depends_on.push(creator.clone());
            }
        }
    }
    depends_on
}

/// `--rename-table OLD=NEW` and `--rename-column TABLE.OLD=NEW`, checked against the schema
/// file.
fn renames(args: &NewArgs, wanted: &DieselSchema) -> Result<Scope, CliError> {
    let mut scope = Scope::default();
    for value in &args.rename_table {
        let (old, new) = value.split_once('=').ok_or_else(|| {
            CliError::bad_input(format!("--rename-table `{value}`: expected OLD=NEW"))
        })?;
        let to = table_name(new);
        if wanted.table(&to).is_none() {
            return Err(CliError::bad_input(format!(
                "--rename-table `{value}`: the schema file has no table `{new}`"
            )));
        }
        scope.table_renames.push((table_name(old), to));
    }
    for value in &args.rename_column {
        let parsed = value
            .split_once('=')
            .and_then(|(left, new)| left.rsplit_once('.').map(|(t, old)| (t, old, new)));
        let Some((table, old, new)) = parsed else {
            return Err(CliError::bad_input(format!(
                "--rename-column `{value}`: expected TABLE.OLD=NEW"
            )));
        };
        let table = table_name(table);
        let known = wanted
            .table(&table)
            .is_some_and(|t| t.column(new).is_some());
        if !known {
            return Err(CliError::bad_input(format!(
                "--rename-column `{value}`: the schema file has no column `{table}.{new}`"
            )));
        }
        scope
            .column_renames
            .push((table, old.to_owned(), new.to_owned()));
    }
    Ok(scope)
}

fn table_name(text: &str) -> TableName {
    match text.split_once('.') {
        Some((schema, name)) => TableName {
            schema: Some(schema.to_owned()),
            name: name.to_owned(),
        },
        None => TableName::plain(text),
    }
}

/// Stops on refused parts (unless `--allow-incomplete`) and on destructive ones with
/// `--no-destructive`.
fn refuse(args: &NewArgs, generated: &Generated) -> Result<(), CliError> {
    if !generated.refused.is_empty() && !args.allow_incomplete {
        let reasons: Vec<String> = generated
            .refused
            .iter()
            .map(|r| format!("{}: {}", r.what, r.reason))
            .collect();
        return Err(CliError::failed(format!(
            "cannot generate this revision safely; no file was written:\n  {}",
            reasons.join("\n  ")
        ))
        .with_hint("write these parts by hand, or pass --allow-incomplete to write the file with them as TODO comments"));
    }
    if args.no_destructive && !generated.destructive.is_empty() {
        return Err(CliError::failed(format!(
            "--no-destructive: the revision is destructive: {}; no file was written",
            generated.destructive.join("; ")
        )));
    }
    Ok(())
}

/// What a difference is about, as refusals name it: `table` or `table.column`.
fn subject(difference: &Difference) -> String {
    match &difference.change {
        Change::AddColumn { table, column } | Change::AlterColumn { table, column, .. } => {
            format!("{table}.{}", column.sql_name)
        }
        Change::DropColumn { table, column } => format!("{table}.{column}"),
        Change::RenameColumn { table, to, .. } => format!("{table}.{to}"),
        Change::AddForeignKey(j) => format!("{}.{}", j.child, j.column),
        other => other.table().to_string(),
    }
}

/// Up, compare, down, compare whole catalogs, up again, on the scratch database.
fn self_test(
    compared: &mut Compared,
    graph: &RevisionGraph,
    wanted: &DieselSchema,
    generated: &Generated,
    member: &revise_runtime::workspace::Member,
    (file_name, text): (&str, &str),
    version_table: &VersionTable,
) -> Result<(), CliError> {
    let path = member.migrations_dir.join(file_name);
    let revision = parse_revision(&path, &member.label, text.as_bytes())
        .map_err(|e| CliError::failed(format!("the generated revision does not parse: {e}")))?;
    let id = revision.id.to_string();
    let mut revisions = graph.revisions().to_vec();
    revisions.push(revision);
    let with_new = RevisionGraph::build(revisions).map_err(|errors| {
        let reasons: Vec<String> = errors.iter().map(|e| e.kind.to_string()).collect();
        CliError::failed(format!(
            "the generated revision would be invalid: {}",
            reasons.join("; ")
        ))
    })?;
    let node = with_new
        .node(&id)
        .ok_or_else(|| CliError::failed("the generated revision is missing from its graph"))?;
    let migrator = Migrator::new(&with_new);
    let conn = &mut compared.scratch.conn;
    // The whole schema, as the stairway test compares it (tables, columns, indexes,
    // constraints, views, functions, triggers, sequences), without the version table.
    let snapshot =
        |conn: &mut DatabaseConnection| conn.schema(version_table).map_err(CliError::from);
    let before = snapshot(conn)?;
    let failed = |stage: &str, e: revise_runtime::migrator::MigrateError| {
        CliError::failed(format!(
            "the generated revision failed on the scratch database while {stage}, so no file was written: {e}"
        ))
        .with_hint("this is a bug in the generator or a limit of the database; run with --allow-incomplete to see the file, or write the revision by hand")
    };
    migrator
        .step_one(conn, node, Direction::Up)
        .map_err(|e| failed("upgrading", e))?;
    let after_up = read_catalog(conn)?;
    let scope = Scope {
        owned: owned_after(&compared.scope, &compared.catalog, &after_up),
        owners: compared.scope.owners.clone(),
        excluded: compared.scope.excluded.clone(),
        table_renames: Vec::new(),
        column_renames: Vec::new(),
    };
    let refused: BTreeSet<&str> = generated.refused.iter().map(|r| r.what.as_str()).collect();
    let left: Vec<String> = diff::compare(wanted, &after_up, &scope)
        .iter()
        .filter(|d| d.other_member.is_none() && !refused.contains(subject(d).as_str()))
        .map(ToString::to_string)
        .collect();
    if !left.is_empty() {
        return Err(CliError::failed(format!(
            "after the generated up section, the scratch database still differs from the schema file, so no file was written:\n  {}",
            left.join("\n  ")
        )));
    }
    let first_up = snapshot(conn)?;
    migrator
        .step_one(conn, node, Direction::Down)
        .map_err(|e| failed("downgrading", e))?;
    let after_down = snapshot(conn)?;
    different(
        &before,
        &after_down,
        "the generated down section does not restore the schema",
        DOWN,
    )?;
    migrator
        .step_one(conn, node, Direction::Up)
        .map_err(|e| failed("upgrading again", e))?;
    let again = snapshot(conn)?;
    different(
        &first_up,
        &again,
        "the generated revision leaves another schema when applied again after its down",
        AGAIN,
    )
}

/// How the self-test's comparisons name their two sides.
const DOWN: Wording = Wording {
    removed: "missing after the down",
    added: "left after the down",
    changed: "differs after the down",
};

/// How the re-applied comparison names its two sides.
const AGAIN: Wording = Wording {
    removed: "missing when applied again",
    added: "only when applied again",
    changed: "differs when applied again",
};

/// Refuses when the two snapshots differ, naming each object with a unified diff.
fn different(
    expected: &Schema,
    found: &Schema,
    what: &str,
    wording: Wording,
) -> Result<(), CliError> {
    let differences = snapshot::compare(expected, found);
    if differences.is_empty() {
        return Ok(());
    }
    Err(CliError::failed(format!(
        "{what}, so no file was written:\n{}",
        schema_diff::lines(&differences, wording, Some(SCREENFUL)).join("\n")
    )))
}

fn read_catalog(conn: &mut DatabaseConnection) -> Result<Catalog, CliError> {
    Catalog::read(conn).map_err(CliError::from)
}

/// The member's tables after the up section: those it owned that still exist, and those
/// that appeared.
fn owned_after(scope: &Scope, before: &Catalog, after: &Catalog) -> Vec<TableName> {
    let old: BTreeSet<TableName> = before.table_names().into_iter().collect();
    after
        .table_names()
        .into_iter()
        .filter(|t| scope.owned.contains(t) || !old.contains(t))
        .filter(|t| !scope.excluded.contains(t))
        .collect()
}
