//! SQLite's catalog: `sqlite_master` for the exact statements, the `table_xinfo`,
//! `foreign_key_list`, `index_list` and `index_info` pragmas for structure.

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{sql_query, QueryableByName, RunQueryDsl, SqliteConnection};

use crate::backend::{DbError, Dialect};

use super::{Catalog, CatalogColumn, CatalogTable, ForeignKey, Index, KeyConstraint};
use crate::schema::model::{DieselType, TableName};
use crate::schema::sql_text::{split_top_level, unquote_identifier};

#[derive(QueryableByName)]
struct MasterRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    r#type: String,
    #[diesel(sql_type = BigInt)]
    notnull: i64,
    #[diesel(sql_type = Nullable<Text>)]
    dflt_value: Option<String>,
    #[diesel(sql_type = BigInt)]
    pk: i64,
    #[diesel(sql_type = BigInt)]
    hidden: i64,
}

#[derive(QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    parent: String,
    #[diesel(sql_type = Text)]
    from_column: String,
    #[diesel(sql_type = Nullable<Text>)]
    to_column: Option<String>,
    #[diesel(sql_type = Text)]
    on_update: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    origin: String,
}

#[derive(QueryableByName)]
struct IndexColumnRow {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

#[derive(QueryableByName)]
struct FlagRow {
    #[diesel(sql_type = BigInt)]
    flag: i64,
}

fn load<T: QueryableByName<diesel::sqlite::Sqlite> + 'static>(
    conn: &mut SqliteConnection,
    sql: &str,
    param: Option<&str>,
) -> Result<Vec<T>, DbError> {
    let result = match param {
        Some(p) => sql_query(sql).bind::<Text, _>(p).load(conn),
        None => sql_query(sql).load(conn),
    };
    result.map_err(|e| DbError::new("reading the SQLite catalog", e))
}

/// The user tables (not SQLite's own `sqlite_*`).
const TABLES: &str = "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name";

/// The names of the user tables.
pub(crate) fn table_names(conn: &mut SqliteConnection) -> Result<Vec<TableName>, DbError> {
    let tables: Vec<MasterRow> = load(conn, TABLES, None)?;
    Ok(tables.iter().map(|t| TableName::plain(&t.name)).collect())
}

pub(super) fn read(conn: &mut SqliteConnection) -> Result<Catalog, DbError> {
    let tables: Vec<MasterRow> = load(conn, TABLES, None)?;
    let mut catalog = Catalog {
        dialect: Dialect::Sqlite,
        tables: Vec::new(),
        custom_types: Vec::new(),
    };
    for table in tables {
        catalog.tables.push(read_table(
            conn,
            &table.name,
            table.sql.unwrap_or_default(),
        )?);
    }
    Ok(catalog)
}

fn read_table(
    conn: &mut SqliteConnection,
    name: &str,
    create_sql: String,
) -> Result<CatalogTable, DbError> {
    let rows: Vec<ColumnRow> = load(
        conn,
        "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid",
        Some(name),
    )?;
    let without_rowid = load::<FlagRow>(
        conn,
        "SELECT wr AS flag FROM pragma_table_list(?)",
        Some(name),
    )?
    .first()
    .is_some_and(|r| r.flag != 0);
    let mut key: Vec<(i64, String)> = rows
        .iter()
        .filter(|r| r.pk > 0)
        .map(|r| (r.pk, r.name.clone()))
        .collect();
    key.sort();
    let key: Vec<String> = key.into_iter().map(|(_, n)| n).collect();
    let definitions = column_definitions(&create_sql);
    let mut columns = Vec::new();
    for row in rows.iter().filter(|r| r.hidden != 1) {
        // A rowid alias (`INTEGER PRIMARY KEY` in a rowid table) is never NULL, though the
        // pragma says it may be (diesel issue #2988): it is printed and compared as NOT NULL.
        let rowid = !without_rowid
            && key.len() == 1
            && key[0] == row.name
            && row.r#type.eq_ignore_ascii_case("integer");
        let generated = if rowid {
            Some("rowid".to_owned())
        } else if row.hidden >= 2 {
            Some("generated".to_owned())
        } else {
            None
        };
        let nullable = row.notnull == 0 && !rowid;
        let definition = definitions
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&row.name))
            .map(|(_, d)| d.clone())
            .unwrap_or_else(|| rebuilt_definition(row));
        columns.push(CatalogColumn {
            name: row.name.clone(),
            sql_type: row.r#type.clone(),
            nullable,
            default: row.dflt_value.clone(),
            generated,
            definition,
            diesel_type: diesel_type(&row.r#type).with_nullable(nullable),
            max_length: None,
            custom_type: None,
        });
    }
    let (constraints, indexes) = read_indexes(conn, name)?;
    let foreign_keys = read_foreign_keys(conn, name)?;
    let triggers: Vec<MasterRow> = load(
        conn,
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? ORDER BY name",
        Some(name),
    )?;
    Ok(CatalogTable {
        name: TableName::plain(name),
        columns,
        primary_key: (!key.is_empty()).then(|| KeyConstraint {
            name: None,
            definition: format!("PRIMARY KEY ({})", quoted_list(&key)),
            columns: key,
        }),
        foreign_keys,
        constraints,
        indexes,
        triggers: triggers.into_iter().filter_map(|t| t.sql).collect(),
        create_sql,
    })
}

