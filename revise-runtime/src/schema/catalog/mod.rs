//! What a database holds, read from its own catalog, in two views:
//!
//! - the full view ([`Catalog`]): everything needed to rebuild a table, column, index or
//!   constraint exactly (types as the database writes them, defaults, identity and serial,
//!   indexes, unique and check constraints, foreign keys, triggers), from which generated
//!   down sections are written (the self-test compares whole schemas with the stairway
//!   test's `snapshot`);
//! - diesel's view ([`Catalog::diesel_schema`]): what diesel 2.3's `print-schema` would print
//!   for the same tables, from which `schema` writes and which `check --schema` compares.
//!
//! One reader per backend (`sqlite.rs`, `postgres.rs`, `mysql.rs`) fills the full view; the
//! diesel view is derived from it here.

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "mysql")]
pub(crate) use mysql::table_names as mysql_table_names;
#[cfg(feature = "postgres")]
pub(crate) use postgres::table_names as postgres_table_names;
#[cfg(feature = "sqlite")]
pub(crate) use sqlite::table_names as sqlite_table_names;

use crate::backend::{DatabaseConnection, DbError, Dialect, Native};

use super::model::{
    rust_name_for, Column, CustomType, DieselSchema, DieselType, Joinable, Table, TableName,
};

/// Every user table of a database (the version and log tables included: callers leave out
/// what they must not touch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Catalog {
    /// The database's dialect.
    pub dialect: Dialect,
    /// The tables, sorted by name.
    pub tables: Vec<CatalogTable>,
    /// The PostgreSQL types that are not diesel's (enums, domains...), by (schema, name),
    /// so a custom type of schema.rs can be checked to exist.
    pub custom_types: Vec<(Option<String>, String)>,
}

/// One table in full.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogTable {
    /// Its name.
    pub name: TableName,
    /// Its columns, in their order in the table.
    pub columns: Vec<CatalogColumn>,
    /// The primary key, if any.
    pub primary_key: Option<KeyConstraint>,
    /// Its foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
    /// Unique and check constraints (not the primary key, not foreign keys).
    pub constraints: Vec<KeyConstraint>,
    /// Indexes that back no constraint.
    pub indexes: Vec<Index>,
    /// Trigger definitions, each a complete statement.
    pub triggers: Vec<String>,
    /// The statement that recreates the table alone (columns, keys, constraints; foreign
    /// keys only on SQLite, which cannot add them later): SQLite's own `sqlite_master.sql`,
    /// MySQL's `SHOW CREATE TABLE` without its foreign keys, and on PostgreSQL one built from
    /// the catalog.
    pub create_sql: String,
}

/// One column in full.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogColumn {
    /// Its name.
    pub name: String,
    /// The type as the database writes it (`character varying(20)`, `int(11) unsigned`,
    /// SQLite's declared type).
    pub sql_type: String,
    /// Whether it accepts NULL.
    pub nullable: bool,
    /// Its default expression, as the database writes it.
    pub default: Option<String>,
    /// How its values are generated, if they are: `identity by default`, `identity always`,
    /// `serial`, `auto_increment`, `rowid`, or `generated: <expression>`.
    pub generated: Option<String>,
    /// The column's definition, to add it again exactly (`"c" integer DEFAULT 0 NOT NULL`).
    pub definition: String,
    /// print-schema's diesel type for it.
    pub diesel_type: DieselType,
    /// print-schema's `#[max_length]`.
    pub max_length: Option<u64>,
    /// The database's own type this column has, when it is not one of diesel's (PostgreSQL
    /// enums and the like; print-schema declares them in `sql_types`).
    pub custom_type: Option<CustomType>,
}

/// A primary key, unique or check constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyConstraint {
    /// Its name, where the database keeps one.
    pub name: Option<String>,
    /// The columns it is on (empty for a check).
    pub columns: Vec<String>,
    /// Its definition (`UNIQUE (a, b)`, `CHECK (x > 0)`), as the database writes it.
    pub definition: String,
}

/// A foreign key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignKey {
    /// Its name, where the database keeps one.
    pub name: Option<String>,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub parent: TableName,
    /// The referenced columns (empty on SQLite when the parent's key is implied).
    pub parent_columns: Vec<String>,
    /// Its definition (`FOREIGN KEY (a) REFERENCES p(id) ON DELETE CASCADE`).
    pub definition: String,
}

