//! `cargo revise new` and `init`: where files land, what they are called, and which revision
//! they chain onto (SPEC sections 3 and 5).

use revise_tests::{Backend, Captured, Rev, Workspace};

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

/// users a1f9c0de2b37 ← c7e5d9a0b11f; billing b0b1c2d3e4f5.
fn users_and_billing() -> Workspace {
    let ws = Workspace::new(&["billing", "users"]);
    ws.revision("users", &Rev::table("a1f9c0de2b37"));
    ws.revision("users", &Rev::table("c7e5d9a0b11f").revises("a1f9c0de2b37"));
    ws.revision("billing", &Rev::table("b0b1c2d3e4f5"));
    ws
}

/// `new -p MEMBER --depends-on VALUE --rev-id ID`: the `Depends On` line written, and the
/// revisions it resolves to once the graph is read again (`show --format json`).
fn depends_on_written(
    ws: &Workspace,
    member: &str,
    value: &str,
    id: &str,
) -> (String, serde_json::Value) {
    let out = ws
        .run([
            "new",
            "-p",
            member,
            "-m",
            "Invoices",
            "--rev-id",
            id,
            "--depends-on",
            value,
        ])
        .success();
    let text = ws.read(generated(&out.stdout_text()));
    let show = ws
        .run(["show", id, "--format", "json"])
        .success()
        .stdout_text();
    let shown: serde_json::Value = serde_json::from_str(&show).expect("show's JSON");
    (header(&text, "Depends On"), shown["depends_on"].clone())
}

#[test]
fn depends_on_keeps_a_label_and_writes_every_other_form_as_the_full_id() {
    // As Alembic's `revision --depends-on` (checked against 1.20.1): a branch label is kept,
    // and names the revision that declares it (the member's root); a prefix, `LABEL@head`
    // and `heads` (when there is one) become the full id they name.
    let ws = users_and_billing();
    let (label, resolved) = depends_on_written(&ws, "billing", "users", "n1");
    assert_eq!(label, "users");
    assert_eq!(resolved, serde_json::json!(["a1f9c0de2b37"]));

    let (prefix, _) = depends_on_written(&ws, "billing", "a1f9", "n2");
    assert_eq!(prefix, "a1f9c0de2b37", "the prefix as the id it names");

    let (head, resolved) = depends_on_written(&ws, "billing", "users@head", "n3");
    assert_eq!(head, "c7e5d9a0b11f");
    assert_eq!(resolved, serde_json::json!(["c7e5d9a0b11f"]));

    // n3 depends on users' head, so billing's n3 is the only head through dependencies:
    // users' next revision can wait for it.
    let (heads, _) = depends_on_written(&ws, "users", "heads", "u3");
    assert_eq!(heads, "n3");

    let history = ws.run(["history"]).success().stdout_text();
    assert!(
        history.starts_with("c7e5d9a0b11f (n3) -> u3 (users) (head), Invoices\n"),
        "{history}"
    );
}

#[test]
fn an_unknown_or_ambiguous_depends_on_names_the_option_the_value_and_the_candidates() {
    let ws = users_and_billing();
    ws.revision("users", &Rev::table("a1f9dd000000").revises("c7e5d9a0b11f"));

    let unknown = ws
        .run([
            "new",
            "-p",
            "billing",
            "-m",
            "Invoices",
            "--depends-on",
            "nope",
        ])
        .code(2)
        .stderr_text();
    assert!(
        unknown.contains("--depends-on `nope`: Can't locate revision identified by 'nope'"),
        "{unknown}"
    );
    assert!(
        unknown.contains("the branch labels are billing, users")
            && unknown.contains("a1f9dd000000 (users)")
            && unknown.contains("b0b1c2d3e4f5 (billing)"),
        "the labels and heads as candidates: {unknown}"
    );

    let ambiguous = ws
        .run([
            "new",
            "-p",
            "billing",
            "-m",
            "Invoices",
            "--depends-on",
            "a1f9",
        ])
        .code(2)
        .stderr_text();
    assert!(
        ambiguous.contains(
            "--depends-on `a1f9`: 'a1f9' is ambiguous; it could be any of: a1f9c0de2b37, \
             a1f9dd000000"
        ),
        "{ambiguous}"
    );

    let several_heads = ws
        .run([
            "new",
            "-p",
            "billing",
            "-m",
            "Invoices",
            "--depends-on",
            "heads",
        ])
        .code(2)
        .stderr_text();
    assert!(
        several_heads.contains("--depends-on `heads`: Multiple head revisions"),
        "{several_heads}"
    );

    let merge = ws
        .run(["merge", "-m", "join", "nope", "b0b1c2d3e4f5"])
        .code(2)
        .stderr_text();
    assert!(
        merge.contains("merge `nope`: Can't locate revision identified by 'nope'"),
        "{merge}"
    );
    assert_eq!(
        ws.migration_files("billing"),
        ["b0b1c2d3e4f5_create_b0b1c2d3e4f5.sql"]
    );
}
