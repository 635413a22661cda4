//! One type mapping per backend, both directions: the SQL a diesel type is created as, and
//! when two diesel types name the same column type on a backend.
//!
//! The rule (SCHEMA-NOTES b5): two types are equal on a backend when diesel's print-schema
//! would read the column we create for one back as the other, after resolving diesel's
//! aliases (`Int4` is `Integer`, `Varchar` is `Text`) and folding what the backend cannot
//! store (SQLite keeps no lengths and reads `NUMERIC` back as `Double`; MariaDB's `JSON` is
//! `LONGTEXT`). The SQL we write is chosen so that it reads back as the type it came from:
//! `Double` is `DOUBLE PRECISION` on PostgreSQL (which has no `DOUBLE`), `Float` is `REAL`
//! there (PostgreSQL's `FLOAT` is a double), `Binary` is `BYTEA`.

use crate::backend::Dialect;

use super::model::{CustomType, DieselType};

/// One diesel SQL type, its aliases, and what it is created as on each backend (`None`: the
/// backend cannot hold it).
struct TypeInfo {
    canonical: &'static str,
    aliases: &'static [&'static str],
    postgres: Option<&'static str>,
    mysql: Option<&'static str>,
    sqlite: Option<&'static str>,
}

const fn pg_only(canonical: &'static str, sql: &'static str) -> TypeInfo {
    TypeInfo {
        canonical,
        aliases: &[],
        postgres: Some(sql),
        mysql: None,
        sqlite: None,
    }
}

