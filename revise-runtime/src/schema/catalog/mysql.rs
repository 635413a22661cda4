//! MySQL's and MariaDB's catalog: `information_schema` for structure, `SHOW CREATE TABLE` for
//! the exact text of every column, key and constraint (so that a column is added back, or a
//! table created again, exactly as the server wrote it: charset, collation, defaults,
//! `AUTO_INCREMENT` and comments included).

use diesel::sql_types::{Nullable, Text};
use diesel::{sql_query, MysqlConnection, QueryableByName, RunQueryDsl};
use heck::ToUpperCamelCase;

use crate::backend::{DbError, Dialect};
use crate::schema::model::{CustomType, DieselType, TableName};
use crate::schema::sql_text::{quote, split_top_level, unquote_identifier};

use super::{Catalog, CatalogColumn, CatalogTable, ForeignKey, Index, KeyConstraint};

#[derive(QueryableByName)]
struct NameRow {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    column_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
    #[diesel(sql_type = Nullable<Text>)]
    column_default: Option<String>,
    #[diesel(sql_type = Text)]
    extra: String,
    #[diesel(sql_type = Nullable<Text>)]
    max_length: Option<String>,
}

#[derive(QueryableByName)]
struct KeyColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    constraint_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    referenced_table: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    referenced_column: Option<String>,
}

#[derive(QueryableByName)]
struct CreateTableRow {
    #[diesel(sql_type = Text)]
    #[diesel(column_name = "Create Table")]
    create_table: String,
}

#[derive(QueryableByName)]
struct TriggerRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    definition: String,
}

fn load<T: QueryableByName<diesel::mysql::Mysql> + 'static>(
    conn: &mut MysqlConnection,
    sql: &str,
) -> Result<Vec<T>, DbError> {
    sql_query(sql)
        .load(conn)
        .map_err(|e| DbError::new("reading the MySQL catalog", e))
}

/// The tables of the connection's database.
const TABLES: &str = "SELECT CAST(table_name AS CHAR) AS name FROM information_schema.tables \
     WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name";

/// The names of the user tables.
pub(crate) fn table_names(conn: &mut MysqlConnection) -> Result<Vec<TableName>, DbError> {
    let tables: Vec<NameRow> = load(conn, TABLES)?;
    Ok(tables.iter().map(|t| TableName::plain(&t.name)).collect())
}

pub(super) fn read(conn: &mut MysqlConnection) -> Result<Catalog, DbError> {
    let tables: Vec<NameRow> = load(conn, TABLES)?;
    let columns: Vec<ColumnRow> = load(
        conn,
        "SELECT CAST(table_name AS CHAR) AS table_name, CAST(column_name AS CHAR) AS column_name, \
         CAST(column_type AS CHAR) AS column_type, CAST(is_nullable AS CHAR) AS is_nullable, \
         CAST(column_default AS CHAR) AS column_default, CAST(extra AS CHAR) AS extra, \
         CAST(character_maximum_length AS CHAR) AS max_length \
         FROM information_schema.columns WHERE table_schema = DATABASE() \
         ORDER BY table_name, ordinal_position",
    )?;
    let keys: Vec<KeyColumnRow> = load(
        conn,
        "SELECT CAST(table_name AS CHAR) AS table_name, CAST(constraint_name AS CHAR) AS constraint_name, \
         CAST(column_name AS CHAR) AS column_name, CAST(referenced_table_name AS CHAR) AS referenced_table, \
         CAST(referenced_column_name AS CHAR) AS referenced_column \
         FROM information_schema.key_column_usage WHERE table_schema = DATABASE() \
         ORDER BY table_name, constraint_name, ordinal_position",
    )?;
    let triggers: Vec<TriggerRow> = load(
        conn,
        "SELECT CAST(event_object_table AS CHAR) AS table_name, \
         CAST(CONCAT('CREATE TRIGGER `', trigger_name, '` ', action_timing, ' ', event_manipulation, \
         ' ON `', event_object_table, '` FOR EACH ROW ', action_statement) AS CHAR) AS definition \
         FROM information_schema.triggers WHERE trigger_schema = DATABASE() ORDER BY trigger_name",
    )?;
    let mut catalog = Catalog {
        dialect: Dialect::Mysql,
        tables: Vec::new(),
        custom_types: Vec::new(),
    };
    for table in tables {
        let shown: Vec<CreateTableRow> = load(
            conn,
            &format!("SHOW CREATE TABLE {}", quote(Dialect::Mysql, &table.name)),
        )?;
        let create = shown
            .into_iter()
            .next()
            .map(|r| r.create_table)
            .unwrap_or_default();
        let rows: Vec<&ColumnRow> = columns
            .iter()
            .filter(|c| c.table_name == table.name)
            .collect();
        let table_keys: Vec<&KeyColumnRow> =
            keys.iter().filter(|k| k.table_name == table.name).collect();
        let mut built = build_table(&table.name, &create, &rows, &table_keys);
        built.triggers = triggers
            .iter()
            .filter(|t| t.table_name == table.name)
            .map(|t| t.definition.clone())
            .collect();
        catalog.tables.push(built);
    }
    Ok(catalog)
}