fn read_indexes(
    conn: &mut SqliteConnection,
    table: &str,
) -> Result<(Vec<KeyConstraint>, Vec<Index>), DbError> {
    let list: Vec<IndexRow> = load(
        conn,
        "SELECT name, origin FROM pragma_index_list(?) ORDER BY name",
        Some(table),
    )?;
    let mut constraints = Vec::new();
    let mut indexes = Vec::new();
    for index in list {
        let columns: Vec<String> = load::<IndexColumnRow>(
            conn,
            "SELECT name FROM pragma_index_info(?) ORDER BY seqno",
            Some(&index.name),
        )?
        .into_iter()
        .filter_map(|c| c.name)
        .collect();
        match index.origin.as_str() {
            "u" => constraints.push(KeyConstraint {
                name: None,
                definition: format!("UNIQUE ({})", quoted_list(&columns)),
                columns,
            }),
            "pk" => {}
            _ => {
                let sql: Vec<MasterRow> = load(
                    conn,
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name = ?",
                    Some(&index.name),
                )?;
                indexes.push(Index {
                    definition: sql.into_iter().find_map(|r| r.sql).unwrap_or_default(),
                    name: index.name,
                    columns,
                });
            }
        }
    }
    Ok((constraints, indexes))
}

fn read_foreign_keys(conn: &mut SqliteConnection, table: &str) -> Result<Vec<ForeignKey>, DbError> {
    let rows: Vec<ForeignKeyRow> = load(
        conn,
        "SELECT id, \"table\" AS parent, \"from\" AS from_column, \"to\" AS to_column, on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq",
        Some(table),
    )?;
    let mut keys: Vec<ForeignKey> = Vec::new();
    let mut last_id = None;
    for row in rows {
        if last_id != Some(row.id) {
            last_id = Some(row.id);
            keys.push(ForeignKey {
                name: None,
                columns: Vec::new(),
                parent: TableName::plain(&row.parent),
                parent_columns: Vec::new(),
                definition: actions(&row.on_update, &row.on_delete),
            });
        }
        if let Some(key) = keys.last_mut() {
            key.columns.push(row.from_column);
            if let Some(to) = row.to_column {
                key.parent_columns.push(to);
            }
        }
    }
    for key in &mut keys {
        let parent_columns = if key.parent_columns.is_empty() {
            String::new()
        } else {
            format!(" ({})", quoted_list(&key.parent_columns))
        };
        key.definition = format!(
            "FOREIGN KEY ({}) REFERENCES \"{}\"{parent_columns}{}",
            quoted_list(&key.columns),
            key.parent.name,
            key.definition
        );
    }
    Ok(keys)
}

