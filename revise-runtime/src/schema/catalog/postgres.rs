//! PostgreSQL's catalog from `pg_catalog`: `format_type` for exact types, `pg_get_expr` for
//! defaults, `attidentity` and `pg_get_serial_sequence` for generated ids,
//! `pg_get_constraintdef`, `pg_get_indexdef` and `pg_get_triggerdef` for the rest. Every
//! query covers all user tables at once (a round trip per query, not per table).

use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text};
use diesel::{sql_query, PgConnection, QueryableByName, RunQueryDsl};
use heck::ToUpperCamelCase;

use crate::backend::{DbError, Dialect};
use crate::schema::model::{CustomType, DieselType, TableName};
use crate::schema::sql_text::{quote, quote_table};

use super::{Catalog, CatalogColumn, CatalogTable, ForeignKey, Index, KeyConstraint};

/// The user tables: ordinary and partitioned tables outside the system schemas.
const USER_TABLES: &str =
    "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition \
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'";

#[derive(QueryableByName)]
struct TableRow {
    #[diesel(sql_type = BigInt)]
    oid: i64,
    #[diesel(sql_type = Text)]
    schema_name: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Bool)]
    is_default: bool,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = BigInt)]
    oid: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql_type: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
    #[diesel(sql_type = Nullable<Text>)]
    default_expr: Option<String>,
    #[diesel(sql_type = Text)]
    identity: String,
    #[diesel(sql_type = Text)]
    generated: String,
    #[diesel(sql_type = Text)]
    udt_name: String,
    #[diesel(sql_type = Text)]
    udt_schema: String,
    #[diesel(sql_type = Nullable<Integer>)]
    max_length: Option<i32>,
    #[diesel(sql_type = Bool)]
    serial: bool,
}

#[derive(QueryableByName)]
struct ConstraintRow {
    #[diesel(sql_type = BigInt)]
    oid: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    definition: String,
    #[diesel(sql_type = Array<Text>)]
    columns: Vec<String>,
    #[diesel(sql_type = Nullable<Text>)]
    parent_schema: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    parent_name: Option<String>,
    #[diesel(sql_type = Array<Text>)]
    parent_columns: Vec<String>,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = BigInt)]
    oid: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    definition: String,
    #[diesel(sql_type = Array<Text>)]
    columns: Vec<String>,
}

#[derive(QueryableByName)]
struct TriggerRow {
    #[diesel(sql_type = BigInt)]
    oid: i64,
    #[diesel(sql_type = Text)]
    definition: String,
}

#[derive(QueryableByName)]
struct TypeRow {
    #[diesel(sql_type = Text)]
    schema_name: String,
    #[diesel(sql_type = Text)]
    type_name: String,
    #[diesel(sql_type = Bool)]
    is_default: bool,
}

fn load<T: QueryableByName<diesel::pg::Pg> + 'static>(
    conn: &mut PgConnection,
    sql: &str,
) -> Result<Vec<T>, DbError> {
    sql_query(sql)
        .load(conn)
        .map_err(|e| DbError::new("reading the PostgreSQL catalog", e))
}

fn tables(conn: &mut PgConnection) -> Result<Vec<TableRow>, DbError> {
    load(
        conn,
        &format!(
            "SELECT c.oid::int8 AS oid, n.nspname::text AS schema_name, c.relname::text AS table_name, \
             n.nspname = current_schema() AS is_default \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.oid IN ({USER_TABLES}) ORDER BY n.nspname = current_schema() DESC, n.nspname, c.relname"
        ),
    )
}

fn table_name(row: &TableRow) -> TableName {
    TableName {
        schema: (!row.is_default).then(|| row.schema_name.clone()),
        name: row.table_name.clone(),
    }
}

/// The names of the user tables.
pub(crate) fn table_names(conn: &mut PgConnection) -> Result<Vec<TableName>, DbError> {
    Ok(tables(conn)?.iter().map(table_name).collect())
}