/// The pieces of `SHOW CREATE TABLE`: the lines inside its parentheses, and the table
/// options after them.
struct CreateText<'a> {
    items: Vec<String>,
    options: &'a str,
}

fn split_create(create: &str) -> CreateText<'_> {
    let open = create.find('(').unwrap_or(create.len());
    let close = create.rfind(')').unwrap_or(create.len());
    if close <= open {
        return CreateText {
            items: Vec::new(),
            options: "",
        };
    }
    CreateText {
        items: split_top_level(&create[open + 1..close])
            .into_iter()
            .map(|i| i.trim().to_owned())
            .collect(),
        options: create[close + 1..].trim(),
    }
}

fn build_table(
    name: &str,
    create: &str,
    rows: &[&ColumnRow],
    keys: &[&KeyColumnRow],
) -> CatalogTable {
    let text = split_create(create);
    let table_name = TableName::plain(name);
    let quoted_table = quote(Dialect::Mysql, name);
    let mut columns = Vec::new();
    for row in rows {
        let definition = text
            .items
            .iter()
            .find(|item| {
                item.starts_with('`')
                    && unquote_identifier(item).is_some_and(|(n, _)| n == row.column_name)
            })
            .cloned()
            .unwrap_or_else(|| {
                format!(
                    "{} {}",
                    quote(Dialect::Mysql, &row.column_name),
                    row.column_type
                )
            });
        columns.push(column(name, row, definition));
    }
    let mut primary_key = None;
    let mut constraints = Vec::new();
    let mut indexes = Vec::new();
    let mut foreign_keys = Vec::new();
    let mut kept_items: Vec<&str> = Vec::new();
    for item in &text.items {
        let upper = item.to_ascii_uppercase();
        if item.starts_with('`') {
            kept_items.push(item);
        } else if upper.starts_with("PRIMARY KEY") {
            kept_items.push(item);
            primary_key = Some(KeyConstraint {
                name: Some("PRIMARY".to_owned()),
                columns: key_columns(keys, "PRIMARY"),
                definition: item.clone(),
            });
        } else if upper.starts_with("CONSTRAINT") && upper.contains(" FOREIGN KEY ") {
            let constraint = unquote_identifier(&item["CONSTRAINT".len()..])
                .map(|(n, _)| n)
                .unwrap_or_default();
            let columns = key_columns(keys, &constraint);
            let parent = keys
                .iter()
                .find(|k| k.constraint_name == constraint)
                .and_then(|k| k.referenced_table.clone())
                .unwrap_or_default();
            let parent_columns: Vec<String> = keys
                .iter()
                .filter(|k| k.constraint_name == constraint)
                .filter_map(|k| k.referenced_column.clone())
                .collect();
            let definition = item
                .find("FOREIGN KEY")
                .map_or_else(|| item.clone(), |at| item[at..].to_owned());
            foreign_keys.push(ForeignKey {
                name: Some(constraint),
                columns,
                parent: TableName::plain(&parent),
                parent_columns,
                definition,
            });
        } else if upper.starts_with("UNIQUE KEY") || upper.starts_with("CONSTRAINT") {
            // A unique key, or a check constraint.
            kept_items.push(item);
            let name = item
                .split_once('`')
                .and_then(|(_, rest)| unquote_identifier(&format!("`{rest}")).map(|(n, _)| n));
            let columns = name
                .as_deref()
                .map_or_else(Vec::new, |n| key_columns(keys, n));
            constraints.push(KeyConstraint {
                name,
                columns,
                definition: item.clone(),
            });
        } else {
            // KEY, FULLTEXT KEY, SPATIAL KEY: indexes.
            kept_items.push(item);
            let index_name = item
                .split_once('`')
                .and_then(|(_, rest)| unquote_identifier(&format!("`{rest}")).map(|(n, _)| n))
                .unwrap_or_default();
            let columns = index_columns(item);
            indexes.push(Index {
                name: index_name,
                columns,
                definition: format!("ALTER TABLE {quoted_table} ADD {item}"),
            });
        }
    }
    let options = strip_auto_increment(text.options);
    let create_sql = format!(
        "CREATE TABLE {quoted_table} (\n  {}\n) {options}",
        kept_items.join(",\n  ")
    );
    CatalogTable {
        name: table_name,
        columns,
        primary_key,
        foreign_keys,
        constraints,
        indexes,
        triggers: Vec::new(),
        create_sql: create_sql.trim_end().to_owned(),
    }
}

