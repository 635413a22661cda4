//! `cargo revise schema` and `check --schema`: a member's schema file against a scratch
//! database at the member's head (SPEC section 9). The live database is never connected to.

use std::path::Path;
use std::time::Duration;

use revise_runtime::schema::catalog::Catalog;
use revise_runtime::schema::diff::{self, Difference, Scope};
use revise_runtime::schema::head::{scratch_at_heads, ScratchAtHead, ScratchError};
use revise_runtime::schema::model::{DieselSchema, TableName};
use revise_runtime::schema::print::print_schema;
use revise_runtime::schema::schema_rs::{read_schema_file, SchemaFileError};
use revise_runtime::schema::types;
use revise_runtime::workspace::{Member, SchemaFile};
use revise_runtime::{DatabaseUrl, RevisionGraph};
use serde_json::json;

use crate::cli::{CheckArgs, DevArgs, Format, SchemaArgs};
use crate::error::{CliError, Location, Problem, Status};
use crate::settings;

use super::Context;

/// How long the scratch database's own runs wait for a lock (nothing else uses it).
const SCRATCH_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// Tables the schema commands never compare or touch besides the version table and the
/// configured run log: the run log's default name (a database may hold it from before the
/// setting changed), and diesel's own migrations table.
const OTHER_TOOL_TABLES: [&str; 2] = [
    revise_runtime::run_log::LogTable::DEFAULT_NAME,
    "__diesel_schema_migrations",
];

/// `schema`: prints (or writes) what diesel's print-schema would print for the member's
/// tables at its head.
pub fn run(context: &Context, args: &SchemaArgs) -> Result<(), CliError> {
    let member = crate::workspace::select_member(&context.workspace, &context.global.packages)?;
    let file = member.schema_file()?;
    let graph = load_graph(context)?;
    let server = scratch_server(context, &args.dev)?;
    let mut scratch = migrate_scratch(context, &graph, &server)?;
    let catalog = Catalog::read(&mut scratch.conn)?;
    let owned = owned_tables(context, &scratch, member)?;
    let schema = catalog.diesel_schema(Some(&owned));
    refuse_unmappable(&schema, catalog.dialect.name())?;
    let text = print_schema(&schema);
    if !args.write {
        context.printer.lines(text.lines());
        return Ok(());
    }
    let file = file.unwrap_or_else(|| member.default_schema_file());
    if let Some(parent) = file.path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| CliError::failed(format!("cannot create {}: {e}", parent.display())))?;
    }
    std::fs::write(&file.path, &text)
        .map_err(|e| CliError::failed(format!("cannot write {}: {e}", file.path.display())))?;
    context.printer.line(format!(
        "  Writing {} ({} table(s) of member `{}`) ...  done",
        shown(context, &file.path),
        schema.tables.len(),
        member.name
    ));
    Ok(())
}

