//! `cargo revise up`: what runs on a fresh, an up-to-date and a lagging database, and what
//! the report says about it (SPEC sections 6 and 7).

use revise_tests::{tables_after, Captured, Rev, UrlVia, Workspace};

#[test]
fn fresh_database_gets_every_revision_in_graph_order() {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["u1", "u2", "u3"]);

    let out = ws.run(["up"]).success();

    assert_eq!(
        out.stdout_text(),
        "Checking migration status...\n\
         Database not initialized (no migrations applied yet)\n\
         Running 3 pending migration(s)...\n   \
         - u1 - Create u1\n   \
         - u2 - Create u2\n   \
         - u3 - Create u3\n\
         Migrations completed successfully!\n\
         New database version: u3\n"
    );
    assert_eq!(ws.db().version_rows(), ["u3"]);
    assert_eq!(ws.db().tables(), tables_after(&["u1", "u2", "u3"]));
}

#[test]
fn up_to_date_database_runs_nothing() {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["u1", "u2"]);
    ws.run(["up"]).success();
    // A revision that ran twice would fail here: its table already exists.

    let out = ws.run(["up"]).success();

    assert_eq!(
        out.stdout_text(),
        "Checking migration status...\n\
         Current database version: u2\n\
         Database is up to date - no migrations needed\n"
    );
    assert_eq!(ws.db().version_rows(), ["u2"]);
}

#[test]
fn database_two_revisions_behind_runs_exactly_those_two() {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["u1", "u2", "u3", "u4"]);
    ws.run(["up", "u2"]).success();
    assert_eq!(ws.db().version_rows(), ["u2"]);
    assert_eq!(ws.db().tables(), tables_after(&["u1", "u2"]));

    let out = ws.run(["up"]).success();

    assert_eq!(
        out.stdout_text(),
        "Checking migration status...\n\
         Current database version: u2\n\
         Running 2 pending migration(s)...\n   \
         - u3 - Create u3\n   \
         - u4 - Create u4\n\
         Migrations completed successfully!\n\
         New database version: u4\n"
    );
    assert_eq!(ws.db().version_rows(), ["u4"]);
    assert_eq!(ws.db().tables(), tables_after(&["u1", "u2", "u3", "u4"]));
}

#[test]
fn a_prefix_names_its_revision_as_target() {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["alpha", "beta", "gamma"]);

    ws.run(["up", "be"]).success();

    assert_eq!(ws.db().version_rows(), ["beta"]);
}

#[test]
fn depends_on_runs_the_other_members_revision_first_and_keeps_rows_maximal() {
    // SPEC section 6: users u1 -> u2, billing b1 -> b2 with b2 depending on u2;
    // `up heads` leaves the single row b2.
    let ws = Workspace::new(&["billing", "users"]);
    ws.chain("users", &["u1", "u2"]);
    ws.revision("billing", &Rev::table("b1"));
    ws.revision("billing", &Rev::table("b2").revises("b1").depends_on("u2"));

    let out = ws.run(["up"]).success();

    let stdout = out.stdout_text();
    let position = |id: &str| {
        stdout
            .find(&format!("- {id} - "))
            .unwrap_or_else(|| panic!("{id} is not listed in:\n{stdout}"))
    };
    assert!(position("u2") < position("b2"), "{stdout}");
    assert!(position("b1") < position("b2"), "{stdout}");
    assert_eq!(ws.db().version_rows(), ["b2"]);
    assert_eq!(ws.db().tables(), tables_after(&["b1", "b2", "u1", "u2"]));
}

#[test]
fn one_package_upgrades_only_that_member() {
    let ws = Workspace::new(&["billing", "users"]);
    ws.chain("users", &["u1", "u2"]);
    ws.chain("billing", &["b1"]);

    ws.run(["up", "-p", "users"]).success();

    assert_eq!(ws.db().version_rows(), ["u2"]);
    assert_eq!(ws.db().tables(), tables_after(&["u1", "u2"]));
}

#[test]
fn the_environment_variable_names_the_database_too() {
    let ws = Workspace::new(&["users"]).with_url_via(UrlVia::Environment);
    ws.chain("users", &["u1"]);

    ws.run(["up"]).success();

    assert_eq!(ws.db().version_rows(), ["u1"]);
}

#[test]
fn a_32_character_id_fits_the_version_column() {
    let id = "a".repeat(32);
    let ws = Workspace::new(&["users"]);
    ws.revision("users", &Rev::new(&id, "SELECT 1;"));

    let out = ws.run(["up"]).success();

    // The report shortens ids to Alembic's 12 characters.
    assert!(
        out.stdout_text()
            .contains("New database version: aaaaaaaaaaaa...\n"),
        "{}",
        out.stdout_text()
    );
    assert_eq!(ws.db().version_rows(), [id]);
}

#[test]
fn quiet_prints_nothing_but_still_migrates() {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["u1"]);

    let out = ws.run(["up", "--quiet"]).success();

    assert_eq!(out.stdout_text(), "");
    assert_eq!(out.stderr_text(), "");
    assert_eq!(ws.db().version_rows(), ["u1"]);
}

/// SPEC section 7: the progress bar is hidden when output is not a terminal, so logs and
/// pipes get the report lines and nothing else (no `\r` redraws, no escape sequences).
#[test]
fn piped_output_has_no_progress_bar_or_escape_codes() {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["u1", "u2", "u3"]);

    // Without NO_COLOR, and with a terminal type that could show anything.
    let out = ws
        .command()
        .env_remove("NO_COLOR")
        .env("TERM", "xterm-256color")
        .args(["--database-url", &ws.db().url(), "up"])
        .assert()
        .success();

    for (stream, text) in [("stdout", out.stdout_text()), ("stderr", out.stderr_text())] {
        assert!(
            !text.contains('\r'),
            "{stream} has a carriage return: {text:?}"
        );
        assert!(
            !text.contains('\x1b'),
            "{stream} has an escape code: {text:?}"
        );
    }
    assert_eq!(out.stderr_text(), "");
    assert!(out
        .stdout_text()
        .contains("Migrations completed successfully!"));
}
