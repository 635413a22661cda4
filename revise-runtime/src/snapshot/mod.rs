//! A snapshot of a schema, as the stairway test compares it: every table, column, index, constraint,
//! view, function, trigger and sequence, each with a normalised text definition read from
//! the database's catalog (`catalog.rs`, one set of queries per dialect), and the
//! differences between two such descriptions (`compare.rs`).
//!
//! Definitions are what the catalog says (PostgreSQL's `pg_get_viewdef`, SQLite's stored
//! `CREATE` text, MySQL's `information_schema`), so two definitions differ exactly when
//! the database would show the user two different things. Comparison ignores white space
//! and letter case outside quotes, which the databases keep as written (SQLite) but which
//! change nothing.

pub(crate) mod catalog;
mod compare;

use std::collections::BTreeMap;
use std::fmt;

pub use compare::{compare, Change, ObjectDifference};

/// The kinds of object a schema description holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    /// A table; its definition lists its columns when shown.
    Table,
    /// A table's column: type, nullability, default, identity.
    Column,
    /// An index, primary and unique ones included.
    Index,
    /// A primary key, unique, foreign key or check constraint.
    Constraint,
    /// A view (or materialized view) and its query.
    View,
    /// A function or procedure and its body.
    Function,
    /// A trigger.
    Trigger,
    /// A sequence and its parameters (not its current value: that is data).
    Sequence,
}

impl ObjectKind {
    /// Every kind, in the order descriptions list them.
    pub const ALL: [ObjectKind; 8] = [
        ObjectKind::Table,
        ObjectKind::Column,
        ObjectKind::Index,
        ObjectKind::Constraint,
        ObjectKind::View,
        ObjectKind::Function,
        ObjectKind::Trigger,
        ObjectKind::Sequence,
    ];

    /// The word users know it by (`table`, `column`, ...), as the catalog queries spell it.
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::Index => "index",
            ObjectKind::Constraint => "constraint",
            ObjectKind::View => "view",
            ObjectKind::Function => "function",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Sequence => "sequence",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One object of a schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaObject {
    /// What it is.
    pub kind: ObjectKind,
    /// Its name; `table.column` for a column, `table.name` for constraints and triggers
    /// (whose names are per table).
    pub name: String,
    /// The table it belongs to (goes away with), if any.
    pub table: Option<String>,
    /// Its definition, normalised: LF line ends, no trailing white space, no blank lines
    /// at either end.
    pub definition: String,
}

/// A schema: its objects by kind and name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    objects: BTreeMap<(ObjectKind, String), SchemaObject>,
}

impl Schema {
    /// A schema of these objects. Two objects of one kind and name (MariaDB names a
    /// column's check constraint after the column, in every table that has one) become
    /// one, whose definition lists both.
    pub fn new(objects: impl IntoIterator<Item = SchemaObject>) -> Self {
        let mut schema = Self::default();
        for mut object in objects {
            object.definition = normalise(&object.definition);
            let key = (object.kind, object.name.clone());
            match schema.objects.get_mut(&key) {
                Some(existing) => {
                    let mut both = [existing.definition.as_str(), &object.definition];
                    both.sort_unstable();
                    existing.definition = both.join("\n");
                }
                None => {
                    schema.objects.insert(key, object);
                }
            }
        }
        schema
    }

    /// Reads a description from catalog rows: kind, name, table (empty for none) and
    /// definition. Rows of an unknown kind are a bug in a catalog query.
    pub(crate) fn from_rows(rows: Vec<catalog::CatalogRow>) -> Result<Self, String> {
        let mut objects = Vec::with_capacity(rows.len());
        for row in rows {
            let kind = ObjectKind::from_name(&row.kind)
                .ok_or_else(|| format!("the catalog query returned a `{}` object", row.kind))?;
            objects.push(SchemaObject {
                kind,
                name: row.name,
                table: row.parent.filter(|p| !p.is_empty()),
                definition: row.definition.unwrap_or_default(),
            });
        }
        Ok(Self::new(objects))
    }