fn key_columns(keys: &[&KeyColumnRow], constraint: &str) -> Vec<String> {
    keys.iter()
        .filter(|k| k.constraint_name == constraint)
        .map(|k| k.column_name.clone())
        .collect()
}

/// The columns an index line names (`` KEY `i` (`a`,`b`(10)) ``): the backquoted names inside
/// its parentheses.
fn index_columns(item: &str) -> Vec<String> {
    let Some(open) = item.find('(') else {
        return Vec::new();
    };
    split_top_level(item[open + 1..].trim_end_matches(')'))
        .iter()
        .filter_map(|part| unquote_identifier(part).map(|(n, _)| n))
        .collect()
}

/// The table options without `AUTO_INCREMENT=N`: the counter is data, not schema.
fn strip_auto_increment(options: &str) -> String {
    options
        .split_whitespace()
        .filter(|word| !word.to_ascii_uppercase().starts_with("AUTO_INCREMENT="))
        .collect::<Vec<_>>()
        .join(" ")
}

fn column(table: &str, row: &ColumnRow, definition: String) -> CatalogColumn {
    let nullable = row.is_nullable == "YES";
    let extra = row.extra.to_ascii_lowercase();
    let generated = if extra.contains("auto_increment") {
        Some("auto_increment".to_owned())
    } else if extra.contains("generated") {
        Some(format!("generated: {extra}"))
    } else {
        None
    };
    let type_name = diesel_type_name(&row.column_type);
    let unsigned = row.column_type.to_ascii_lowercase().contains("unsigned");
    let rust_name = type_name.trim().to_upper_camel_case();
    let is_diesel = crate::schema::types::is_diesel_type(&rust_name);
    // print-schema gives each column of a type diesel does not have (an ENUM, a SET) a type
    // of its own, named after table, column and type.
    let (name, custom_type) = if is_diesel {
        (rust_name, None)
    } else {
        let custom_name =
            format!("{table} {} {}", row.column_name, type_name.trim()).to_upper_camel_case();
        let mut sql_name = type_name.trim().to_owned();
        if let Some(first) = sql_name.get(..1) {
            sql_name = first.to_uppercase() + &sql_name[1..];
        }
        (
            custom_name.clone(),
            Some(CustomType {
                rust_name: custom_name,
                sql_name,
                schema: None,
                mysql: true,
            }),
        )
    };
    let max_length = row
        .max_length
        .as_deref()
        .filter(|_| row.column_type.contains('('))
        .and_then(|n| n.parse().ok());
    CatalogColumn {
        name: row.column_name.clone(),
        sql_type: row.column_type.clone(),
        nullable,
        default: row.column_default.clone(),
        generated,
        definition,
        diesel_type: DieselType {
            name,
            nullable,
            array: false,
            unsigned,
        },
        max_length,
        custom_type,
    }
}

