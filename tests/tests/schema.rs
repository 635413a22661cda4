//! The schema (SPEC section 9): `cargo revise schema`, `new --autogenerate` and `check
//! --schema`, on SQLite, PostgreSQL and MariaDB.
//!
//! Each scenario starts from a workspace of two members (`shop` with `customers`, `audit`
//! with `audit_events`) migrated on a fresh database, edits `shop`'s schema.rs, generates a
//! revision and then checks what a user relies on: the file says what was expected; `up`
//! makes `check --schema` pass; `down` restores the whole schema, as the database's own dump
//! tool (pg_dump, mariadb-dump, SQLite's pragmas) shows it; the stairway test passes with the
//! generated file.

use revise_tests::{Backend, Captured, Rev, Workspace};

/// `shop`'s schema.rs as its first revision leaves it, in diesel names every backend reads
/// back the same way.
const BASE_SCHEMA: &str = "// @generated automatically by Diesel CLI.

diesel::table! {
    customers (id) {
        id -> Integer,
        #[max_length = 100]
        name -> Varchar,
        note -> Nullable<Text>,
    }
}
";

/// Runs `scenario` on one backend, saying so when this build cannot reach it.
fn on(backend: Backend, test: &str, scenario: fn(Backend)) {
    if backend.skip(test) {
        return;
    }
    scenario(backend);
}

/// One `#[test]` per backend for a scenario, so a failure names its backend.
macro_rules! on_every_backend {
    ($scenario:ident) => {
        mod $scenario {
            use super::*;

            #[test]
            fn sqlite() {
                on(Backend::Sqlite, stringify!($scenario), super::$scenario);
            }

            #[test]
            fn postgres() {
                on(Backend::Postgres, stringify!($scenario), super::$scenario);
            }

            #[test]
            fn mysql() {
                on(Backend::Mysql, stringify!($scenario), super::$scenario);
            }
        }
    };
}

/// The two-member workspace, migrated to its heads, with `shop`'s schema.rs matching.
fn shop(backend: Backend) -> Workspace {
    let ws = Workspace::with_backend(&["shop", "audit"], backend);
    ws.revision(
        "shop",
        &Rev::new(
            "s1",
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, note TEXT);",
        )
        .message("Create customers")
        .down("DROP TABLE customers;"),
    );
    ws.revision(
        "audit",
        &Rev::new(
            "a1",
            "CREATE TABLE audit_events (id INTEGER PRIMARY KEY, kind VARCHAR(20));",
        )
        .message("Create audit events")
        .down("DROP TABLE audit_events;"),
    );
    write_schema(&ws, BASE_SCHEMA);
    ws.run(["up"]).success();
    ws
}

fn write_schema(ws: &Workspace, text: &str) {
    let path = ws.root().join("shop/src/schema.rs");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// `BASE_SCHEMA` with `extra` added at the end.
fn schema_with(extra: &str) -> String {
    format!("{BASE_SCHEMA}\n{extra}")
}

/// Runs `new -p shop --autogenerate -m MESSAGE` with `extra_args` (the exit status is the
/// caller's to check).
fn autogenerate(ws: &Workspace, message: &str, extra_args: &[&str]) -> assert_cmd::assert::Assert {
    let mut args = vec!["new", "-p", "shop", "--autogenerate", "-m", message];
    args.extend_from_slice(extra_args);
    ws.run(&args)
}

/// Runs `new --autogenerate` for `shop` with the id `gen` and returns the generated file's
/// text (panics when no file was written).
fn generate(ws: &Workspace, extra_args: &[&str]) -> String {
    let mut args = vec!["--rev-id", "gen"];
    args.extend_from_slice(extra_args);
    let out = autogenerate(ws, "Generated", &args).success();
    assert!(
        out.stdout_text()
            .contains("Generating shop/migrations/gen_generated.sql"),
        "{}\n{}",
        out.stdout_text(),
        out.stderr_text()
    );
    ws.read("shop/migrations/gen_generated.sql")
}

/// What every generated revision must do on the live database: `up` applies it and makes
/// `check --schema` pass; `down shop@-1` restores the whole schema; `up` again; and the
/// stairway test passes with it.
fn applies_and_reverts(ws: &Workspace) {
    let before = ws.db().schema_dump();
    ws.run(["up"]).success();
    let check = ws.run(["check", "--schema"]).success();
    assert!(
        check
            .stdout_text()
            .contains("matches the revisions of `shop`"),
        "{}",
        check.stdout_text()
    );
    ws.run(["down", "shop@-1"]).success();
    assert_eq!(
        ws.db().schema_dump(),
        before,
        "the generated down section must restore the schema exactly"
    );
    ws.run(["up"]).success();
    ws.run(["test"]).success();
}

fn section<'t>(text: &'t str, marker: &str) -> &'t str {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in\n{text}"));
    let rest = &text[start + marker.len()..];
    match rest.find("-- revise:") {
        Some(end) => &rest[..end],
        None => rest,
    }
}

