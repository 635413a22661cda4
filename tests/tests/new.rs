//! `cargo revise new` and `init`: where files land, what they are called, and which revision
//! they chain onto (SPEC sections 3 and 5).

use revise_tests::{Backend, Captured, Workspace};

/// The value of a `-- Key: value` header line (empty when the value is).
fn header(text: &str, key: &str) -> String {
    let prefix = format!("-- {key}:");
    let line = text
        .lines()
        .find(|line| line.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no `{key}:` line in:\n{text}"));
    line[prefix.len()..].trim().to_owned()
}

/// The single file `new` reported, relative to the root, from its `Generating PATH ...` line.
fn generated(stdout: &str) -> String {
    let rest = stdout
        .trim()
        .strip_prefix("Generating ")
        .unwrap_or_else(|| panic!("unexpected output: {stdout:?}"));
    rest.strip_suffix(" ...  done")
        .unwrap_or_else(|| panic!("unexpected output: {stdout:?}"))
        .to_owned()
}

#[test]
fn the_second_revision_revises_the_first() {
    let ws = Workspace::new(&["users"]);

    let first = generated(
        &ws.run(["new", "-m", "Create users table"])
            .success()
            .stdout_text(),
    );
    let second = generated(
        &ws.run(["new", "-m", "Add e-mail to users"])
            .success()
            .stdout_text(),
    );

    let first_text = ws.read(&first);
    let second_text = ws.read(&second);
    let first_id = header(&first_text, "Revision ID");
    let second_id = header(&second_text, "Revision ID");
    assert_eq!(header(&first_text, "Revises"), "", "the first is the root");
    assert_eq!(header(&second_text, "Revises"), first_id);
    // Generated ids are 12 hexadecimal digits, like Alembic's.
    for id in [&first_id, &second_id] {
        assert!(
            id.len() == 12 && id.chars().all(|c| c.is_ascii_hexdigit()),
            "{id}"
        );
    }
    assert_eq!(
        first,
        format!("users/migrations/{first_id}_create_users_table.sql")
    );
    assert_eq!(
        second,
        format!("users/migrations/{second_id}_add_e_mail_to_users.sql")
    );
    assert!(
        first_text.starts_with("-- Create users table\n"),
        "{first_text}"
    );
    assert!(first_text.contains("\n-- revise:up\n"), "{first_text}");
    assert!(first_text.contains("\n-- revise:down\n"), "{first_text}");
}

#[test]
fn rev_id_names_the_revision_and_the_file() {
    let ws = Workspace::new(&["users"]);

    let out = ws
        .run(["new", "-m", "Create users", "--rev-id", "users_001"])
        .success();

    assert_eq!(
        out.stdout_text(),
        "  Generating users/migrations/users_001_create_users.sql ...  done\n"
    );
    assert_eq!(ws.migration_files("users"), ["users_001_create_users.sql"]);
    let text = ws.read("users/migrations/users_001_create_users.sql");
    assert_eq!(header(&text, "Revision ID"), "users_001");
}

/// Two revisions as `new` writes them (empty sections) apply, and revert.
fn assert_generated_revisions_apply(ws: &Workspace) {
    ws.run(["new", "-m", "one", "--rev-id", "r1"]).success();
    ws.run(["new", "-m", "two", "--rev-id", "r2"]).success();

    ws.run(["up"]).success();

    assert_eq!(ws.db().version_rows(), ["r2"]);

    ws.run(["down", "base"]).success();

    assert_eq!(ws.db().version_rows(), Vec::<String>::new());
}

#[test]
fn generated_revisions_apply() {
    let ws = Workspace::new(&["users"]);
    if ws.backend() == Backend::Postgres {
        eprintln!(
            "SKIPPED on PostgreSQL: a known bug, see `generated_revisions_apply_on_postgres` \
             (ignored until it is fixed)"
        );
        return;
    }
    assert_generated_revisions_apply(&ws);
}

/// An empty (or comment-only) section, as `new` generates, is a no-op in Alembic and on
/// SQLite and MariaDB here; PostgreSQL refuses the empty query text.
#[test]
fn generated_revisions_apply_on_postgres() {
    assert_generated_revisions_apply(&Workspace::with_backend(&["users"], Backend::Postgres));
}

#[test]
fn a_member_without_revisions_gets_a_root_even_when_others_have_some() {
    let ws = Workspace::new(&["billing", "users"]);
    ws.chain("users", &["u1", "u2"]);

    let path = generated(
        &ws.run(["new", "-p", "billing", "-m", "Create invoices"])
            .success()
            .stdout_text(),
    );

    assert!(path.starts_with("billing/migrations/"), "{path}");
    assert_eq!(header(&ws.read(&path), "Revises"), "");
}

#[test]
fn depends_on_and_branch_label_are_written_to_the_header() {
    let ws = Workspace::new(&["billing", "users"]);
    ws.chain("users", &["u1"]);

    let path = generated(
        &ws.run([
            "new",
            "-p",
            "billing",
            "-m",
            "Invoices",
            "--depends-on",
            "u1",
            "--branch-label",
            "money",
        ])
        .success()
        .stdout_text(),
    );

    let text = ws.read(&path);
    assert_eq!(header(&text, "Depends On"), "u1");
    assert_eq!(header(&text, "Branch Labels"), "money");
}

#[test]
fn several_members_without_package_is_bad_usage() {
    let ws = Workspace::new(&["billing", "users"]);

    let out = ws.run(["new", "-m", "Something"]).code(2);

    assert!(
        out.stderr_text().contains("-p MEMBER"),
        "{}",
        out.stderr_text()
    );
    assert!(ws.migration_files("users").is_empty());
    assert!(ws.migration_files("billing").is_empty());
}

#[test]
fn a_taken_or_invalid_rev_id_is_refused() {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["u1"]);

    let taken = ws.run(["new", "-m", "again", "--rev-id", "u1"]).code(2);
    assert!(
        taken.stderr_text().contains("u1_create_u1.sql"),
        "{}",
        taken.stderr_text()
    );

    let invalid = ws.run(["new", "-m", "dash", "--rev-id", "a-b"]).code(2);
    assert!(
        invalid.stderr_text().contains("--rev-id"),
        "{}",
        invalid.stderr_text()
    );

    assert_eq!(ws.migration_files("users"), ["u1_create_u1.sql"]);
}

#[test]
fn init_creates_the_migrations_folder_and_an_env_file() {
    // About the SQLite default that `init` writes; no database is used.
    let ws = Workspace::with_backend(&["users"], Backend::Sqlite);
    std::fs::remove_dir(ws.root().join("users/migrations")).expect("remove migrations/");

    let out = ws.run(["init"]).success();

    assert!(ws.root().join("users/migrations").is_dir());
    assert!(
        ws.read(".env").contains("DATABASE_URL=sqlite://dev.db"),
        "{}",
        ws.read(".env")
    );
    assert!(
        out.stdout_text().contains("Created     users/migrations"),
        "{}",
        out.stdout_text()
    );

    // A second run keeps what exists.
    let again = ws.run(["init"]).success();
    assert!(
        again.stdout_text().contains("Exists      .env"),
        "{}",
        again.stdout_text()
    );
}