/// ` ON UPDATE x ON DELETE y`, leaving out SQLite's default `NO ACTION`.
fn actions(on_update: &str, on_delete: &str) -> String {
    let mut text = String::new();
    if on_update != "NO ACTION" {
        text.push_str(&format!(" ON UPDATE {on_update}"));
    }
    if on_delete != "NO ACTION" {
        text.push_str(&format!(" ON DELETE {on_delete}"));
    }
    text
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{}\"", n.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each column's definition as written in the table's `CREATE TABLE` (SQLite keeps the text
/// of every `ADD COLUMN` there too), by column name.
fn column_definitions(create_sql: &str) -> Vec<(String, String)> {
    let Some(open) = create_sql.find('(') else {
        return Vec::new();
    };
    let Some(close) = create_sql.rfind(')') else {
        return Vec::new();
    };
    if close <= open {
        return Vec::new();
    }
    split_top_level(&create_sql[open + 1..close])
        .into_iter()
        .filter_map(|item| {
            let item = item.trim();
            let first = item.split_whitespace().next()?;
            let upper = first.to_ascii_uppercase();
            if matches!(
                upper.as_str(),
                "CONSTRAINT" | "PRIMARY" | "UNIQUE" | "CHECK" | "FOREIGN"
            ) {
                return None;
            }
            let (name, _) = unquote_identifier(item)?;
            Some((name, item.to_owned()))
        })
        .collect()
}

/// A column definition from the pragma, when the table's text could not be read.
fn rebuilt_definition(row: &ColumnRow) -> String {
    let mut text = format!("\"{}\" {}", row.name.replace('"', "\"\""), row.r#type);
    if row.notnull != 0 {
        text.push_str(" NOT NULL");
    }
    if let Some(default) = &row.dflt_value {
        text.push_str(&format!(" DEFAULT {default}"));
    }
    text.trim_end().to_owned()
}

/// diesel 2.3's print-schema mapping of a declared SQLite type (`sqlite.rs`,
/// `determine_column_type`), without its `sqlite_integer_primary_key_is_bigint` option. A
/// type it cannot map keeps its own name, which is no diesel type: the caller reports it.
pub(crate) fn diesel_type(declared: &str) -> DieselType {
    let mut t = declared.to_lowercase();
    if t == "generated always" {
        t.clear();
    }
    let name = if t == "boolean" || t == "bool" || (t.contains("tiny") && t.contains("int")) {
        "Bool"
    } else if t == "int2" || (t.contains("small") && t.contains("int")) {
        "SmallInt"
    } else if t == "int8" || (t.contains("big") && t.contains("int")) {
        "BigInt"
    } else if t.contains("int") {
        "Integer"
    } else if t.contains("char") || t.contains("clob") || t.contains("text") {
        "Text"
    } else if t.contains("blob") || t.contains("binary") || t.is_empty() {
        "Binary"
    } else if t.contains("float") || t.contains("real") {
        "Float"
    } else if t.contains("double") || t.contains("num") || t.contains("dec") {
        "Double"
    } else if t == "datetime" || t == "timestamp" {
        "Timestamp"
    } else if t == "date" {
        "Date"
    } else if t == "time" {
        "Time"
    } else {
        return DieselType::named(declared);
    };
    DieselType::named(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_map_as_print_schema_maps_them() {
        for (declared, diesel) in [
            ("INTEGER", "Integer"),
            ("BIGINT", "BigInt"),
            ("VARCHAR(200)", "Text"),
            ("DOUBLE PRECISION", "Double"),
            ("FLOAT8", "Float"),
            ("NUMERIC", "Double"),
            ("REAL", "Float"),
            ("BOOLEAN", "Bool"),
            ("TINYINT", "Bool"),
            ("", "Binary"),
            ("DATETIME", "Timestamp"),
            ("TIMESTAMP", "Timestamp"),
        ] {
            assert_eq!(diesel_type(declared).name, diesel, "{declared}");
        }
        assert_eq!(diesel_type("geometry").name, "geometry");
    }

    #[test]
    fn column_definitions_come_from_the_table_text() {
        let defs = column_definitions(
            "CREATE TABLE t (\n id INTEGER PRIMARY KEY,\n \"full name\" VARCHAR(20) NOT NULL DEFAULT 'a,b',\n n NUMERIC(10, 2),\n UNIQUE (n)\n)",
        );
        assert_eq!(defs.len(), 3);
        assert_eq!(defs[1].0, "full name");
        assert_eq!(
            defs[1].1,
            "\"full name\" VARCHAR(20) NOT NULL DEFAULT 'a,b'"
        );
        assert_eq!(defs[2].1, "n NUMERIC(10, 2)");
    }
}