/// diesel 2.3's SQL types (`diesel::sql_types` and the backends' own) with the hidden aliases
/// print-schema writes (`Int4`, `Bpchar`, `Longtext`...).
const TYPES: &[TypeInfo] = &[
    TypeInfo {
        canonical: "Bool",
        aliases: &[],
        postgres: Some("BOOLEAN"),
        mysql: Some("BOOLEAN"),
        sqlite: Some("BOOLEAN"),
    },
    TypeInfo {
        canonical: "TinyInt",
        aliases: &["Tinyint"],
        postgres: None,
        mysql: Some("TINYINT"),
        // SQLite's print-schema reads any `tiny...int` back as `Bool`.
        sqlite: None,
    },
    TypeInfo {
        canonical: "SmallInt",
        aliases: &["Smallint", "Int2", "SmallSerial"],
        postgres: Some("SMALLINT"),
        mysql: Some("SMALLINT"),
        sqlite: Some("SMALLINT"),
    },
    TypeInfo {
        canonical: "Integer",
        aliases: &["Int4", "Serial"],
        postgres: Some("INTEGER"),
        mysql: Some("INTEGER"),
        sqlite: Some("INTEGER"),
    },
    TypeInfo {
        canonical: "BigInt",
        aliases: &["Bigint", "Int8", "BigSerial"],
        postgres: Some("BIGINT"),
        mysql: Some("BIGINT"),
        sqlite: Some("BIGINT"),
    },
    TypeInfo {
        canonical: "Float",
        aliases: &["Float4"],
        // PostgreSQL's `FLOAT` is `float8`: it would read back as `Float8`.
        postgres: Some("REAL"),
        mysql: Some("FLOAT"),
        sqlite: Some("REAL"),
    },
    TypeInfo {
        canonical: "Double",
        aliases: &["Float8"],
        // PostgreSQL has no `DOUBLE`; SQLite's print-schema looks for "float" before
        // "double", so `FLOAT8` would read back as `Float` there.
        postgres: Some("DOUBLE PRECISION"),
        mysql: Some("DOUBLE"),
        sqlite: Some("DOUBLE PRECISION"),
    },
    TypeInfo {
        canonical: "Numeric",
        aliases: &["Decimal"],
        postgres: Some("NUMERIC"),
        // MySQL's bare `DECIMAL` is `DECIMAL(10,0)`: fractions would be cut off silently.
        mysql: None,
        sqlite: Some("NUMERIC"),
    },
    TypeInfo {
        canonical: "Text",
        aliases: &[
            "VarChar",
            "Varchar",
            "Char",
            "Tinytext",
            "Mediumtext",
            "Longtext",
            "Bpchar",
        ],
        postgres: Some("TEXT"),
        mysql: Some("TEXT"),
        sqlite: Some("TEXT"),
    },
    TypeInfo {
        canonical: "Binary",
        aliases: &[
            "Tinyblob",
            "Blob",
            "Mediumblob",
            "Longblob",
            "Varbinary",
            "Bit",
            "Bytea",
        ],
        postgres: Some("BYTEA"),
        mysql: Some("BLOB"),
        sqlite: Some("BLOB"),
    },
    TypeInfo {
        canonical: "Date",
        aliases: &[],
        postgres: Some("DATE"),
        mysql: Some("DATE"),
        sqlite: Some("DATE"),
    },
    TypeInfo {
        canonical: "Time",
        aliases: &[],
        postgres: Some("TIME"),
        mysql: Some("TIME"),
        sqlite: Some("TIME"),
    },
    TypeInfo {
        canonical: "Timestamp",
        aliases: &[],
        postgres: Some("TIMESTAMP"),
        mysql: Some("TIMESTAMP"),
        sqlite: Some("TIMESTAMP"),
    },
    // SQLite's print-schema reads only `datetime`/`timestamp` back, never a time zone.
    pg_only("Timestamptz", "TIMESTAMPTZ"),
    TypeInfo {
        canonical: "Datetime",
        aliases: &[],
        postgres: None,
        mysql: Some("DATETIME"),
        sqlite: None,
    },
    TypeInfo {
        canonical: "Json",
        aliases: &[],
        postgres: Some("JSON"),
        mysql: Some("JSON"),
        sqlite: Some("TEXT"),
    },
    TypeInfo {
        canonical: "Jsonb",
        aliases: &[],
        postgres: Some("JSONB"),
        mysql: None,
        sqlite: Some("BLOB"),
    },
    pg_only("Uuid", "UUID"),
    pg_only("Interval", "INTERVAL"),
    pg_only("Money", "MONEY"),
    pg_only("Inet", "INET"),
    pg_only("Cidr", "CIDR"),
    TypeInfo {
        canonical: "MacAddr",
        aliases: &["Macaddr"],
        postgres: Some("MACADDR"),
        mysql: None,
        sqlite: None,
    },
    TypeInfo {
        canonical: "MacAddr8",
        aliases: &["Macaddr8"],
        postgres: Some("MACADDR8"),
        mysql: None,
        sqlite: None,
    },
    pg_only("Oid", "OID"),
    pg_only("PgLsn", "PG_LSN"),
    pg_only("Citext", "CITEXT"),
    pg_only("Int4range", "INT4RANGE"),
    pg_only("Int8range", "INT8RANGE"),
    pg_only("Daterange", "DATERANGE"),
    pg_only("Numrange", "NUMRANGE"),
    pg_only("Tsrange", "TSRANGE"),
    pg_only("Tstzrange", "TSTZRANGE"),
    pg_only("Int4multirange", "INT4MULTIRANGE"),
    pg_only("Int8multirange", "INT8MULTIRANGE"),
    pg_only("Datemultirange", "DATEMULTIRANGE"),
    pg_only("Nummultirange", "NUMMULTIRANGE"),
    pg_only("Tsmultirange", "TSMULTIRANGE"),
    pg_only("Tstzmultirange", "TSTZMULTIRANGE"),
];

fn info(name: &str) -> Option<&'static TypeInfo> {
    TYPES
        .iter()
        .find(|t| t.canonical == name || t.aliases.contains(&name))
}

/// Whether `name` is one of diesel's own SQL types (or their aliases).
pub fn is_diesel_type(name: &str) -> bool {
    info(name).is_some()
}

/// diesel's own name for `name`, resolving aliases (`Int4` -> `Integer`); `None` for a name
/// diesel does not have.
pub fn canonical_name(name: &str) -> Option<&'static str> {
    info(name).map(|t| t.canonical)
}

