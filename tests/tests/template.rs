//! The repository's `template/` workspace, copied as a user would get it: its four revisions
//! apply on SQLite, and its `.env` finds the same database from wherever `cargo revise` runs.

use revise_tests::{Captured, TestDb, Workspace};

#[test]
fn up_migrates_a_fresh_copy() {
    let ws = Workspace::template();

    // `-v` adds the line saying which database, from which source.
    let out = ws.run(["up", "-v"]).success();

    let stdout = ws.redact(&out.stdout_text());
    for line in [
        "Database: sqlite://[ROOT]/template.db (from [ROOT]/.env)",
        "Database not initialized (no migrations applied yet)",
        "Running 4 pending migration(s)...",
        "Migrations completed successfully!",
    ] {
        assert!(stdout.contains(line), "expected `{line}` in:\n{stdout}");
    }
    insta::assert_snapshot!(stdout);
    let db = ws.db();
    assert_eq!(
        db.version_rows(),
        ["002_add_categories", "004_remove_description"]
    );
    assert_eq!(db.tables(), ["alembic_version", "categories", "examples"]);
    let columns = db.columns("examples");
    assert!(columns.contains(&"priority".to_owned()), "{columns:?}");
    assert!(!columns.contains(&"description".to_owned()), "{columns:?}");
}

#[test]
fn a_second_up_has_nothing_to_do() {
    let ws = Workspace::template();
    ws.run(["up"]).success();

    let out = ws.run(["up"]).success();

    assert_eq!(
        out.stdout_text(),
        "Checking migration status...\n\
         Current database version: 002_add_cate..., 004_remove_d...\n\
         Database is up to date - no migrations needed\n"
    );
}

#[test]
fn history_of_the_template() {
    let ws = Workspace::template();

    let out = ws.run(["history"]).success();

    insta::assert_snapshot!(out.stdout_text());
}

#[test]
fn one_member_steps_back_and_forth() {
    let ws = Workspace::template();
    ws.run(["up"]).success();

    ws.run(["down", "catalog@-1"]).success();

    assert_eq!(
        ws.db().version_rows(),
        ["002_add_categories", "003_add_priority"]
    );
    assert!(ws
        .db()
        .columns("examples")
        .contains(&"description".to_owned()));

    let out = ws.run(["up"]).success();

    assert!(
        out.stdout_text().contains(
            "Running 1 pending migration(s)...\n   - 004_remove_d - Remove description column\n"
        ),
        "{}",
        out.stdout_text()
    );
    assert!(!ws
        .db()
        .columns("examples")
        .contains(&"description".to_owned()));
}

/// SPEC section 4: a relative SQLite path read from the env file is relative to that file's
/// folder, so `--manifest-path` from anywhere reaches the workspace's database.
#[test]
fn the_env_file_url_is_relative_to_the_env_file_not_the_working_directory() {
    let ws = Workspace::template();
    let elsewhere = tempfile::tempdir().expect("a temporary folder");

    ws.command()
        .current_dir(elsewhere.path())
        .arg("--manifest-path")
        .arg(ws.root().join("Cargo.toml"))
        .arg("up")
        .assert()
        .success();

    assert_eq!(
        ws.db().version_rows().len(),
        2,
        "the template's own template.db"
    );
    assert!(!elsewhere.path().join("template.db").exists());
}

#[test]
fn running_inside_a_member_reaches_the_same_database() {
    let ws = Workspace::template();

    ws.command()
        .current_dir(ws.root().join("catalog"))
        .arg("up")
        .assert()
        .success();

    assert_eq!(ws.db().version_rows().len(), 2);
    assert!(!ws.root().join("catalog/template.db").exists());
}

#[test]
fn an_env_file_elsewhere_is_relative_to_its_own_folder() {
    let ws = Workspace::template();
    std::fs::create_dir(ws.root().join("config")).expect("create config/");
    std::fs::write(
        ws.root().join("config/staging.env"),
        "DATABASE_URL=sqlite://staging.db\n",
    )
    .expect("write the env file");

    ws.command()
        .args(["--env-file", "config/staging.env", "up"])
        .assert()
        .success();

    let staging = TestDb::sqlite(ws.root().join("config/staging.db"));
    assert_eq!(staging.version_rows().len(), 2);
    assert!(!ws.db().exists(), "the default .env was not used");
}

/// ... whereas a relative path given by flag is relative to the working directory.
#[test]
fn a_url_given_by_flag_is_relative_to_the_working_directory() {
    let ws = Workspace::template();
    let elsewhere = tempfile::tempdir().expect("a temporary folder");

    ws.command()
        .current_dir(elsewhere.path())
        .arg("--manifest-path")
        .arg(ws.root().join("Cargo.toml"))
        .args(["--database-url", "sqlite://flag.db", "up"])
        .assert()
        .success();

    let flag = TestDb::sqlite(elsewhere.path().join("flag.db"));
    assert_eq!(flag.version_rows().len(), 2);
    assert!(!ws.db().exists());
}

/// The template follows the schema workflow: `catalog/src/schema.rs` is what
/// `cargo revise schema --write` writes, so `check --schema` passes on it, in CI too.
#[test]
fn the_templates_schema_file_matches_its_revisions() {
    let ws = Workspace::template();
    let out = ws.run(["check", "--schema"]).success();
    assert!(
        out.stdout_text()
            .contains("catalog/src/schema.rs matches the revisions of `catalog`"),
        "{}",
        out.stdout_text()
    );
    let printed = ws.run(["schema", "-p", "catalog"]).success().stdout_text();
    assert_eq!(printed, ws.read("catalog/src/schema.rs"));
    assert!(
        !ws.db().exists(),
        "the schema commands never touch the database"
    );
}
