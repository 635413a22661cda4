//! The catalog queries that describe a schema, one set per dialect. Each returns rows of
//! `kind` (an [`ObjectKind`](super::ObjectKind) name), `name`, `parent` (the table the
//! object belongs to, or empty) and `definition`.
//!
//! What each dialect can tell:
//! - PostgreSQL (`pg_catalog`, the current schema, without objects that belong to an
//!   extension): everything, in the server's own words (`pg_get_indexdef`,
//!   `pg_get_constraintdef`, `pg_get_viewdef`, `pg_get_functiondef`, `pg_get_triggerdef`).
//! - MySQL/MariaDB (`information_schema`): tables, columns, indexes, foreign keys, check
//!   constraints, views, routines, triggers, and MariaDB's sequences (by name only:
//!   their parameters are rows of the sequence itself).
//! - SQLite (`sqlite_master` and the table pragmas): tables, columns, indexes, primary key,
//!   unique and foreign key constraints, views and triggers. It has no functions or
//!   sequences, and keeps CHECK constraints only inside the table's `CREATE TABLE` text,
//!   which is not compared (a column added back by a down is written at its end).

use crate::backend::Dialect;

/// One row of a catalog query.
#[derive(diesel::QueryableByName)]
pub(crate) struct CatalogRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) kind: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) name: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub(crate) parent: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub(crate) definition: Option<String>,
}

/// The queries for `dialect`.
pub(crate) fn queries(dialect: Dialect) -> &'static [&'static str] {
    match dialect {
        Dialect::Sqlite => SQLITE,
        Dialect::Postgres => POSTGRES,
        Dialect::Mysql => MYSQL,
    }
}

const SQLITE: &[&str] = &[
    "SELECT 'table' AS kind, name, '' AS parent, '' AS definition FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    "SELECT 'column' AS kind, m.name || '.' || p.name AS name, m.name AS parent, \
       TRIM(p.type || CASE WHEN p.\"notnull\" THEN ' NOT NULL' ELSE '' END \
       || CASE WHEN p.dflt_value IS NOT NULL THEN ' DEFAULT ' || p.dflt_value ELSE '' END \
       || CASE WHEN p.pk > 0 THEN ' PRIMARY KEY' ELSE '' END) AS definition \
     FROM sqlite_master m JOIN pragma_table_info(m.name) p \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
    "SELECT type AS kind, name, tbl_name AS parent, sql AS definition FROM sqlite_master \
     WHERE type IN ('index', 'trigger') AND name NOT LIKE 'sqlite_%' AND sql IS NOT NULL",
    "SELECT 'view' AS kind, name, '' AS parent, sql AS definition FROM sqlite_master WHERE type = 'view'",
    // Primary keys and unique constraints are indexes SQLite made itself, named by number:
    // named here by their columns instead.
    "SELECT 'constraint' AS kind, \
       m.name || '.' || CASE i.origin WHEN 'pk' THEN 'primary key' ELSE 'unique' END || ' (' || c.cols || ')' AS name, \
       m.name AS parent, \
       CASE i.origin WHEN 'pk' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END || ' (' || c.cols || ')' AS definition \
     FROM sqlite_master m JOIN pragma_index_list(m.name) i \
     JOIN (SELECT il.name AS index_name, group_concat(ii.name, ', ') AS cols \
           FROM sqlite_master t JOIN pragma_index_list(t.name) il JOIN pragma_index_info(il.name) ii \
           WHERE t.type = 'table' GROUP BY il.name) c ON c.index_name = i.name \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND i.origin IN ('pk', 'u')",
    "SELECT 'constraint' AS kind, \
       m.name || '.foreign key (' || group_concat(f.\"from\", ', ') || ')' AS name, m.name AS parent, \
       'FOREIGN KEY (' || group_concat(f.\"from\", ', ') || ') REFERENCES ' || f.\"table\" \
       || ' (' || group_concat(COALESCE(f.\"to\", ''), ', ') || ') ON UPDATE ' || f.on_update \
       || ' ON DELETE ' || f.on_delete AS definition \
     FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' GROUP BY m.name, f.id",
];

/// Objects of the current schema that no extension owns.
const POSTGRES: &[&str] = &[
    "SELECT 'table'::text AS kind, c.relname::text AS name, ''::text AS parent, ''::text AS definition \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
       AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = c.oid AND e.deptype = 'e')",
    "SELECT 'column'::text AS kind, (c.relname || '.' || a.attname)::text AS name, c.relname::text AS parent, \
       format_type(a.atttypid, a.atttypmod) \
       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END \
       || CASE WHEN a.attgenerated = 's' THEN ' GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED' \
               ELSE COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') END \
       || CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY' \
                             WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END AS definition \
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped \
       AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = c.oid AND e.deptype = 'e')",
    "SELECT 'index'::text AS kind, ic.relname::text AS name, t.relname::text AS parent, \
       pg_get_indexdef(i.indexrelid) AS definition \
     FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid \
     JOIN pg_namespace n ON n.oid = t.relnamespace \
     WHERE n.nspname = current_schema() \
       AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = t.oid AND e.deptype = 'e')",
    // PostgreSQL 18 records NOT NULL as constraints too (`n`); the columns already say it.
    "SELECT 'constraint'::text AS kind, (t.relname || '.' || co.conname)::text AS name, t.relname::text AS parent, \
       pg_get_constraintdef(co.oid) AS definition \
     FROM pg_constraint co JOIN pg_class t ON t.oid = co.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
     WHERE n.nspname = current_schema() AND co.contype <> 'n' \
       AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = t.oid AND e.deptype = 'e')",
    "SELECT 'view'::text AS kind, c.relname::text AS name, ''::text AS parent, \
       CASE c.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' || chr(10) ELSE '' END || pg_get_viewdef(c.oid, true) AS definition \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm') \
       AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = c.oid AND e.deptype = 'e')",
    "SELECT 'function'::text AS kind, p.oid::regprocedure::text AS name, ''::text AS parent, \
       pg_get_functiondef(p.oid) AS definition \
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
     WHERE n.nspname = current_schema() AND p.prokind IN ('f', 'p') \
       AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = p.oid AND e.deptype = 'e')",
    "SELECT 'trigger'::text AS kind, (t.relname || '.' || tg.tgname)::text AS name, t.relname::text AS parent, \
       pg_get_triggerdef(tg.oid, true) AS definition \
     FROM pg_trigger tg JOIN pg_class t ON t.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
     WHERE n.nspname = current_schema() AND NOT tg.tgisinternal",
    // A sequence that a column owns (serial, identity) belongs to that column's table.
    "SELECT 'sequence'::text AS kind, c.relname::text AS name, \
       (SELECT t.relname::text FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid \
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid \
          AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1) AS parent, \
       format_type(s.seqtypid, NULL) || ' START ' || s.seqstart || ' INCREMENT ' || s.seqincrement \
       || ' MINVALUE ' || s.seqmin || ' MAXVALUE ' || s.seqmax || ' CACHE ' || s.seqcache \
       || CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END AS definition \
     FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = current_schema() \
       AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = c.oid AND e.deptype = 'e')",
];

