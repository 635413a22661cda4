//! A failing revision points at the statement that failed, on every backend, up and down,
//! from the CLI and from the embedded `Migrator`: `--> path:line` at that statement with
//! its first lines, and what the database adds (PostgreSQL's detail, hint and position,
//! MySQL's error number, SQLite's constraint code).

use revise_runtime::embedded::{parse_files, EmbeddedFile};
use revise_runtime::migrator::MigrateError;
use revise_runtime::{Migrator, Reporter, RunEvent};
use revise_tests::{Backend, Captured, Workspace};

/// Ten statements; the third (lines 11-12) inserts a duplicate key, which fails only when
/// it runs (PostgreSQL gives no position for it: the statement is found by re-running).
const TEN_UP: &str = "-- Ten statements up
--
-- Revision ID: f1
-- Revises:
-- Create Date: 2026-01-01 00:00:00.000000

-- revise:up

CREATE TABLE f_a (id INTEGER PRIMARY KEY);
CREATE TABLE f_b (id INTEGER PRIMARY KEY);
INSERT INTO f_a (id)
  VALUES (1), (1);
INSERT INTO f_b (id) VALUES (4);
INSERT INTO f_b (id) VALUES (5);
INSERT INTO f_b (id) VALUES (6);
INSERT INTO f_b (id) VALUES (7);
INSERT INTO f_b (id) VALUES (8);
INSERT INTO f_b (id) VALUES (9);
INSERT INTO f_b (id) VALUES (10);

-- revise:down
DROP TABLE f_b;
DROP TABLE f_a;
";

/// Applies; its ten-statement down fails in the third statement (lines 15-17), on a column
/// that does not exist (PostgreSQL points at it: line 16, column 3).
const TEN_DOWN: &str = "-- Ten statements down
--
-- Revision ID: d1
-- Revises:
-- Create Date: 2026-01-01 00:00:00.000000

-- revise:up
CREATE TABLE d_a (id INTEGER PRIMARY KEY);
INSERT INTO d_a (id) VALUES (1);

-- revise:down
-- Statements that change nothing, so that MySQL keeps nothing either.
SELECT 1;
UPDATE d_a SET id = id;
SELECT id,
  no_such_column
FROM d_a;
SELECT 4;
SELECT 5;
SELECT 6;
SELECT 7;
SELECT 8;
SELECT 9;
DROP TABLE d_a;
";

fn on_each_backend(test: &str, body: impl Fn(Backend)) {
    for backend in Backend::ALL {
        if backend.skip(test) {
            continue;
        }
        body(backend);
    }
}

#[test]
fn the_third_of_ten_statements_failing_on_the_way_up_is_pointed_at() {
    on_each_backend(
        "the_third_of_ten_statements_failing_on_the_way_up_is_pointed_at",
        |backend| {
            let ws = Workspace::with_backend(&["users"], backend);
            let path = ws.raw("users", "f1_ten.sql", TEN_UP);

            let out = ws.run(["up"]).code(1);

            let stderr = out.stderr_text();
            let context = format!("{backend}:\n{stderr}");
            assert!(
                stderr.contains("revision f1 failed while upgrading (statement 3 of 10): "),
                "{context}"
            );
            assert!(stderr.contains(&format!("--> {path}:11\n")), "{context}");
            assert!(stderr.contains("11 | INSERT INTO f_a (id)\n"), "{context}");
            assert!(stderr.contains("12 |   VALUES (1), (1)\n"), "{context}");
            let code = match backend {
                Backend::Sqlite => {
                    "= code: SQLITE_CONSTRAINT_UNIQUE or SQLITE_CONSTRAINT_PRIMARYKEY"
                }
                Backend::Postgres => "= detail: Key (id)=(1) already exists.",
                Backend::Mysql => "= code: MySQL error 1062 (SQLSTATE 23000)",
            };
            assert!(stderr.contains(code), "{context}");
            assert!(
                out.stdout_text()
                    .contains(&format!("Migration f1 failed ({path}:11)")),
                "{}",
                out.stdout_text()
            );
            assert_eq!(ws.db().version_rows(), Vec::<String>::new());
        },
    );
}

#[test]
fn the_third_of_ten_statements_failing_on_the_way_down_is_pointed_at() {
    on_each_backend(
        "the_third_of_ten_statements_failing_on_the_way_down_is_pointed_at",
        |backend| {
            let ws = Workspace::with_backend(&["users"], backend);
            let path = ws.raw("users", "d1_ten.sql", TEN_DOWN);
            ws.run(["up"]).success();

            let out = ws.run(["down"]).code(1);

            let stderr = out.stderr_text();
            let context = format!("{backend}:\n{stderr}");
            assert!(
                stderr.contains("revision d1 failed while downgrading (statement 3 of 10): "),
                "{context}"
            );
            assert!(stderr.contains(&format!("--> {path}:15\n")), "{context}");
            assert!(stderr.contains("15 | SELECT id,\n"), "{context}");
            assert!(stderr.contains("16 |   no_such_column\n"), "{context}");
            assert!(stderr.contains("17 | FROM d_a\n"), "{context}");
            match backend {
                Backend::Postgres => {
                    // The caret sits under the column PostgreSQL names.
                    assert!(
                        stderr.contains("16 |   no_such_column\n   |   ^\n"),
                        "{context}"
                    );
                    assert!(
                        stderr.contains("= position: line 16, column 3"),
                        "{context}"
                    );
                }
                Backend::Mysql => {
                    assert!(
                        stderr.contains("= code: MySQL error 1054 (SQLSTATE 42S22)"),
                        "{context}"
                    );
                }
                Backend::Sqlite => {
                    assert!(
                        stderr.contains("no such column: no_such_column"),
                        "{context}"
                    )
                }
            }
            assert_eq!(ws.db().version_rows(), ["d1"]);
        },
    );
}

