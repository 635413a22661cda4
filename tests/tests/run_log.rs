//! The run log (SPEC section 10) end to end, on SQLite, PostgreSQL and MariaDB: what `up`,
//! `down`, `stamp` and `accept` record, drift in `check` and `up`, a database migrated before
//! the log, a failed step's row, a MariaDB run killed inside a revision (the refusal and
//! `repair`), `down` through a revision whose file is gone, and `rebase`.

use std::os::unix::process::ExitStatusExt;

use revise_tests::{warnings, Backend, Captured, Rev, Workspace, LOG_TABLE};
use serde_json::Value;

/// The log's entries, newest first, as `log --format json` prints them.
fn log_entries(ws: &Workspace) -> Vec<Value> {
    let out = ws.run(["log", "--format", "json"]).success();
    let document: Value = serde_json::from_str(&out.stdout_text()).expect("JSON");
    document["entries"].as_array().expect("entries").clone()
}

/// `(direction, revision, outcome)` of each entry, newest first.
fn summary(entries: &[Value]) -> Vec<(String, String, String)> {
    entries
        .iter()
        .map(|e| {
            (
                e["direction"].as_str().expect("direction").to_owned(),
                e["revision"].as_str().expect("revision").to_owned(),
                e["outcome"].as_str().expect("outcome").to_owned(),
            )
        })
        .collect()
}

fn triple(direction: &str, revision: &str, outcome: &str) -> (String, String, String) {
    (
        direction.to_owned(),
        revision.to_owned(),
        outcome.to_owned(),
    )
}

/// SHA-256 of a file after the run log's normalisation, by `sha256sum` (not the product's
/// own code): CRLF to LF, a BOM dropped.
fn sha256_of(text: &str) -> String {
    let normalised = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("file");
    std::fs::write(&path, normalised).expect("write");
    let out = std::process::Command::new("sha256sum")
        .arg(&path)
        .output()
        .expect("sha256sum runs");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("a sum")
        .to_owned()
}

fn on_every_backend(test: &str, body: impl Fn(Backend)) {
    for backend in Backend::ALL {
        if backend.skip(test) {
            continue;
        }
        body(backend);
    }
}

#[test]
fn up_down_and_stamp_are_recorded_with_checksums_and_alembic_version_stays_alembics() {
    on_every_backend("up_down_and_stamp_are_recorded", |backend| {
        let ws = Workspace::with_backend(&["users", "billing"], backend);
        ws.chain("users", &["u1", "u2"]);
        let b1 = ws.revision("billing", &Rev::table("b1"));

        ws.run(["up"]).success();
        ws.run(["down", "users@-1"]).success();
        // A stamp of several revisions writes one row per revision.
        ws.run(["stamp", "--purge", "heads"]).success();

        let entries = log_entries(&ws);
        let mut runs = summary(&entries);
        // `up heads` applies the two members' roots in an order of its own choosing, and the
        // stamp's rows come in the heads' order.
        runs[..2].sort();
        runs[3..].sort();
        assert_eq!(
            runs,
            [
                triple("stamp", "b1", "ok"),
                triple("stamp", "u2", "ok"),
                triple("down", "u2", "ok"),
                triple("up", "b1", "ok"),
                triple("up", "u1", "ok"),
                triple("up", "u2", "ok"),
            ],
            "{backend}"
        );
        // Everything new lives beside alembic_version, which holds exactly Alembic's rows.
        assert_eq!(ws.db().version_rows(), ["b1", "u2"], "{backend}");
        assert!(ws.db().all_tables().iter().any(|t| t == LOG_TABLE));
        let b1_up = entries
            .iter()
            .find(|e| e["direction"] == "up" && e["revision"] == "b1")
            .expect("b1's up");
        assert_eq!(b1_up["checksum"], sha256_of(&ws.read(&b1)), "{backend}");
        assert_eq!(b1_up["member"], "billing");
        assert_eq!(b1_up["path"], b1);
        assert_eq!(
            b1_up["down"]["sql"].as_str().map(str::trim),
            Some("DROP TABLE b1;")
        );
        assert!(b1_up["duration_ms"].as_i64().is_some(), "{b1_up}");
        assert!(b1_up["finished_at"].as_str().is_some(), "{b1_up}");
        assert!(
            b1_up["tool"]
                .as_str()
                .expect("tool")
                .starts_with("cargo-revise "),
            "{b1_up}"
        );
        let u2_up = entries
            .iter()
            .find(|e| e["direction"] == "up" && e["revision"] == "u2")
            .expect("u2's up");
        assert_eq!(u2_up["revises"], serde_json::json!(["u1"]));

        // The human form: newest first, one line per step.
        let out = ws.run(["log", "-n", "2"]).success();
        let text = out.stdout_text();
        assert_eq!(text.lines().count(), 2, "{backend}: {text}");
        assert!(
            text.lines().all(|l| l.contains(" UTC  stamp ")),
            "{backend}: {text}"
        );
    });
}