fn up_section(text: &str) -> &str {
    section(text, "-- revise:up")
}

fn down_section(text: &str) -> &str {
    section(text, "-- revise:down")
}

// A new table whose key is one integer column gets the backend's own ids.
fn a_new_table_gets_the_backends_identity(backend: Backend) {
    let ws = shop(backend);
    write_schema(
        &ws,
        &schema_with(
            "diesel::table! {\n    tags (id) {\n        id -> Integer,\n        #[max_length = 40]\n        label -> Varchar,\n    }\n}\n",
        ),
    );
    let text = generate(&ws, &[]);
    let up = up_section(&text);
    let identity = match backend {
        Backend::Postgres => "\"id\" INTEGER GENERATED BY DEFAULT AS IDENTITY",
        Backend::Mysql => "`id` INTEGER NOT NULL AUTO_INCREMENT",
        Backend::Sqlite => "\"id\" INTEGER NOT NULL",
    };
    assert!(up.contains(identity), "{up}");
    assert!(down_section(&text).contains("DROP TABLE"), "{text}");
    applies_and_reverts(&ws);
    // The ids are the database's own: rows are inserted without one.
    ws.db()
        .execute("INSERT INTO tags (label) VALUES ('a'); INSERT INTO tags (label) VALUES ('b');");
    assert_eq!(
        ws.db()
            .strings("SELECT label AS name FROM tags ORDER BY id"),
        ["a", "b"]
    );
}
on_every_backend!(a_new_table_gets_the_backends_identity);

// Tables linked by joinable! are created parents first, whatever their names say.
fn linked_tables_are_created_parents_first(backend: Backend) {
    let ws = shop(backend);
    write_schema(
        &ws,
        &schema_with(
            "diesel::table! {\n    a_items (id) {\n        id -> Integer,\n        z_order_id -> Integer,\n    }\n}\n\n\
             diesel::table! {\n    m_lines (id) {\n        id -> Integer,\n        a_item_id -> Integer,\n        customer_id -> Nullable<Integer>,\n    }\n}\n\n\
             diesel::table! {\n    z_orders (id) {\n        id -> Integer,\n        #[max_length = 20]\n        code -> Varchar,\n    }\n}\n\n\
             diesel::joinable!(a_items -> z_orders (z_order_id));\n\
             diesel::joinable!(m_lines -> a_items (a_item_id));\n\
             diesel::joinable!(m_lines -> customers (customer_id));\n",
        ),
    );
    let text = generate(&ws, &[]);
    let up = up_section(&text);
    let position = |table: &str| {
        up.find(&format!("CREATE TABLE {}", quoted(backend, table)))
            .unwrap_or_else(|| panic!("no CREATE TABLE {table} in\n{up}"))
    };
    assert!(position("z_orders") < position("a_items"), "{up}");
    assert!(position("a_items") < position("m_lines"), "{up}");
    assert!(up.contains("FOREIGN KEY"), "{up}");
    applies_and_reverts(&ws);
    // The foreign keys exist: diesel's print-schema view has the joinables back.
    let printed = ws.run(["schema", "-p", "shop"]).success().stdout_text();
    for joinable in [
        "diesel::joinable!(a_items -> z_orders (z_order_id));",
        "diesel::joinable!(m_lines -> a_items (a_item_id));",
        "diesel::joinable!(m_lines -> customers (customer_id));",
    ] {
        assert!(printed.contains(joinable), "{printed}");
    }
}
on_every_backend!(linked_tables_are_created_parents_first);

