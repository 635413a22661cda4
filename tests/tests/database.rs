//! `cargo revise database create | drop | reset | setup` on every backend: the SQLite file,
//! a PostgreSQL database (through the maintenance database `postgres`) and a MariaDB one
//! (through the server without a database). Each test goes through `Backend::ALL` itself;
//! every server database it makes has a unique name and is dropped afterwards.

use std::process::Command;

use revise_tests::{cargo_revise, tables_after, Backend, Captured, Rev, Workspace};

/// The backends this build can test; a backend it cannot is named on standard error.
fn backends(test: &str) -> impl Iterator<Item = Backend> + '_ {
    Backend::ALL.into_iter().filter(move |b| !b.skip(test))
}

#[test]
fn setup_creates_a_missing_database_and_migrates_it() {
    for backend in backends("setup_creates_a_missing_database_and_migrates_it") {
        let ws = Workspace::with_missing_database(&["users"], backend);
        ws.chain("users", &["u1", "u2"]);
        assert!(!ws.db().exists(), "{backend}: the database exists already");

        let out = ws.run(["database", "setup"]).success();

        let stdout = out.stdout_text();
        assert!(
            stdout.starts_with(&format!("Created database {}\n", ws.db().url())),
            "{backend}: {stdout}"
        );
        assert!(
            stdout.contains("Running 2 pending migration(s)..."),
            "{backend}: {stdout}"
        );
        assert!(ws.db().exists(), "{backend}");
        assert_eq!(ws.db().version_rows(), ["u2"], "{backend}");
        assert_eq!(ws.db().tables(), tables_after(&["u1", "u2"]), "{backend}");

        // Again: the database is kept, and there is nothing to apply.
        let again = ws.run(["database", "setup"]).success().stdout_text();
        assert!(
            again.contains("already exists; nothing to create"),
            "{backend}: {again}"
        );
        assert!(
            again.contains("Database is up to date - no migrations needed"),
            "{backend}: {again}"
        );
    }
}

#[test]
fn create_makes_an_empty_database_once() {
    for backend in backends("create_makes_an_empty_database_once") {
        let ws = Workspace::with_missing_database(&["users"], backend);
        ws.chain("users", &["u1"]);

        let out = ws.run(["database", "create"]).success();

        assert_eq!(
            out.stdout_text(),
            format!("Created database {}\n", ws.db().url()),
            "{backend}"
        );
        assert!(ws.db().exists(), "{backend}");
        assert!(ws.db().tables().is_empty(), "{backend}: create migrated");

        let again = ws.run(["database", "create"]).success();
        assert_eq!(
            again.stdout_text(),
            format!(
                "Database {} already exists; nothing to create\n",
                ws.db().url()
            ),
            "{backend}"
        );
    }
}

#[test]
fn drop_off_a_terminal_needs_yes() {
    for backend in backends("drop_off_a_terminal_needs_yes") {
        let ws = Workspace::with_backend(&["users"], backend);
        ws.chain("users", &["u1"]);
        ws.run(["up"]).success();

        // The tests' standard input is not a terminal: no question, a refusal.
        let refused = ws.run(["database", "drop"]).code(2);

        let stderr = refused.stderr_text();
        assert!(
            stderr.contains("refusing to drop database") && stderr.contains("-y (--yes)"),
            "{backend}: {stderr}"
        );
        assert!(ws.db().exists(), "{backend}: dropped without -y");
        assert_eq!(ws.db().version_rows(), ["u1"], "{backend}");

        let dropped = ws.run(["database", "drop", "-y"]).success();
        assert_eq!(
            dropped.stdout_text(),
            format!("Dropped database {}\n", ws.db().url()),
            "{backend}"
        );
        assert!(!ws.db().exists(), "{backend}: still there after drop -y");

        let again = ws.run(["database", "drop"]).success();
        assert!(
            again
                .stdout_text()
                .contains("does not exist; nothing to drop"),
            "{backend}: {}",
            again.stdout_text()
        );
    }
}

#[test]
fn reset_after_a_failed_revision_starts_clean() {
    for backend in backends("reset_after_a_failed_revision_starts_clean") {
        let ws = Workspace::with_backend(&["users"], backend);
        ws.chain("users", &["u1"]);
        // u2 creates its table, then fails; on MariaDB the table stays (DDL commits).
        let broken = Rev::table("u2")
            .revises("u1")
            .up("CREATE TABLE u2 (id INTEGER PRIMARY KEY);\nINSERT INTO missing_table VALUES (1);");
        let file = ws.revision("users", &broken);
        ws.run(["up"]).code(1);
        assert_eq!(ws.db().version_rows(), ["u1"], "{backend}");

        // The revision is fixed; reset drops what the failure left and starts over.
        std::fs::write(ws.root().join(&file), Rev::table("u2").revises("u1").text())
            .expect("rewrite the revision");
        let out = ws.run(["database", "reset", "-y"]).success();

        let stdout = out.stdout_text();
        let url = ws.db().url();
        assert!(
            stdout.starts_with(&format!("Dropped database {url}\nCreated database {url}\n")),
            "{backend}: {stdout}"
        );
        assert!(
            stdout.contains("Running 2 pending migration(s)..."),
            "{backend}: {stdout}"
        );
        assert_eq!(ws.db().version_rows(), ["u2"], "{backend}");
        assert_eq!(ws.db().tables(), tables_after(&["u1", "u2"]), "{backend}");
    }
}