#[test]
fn a_crlf_copy_of_an_applied_file_is_not_drift_but_an_edit_is_until_accepted() {
    on_every_backend("a_crlf_copy_of_an_applied_file_is_not_drift", |backend| {
        let ws = Workspace::with_backend(&["app"], backend);
        ws.chain("app", &["a1", "a2"]);
        let path = ws.revision("app", &Rev::table("a2").revises("a1"));
        ws.run(["up"]).success();

        // A Windows checkout: CRLF line endings and a BOM. The same file as far as drift goes.
        let text = ws.read(&path);
        std::fs::write(
            ws.root().join(&path),
            format!("\u{feff}{}", text.replace('\n', "\r\n")),
        )
        .expect("write");
        ws.run(["check"]).success();
        let up = ws.run(["up"]).success();
        assert!(
            warnings(&up.stdout_text()).is_empty(),
            "{}",
            up.stdout_text()
        );

        // A real edit is drift: check fails naming the file, up warns once.
        std::fs::write(
            ws.root().join(&path),
            text.replace("DROP TABLE a2;", "DROP TABLE a2; -- edited after it ran"),
        )
        .expect("write");
        let check = ws.run(["check"]).code(1);
        let stdout = check.stdout_text();
        assert!(
            stdout.contains(&format!(
                "Drift: {path} changed since revision a2 was applied on "
            )),
            "{backend}: {stdout}"
        );
        assert!(
            check.stderr_text().contains("cargo revise accept"),
            "{}",
            check.stderr_text()
        );
        // When and by what the checksum was recorded come from that revision's log row.
        let json = ws.run(["check", "--format", "json"]).code(1).stdout_text();
        let document: Value = serde_json::from_str(&json).expect("JSON");
        let drifted = document["drifted"].as_array().expect("drifted");
        assert_eq!(drifted.len(), 1, "{backend}: {json}");
        assert_eq!(drifted[0]["revision"], "a2");
        assert_eq!(drifted[0]["recorded_by"], "up");
        let at = drifted[0]["recorded_at"].as_str().expect("a date");
        assert!(
            at.len() == "2026-12-01 00:00:00 UTC".len() && at.ends_with(" UTC"),
            "{backend}: {at}"
        );
        assert!(
            stdout.contains(&format!("applied on {at} (checksum then ")),
            "{stdout}"
        );
        let up = ws.run(["up"]).success();
        let warned = warnings(&up.stdout_text())
            .into_iter()
            .filter(|w| w.contains(&path))
            .count();
        assert_eq!(warned, 1, "{backend}: {}", up.stdout_text());
        assert!(up
            .stdout_text()
            .contains(" UTC: the database holds what the file said then"));

        // accept records the new checksum as its own entry; then nothing drifts.
        let accepted = ws.run(["accept", "a2"]).success();
        assert!(
            accepted.stdout_text().starts_with("Accepted a2 "),
            "{}",
            accepted.stdout_text()
        );
        let entries = log_entries(&ws);
        assert_eq!(
            summary(&entries[..1]),
            [triple("accept", "a2", "ok")],
            "{backend}"
        );
        assert_eq!(entries[0]["checksum"], sha256_of(&ws.read(&path)));
        ws.run(["check"]).success();
        let again = ws.run(["accept", "a2"]).success();
        assert!(
            again.stdout_text().contains("nothing to accept"),
            "{}",
            again.stdout_text()
        );
        assert_eq!(
            log_entries(&ws).len(),
            entries.len(),
            "an unchanged file adds no row"
        );
        // Edited again: the newest record is the accept.
        std::fs::write(
            ws.root().join(&path),
            text.replace("DROP TABLE a2;", "DROP TABLE a2; -- twice"),
        )
        .expect("write");
        let check = ws.run(["check"]).code(1);
        assert!(
            check.stdout_text().contains(&format!(
                "Drift: {path} changed since revision a2 was accepted on "
            )),
            "{backend}: {}",
            check.stdout_text()
        );
        ws.run(["accept", "a2"]).success();
        // Only applied revisions can be accepted.
        ws.run(["down", "base"]).success();
        ws.run(["accept", "a1"]).code(1);
    });
}

