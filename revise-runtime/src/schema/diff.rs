//! What differs between a member's `schema.rs` and the tables its revisions produce.
//!
//! Compared (SPEC section 9): tables, columns, their diesel types (after aliases and the
//! backend's folds, [`ColumnKind`]), nullability, primary keys, and the foreign key each
//! `joinable!` asserts. Not compared, because diesel's schema cannot say them: defaults,
//! indexes, unique and check constraints, precision, identity, column order, and the absence
//! of a `joinable!` (print-schema leaves many foreign keys out).
//!
//! Only the member's own tables (those its revisions created) and the tables its schema file
//! names take part; the version table and the log table never do. A difference in a table of
//! another member is kept, marked with that member, so `check --schema` can name it and the
//! generator can leave it alone.

use std::collections::BTreeMap;
use std::fmt;

use crate::backend::Dialect;

use super::catalog::{Catalog, CatalogColumn, CatalogTable};
use super::model::{Column, DieselSchema, Joinable, Table, TableName};
use super::types::ColumnKind;

/// What the comparison needs besides the two schemas.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// The tables the member's revisions created.
    pub owned: Vec<TableName>,
    /// Every table's owner (a member's branch label), for naming other members' tables.
    pub owners: BTreeMap<TableName, String>,
    /// Tables never compared nor touched: the version table, the log table.
    pub excluded: Vec<TableName>,
    /// `--rename-table OLD=NEW`: the database's `OLD` is the schema file's `NEW`.
    pub table_renames: Vec<(TableName, TableName)>,
    /// `--rename-column TABLE.OLD=NEW`, with TABLE as the schema file names it.
    pub column_renames: Vec<(TableName, String, String)>,
}

/// One difference, described from the schema file's side: what the revisions would have to
/// do to make the database match it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// The schema file has a table the database lacks.
    CreateTable(Table),
    /// The database has a table of the member that the schema file lacks.
    DropTable(TableName),
    /// `--rename-table`.
    RenameTable {
        /// The database's name.
        from: TableName,
        /// The schema file's name.
        to: TableName,
    },
    /// The schema file has a column the table lacks.
    AddColumn {
        /// The table.
        table: TableName,
        /// The column as the schema file declares it.
        column: Column,
    },
    /// The table has a column the schema file lacks.
    DropColumn {
        /// The table.
        table: TableName,
        /// The column's name.
        column: String,
    },
    /// `--rename-column`.
    RenameColumn {
        /// The table (the schema file's name).
        table: TableName,
        /// The database's name.
        from: String,
        /// The schema file's name.
        to: String,
    },
    /// A column both have, with another type or nullability.
    AlterColumn {
        /// The table.
        table: TableName,
        /// The column as the schema file declares it.
        column: Column,
        /// Whether the type differs.
        type_changed: bool,
        /// Whether the nullability differs.
        nullability_changed: bool,
    },
    /// Another primary key.
    ChangePrimaryKey {
        /// The table.
        table: TableName,
        /// The key the schema file declares.
        wanted: Vec<String>,
        /// The key the database has.
        found: Vec<String>,
    },
    /// A `joinable!` whose foreign key the database lacks.
    AddForeignKey(Joinable),
}

/// A change, and the member that owns its table when that is not the member compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The change.
    pub change: Change,
    /// `Some(member)` when the table belongs to another member: reported, never generated.
    pub other_member: Option<String>,
    /// How the two sides describe it, for the report: (schema file, database).
    pub sides: Option<(String, String)>,
}

impl Change {
    /// The table the change is about (the schema file's name).
    pub fn table(&self) -> &TableName {
        match self {
            Change::CreateTable(t) => &t.name,
            Change::DropTable(t) => t,
            Change::RenameTable { to, .. } => to,
            Change::AddColumn { table, .. }
            | Change::DropColumn { table, .. }
            | Change::RenameColumn { table, .. }
            | Change::AlterColumn { table, .. }
            | Change::ChangePrimaryKey { table, .. } => table,
            Change::AddForeignKey(j) => &j.child,
        }
    }
}