#[test]
fn reset_with_bad_revision_files_keeps_the_database() {
    for backend in backends("reset_with_bad_revision_files_keeps_the_database") {
        let ws = Workspace::with_backend(&["users"], backend);
        ws.chain("users", &["u1"]);
        ws.run(["up"]).success();
        ws.raw(
            "users",
            "u2_bad.sql",
            "-- Bad\n-- Revision ID: u2\n-- Revises: nowhere\n\n-- revise:up\nSELECT 1;\n",
        );

        let out = ws.run(["database", "reset", "-y"]).code(2);

        assert!(
            out.stderr_text().contains("users/migrations/u2_bad.sql"),
            "{backend}: {}",
            out.stderr_text()
        );
        assert_eq!(
            ws.db().version_rows(),
            ["u1"],
            "{backend}: reset dropped it"
        );
    }
}

#[test]
fn a_name_that_is_not_plain_is_bad_input_and_passwords_stay_hidden() {
    for backend in [Backend::Postgres, Backend::Mysql] {
        if backend.skip("a_name_that_is_not_plain_is_bad_input_and_passwords_stay_hidden") {
            continue;
        }
        let ws = Workspace::with_backend(&["users"], backend);
        let bad = ws.db().server_url("someone:hunter2", "shop.v2");

        for action in ["create", "drop", "setup", "reset"] {
            let out = ws
                .command()
                .args(["--database-url", &bad, "database", action, "-q"])
                .assert()
                .code(2);

            let stderr = out.stderr_text();
            assert!(
                stderr.contains("database name `shop.v2`") && stderr.contains("not a plain name"),
                "{backend} {action}: {stderr}"
            );
            assert!(!stderr.contains("hunter2"), "{backend} {action}: {stderr}");
        }
    }
}

#[test]
fn the_maintenance_connection_is_named_when_it_fails() {
    let cases = [
        (
            Backend::Postgres,
            "postgres://postgres:hunter2@127.0.0.1:1/app",
            "connecting to the maintenance database `postgres` (postgres://postgres:***@127.0.0.1:1/postgres) failed",
        ),
        (
            Backend::Mysql,
            "mariadb://root:hunter2@127.0.0.1:1/app",
            "connecting to the server mariadb://root:***@127.0.0.1:1 (no database) failed",
        ),
    ];
    for (backend, url, expected) in cases {
        if backend.skip("the_maintenance_connection_is_named_when_it_fails") {
            continue;
        }
        let ws = Workspace::with_backend(&["users"], Backend::Sqlite);

        let out = ws
            .command()
            .args(["--database-url", url, "database", "create"])
            .assert()
            .code(1);

        let stderr = out.stderr_text();
        assert!(
            stderr.contains(&format!("error: cannot create database `app`: {expected}")),
            "{backend}: {stderr}"
        );
        assert!(!stderr.contains("hunter2"), "{backend}: {stderr}");
    }
}

#[test]
fn mariadb_urls_are_shown_as_written() {
    if Backend::Mysql.skip("mariadb_urls_are_shown_as_written") {
        return;
    }
    let ws = Workspace::with_backend(&["users"], Backend::Mysql);
    let url = ws.db().url().replacen("mysql://", "mariadb://", 1);

    let out = ws
        .command()
        .args(["--database-url", &url, "database", "create"])
        .assert()
        .success();

    assert_eq!(
        out.stdout_text(),
        format!("Database {url} already exists; nothing to create\n")
    );
    let check = ws
        .command()
        .args(["--database-url", &url, "check"])
        .assert()
        .success()
        .stdout_text();
    assert!(check.contains(&format!("Database {url} ")), "{check}");
}

/// On a terminal, `drop` asks and only `y`/`yes` drops. The terminal is util-linux's
/// `script`, which runs the command on a pseudo-terminal fed from our standard input.
#[test]
fn drop_on_a_terminal_asks_first() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("SKIPPED drop_on_a_terminal_asks_first: util-linux `script` is not installed");
        return;
    }
    let ws = Workspace::with_backend(&["users"], Backend::Sqlite);
    ws.chain("users", &["u1"]);
    ws.run(["up"]).success();
    let on_terminal = |answer: &str| {
        let line = format!(
            "{} --database-url {} database drop",
            cargo_revise().display(),
            ws.db().url()
        );
        assert_cmd::Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .current_dir(ws.root())
            .env("NO_COLOR", "1")
            .write_stdin(format!("{answer}\n"))
            .assert()
    };

    let declined = on_terminal("n").code(1);

    let text = declined.stdout_text();
    assert!(
        text.contains("Everything in it will be lost. [y/N]") && text.contains("was not dropped"),
        "{text}"
    );
    assert!(ws.db().exists());

    let accepted = on_terminal("yes").success();
    assert!(
        accepted.stdout_text().contains("Dropped database"),
        "{}",
        accepted.stdout_text()
    );
    assert!(!ws.db().exists());
}