    /// Every object, by kind then name.
    pub fn objects(&self) -> impl Iterator<Item = &SchemaObject> {
        self.objects.values()
    }

    /// One object.
    pub fn get(&self, kind: ObjectKind, name: &str) -> Option<&SchemaObject> {
        self.objects.get(&(kind, name.to_owned()))
    }

    /// How many objects it holds.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// True when it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The schema without a table and everything that belongs to it (the version table).
    pub fn without_table(mut self, table: &str) -> Self {
        self.objects.retain(|(kind, name), object| {
            !(*kind == ObjectKind::Table && name == table) && object.table.as_deref() != Some(table)
        });
        self
    }

    /// What a table is made of, as one text: its columns (`name definition`), then its
    /// indexes, constraints, triggers and sequences (`kind name: definition`).
    pub fn table_definition(&self, table: &str) -> String {
        let mut lines = Vec::new();
        for object in self.objects().filter(|o| o.table.as_deref() == Some(table)) {
            let short = object
                .name
                .strip_prefix(table)
                .and_then(|rest| rest.strip_prefix('.'))
                .unwrap_or(&object.name);
            lines.push(match object.kind {
                ObjectKind::Column => format!("{short} {}", object.definition),
                kind => format!("{kind} {short}: {}", object.definition),
            });
        }
        lines.join("\n")
    }
}

/// LF line ends, no trailing white space on any line, no blank lines at either end.
fn normalise(definition: &str) -> String {
    let lines: Vec<&str> = definition.split('\n').map(|line| line.trim_end()).collect();
    lines.join("\n").trim_matches('\n').to_owned()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An object for a test, its definition as given.
    pub(crate) fn object(
        kind: ObjectKind,
        name: &str,
        table: Option<&str>,
        definition: &str,
    ) -> SchemaObject {
        SchemaObject {
            kind,
            name: name.into(),
            table: table.map(Into::into),
            definition: definition.into(),
        }
    }

    #[test]
    fn definitions_are_normalised_and_same_named_objects_merged() {
        let schema = Schema::new([
            object(
                ObjectKind::View,
                "v",
                None,
                "\r\nSELECT 1  \r\n  FROM t\t\n\n",
            ),
            object(ObjectKind::Constraint, "check a", None, "CHECK (a > 1)"),
            object(ObjectKind::Constraint, "check a", None, "CHECK (a > 0)"),
        ]);
        assert_eq!(
            schema
                .get(ObjectKind::View, "v")
                .map(|o| o.definition.as_str()),
            Some("SELECT 1\n  FROM t")
        );
        assert_eq!(
            schema
                .get(ObjectKind::Constraint, "check a")
                .map(|o| o.definition.as_str()),
            Some("CHECK (a > 0)\nCHECK (a > 1)")
        );
    }

    #[test]
    fn a_table_goes_with_what_belongs_to_it() {
        let schema = Schema::new([
            object(ObjectKind::Table, "alembic_version", None, ""),
            object(
                ObjectKind::Column,
                "alembic_version.version_num",
                Some("alembic_version"),
                "varchar(32)",
            ),
            object(
                ObjectKind::Index,
                "alembic_version_pkc",
                Some("alembic_version"),
                "...",
            ),
            object(ObjectKind::Table, "t", None, ""),
            object(ObjectKind::Column, "t.a", Some("t"), "integer NOT NULL"),
            object(
                ObjectKind::Index,
                "t_a",
                Some("t"),
                "CREATE INDEX t_a ON t (a)",
            ),
        ]);
        let schema = schema.without_table("alembic_version");
        assert_eq!(schema.len(), 3);
        assert_eq!(
            schema.table_definition("t"),
            "a integer NOT NULL\nindex t_a: CREATE INDEX t_a ON t (a)"
        );
    }
}