fn quoted(backend: Backend, name: &str) -> String {
    match backend {
        Backend::Mysql => format!("`{name}`"),
        _ => format!("\"{name}\""),
    }
}

// A column added and one dropped: the drop is destructive and says so, and may be a rename.
fn columns_are_added_and_dropped(backend: Backend) {
    let ws = shop(backend);
    write_schema(
        &ws,
        &BASE_SCHEMA.replace("note -> Nullable<Text>,", "email -> Nullable<Text>,"),
    );
    let out = autogenerate(&ws, "Generated", &["--rev-id", "gen"]).success();
    let stderr = out.stderr_text();
    assert!(
        stderr.contains("warning: destructive: drops column customers.note"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--rename-column customers.note=email"),
        "a drop and an add of the same type may be a rename: {stderr}"
    );
    let text = ws.read("shop/migrations/gen_generated.sql");
    let up = up_section(&text);
    assert!(
        up.contains("-- destructive: drops column customers.note"),
        "{up}"
    );
    assert!(up.contains("-- possible rename:"), "{up}");
    assert!(up.contains("ADD COLUMN"), "{up}");
    applies_and_reverts(&ws);
    assert!(ws.db().columns("customers").contains(&"email".to_owned()));
    assert!(!ws.db().columns("customers").contains(&"note".to_owned()));
}
on_every_backend!(columns_are_added_and_dropped);

// `--no-destructive` refuses a drop: exit 1, no file.
fn no_destructive_refuses_a_drop(backend: Backend) {
    let ws = shop(backend);
    write_schema(
        &ws,
        &BASE_SCHEMA.replace("        note -> Nullable<Text>,\n", ""),
    );
    let before = ws.migration_files("shop");
    let out = autogenerate(&ws, "Generated", &["--no-destructive"]).code(1);
    assert!(
        out.stderr_text()
            .contains("--no-destructive: the revision is destructive: drops column customers.note"),
        "{}",
        out.stderr_text()
    );
    assert_eq!(ws.migration_files("shop"), before, "no file may be written");
}
on_every_backend!(no_destructive_refuses_a_drop);

// Nullability and type changes: generated on PostgreSQL and MariaDB, refused with the
// reason on SQLite (each needs a table rebuild there).
fn type_and_nullability_changes(backend: Backend) {
    let ws = shop(backend);
    write_schema(
        &ws,
        &BASE_SCHEMA
            .replace(
                "#[max_length = 100]\n        name -> Varchar,",
                "name -> Nullable<Text>,",
            )
            .replace("note -> Nullable<Text>,", "note -> Text,"),
    );
    if backend == Backend::Sqlite {
        let before = ws.migration_files("shop");
        let out = autogenerate(&ws, "Generated", &[]).code(1);
        let stderr = out.stderr_text();
        assert!(
            stderr.contains(
                "customers.name: changing the nullability of a SQLite column needs a table rebuild"
            ),
            "{stderr}"
        );
        assert!(
            stderr.contains("customers.note: changing the nullability"),
            "{stderr}"
        );
        assert_eq!(ws.migration_files("shop"), before, "no file may be written");
        // With --allow-incomplete the file carries the refused parts as TODO comments.
        let out =
            autogenerate(&ws, "Generated", &["--rev-id", "gen", "--allow-incomplete"]).success();
        assert!(
            out.stdout_text().contains("Generating"),
            "{}",
            out.stdout_text()
        );
        let text = ws.read("shop/migrations/gen_generated.sql");
        assert!(
            up_section(&text).contains("-- TODO (not generated): customers.name"),
            "{text}"
        );
        return;
    }
    let out = autogenerate(&ws, "Generated", &["--rev-id", "gen"]).success();
    assert!(
        out.stderr_text()
            .contains("destructive: makes customers.note NOT NULL"),
        "{}",
        out.stderr_text()
    );
    let text = ws.read("shop/migrations/gen_generated.sql");
    let up = up_section(&text);
    match backend {
        Backend::Postgres => {
            assert!(up.contains("ALTER COLUMN \"name\" TYPE TEXT"), "{up}");
            assert!(up.contains("ALTER COLUMN \"name\" DROP NOT NULL"), "{up}");
            assert!(up.contains("ALTER COLUMN \"note\" SET NOT NULL"), "{up}");
            assert!(
                down_section(&text).contains("TYPE character varying(100)"),
                "the down restores the exact old type: {text}"
            );
        }
        _ => {
            assert!(up.contains("MODIFY COLUMN `name` TEXT"), "{up}");
            assert!(up.contains("MODIFY COLUMN `note` text NOT NULL"), "{up}");
        }
    }
    applies_and_reverts(&ws);
}
on_every_backend!(type_and_nullability_changes);

// Dropping a column that carries an index and a default: the down restores both.
fn a_dropped_columns_index_and_default_come_back(backend: Backend) {
    let ws = shop(backend);
    ws.revision(
        "shop",
        &Rev::new(
            "s2",
            "ALTER TABLE customers ADD COLUMN score INTEGER NOT NULL DEFAULT 7;\nCREATE INDEX customers_score ON customers (score);",
        )
        .revises("s1")
        .message("Add score")
        .down(match backend {
            Backend::Mysql => "DROP INDEX customers_score ON customers;\nALTER TABLE customers DROP COLUMN score;",
            _ => "DROP INDEX customers_score;\nALTER TABLE customers DROP COLUMN score;",
        }),
    );
    ws.run(["up"]).success();
    let with_score = ws.db().schema_dump();
    let text = generate(&ws, &[]);
    let down = down_section(&text);
    assert!(down.contains("DEFAULT 7"), "{down}");
    assert!(down.contains("customers_score"), "{down}");
    applies_and_reverts(&ws);
    ws.run(["down", "shop@-1"]).success();
    assert_eq!(ws.db().schema_dump(), with_score);
    let dump = ws.db().schema_dump().join("\n");
    assert!(dump.contains("customers_score"), "{dump}");
}
on_every_backend!(a_dropped_columns_index_and_default_come_back);

// A rename is never guessed: a drop and a create with a hint; the flag writes a rename.
fn renames_need_the_flag(backend: Backend) {
    let ws = shop(backend);
    write_schema(
        &ws,
        &BASE_SCHEMA
            .replace("customers (id)", "clients (id)")
            .replace("note -> Nullable<Text>,", "remark -> Nullable<Text>,"),
    );
    let out = autogenerate(&ws, "Guessing", &[]).success();
    assert!(
        out.stderr_text()
            .contains("--rename-table customers=clients"),
        "{}",
        out.stderr_text()
    );
    let guessed: Vec<String> = ws
        .migration_files("shop")
        .into_iter()
        .filter(|f| f.ends_with("_guessing.sql"))
        .collect();
    let guessed_text = ws.read(format!("shop/migrations/{}", guessed[0]));
    assert!(
        up_section(&guessed_text).contains("DROP TABLE"),
        "{guessed_text}"
    );
    std::fs::remove_file(ws.root().join("shop/migrations").join(&guessed[0]))
        .expect("remove the guess");

    let text = generate(
        &ws,
        &[
            "--rename-table",
            "customers=clients",
            "--rename-column",
            "clients.note=remark",
        ],
    );
    let up = up_section(&text);
    assert!(!up.contains("DROP TABLE"), "{up}");
    assert!(up.contains("RENAME"), "{up}");
    assert!(up.contains("RENAME COLUMN"), "{up}");
    ws.db()
        .execute("INSERT INTO customers (id, name, note) VALUES (1, 'kept', 'n');");
    applies_and_reverts(&ws);
    assert_eq!(
        ws.db().strings("SELECT name FROM clients"),
        ["kept"],
        "a rename keeps the rows"
    );
}
on_every_backend!(renames_need_the_flag);

// A table of another member in the same schema.rs is never touched, and the version table
// neither; a difference in the other member's table is reported, naming its member.
fn other_members_and_the_version_table_are_left_alone(backend: Backend) {
    let ws = shop(backend);
    let audit = "diesel::table! {\n    audit_events (id) {\n        id -> Integer,\n        #[max_length = 20]\n        kind -> Nullable<Varchar>,\n    }\n}\n";
    let version = "diesel::table! {\n    alembic_version (version_num) {\n        #[max_length = 32]\n        version_num -> Varchar,\n    }\n}\n";
    let tags = "diesel::table! {\n    tags (id) {\n        id -> Integer,\n    }\n}\n";
    write_schema(&ws, &schema_with(&format!("{audit}\n{version}\n{tags}")));
    let text = generate(&ws, &[]);
    assert!(!text.contains("audit_events"), "{text}");
    assert!(!text.contains("alembic_version"), "{text}");
    applies_and_reverts(&ws);

    // The other member's table as schema.rs wants it differs: reported, left out.
    let changed_audit = audit.replace(
        "kind -> Nullable<Varchar>,",
        "kind -> Nullable<Varchar>,\n        actor -> Nullable<Text>,",
    );
    write_schema(
        &ws,
        &schema_with(&format!("{changed_audit}\n{version}\n{tags}")),
    );
    let out = ws.run(["check", "--schema"]).code(1);
    assert!(
        out.stdout_text()
            .contains("+ column audit_events.actor: Nullable<Text> [table of member `audit`]"),
        "{}",
        out.stdout_text()
    );
    let out = autogenerate(&ws, "Nothing of ours", &[]).success();
    assert!(
        out.stderr_text()
            .contains("left out: + column audit_events.actor"),
        "{}",
        out.stderr_text()
    );
    assert!(
        out.stdout_text().contains("No changes detected"),
        "{}",
        out.stdout_text()
    );
}
on_every_backend!(other_members_and_the_version_table_are_left_alone);

// `schema --write`, then `check --schema` passes and `new --autogenerate` finds nothing.
fn schema_write_round_trips(backend: Backend) {
    let ws = shop(backend);
    std::fs::remove_file(ws.root().join("shop/src/schema.rs")).expect("remove");
    let out = ws.run(["schema", "-p", "shop", "--write"]).success();
    assert!(
        out.stdout_text()
            .contains("Writing shop/src/schema.rs (1 table(s) of member `shop`)"),
        "{}",
        out.stdout_text()
    );
    let written = ws.read("shop/src/schema.rs");
    assert!(
        written.starts_with("// @generated automatically by Diesel CLI.\n"),
        "{written}"
    );
    assert!(
        !written.contains("audit_events"),
        "only the member's own tables: {written}"
    );
    assert!(
        !written.contains("alembic_version"),
        "never the version table: {written}"
    );
    ws.run(["check", "--schema"]).success();
    let out = autogenerate(&ws, "Nothing", &[]).success();
    assert!(
        out.stdout_text().contains("No changes detected"),
        "{}",
        out.stdout_text()
    );
    assert_eq!(ws.migration_files("shop").len(), 1);
}
on_every_backend!(schema_write_round_trips);

/// The column types each backend holds, written as diesel's print-schema writes them there.
fn mapped_types(backend: Backend) -> Vec<(&'static str, &'static str)> {
    let mut types = match backend {
        Backend::Sqlite => vec![
            ("c_bool", "Bool"),
            ("c_small", "SmallInt"),
            ("c_int", "Integer"),
            ("c_big", "BigInt"),
            ("c_float", "Float"),
            ("c_double", "Double"),
            ("c_text", "Text"),
            ("c_binary", "Binary"),
            ("c_date", "Date"),
            ("c_time", "Time"),
            ("c_timestamp", "Timestamp"),
        ],
        Backend::Postgres => vec![
            ("c_bool", "Bool"),
            ("c_small", "Int2"),
            ("c_int", "Int4"),
            ("c_big", "Int8"),
            ("c_float", "Float4"),
            ("c_double", "Float8"),
            ("c_numeric", "Numeric"),
            ("c_text", "Text"),
            ("c_varchar", "#[max_length = 30] Varchar"),
            ("c_char", "#[max_length = 4] Bpchar"),
            ("c_bytea", "Bytea"),
            ("c_date", "Date"),
            ("c_time", "Time"),
            ("c_timestamp", "Timestamp"),
            ("c_timestamptz", "Timestamptz"),
            ("c_uuid", "Uuid"),
            ("c_json", "Json"),
            ("c_jsonb", "Jsonb"),
            ("c_interval", "Interval"),
            ("c_inet", "Inet"),
            ("c_cidr", "Cidr"),
            ("c_macaddr", "Macaddr"),
            ("c_money", "Money"),
            ("c_texts", "Array<Nullable<Text>>"),
            ("c_ints", "Array<Nullable<Int4>>"),
        ],
        Backend::Mysql => vec![
            ("c_bool", "Bool"),
            ("c_tiny", "Tinyint"),
            ("c_small", "Smallint"),
            ("c_int", "Integer"),
            ("c_big", "Bigint"),
            ("c_float", "Float"),
            ("c_double", "Double"),
            ("c_text", "Text"),
            ("c_varchar", "#[max_length = 30] Varchar"),
            ("c_blob", "Blob"),
            ("c_varbinary", "#[max_length = 16] Varbinary"),
            ("c_date", "Date"),
            ("c_time", "Time"),
            ("c_timestamp", "Nullable<Timestamp>"),
            ("c_datetime", "Datetime"),
            ("c_unsigned", "Unsigned<Integer>"),
            ("c_unsigned_big", "Unsigned<Bigint>"),
        ],
    };
    // Each type also as nullable (when not already).
    let nullable: Vec<(&'static str, &'static str)> = types
        .iter()
        .filter(|(_, ty)| !ty.contains("Nullable<Timestamp>"))
        .map(|(name, ty)| {
            let name: &'static str = Box::leak(format!("{name}_null").into_boxed_str());
            let ty: &'static str = Box::leak(
                match ty.split_once("] ") {
                    Some((attr, inner)) => format!("{attr}] Nullable<{inner}>"),
                    None => format!("Nullable<{ty}>"),
                }
                .into_boxed_str(),
            );
            (name, ty)
        })
        .collect();
    types.extend(nullable);
    types
}