/// `check --schema`: one line per difference for each member with a schema file; exit 1 when
/// any differs.
pub fn check(context: &Context, args: &CheckArgs) -> Result<(), CliError> {
    let members: Vec<&Member> = if context.global.packages.is_empty() {
        context.workspace.members.iter().collect()
    } else {
        let mut chosen = Vec::new();
        for name in &context.global.packages {
            chosen.push(crate::workspace::select_member(
                &context.workspace,
                std::slice::from_ref(name),
            )?);
        }
        chosen
    };
    let mut with_files: Vec<(&Member, SchemaFile)> = Vec::new();
    for member in members {
        if let Some(file) = member.schema_file()? {
            with_files.push((member, file));
        }
    }
    // Every schema file must read before any database is made.
    let mut wanted = Vec::new();
    for (member, file) in &with_files {
        wanted.push(read_wanted(context, member, file)?);
    }
    if with_files.is_empty() {
        context.printer.line(
            "No member has a schema file ([package.metadata.revise] schema, diesel.toml's [print_schema] file, or src/schema.rs): nothing to compare",
        );
        return Ok(());
    }
    let graph = load_graph(context)?;
    let server = scratch_server(context, &args.dev)?;
    // One scratch database at the heads serves every member.
    let mut scratch = migrate_scratch(context, &graph, &server)?;
    let catalog = Catalog::read(&mut scratch.conn)?;
    let mut reports = Vec::new();
    let mut differs = false;
    for ((member, file), wanted) in with_files.iter().zip(&wanted) {
        let scope = member_scope(context, &scratch, member, Scope::default())?;
        let differences = diff::compare(wanted, &catalog, &scope);
        differs |= !differences.is_empty();
        reports.push((member, file, differences));
    }
    match args.format {
        Format::Json | Format::Jsonl => context.printer.json(&json!({
            "members": reports.iter().map(|(member, file, differences)| json!({
                "member": member.name,
                "schema_file": shown(context, &file.path),
                "matches": differences.is_empty(),
                "differences": differences.iter().map(|d| json!({
                    "line": d.to_string(),
                    "table": d.change.table().to_string(),
                    "other_member": d.other_member,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })),
        Format::Human => {
            for (member, file, differences) in &reports {
                let path = shown(context, &file.path);
                if differences.is_empty() {
                    context
                        .printer
                        .line(format!("{path} matches the revisions of `{}`", member.name));
                } else {
                    context.printer.line(format!(
                        "{path} differs from the revisions of `{}`:",
                        member.name
                    ));
                    context
                        .printer
                        .lines(differences.iter().map(|d| format!("  {d}")));
                }
            }
        }
    }
    if differs {
        return Err(CliError {
            status: Status::Failed,
            problems: Vec::new(),
            hint: Some(
                "generate a revision with `cargo revise new --autogenerate -m \"...\"`, or update the schema file with `cargo revise schema --write`"
                    .to_owned(),
            ),
        });
    }
    Ok(())
}

/// A member's schema file compared with its revisions.
pub struct Compared {
    /// The scratch database at the workspace's heads.
    pub scratch: ScratchAtHead,
    /// Its catalog before any change.
    pub catalog: Catalog,
    /// What was compared, and how.
    pub scope: Scope,
    /// The differences.
    pub differences: Vec<Difference>,
}

/// The schema file, read: bad input (exit 2) with its path and line when it does not parse
/// or does not exist.
pub fn read_wanted(
    context: &Context,
    member: &Member,
    file: &SchemaFile,
) -> Result<DieselSchema, CliError> {
    if !file.exists() {
        return Err(CliError {
            status: Status::BadInput,
            problems: vec![Problem::new(format!(
                "member `{}`: the schema file {} does not exist (chosen by {})",
                member.name,
                shown(context, &file.path),
                file.source
            ))],
            hint: Some(
                "create it with `cargo revise schema --write`, or fix the setting".to_owned(),
            ),
        });
    }
    read_schema_file(&file.path).map_err(|e| schema_file_error(context, &e))
}

fn schema_file_error(context: &Context, error: &SchemaFileError) -> CliError {
    CliError {
        status: Status::BadInput,
        problems: vec![Problem {
            location: Some(Location::at(
                Path::new(&shown(context, &error.path)),
                Some(error.line),
            )),
            ..Problem::new(error.message.clone())
        }],
        hint: Some("fix the schema file; nothing was compared or written".to_owned()),
    }
}

/// Migrates a scratch database to the heads and compares `wanted` with the member's tables.
pub fn compare(
    context: &Context,
    graph: &RevisionGraph,
    server: &DatabaseUrl,
    member: &Member,
    wanted: &DieselSchema,
    scope: Scope,
) -> Result<Compared, CliError> {
    let mut scratch = migrate_scratch(context, graph, server)?;
    let catalog = Catalog::read(&mut scratch.conn)?;
    let scope = member_scope(context, &scratch, member, scope)?;
    let differences = diff::compare(wanted, &catalog, &scope);
    Ok(Compared {
        scratch,
        catalog,
        scope,
        differences,
    })
}

/// `scope` (its renames) completed with the member's tables, every table's owner, and the
/// tables never touched.
fn member_scope(
    context: &Context,
    scratch: &ScratchAtHead,
    member: &Member,
    mut scope: Scope,
) -> Result<Scope, CliError> {
    scope.owned = owned_tables(context, scratch, member)?;
    scope.owners = scratch.owners.clone();
    scope.excluded = excluded_tables(context)?;
    Ok(scope)
}

/// The member's own tables, without the tables no schema command touches.
fn owned_tables(
    context: &Context,
    scratch: &ScratchAtHead,
    member: &Member,
) -> Result<Vec<TableName>, CliError> {
    let excluded = excluded_tables(context)?;
    Ok(scratch
        .owned_by(&member.label)
        .into_iter()
        .filter(|t| !excluded.contains(t))
        .collect())
}

/// The version table, the log table and diesel's migrations table.
pub fn excluded_tables(context: &Context) -> Result<Vec<TableName>, CliError> {
    let table = settings::version_table(&context.workspace)?;
    let mut excluded = vec![
        TableName::plain(table.name()),
        TableName {
            schema: table.schema().map(str::to_owned),
            name: table.name().to_owned(),
        },
    ];
    if let Some(log) = settings::log_table(&context.workspace)? {
        excluded.push(TableName::plain(log.name()));
        excluded.push(TableName {
            schema: log.schema().map(str::to_owned),
            name: log.name().to_owned(),
        });
    }
    excluded.extend(OTHER_TOOL_TABLES.iter().map(|name| TableName::plain(name)));
    Ok(excluded)
}

/// The workspace's revisions with their SQL (the scratch database runs them).
pub fn load_graph(context: &Context) -> Result<RevisionGraph, CliError> {
    context.workspace.load_graph().map_err(CliError::from)
}

/// The server of the scratch database: `--dev-url`, else the configured `DATABASE_URL`'s.
pub fn scratch_server(context: &Context, dev: &DevArgs) -> Result<DatabaseUrl, CliError> {
    if let Some(text) = &dev.dev_url {
        let cwd = std::env::current_dir()
            .map_err(|e| CliError::failed(format!("cannot read the current directory: {e}")))?;
        return DatabaseUrl::parse(text, &cwd)
            .map_err(|e| CliError::bad_input(format!("--dev-url: {e}")));
    }
    Ok(context
        .database()
        .map_err(|e| e.with_hint("the schema commands need a dialect and, for PostgreSQL or MySQL, a server to make a scratch database on: set DATABASE_URL, or pass --dev-url URL"))?
        .url)
}

/// The scratch database at the workspace's heads.
pub fn migrate_scratch(
    context: &Context,
    graph: &RevisionGraph,
    server: &DatabaseUrl,
) -> Result<ScratchAtHead, CliError> {
    let table = settings::version_table(&context.workspace)?;
    scratch_at_heads(graph, server, &table, SCRATCH_LOCK_TIMEOUT).map_err(|e| {
        let context_line = format!("migrating a scratch database on {server} to the heads");
        match e {
            ScratchError::Migrate(e) => {
                let mut error = CliError::from(e);
                if let Some(first) = error.problems.first_mut() {
                    first.message = format!("{context_line}: {}", first.message);
                }
                error
            }
            ScratchError::Db(e) => CliError::failed(format!("{context_line}: {e}"))
                .with_hint("--dev-url names a server where this user may create databases"),
            ScratchError::Create(e) => CliError::failed(format!("{context_line}: {e}"))
                .with_hint("--dev-url names a server where this user may create databases"),
        }
    })
}

/// Refuses a diesel view with a column type diesel cannot name (an unknown SQLite type).
fn refuse_unmappable(schema: &DieselSchema, dialect: &str) -> Result<(), CliError> {
    for table in &schema.tables {
        for column in &table.columns {
            if !types::is_diesel_type(&column.ty.name)
                && schema.custom_type(&column.ty.name).is_none()
            {
                return Err(CliError::failed(format!(
                    "column {}.{} has the {dialect} type `{}`, which diesel's print-schema cannot map to a diesel type",
                    table.name, column.sql_name, column.ty.name
                )));
            }
        }
    }
    Ok(())
}

/// A path as the user would write it: relative to the workspace root when inside it.
pub fn shown(context: &Context, path: &Path) -> String {
    path.strip_prefix(&context.workspace.root)
        .unwrap_or(path)
        .display()
        .to_string()
}