/// Every column is cast to CHAR: `information_schema` mixes binary and text types.
const MYSQL: &[&str] = &[
    "SELECT CAST('table' AS CHAR) AS kind, CAST(table_name AS CHAR) AS name, CAST('' AS CHAR) AS parent, \
       CAST('' AS CHAR) AS definition \
     FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
    "SELECT CAST('column' AS CHAR) AS kind, CAST(CONCAT(c.table_name, '.', c.column_name) AS CHAR) AS name, \
       CAST(c.table_name AS CHAR) AS parent, \
       CAST(CONCAT(c.column_type, IF(c.is_nullable = 'NO', ' NOT NULL', ''), \
         IF(c.column_default IS NULL, '', CONCAT(' DEFAULT ', c.column_default)), \
         IF(c.extra = '', '', CONCAT(' ', c.extra))) AS CHAR) AS definition \
     FROM information_schema.columns c JOIN information_schema.tables t \
       ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
     WHERE c.table_schema = DATABASE() AND t.table_type = 'BASE TABLE'",
    "SELECT CAST('index' AS CHAR) AS kind, CAST(CONCAT(table_name, '.', index_name) AS CHAR) AS name, \
       CAST(table_name AS CHAR) AS parent, \
       CAST(CONCAT(IF(non_unique = 0, 'UNIQUE ', ''), 'INDEX (', \
         GROUP_CONCAT(CONCAT(column_name, IFNULL(CONCAT('(', sub_part, ')'), '')) ORDER BY seq_in_index SEPARATOR ', '), \
         ') USING ', index_type) AS CHAR) AS definition \
     FROM information_schema.statistics WHERE table_schema = DATABASE() \
     GROUP BY table_name, index_name, non_unique, index_type",
    "SELECT CAST('constraint' AS CHAR) AS kind, CAST(CONCAT(k.table_name, '.', k.constraint_name) AS CHAR) AS name, \
       CAST(k.table_name AS CHAR) AS parent, \
       CAST(CONCAT('FOREIGN KEY (', GROUP_CONCAT(k.column_name ORDER BY k.ordinal_position SEPARATOR ', '), \
         ') REFERENCES ', k.referenced_table_name, ' (', \
         GROUP_CONCAT(k.referenced_column_name ORDER BY k.ordinal_position SEPARATOR ', '), \
         ') ON UPDATE ', r.update_rule, ' ON DELETE ', r.delete_rule) AS CHAR) AS definition \
     FROM information_schema.key_column_usage k JOIN information_schema.referential_constraints r \
       ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name \
       AND r.table_name = k.table_name \
     WHERE k.table_schema = DATABASE() AND k.referenced_table_name IS NOT NULL \
     GROUP BY k.table_name, k.constraint_name, k.referenced_table_name, r.update_rule, r.delete_rule",
    // MySQL's check_constraints has no table column (MariaDB's has): named by constraint.
    "SELECT CAST('constraint' AS CHAR) AS kind, CAST(CONCAT('check ', constraint_name) AS CHAR) AS name, \
       CAST('' AS CHAR) AS parent, CAST(CONCAT('CHECK (', check_clause, ')') AS CHAR) AS definition \
     FROM information_schema.check_constraints WHERE constraint_schema = DATABASE()",
    "SELECT CAST('view' AS CHAR) AS kind, CAST(table_name AS CHAR) AS name, CAST('' AS CHAR) AS parent, \
       CAST(view_definition AS CHAR) AS definition \
     FROM information_schema.views WHERE table_schema = DATABASE()",
    "SELECT CAST('function' AS CHAR) AS kind, CAST(r.routine_name AS CHAR) AS name, CAST('' AS CHAR) AS parent, \
       CAST(CONCAT(r.routine_type, ' ', r.routine_name, '(', \
         IFNULL((SELECT GROUP_CONCAT(CONCAT_WS(' ', p.parameter_mode, p.parameter_name, p.dtd_identifier) \
                   ORDER BY p.ordinal_position SEPARATOR ', ') \
                 FROM information_schema.parameters p \
                 WHERE p.specific_schema = r.routine_schema AND p.specific_name = r.specific_name \
                   AND p.ordinal_position > 0), ''), ')', \
         IF(r.routine_type = 'FUNCTION', CONCAT(' RETURNS ', r.dtd_identifier), ''), \
         CHAR(10), r.routine_definition) AS CHAR) AS definition \
     FROM information_schema.routines r WHERE r.routine_schema = DATABASE()",
    "SELECT CAST('trigger' AS CHAR) AS kind, CAST(CONCAT(event_object_table, '.', trigger_name) AS CHAR) AS name, \
       CAST(event_object_table AS CHAR) AS parent, \
       CAST(CONCAT(action_timing, ' ', event_manipulation, ' ON ', event_object_table, ' FOR EACH ', \
         action_orientation, CHAR(10), action_statement) AS CHAR) AS definition \
     FROM information_schema.triggers WHERE trigger_schema = DATABASE()",
    "SELECT CAST('sequence' AS CHAR) AS kind, CAST(table_name AS CHAR) AS name, CAST('' AS CHAR) AS parent, \
       CAST('' AS CHAR) AS definition \
     FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'SEQUENCE'",
];

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use crate::backend::VersionTable;
    use crate::snapshot::ObjectKind;

    /// Every kind of object SQLite has, read back with its definition.
    #[test]
    fn sqlite_describes_every_kind_of_object_it_has() {
        let mut conn = crate::connect("sqlite::memory:").expect("an in-memory database");
        conn.batch_execute(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
             CREATE TABLE owners (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
             CREATE TABLE pets (
                 id INTEGER PRIMARY KEY,
                 owner_id INTEGER REFERENCES owners (id) ON DELETE CASCADE,
                 name TEXT DEFAULT 'rex' CHECK (name <> ''),
                 UNIQUE (owner_id, name)
             );
             CREATE INDEX pets_name ON pets (name);
             CREATE VIEW named AS SELECT name FROM pets;
             CREATE TRIGGER pets_touch AFTER INSERT ON pets BEGIN SELECT 1; END;",
        )
        .expect("the schema is created");

        let schema = conn.schema(&VersionTable::default()).expect("described");

        let described: Vec<(ObjectKind, &str, Option<&str>, &str)> = schema
            .objects()
            .map(|o| {
                (
                    o.kind,
                    o.name.as_str(),
                    o.table.as_deref(),
                    o.definition.as_str(),
                )
            })
            .collect();
        assert_eq!(
            described,
            [
                (ObjectKind::Table, "owners", None, ""),
                (ObjectKind::Table, "pets", None, ""),
                (ObjectKind::Column, "owners.email", Some("owners"), "TEXT NOT NULL"),
                (ObjectKind::Column, "owners.id", Some("owners"), "INTEGER PRIMARY KEY"),
                (ObjectKind::Column, "pets.id", Some("pets"), "INTEGER PRIMARY KEY"),
                (ObjectKind::Column, "pets.name", Some("pets"), "TEXT DEFAULT 'rex'"),
                (ObjectKind::Column, "pets.owner_id", Some("pets"), "INTEGER"),
                (ObjectKind::Index, "pets_name", Some("pets"), "CREATE INDEX pets_name ON pets (name)"),
                (ObjectKind::Constraint, "owners.unique (email)", Some("owners"), "UNIQUE (email)"),
                (ObjectKind::Constraint, "pets.foreign key (owner_id)", Some("pets"), "FOREIGN KEY (owner_id) REFERENCES owners (id) ON UPDATE NO ACTION ON DELETE CASCADE"),
                (ObjectKind::Constraint, "pets.unique (owner_id, name)", Some("pets"), "UNIQUE (owner_id, name)"),
                (ObjectKind::View, "named", None, "CREATE VIEW named AS SELECT name FROM pets"),
                (ObjectKind::Trigger, "pets_touch", Some("pets"), "CREATE TRIGGER pets_touch AFTER INSERT ON pets BEGIN SELECT 1; END"),
            ]
        );
    }
}
