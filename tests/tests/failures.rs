//! A revision whose SQL fails: the run stops there, the database stays exactly at the
//! revision before it (SQLite and PostgreSQL have transactional DDL, SPEC section 6), the
//! error names the revision and its file, and a fixed file lets the next run carry on.
//!
//! On MySQL/MariaDB DDL commits implicitly: a failed revision's `CREATE TABLE` stays, and
//! the report must say so plainly. These tests assert that behaviour there instead.

use revise_tests::{assert_kept_warning, tables_after, warnings, Captured, Rev, Workspace};

/// Creates its table and then fails, to show that the table goes with the rollback.
fn broken_u3() -> Rev {
    Rev::table("u3")
        .revises("u2")
        .up("CREATE TABLE u3 (id INTEGER PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);")
}

fn workspace_with_broken_third_revision() -> (Workspace, String) {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["u1", "u2"]);
    let path = ws.revision("users", &broken_u3());
    ws.revision("users", &Rev::table("u4").revises("u3"));
    (ws, path)
}

#[test]
fn a_failing_revision_stops_the_run_at_the_one_before() {
    let (ws, path) = workspace_with_broken_third_revision();

    let out = ws.run(["up"]).code(1);

    let stderr = out.stderr_text();
    // The failing statement's line, not the section's.
    let line = ws
        .read(&path)
        .lines()
        .position(|l| l.starts_with("INSERT INTO no_such_table"))
        .expect("the statement is in the file")
        + 1;
    assert!(
        stderr.contains("revision u3 failed while upgrading (statement 2 of 2)"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("--> {path}:{line}\n")), "{stderr}");
    assert!(
        stderr.contains("no_such_table"),
        "the database's reason: {stderr}"
    );
    let stdout = out.stdout_text();
    assert!(
        stdout.contains("Database remains at version: u2\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("completed successfully"), "{stdout}");
    assert_eq!(ws.db().version_rows(), ["u2"]);
    if ws.backend().transactional_ddl() {
        assert!(
            stdout.contains(&format!(
                "Migration u3 failed ({path}:{line}); it was rolled back\n"
            )),
            "{stdout}"
        );
        assert_eq!(warnings(&stdout), Vec::<&str>::new(), "{stdout}");
        assert_eq!(
            ws.db().tables(),
            tables_after(&["u1", "u2"]),
            "u3's CREATE TABLE was rolled back, and u4 never ran"
        );
    } else {
        // Not "rolled back": that would be untrue.
        assert!(
            stdout.contains(&format!("Migration u3 failed ({path}:{line})\n")),
            "{stdout}"
        );
        assert_kept_warning(&stdout, "CREATE TABLE u3 (id INTEGER PRIMARY KEY)");
        assert_eq!(
            ws.db().tables(),
            tables_after(&["u1", "u2", "u3"]),
            "MariaDB kept u3's CREATE TABLE, as the warning says; u4 never ran"
        );
    }
}

#[test]
fn after_fixing_the_file_the_next_run_continues_from_there() {
    let (ws, path) = workspace_with_broken_third_revision();
    ws.run(["up"]).code(1);
    if !ws.backend().transactional_ddl() {
        // What the warning asks for on MariaDB: clean up what the failed revision left.
        ws.db().execute("DROP TABLE u3");
    }

    ws.raw(
        "users",
        path.rsplit('/').next().expect("a file name"),
        broken_u3()
            .up("CREATE TABLE u3 (id INTEGER PRIMARY KEY);")
            .text(),
    );
    let out = ws.run(["up"]).success();

    assert!(
        out.stdout_text().contains(
            "Current database version: u2\nRunning 2 pending migration(s)...\n   - u3 - Create u3\n   - u4 - Create u4\n"
        ),
        "{}",
        out.stdout_text()
    );
    assert_eq!(ws.db().version_rows(), ["u4"]);
    assert_eq!(ws.db().tables(), tables_after(&["u1", "u2", "u3", "u4"]));
}

#[test]
fn a_failing_first_revision_leaves_no_applied_revision() {
    let ws = Workspace::new(&["users"]);
    ws.revision(
        "users",
        &Rev::new("u1", "CREATE TABLE u1 (id INTEGER);\nTHIS IS NOT SQL;"),
    );

    let out = ws.run(["up"]).code(1);

    let stdout = out.stdout_text();
    assert!(
        stdout.contains("Database remains at version: base (no migrations applied)"),
        "{stdout}"
    );
    assert_eq!(ws.db().version_rows(), Vec::<String>::new());
    if ws.backend().transactional_ddl() {
        assert!(!ws.db().tables().contains(&"u1".to_owned()));
    } else {
        assert_kept_warning(&stdout, "CREATE TABLE u1 (id INTEGER)");
        assert!(ws.db().tables().contains(&"u1".to_owned()));
    }
}

#[test]
fn a_failing_down_section_keeps_the_revision_applied() {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["u1"]);
    ws.revision(
        "users",
        &Rev::table("u2")
            .revises("u1")
            .down("DROP TABLE u2;\nDROP TABLE no_such_table;"),
    );
    ws.run(["up"]).success();

    let out = ws.run(["down"]).code(1);

    assert!(out.stderr_text().contains("u2"), "{}", out.stderr_text());
    assert_eq!(ws.db().version_rows(), ["u2"]);
    if ws.backend().transactional_ddl() {
        assert_eq!(
            ws.db().tables(),
            tables_after(&["u1", "u2"]),
            "the DROP TABLE u2 was rolled back"
        );
    } else {
        assert_kept_warning(&out.stdout_text(), "DROP TABLE u2");
        assert_eq!(
            ws.db().tables(),
            tables_after(&["u1"]),
            "MariaDB kept the DROP TABLE u2, as the warning says"
        );
    }
}

/// SPEC section 6: a version table naming a revision that no file declares fails with
/// Alembic's message and suggests `stamp`.
#[test]
fn a_row_no_file_declares_is_reported() {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["u1"]);
    ws.db().execute(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
         INSERT INTO alembic_version VALUES ('gone');",
    );

    let out = ws.run(["up"]).failure();

    let stderr = out.stderr_text();
    assert!(
        stderr.contains("Can't locate revision identified by 'gone'"),
        "{stderr}"
    );
    assert!(stderr.contains("stamp"), "{stderr}");
    assert_eq!(ws.db().version_rows(), ["gone"]);
}
