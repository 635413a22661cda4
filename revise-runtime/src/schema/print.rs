//! Writing a diesel schema as diesel 2.3's `print-schema` writes it (after its rustfmt pass),
//! without doc comments: the `sql_types` module of custom types, one `diesel::table!` per
//! table sorted by name, `diesel::joinable!` for each single-column foreign key, and
//! `diesel::allow_tables_to_appear_in_same_query!`. The output is byte-stable.

use std::fmt::Write;

use super::model::{DieselSchema, Table, TableName};

/// What `print-schema` writes first.
const HEADER: &str = "// @generated automatically by Diesel CLI.\n";

/// The derives `diesel setup` configures for custom types, plus the one print-schema adds.
const CUSTOM_TYPE_DERIVES: &str =
    "diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType";

/// rustfmt's line width, which decides whether `allow_tables_to_appear_in_same_query!` fits
/// on one line.
const MAX_WIDTH: usize = 100;

/// The schema file's text for `schema`. Tables in a PostgreSQL schema other than the default
/// one go into a `pub mod <schema>` as print-schema's `schema` setting writes them.
pub fn print_schema(schema: &DieselSchema) -> String {
    let mut out = String::from(HEADER);
    let mut groups: Vec<Option<&str>> = schema
        .tables
        .iter()
        .map(|t| t.name.schema.as_deref())
        .collect();
    groups.sort();
    groups.dedup();
    if groups.is_empty() {
        groups.push(None);
    }
    for group in groups {
        out.push('\n');
        match group {
            None => out.push_str(&print_group(schema, None, 0)),
            Some(name) => {
                let _ = writeln!(out, "pub mod {name} {{");
                out.push_str(&print_group(schema, Some(name), 4));
                out.push_str("}\n");
            }
        }
    }
    out
}

/// The tables of one PostgreSQL schema, indented by `indent`.
fn print_group(schema: &DieselSchema, group: Option<&str>, indent: usize) -> String {
    let mut tables: Vec<&Table> = schema
        .tables
        .iter()
        .filter(|t| t.name.schema.as_deref() == group)
        .collect();
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let custom = used_custom_types(schema, &tables);
    let mut blocks: Vec<String> = Vec::new();
    if !custom.is_empty() {
        blocks.push(custom_types_module(schema, &custom));
    }
    for table in &tables {
        blocks.push(table_block(table, &custom));
    }
    let mut text = blocks.join("\n");
    let rust_name = |name: &TableName| {
        tables
            .iter()
            .find(|t| &t.name == name)
            .map(|t| t.rust_name.clone())
    };
    let mut joinables: Vec<String> = schema
        .joinables
        .iter()
        .filter_map(|j| {
            let child = rust_name(&j.child)?;
            let parent = rust_name(&j.parent)?;
            let column = tables
                .iter()
                .find(|t| t.name == j.child)?
                .column(&j.column)?
                .rust_name
                .clone();
            Some(format!(
                "diesel::joinable!({child} -> {parent} ({column}));\n"
            ))
        })
        .collect();
    joinables.sort();
    joinables.dedup();
    if !joinables.is_empty() {
        text.push('\n');
        text.extend(joinables);
    }
    if tables.len() >= 2 {
        text.push('\n');
        text.push_str(&allow_tables(&tables, indent));
    }
    indent_lines(&text, indent)
}

/// The Rust names of the custom types the tables use, sorted and without repeats.
fn used_custom_types(schema: &DieselSchema, tables: &[&Table]) -> Vec<String> {
    let mut used: Vec<String> = tables
        .iter()
        .flat_map(|t| &t.columns)
        .filter(|c| schema.custom_type(&c.ty.name).is_some())
        .map(|c| c.ty.name.clone())
        .collect();
    used.sort();
    used.dedup();
    used
}

fn custom_types_module(schema: &DieselSchema, used: &[String]) -> String {
    let mut text = String::from("pub mod sql_types {\n");
    for (i, name) in used.iter().enumerate() {
        let Some(custom) = schema.custom_type(name) else {
            continue;
        };
        if i > 0 {
            text.push('\n');
        }
        let _ = writeln!(text, "    #[derive({CUSTOM_TYPE_DERIVES})]");
        match &custom.schema {
            _ if custom.mysql => {
                let _ = writeln!(
                    text,
                    "    #[diesel(mysql_type(name = {}))]",
                    rust_string(&custom.sql_name)
                );
            }
            Some(pg_schema) => {
                let _ = writeln!(
                    text,
                    "    #[diesel(postgres_type(name = {}, schema = {}))]",
                    rust_string(&custom.sql_name),
                    rust_string(pg_schema)
                );
            }
            None => {
                let _ = writeln!(
                    text,
                    "    #[diesel(postgres_type(name = {}))]",
                    rust_string(&custom.sql_name)
                );
            }
        }
        let _ = writeln!(text, "    pub struct {};", custom.rust_name);
    }
    text.push_str("}\n");
    text
}

