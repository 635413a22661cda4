//! Reading a diesel `schema.rs` without compiling or expanding it: `syn` parses the file and
//! diesel's own `table!` grammar (`diesel_table_macro_syntax`, the crate diesel's macro uses)
//! reads each table, so that what diesel accepts, we accept.
//!
//! Read: `table!` (schema-qualified names, `#[sql_name]`, `#[max_length]`, `use` lines,
//! composite keys), `joinable!`, `allow_tables_to_appear_in_same_query!` (its content says
//! nothing we need), nested `pub mod`, and the `sql_types` module's custom types. Every
//! error names the line.

use std::path::{Path, PathBuf};

use syn::spanned::Spanned;
use syn::visit::Visit;

use super::model::{Column, CustomType, DieselSchema, DieselType, Joinable, Table, TableName};
use super::types;

/// Why a schema file cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct SchemaFileError {
    /// The file.
    pub path: PathBuf,
    /// The line (1-based).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Reads and parses the schema file at `path`.
pub fn read_schema_file(path: &Path) -> Result<DieselSchema, SchemaFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| SchemaFileError {
        path: path.to_owned(),
        line: 1,
        message: format!("cannot read the schema file: {e}"),
    })?;
    parse_schema(&text, path)
}

/// Parses schema.rs `text` (its `path` is only for errors).
pub fn parse_schema(text: &str, path: &Path) -> Result<DieselSchema, SchemaFileError> {
    let error = |line: usize, message: String| SchemaFileError {
        path: path.to_owned(),
        line,
        message,
    };
    let file = syn::parse_file(text)
        .map_err(|e| error(line_of(e.span()), format!("not valid Rust: {e}")))?;
    let mut collector = Collector::default();
    collector.visit_file(&file);
    if let Some((line, message)) = collector.errors.into_iter().next() {
        return Err(error(line, message));
    }
    resolve(collector.found).map_err(|(line, message)| error(line, message))
}

fn line_of(span: proc_macro2::Span) -> usize {
    span.start().line.max(1)
}

/// A `table!` as written, before names across tables are resolved.
struct RawTable {
    module: Vec<String>,
    table: Table,
    primary_key_rust: Vec<(String, usize)>,
}

/// A `joinable!` as written.
struct RawJoinable {
    module: Vec<String>,
    child: syn::Ident,
    parent: syn::Ident,
    column: syn::Ident,
}

/// A column's type path before custom types are known.
struct RawColumnType {
    table_index: usize,
    column_index: usize,
    line: usize,
}

#[derive(Default)]
struct Found {
    tables: Vec<RawTable>,
    joinables: Vec<RawJoinable>,
    custom_types: Vec<CustomType>,
    column_types: Vec<RawColumnType>,
}

#[derive(Default)]
struct Collector {
    module: Vec<String>,
    found: Found,
    errors: Vec<(usize, String)>,
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.module.push(item.ident.to_string());
        syn::visit::visit_item_mod(self, item);
        self.module.pop();
    }

    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        if self.module.last().is_some_and(|m| m == "sql_types") {
            match custom_type(item) {
                Ok(Some(custom)) => self.found.custom_types.push(custom),
                Ok(None) => {}
                Err(e) => self.errors.push(e),
            }
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let Some(name) = mac.path.segments.last().map(|s| s.ident.to_string()) else {
            return;
        };
        match name.as_str() {
            "table" => match mac.parse_body::<diesel_table_macro_syntax::TableDecl>() {
                Ok(decl) => self.table(decl, line_of(mac.span())),
                Err(e) => self.errors.push((
                    line_of(e.span()),
                    format!("this `table!` does not parse as diesel's: {e}"),
                )),
            },
            "joinable" => match mac.parse_body::<JoinableDecl>() {
                Ok(decl) => self.found.joinables.push(RawJoinable {
                    module: self.module.clone(),
                    child: decl.child,
                    parent: decl.parent,
                    column: decl.column,
                }),
                Err(e) => self.errors.push((
                    line_of(e.span()),
                    format!("this `joinable!` does not parse; expected `joinable!(child -> parent (column))`: {e}"),
                )),
            },
            _ => {}
        }
    }
}

