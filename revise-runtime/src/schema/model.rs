//! The schema as diesel sees it: tables of columns with diesel SQL types, primary keys and
//! `joinable!` links. Both a parsed `schema.rs` and a database's catalog (its diesel view) are
//! described in these terms, so that the two can be compared.

use std::fmt;

/// A diesel SQL type as `schema.rs` writes it: `Nullable<Array<Nullable<Unsigned<Name>>>>`
/// with each wrapper optional.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DieselType {
    /// The innermost type's name as written (`Int4`, `Varchar`, `SomeEnum`): the last path
    /// segment, as diesel's own tools read it.
    pub name: String,
    /// `Nullable<...>` around everything.
    pub nullable: bool,
    /// `Array<...>` (PostgreSQL).
    pub array: bool,
    /// `Unsigned<...>` (MySQL).
    pub unsigned: bool,
}

impl DieselType {
    /// A non-null, non-array, signed type of this name.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            nullable: false,
            array: false,
            unsigned: false,
        }
    }

    /// The same type, nullable or not.
    pub fn with_nullable(mut self, nullable: bool) -> Self {
        self.nullable = nullable;
        self
    }
}

/// Written as print-schema writes it: `Nullable<Array<Nullable<Unsigned<Name>>>>`.
impl fmt::Display for DieselType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nullable {
            f.write_str("Nullable<")?;
        }
        if self.array {
            f.write_str("Array<Nullable<")?;
        }
        if self.unsigned {
            f.write_str("Unsigned<")?;
        }
        f.write_str(&self.name)?;
        if self.unsigned {
            f.write_str(">")?;
        }
        if self.array {
            f.write_str(">>")?;
        }
        if self.nullable {
            f.write_str(">")?;
        }
        Ok(())
    }
}

/// A table's name: an optional schema (PostgreSQL; `None` is the connection's default) and
/// the SQL name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableName {
    /// The schema, when not the default one.
    pub schema: Option<String>,
    /// The table's SQL name.
    pub name: String,
}

impl TableName {
    /// A table in the default schema.
    pub fn plain(name: &str) -> Self {
        Self {
            schema: None,
            name: name.to_owned(),
        }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// One column of a diesel table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The SQL name.
    pub sql_name: String,
    /// The Rust name (differs when the SQL name is a keyword or has other characters).
    pub rust_name: String,
    /// Its diesel type.
    pub ty: DieselType,
    /// `#[max_length = N]`.
    pub max_length: Option<u64>,
    /// The line in `schema.rs`, when read from one.
    pub line: Option<usize>,
}

/// One table of a diesel schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// Its SQL name.
    pub name: TableName,
    /// Its Rust name (the `table!` identifier).
    pub rust_name: String,
    /// The primary key's columns, by SQL name, in key order.
    pub primary_key: Vec<String>,
    /// The columns in declaration order.
    pub columns: Vec<Column>,
    /// The line in `schema.rs`, when read from one.
    pub line: Option<usize>,
}

impl Table {
    /// The column with this SQL name.
    pub fn column(&self, sql_name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.sql_name == sql_name)
    }

    /// The column with this Rust name.
    pub fn column_by_rust_name(&self, rust_name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.rust_name == rust_name)
    }
}

/// `joinable!(child -> parent (column))`: the child's column references the parent's single
/// primary-key column.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Joinable {
    /// The referencing table.
    pub child: TableName,
    /// The referenced table.
    pub parent: TableName,
    /// The child's column, by SQL name.
    pub column: String,
    /// The line in `schema.rs`, when read from one.
    pub line: Option<usize>,
}

/// A type of the `sql_types` module (`#[diesel(postgres_type(name = "..."))] pub struct X;`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomType {
    /// The Rust name of the struct.
    pub rust_name: String,
    /// The SQL type's name.
    pub sql_name: String,
    /// Its PostgreSQL schema, when given.
    pub schema: Option<String>,
    /// Declared with `mysql_type` (a MySQL column's own type, such as an `ENUM`) rather than
    /// `postgres_type`.
    pub mysql: bool,
}

/// A whole diesel schema: what a `schema.rs` declares, or what print-schema would print.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DieselSchema {
    /// The tables, in the order they were declared (or sorted by name, from a database).
    pub tables: Vec<Table>,
    /// The `joinable!` links.
    pub joinables: Vec<Joinable>,
    /// The custom SQL types.
    pub custom_types: Vec<CustomType>,
}

impl DieselSchema {
    /// The table with this SQL name.
    pub fn table(&self, name: &TableName) -> Option<&Table> {
        self.tables.iter().find(|t| &t.name == name)
    }

    /// The custom type with this Rust name.
    pub fn custom_type(&self, rust_name: &str) -> Option<&CustomType> {
        self.custom_types.iter().find(|t| t.rust_name == rust_name)
    }
}

/// Names print-schema will not use as Rust identifiers as they are: Rust's keywords and
/// reserved words, and names diesel's `table!` defines itself.
const RESERVED_NAMES: &[&str] = &[
    "abstract",
    "alignof",
    "as",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "crate",
    "do",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "offsetof",
    "override",
    "priv",
    "proc",
    "pub",
    "pure",
    "ref",
    "return",
    "Self",
    "self",
    "sizeof",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
    "bool",
    "table",
    "columns",
    "is_nullable",
];

/// The Rust name print-schema gives an SQL name: a reserved word (or a column named like its
/// table) gets a trailing `_`; other characters than `[A-Za-z0-9_]` become `_`, runs of `_`
/// collapse.
pub fn rust_name_for(sql_name: &str, table_rust_name: Option<&str>) -> String {
    let reserved = RESERVED_NAMES.contains(&sql_name)
        || (sql_name.starts_with("__") && !sql_name.ends_with('_'));
    if reserved || table_rust_name == Some(sql_name) {
        return format!("{sql_name}_");
    }
    if sql_name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return sql_name.to_owned();
    }
    let mut name: String = sql_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    while name.contains("__") {
        name = name.replace("__", "_");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_written_as_print_schema_writes_them() {
        let mut ty = DieselType::named("Text");
        assert_eq!(ty.to_string(), "Text");
        ty.array = true;
        ty.nullable = true;
        assert_eq!(ty.to_string(), "Nullable<Array<Nullable<Text>>>");
        let mut unsigned = DieselType::named("Integer");
        unsigned.unsigned = true;
        assert_eq!(unsigned.to_string(), "Unsigned<Integer>");
    }

    #[test]
    fn rust_names_follow_print_schema() {
        assert_eq!(rust_name_for("type", None), "type_");
        assert_eq!(rust_name_for("users", Some("users")), "users_");
        assert_eq!(rust_name_for("first name", None), "first_name");
        assert_eq!(rust_name_for("a--b", None), "a_b");
        assert_eq!(rust_name_for("plain", Some("t")), "plain");
    }
}
