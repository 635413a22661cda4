//! Bad input: every mistake of SPEC section 3 in a revision file, and bad targets and
//! settings, exit with status 2, say where the mistake is (`--> path:line`, as cargo does),
//! and leave the database untouched: nothing runs until every file is right.

use revise_tests::{Captured, Rev, Workspace};

/// Runs `up` and checks the contract for bad input files: exit status 2, `--> LOCATION` for
/// each of `locations` (`member/migrations/file.sql:LINE`), `message` somewhere, and a
/// database that no run has touched. Returns standard error for further checks.
fn assert_bad_input(ws: &Workspace, locations: &[&str], message: &str) -> String {
    let out = ws.run(["up"]).code(2);
    let stderr = out.stderr_text();
    for location in locations {
        assert!(
            stderr.contains(&format!("--> {location}\n")),
            "expected `--> {location}` in:\n{stderr}"
        );
    }
    assert!(
        stderr.contains(message),
        "expected `{message}` in:\n{stderr}"
    );
    assert!(
        out.stdout_text().is_empty(),
        "nothing should run or report: {}",
        out.stdout_text()
    );
    assert!(
        ws.db().untouched(),
        "the database was touched: {:?}",
        ws.db().tables()
    );
    stderr
}

/// A workspace whose `users` member starts with a valid root `u1`, so a run that ignored the
/// bad file would have something to apply.
fn users() -> Workspace {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["u1"]);
    ws
}

#[test]
fn missing_revision_id() {
    let ws = users();
    ws.raw(
        "users",
        "u2_no_id.sql",
        "-- Add users\n--\n-- Revises: u1\n\n-- revise:up\nCREATE TABLE u2 (id INTEGER);\n",
    );

    assert_bad_input(
        &ws,
        &["users/migrations/u2_no_id.sql:1"],
        "no `Revision ID:` line",
    );
}

#[test]
fn duplicate_ids_name_both_files() {
    let ws = users();
    let first = ws.raw("users", "u2_a.sql", Rev::table("u2").revises("u1").text());
    let second = ws.raw("users", "u2_b.sql", Rev::table("u2").revises("u1").text());

    let stderr = assert_bad_input(&ws, &[], "u2");

    assert!(stderr.contains(&first), "{stderr}");
    assert!(stderr.contains(&second), "{stderr}");
    assert!(
        stderr.contains(&format!("--> {first}:3")) || stderr.contains(&format!("--> {second}:3")),
        "the `Revision ID:` line (3) of one of them: {stderr}"
    );
}

#[test]
fn unknown_parent() {
    let ws = users();
    let path = ws.revision("users", &Rev::table("u2").revises("nope"));

    assert_bad_input(&ws, &[&format!("{path}:4")], "`nope`");
}

#[test]
fn cycle() {
    let ws = users();
    let u2 = ws.revision("users", &Rev::table("u2").revises("u3"));
    let u3 = ws.revision("users", &Rev::table("u3").revises("u2"));

    let stderr = assert_bad_input(&ws, &[], "cycle");

    assert!(
        stderr.contains(&format!("--> {u2}:4")) || stderr.contains(&format!("--> {u3}:4")),
        "the `Revises:` line (4) of one of them: {stderr}"
    );
}

#[test]
fn unknown_header_key() {
    let ws = users();
    ws.raw(
        "users",
        "u2_author.sql",
        "-- Add u2\n--\n-- Revision ID: u2\n-- Revises: u1\n-- Author: bob\n\n-- revise:up\nSELECT 1;\n",
    );

    assert_bad_input(&ws, &["users/migrations/u2_author.sql:5"], "`Author`");
}

#[test]
fn missing_up_marker() {
    let ws = users();
    ws.raw(
        "users",
        "u2_no_up.sql",
        "-- Add u2\n--\n-- Revision ID: u2\n-- Revises: u1\n\n-- revise:down\nSELECT 1;\n",
    );

    let stderr = assert_bad_input(&ws, &[], "`-- revise:up`");

    assert!(
        stderr.contains("--> users/migrations/u2_no_up.sql:"),
        "{stderr}"
    );
}

/// The line a diagnostic points at should be one the user can find in the file.
#[test]
fn missing_up_marker_points_at_a_line_of_the_file() {
    let ws = users();
    let text = "-- Add u2\n--\n-- Revision ID: u2\n-- Revises: u1\n\n-- revise:down\nSELECT 1;\n";
    ws.raw("users", "u2_no_up.sql", text);

    let stderr = assert_bad_input(&ws, &[], "`-- revise:up`");

    let prefix = "--> users/migrations/u2_no_up.sql:";
    let start = stderr.find(prefix).expect("a location") + prefix.len();
    let line: usize = stderr[start..]
        .lines()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a line number");
    assert!(
        (1..=text.lines().count()).contains(&line),
        "line {line} is not in a file of {} lines",
        text.lines().count()
    );
}

#[test]
fn id_of_33_characters_is_too_long() {
    let ws = users();
    let id = "a".repeat(33);
    let path = ws.revision("users", &Rev::table("u2").revises("u1").message("long"));
    // The id is written by hand so that the table name stays short.
    let text = ws
        .read(&path)
        .replace("Revision ID: u2", &format!("Revision ID: {id}"));
    std::fs::write(ws.root().join(&path), text).expect("rewrite the file");

    assert_bad_input(&ws, &[&format!("{path}:3")], "33");
}