/// A column type reduced to what a backend can tell apart: two columns whose `ColumnKind`s
/// are equal are the same for diesel on that backend.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ColumnKind {
    /// diesel's canonical name, or `custom:schema.name` for a type of the database's own.
    pub base: String,
    /// `Nullable<...>`.
    pub nullable: bool,
    /// `Array<...>`.
    pub array: bool,
    /// `Unsigned<...>`.
    pub unsigned: bool,
    /// The length, where the backend keeps one for this type.
    pub max_length: Option<u64>,
}

impl ColumnKind {
    /// The kind of `ty` (with `max_length`) on `dialect`; custom types are looked up in
    /// `custom` by their Rust name.
    pub fn of(
        ty: &DieselType,
        max_length: Option<u64>,
        dialect: Dialect,
        custom: &[CustomType],
    ) -> Self {
        let base = match canonical_name(&ty.name) {
            Some(name) => fold(name, dialect).to_owned(),
            None => match custom.iter().find(|c| c.rust_name == ty.name) {
                Some(c) => custom_key(c.schema.as_deref(), &c.sql_name),
                None => custom_key(None, &ty.name),
            },
        };
        let keeps_length = match dialect {
            Dialect::Sqlite => false,
            Dialect::Postgres => base == "Text",
            Dialect::Mysql => base == "Text" || base == "Binary",
        };
        Self {
            nullable: ty.nullable,
            array: ty.array,
            unsigned: ty.unsigned,
            max_length: max_length.filter(|_| keeps_length),
            base,
        }
    }

    /// How wide a value this kind holds, for telling narrowing changes (destructive) from
    /// widening ones: `None` when the kinds are not comparable.
    fn width(&self) -> Option<(u8, u64)> {
        let rank = match self.base.as_str() {
            "TinyInt" => (0, 1),
            "SmallInt" => (0, 2),
            "Integer" => (0, 4),
            "BigInt" => (0, 8),
            "Float" => (1, 4),
            "Double" => (1, 8),
            "Text" => (2, self.max_length.unwrap_or(u64::MAX)),
            "Binary" => (3, self.max_length.unwrap_or(u64::MAX)),
            _ => return None,
        };
        Some(rank)
    }

    /// Whether changing a column from `self` to `to` may lose values: a smaller length,
    /// precision or range, or a change between unrelated types.
    pub fn narrows_to(&self, to: &ColumnKind) -> bool {
        if self.base == to.base && self.max_length == to.max_length {
            return false;
        }
        match (self.width(), to.width()) {
            (Some((family, from)), Some((to_family, to_width))) if family == to_family => {
                to_width < from
            }
            _ => true,
        }
    }
}

/// A key for a database type that is not diesel's.
fn custom_key(schema: Option<&str>, sql_name: &str) -> String {
    match schema {
        Some(schema) => format!("custom:{schema}.{sql_name}"),
        None => format!("custom:{sql_name}"),
    }
}

