//! A `sql` fleet's query, run on its catalog database: one row per database, with an `id`
//! column and one of `url`, `database` or `schema` (and optionally `packages`).
//!
//! The query's columns are known only by name. On PostgreSQL each row comes back as JSON
//! (`row_to_json`), so any column type works (an integer id, a text array of packages). On
//! SQLite and MySQL the columns are read by name as text: SQLite converts any value; on
//! MySQL a number must be cast in the query (`CAST(id AS CHAR) AS id`).

use std::time::Duration;

use diesel::deserialize::QueryableByName;
use diesel::row::NamedRow;
use diesel::sql_types::{Nullable, Text};

use crate::backend::{connect_within, DatabaseUrl, DbError};

/// One row of the query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CatalogRow {
    pub(crate) id: Option<String>,
    pub(crate) url: Option<String>,
    pub(crate) database: Option<String>,
    pub(crate) schema: Option<String>,
    /// Comma-separated member names (or a JSON array on PostgreSQL).
    pub(crate) packages: Option<Vec<String>>,
}

/// Runs `sql` on `url` and returns its rows in the order the query gives them.
pub(crate) fn query(
    url: &DatabaseUrl,
    sql: &str,
    timeout: Duration,
) -> Result<Vec<CatalogRow>, DbError> {
    let sql = sql.trim().trim_end_matches(';').trim_end();
    let mut conn = connect_within(url, timeout)?;
    let context = || format!("running the fleet's query on {url}");
    if url.dialect() == crate::backend::Dialect::Postgres {
        let wrapped = format!("SELECT row_to_json(q)::text AS version_num FROM ({sql}) AS q");
        let rows = conn
            .query_strings(&wrapped, &[])
            .map_err(|e| DbError::new(context(), e.message))?;
        return rows
            .iter()
            .map(|row| from_json(row).map_err(|e| DbError::new(context(), e)))
            .collect();
    }
    match conn.native() {
        #[cfg(feature = "sqlite")]
        crate::backend::Native::Sqlite(conn) => {
            use diesel::RunQueryDsl;
            diesel::sql_query(sql)
                .load::<CatalogRow>(conn)
                .map_err(|e| DbError::new(context(), e))
        }
        #[cfg(feature = "mysql")]
        crate::backend::Native::Mysql(conn) => {
            use diesel::RunQueryDsl;
            diesel::sql_query(sql)
                .load::<CatalogRow>(conn)
                .map_err(|e| DbError::new(context(), e))
        }
        #[allow(unreachable_patterns)]
        _ => Err(DbError::new(context(), "unexpected dialect")),
    }
}

/// A row as PostgreSQL's `row_to_json` writes it.
fn from_json(text: &str) -> Result<CatalogRow, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("unreadable row {text}: {e}"))?;
    let field = |name: &str| match value.get(name) {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let packages = match value.get("packages") {
        Some(serde_json::Value::Array(items)) => Some(
            items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map_or_else(|| item.to_string(), str::to_owned)
                })
                .collect(),
        ),
        _ => field("packages").map(|text| split_packages(&text)),
    };
    Ok(CatalogRow {
        id: field("id"),
        url: field("url"),
        database: field("database"),
        schema: field("schema"),
        packages,
    })
}

/// `users, billing` as member names.
fn split_packages(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A column read by name as text; a column the query does not return is `None`.
fn optional_column<'a, DB, R>(row: &R, name: &str) -> diesel::deserialize::Result<Option<String>>
where
    DB: diesel::backend::Backend,
    R: NamedRow<'a, DB>,
    Option<String>: diesel::deserialize::FromSql<Nullable<Text>, DB>,
{
    match NamedRow::get::<Nullable<Text>, Option<String>>(row, name) {
        Ok(value) => Ok(value),
        Err(e) if e.to_string().contains("was not present") => Ok(None),
        Err(e) => Err(format!("column `{name}`: {e}; return it as text").into()),
    }
}

macro_rules! catalog_row_by_name {
    ($backend:ty) => {
        impl QueryableByName<$backend> for CatalogRow {
            fn build<'a>(row: &impl NamedRow<'a, $backend>) -> diesel::deserialize::Result<Self> {
                Ok(Self {
                    id: optional_column(row, "id")?,
                    url: optional_column(row, "url")?,
                    database: optional_column(row, "database")?,
                    schema: optional_column(row, "schema")?,
                    packages: optional_column(row, "packages")?.map(|p| split_packages(&p)),
                })
            }
        }
    };
}

#[cfg(feature = "sqlite")]
catalog_row_by_name!(diesel::sqlite::Sqlite);
#[cfg(feature = "mysql")]
catalog_row_by_name!(diesel::mysql::Mysql);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_as_json_take_any_column_type() {
        let row = from_json(
            r#"{"id": 7, "schema": "tenant_7", "packages": ["users", "billing"], "other": true}"#,
        )
        .expect("a row");
        assert_eq!(row.id.as_deref(), Some("7"));
        assert_eq!(row.schema.as_deref(), Some("tenant_7"));
        assert_eq!(
            row.packages,
            Some(vec!["users".to_owned(), "billing".to_owned()])
        );
        let row = from_json(r#"{"id": "a", "database": "shard_a", "packages": "users, billing"}"#)
            .expect("a row");
        assert_eq!(row.database.as_deref(), Some("shard_a"));
        assert_eq!(
            row.packages,
            Some(vec!["users".to_owned(), "billing".to_owned()])
        );
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn sqlite_catalogs_are_read_by_column_name() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("catalog.db");
        let url = DatabaseUrl::Sqlite { path };
        crate::backend::connect(&url)
            .expect("open")
            .batch_execute(
                "CREATE TABLE tenants (id INTEGER, name TEXT, active INTEGER);
                 INSERT INTO tenants VALUES (2, 'beta', 1), (1, 'alpha', 1), (3, 'gamma', 0);",
            )
            .expect("set up");
        let rows = query(
            &url,
            "SELECT id, 'shard_' || name AS database FROM tenants WHERE active ORDER BY id;",
            Duration::from_secs(5),
        )
        .expect("rows");
        let ids: Vec<_> = rows
            .iter()
            .map(|r| (r.id.clone(), r.database.clone()))
            .collect();
        assert_eq!(
            ids,
            [
                (Some("1".to_owned()), Some("shard_alpha".to_owned())),
                (Some("2".to_owned()), Some("shard_beta".to_owned()))
            ]
        );
        assert!(rows.iter().all(|r| r.schema.is_none() && r.url.is_none()));
    }
}