#[test]
fn file_that_is_not_utf8() {
    let ws = users();
    let mut bytes =
        b"-- Add u2\n--\n-- Revision ID: u2\n-- Revises: u1\n\n-- revise:up\nSELECT '".to_vec();
    bytes.extend_from_slice(b"caf\xe9';\n");
    ws.raw("users", "u2_latin1.sql", bytes);

    assert_bad_input(&ws, &["users/migrations/u2_latin1.sql:7"], "UTF-8");
}

#[test]
fn second_root_in_one_member_names_both_files() {
    let ws = Workspace::new(&["users"]);
    let first = ws.revision("users", &Rev::table("u1"));
    let second = ws.revision("users", &Rev::table("u2"));

    let stderr = assert_bad_input(&ws, &[], "second root");

    assert!(stderr.contains(&first), "{stderr}");
    assert!(stderr.contains(&second), "{stderr}");
    assert!(
        stderr.contains(&format!("--> {first}:4")) || stderr.contains(&format!("--> {second}:4")),
        "the empty `Revises:` line (4) of one of them: {stderr}"
    );
}

#[test]
fn revises_across_members() {
    let ws = Workspace::new(&["billing", "users"]);
    ws.chain("users", &["u1"]);
    let path = ws.revision("billing", &Rev::table("b1").revises("u1"));

    assert_bad_input(&ws, &[&format!("{path}:4")], "Depends On");
}

#[test]
fn every_bad_file_is_reported_in_one_run() {
    let ws = users();
    ws.raw(
        "users",
        "u2_author.sql",
        "-- Add u2\n--\n-- Revision ID: u2\n-- Revises: u1\n-- Author: bob\n\n-- revise:up\nSELECT 1;\n",
    );
    ws.raw(
        "users",
        "u3_no_id.sql",
        "-- Add u3\n--\n-- Revises: u2\n\n-- revise:up\nSELECT 1;\n",
    );

    assert_bad_input(
        &ws,
        &[
            "users/migrations/u2_author.sql:5",
            "users/migrations/u3_no_id.sql:1",
        ],
        "error:",
    );
}

#[test]
fn files_that_are_not_revisions_are_ignored() {
    let ws = users();
    ws.raw("users", "README.md", "not SQL");
    ws.raw("users", "_draft.sql", "not a revision");
    ws.raw("users", ".hidden.sql", "not a revision");

    ws.run(["up"]).success();

    assert_eq!(ws.db().version_rows(), ["u1"]);
}

#[test]
fn no_database_url_anywhere() {
    let ws = users();

    // No flag, no DATABASE_URL (the fixture removes it), no .env.
    let out = ws.command().arg("up").assert().code(2);

    let stderr = out.stderr_text();
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
    assert!(
        stderr.contains("help:"),
        "a hint says how to set it: {stderr}"
    );
    assert!(out.stdout_text().is_empty());
}

#[test]
fn unknown_target() {
    let ws = users();

    let out = ws.run(["up", "nope"]).code(2);

    assert!(
        out.stderr_text()
            .contains("Can't locate revision identified by 'nope'"),
        "{}",
        out.stderr_text()
    );
    assert!(ws.db().untouched());
}

#[test]
fn ambiguous_prefix_lists_the_candidates() {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["abc1", "abc2", "xyz"]);

    let out = ws.run(["up", "abc"]).code(2);

    let stderr = out.stderr_text();
    assert!(stderr.contains("abc1"), "{stderr}");
    assert!(stderr.contains("abc2"), "{stderr}");
    assert!(!stderr.contains("xyz"), "{stderr}");
    assert!(ws.db().untouched());
}

#[test]
fn unknown_package() {
    let ws = users();

    let out = ws.run(["new", "-p", "nobody", "-m", "x"]).code(2);

    assert!(
        out.stderr_text().contains("nobody"),
        "{}",
        out.stderr_text()
    );
    assert!(
        out.stderr_text().contains("users"),
        "the members are listed"
    );
}

/// SPEC section 4: a password in a URL is never printed, not in errors and not in the
/// verbose `Database:` line. The server does not exist; every command fails to reach it.
#[test]
fn a_password_in_the_url_is_never_printed() {
    let ws = users();
    let url = "postgres://bob:s3cret@127.0.0.1:1/x";
    let commands: [&[&str]; 6] = [
        &["up"],
        &["up", "-v"],
        &["down"],
        &["current"],
        &["current", "-v", "--format", "json"],
        &["history", "-v"],
    ];

    for args in commands {
        let out = ws
            .command()
            .arg("--database-url")
            .arg(url)
            .args(args)
            .assert();
        let output = format!("{}{}", out.stdout_text(), out.stderr_text());
        assert!(
            !output.contains("s3cret"),
            "{args:?} printed the password:\n{output}"
        );
    }

    // Nor from the environment.
    let out = ws
        .command()
        .env("DATABASE_URL", url)
        .args(["up", "-v"])
        .assert()
        .failure();
    assert!(
        !out.stderr_text().contains("s3cret"),
        "{}",
        out.stderr_text()
    );
    assert!(
        !out.stdout_text().contains("s3cret"),
        "{}",
        out.stdout_text()
    );
}

/// PostgreSQL (libpq, and sqlx) also takes the password as a query parameter.
#[test]
fn a_password_query_parameter_is_never_printed() {
    let ws = users();

    let out = ws
        .command()
        .args([
            "--database-url",
            "postgres://bob@127.0.0.1:1/x?password=s3cret",
            "up",
            "-v",
        ])
        .assert()
        .failure();

    let output = format!("{}{}", out.stdout_text(), out.stderr_text());
    assert!(!output.contains("s3cret"), "{output}");
}