/// `check --schema`'s line: `+` what the schema file has and the revisions do not produce,
/// `-` the reverse, `~` both have it, differently.
impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.change {
            Change::CreateTable(t) => write!(f, "+ table {}", t.name)?,
            Change::DropTable(t) => write!(f, "- table {t}")?,
            Change::RenameTable { from, to } => write!(f, "~ table {to}: renamed from {from}")?,
            Change::AddColumn { table, column } => {
                write!(f, "+ column {table}.{}: {}", column.sql_name, column.ty)?;
            }
            Change::DropColumn { table, column } => write!(f, "- column {table}.{column}")?,
            Change::RenameColumn { table, from, to } => {
                write!(f, "~ column {table}.{to}: renamed from {from}")?;
            }
            Change::AlterColumn { table, column, .. } => {
                write!(f, "~ column {table}.{}", column.sql_name)?;
                if let Some((ours, theirs)) = &self.sides {
                    write!(f, ": {ours} (schema file) vs {theirs} (database)")?;
                }
            }
            Change::ChangePrimaryKey {
                table,
                wanted,
                found,
            } => write!(
                f,
                "~ table {table}: primary key ({}) (schema file) vs ({}) (database)",
                wanted.join(", "),
                found.join(", ")
            )?,
            Change::AddForeignKey(j) => write!(
                f,
                "+ foreign key {}.{} -> {} (joinable!)",
                j.child, j.column, j.parent
            )?,
        }
        if let Some(member) = &self.other_member {
            write!(f, " [table of member `{member}`]")?;
        }
        Ok(())
    }
}

/// Compares the schema file `wanted` with the database `catalog`.
pub fn compare(wanted: &DieselSchema, catalog: &Catalog, scope: &Scope) -> Vec<Difference> {
    let dialect = catalog.dialect;
    let theirs = catalog.diesel_schema(None);
    let mut found = Vec::new();
    let excluded = |name: &TableName| scope.excluded.contains(name);
    let mut compared_db_tables: Vec<TableName> = Vec::new();
    for table in wanted.tables.iter().filter(|t| !excluded(&t.name)) {
        let renamed_from = scope
            .table_renames
            .iter()
            .find(|(_, to)| to == &table.name)
            .map(|(from, _)| from)
            .filter(|from| catalog.table(&table.name).is_none() && catalog.table(from).is_some());
        let db_name = renamed_from.unwrap_or(&table.name);
        let Some(db_table) = catalog.table(db_name) else {
            found.push(plain(Change::CreateTable(table.clone())));
            continue;
        };
        compared_db_tables.push(db_name.clone());
        let owner = scope
            .owners
            .get(db_name)
            .filter(|_| !scope.owned.contains(db_name))
            .cloned();
        let mut changes = Vec::new();
        if let Some(from) = renamed_from {
            changes.push(plain(Change::RenameTable {
                from: from.clone(),
                to: table.name.clone(),
            }));
        }
        compare_table(
            table,
            db_table,
            wanted,
            &theirs,
            dialect,
            scope,
            &mut changes,
        );
        for mut change in changes {
            change.other_member = owner.clone();
            found.push(change);
        }
    }
    for name in &scope.owned {
        let renamed = scope.table_renames.iter().any(|(from, _)| from == name)
            && compared_db_tables.contains(name);
        if !excluded(name)
            && wanted.table(name).is_none()
            && !renamed
            && catalog.table(name).is_some()
        {
            found.push(plain(Change::DropTable(name.clone())));
        }
    }
    for joinable in &wanted.joinables {
        if excluded(&joinable.child) {
            continue;
        }
        let child_db = scope
            .table_renames
            .iter()
            .find(|(_, to)| to == &joinable.child)
            .map_or(&joinable.child, |(from, _)| from);
        let Some(child) = catalog
            .table(child_db)
            .or_else(|| catalog.table(&joinable.child))
        else {
            // A new table: its CREATE TABLE carries the key.
            continue;
        };
        if has_foreign_key(child, joinable, wanted, catalog) {
            continue;
        }
        let owner = scope
            .owners
            .get(&child.name)
            .filter(|_| !scope.owned.contains(&child.name))
            .cloned();
        found.push(Difference {
            change: Change::AddForeignKey(joinable.clone()),
            other_member: owner,
            sides: None,
        });
    }
    found
}