#[test]
fn postgres_shows_the_detail_and_the_hint() {
    let ws = Workspace::with_backend(&["users"], Backend::Postgres);
    let path = ws.raw(
        "users",
        "p1_prices.sql",
        "-- Prices\n-- Revision ID: p1\n-- revise:up\nCREATE TABLE prices (id INTEGER PRIMARY KEY);\nDO $$\nBEGIN\n  RAISE EXCEPTION 'prices must be positive'\n    USING DETAIL = 'price 7 is -3', HINT = 'fix the data first';\nEND\n$$;\nSELECT 1;\n",
    );

    let out = ws.run(["up"]).code(1);

    let stderr = out.stderr_text();
    assert!(
        stderr.contains(
            "revision p1 failed while upgrading (statement 2 of 3): prices must be positive\n"
        ),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("--> {path}:5\n")), "{stderr}");
    assert!(stderr.contains("5 | DO $$\n"), "{stderr}");
    assert!(stderr.contains("= detail: price 7 is -3\n"), "{stderr}");
    assert!(stderr.contains("= hint: fix the data first\n"), "{stderr}");
}

#[test]
fn a_section_with_transaction_control_is_not_re_run_to_find_the_statement() {
    // Re-running a section that begins or ends transactions could keep what it did; the
    // error names the section instead (PostgreSQL only warns about the nested BEGIN).
    let ws = Workspace::with_backend(&["users"], Backend::Postgres);
    let path = ws.raw(
        "users",
        "c1_begins.sql",
        "-- Begins\n-- Revision ID: c1\n-- revise:up\nCREATE TABLE kept (id INTEGER PRIMARY KEY);\nBEGIN;\nINSERT INTO kept VALUES (1);\nINSERT INTO kept VALUES (1);\n",
    );

    let out = ws.run(["up"]).code(1);

    let stderr = out.stderr_text();
    assert!(stderr.contains(&format!("--> {path}:3\n")), "{stderr}");
    assert!(
        stderr.contains("= note: the database did not say which statement failed; the line is the section's marker"),
        "{stderr}"
    );
    assert!(
        stderr.contains("= detail: Key (id)=(1) already exists."),
        "{stderr}"
    );
    assert_eq!(ws.db().version_rows(), Vec::<String>::new());
}

/// Keeps the events of a run.
#[derive(Default)]
struct Recorder(Vec<RunEvent>);

impl Reporter for Recorder {
    fn report(&mut self, event: &RunEvent) {
        self.0.push(event.clone());
    }
}

#[test]
fn the_embedded_migrator_reports_the_same_place_through_its_events() {
    on_each_backend(
        "the_embedded_migrator_reports_the_same_place_through_its_events",
        |backend| {
            let dir = tempfile::tempdir().expect("a temporary folder");
            let db = revise_tests::TestDb::new(backend, dir.path());
            let files = [
                EmbeddedFile {
                    member: "app",
                    path: "app/migrations/d1_ten.sql",
                    text: TEN_DOWN,
                },
                EmbeddedFile {
                    member: "app",
                    path: "app/migrations/f1_ten.sql",
                    text: TEN_UP.replace("-- Revises:", "-- Revises: d1").leak(),
                },
            ];
            let graph = parse_files(&files).expect("valid revisions");
            let mut conn = revise_runtime::connect(&db.url()).expect("connects");
            let migrator = Migrator::new(&graph);

            for (target, revision, line) in [("heads", "f1", 11), ("base", "d1", 15)] {
                let mut events = Recorder::default();
                let result = if target == "heads" {
                    migrator.upgrade_with(&mut conn, target, &mut events)
                } else {
                    migrator.downgrade_with(&mut conn, target, &mut events)
                };
                let Err(MigrateError::StepFailed {
                    id,
                    line: error_line,
                    failure,
                    ..
                }) = result
                else {
                    panic!("{backend}: expected {revision} to fail, got {result:?}");
                };
                assert_eq!((id.as_str(), error_line), (revision, line), "{backend}");
                let statement = failure.statement.clone().expect("the statement is known");
                assert_eq!((statement.number, statement.count), (3, 10), "{backend}");
                let reported = events.0.iter().find_map(|e| match e {
                    RunEvent::Failed { line, failure, .. } => Some((*line, failure.clone())),
                    _ => None,
                });
                assert_eq!(
                    reported,
                    Some((line, *failure)),
                    "{backend}: the event carries what the error carries"
                );
            }
        },
    );
}