pub(super) fn read(conn: &mut PgConnection) -> Result<Catalog, DbError> {
    let tables = tables(conn)?;
    let columns: Vec<ColumnRow> = load(conn, &columns_query())?;
    let constraints: Vec<ConstraintRow> = load(conn, &constraints_query())?;
    let indexes: Vec<IndexRow> = load(
        conn,
        &format!(
            "SELECT i.indrelid::int8 AS oid, ic.relname::text AS name, pg_get_indexdef(i.indexrelid) AS definition, \
             ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, pos) \
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num ORDER BY k.pos) AS columns \
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
             WHERE i.indrelid IN ({USER_TABLES}) AND NOT EXISTS ( \
               SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid \
               AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')) \
             ORDER BY ic.relname"
        ),
    )?;
    let triggers: Vec<TriggerRow> = load(
        conn,
        &format!(
            "SELECT tgrelid::int8 AS oid, pg_get_triggerdef(oid) AS definition FROM pg_trigger \
             WHERE NOT tgisinternal AND tgrelid IN ({USER_TABLES}) ORDER BY tgname"
        ),
    )?;
    let types: Vec<TypeRow> = load(
        conn,
        "SELECT n.nspname::text AS schema_name, t.typname::text AS type_name, n.nspname = current_schema() AS is_default \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE t.typtype IN ('e', 'd', 'c', 'r', 'm') AND (t.typtype <> 'c' OR t.typrelid = 0) \
         AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'",
    )?;
    let default_schema = tables
        .iter()
        .find(|t| t.is_default)
        .map(|t| t.schema_name.clone());
    let mut catalog = Catalog {
        dialect: Dialect::Postgres,
        tables: Vec::new(),
        custom_types: types
            .into_iter()
            .map(|t| ((!t.is_default).then_some(t.schema_name), t.type_name))
            .collect(),
    };
    for row in &tables {
        let name = table_name(row);
        let table_columns: Vec<CatalogColumn> = columns
            .iter()
            .filter(|c| c.oid == row.oid)
            .map(|c| column(c, default_schema.as_deref()))
            .collect();
        let mut table = CatalogTable {
            name: name.clone(),
            columns: table_columns,
            primary_key: None,
            foreign_keys: Vec::new(),
            constraints: Vec::new(),
            indexes: indexes
                .iter()
                .filter(|i| i.oid == row.oid)
                .map(|i| Index {
                    name: i.name.clone(),
                    columns: i.columns.clone(),
                    definition: i.definition.clone(),
                })
                .collect(),
            triggers: triggers
                .iter()
                .filter(|t| t.oid == row.oid)
                .map(|t| t.definition.clone())
                .collect(),
            create_sql: String::new(),
        };
        for con in constraints.iter().filter(|c| c.oid == row.oid) {
            let key = KeyConstraint {
                name: Some(con.name.clone()),
                columns: con.columns.clone(),
                definition: con.definition.clone(),
            };
            match con.kind.as_str() {
                "p" => table.primary_key = Some(key),
                "f" => table.foreign_keys.push(ForeignKey {
                    name: Some(con.name.clone()),
                    columns: con.columns.clone(),
                    parent: TableName {
                        schema: con
                            .parent_schema
                            .clone()
                            .filter(|s| Some(s) != default_schema.as_ref()),
                        name: con.parent_name.clone().unwrap_or_default(),
                    },
                    parent_columns: con.parent_columns.clone(),
                    definition: con.definition.clone(),
                }),
                _ => table.constraints.push(key),
            }
        }
        table.create_sql = create_table_sql(&table);
        catalog.tables.push(table);
    }
    Ok(catalog)
}

fn columns_query() -> String {
    format!(
        "SELECT a.attrelid::int8 AS oid, a.attname::text AS name, \
         format_type(a.atttypid, a.atttypmod) AS sql_type, a.attnotnull AS not_null, \
         pg_get_expr(d.adbin, d.adrelid) AS default_expr, a.attidentity::text AS identity, \
         a.attgenerated::text AS generated, \
         (CASE WHEN t.typtype = 'd' THEN bt.typname ELSE t.typname END)::text AS udt_name, \
         (CASE WHEN t.typtype = 'd' THEN btn.nspname ELSE tn.nspname END)::text AS udt_schema, \
         CASE WHEN t.typname IN ('varchar', 'bpchar') AND a.atttypmod > 0 THEN a.atttypmod - 4 \
              WHEN t.typname IN ('bit', 'varbit') AND a.atttypmod > 0 THEN a.atttypmod \
              WHEN t.typtype = 'd' AND bt.typname IN ('varchar', 'bpchar') AND t.typtypmod > 0 THEN t.typtypmod - 4 \
         END AS max_length, \
         (a.attidentity = '' AND pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) IS NOT NULL \
          AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%') AS serial \
         FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = t.typnamespace \
         LEFT JOIN pg_type bt ON bt.oid = t.typbasetype LEFT JOIN pg_namespace btn ON btn.oid = bt.typnamespace \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attrelid IN ({USER_TABLES}) \
         ORDER BY a.attrelid, a.attnum"
    )
}

fn constraints_query() -> String {
    format!(
        "SELECT con.conrelid::int8 AS oid, con.conname::text AS name, con.contype::text AS kind, \
         pg_get_constraintdef(con.oid) AS definition, \
         ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, pos) \
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.pos) AS columns, \
         fn.nspname::text AS parent_schema, fc.relname::text AS parent_name, \
         ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, pos) \
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.pos) AS parent_columns \
         FROM pg_constraint con \
         LEFT JOIN pg_class fc ON fc.oid = con.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
         WHERE con.conrelid IN ({USER_TABLES}) AND con.contype IN ('p', 'f', 'u', 'c', 'x') \
         ORDER BY con.conname"
    )
}

fn column(row: &ColumnRow, default_schema: Option<&str>) -> CatalogColumn {
    let quoted = quote(Dialect::Postgres, &row.name);
    let (generated, definition) = if row.serial {
        let serial = match row.sql_type.as_str() {
            "bigint" => "bigserial",
            "smallint" => "smallserial",
            _ => "serial",
        };
        (Some("serial".to_owned()), format!("{quoted} {serial}"))
    } else if !row.identity.is_empty() {
        let kind = if row.identity == "a" {
            "ALWAYS"
        } else {
            "BY DEFAULT"
        };
        (
            Some(format!("identity {}", kind.to_lowercase())),
            format!("{quoted} {} GENERATED {kind} AS IDENTITY", row.sql_type),
        )
    } else if row.generated == "s" {
        let expression = row.default_expr.clone().unwrap_or_default();
        (
            Some(format!("generated: {expression}")),
            format!(
                "{quoted} {} GENERATED ALWAYS AS ({expression}) STORED",
                row.sql_type
            ),
        )
    } else {
        let mut definition = format!("{quoted} {}", row.sql_type);
        if let Some(default) = &row.default_expr {
            definition.push_str(&format!(" DEFAULT {default}"));
        }
        if row.not_null {
            definition.push_str(" NOT NULL");
        }
        (None, definition)
    };
    let is_array = row.udt_name.starts_with('_');
    let element = row.udt_name.trim_start_matches('_');
    let rust_name = element.to_upper_camel_case();
    let custom_type = (!crate::schema::types::is_diesel_type(&rust_name)).then(|| CustomType {
        rust_name: rust_name.clone(),
        sql_name: element.to_owned(),
        schema: Some(row.udt_schema.clone()).filter(|s| Some(s.as_str()) != default_schema),
        mysql: false,
    });
    CatalogColumn {
        name: row.name.clone(),
        sql_type: row.sql_type.clone(),
        nullable: !row.not_null,
        default: row.default_expr.clone(),
        generated,
        definition,
        diesel_type: DieselType {
            name: rust_name,
            nullable: !row.not_null,
            array: is_array,
            unsigned: false,
        },
        max_length: row.max_length.and_then(|n| u64::try_from(n).ok()),
        custom_type,
    }
}

/// The table with its columns, primary key, unique, check and exclusion constraints;
/// foreign keys are added afterwards, so tables that reference each other can be created.
fn create_table_sql(table: &CatalogTable) -> String {
    let mut items: Vec<String> = table.columns.iter().map(|c| c.definition.clone()).collect();
    for key in table.primary_key.iter().chain(&table.constraints) {
        match &key.name {
            Some(name) => items.push(format!(
                "CONSTRAINT {} {}",
                quote(Dialect::Postgres, name),
                key.definition
            )),
            None => items.push(key.definition.clone()),
        }
    }
    format!(
        "CREATE TABLE {} (\n    {}\n)",
        quote_table(Dialect::Postgres, &table.name),
        items.join(",\n    ")
    )
}
