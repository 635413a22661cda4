//! `cargo revise down`: one step by default, all the way with `base`, and refusing to guess
//! which member to step back when several are applied (SPEC sections 5 and 6).

use revise_tests::{tables_after, Captured, Rev, Workspace};

#[test]
fn down_reverts_one_revision_and_up_applies_it_again() {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["u1", "u2", "u3"]);
    ws.run(["up"]).success();

    let out = ws.run(["down"]).success();

    assert_eq!(
        out.stdout_text(),
        "Checking migration status...\n\
         Current database version: u3\n\
         Reverting 1 migration(s)...\n   \
         - u3 - Create u3\n\
         Downgrade completed successfully!\n\
         New database version: u2\n"
    );
    assert_eq!(ws.db().version_rows(), ["u2"]);
    assert_eq!(ws.db().tables(), tables_after(&["u1", "u2"]));

    let out = ws.run(["up"]).success();

    assert!(
        out.stdout_text()
            .contains("Running 1 pending migration(s)...\n   - u3 - Create u3\n"),
        "{}",
        out.stdout_text()
    );
    assert_eq!(ws.db().version_rows(), ["u3"]);
    assert_eq!(ws.db().tables(), tables_after(&["u1", "u2", "u3"]));
}

#[test]
fn down_base_reverts_everything() {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["u1", "u2", "u3"]);
    ws.run(["up"]).success();

    let out = ws.run(["down", "base"]).success();

    assert!(
        out.stdout_text().contains(
            "Reverting 3 migration(s)...\n   - u3 - Create u3\n   - u2 - Create u2\n   - u1 - Create u1\n"
        ),
        "{}",
        out.stdout_text()
    );
    // Alembic leaves an empty version table; no table at all is fine too (SPEC section 6).
    assert_eq!(ws.db().version_rows(), Vec::<String>::new());
    let leftovers: Vec<String> = ws
        .db()
        .tables()
        .into_iter()
        .filter(|t| t != "alembic_version")
        .collect();
    assert_eq!(leftovers, Vec::<String>::new());
}

#[test]
fn down_to_an_id_stops_there() {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["u1", "u2", "u3"]);
    ws.run(["up"]).success();

    ws.run(["down", "u1"]).success();

    assert_eq!(ws.db().version_rows(), ["u1"]);
    assert_eq!(ws.db().tables(), tables_after(&["u1"]));
}

#[test]
fn down_with_several_rows_asks_for_a_branch() {
    let ws = Workspace::new(&["billing", "users"]);
    ws.chain("users", &["u1", "u2"]);
    ws.chain("billing", &["b1", "b2"]);
    ws.run(["up"]).success();
    assert_eq!(ws.db().version_rows(), ["b2", "u2"]);

    let out = ws.run(["down"]).code(2);

    let stderr = out.stderr_text();
    assert!(stderr.contains("users@-1"), "{stderr}");
    assert!(stderr.contains("billing@-1"), "{stderr}");
    assert_eq!(ws.db().version_rows(), ["b2", "u2"], "nothing was reverted");

    // The suggestion works.
    ws.run(["down", "users@-1"]).success();
    assert_eq!(ws.db().version_rows(), ["b2", "u1"]);
    assert_eq!(ws.db().tables(), tables_after(&["b1", "b2", "u1"]));
}

#[test]
fn down_through_an_irreversible_revision_changes_nothing() {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["u1"]);
    // No down section: the revision cannot be reverted.
    let file = ws.revision(
        "users",
        &Rev::new("u2", "CREATE TABLE u2 (id INTEGER);").revises("u1"),
    );
    ws.run(["up"]).success();

    let out = ws.run(["down", "base"]).failure();

    let stderr = out.stderr_text();
    assert!(stderr.contains("u2"), "{stderr}");
    assert!(stderr.contains(&file), "{stderr}");
    assert!(stderr.contains("-- revise:down"), "{stderr}");
    assert_eq!(ws.db().version_rows(), ["u2"]);
    assert_eq!(ws.db().tables(), tables_after(&["u1", "u2"]));
}
