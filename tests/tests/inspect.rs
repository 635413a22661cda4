//! The read-only commands, `current` and `history`: Alembic's line format for people, and JSON
//! that parses for scripts (SPEC section 5).

use revise_tests::{Captured, Rev, Workspace};
use serde_json::Value;

/// users u1 -> u2 -> u3; billing b1 -> b2, where b2 depends on u2.
fn two_members() -> Workspace {
    let ws = Workspace::new(&["billing", "users"]);
    ws.chain("users", &["u1", "u2", "u3"]);
    ws.revision("billing", &Rev::table("b1"));
    ws.revision("billing", &Rev::table("b2").revises("b1").depends_on("u2"));
    ws
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

#[test]
fn history_lists_the_graph_newest_first_as_alembic_does() {
    let ws = two_members();

    let out = ws.run(["history"]).success();

    insta::assert_snapshot!(out.stdout_text());
}

#[test]
fn history_verbose_shows_paths_and_dependencies() {
    let ws = two_members();

    let out = ws.run(["history", "-v"]).success();

    let stdout = out.stdout_text();
    assert!(stdout.contains("Rev: b2 (head)\n"), "{stdout}");
    assert!(stdout.contains("Also depends on: u2\n"), "{stdout}");
    assert!(
        stdout.contains("Path: billing/migrations/b2_create_b2.sql\n"),
        "{stdout}"
    );
}

#[test]
fn history_json_parses() {
    let ws = two_members();

    let out = ws.run(["history", "--format", "json"]).success();

    let history = json(&out.stdout_text());
    let revisions = history.as_array().expect("an array of revisions");
    let ids: Vec<&str> = revisions
        .iter()
        .map(|r| r["id"].as_str().expect("an id"))
        .collect();
    assert_eq!(ids.len(), 5);
    let last = revisions.last().expect("a revision");
    assert_eq!(
        last["revises"],
        serde_json::json!([]),
        "newest first, so a root is last: {ids:?}"
    );
    let b2 = revisions
        .iter()
        .find(|r| r["id"] == "b2")
        .expect("b2 is listed");
    assert_eq!(b2["member"], "billing");
    assert_eq!(b2["revises"], serde_json::json!(["b1"]));
    assert_eq!(b2["depends_on"], serde_json::json!(["u2"]));
    assert_eq!(b2["is_head"], true);
    assert_eq!(b2["path"], "billing/migrations/b2_create_b2.sql");
}

#[test]
fn history_reads_no_database() {
    let ws = two_members();

    // No URL anywhere: history needs only the files.
    ws.command().arg("history").assert().success();

    assert!(ws.db().pristine());
}

#[test]
fn current_on_a_fresh_database_prints_nothing_and_creates_nothing() {
    let ws = two_members();

    let out = ws.run(["current"]).success();

    assert_eq!(out.stdout_text(), "");
    assert!(
        ws.db().pristine(),
        "a read-only command created the database or a table: {:?}",
        ws.db().tables()
    );
}

#[test]
fn current_marks_heads() {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["u1", "u2"]);
    ws.run(["up", "u1"]).success();

    assert_eq!(ws.run(["current"]).success().stdout_text(), "u1\n");

    ws.run(["up"]).success();

    assert_eq!(ws.run(["current"]).success().stdout_text(), "u2 (head)\n");
}

/// SPEC section 6: `current` prints the rows and also the heads implied through
/// `Depends On` (the row is b2 alone, but u2 is applied and is users' current revision).
#[test]
fn current_shows_heads_implied_by_depends_on() {
    let ws = two_members();
    ws.run(["up", "billing@head"]).success();
    assert_eq!(ws.db().version_rows(), ["b2"]);

    let out = ws.run(["current"]).success();

    let stdout = out.stdout_text();
    let mut lines: Vec<&str> = stdout.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["b2 (head)", "u2"]);
}

#[test]
fn current_json_parses() {
    let ws = two_members();
    ws.run(["up"]).success();

    let out = ws.run(["current", "--format", "json"]).success();

    let current = json(&out.stdout_text());
    let mut rows: Vec<&str> = current["rows"]
        .as_array()
        .expect("rows is an array")
        .iter()
        .map(|r| r.as_str().expect("a row is a string"))
        .collect();
    rows.sort_unstable();
    assert_eq!(rows, ["b2", "u3"]);
    let heads: Vec<bool> = current["current"]
        .as_array()
        .expect("current is an array")
        .iter()
        .map(|c| c["head"] == true)
        .collect();
    assert_eq!(heads, [true, true]);
}