impl Collector {
    fn table(&mut self, decl: diesel_table_macro_syntax::TableDecl, line: usize) {
        if let Some(attr) = decl.meta.iter().find(|a| !is_doc(a)) {
            self.errors.push((
                line_of(attr.span()),
                format!(
                    "the attribute `#[{}]` on table `{}` is not supported here",
                    path_text(attr.path()),
                    decl.table_name
                ),
            ));
            return;
        }
        let table_index = self.found.tables.len();
        let mut columns = Vec::new();
        for (column_index, def) in decl.column_defs.iter().enumerate() {
            let column_line = line_of(def.column_name.span());
            if let Some(attr) = def.meta.iter().find(|a| !is_doc(a)) {
                self.errors.push((
                    line_of(attr.span()),
                    format!(
                        "the attribute `#[{}]` on column `{}.{}` is not supported (cargo revise compares the schema as it always is)",
                        path_text(attr.path()),
                        decl.table_name,
                        def.column_name
                    ),
                ));
                return;
            }
            let ty = match column_type(&def.tpe) {
                Ok(ty) => ty,
                Err((line, message)) => {
                    self.errors.push((
                        line,
                        format!(
                            "column `{}.{}`: {message}",
                            decl.table_name, def.column_name
                        ),
                    ));
                    return;
                }
            };
            let max_length = match &def.max_length {
                Some(lit) => match lit.base10_parse::<u64>() {
                    Ok(n) => Some(n),
                    Err(e) => {
                        self.errors
                            .push((line_of(lit.span()), format!("`#[max_length]`: {e}")));
                        return;
                    }
                },
                None => None,
            };
            self.found.column_types.push(RawColumnType {
                table_index,
                column_index,
                line: line_of(def.tpe.span()),
            });
            columns.push(Column {
                sql_name: def.sql_name.clone(),
                rust_name: syn::ext::IdentExt::unraw(&def.column_name).to_string(),
                ty,
                max_length,
                line: Some(column_line),
            });
        }
        let primary_key_rust = match &decl.primary_keys {
            Some(pk) => pk
                .keys
                .iter()
                .map(|k| (syn::ext::IdentExt::unraw(k).to_string(), line_of(k.span())))
                .collect(),
            // diesel's default key.
            None => vec![("id".to_owned(), line)],
        };
        self.found.tables.push(RawTable {
            module: self.module.clone(),
            table: Table {
                name: TableName {
                    schema: decl.schema.as_ref().map(ToString::to_string),
                    name: decl.sql_name.clone(),
                },
                rust_name: syn::ext::IdentExt::unraw(&decl.table_name).to_string(),
                primary_key: Vec::new(),
                columns,
                line: Some(line),
            },
            primary_key_rust,
        });
    }
}

fn is_doc(attr: &syn::Attribute) -> bool {
    attr.path().is_ident("doc")
}