/// An index that backs no constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// The columns it covers (expressions leave theirs out).
    pub columns: Vec<String>,
    /// The statement that creates it.
    pub definition: String,
}

impl Catalog {
    /// Reads the catalog of the database `conn` is connected to.
    pub fn read(conn: &mut DatabaseConnection) -> Result<Self, DbError> {
        match conn.native() {
            #[cfg(feature = "sqlite")]
            Native::Sqlite(c) => sqlite::read(c),
            #[cfg(feature = "postgres")]
            Native::Postgres(c) => postgres::read(c),
            #[cfg(feature = "mysql")]
            Native::Mysql(c) => mysql::read(c),
        }
    }

    /// The table of this name.
    pub fn table(&self, name: &TableName) -> Option<&CatalogTable> {
        self.tables.iter().find(|t| &t.name == name)
    }

    /// The names of the tables, sorted.
    pub fn table_names(&self) -> Vec<TableName> {
        self.tables.iter().map(|t| t.name.clone()).collect()
    }

    /// What diesel's print-schema would print for `tables` (all when `None`).
    pub fn diesel_schema(&self, tables: Option<&[TableName]>) -> DieselSchema {
        let chosen: Vec<&CatalogTable> = self
            .tables
            .iter()
            .filter(|t| tables.is_none_or(|names| names.contains(&t.name)))
            .collect();
        let mut schema = DieselSchema::default();
        for table in &chosen {
            schema.tables.push(table.diesel_table());
        }
        schema.joinables = joinables(&chosen);
        schema.custom_types = custom_types_used(&chosen);
        schema
    }
}

impl CatalogTable {
    /// The column of this name.
    pub fn column(&self, name: &str) -> Option<&CatalogColumn> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The primary key's columns (empty when there is none).
    pub fn primary_key_columns(&self) -> &[String] {
        self.primary_key.as_ref().map_or(&[], |k| &k.columns)
    }

    fn diesel_table(&self) -> Table {
        let rust_name = rust_name_for(&self.name.name, None);
        Table {
            name: self.name.clone(),
            primary_key: self.primary_key_columns().to_vec(),
            columns: self
                .columns
                .iter()
                .map(|c| Column {
                    sql_name: c.name.clone(),
                    rust_name: rust_name_for(&c.name, Some(&rust_name)),
                    ty: c.diesel_type.clone(),
                    max_length: c.max_length,
                    line: None,
                })
                .collect(),
            rust_name,
            line: None,
        }
    }
}

/// print-schema's `joinable!`s: single-column foreign keys between two different tables of
/// the printed set that reference the parent's single-column primary key, when only one
/// foreign key links that pair.
fn joinables(tables: &[&CatalogTable]) -> Vec<Joinable> {
    let pair = |fk: &ForeignKey, child: &TableName| {
        let mut pair = [child.clone(), fk.parent.clone()];
        pair.sort();
        pair
    };
    let all: Vec<(&TableName, &ForeignKey)> = tables
        .iter()
        .flat_map(|t| t.foreign_keys.iter().map(move |fk| (&t.name, fk)))
        .collect();
    let mut found: Vec<Joinable> = all
        .iter()
        .filter(|(child, fk)| {
            let Some(parent) = tables.iter().find(|t| t.name == fk.parent) else {
                return false;
            };
            let parent_key = parent.primary_key_columns();
            let references_key = fk.parent_columns.is_empty() || fk.parent_columns == parent_key;
            fk.parent != **child
                && fk.columns.len() == 1
                && parent_key.len() == 1
                && references_key
                && all
                    .iter()
                    .filter(|(c, other)| pair(other, c) == pair(fk, child))
                    .count()
                    == 1
        })
        .map(|(child, fk)| Joinable {
            child: (*child).clone(),
            parent: fk.parent.clone(),
            column: fk.columns[0].clone(),
            line: None,
        })
        .collect();
    found.sort();
    found
}

/// The custom types the chosen tables' columns use (PostgreSQL's enums and other types of
/// the database's own), as print-schema's `sql_types` module declares them.
fn custom_types_used(tables: &[&CatalogTable]) -> Vec<CustomType> {
    let mut custom: Vec<CustomType> = Vec::new();
    for column in tables.iter().flat_map(|t| &t.columns) {
        if let Some(ty) = &column.custom_type {
            if !custom.iter().any(|c| c.rust_name == ty.rust_name) {
                custom.push(ty.clone());
            }
        }
    }
    custom.sort_by(|a, b| a.rust_name.cmp(&b.rust_name));
    custom
}