#[test]
fn a_database_migrated_before_the_log_works_and_the_log_starts_at_the_next_step() {
    on_every_backend("a_database_migrated_before_the_log", |backend| {
        let ws = Workspace::with_backend(&["app"], backend);
        ws.chain("app", &["p1", "p2"]);
        // Before this feature: `log_table = false` is exactly a run that writes no log.
        let manifest = ws.root().join("Cargo.toml");
        let plain = std::fs::read_to_string(&manifest).expect("manifest");
        std::fs::write(
            &manifest,
            format!("{plain}\n[workspace.metadata.revise]\nlog_table = false\n"),
        )
        .expect("write");
        ws.run(["up"]).success();
        assert!(
            !ws.db().all_tables().iter().any(|t| t == LOG_TABLE),
            "{backend}"
        );
        std::fs::write(&manifest, &plain).expect("write");

        // check works, says the applied revisions have no checksum, and does not fail or
        // create anything.
        let check = ws.run(["check"]).success();
        let stdout = check.stdout_text();
        assert!(
            stdout.contains("Note: 2 applied revision(s) of ")
                && stdout.contains("have no recorded checksum (p1, p2)"),
            "{backend}: {stdout}"
        );
        assert!(
            !ws.db().all_tables().iter().any(|t| t == LOG_TABLE),
            "{backend}"
        );
        ws.run(["log"]).success();

        // The next step starts the log with itself.
        ws.revision("app", &Rev::table("p3").revises("p2"));
        ws.run(["up"]).success();
        assert_eq!(
            summary(&log_entries(&ws)),
            [triple("up", "p3", "ok")],
            "{backend}"
        );
        assert_eq!(ws.db().version_rows(), ["p3"]);
        let check = ws.run(["check"]).success();
        assert!(
            check
                .stdout_text()
                .contains("have no recorded checksum (p1, p2)"),
            "{backend}: {}",
            check.stdout_text()
        );
        // accept records a checksum for an older revision.
        ws.run(["accept", "p1"]).success();
        let check = ws.run(["check"]).success();
        assert!(
            check.stdout_text().contains("Note: 1 applied revision(s)"),
            "{}",
            check.stdout_text()
        );
    });
}

#[test]
fn a_failed_step_is_recorded_with_its_error_after_the_rollback() {
    on_every_backend("a_failed_step_is_recorded", |backend| {
        let ws = Workspace::with_backend(&["app"], backend);
        ws.chain("app", &["f1"]);
        ws.revision(
            "app",
            &Rev::new("f2", "INSERT INTO no_such_table VALUES (1);").revises("f1"),
        );
        ws.run(["up"]).code(1);
        let entries = log_entries(&ws);
        assert_eq!(
            summary(&entries),
            [triple("up", "f2", "failed"), triple("up", "f1", "ok")],
            "{backend}"
        );
        let error = entries[0]["error"].as_str().expect("the error");
        assert!(error.contains("no_such_table"), "{backend}: {error}");
        assert_eq!(ws.db().version_rows(), ["f1"]);
        // A row completed as failed does not block the next run.
        ws.revision(
            "app",
            &Rev::new("f2", "CREATE TABLE f2 (id INTEGER PRIMARY KEY);").revises("f1"),
        );
        ws.run(["up"]).success();
    });
}