fn plain(change: Change) -> Difference {
    Difference {
        change,
        other_member: None,
        sides: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn compare_table(
    table: &Table,
    db: &CatalogTable,
    wanted: &DieselSchema,
    theirs: &DieselSchema,
    dialect: Dialect,
    scope: &Scope,
    out: &mut Vec<Difference>,
) {
    let renames: Vec<(&String, &String)> = scope
        .column_renames
        .iter()
        .filter(|(t, _, _)| t == &table.name)
        .map(|(_, from, to)| (from, to))
        .collect();
    let db_name_of = |wanted_name: &str| -> String {
        renames
            .iter()
            .find(|(from, to)| {
                to.as_str() == wanted_name
                    && db.column(wanted_name).is_none()
                    && db.column(from).is_some()
            })
            .map_or_else(|| wanted_name.to_owned(), |(from, _)| (*from).clone())
    };
    let mut matched: Vec<String> = Vec::new();
    for column in &table.columns {
        let db_column_name = db_name_of(&column.sql_name);
        let Some(db_column) = db.column(&db_column_name) else {
            out.push(plain(Change::AddColumn {
                table: table.name.clone(),
                column: column.clone(),
            }));
            continue;
        };
        matched.push(db_column_name.clone());
        if db_column_name != column.sql_name {
            out.push(plain(Change::RenameColumn {
                table: table.name.clone(),
                from: db_column_name.clone(),
                to: column.sql_name.clone(),
            }));
        }
        if let Some(diff) = compare_column(table, column, db_column, wanted, theirs, dialect) {
            out.push(diff);
        }
    }
    for db_column in &db.columns {
        if !matched.contains(&db_column.name) {
            out.push(plain(Change::DropColumn {
                table: table.name.clone(),
                column: db_column.name.clone(),
            }));
        }
    }
    let found_key = db.primary_key_columns();
    let wanted_key: Vec<String> = table.primary_key.iter().map(|c| db_name_of(c)).collect();
    if !found_key.is_empty() && found_key != wanted_key.as_slice() {
        out.push(plain(Change::ChangePrimaryKey {
            table: table.name.clone(),
            wanted: table.primary_key.clone(),
            found: found_key.to_vec(),
        }));
    }
}

fn compare_column(
    table: &Table,
    column: &Column,
    db: &CatalogColumn,
    wanted: &DieselSchema,
    theirs: &DieselSchema,
    dialect: Dialect,
) -> Option<Difference> {
    let ours = ColumnKind::of(&column.ty, column.max_length, dialect, &wanted.custom_types);
    let found = ColumnKind::of(
        &db.diesel_type,
        db.max_length,
        dialect,
        &theirs.custom_types,
    );
    let type_changed = (&ours.base, ours.array, ours.unsigned, ours.max_length)
        != (&found.base, found.array, found.unsigned, found.max_length);
    // A SQLite rowid alias is never NULL, whatever the schema file (or the pragma) says.
    let nullability_changed =
        ours.nullable != found.nullable && db.generated.as_deref() != Some("rowid");
    if !type_changed && !nullability_changed {
        return None;
    }
    Some(Difference {
        change: Change::AlterColumn {
            table: table.name.clone(),
            column: column.clone(),
            type_changed,
            nullability_changed,
        },
        other_member: None,
        sides: Some((
            describe(&column.ty.to_string(), column.max_length),
            describe(&db.diesel_type.to_string(), db.max_length),
        )),
    })
}

fn describe(ty: &str, max_length: Option<u64>) -> String {
    match max_length {
        Some(n) => format!("{ty} (max_length {n})"),
        None => ty.to_owned(),
    }
}

/// Whether the child table has the foreign key `joinable` asserts: its column referencing
/// the parent's single-column primary key.
fn has_foreign_key(
    child: &CatalogTable,
    joinable: &Joinable,
    wanted: &DieselSchema,
    catalog: &Catalog,
) -> bool {
    let parent_key: Vec<String> = wanted
        .table(&joinable.parent)
        .map(|t| t.primary_key.clone())
        .or_else(|| {
            catalog
                .table(&joinable.parent)
                .map(|t| t.primary_key_columns().to_vec())
        })
        .unwrap_or_default();
    child.foreign_keys.iter().any(|fk| {
        fk.columns == [joinable.column.clone()]
            && fk.parent == joinable.parent
            && (fk.parent_columns.is_empty() || fk.parent_columns == parent_key)
    })
}