/// The `table!` of a table with one column of each type, as print-schema writes it.
fn all_types_table(backend: Backend) -> String {
    let id = if backend == Backend::Postgres {
        "Int4"
    } else {
        "Integer"
    };
    let mut text = format!("diesel::table! {{\n    all_types (id) {{\n        id -> {id},\n");
    for (name, ty) in mapped_types(backend) {
        match ty.split_once("] ") {
            Some((attr, inner)) => {
                text.push_str(&format!("        {attr}]\n        {name} -> {inner},\n"));
            }
            None => text.push_str(&format!("        {name} -> {ty},\n")),
        }
    }
    text.push_str("    }\n}\n");
    text
}

// Every type of the mapping survives schema.rs -> SQL -> catalog -> schema.rs unchanged.
fn every_type_round_trips(backend: Backend) {
    let ws = Workspace::with_backend(&["shop"], backend);
    std::fs::create_dir_all(ws.root().join("shop/src")).expect("src");
    let table = all_types_table(backend);
    let schema = format!("// @generated automatically by Diesel CLI.\n\n{table}");
    write_schema(&ws, &schema);
    generate(&ws, &[]);
    ws.run(["up"]).success();
    let printed = ws.run(["schema", "-p", "shop"]).success().stdout_text();
    assert_eq!(
        printed, schema,
        "print-schema's text must come back unchanged"
    );
    ws.run(["check", "--schema"]).success();
    ws.run(["test"]).success();
}
on_every_backend!(every_type_round_trips);

