//! Migrations at start-up: the template's app embeds the workspace's revisions with
//! `build.rs`, migrates on start-up, rebuilds when a revision changes, refuses to build with a
//! bad one, and agrees with the CLI. Also `import diesel`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use revise_tests::{Captured, TestDb, Workspace};

/// One target folder for every build of the template's app, so that its dependencies are
/// compiled once per checkout rather than once per test.
fn app_target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/template-app")
}

fn cargo(ws: &Workspace, args: &[&str]) -> Output {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args(args)
        .current_dir(ws.root().join("app"))
        .env("CARGO_TARGET_DIR", app_target_dir())
        .env_remove("DATABASE_URL")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_template_app_migrates_at_start_up_and_rebuilds_when_revisions_change() {
    let ws = Workspace::template();

    // First start: the seed's first-time report, then the app uses the tables.
    let first = cargo(&ws, &["run", "-q", "-p", "app"]);
    let stdout = text(&first.stdout);
    assert!(first.status.success(), "{stdout}\n{}", text(&first.stderr));
    assert!(
        stdout.contains("📍 Database not initialized (no migrations applied yet)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("🔄 Running 4 pending migration(s)..."),
        "{stdout}"
    );
    assert!(
        stdout.contains("✅ Migrations completed successfully!"),
        "{stdout}"
    );
    assert!(stdout.contains("1 example(s):"), "{stdout}");

    // Second start: up to date.
    let second = cargo(&ws, &["run", "-q", "-p", "app"]);
    let stdout = text(&second.stdout);
    assert!(
        stdout.contains("✅ Database is up to date - no migrations needed"),
        "{stdout}"
    );
    assert!(stdout.contains("2 example(s):"), "{stdout}");

    // The CLI reads the same database (the .env's, relative to its folder) and agrees.
    assert_eq!(
        ws.db().version_rows(),
        ["002_add_categories", "004_remove_description"]
    );
    let current = ws.run(["current"]).success().stdout_text();
    assert_eq!(
        current,
        "004_remove_description (head)\n002_add_categories (head)\n"
    );
    let check = ws.run(["check"]).success().stdout_text();
    assert!(check.contains("is up to date"), "{check}");

    // Nothing changed: the build does not rerun the app's build script.
    let quiet = cargo(&ws, &["build", "-p", "app"]);
    assert!(
        !text(&quiet.stderr).contains("Compiling app"),
        "{}",
        text(&quiet.stderr)
    );

    // Editing a revision file rebuilds the app.
    let file = ws
        .root()
        .join("catalog/migrations/004_remove_description_remove_description_column.sql");
    let original = std::fs::read_to_string(&file).expect("the template file");
    std::fs::write(
        &file,
        original.replace("Remove description column", "Remove the description column"),
    )
    .expect("edit the file");
    let rebuilt = cargo(&ws, &["build", "-p", "app"]);
    assert!(rebuilt.status.success(), "{}", text(&rebuilt.stderr));
    assert!(
        text(&rebuilt.stderr).contains("Compiling app"),
        "{}",
        text(&rebuilt.stderr)
    );

    // A malformed new file fails the build with its path and line.
    ws.raw(
        "catalog",
        "005_broken.sql",
        "-- Broken\n-- Revision ID: 005_broken\n-- Revises: 004_remove_description\n-- Author: someone\n-- revise:up\n",
    );
    let broken = cargo(&ws, &["build", "-p", "app"]);
    assert!(!broken.status.success());
    let stderr = text(&broken.stderr);
    assert!(
        stderr.contains("catalog/migrations/005_broken.sql:4: unknown header key `Author`"),
        "{stderr}"
    );
}

#[test]
fn the_template_app_reports_a_failure_as_the_cli_does() {
    let ws = Workspace::template();
    ws.db().execute(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);\
         INSERT INTO alembic_version (version_num) VALUES ('zzz_unknown');",
    );
    let out = cargo(&ws, &["run", "-q", "-p", "app"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // The message, as `cargo revise` prints it, not the error's `Debug` structure.
    assert!(
        stderr.lines().any(
            |line| line.starts_with("error: Can't locate revision identified by 'zzz_unknown'")
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("UnknownRevision"), "{stderr}");
    assert_eq!(ws.db().version_rows(), ["zzz_unknown"], "nothing ran");
}

#[test]
fn the_template_apps_build_script_compiles_no_diesel() {
    let ws = Workspace::template();

    // Who depends on diesel, following normal and build edges: the app and its runtime,
    // but no build script (Cargo resolves build-dependency features on their own).
    let inverted = cargo(
        &ws,
        &["tree", "-p", "app", "-e", "normal,build", "-i", "diesel"],
    );

    let tree = text(&inverted.stdout);
    assert!(inverted.status.success(), "{}", text(&inverted.stderr));
    assert!(tree.contains("revise-runtime v"), "{tree}");
    assert!(!tree.contains("[build-dependencies]"), "{tree}");

    // The build script's own tree: the runtime as a reader, without diesel or SQLite.
    let full = cargo(&ws, &["tree", "-p", "app", "-e", "normal,build"]);
    let tree = text(&full.stdout);
    let build_deps = tree
        .split("\n[build-dependencies]\n")
        .nth(1)
        .unwrap_or_else(|| panic!("the app has no build-dependencies:\n{tree}"));
    assert!(build_deps.contains("revise-runtime v"), "{build_deps}");
    assert!(build_deps.contains("cargo_metadata v"), "{build_deps}");
    assert!(!build_deps.contains("diesel"), "{build_deps}");
    assert!(!build_deps.contains("libsqlite3-sys"), "{build_deps}");
}

/// A diesel project's folder of five migrations: tables, an index, a column, data, a view.
const DIESEL_MIGRATIONS: &[(&str, &str, &str)] = &[
    ("2024-01-01-000000_create_users", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);", "DROP TABLE users;"),
    ("2024-01-02-000000_create_posts", "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), title TEXT NOT NULL);\nCREATE INDEX posts_user ON posts (user_id);", "DROP INDEX posts_user;\nDROP TABLE posts;"),
    ("2024-01-03-000000_add_email", "ALTER TABLE users ADD COLUMN email TEXT;", "ALTER TABLE users DROP COLUMN email;"),
    ("2024-01-04-000000_seed_admin", "INSERT INTO users (id, name, email) VALUES (1, 'admin', 'admin@example.com');", "DELETE FROM users WHERE id = 1;"),
    ("2024-01-05-000000_post_counts", "CREATE VIEW post_counts AS SELECT user_id, COUNT(*) AS n FROM posts GROUP BY user_id;", "DROP VIEW post_counts;"),
];

#[test]
fn import_diesel_turns_a_diesel_folder_into_a_chain_with_the_same_schema() {
    let ws = Workspace::new(&["db"]);
    let diesel = ws.root().join("diesel-migrations");
    for (folder, up, down) in DIESEL_MIGRATIONS {
        std::fs::create_dir_all(diesel.join(folder)).expect("create a migration folder");
        std::fs::write(diesel.join(folder).join("up.sql"), up).expect("write up.sql");
        std::fs::write(diesel.join(folder).join("down.sql"), down).expect("write down.sql");
    }
    let out = ws
        .run(["-p", "db", "import", "diesel", "diesel-migrations"])
        .success();
    assert!(
        out.stdout_text()
            .contains("Imported 5 diesel migration(s) into member `db`"),
        "{}",
        out.stdout_text()
    );
    assert_eq!(
        ws.migration_files("db"),
        [
            "20240101000000_create_users.sql",
            "20240102000000_create_posts.sql",
            "20240103000000_add_email.sql",
            "20240104000000_seed_admin.sql",
            "20240105000000_post_counts.sql",
        ]
    );
    assert!(ws
        .read("db/migrations/20240103000000_add_email.sql")
        .contains("-- Revises: 20240102000000"));

    ws.run(["up"]).success();
    assert_eq!(ws.db().version_rows(), ["20240105000000"]);

    // The same SQL files run in order, by hand, on another database.
    let by_hand = TestDb::sqlite(ws.root().join("by-hand.db"));
    for (_, up, _) in DIESEL_MIGRATIONS {
        by_hand.execute(up);
    }
    let mut migrated = ws.db().tables();
    migrated.retain(|t| t != "alembic_version");
    assert_eq!(migrated, by_hand.tables());
    for table in by_hand.tables() {
        assert_eq!(
            ws.db().columns(&table),
            by_hand.columns(&table),
            "columns of {table}"
        );
    }

    // And the chain goes back down cleanly.
    ws.run(["down", "base"]).success();
    assert_eq!(ws.db().tables(), ["alembic_version"]);
}

/// The `Create Date:` line of an imported file.
fn create_date_of(ws: &Workspace, file: &str) -> String {
    let text = ws.read(format!("db/migrations/{file}"));
    text.lines()
        .find_map(|l| l.strip_prefix("-- Create Date: "))
        .unwrap_or_else(|| panic!("no Create Date in {file}:\n{text}"))
        .to_owned()
}

#[test]
fn import_diesel_dates_revisions_by_their_timestamp_versions() {
    let ws = Workspace::new(&["db"]);
    let diesel = ws.root().join("diesel-migrations");
    for folder in [
        "00000000000000_diesel_initial_setup",
        "2019-02-26-002946_create_users",
        "20190301120000_create_posts",
    ] {
        std::fs::create_dir_all(diesel.join(folder)).expect("create a migration folder");
        std::fs::write(diesel.join(folder).join("up.sql"), "SELECT 1;").expect("write up.sql");
    }

    ws.run(["-p", "db", "import", "diesel", "diesel-migrations"])
        .success();

    assert_eq!(
        create_date_of(&ws, "20190226002946_create_users.sql"),
        "2019-02-26 00:29:46.000000"
    );
    assert_eq!(
        create_date_of(&ws, "20190301120000_create_posts.sql"),
        "2019-03-01 12:00:00.000000"
    );
    // diesel's setup migration has no date in its version: dated by the import, as before.
    let setup = create_date_of(&ws, "00000000000000_diesel_initial_setup.sql");
    assert_eq!(setup.len(), "2026-01-01 00:00:00.000000".len(), "{setup}");
    assert!(
        !setup.starts_with("0000") && !setup.starts_with("2019"),
        "{setup}"
    );
    let show = ws.run(["show", "20190226002946"]).success().stdout_text();
    assert!(
        show.contains("Create Date: 2019-02-26 00:29:46.000000"),
        "{show}"
    );
}