/// What a backend reads back in place of a type it cannot store as such.
fn fold(canonical: &'static str, dialect: Dialect) -> &'static str {
    match (dialect, canonical) {
        (Dialect::Sqlite, "Numeric") => "Double",
        (Dialect::Sqlite, "Json") => "Text",
        (Dialect::Sqlite, "Jsonb") => "Binary",
        // MariaDB's JSON is LONGTEXT with a check; MySQL's reads back as Json either way.
        (Dialect::Mysql, "Json") => "Text",
        (_, other) => other,
    }
}

/// The SQL type a column of `ty` is created with on `dialect` (without `NULL`/`NOT NULL`), or
/// why it cannot be.
pub fn sql_type(
    ty: &DieselType,
    max_length: Option<u64>,
    dialect: Dialect,
    custom: &[CustomType],
) -> Result<String, String> {
    let Some(info) = info(&ty.name) else {
        return custom_sql_type(ty, dialect, custom);
    };
    let base = match dialect {
        Dialect::Postgres => info.postgres,
        Dialect::Mysql => info.mysql,
        Dialect::Sqlite => info.sqlite,
    }
    .ok_or_else(|| cannot_hold(ty, dialect))?;
    let mut sql = match (info.canonical, max_length) {
        ("Text", Some(n)) if matches!(ty.name.as_str(), "Char" | "Bpchar") => format!("CHAR({n})"),
        ("Text", Some(n)) => format!("VARCHAR({n})"),
        ("Text", None) if matches!(ty.name.as_str(), "Char" | "Bpchar") => {
            if dialect == Dialect::Sqlite {
                "CHAR".to_owned()
            } else {
                return Err(format!(
                    "`{}` needs `#[max_length = N]` on {} (a bare CHAR is one character)",
                    ty.name,
                    dialect.name()
                ));
            }
        }
        ("Text", None)
            if dialect == Dialect::Mysql && matches!(ty.name.as_str(), "Varchar" | "VarChar") =>
        {
            return Err(
                "a MySQL VARCHAR needs a length: add `#[max_length = N]`, or use `Text`".to_owned(),
            )
        }
        ("Text", None) if matches!(ty.name.as_str(), "Varchar" | "VarChar") => "VARCHAR".to_owned(),
        ("Text", None) => text_variant(&ty.name, dialect).to_owned(),
        ("Binary", Some(n)) if dialect == Dialect::Mysql => format!("VARBINARY({n})"),
        ("Binary", Some(_)) if dialect == Dialect::Postgres => {
            return Err("PostgreSQL's BYTEA has no length; remove `#[max_length]`".to_owned())
        }
        ("Binary", _) if dialect == Dialect::Mysql => binary_variant(&ty.name).to_owned(),
        (_, _) => base.to_owned(),
    };
    if ty.unsigned {
        if dialect != Dialect::Mysql {
            return Err(format!(
                "`Unsigned` is MySQL's; {} has none",
                dialect.name()
            ));
        }
        sql.push_str(" UNSIGNED");
    }
    if ty.array {
        if dialect != Dialect::Postgres {
            return Err(format!(
                "`Array` is PostgreSQL's; {} has none",
                dialect.name()
            ));
        }
        sql.push_str("[]");
    }
    Ok(sql)
}

/// MySQL's sized text types keep their names (`Longtext` is `LONGTEXT`).
fn text_variant(name: &str, dialect: Dialect) -> &'static str {
    match (dialect, name) {
        (Dialect::Mysql, "Tinytext") => "TINYTEXT",
        (Dialect::Mysql, "Mediumtext") => "MEDIUMTEXT",
        (Dialect::Mysql, "Longtext") => "LONGTEXT",
        _ => "TEXT",
    }
}

/// MySQL's sized blob types keep their names.
fn binary_variant(name: &str) -> &'static str {
    match name {
        "Tinyblob" => "TINYBLOB",
        "Mediumblob" => "MEDIUMBLOB",
        "Longblob" => "LONGBLOB",
        _ => "BLOB",
    }
}

fn cannot_hold(ty: &DieselType, dialect: Dialect) -> String {
    let hint = match (ty.name.as_str(), dialect) {
        ("Numeric" | "Decimal", Dialect::Mysql) => {
            ": a bare DECIMAL is DECIMAL(10,0) and would cut off fractions; write the revision by hand with the precision you need (precision is not compared)"
        }
        ("Timestamptz", Dialect::Mysql) => ": use `Timestamp` or `Datetime`",
        ("Timestamptz", Dialect::Sqlite) => ": use `Timestamp` (diesel cannot read a time zone back from SQLite's schema)",
        ("TinyInt" | "Tinyint", Dialect::Sqlite) => ": SQLite reads any TINYINT back as `Bool`; use `SmallInt`",
        _ => "",
    };
    format!(
        "{} has no column type for diesel's `{}`{hint}",
        dialect.name(),
        ty.name
    )
}