fn path_text(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// `Nullable<Array<Nullable<Unsigned<Name>>>>`, each wrapper optional; `Range<T>` is read
/// as diesel's named range type (`Range<Int4>` is `Int4range`).
fn column_type(path: &syn::TypePath) -> Result<DieselType, (usize, String)> {
    // The wrappers may appear in this order only, each at most once:
    // Nullable (0), Array (1), the element's Nullable (2), Unsigned (3).
    let mut ty = DieselType::named("");
    let mut current = path;
    let mut stage = 0;
    loop {
        let segment = current
            .path
            .segments
            .last()
            .ok_or_else(|| (line_of(current.span()), "an empty type".to_owned()))?;
        let name = segment.ident.to_string();
        match (name.as_str(), single_argument(segment)) {
            ("Nullable", Some(inner)) if stage == 0 => {
                ty.nullable = true;
                stage = 1;
                current = inner;
            }
            ("Array", Some(inner)) if stage <= 1 => {
                ty.array = true;
                stage = 2;
                current = inner;
            }
            // `Array<Nullable<T>>`: element nullability is not represented (print-schema
            // always writes it so).
            ("Nullable", Some(inner)) if stage == 2 => {
                stage = 3;
                current = inner;
            }
            ("Unsigned", Some(inner)) if stage <= 3 => {
                ty.unsigned = true;
                stage = 4;
                current = inner;
            }
            ("Range" | "Multirange", Some(inner)) if stage <= 3 => {
                let element = inner
                    .path
                    .segments
                    .last()
                    .map(|s| s.ident.to_string())
                    .unwrap_or_default();
                ty.name = range_name(&name, &element).ok_or_else(|| {
                    (
                        line_of(inner.span()),
                        format!("`{name}<{element}>` is not one of diesel's range types"),
                    )
                })?;
                return Ok(ty);
            }
            (_, None) if segment.arguments.is_empty() => {
                ty.name = name;
                return Ok(ty);
            }
            _ => {
                return Err((
                    line_of(segment.span()),
                    format!(
                        "`{}` is not a diesel column type (expected a type name, optionally in `Nullable<...>`, `Array<...>` or `Unsigned<...>`)",
                        quote_path(path)
                    ),
                ))
            }
        }
    }
}

fn quote_path(path: &syn::TypePath) -> String {
    use quote::ToTokens;
    path.to_token_stream().to_string().replace(' ', "")
}

fn single_argument(segment: &syn::PathSegment) -> Option<&syn::TypePath> {
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>().as_slice() {
        [syn::GenericArgument::Type(syn::Type::Path(inner))] => Some(inner),
        _ => None,
    }
}

fn range_name(wrapper: &str, element: &str) -> Option<String> {
    let base = match types::canonical_name(element)? {
        "Integer" => "Int4",
        "BigInt" => "Int8",
        "Date" => "Date",
        "Numeric" => "Num",
        "Timestamp" => "Ts",
        "Timestamptz" => "Tstz",
        _ => return None,
    };
    let suffix = if wrapper == "Range" {
        "range"
    } else {
        "multirange"
    };
    Some(format!("{base}{suffix}"))
}

/// A struct of the `sql_types` module: `#[diesel(postgres_type(name = "x", schema = "s"))]`
/// (or `mysql_type`/`sqlite_type`). Structs without such an attribute are not SQL types.
fn custom_type(item: &syn::ItemStruct) -> Result<Option<CustomType>, (usize, String)> {
    for attr in item.attrs.iter().filter(|a| a.path().is_ident("diesel")) {
        let mut found: Option<CustomType> = None;
        let parsed = attr.parse_nested_meta(|meta| {
            let kind = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            if !matches!(
                kind.as_str(),
                "postgres_type" | "mysql_type" | "sqlite_type"
            ) {
                // Other diesel options (`sql_type`, ...) say nothing about the SQL name.
                if meta.input.peek(syn::token::Paren) {
                    let _ = meta.input.parse::<proc_macro2::Group>()?;
                } else if meta.input.peek(syn::Token![=]) {
                    let _ = meta.value()?.parse::<syn::Expr>()?;
                }
                return Ok(());
            }
            let mut custom = CustomType {
                rust_name: item.ident.to_string(),
                sql_name: item.ident.to_string(),
                schema: None,
                mysql: kind == "mysql_type",
            };
            meta.parse_nested_meta(|inner| {
                let value: syn::LitStr = inner.value()?.parse()?;
                if inner.path.is_ident("name") {
                    custom.sql_name = value.value();
                } else if inner.path.is_ident("schema") {
                    custom.schema = Some(value.value());
                }
                Ok(())
            })?;
            found = Some(custom);
            Ok(())
        });
        if let Err(e) = parsed {
            return Err((
                line_of(e.span()),
                format!(
                    "the `#[diesel(...)]` attribute of `{}` does not parse: {e}",
                    item.ident
                ),
            ));
        }
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// `child -> parent (column)`, the grammar of diesel's `joinable!`.
struct JoinableDecl {
    child: syn::Ident,
    parent: syn::Ident,
    column: syn::Ident,
}

impl syn::parse::Parse for JoinableDecl {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let child = input.parse()?;
        input.parse::<syn::Token![->]>()?;
        let parent = input.parse()?;
        let content;
        syn::parenthesized!(content in input);
        let column = content.parse()?;
        Ok(Self {
            child,
            parent,
            column,
        })
    }
}

/// Resolves Rust names across tables: primary keys, joinables, custom types.
fn resolve(mut found: Found) -> Result<DieselSchema, (usize, String)> {
    for check in &found.column_types {
        let table = &found.tables[check.table_index].table;
        let column = &table.columns[check.column_index];
        let known = types::is_diesel_type(&column.ty.name)
            || found
                .custom_types
                .iter()
                .any(|c| c.rust_name == column.ty.name);
        if !known {
            return Err((
                check.line,
                format!(
                    "column `{}.{}` has the type `{}`, which is neither a diesel SQL type nor a struct of this file's `sql_types` module",
                    table.rust_name, column.rust_name, column.ty.name
                ),
            ));
        }
    }
    for raw in &mut found.tables {
        let mut key = Vec::new();
        for (rust, line) in &raw.primary_key_rust {
            let column = raw.table.column_by_rust_name(rust).ok_or_else(|| {
                (
                    *line,
                    format!(
                        "table `{}` names `{rust}` as its primary key, but has no such column",
                        raw.table.rust_name
                    ),
                )
            })?;
            key.push(column.sql_name.clone());
        }
        raw.table.primary_key = key;
    }
    let find = |module: &[String], ident: &syn::Ident| -> Option<&RawTable> {
        let name = syn::ext::IdentExt::unraw(ident).to_string();
        let mut candidates = found.tables.iter().filter(|t| t.table.rust_name == name);
        let same_module = candidates.clone().find(|t| t.module == module);
        same_module.or_else(|| candidates.next())
    };
    let mut joinables = Vec::new();
    for raw in &found.joinables {
        let line = line_of(raw.child.span());
        let child = find(&raw.module, &raw.child).ok_or_else(|| {
            (
                line,
                format!(
                    "`joinable!` names the table `{}`, which no `table!` declares",
                    raw.child
                ),
            )
        })?;
        let parent = find(&raw.module, &raw.parent).ok_or_else(|| {
            (
                line,
                format!(
                    "`joinable!` names the table `{}`, which no `table!` declares",
                    raw.parent
                ),
            )
        })?;
        let column_name = syn::ext::IdentExt::unraw(&raw.column).to_string();
        let column = child.table.column_by_rust_name(&column_name).ok_or_else(|| {
            (
                line_of(raw.column.span()),
                format!(
                    "`joinable!` names the column `{}.{column_name}`, which the table does not have",
                    child.table.rust_name
                ),
            )
        })?;
        joinables.push(Joinable {
            child: child.table.name.clone(),
            parent: parent.table.name.clone(),
            column: column.sql_name.clone(),
            line: Some(line),
        });
    }
    let mut tables: Vec<Table> = Vec::new();
    for raw in found.tables {
        if let Some(first) = tables.iter().find(|t| t.name == raw.table.name) {
            return Err((
                raw.table.line.unwrap_or(1),
                format!(
                    "table `{}` is declared twice (first at line {})",
                    raw.table.name,
                    first.line.unwrap_or(1)
                ),
            ));
        }
        tables.push(raw.table);
    }
    Ok(DieselSchema {
        tables,
        joinables,
        custom_types: found.custom_types,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DieselSchema, SchemaFileError> {
        parse_schema(text, Path::new("src/schema.rs"))
    }

    #[test]
    fn reads_what_print_schema_writes() {
        let schema = parse(
            r#"// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "mood", schema = "app"))]
    pub struct Mood;
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Mood;

    users (id) {
        id -> Int4,
        #[max_length = 255]
        name -> Varchar,
        tags -> Array<Nullable<Text>>,
        mood -> Nullable<Mood>,
        #[sql_name = "type"]
        type_ -> Text,
    }
}

diesel::table! {
    posts (id) {
        id -> Int4,
        user_id -> Int4,
    }
}

diesel::joinable!(posts -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(posts, users,);
"#,
        )
        .expect("parses");
        let users = &schema.tables[0];
        assert_eq!(users.name, TableName::plain("users"));
        assert_eq!(users.primary_key, ["id"]);
        assert_eq!(users.columns[1].max_length, Some(255));
        assert_eq!(users.columns[2].ty.to_string(), "Array<Nullable<Text>>");
        assert_eq!(users.columns[3].ty.to_string(), "Nullable<Mood>");
        assert_eq!(users.columns[4].sql_name, "type");
        assert_eq!(users.columns[4].rust_name, "type_");
        assert_eq!(users.columns[1].line, Some(16));
        assert_eq!(schema.custom_types[0].sql_name, "mood");
        assert_eq!(schema.custom_types[0].schema.as_deref(), Some("app"));
        assert_eq!(schema.joinables[0].child, TableName::plain("posts"));
        assert_eq!(schema.joinables[0].column, "user_id");
    }

    #[test]
    fn schema_qualified_tables_in_modules_and_composite_keys() {
        let schema = parse(
            "pub mod v2 {\n    diesel::table! {\n        v2.members (team_id, user_id) {\n            team_id -> Int4,\n            user_id -> Int4,\n        }\n    }\n}\n",
        )
        .expect("parses");
        let table = &schema.tables[0];
        assert_eq!(table.name.schema.as_deref(), Some("v2"));
        assert_eq!(table.primary_key, ["team_id", "user_id"]);
    }

    #[test]
    fn errors_name_the_line() {
        let unknown = parse(
            "diesel::table! {\n    t (id) {\n        id -> Int4,\n        x -> Strng,\n    }\n}\n",
        )
        .expect_err("unknown type");
        assert_eq!(unknown.line, 4);
        assert!(unknown.message.contains("Strng"), "{}", unknown.message);

        let broken = parse("diesel::table! {\n    t (id) {\n        id -> ,\n    }\n}\n")
            .expect_err("bad table");
        assert_eq!(broken.line, 3);

        let rust = parse("fn main( {}\n").expect_err("bad rust");
        assert!(rust.message.contains("not valid Rust"), "{}", rust.message);

        let key = parse("diesel::table! {\n    t (code) {\n        id -> Int4,\n    }\n}\n")
            .expect_err("bad key");
        assert_eq!(key.line, 2);

        let cfg = parse("diesel::table! {\n    t (id) {\n        id -> Int4,\n        #[cfg(feature = \"x\")]\n        x -> Int4,\n    }\n}\n")
            .expect_err("cfg");
        assert_eq!(cfg.line, 4);
    }
}
