//! What differs between two schema descriptions, object by object.
//!
//! A table that exists on one side only is one difference, shown with what it is made of;
//! its columns, indexes and the rest are not listed again one by one.

use std::collections::BTreeSet;

use super::{ObjectKind, Schema, SchemaObject};

/// How an object differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Only the first schema has it.
    Removed,
    /// Only the second schema has it.
    Added,
    /// Both have it, defined differently.
    Changed,
}

impl Change {
    /// `removed`, `added`, `changed`.
    pub fn name(self) -> &'static str {
        match self {
            Change::Removed => "removed",
            Change::Added => "added",
            Change::Changed => "changed",
        }
    }
}

/// One object that differs between two schemas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectDifference {
    /// What it is.
    pub kind: ObjectKind,
    /// Its name.
    pub name: String,
    /// How it differs.
    pub change: Change,
    /// Its definition in the first schema (a table's: its columns and the rest).
    pub before: Option<String>,
    /// Its definition in the second schema.
    pub after: Option<String>,
}

/// The objects that differ from `before` to `after`, by kind then name.
pub fn compare(before: &Schema, after: &Schema) -> Vec<ObjectDifference> {
    let tables_only_in = |one: &Schema, other: &Schema| -> BTreeSet<String> {
        one.objects()
            .filter(|o| o.kind == ObjectKind::Table)
            .filter(|o| other.get(ObjectKind::Table, &o.name).is_none())
            .map(|o| o.name.clone())
            .collect()
    };
    let removed_tables = tables_only_in(before, after);
    let added_tables = tables_only_in(after, before);
    let folded = |object: &SchemaObject, tables: &BTreeSet<String>| {
        object.table.as_ref().is_some_and(|t| tables.contains(t))
    };
    let shown = |schema: &Schema, object: &SchemaObject| match object.kind {
        ObjectKind::Table => schema.table_definition(&object.name),
        _ => object.definition.clone(),
    };
    let mut differences = Vec::new();
    for object in before.objects() {
        if folded(object, &removed_tables) {
            continue;
        }
        match after.get(object.kind, &object.name) {
            None => differences.push(ObjectDifference {
                kind: object.kind,
                name: object.name.clone(),
                change: Change::Removed,
                before: Some(shown(before, object)),
                after: None,
            }),
            Some(other) if !same_definition(&object.definition, &other.definition) => differences
                .push(ObjectDifference {
                    kind: object.kind,
                    name: object.name.clone(),
                    change: Change::Changed,
                    before: Some(object.definition.clone()),
                    after: Some(other.definition.clone()),
                }),
            Some(_) => {}
        }
    }
    for object in after.objects() {
        if folded(object, &added_tables) || before.get(object.kind, &object.name).is_some() {
            continue;
        }
        differences.push(ObjectDifference {
            kind: object.kind,
            name: object.name.clone(),
            change: Change::Added,
            before: None,
            after: Some(shown(after, object)),
        });
    }
    differences.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    differences
}

/// Whether two definitions say the same thing: equal once white space and letter case
/// outside quotes are ignored (SQLite keeps `CREATE INDEX` text as written, so a down
/// that re-creates an index with other spacing re-creates the same index).
fn same_definition(a: &str, b: &str) -> bool {
    a == b || canonical(a) == canonical(b)
}

/// `definition` with runs of white space outside quotes reduced to one space (none next
/// to punctuation) and letters outside quotes in lower case.
fn canonical(definition: &str) -> String {
    let mut out = String::with_capacity(definition.len());
    let mut quote: Option<char> = None;
    let mut pending_space = false;
    for c in definition.chars() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        let punctuation = matches!(c, '(' | ')' | ',' | ';' | '=');
        let after_punctuation = out
            .chars()
            .last()
            .is_none_or(|last| matches!(last, '(' | ')' | ',' | ';' | '='));
        if pending_space && !punctuation && !after_punctuation {
            out.push(' ');
        }
        pending_space = false;
        if matches!(c, '\'' | '"' | '`') {
            quote = Some(c);
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::tests::object;

    fn base() -> Vec<SchemaObject> {
        vec![
            object(ObjectKind::Table, "t", None, ""),
            object(ObjectKind::Column, "t.a", Some("t"), "integer DEFAULT 1"),
            object(
                ObjectKind::Index,
                "t_a",
                Some("t"),
                "CREATE INDEX t_a ON t (a)",
            ),
            object(ObjectKind::View, "v", None, "SELECT a\nFROM t"),
        ]
    }

    #[test]
    fn the_same_schema_has_no_differences_even_spaced_otherwise() {
        let mut respaced = base();
        respaced[2].definition = "create index t_a on t(a)".into();
        assert_eq!(compare(&Schema::new(base()), &Schema::new(respaced)), []);
    }

    #[test]
    fn a_changed_default_a_missing_index_and_a_new_view_are_each_named() {
        let mut after = base();
        after[1].definition = "integer DEFAULT 2".into();
        after.remove(2);
        after.push(object(ObjectKind::View, "w", None, "SELECT 1"));
        let differences = compare(&Schema::new(base()), &Schema::new(after));
        let named: Vec<(ObjectKind, &str, Change)> = differences
            .iter()
            .map(|d| (d.kind, d.name.as_str(), d.change))
            .collect();
        assert_eq!(
            named,
            [
                (ObjectKind::Column, "t.a", Change::Changed),
                (ObjectKind::Index, "t_a", Change::Removed),
                (ObjectKind::View, "w", Change::Added),
            ]
        );
        assert_eq!(differences[0].before.as_deref(), Some("integer DEFAULT 1"));
        assert_eq!(differences[0].after.as_deref(), Some("integer DEFAULT 2"));
    }

    #[test]
    fn a_missing_table_is_one_difference_listing_what_it_held() {
        let after = vec![base().remove(3)];
        let differences = compare(&Schema::new(base()), &Schema::new(after));
        assert_eq!(differences.len(), 1, "{differences:#?}");
        assert_eq!(differences[0].kind, ObjectKind::Table);
        assert_eq!(differences[0].change, Change::Removed);
        assert_eq!(
            differences[0].before.as_deref(),
            Some("a integer DEFAULT 1\nindex t_a: CREATE INDEX t_a ON t (a)")
        );
    }

    #[test]
    fn quoted_text_keeps_its_case_and_spaces() {
        assert!(same_definition("DEFAULT 'a  b'", "default  'a  b'"));
        assert!(!same_definition("DEFAULT 'a  b'", "DEFAULT 'a b'"));
        assert!(!same_definition("DEFAULT 'A'", "DEFAULT 'a'"));
        assert!(!same_definition("SELECT ab", "SELECT a b"));
    }
}