#[test]
fn a_mariadb_run_killed_inside_a_revision_blocks_the_next_run_until_repair() {
    let backend = Backend::Mysql;
    if backend.skip("a_mariadb_run_killed_inside_a_revision_blocks_the_next_run_until_repair") {
        return;
    }
    let ws = Workspace::with_backend(&["app"], backend);
    ws.chain("app", &["k1"]);
    // The first CREATE TABLE commits by itself (and the step's unfinished row with it);
    // the kill lands in the sleep.
    let slow = Rev::new(
        "k2",
        "CREATE TABLE k2_part (id INTEGER PRIMARY KEY);\nSELECT SLEEP(30);\nCREATE TABLE k2 (id INTEGER PRIMARY KEY);",
    )
    .revises("k1");
    let path = ws.revision("app", &slow);
    ws.run(["up", "k1"]).success();

    let mut child = ws.spawn(["up"]);
    ws.wait_until_inside(&mut child, &["k1"], "SLEEP(");
    child.kill().expect("the run can be killed");
    let status = child.wait().expect("the killed run is reaped");
    assert_eq!(status.signal(), Some(9), "it died of the kill: {status}");
    assert_eq!(ws.db().version_rows(), ["k1"]);
    assert!(
        ws.db().tables().iter().any(|t| t == "k2_part"),
        "the DDL stayed"
    );
    // The killed run's connection may linger a moment on the server; it holds nothing.

    // The next run refuses, naming the revision and what may have run; so does check.
    let refused = ws.run(["up"]).code(1);
    let stderr = refused.stderr_text();
    assert!(
        stderr.contains(&format!(
            "revision k2 ({path}) was left unfinished while upgrading"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("`CREATE TABLE k2_part (id INTEGER PRIMARY KEY)`"),
        "{stderr}"
    );
    assert!(stderr.contains("cargo revise repair k2"), "{stderr}");
    assert_eq!(ws.db().version_rows(), ["k1"], "nothing ran");
    let check = ws.run(["check"]).code(1);
    assert!(
        check.stdout_text().contains("Unfinished: revision k2"),
        "{}",
        check.stdout_text()
    );
    assert_eq!(
        summary(&log_entries(&ws)[..1]),
        [triple("up", "k2", "unfinished")]
    );

    // The user cleans up and fixes the file, then repairs: the version table does not move,
    // and the next run applies k2 again.
    ws.db().execute("DROP TABLE k2_part");
    ws.revision(
        "app",
        &Rev::new("k2", "CREATE TABLE k2 (id INTEGER PRIMARY KEY);").revises("k1"),
    );
    let repaired = ws.run(["repair"]).success();
    assert!(
        repaired
            .stdout_text()
            .contains("Marked the unfinished up of revision k2"),
        "{}",
        repaired.stdout_text()
    );
    assert_eq!(
        ws.db().version_rows(),
        ["k1"],
        "repair does not move alembic_version"
    );
    let entries = log_entries(&ws);
    assert_eq!(summary(&entries[..1]), [triple("up", "k2", "failed")]);
    assert!(entries[0]["error"]
        .as_str()
        .expect("note")
        .contains("repair"));
    ws.run(["repair"]).success();
    ws.run(["up"]).success();
    assert_eq!(ws.db().version_rows(), ["k2"]);
    assert_eq!(summary(&log_entries(&ws)[..1]), [triple("up", "k2", "ok")]);
}

#[test]
fn a_postgres_run_killed_inside_a_transaction_false_section_blocks_the_next_run() {
    let backend = Backend::Postgres;
    let ws = Workspace::with_backend(&["app"], backend);
    ws.chain("app", &["n1"]);
    // Outside a transaction each statement commits by itself, as MySQL's DDL does: the
    // step's row is written unfinished first.
    let slow = Rev::new(
        "n2",
        "CREATE TABLE n2_part (id INTEGER PRIMARY KEY);\nSELECT pg_sleep(30);\nCREATE TABLE n2 (id INTEGER PRIMARY KEY);",
    )
    .revises("n1")
    .up_without_transaction();
    ws.revision("app", &slow);
    ws.run(["up", "n1"]).success();

    let mut child = ws.spawn(["up"]);
    ws.wait_until_inside(&mut child, &["n1"], "pg_sleep");
    child.kill().expect("the run can be killed");
    let status = child.wait().expect("the killed run is reaped");
    assert_eq!(status.signal(), Some(9), "it died of the kill: {status}");

    let refused = ws.run(["up"]).code(1);
    assert!(
        refused.stderr_text().contains("revision n2 (")
            && refused
                .stderr_text()
                .contains("was left unfinished while upgrading"),
        "{}",
        refused.stderr_text()
    );
    assert_eq!(ws.db().version_rows(), ["n1"]);
    ws.db().execute("DROP TABLE n2_part");
    ws.revision(
        "app",
        &Rev::new("n2", "CREATE TABLE n2 (id INTEGER PRIMARY KEY);")
            .revises("n1")
            .up_without_transaction(),
    );
    ws.run(["repair", "n2"]).success();
    ws.run(["up"]).success();
    assert_eq!(ws.db().version_rows(), ["n2"]);
}

#[test]
fn down_through_a_revision_whose_file_is_gone_uses_the_logged_down_section() {
    on_every_backend("down_through_a_revision_whose_file_is_gone", |backend| {
        let ws = Workspace::with_backend(&["app"], backend);
        ws.chain("app", &["g1", "g2"]);
        let g3 = ws.revision("app", &Rev::table("g3").revises("g2"));
        ws.run(["up"]).success();
        // A branch switch: g3's file is gone.
        std::fs::remove_file(ws.root().join(&g3)).expect("remove");

        // Not a terminal and no --yes: refused, nothing touched.
        let refused = ws.run(["down"]).code(2);
        assert!(
            refused.stderr_text().contains("the file of revision g3 (")
                && refused
                    .stderr_text()
                    .contains("its down section comes from the run log"),
            "{backend}: {}",
            refused.stderr_text()
        );
        assert_eq!(ws.db().version_rows(), ["g3"]);

        ws.run(["down", "--yes"]).success();
        assert_eq!(ws.db().version_rows(), ["g2"], "{backend}");
        assert!(
            !ws.db().tables().iter().any(|t| t == "g3"),
            "{backend}: g3 dropped"
        );
        assert_eq!(
            summary(&log_entries(&ws)[..1]),
            [triple("down", "g3", "ok")]
        );

        // An irreversible revision stays irreversible without its file.
        let g4 = ws.revision(
            "app",
            &Rev::new("g4", "CREATE TABLE g4 (id INTEGER);").revises("g2"),
        );
        ws.run(["up"]).success();
        std::fs::remove_file(ws.root().join(&g4)).expect("remove");
        let out = ws.run(["down", "-y"]).code(2);
        assert!(out.stderr_text().contains("g4"), "{}", out.stderr_text());
        assert_eq!(ws.db().version_rows(), ["g4"], "{backend}");
    });
}

#[test]
fn rebase_moves_the_unapplied_line_onto_the_other_head_and_refuses_applied_ones() {
    on_every_backend("rebase_moves_the_unapplied_line", |backend| {
        let ws = Workspace::with_backend(&["app"], backend);
        ws.chain("app", &["r1", "r2"]);
        // Two lines from r1: r2 (applied below) and c1 -> c2 (a teammate's, not applied).
        let c1 = ws.revision("app", &Rev::table("c1").revises("r1"));
        ws.revision("app", &Rev::table("c2").revises("c1"));
        ws.run(["up", "r2"]).success();
        let before = ws.read(&c1);

        let out = ws.run(["rebase"]).success();
        assert!(
            out.stdout_text().contains("c1, c2 onto r2"),
            "{}",
            out.stdout_text()
        );
        // Only the Revises line changed, byte for byte.
        assert_eq!(
            ws.read(&c1),
            before.replace("-- Revises: r1\n", "-- Revises: r2\n"),
            "{backend}"
        );
        let heads = ws.run(["heads"]).success();
        assert_eq!(
            heads.stdout_text().lines().count(),
            1,
            "{}",
            heads.stdout_text()
        );
        ws.run(["up"]).success();
        assert_eq!(ws.db().version_rows(), ["c2"]);

        // Both lines applied: refused, files untouched.
        let ws = Workspace::with_backend(&["app"], backend);
        ws.chain("app", &["r1", "r2"]);
        let c1 = ws.revision("app", &Rev::table("c1").revises("r1"));
        ws.run(["up", "heads"]).success();
        let before = ws.read(&c1);
        let refused = ws.run(["rebase"]).code(1);
        assert!(
            refused.stderr_text().contains("both heads"),
            "{}",
            refused.stderr_text()
        );
        assert_eq!(ws.read(&c1), before);
    });
}