// Bad input: exit 2 with the path, line or setting; no file written, no database touched.
fn bad_schema_files_are_refused(backend: Backend) {
    let ws = Workspace::with_backend(&["shop"], backend);
    ws.revision(
        "shop",
        &Rev::new("s1", "CREATE TABLE customers (id INTEGER PRIMARY KEY);")
            .down("DROP TABLE customers;"),
    );
    let cases: [(&str, &str); 3] = [
        ("diesel::table! {\n    customers (id) {\n        id -> Integer,\n        note -> Nullable<Txt>,\n    }\n}\n", "shop/src/schema.rs:4"),
        ("diesel::table! {\n    customers (id) {\n        id -> ,\n    }\n}\n", "shop/src/schema.rs:3"),
        ("fn broken( {\n", "shop/src/schema.rs:1"),
    ];
    for (text, location) in cases {
        write_schema(&ws, text);
        for args in [
            vec!["check", "--schema"],
            vec!["new", "-p", "shop", "--autogenerate", "-m", "Bad"],
        ] {
            let out = ws.run(&args).code(2);
            let stderr = out.stderr_text();
            assert!(
                stderr.contains(&format!("--> {location}")),
                "{args:?}: {stderr}"
            );
        }
    }
    assert_eq!(
        ws.migration_files("shop").len(),
        1,
        "no file may be written"
    );
    assert!(ws.db().untouched(), "no database may be touched");

    // A configured schema file that does not exist names the member, the path and the
    // setting.
    let manifest = ws.root().join("shop/Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest).expect("manifest");
    text.push_str("\n[package.metadata.revise]\nschema = \"src/model.rs\"\n");
    std::fs::write(&manifest, text).expect("write manifest");
    let out = ws.run(["check", "--schema"]).code(2);
    let stderr = out.stderr_text();
    assert!(
        stderr.contains("member `shop`: the schema file shop/src/model.rs does not exist (chosen by `schema` in [package.metadata.revise]"),
        "{stderr}"
    );
    assert!(ws.db().untouched(), "no database may be touched");
}
on_every_backend!(bad_schema_files_are_refused);

#[test]
fn schema_without_a_database_url_says_what_is_missing() {
    let ws = Workspace::with_backend(&["shop"], Backend::Sqlite);
    let out = ws.command().args(["schema", "-p", "shop"]).assert().code(2);
    assert!(
        out.stderr_text().contains("--dev-url URL"),
        "{}",
        out.stderr_text()
    );
}

// A new table with a key to another member's table waits for the revision that made it.
fn a_key_to_another_members_table_depends_on_its_revision(backend: Backend) {
    let ws = shop(backend);
    write_schema(
        &ws,
        &schema_with(
            "diesel::table! {\n    audit_events (id) {\n        id -> Integer,\n        #[max_length = 20]\n        kind -> Nullable<Varchar>,\n    }\n}\n\n\
             diesel::table! {\n    refunds (id) {\n        id -> Integer,\n        audit_event_id -> Integer,\n    }\n}\n\n\
             diesel::joinable!(refunds -> audit_events (audit_event_id));\n",
        ),
    );
    let text = generate(&ws, &[]);
    assert!(text.contains("-- Depends On: a1\n"), "{text}");
    applies_and_reverts(&ws);
}
on_every_backend!(a_key_to_another_members_table_depends_on_its_revision);

#[test]
fn check_schema_reports_as_json() {
    let ws = shop(Backend::Sqlite);
    let out = ws.run(["check", "--schema", "--format", "json"]).success();
    let report: serde_json::Value = serde_json::from_str(&out.stdout_text()).expect("JSON");
    assert_eq!(report["members"][0]["member"], "shop");
    assert_eq!(report["members"][0]["matches"], true);

    write_schema(
        &ws,
        &BASE_SCHEMA.replace("        note -> Nullable<Text>,\n", ""),
    );
    let out = ws.run(["check", "--schema", "--format", "json"]).code(1);
    let report: serde_json::Value = serde_json::from_str(&out.stdout_text()).expect("JSON");
    let member = &report["members"][0];
    assert_eq!(member["schema_file"], "shop/src/schema.rs");
    assert_eq!(member["matches"], false);
    assert_eq!(member["differences"][0]["line"], "- column customers.note");
    assert_eq!(member["differences"][0]["table"], "customers");
}
