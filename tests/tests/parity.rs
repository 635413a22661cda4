//! Alembic's commands and targets end to end: `heads`, `branches`, `show`, `merge`, `stamp`,
//! `check`, `history -r/-i`, `--format json`, every target form and its errors, and `--sql`.

use revise_tests::{Captured, Rev, Workspace};

/// users: u1 <- u2 <- {u3a, u3b}; billing: b1 (depends on u1) <- b2 (depends on u2).
fn branched() -> Workspace {
    let ws = Workspace::new(&["billing", "users"]);
    ws.revision("users", &Rev::table("u1"));
    ws.revision("users", &Rev::table("u2").revises("u1"));
    ws.revision("users", &Rev::table("u3a").revises("u2"));
    ws.revision("users", &Rev::table("u3b").revises("u2"));
    ws.revision("billing", &Rev::table("b1").depends_on("u1"));
    ws.revision("billing", &Rev::table("b2").revises("b1").depends_on("u2"));
    ws
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn heads_and_branches_print_as_alembic() {
    let ws = branched();
    let heads = ws.run(["heads"]).success().stdout_text();
    assert_eq!(
        heads,
        "b2 (billing) (head)\nu3a (users) (head)\nu3b (users) (head)\n"
    );
    let branches = ws.run(["branches"]).success().stdout_text();
    assert!(
        branches.starts_with("u2 (users) (branchpoint), Create u2\n"),
        "{branches}"
    );
    assert!(
        branches.contains("   -> u3a (users) (head), Create u3a\n"),
        "{branches}"
    );
    let heads = json(
        &ws.run(["heads", "--format", "json"])
            .success()
            .stdout_text(),
    );
    assert_eq!(heads.as_array().map(Vec::len), Some(3));
}

#[test]
fn show_prints_one_revision_with_parents_and_children() {
    let ws = branched();
    let show = ws.run(["show", "u2"]).success().stdout_text();
    assert!(
        show.starts_with("Rev: u2 (branchpoint)\nParent: u1\n"),
        "{show}"
    );
    assert!(show.contains("Children: b2, u3a, u3b"), "{show}");
    assert!(
        show.contains("Path: users/migrations/u2_create_u2.sql"),
        "{show}"
    );
    let value = json(
        &ws.run(["show", "b2", "--format", "json"])
            .success()
            .stdout_text(),
    );
    assert_eq!(value["depends_on"], serde_json::json!(["u2"]));
    assert_eq!(value["member"], "billing");
    // As in Alembic, only ids of four or more characters are matched by a prefix.
    let out = ws.run(["show", "u3"]).code(2);
    assert!(
        out.stderr_text()
            .contains("Can't locate revision identified by 'u3'")
            && out.stderr_text().contains("at least four characters"),
        "{}",
        out.stderr_text()
    );
}

#[test]
fn merge_joins_the_heads_of_a_member() {
    let ws = branched();
    let refused = ws.run(["new", "-p", "users", "-m", "next"]).code(2);
    assert!(refused
        .stderr_text()
        .contains("member `users` has several heads: u3a, u3b"));
    assert!(refused.stderr_text().contains("--head REV"));
    ws.run([
        "merge", "-p", "users", "-m", "join", "--rev-id", "u4", "heads",
    ])
    .success();
    assert!(ws
        .read("users/migrations/u4_join.sql")
        .contains("-- Revises: u3a, u3b"));
    ws.run(["up"]).success();
    assert_eq!(ws.db().version_rows(), ["b2", "u4"]);
    let history = ws.run(["history", "-r", "u2:"]).success().stdout_text();
    assert!(
        history.starts_with("u3a, u3b -> u4 (users) (head) (mergepoint), join\n"),
        "{history}"
    );
    let across = ws.run(["merge", "-m", "x", "b2", "u3a"]).code(2);
    assert!(
        across
            .stderr_text()
            .contains("a merge joins heads of one member"),
        "{}",
        across.stderr_text()
    );
}

#[test]
fn every_target_form() {
    let ws = branched();
    ws.run(["up", "users@u2"]).success();
    assert_eq!(ws.db().version_rows(), ["u2"]);
    ws.run(["up", "billing@+1"]).success();
    assert_eq!(ws.db().version_rows(), ["b1", "u2"]);
    ws.run(["up", "billing@head"]).success();
    assert_eq!(ws.db().version_rows(), ["b2"]);
    ws.run(["up", "u3a"]).success();
    assert_eq!(ws.db().version_rows(), ["b2", "u3a"]);
    // As in Alembic, a labeled downgrade to a branch point keeps only the roots below the
    // label's own revision (u1), and none of u3a, u3b is: refused.
    let refused = ws.run(["down", "users@-1"]).code(2).stderr_text();
    assert!(
        refused.contains("is not a valid downgrade target"),
        "{refused}"
    );
    assert_eq!(ws.db().version_rows(), ["b2", "u3a"]);
    ws.run(["down", "u3a-1"]).success();
    assert_eq!(ws.db().version_rows(), ["b2"]);
    ws.run(["down", "billing@-1"]).success();
    assert_eq!(ws.db().version_rows(), ["b1", "u2"]);
    ws.run(["up", "u1+2"]).code(2); // a branch point: ambiguous walk
    ws.run(["up", "heads"]).success();
    assert_eq!(ws.db().version_rows(), ["b2", "u3a", "u3b"]);
    ws.run(["down", "users@base"]).success();
    assert_eq!(ws.db().version_rows(), Vec::<String>::new());
}

#[test]
fn target_errors_list_the_candidates() {
    let ws = branched();
    let head = ws.run(["up", "head"]).code(2).stderr_text();
    assert!(
        head.contains(
            "Multiple head revisions are present for given argument 'head': b2, u3a, u3b"
        ),
        "{head}"
    );
    let several = ws.run(["up", "+1"]).code(2).stderr_text();
    assert!(
        several.contains("Ambiguous walk") || several.contains("could be any of"),
        "{several}"
    );
    ws.run(["up", "u2"]).success();
    let at_branch = ws.run(["up", "+1"]).code(2).stderr_text();
    assert!(
        at_branch.contains("the next step could be any of u3a, u3b"),
        "{at_branch}"
    );
    let label = ws.run(["up", "nobody@head"]).code(2).stderr_text();
    assert!(
        label.contains("no branch label 'nobody'; the labels are: billing, users"),
        "{label}"
    );
    let unknown = ws.run(["up", "zz"]).code(2).stderr_text();
    assert!(
        unknown.contains("Can't locate revision identified by 'zz'"),
        "{unknown}"
    );
    ws.run(["up", "heads"]).success();
    let over = ws.run(["up", "b2+1"]).code(2).stderr_text();
    assert!(
        over.contains("didn't produce 1 migrations: b2 is a head"),
        "{over}"
    );
    let ambiguous_down = ws.run(["down"]).code(2).stderr_text();
    assert!(
        ambiguous_down.contains("'billing@-1' or 'users@-1'"),
        "{ambiguous_down}"
    );
}

#[test]
fn stamp_moves_rows_without_running_anything() {
    let ws = branched();
    let out = ws.run(["stamp", "b2"]).success().stdout_text();
    assert_eq!(out, "Stamped `alembic_version`: <base> -> b2\n");
    assert_eq!(ws.db().version_rows(), ["b2"]);
    assert_eq!(ws.db().tables(), ["alembic_version"], "stamp runs no SQL");
    ws.run(["stamp", "u3a"]).success();
    assert_eq!(ws.db().version_rows(), ["b2", "u3a"]);
    ws.run(["stamp", "base"]).success();
    assert_eq!(ws.db().version_rows(), Vec::<String>::new());
    ws.db()
        .execute("INSERT INTO alembic_version VALUES ('gone');");
    let unknown = ws.run(["current"]).code(1).stderr_text();
    assert!(
        unknown.contains("Can't locate revision identified by 'gone'"),
        "{unknown}"
    );
    assert!(unknown.contains("stamp"), "{unknown}");
    ws.run(["stamp", "--purge", "u1"]).success();
    assert_eq!(ws.db().version_rows(), ["u1"]);
}

#[test]
fn check_reports_pending_revisions_with_status_1() {
    let ws = branched();
    let pending = ws.run(["check"]).code(1).stdout_text();
    assert!(
        pending.contains("Checked 6 revision(s) in 2 member(s): no problems found"),
        "{pending}"
    );
    assert!(
        pending.contains("is not up to date: 6 revision(s) pending"),
        "{pending}"
    );
    ws.run(["up"]).success();
    let done = ws
        .run(["check", "--format", "json"])
        .success()
        .stdout_text();
    let value = json(&done);
    assert_eq!(value["up_to_date"], true);
    assert_eq!(value["revisions"], 6);
}

#[test]
fn check_warns_about_redundant_parents() {
    let ws = Workspace::new(&["m"]);
    ws.revision("m", &Rev::table("a"));
    ws.revision("m", &Rev::table("b").revises("a"));
    ws.revision("m", &Rev::table("c").revises("b").revises("a"));
    let out = ws.run(["check"]).code(1);
    assert!(out.stderr_text().contains("warning: m/migrations/c_create_c.sql: revision c lists a although b already leads to it"), "{}", out.stderr_text());
}

#[test]
fn history_indicates_current_and_narrows_ranges() {
    let ws = branched();
    ws.run(["up", "b2"]).success();
    let marked = ws.run(["history", "-i"]).success().stdout_text();
    assert!(
        marked.contains("b1 (u2) -> b2 (billing) (head) (current), Create b2"),
        "{marked}"
    );
    // As in Alembic, `(current)` marks the rows only: u2 is applied because b2 depends on
    // it (and `current` lists it), but the table does not hold it.
    assert!(
        marked.contains("u1 -> u2 (users) (branchpoint), Create u2"),
        "{marked}"
    );
    let range = ws.run(["history", "-r", "u2:u3a"]).success().stdout_text();
    assert_eq!(
        range,
        "u2 -> u3a (users) (head), Create u3a\nu1 -> u2 (users) (branchpoint), Create u2\n"
    );
    let current = json(
        &ws.run(["current", "--format", "json"])
            .success()
            .stdout_text(),
    );
    assert_eq!(current["rows"], serde_json::json!(["b2"]));
    let history = json(
        &ws.run(["history", "--format", "json"])
            .success()
            .stdout_text(),
    );
    assert_eq!(history.as_array().map(Vec::len), Some(6));
}

#[test]
fn offline_sql_needs_no_database() {
    let ws = branched();
    let sql = ws
        .run(["up", "--sql", "--dialect", "postgresql", "u2"])
        .success()
        .stdout_text();
    assert!(sql.starts_with("CREATE TABLE \"alembic_version\" (\n    version_num VARCHAR(32) NOT NULL, \n    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n);"), "{sql}");
    assert!(sql.contains("-- Running upgrade  -> u1\nBEGIN;\n\nCREATE TABLE u1 (id INTEGER PRIMARY KEY);\n\nINSERT INTO \"alembic_version\" (version_num) VALUES ('u1');\n\nCOMMIT;"), "{sql}");
    assert!(
        sql.contains("UPDATE \"alembic_version\" SET version_num = 'u2' WHERE version_num = 'u1';"),
        "{sql}"
    );
    assert!(ws.db().pristine(), "--sql must not connect");
    let down = ws
        .run(["down", "--sql", "--dialect", "mysql", "u2:base"])
        .success()
        .stdout_text();
    assert!(
        down.contains("DELETE FROM `alembic_version` WHERE version_num = 'u1';"),
        "{down}"
    );
    let needs_range = ws
        .run(["down", "--sql", "--dialect", "sqlite", "base"])
        .code(2)
        .stderr_text();
    assert!(
        needs_range.contains("needs a range FROM:TO"),
        "{needs_range}"
    );
    let stamp = ws
        .run(["stamp", "--sql", "--dialect", "sqlite", "heads"])
        .success()
        .stdout_text();
    assert!(
        stamp.contains("INSERT INTO \"alembic_version\" (version_num) VALUES ('b2');"),
        "{stamp}"
    );
}