/// diesel 2.3's print-schema reading of `column_type` (`mysql.rs`, `determine_type_name`):
/// `tinyint(1)` is `bool`, any `int...` is `integer`, otherwise the name before `(`, without
/// `unsigned`.
fn diesel_type_name(column_type: &str) -> String {
    let name = if column_type == "tinyint(1)" {
        "bool"
    } else if column_type.starts_with("int") {
        "integer"
    } else if let Some(at) = column_type.find('(') {
        &column_type[..at]
    } else {
        column_type
    };
    name.to_lowercase()
        .replace("unsigned", "")
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_types_read_as_print_schema_reads_them() {
        for (column_type, name) in [
            ("tinyint(1)", "bool"),
            ("int(11)", "integer"),
            ("int(10) unsigned", "integer"),
            ("bigint(20) unsigned", "bigint"),
            ("varchar(200)", "varchar"),
            ("decimal(10,2)", "decimal"),
            ("longtext", "longtext"),
            ("double", "double"),
        ] {
            assert_eq!(diesel_type_name(column_type), name, "{column_type}");
        }
    }

    #[test]
    fn show_create_table_is_taken_apart() {
        let create = "CREATE TABLE `t` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n  `p` int(11) DEFAULT NULL,\n  `n` varchar(20) DEFAULT 'a,b',\n  PRIMARY KEY (`id`),\n  UNIQUE KEY `n` (`n`),\n  KEY `p` (`p`),\n  CONSTRAINT `t_ibfk_1` FOREIGN KEY (`p`) REFERENCES `parent` (`id`) ON DELETE CASCADE,\n  CONSTRAINT `positive` CHECK (`p` > 0)\n) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4";
        let row = |name: &str, ty: &str| ColumnRow {
            table_name: "t".to_owned(),
            column_name: name.to_owned(),
            column_type: ty.to_owned(),
            is_nullable: "YES".to_owned(),
            column_default: None,
            extra: String::new(),
            max_length: None,
        };
        let rows = [
            row("id", "int(11)"),
            row("p", "int(11)"),
            row("n", "varchar(20)"),
        ];
        let refs: Vec<&ColumnRow> = rows.iter().collect();
        let table = build_table("t", create, &refs, &[]);
        assert_eq!(table.columns[2].definition, "`n` varchar(20) DEFAULT 'a,b'");
        assert_eq!(
            table.indexes[0].definition,
            "ALTER TABLE `t` ADD KEY `p` (`p`)"
        );
        assert_eq!(table.indexes[0].columns, ["p"]);
        assert_eq!(table.foreign_keys[0].name.as_deref(), Some("t_ibfk_1"));
        assert!(table.foreign_keys[0]
            .definition
            .starts_with("FOREIGN KEY (`p`)"));
        assert_eq!(table.constraints.len(), 2);
        assert!(!table.create_sql.contains("FOREIGN KEY"));
        assert!(!table.create_sql.contains("AUTO_INCREMENT=3"));
        assert!(table
            .create_sql
            .ends_with(") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"));
    }
}