fn table_block(table: &Table, custom: &[String]) -> String {
    let mut text = String::from("diesel::table! {\n");
    let uses: Vec<&String> = custom
        .iter()
        .filter(|name| table.columns.iter().any(|c| &&c.ty.name == name))
        .collect();
    if !uses.is_empty() {
        text.push_str("    use diesel::sql_types::*;\n");
        for name in &uses {
            let _ = writeln!(text, "    use super::sql_types::{name};");
        }
        text.push('\n');
    }
    if table.rust_name != table.name.name {
        let _ = writeln!(
            text,
            "    #[sql_name = {}]",
            rust_string(&table.name.to_string())
        );
    }
    let key: Vec<String> = table
        .primary_key
        .iter()
        .map(|sql| {
            table
                .column(sql)
                .map_or_else(|| sql.clone(), |c| c.rust_name.clone())
        })
        .collect();
    let shown_name = match &table.name.schema {
        Some(schema) => format!("{schema}.{}", table.rust_name),
        None => table.rust_name.clone(),
    };
    let _ = writeln!(text, "    {shown_name} ({}) {{", key.join(", "));
    for column in &table.columns {
        if column.rust_name != column.sql_name {
            let _ = writeln!(
                text,
                "        #[sql_name = {}]",
                rust_string(&column.sql_name)
            );
        }
        if let Some(n) = column.max_length {
            let _ = writeln!(text, "        #[max_length = {n}]");
        }
        let _ = writeln!(text, "        {} -> {},", column.rust_name, column.ty);
    }
    text.push_str("    }\n}\n");
    text
}

/// `allow_tables_to_appear_in_same_query!` as rustfmt leaves it: on one line when it fits,
/// else one table a line.
fn allow_tables(tables: &[&Table], indent: usize) -> String {
    let names: Vec<&str> = tables.iter().map(|t| t.rust_name.as_str()).collect();
    let one_line = format!(
        "diesel::allow_tables_to_appear_in_same_query!({},);\n",
        names.join(", ")
    );
    if indent + one_line.len() - 1 <= MAX_WIDTH {
        return one_line;
    }
    let mut text = String::from("diesel::allow_tables_to_appear_in_same_query!(\n");
    for name in names {
        let _ = writeln!(text, "    {name},");
    }
    text.push_str(");\n");
    text
}

fn indent_lines(text: &str, indent: usize) -> String {
    if indent == 0 {
        return text.to_owned();
    }
    let pad = " ".repeat(indent);
    text.lines()
        .map(|line| {
            if line.is_empty() {
                "\n".to_owned()
            } else {
                format!("{pad}{line}\n")
            }
        })
        .collect()
}

/// A Rust string literal, raw when the text has quotes (as print-schema writes them).
fn rust_string(text: &str) -> String {
    if !text.contains('"') {
        return format!("\"{text}\"");
    }
    let hashes = "#".repeat(text.matches('#').count() + 1);
    format!("r{hashes}\"{text}\"{hashes}")
}

#[cfg(test)]
mod tests {
    use super::super::model::{Column, DieselType, Joinable};
    use super::*;

    fn column(name: &str, ty: &str) -> Column {
        Column {
            sql_name: name.to_owned(),
            rust_name: name.to_owned(),
            ty: DieselType::named(ty),
            max_length: None,
            line: None,
        }
    }

    fn table(name: &str, columns: Vec<Column>) -> Table {
        Table {
            name: TableName::plain(name),
            rust_name: name.to_owned(),
            primary_key: vec!["id".to_owned()],
            columns,
            line: None,
        }
    }

    #[test]
    fn prints_as_diesel_does() {
        let mut name = column("name", "Varchar");
        name.max_length = Some(255);
        let mut kind = column("type", "Text");
        kind.rust_name = "type_".to_owned();
        let schema = DieselSchema {
            tables: vec![
                table("users", vec![column("id", "Int4"), name, kind]),
                table(
                    "posts",
                    vec![column("id", "Int4"), column("user_id", "Int4")],
                ),
            ],
            joinables: vec![Joinable {
                child: TableName::plain("posts"),
                parent: TableName::plain("users"),
                column: "user_id".to_owned(),
                line: None,
            }],
            custom_types: Vec::new(),
        };
        assert_eq!(
            print_schema(&schema),
            "// @generated automatically by Diesel CLI.

diesel::table! {
    posts (id) {
        id -> Int4,
        user_id -> Int4,
    }
}

diesel::table! {
    users (id) {
        id -> Int4,
        #[max_length = 255]
        name -> Varchar,
        #[sql_name = \"type\"]
        type_ -> Text,
    }
}

diesel::joinable!(posts -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(posts, users,);
"
        );
    }

    #[test]
    fn long_table_lists_are_broken_as_rustfmt_breaks_them() {
        let tables: Vec<Table> = (0..12)
            .map(|i| table(&format!("table_number_{i:02}"), vec![column("id", "Int4")]))
            .collect();
        let refs: Vec<&Table> = tables.iter().collect();
        let text = allow_tables(&refs, 0);
        assert!(text
            .starts_with("diesel::allow_tables_to_appear_in_same_query!(\n    table_number_00,\n"));
        assert!(text.ends_with("    table_number_11,\n);\n"));
    }
}
