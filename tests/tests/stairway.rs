//! `cargo revise test`, the stairway test: it passes on the template, and it names the first
//! revision whose down does not undo its up.

use revise_tests::{Captured, Rev, Workspace};

#[test]
fn the_template_passes_the_stairway() {
    let ws = Workspace::template();
    let out = ws.run(["test"]).success();
    let stdout = out.stdout_text();
    for id in [
        "001_create_examples",
        "002_add_categories",
        "003_add_priority",
        "004_remove_description",
    ] {
        assert!(stdout.contains(&format!("{id}: up, down, up")), "{stdout}");
    }
    assert!(stdout.contains("Stairway passed"), "{stdout}");
    // The scratch database is not the configured one.
    assert!(
        !ws.db().exists(),
        "the stairway must not touch the workspace's database"
    );
}

#[test]
fn a_down_that_forgets_a_column_is_named() {
    let ws = Workspace::new(&["users"]);
    ws.revision("users", &Rev::table("u1"));
    ws.revision(
        "users",
        &Rev::new("u2", "ALTER TABLE u1 ADD COLUMN email TEXT;")
            .revises("u1")
            .down("SELECT 1;"),
    );
    ws.revision("users", &Rev::table("u3").revises("u2"));
    let out = ws.run(["test"]).code(1);
    let stderr = out.stderr_text();
    assert!(
        stderr.contains("the down of revision u2 (users/migrations/u2_revision_u2.sql) does not restore the schema"),
        "{stderr}"
    );
    assert!(
        stderr.contains("  column u1.email: left after the down\n    +"),
        "{stderr}"
    );
    assert!(out.stdout_text().contains("u1: up, down, up"));
    assert!(
        !out.stdout_text().contains("u3:"),
        "the stairway stops at the first failure"
    );
}

#[test]
fn a_down_that_drops_a_table_its_up_did_not_create_is_named() {
    let ws = Workspace::new(&["users"]);
    ws.revision("users", &Rev::table("u1"));
    ws.revision(
        "users",
        &Rev::new("u2", "CREATE TABLE u2 (id INTEGER PRIMARY KEY);")
            .revises("u1")
            .down("DROP TABLE u2;\nDROP TABLE u1;"),
    );
    let out = ws.run(["test"]).code(1);
    let stderr = out.stderr_text();
    assert!(stderr.contains("the down of revision u2"), "{stderr}");
    assert!(
        stderr.contains("  table u1: missing after the down\n    -id "),
        "its columns are shown: {stderr}"
    );
}

#[test]
fn a_revision_that_cannot_be_reapplied_is_named() {
    let ws = Workspace::new(&["users"]);
    ws.revision("users", &Rev::table("u1"));
    // The down leaves the table in place under another name, so the second up collides.
    ws.revision(
        "users",
        &Rev::new("u2", "CREATE TABLE u2 (id INTEGER PRIMARY KEY);\nCREATE TABLE u2_log (id INTEGER);")
            .revises("u1")
            .down("DROP TABLE u2;\nALTER TABLE u2_log RENAME TO u2_log_old;\nALTER TABLE u2_log_old RENAME TO u2_log;"),
    );
    let out = ws.run(["test"]).code(1);
    let stderr = out.stderr_text();
    assert!(stderr.contains("revision u2"), "{stderr}");
}

#[test]
fn several_heads_in_a_member_fail_the_stairway() {
    let ws = Workspace::new(&["users"]);
    ws.revision("users", &Rev::table("u1"));
    ws.revision("users", &Rev::table("u2").revises("u1"));
    ws.revision("users", &Rev::table("u3").revises("u1"));
    let out = ws.run(["test"]).code(1);
    assert!(
        out.stderr_text()
            .contains("member `users` has several heads: u2, u3"),
        "{}",
        out.stderr_text()
    );
}