fn custom_sql_type(
    ty: &DieselType,
    dialect: Dialect,
    custom: &[CustomType],
) -> Result<String, String> {
    let Some(custom) = custom.iter().find(|c| c.rust_name == ty.name) else {
        return Err(format!("`{}` is not a diesel SQL type", ty.name));
    };
    if dialect != Dialect::Postgres {
        return Err(format!(
            "`{}` is a custom type; custom types and enums are not generated on {} (their variants are not in schema.rs)",
            ty.name,
            dialect.name()
        ));
    }
    let quoted = match &custom.schema {
        Some(schema) => format!("\"{schema}\".\"{}\"", custom.sql_name),
        None => format!("\"{}\"", custom.sql_name),
    };
    Ok(if ty.array {
        format!("{quoted}[]")
    } else {
        quoted
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(name: &str) -> DieselType {
        DieselType::named(name)
    }

    #[test]
    fn every_type_is_created_as_something_that_reads_back_as_itself() {
        let cases = [
            ("Double", Dialect::Postgres, "DOUBLE PRECISION"),
            ("Float", Dialect::Postgres, "REAL"),
            ("Binary", Dialect::Postgres, "BYTEA"),
            ("Double", Dialect::Sqlite, "DOUBLE PRECISION"),
            ("Double", Dialect::Mysql, "DOUBLE"),
            ("Bool", Dialect::Mysql, "BOOLEAN"),
            ("Timestamptz", Dialect::Postgres, "TIMESTAMPTZ"),
            ("Int4", Dialect::Postgres, "INTEGER"),
            ("Json", Dialect::Sqlite, "TEXT"),
        ];
        for (name, dialect, sql) in cases {
            assert_eq!(sql_type(&ty(name), None, dialect, &[]).as_deref(), Ok(sql));
        }
        assert_eq!(
            sql_type(&ty("Varchar"), Some(20), Dialect::Postgres, &[]).as_deref(),
            Ok("VARCHAR(20)")
        );
        let mut array = ty("Varchar");
        array.array = true;
        assert_eq!(
            sql_type(&array, Some(20), Dialect::Postgres, &[]).as_deref(),
            Ok("VARCHAR(20)[]")
        );
        let mut unsigned = ty("Integer");
        unsigned.unsigned = true;
        assert_eq!(
            sql_type(&unsigned, None, Dialect::Mysql, &[]).as_deref(),
            Ok("INTEGER UNSIGNED")
        );
    }

    #[test]
    fn types_a_backend_cannot_hold_are_refused_with_the_reason() {
        for (name, dialect) in [
            ("Timestamptz", Dialect::Mysql),
            ("Numeric", Dialect::Mysql),
            ("Uuid", Dialect::Sqlite),
            ("Datetime", Dialect::Postgres),
        ] {
            let error = sql_type(&ty(name), None, dialect, &[]).expect_err(name);
            assert!(error.contains(name), "{error}");
        }
        assert!(sql_type(&ty("Varchar"), None, Dialect::Mysql, &[])
            .expect_err("length")
            .contains("max_length"));
    }

    #[test]
    fn aliases_and_backend_folds_compare_equal() {
        let kind = |name: &str, len, dialect| ColumnKind::of(&ty(name), len, dialect, &[]);
        assert_eq!(
            kind("Int4", None, Dialect::Postgres),
            kind("Integer", None, Dialect::Postgres)
        );
        assert_eq!(
            kind("Varchar", Some(20), Dialect::Sqlite),
            kind("Text", None, Dialect::Sqlite)
        );
        assert_ne!(
            kind("Varchar", Some(20), Dialect::Postgres),
            kind("Text", None, Dialect::Postgres)
        );
        assert_eq!(
            kind("Numeric", None, Dialect::Sqlite),
            kind("Double", None, Dialect::Sqlite)
        );
        assert_ne!(
            kind("Float", None, Dialect::Postgres),
            kind("Double", None, Dialect::Postgres)
        );
    }

    #[test]
    fn narrowing_is_told_from_widening() {
        let kind = |name: &str, len| ColumnKind::of(&ty(name), len, Dialect::Postgres, &[]);
        assert!(kind("BigInt", None).narrows_to(&kind("Integer", None)));
        assert!(!kind("Integer", None).narrows_to(&kind("BigInt", None)));
        assert!(kind("Varchar", Some(200)).narrows_to(&kind("Varchar", Some(100))));
        assert!(!kind("Varchar", Some(100)).narrows_to(&kind("Text", None)));
        assert!(kind("Text", None).narrows_to(&kind("Integer", None)));
    }
}
